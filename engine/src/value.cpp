#include "slope/value.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <stdexcept>
#include <string>

#include "slope/activations.hpp"

namespace slope {

using detail::Edge;
using detail::kNone;
using detail::Op;
using detail::Slot;
using detail::Tape;

namespace {

// Owns the calling thread's tape. When the thread exits while handles are still
// alive (a Value in static storage, or one returned from a joined thread), the tape
// lives on until the last handle is released. Handles are not synchronised: a graph
// is used by one thread at a time.
struct TapeOwner {
  Tape* tape = new Tape;
  TapeOwner() = default;
  TapeOwner(const TapeOwner&) = delete;
  TapeOwner& operator=(const TapeOwner&) = delete;
  ~TapeOwner() {
    if (tape->orphan()) delete tape;
  }
};

std::string num(double x) {
  std::ostringstream s;
  s.precision(17);
  s << x;
  return s.str();
}

Value unary(const Value& x, Op op, double data, double da, double param = 0.0,
            std::uint8_t act = 0) {
  Tape& t = x.tape();
  return {&t, t.push(data, Edge{da, param, x.id(), kNone}, op, act)};
}

// d/dx x^p = p x^(p-1); written so that x^0 has slope 0 at x = 0 (not 0 * inf).
double pow_slope(double x, double p) { return p == 0.0 ? 0.0 : p * std::pow(x, p - 1.0); }

static_assert(act::count <= 255, "Meta::act stores an activation id in a byte");

template <class A> Value activation(const Value& x) {
  const double v = x.data(), y = A::value(v);
  return unary(x, Op::Act, y, act::slope_at<A>(v, y), 0.0,
               static_cast<std::uint8_t>(act::id_of<A>));
}

}  // namespace

Tape& Tape::current() {
  thread_local TapeOwner owner;
  return *owner.tape;
}

Value::Value(double data) : tape_(&Tape::current()) {
  slot_ = tape_->push(data, Edge{0.0, 0.0, kNone, kNone}, Op::Leaf);
}

// --- ops: the value and the local partials, side by side -------------------------

void detail::throw_division_by_zero(double numerator) {
  throw std::domain_error("slope::Value::operator/: " + num(numerator) + " / 0");
}

void detail::throw_different_tapes() {
  throw std::invalid_argument("slope::Value: operands belong to graphs built on different threads");
}

Value Value::operator-() const { return *this * -1.0; }

Value Value::pow(double p) const {
  const double x = data();
  const double v = std::pow(x, p);
  if (!std::isfinite(v) && std::isfinite(x))
    throw std::domain_error("slope::Value::pow: " + num(x) + " ** " + num(p) + " is " + num(v));
  return unary(*this, Op::Pow, v, pow_slope(x, p), p);
}

Value Value::pow(const Value& exponent) const {
  Tape& t = detail::same_tape(*this, exponent);
  const double x = data(), p = exponent.data();
  if (x < 0.0)
    throw std::domain_error(
        "slope::Value::pow: base must be non-negative for a Value exponent, got " + num(x));
  const double v = std::pow(x, p);
  if (!std::isfinite(v))
    throw std::domain_error("slope::Value::pow: " + num(x) + " ** " + num(p) + " is " + num(v));
  // d/dp x^p = x^p ln x, which tends to 0 as x -> 0 for p > 0.
  const double dp = x == 0.0 ? 0.0 : v * std::log(x);
  return {&t, t.push(v, Edge{pow_slope(x, p), dp, id(), exponent.id()}, Op::PowValue)};
}

Value Value::exp() const {
  const double v = std::exp(data());
  if (std::isinf(v))
    throw std::domain_error("slope::Value::exp: exp(" + num(data()) + ") overflows");
  return unary(*this, Op::Exp, v, v);
}

Value Value::log() const {
  const double x = data();
  if (!(x > 0.0))
    throw std::domain_error("slope::Value::log: argument must be positive, got " + num(x));
  return unary(*this, Op::Log, std::log(x), 1.0 / x);
}

Value Value::relu() const { return activation<act::Relu>(*this); }
Value Value::sigmoid() const { return activation<act::Sigmoid>(*this); }
Value Value::tanh() const { return activation<act::Tanh>(*this); }
Value Value::gelu() const { return activation<act::Gelu>(*this); }

Value detail::apply_activation(const Value& x, std::size_t id) {
  return act::visit(id, [&](auto a) { return activation<decltype(a)>(x); });
}

Value detail::affine(const Value& b, const std::vector<Value>& w, const std::vector<Value>& x) {
  Tape& t = b.tape();
  for (std::size_t i = 0; i < w.size(); ++i) {  // check first: no half-built graph on error
    same_tape(b, w[i]);
    same_tape(b, x[i]);
  }
  if (w.empty()) return b;
  t.reserve(static_cast<std::uint32_t>(2 * w.size()));
  double sum = b.data();
  std::uint32_t sum_id = b.id();
  Slot last{};
  for (std::size_t i = 0; i < w.size(); ++i) {
    const double wi = w[i].data(), xi = x[i].data(), p = wi * xi;
    const std::uint32_t prod =
        t.push_reserved(p, Edge{xi, wi, w[i].id(), x[i].id()}, Op::Mul, 0, 0).id;
    sum += p;
    const bool final = i + 1 == w.size();
    last = t.push_reserved(sum, Edge{1.0, 1.0, sum_id, prod}, Op::Add, 0, final ? 1 : 0);
    sum_id = last.id;
  }
  return {&t, last};
}

Value apply(const Value& x, std::string_view name) {
  return detail::apply_activation(x, act::find(name));
}

// --- backward --------------------------------------------------------------------

void Value::backward() const {
  Tape& t = *tape_;
  // Intermediate grads are recomputed from scratch; leaves accumulate.
  // Only nodes an earlier backward pass reached can hold a stale gradient.
  const std::uint32_t id_ = id();
  for (std::uint32_t i = 0, end = std::min(id_, t.swept()); i < end; ++i)
    if (t.meta(i).op != Op::Leaf) t.scalar(i).grad = 0.0;
  t.set_swept(std::max(t.swept(), id_ + 1));
  t.scalar(id_).grad = 1.0;
  // Creation order is a topological order, so one reverse sweep visits every node
  // after all of its parents. Iterative: a chain of a million nodes needs no stack.
  for (std::uint32_t i = id_ + 1; i-- > 0;) {
    const Edge& e = t.edge(i);
    if (e.a == kNone) continue;
    const double g = t.scalar(i).grad;
    // Nothing to send (an unused node, or one of another graph on this tape): skip it,
    // so an infinite partial that receives no gradient never makes 0 * inf = NaN.
    if (g == 0.0) continue;
    t.scalar(e.a).grad += e.da * g;
    if (e.b != kNone) t.scalar(e.b).grad += e.db * g;
  }
}

}  // namespace slope
