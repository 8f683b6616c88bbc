// Generated tests that search instead of examples that confirm (RapidCheck, with
// shrinking). Each property draws a random program and checks it against something
// known independently:
//   - tensor programs (shapes 1..4 x 1..4, broadcasting leaves of (r, c), (1, c), (r, 1)
//     and (1, 1), every op, every activation, every loss, LayerNorm and the modules)
//     against central finite differences in double;
//   - the same programs in float against double;
//   - scalar expression graphs (a DAG: nodes are reused, so gradients accumulate) against
//     finite differences and against the tensor engine on 1 x 1 tensors;
//   - the SIMD activation kernels against the scalar definitions, to a few ulps.
// A failure prints the shrunk program and a RC_PARAMS="reproduce=..." line: run this
// executable with it to rerun exactly that case. The number of cases per property is
// RC_PARAMS' max_success, which tests/CMakeLists.txt sets.
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <iomanip>
#include <limits>
#include <ostream>
#include <sstream>
#include <string>
#include <vector>

#include <slope/activation_kernels.hpp>
#include <slope/slope.hpp>

#include "finite_difference.hpp"
#include "ulps.hpp"

// Named, so the helpers below (Loss, Shape, Program) keep to this suite in a unity build.
namespace properties {
namespace {

using slope::TensorD;

// --- tensor programs ---------------------------------------------------------------------

enum class Op {
  activation,   // apply_activation(x, param)
  exp_tanh,     // exp(tanh(x)): exp, kept in range
  log_sq1,      // log(x^2 + 1)
  pow,          // x^2 or x^3
  add,          // x + leaf, leaf broadcast
  sub,          // x - leaf
  mul,          // x * leaf
  div,          // x / (leaf^2 + 0.5)
  scalar,       // 0.5 * x + 0.25 - 1 / (x^2 + 2)
  matmul,       // x (r, c) . leaf (c, c2)
  linear,       // linear(x, leaf (c2, c), leaf (1, c2))
  linear_act,   // the fused linear + activation param
  transpose,    // x^T
  sum_axis,     // sum(param % 2)
  mean_axis,    // mean(param % 2)
  layer_norm,   // layer_norm(x, leaf (1, c), leaf (1, c))
  softmax,      // softmax along rows
  log_softmax,  // log_softmax along rows
  module,       // param % 4: nn::LinearD, nn::LayerNormD, nn::FeedForwardD, Residual(FeedForward)
  count
};
const char* const kOpNames[] = {"activation", "exp_tanh",   "log_sq1",     "pow",      "add",
                                "sub",        "mul",        "div",         "scalar",   "matmul",
                                "linear",     "linear_act", "transpose",   "sum_axis", "mean_axis",
                                "layer_norm", "softmax",    "log_softmax", "module"};
static_assert(std::size(kOpNames) == static_cast<std::size_t>(Op::count));

enum class Loss { none, mse, cross_entropy, bce_with_logits, hinge, count };
const char* const kLossNames[] = {"none (sum(y * R))", "mse_loss", "cross_entropy",
                                  "binary_cross_entropy_with_logits", "hinge_loss"};

struct Step {
  Op op;
  int shape;  // add/sub/mul/div: the leaf's broadcast shape 0..3; matmul/linear: new cols
  int param;  // activation id, power, axis or module
};

struct Program {
  int rows = 1, cols = 1;
  std::vector<Step> steps;
  Loss loss = Loss::none;
  std::uint64_t seed = 0;  // the leaves' values and the modules' parameters
};

const std::vector<std::string>& names() {
  static const std::vector<std::string> n = slope::activations();
  return n;
}

const char* const kLeafShapes[] = {"(r, c)", "(1, c)", "(r, 1)", "(1, 1)"};
const char* const kModules[] = {"Linear", "LayerNorm", "FeedForward", "Residual(FeedForward)"};

std::ostream& operator<<(std::ostream& os, const Program& p) {
  os << "x (" << p.rows << ", " << p.cols << ")";
  for (const Step& s : p.steps) {
    os << " -> " << kOpNames[static_cast<int>(s.op)];
    if (s.op == Op::activation || s.op == Op::linear_act) os << " " << names()[s.param];
    if (s.op == Op::add || s.op == Op::sub || s.op == Op::mul || s.op == Op::div)
      os << " leaf " << kLeafShapes[s.shape];
    if (s.op == Op::matmul || s.op == Op::linear || s.op == Op::linear_act)
      os << " to " << s.shape << " cols";
    if (s.op == Op::pow) os << " " << s.param;
    if (s.op == Op::sum_axis || s.op == Op::mean_axis) os << " axis " << s.param;
    if (s.op == Op::module) os << " " << kModules[s.param];
  }
  return os << " -> loss " << kLossNames[static_cast<int>(p.loss)] << "; values from seed "
            << p.seed;
}

rc::Gen<Step> step_gen() {
  return rc::gen::exec([] {
    Step s{};
    s.op = static_cast<Op>(*rc::gen::inRange(0, static_cast<int>(Op::count)));
    switch (s.op) {
      case Op::activation:
      case Op::linear_act:
        s.param = *rc::gen::inRange(0, static_cast<int>(slope::act::count));
        s.shape = *rc::gen::inRange(1, 5);
        break;
      case Op::add:
      case Op::sub:
      case Op::mul:
      case Op::div:
        s.shape = *rc::gen::inRange(0, 4);
        break;
      case Op::matmul:
      case Op::linear:
        s.shape = *rc::gen::inRange(1, 5);
        break;
      case Op::pow:
        s.param = *rc::gen::inRange(2, 4);
        break;
      case Op::sum_axis:
      case Op::mean_axis:
        s.param = *rc::gen::inRange(0, 2);
        break;
      case Op::module:
        s.param = *rc::gen::inRange(0, 4);
        break;
      default:
        break;
    }
    return s;
  });
}

// Every generator here runs at RapidCheck's full size: its ranges are the ones written,
// from the first case on (by default early cases draw from the bottom of each range).
rc::Gen<Program> program_gen() {
  return rc::gen::resize(
      100, rc::gen::exec([] {
        Program p;
        p.rows = *rc::gen::inRange(1, 5);
        p.cols = *rc::gen::inRange(1, 5);
        p.steps = *rc::gen::container<std::vector<Step>>(*rc::gen::inRange(1, 6), step_gen());
        p.loss = static_cast<Loss>(*rc::gen::inRange(0, static_cast<int>(Loss::count)));
        p.seed = *rc::gen::inRange<std::uint64_t>(0, 1u << 30);
        return p;
      }));
}

struct Shape {
  Eigen::Index r, c;
};

bool kinked(int activation) {
  return names()[activation] == "relu" || names()[activation] == "leaky_relu";
}

// The smallest nonzero |argument| of a kink (relu's and leaky_relu's input, the hinge's
// margin 1 - y s) seen so far. A finite difference that steps across a kink measures
// neither slope, so cases with a kink this near are discarded. (An argument exactly 0
// comes from a flat region upstream, relu(relu(x)); nothing moves it.)
template <class M> void note_kink(double& nearest, const M& arguments) {
  for (Eigen::Index i = 0; i < arguments.size(); ++i)
    if (arguments(i) != 0) nearest = std::min(nearest, std::abs(static_cast<double>(arguments(i))));
}

// Runs the program on `leaves` (x first, then one per step that takes any, in order), or,
// with `shapes`, only records the shapes of the leaves it would take. `nearest_kink`, when
// given, gets the smallest argument of a kink.
template <class T>
slope::BasicTensor<T> run(const Program& p, const std::vector<slope::BasicTensor<T>>& leaves,
                          std::vector<Shape>* shapes = nullptr, double* nearest_kink = nullptr) {
  double ignored = 0;
  double& kink = nearest_kink ? *nearest_kink : ignored;
  using Tn = slope::BasicTensor<T>;
  Eigen::Index r = p.rows, c = p.cols;
  std::size_t next = 0;
  auto leaf = [&](Eigen::Index lr, Eigen::Index lc) -> Tn {
    if (shapes) {
      shapes->push_back({lr, lc});
      return Tn::zeros(lr, lc);
    }
    return leaves.at(next++);
  };
  Tn x = leaf(r, c);
  for (std::size_t i = 0; i < p.steps.size(); ++i) {
    const Step& s = p.steps[i];
    switch (s.op) {
      case Op::activation:
        if (kinked(s.param)) note_kink(kink, x.value());
        x = slope::apply(x, names()[s.param]);
        break;
      case Op::exp_tanh:
        x = x.tanh().exp();
        break;
      case Op::log_sq1:
        x = (x * x + T(1)).log();
        break;
      case Op::pow:
        x = x.pow(static_cast<T>(s.param));
        break;
      case Op::add:
      case Op::sub:
      case Op::mul:
      case Op::div: {
        const Tn b = leaf(s.shape == 1 || s.shape == 3 ? 1 : r, s.shape >= 2 ? 1 : c);
        if (s.op == Op::add) x = x + b;
        if (s.op == Op::sub) x = x - b;
        if (s.op == Op::mul) x = x * b;
        if (s.op == Op::div) x = x / (b * b + T(0.5));
        break;
      }
      case Op::scalar:
        x = T(0.5) * x + T(0.25) - T(1) / (x * x + T(2));
        break;
      case Op::matmul:
        x = slope::matmul(x, leaf(c, s.shape));
        c = s.shape;
        break;
      case Op::linear:
      case Op::linear_act: {
        const Tn w = leaf(s.shape, c), b = leaf(1, s.shape);
        Tn pre;
        x = s.op == Op::linear ? slope::linear(x, w, b)
                               : slope::linear(x, w, b, static_cast<std::size_t>(s.param), &pre);
        if (s.op == Op::linear_act && kinked(s.param)) note_kink(kink, pre.value());
        c = s.shape;
        break;
      }
      case Op::transpose:
        x = x.t();
        std::swap(r, c);
        break;
      case Op::sum_axis:
      case Op::mean_axis:
        x = s.op == Op::sum_axis ? x.sum(s.param) : x.mean(s.param);
        (s.param == 0 ? r : c) = 1;
        break;
      case Op::layer_norm: {
        const Tn w = leaf(1, c), b = leaf(1, c);
        x = slope::layer_norm(x, w, b);
        break;
      }
      case Op::softmax:
        x = slope::softmax(x);
        break;
      case Op::log_softmax:
        x = slope::log_softmax(x);
        break;
      case Op::module: {
        // The same parameters at every call: from the program's seed and the step.
        slope::Rng rng(p.seed * 31 + i);
        const auto init = slope::nn::Init::xavier_normal().with_bias(0.1);
        if (s.param == 0) {
          x = slope::nn::BasicLinear<T>(c, 3, true, init, rng)(x);
          c = 3;
        } else if (s.param == 1) {
          x = slope::nn::BasicLayerNorm<T>(c)(x);
        } else if (s.param == 2) {
          x = slope::nn::BasicFeedForward<T>(c, 2 * c, "gelu", init, rng)(x);
        } else {
          x = slope::nn::BasicResidual<T>(
              slope::nn::BasicFeedForward<T>(c, 2 * c, "tanh", init, rng))(x);
        }
        break;
      }
      case Op::count:
        break;
    }
  }
  switch (p.loss) {
    case Loss::none:
      return x;
    case Loss::mse:
      return slope::mse_loss(x, leaf(r, c));
    case Loss::cross_entropy: {
      std::vector<int> labels;
      for (Eigen::Index i = 0; i < r; ++i)
        labels.push_back(static_cast<int>((p.seed + 7 * i) % static_cast<std::uint64_t>(c)));
      return slope::cross_entropy(x, labels);
    }
    case Loss::bce_with_logits: {
      const Tn target = leaf(r, c);  // drawn in [0, 1] below
      return slope::binary_cross_entropy_with_logits(x, target);
    }
    case Loss::hinge: {
      const Tn y = leaf(r, c);  // +-1 below
      note_kink(kink, (T(1) - y.value().array() * x.value().array()).matrix());
      return slope::hinge_loss(x, y);
    }
    case Loss::count:
      break;
  }
  return x;
}

// The program's leaves: N(0, 1) from its seed; a target of BCE in [0, 1]; of hinge +-1.
std::vector<TensorD> leaves_of(const Program& p) {
  std::vector<Shape> shapes;
  run<double>(p, {}, &shapes);
  slope::Rng rng(p.seed);
  std::vector<TensorD> out;
  for (std::size_t i = 0; i < shapes.size(); ++i) {
    TensorD::Matrix m(shapes[i].r, shapes[i].c);
    const bool target =
        i + 1 == shapes.size() &&
        (p.loss == Loss::mse || p.loss == Loss::bce_with_logits || p.loss == Loss::hinge);
    for (Eigen::Index k = 0; k < m.size(); ++k) {
      const double v = rng.normal(0.0, 1.0);
      m(k) = !target                           ? v
             : p.loss == Loss::bce_with_logits ? rng.uniform(0.0, 1.0)
             : p.loss == Loss::hinge           ? (v < 0 ? -1.0 : 1.0)
                                               : v;
    }
    out.emplace_back(m, !target);  // targets take no gradient
  }
  return out;
}

// Programs whose values grow past this are discarded: finite differences there measure
// rounding, not the gradient.
bool moderate(const TensorD& y) {
  return y.value().allFinite() && y.value().cwiseAbs().maxCoeff() < 1e4;
}

RC_GTEST_PROP(Properties, TensorProgramsMatchFiniteDifferencesInDouble, ()) {
  const Program p = *program_gen();
  RC_TAG(kLossNames[static_cast<int>(p.loss)]);
  RC_CLASSIFY(p.steps.size() >= 3, "3 or more steps");
  RC_CLASSIFY(p.rows == 1 || p.cols == 1, "a 1 x n or n x 1 input");
  const std::vector<TensorD> leaves = leaves_of(p);
  double nearest_kink = INFINITY;
  const TensorD y = run<double>(p, leaves, nullptr, &nearest_kink);
  RC_PRE(moderate(y));
  RC_PRE(nearest_kink > 1e-4);
  std::vector<TensorD> inputs;  // gradcheck differentiates every input; targets stay fixed
  std::vector<std::size_t> where;
  for (std::size_t i = 0; i < leaves.size(); ++i)
    if (leaves[i].requires_grad()) inputs.push_back(leaves[i]), where.push_back(i);
  const slope::GradcheckResult r = slope::gradcheck(
      [&](const std::vector<TensorD>& in) {
        std::vector<TensorD> all = leaves;
        for (std::size_t k = 0; k < in.size(); ++k) all[where[k]] = in[k];
        return run<double>(p, all);
      },
      inputs);
  if (!r.ok) RC_FAIL("gradcheck: " + r.worst);
}

RC_GTEST_PROP(Properties, TensorProgramsInFloatAgreeWithDouble, ()) {
  const Program p = *program_gen();
  const std::vector<TensorD> leaves = leaves_of(p);
  const TensorD yd = run<double>(p, leaves);
  RC_PRE(moderate(yd));
  std::vector<slope::Tensor> leaves_f;
  for (const TensorD& l : leaves)
    leaves_f.emplace_back(slope::Tensor::Matrix(l.value().cast<float>()), l.requires_grad());
  const slope::Tensor yf = run<float>(p, leaves_f);
  const double scale = 1 + yd.value().cwiseAbs().maxCoeff();
  RC_ASSERT((yf.value().cast<double>() - yd.value()).cwiseAbs().maxCoeff() <= 1e-3 * scale);
  // The gradients of sum(y), in both precisions.
  yd.sum().backward();
  yf.sum().backward();
  for (std::size_t i = 0; i < leaves.size(); ++i) {
    if (!leaves[i].requires_grad()) continue;
    const TensorD::Matrix& gd = leaves[i].grad();
    const double gscale = 1 + gd.cwiseAbs().maxCoeff();
    RC_ASSERT((leaves_f[i].grad().cast<double>() - gd).cwiseAbs().maxCoeff() <= 1e-2 * gscale);
  }
}

// --- scalar expression graphs ------------------------------------------------------------

enum class SOp { add, sub, mul, div, pow, pow_value, exp_tanh, log_sq1, activation, count };
const char* const kSOpNames[] = {"add",       "sub",      "mul",     "div",       "pow",
                                 "pow_value", "exp_tanh", "log_sq1", "activation"};

struct SNode {
  SOp op;
  int a, b;   // earlier nodes, by index into the leaves then the nodes (mod their count)
  int param;  // activation id or power
};

struct Graph {
  std::vector<double> leaves;
  std::vector<SNode> nodes;
};

std::ostream& operator<<(std::ostream& os, const Graph& g) {
  os << "leaves";
  for (double v : g.leaves) os << " " << v;
  const std::size_t n = g.leaves.size();
  for (std::size_t i = 0; i < g.nodes.size(); ++i) {
    const SNode& s = g.nodes[i];
    const bool binary = s.op == SOp::add || s.op == SOp::sub || s.op == SOp::mul ||
                        s.op == SOp::div || s.op == SOp::pow_value;
    os << "; n" << n + i << " = " << kSOpNames[static_cast<int>(s.op)] << "(n" << s.a % (n + i);
    if (binary) os << ", n" << s.b % (n + i);
    if (s.op == SOp::activation) os << ", " << names()[s.param];
    if (s.op == SOp::pow) os << ", " << s.param;
    os << ")";
  }
  return os;
}

rc::Gen<Graph> graph_gen() {
  return rc::gen::resize(
      100, rc::gen::exec([] {
        Graph g;
        const int n = *rc::gen::inRange(1, 5);
        for (int i = 0; i < n; ++i)
          g.leaves.push_back(*rc::gen::inRange(-300, 301) / 100.0 + 0.005);
        const int m = *rc::gen::inRange(1, 12);
        for (int i = 0; i < m; ++i) {
          SNode s{};
          s.op = static_cast<SOp>(*rc::gen::inRange(0, static_cast<int>(SOp::count)));
          s.a = *rc::gen::inRange(0, 64);
          s.b = *rc::gen::inRange(0, 64);
          s.param = s.op == SOp::activation
                        ? *rc::gen::inRange(0, static_cast<int>(slope::act::count))
                        : *rc::gen::inRange(2, 4);
          g.nodes.push_back(s);
        }
        return g;
      }));
}

// The ops for each number type the graph runs on: double (for finite differences),
// slope::Value (the scalar engine) and a 1 x 1 TensorD (the tensor engine).
double act_of(double x, int id) { return slope::act::get(names()[id]).value(x); }
slope::Value act_of(const slope::Value& x, int id) { return slope::apply(x, names()[id]); }
TensorD act_of(const TensorD& x, int id) { return slope::apply(x, names()[id]); }
double pow_of(double x, double p) { return std::pow(x, p); }
template <class N> N pow_of(const N& x, double p) { return x.pow(p); }
double pow_value(double b, double e) { return std::pow(b, e); }
slope::Value pow_value(const slope::Value& b, const slope::Value& e) { return b.pow(e); }
TensorD pow_value(const TensorD& b, const TensorD& e) { return (e * b.log()).exp(); }
double exp_tanh(double x) { return std::exp(std::tanh(x)); }
template <class N> N exp_tanh(const N& x) { return x.tanh().exp(); }
double log_of(double x) { return std::log(x); }
template <class N> N log_of(const N& x) { return x.log(); }

// Every node's value, leaves first; the graph's output is the last.
template <class N> std::vector<N> evaluate_all(const Graph& g, const std::vector<N>& leaves) {
  std::vector<N> v = leaves;
  for (const SNode& s : g.nodes) {
    const N a = v[static_cast<std::size_t>(s.a) % v.size()];
    const N b = v[static_cast<std::size_t>(s.b) % v.size()];
    switch (s.op) {
      case SOp::add:
        v.push_back(a + b);
        break;
      case SOp::sub:
        v.push_back(a - b);
        break;
      case SOp::mul:
        v.push_back(a * b);
        break;
      case SOp::div:
        v.push_back(a / (b * b + 0.5));
        break;
      case SOp::pow:
        v.push_back(pow_of(a, s.param));
        break;
      case SOp::pow_value:
        v.push_back(pow_value(a * a + 0.5, b));
        break;
      case SOp::exp_tanh:
        v.push_back(exp_tanh(a));
        break;
      case SOp::log_sq1:
        v.push_back(log_of(a * a + 1.0));
        break;
      case SOp::activation:
        v.push_back(act_of(a, s.param));
        break;
      case SOp::count:
        break;
    }
  }
  return v;
}
template <class N> N evaluate(const Graph& g, const std::vector<N>& leaves) {
  return evaluate_all(g, leaves).back();
}

RC_GTEST_PROP(Properties, ScalarGraphsMatchFiniteDifferencesAndTheTensorEngine, ()) {
  const Graph g = *graph_gen();
  const std::vector<double> values = evaluate_all<double>(g, g.leaves);
  RC_PRE(std::all_of(values.begin(), values.end(), [](double v) { return std::abs(v) < 1e4; }));
  const double y = values.back();

  std::vector<slope::Value> vs(g.leaves.begin(), g.leaves.end());
  const slope::Value out = evaluate(g, vs);
  out.backward();
  std::vector<TensorD> ts;
  for (double v : g.leaves) ts.emplace_back(TensorD::Matrix::Constant(1, 1, v), true);
  const TensorD tout = evaluate(g, ts);
  tout.sum().backward();
  RC_ASSERT(std::abs(out.data() - y) <= 1e-12 * (1 + std::abs(y)));
  RC_ASSERT(std::abs(tout.value()(0, 0) - y) <= 1e-12 * (1 + std::abs(y)));

  std::vector<double> x = g.leaves;
  for (std::size_t i = 0; i < x.size(); ++i) {
    const double numeric = slope_test::central_difference([&] { return evaluate<double>(g, x); },
                                                          x[i], 1e-6 * (1 + std::abs(x[i])));
    const double analytic = vs[i].grad();
    RC_ASSERT(std::abs(analytic - numeric) <= 1e-5 + 1e-3 * std::abs(numeric));
    // Two engines, one graph: the same gradient to rounding.
    RC_ASSERT(std::abs(ts[i].grad()(0, 0) - analytic) <= 1e-9 * (1 + std::abs(analytic)));
  }
}

// --- SIMD kernels against the scalar definitions -----------------------------------------

using slope_test::ulps_apart;

// The kernels' error against the scalar definition as test_activations counts it.
template <class T> bool close(T got, T want) {
  if (std::isnan(got) || std::isinf(got) != std::isinf(want)) return false;
  if (std::abs(want) < slope_test::kKernelTiny<T>)
    return std::abs(got - want) < slope_test::kKernelTiny<T>;
  return slope_test::kernel_error_ulps(got, want) <= slope_test::kKernelMaxUlps;
}

template <class T> void check_kernels(const std::vector<T>& x) {
  std::vector<T> out(x.size());
  slope::act::for_each([&](auto a) {
    using A = decltype(a);
    for (const bool slope : {false, true}) {
      if (slope)
        slope::act::slopes<A>(x.data(), out.data(), x.size());
      else
        slope::act::values<A>(x.data(), out.data(), x.size());
      for (std::size_t i = 0; i < x.size(); ++i) {
        const T want = slope ? A::slope(x[i]) : A::value(x[i]);
        if (!close(out[i], want)) {
          std::ostringstream m;
          m << std::setprecision(std::numeric_limits<T>::max_digits10) << A::info.name
            << (slope ? "'" : "") << "(" << x[i] << "): SIMD " << out[i] << ", scalar " << want
            << " (" << ulps_apart(out[i], want) << " ulps), element " << i << " of " << x.size();
          RC_FAIL(m.str());
        }
      }
    }
  });
}

// Finite values across the whole range: a few ordinary ones, or any bit pattern's.
template <class T> rc::Gen<T> wide_gen() {
  return rc::gen::oneOf(rc::gen::map(rc::gen::inRange(-3000000, 3000001),
                                     [](int k) { return static_cast<T>(k / 100000.0); }),
                        rc::gen::map(rc::gen::arbitrary<T>(), [](T v) {
                          return std::isfinite(v) ? std::clamp(v, T(-1000), T(1000)) : T(0);
                        }));
}

RC_GTEST_PROP(Properties, SimdKernelsEqualTheScalarDefinitionsAnywhereInABatch, ()) {
  const auto n = *rc::gen::resize(100, rc::gen::inRange(1, 40));
  check_kernels(
      *rc::gen::resize(100, rc::gen::container<std::vector<float>>(n, wide_gen<float>())));
  check_kernels(
      *rc::gen::resize(100, rc::gen::container<std::vector<double>>(n, wide_gen<double>())));
}

}  // namespace
}  // namespace properties
