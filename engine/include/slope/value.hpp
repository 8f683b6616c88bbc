// slope::Value: micrograd's scalar autograd, in C++.
//
//   slope::Value a = -4.0, b = 2.0;
//   auto d = a * b + b.pow(3);
//   d.backward();            // a.grad() == 2, b.grad() == -4 + 3 * 2 * 2
//
// A Value is a cheap handle to a node on its thread's tape (see detail/tape.hpp).
// Copying a Value shares the node, as Python names share an object. A graph belongs
// to the thread that built it; graphs on different threads are independent.
#pragma once

#include <cstddef>
#include <cstdint>
#include <iosfwd>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "slope/activations.hpp"
#include "slope/detail/tape.hpp"

namespace slope {

namespace detail {
[[noreturn]] void throw_division_by_zero(double numerator);
}

class Value {
 public:
  // A leaf holding `data` (implicit, so `Value a = -4.0;` and `2 * a` work).
  Value(double data = 0.0);  // NOLINT(google-explicit-constructor)

  Value(const Value& o) noexcept : tape_(o.tape_), slot_(o.slot_) { tape_->retain(slot_); }
  Value(Value&& o) noexcept : tape_(std::exchange(o.tape_, nullptr)), slot_(o.slot_) {}
  Value& operator=(const Value& o) noexcept {
    Value copy(o);
    swap(copy);
    return *this;
  }
  Value& operator=(Value&& o) noexcept {
    Value moved(std::move(o));
    swap(moved);
    return *this;
  }
  ~Value() {
    if (tape_ != nullptr && tape_->release(slot_)) delete tape_;
  }
  void swap(Value& o) noexcept {
    std::swap(tape_, o.tape_);
    std::swap(slot_, o.slot_);
  }

  // The node's value and gradient; both assignable (`p.data() -= lr * p.grad()`).
  double& data() const { return slot_.scalar->data; }
  double& grad() const { return slot_.scalar->grad; }

  // Backpropagates from this value: sets its grad to 1, recomputes the grads of the
  // intermediate nodes below it and adds d(this)/d(leaf) to every leaf's grad. A second
  // call adds it once more (PyTorch's rule; micrograd would also re-add the stale
  // intermediate grads).
  void backward() const;

  Value pow(double exponent) const;
  Value pow(const Value& exponent) const;  // needs a positive base
  Value exp() const;
  Value log() const;  // throws std::domain_error for a non-positive argument
  Value relu() const;
  Value sigmoid() const;
  Value tanh() const;
  Value gelu() const;

  Value operator-() const;
  Value& operator+=(const Value& o) { return *this = *this + o; }
  Value& operator-=(const Value& o) { return *this = *this - o; }
  Value& operator*=(const Value& o) { return *this = *this * o; }
  Value& operator/=(const Value& o) { return *this = *this / o; }

  // The four ops a neural network spends its time in are defined inline below.
  friend Value operator+(const Value& a, const Value& b);
  friend Value operator*(const Value& a, const Value& b);
  friend Value operator+(const Value& a, double c);
  friend Value operator*(const Value& a, double c);
  friend Value operator+(double c, const Value& a) { return a + c; }
  friend Value operator*(double c, const Value& a) { return a * c; }
  friend Value operator-(const Value& a, const Value& b) { return a + (-b); }
  friend Value operator-(const Value& a, double c) { return a + (-c); }
  friend Value operator-(double c, const Value& a) { return (-a) + c; }
  friend Value operator/(const Value& a, const Value& b) { return a * b.pow(-1.0); }
  friend Value operator/(const Value& a, double c) {
    if (c == 0.0) detail::throw_division_by_zero(a.data());
    return a * (1.0 / c);
  }
  friend Value operator/(double c, const Value& a) { return a.pow(-1.0) * c; }

  // Used by the engine's own ops and the DOT exporter.
  detail::Tape& tape() const { return *tape_; }
  std::uint32_t id() const { return slot_.id; }
  Value(detail::Tape* tape, detail::Slot slot) noexcept : tape_(tape), slot_(slot) {}

 private:
  detail::Tape* tape_;
  detail::Slot slot_;
};

namespace detail {
[[noreturn]] void throw_different_tapes();
inline Tape& same_tape(const Value& a, const Value& b) {
  if (&a.tape() != &b.tape()) [[unlikely]]
    throw_different_tapes();
  return a.tape();
}
}  // namespace detail

// --- the hot ops: the value and the local partials, side by side -----------------

inline Value operator+(const Value& a, const Value& b) {
  detail::Tape& t = detail::same_tape(a, b);
  const double v = a.data() + b.data();
  return {&t, t.push(v, detail::Edge{1.0, 1.0, a.id(), b.id()}, detail::Op::Add)};
}

inline Value operator*(const Value& a, const Value& b) {
  detail::Tape& t = detail::same_tape(a, b);
  const double x = a.data(), y = b.data();
  return {&t, t.push(x * y, detail::Edge{y, x, a.id(), b.id()}, detail::Op::Mul)};
}

inline Value operator+(const Value& a, double c) {
  detail::Tape& t = a.tape();
  return {&t,
          t.push(a.data() + c, detail::Edge{1.0, c, a.id(), detail::kNone}, detail::Op::AddConst)};
}

inline Value operator*(const Value& a, double c) {
  detail::Tape& t = a.tape();
  return {&t,
          t.push(a.data() * c, detail::Edge{c, c, a.id(), detail::kNone}, detail::Op::MulConst)};
}

// Any registered activation by name; unknown names throw std::invalid_argument
// listing the valid ones.
Value apply(const Value& x, std::string_view activation);

namespace detail {
// apply() for an activation id from act::find, so hot loops skip the name lookup.
Value apply_activation(const Value& x, std::size_t id);
// b + w[0] * x[0] + w[1] * x[1] + ...: the same 2n nodes micrograd's Neuron builds,
// pushed without creating and dropping a handle for each partial sum.
Value affine(const Value& b, const std::vector<Value>& w, const std::vector<Value>& x);
}  // namespace detail

// A registered activation by type, with no name lookup: slope::apply<slope::act::Elu>(x).
template <class A> Value apply(const Value& x) {
  static_assert(act::id_of<A> < act::count, "slope::apply<A>: A is not in act::Catalogue");
  return detail::apply_activation(x, act::id_of<A>);
}

inline Value relu(const Value& x) { return x.relu(); }
inline Value sigmoid(const Value& x) { return x.sigmoid(); }
inline Value tanh(const Value& x) { return x.tanh(); }
inline Value gelu(const Value& x) { return x.gelu(); }
inline Value exp(const Value& x) { return x.exp(); }
inline Value log(const Value& x) { return x.log(); }
inline Value pow(const Value& x, double p) { return x.pow(p); }
inline Value pow(const Value& x, const Value& p) { return x.pow(p); }

// Writes the graph below `root` in Graphviz DOT, micrograd's draw_dot layout: one
// record per value (data and grad) and one oval per op. `names` labels chosen values.
void write_dot(std::ostream& out, const Value& root,
               const std::vector<std::pair<Value, std::string>>& names = {});

}  // namespace slope
