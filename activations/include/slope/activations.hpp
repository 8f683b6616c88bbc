// The activation catalogue: every activation slope knows, each written once with
// its value and its slope side by side, generic over float and double.
//
// To add an activation: write one struct below (name, metadata, value, slope) and
// add it to `Catalogue` at the bottom. Write value and slope with the primitives of
// `math` (select instead of ?:), so the same text runs on SIMD batches. Both engines, the tests,
// the demos and the benchmarks loop over the catalogue and pick it up from there.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

namespace slope::act {

// What the explorer prints about an activation. Numbers such as the slope at 0 or
// the maximum slope are measured from value/slope, not written here.
struct Info {
  std::string_view name;
  std::string_view formula;
  std::string_view range;
  bool zero_centred;
  std::string_view kink;  // the slope convention at a kink, or "smooth"
  std::string_view job;   // the one line the lesson gives it
};

// The primitives the definitions below use, for a scalar (float, double) here and for a
// SIMD batch through xsimd (slope/activation_kernels.hpp): the definitions call them
// unqualified, so a batch argument finds xsimd's by argument-dependent lookup and the same
// text compiles for both. `select(c, a, b)` is `c ? a : b` with both sides computed, as a
// SIMD lane select must: a branch may overflow to inf where the other is chosen.
// Call tanh and erfc as math::tanh and math::erfc: their batch versions are slope's own.
namespace math {
using std::abs;
using std::exp;
using std::expm1;
using std::log1p;
using std::max;
template <class T>
requires std::is_floating_point_v<T> T select(bool c, T a, T b) { return c ? a : b; }

// The batch versions of tanh and erfc, defined in activations/src/kernels.cpp, the one place
// batches are instantiated. xsimd's own test whether any lane of a batch is small and branch;
// on a layer's mixed pre-activations that branch goes either way, mispredicted about half
// the time. slope's compute both formulas and select per lane, with the same numbers.
template <class B> B batch_tanh(const B& x);
template <class B> B batch_erfc(const B& x);
template <class T> T tanh(const T& x) {
  if constexpr (std::is_floating_point_v<T>) {
    return std::tanh(x);
  } else {
    return batch_tanh(x);
  }
}
template <class T> T erfc(const T& x) {
  if constexpr (std::is_floating_point_v<T>) {
    return std::erfc(x);
  } else {
    return batch_erfc(x);
  }
}
}  // namespace math

namespace detail {
// Logistic function without overflow: exp is only ever taken of a non-positive number.
template <class T> T sigmoid(T x) {
  using namespace math;
  const T e = exp(-abs(x));  // exp(-x) for x >= 0, exp(x) for x < 0
  return select(x >= T(0), T(1) / (T(1) + e), e / (T(1) + e));
}
}  // namespace detail

struct Identity {
  static constexpr Info info{.name = "identity",
                             .formula = "x",
                             .range = "(-inf, inf)",
                             .zero_centred = true,
                             .kink = "smooth",
                             .job = "the linear output layer; a stack of them is one linear map"};
  template <class T> static T value(T x) { return x; }
  template <class T> static T slope(T) { return T(1); }
};

struct Relu {
  static constexpr Info info{
      .name = "relu",
      .formula = "max(0, x)",
      .range = "[0, inf)",
      .zero_centred = false,
      .kink = "relu'(0) = 0, as PyTorch",
      .job = "the default hidden layer: slope exactly 0 or 1, gradients pass undamped"};
  template <class T> static T value(T x) {
    using namespace math;
    return select(x > T(0), x, T(0));
  }
  // At the kink x = 0 PyTorch uses the left slope 0; we match it so gradients agree.
  template <class T> static T slope(T x) {
    using namespace math;
    return select(x > T(0), T(1), T(0));
  }
};

struct LeakyRelu {
  static constexpr Info info{
      .name = "leaky_relu",
      .formula = "x if x > 0 else 0.01 x",
      .range = "(-inf, inf)",
      .zero_centred = false,
      .kink = "slope 0.01 at 0, as PyTorch",
      .job = "a ReLU that keeps a 0.01 slope for x < 0, so units cannot die"};
  template <class T> static T value(T x) {
    using namespace math;
    return select(x > T(0), x, T(0.01) * x);
  }
  template <class T> static T slope(T x) {
    using namespace math;
    return select(x > T(0), T(1), T(0.01));
  }
};

struct Sigmoid {
  static constexpr Info info{
      .name = "sigmoid",
      .formula = "1 / (1 + exp(-x))",
      .range = "(0, 1)",
      .zero_centred = false,
      .kink = "smooth",
      .job = "a probability for a binary output; slope <= 0.25, so deep stacks vanish"};
  template <class T> static T value(T x) { return detail::sigmoid(x); }
  // The slope at x given s = sigmoid(x): the backward pass takes it from the forward's
  // output, as PyTorch's does, with no exp.
  template <class T> static T slope_given(T, T s) { return s * (T(1) - s); }
  template <class T> static T slope(T x) { return slope_given(x, value(x)); }
};

struct Tanh {
  static constexpr Info info{
      .name = "tanh",
      .formula = "(exp(x) - exp(-x)) / (exp(x) + exp(-x))",
      .range = "(-1, 1)",
      .zero_centred = true,
      .kink = "smooth",
      .job = "a zero-centred squash with slope 1 at 0; micrograd's choice, RNN gates"};
  template <class T> static T value(T x) { return math::tanh(x); }
  // The slope at x given t = tanh(x), from the output as Sigmoid's.
  template <class T> static T slope_given(T, T t) { return T(1) - t * t; }
  template <class T> static T slope(T x) { return slope_given(x, value(x)); }
};

struct Gelu {
  static constexpr Info info{.name = "gelu",
                             .formula = "x * Phi(x) = 0.5 x (1 + erf(x / sqrt 2))",
                             .range = "[-0.17, inf)",
                             .zero_centred = false,
                             .kink = "smooth",
                             .job =
                                 "the smooth ReLU of GPT-2/BERT feed-forward blocks; leaks a "
                                 "sliver of gradient for x < 0"};
  // Phi(x) as 0.5 erfc(-x/sqrt2) keeps full relative precision far on the negative side.
  template <class T> static T value(T x) {
    using namespace math;
    return x * T(0.5) * math::erfc(-x * T(kInvSqrt2));
  }
  // The slope at x given y = gelu(x): Phi(x) = y / x (1/2 at x = 0), so the backward pass
  // takes erfc's work from the forward's output (in float within 2 ulps of computing Phi
  // afresh, against 1).
  template <class T> static T slope_given(T x, T y) {
    using namespace math;
    const T cdf = select(x == T(0), T(0.5), y / x);
    const T pdf = T(kInvSqrt2Pi) * exp(T(-0.5) * x * x);
    return cdf + x * pdf;
  }
  template <class T> static T slope(T x) { return slope_given(x, value(x)); }
  static constexpr double kInvSqrt2 = 0.70710678118654752440;
  static constexpr double kInvSqrt2Pi = 0.39894228040143267794;
};

struct GeluTanh {
  static constexpr Info info{
      .name = "gelu_tanh",
      .formula = "0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))",
      .range = "[-0.17, inf)",
      .zero_centred = false,
      .kink = "smooth",
      .job = "GELU as GPT-2 computed it: a tanh approximation, cheaper than erf"};
  template <class T> static T value(T x) {
    using namespace math;
    const T u = T(kSqrt2OverPi) * (x + T(0.044715) * x * x * x);
    return T(0.5) * x * (T(1) + math::tanh(u));
  }
  template <class T> static T slope(T x) {
    using namespace math;
    const T u = T(kSqrt2OverPi) * (x + T(0.044715) * x * x * x);
    const T t = math::tanh(u);
    const T du = T(kSqrt2OverPi) * (T(1) + T(3 * 0.044715) * x * x);
    const T sech2 = T(1) - t * t;
    // Far out sech2 is exactly 0 while du is huge: take 0 there, not 0 * inf.
    return T(0.5) * (T(1) + t) + select(sech2 == T(0), T(0), T(0.5) * x * sech2 * du);
  }
  static constexpr double kSqrt2OverPi = 0.79788456080286535588;
};

struct Elu {
  static constexpr Info info{
      .name = "elu",
      .formula = "x if x > 0 else exp(x) - 1",
      .range = "(-1, inf)",
      .zero_centred = false,
      .kink = "smooth at 0 (alpha = 1): slope 1 from both sides",
      .job = "a ReLU with a smooth negative saturation at -1; mean activations nearer 0"};
  template <class T> static T value(T x) {
    using namespace math;
    return select(x > T(0), x, expm1(x));
  }
  template <class T> static T slope(T x) {
    using namespace math;
    return select(x > T(0), T(1), exp(x));
  }
};

struct Silu {
  static constexpr Info info{
      .name = "silu",
      .formula = "x * sigmoid(x)",
      .range = "[-0.28, inf)",
      .zero_centred = false,
      .kink = "smooth",
      .job = "swish: a smooth, non-monotonic ReLU used in EfficientNet and LLaMA FFNs"};
  template <class T> static T value(T x) { return x * detail::sigmoid(x); }
  template <class T> static T slope(T x) {
    // sigmoid(x) (1 + x sigmoid(-x)), both sigmoids from one exp: 1 - sigmoid(x) would
    // cancel for large x (6 ulps apart between the SIMD and the scalar exp at x = 6.8).
    using namespace math;
    const T e = exp(-abs(x));
    const T big = T(1) / (T(1) + e), small = e / (T(1) + e);
    return select(x >= T(0), big, small) * (T(1) + x * select(x >= T(0), small, big));
  }
};

struct Softplus {
  static constexpr Info info{
      .name = "softplus",
      .formula = "log(1 + exp(x))",
      .range = "(0, inf)",
      .zero_centred = false,
      .kink = "smooth",
      .job = "a smooth ReLU whose slope is the sigmoid; keeps outputs positive"};
  // max(x, 0) + log1p(exp(-|x|)) never overflows; PyTorch's x > 20 cut-off differs by < 1e-8.
  template <class T> static T value(T x) {
    using namespace math;
    return max(x, T(0)) + log1p(exp(-abs(x)));
  }
  template <class T> static T slope(T x) { return detail::sigmoid(x); }
};

// A's slope at x given y = A::value(x): slope_given(x, y) where A writes one (sigmoid, tanh
// and gelu: the value is not computed again), else slope(x). The same number either way.
template <class A, class T> T slope_at(T x, T y) {
  if constexpr (requires { A::slope_given(x, y); }) {
    return A::slope_given(x, y);
  } else {
    return A::slope(x);
  }
}

// The registry: one line per activation. Order is the order demos print them in.
using Catalogue =
    std::tuple<Identity, Relu, LeakyRelu, Sigmoid, Tanh, Gelu, GeluTanh, Elu, Silu, Softplus>;

inline constexpr std::size_t count = std::tuple_size_v<Catalogue>;

// The position of activation A in the catalogue.
template <class A>
inline constexpr std::size_t id_of = []<std::size_t... I>(std::index_sequence<I...>) {
  std::size_t r = count;
  (void)((std::is_same_v<A, std::tuple_element_t<I, Catalogue>> ? (r = I, true) : false) || ...);
  return r;
}
(std::make_index_sequence<count>{});

// Calls f(Activation{}) for each activation of the catalogue, in order.
template <class F> constexpr void for_each(F&& f) {
  std::apply([&](auto... a) { (f(a), ...); }, Catalogue{});
}

// Calls f(Activation{}) for the activation at position `id` of the catalogue and
// returns what f returns, through a table of one function per activation (nothing is
// default-constructed). Throws std::out_of_range for an id >= count (ids come from find).
template <class F> decltype(auto) visit(std::size_t id, F&& f) {
  using R = decltype(f(std::tuple_element_t<0, Catalogue>{}));
  if (id >= count)
    throw std::out_of_range("slope::act::visit: no activation with id " + std::to_string(id));
  return [&]<std::size_t... I>(std::index_sequence<I...>)->R {
    using Call = R (*)(F&);
    static constexpr Call table[] = {
        [](F& g) -> R { return g(std::tuple_element_t<I, Catalogue>{}); }...};
    return table[id](f);
  }
  (std::make_index_sequence<count>{});
}

// A run-time view of one activation, for code that picks activations by name.
struct Entry {
  std::size_t id;
  Info info;
  double (*value)(double);
  double (*slope)(double);
  float (*value_f)(float);
  float (*slope_f)(float);
  // The slope over an array, in SIMD batches (activation_kernels.hpp): out[i] = f'(x[i]).
  void (*slopes)(const double* x, double* out, std::size_t n);
  void (*slopes_f)(const float* x, float* out, std::size_t n);
};

// The largest |slope| of an activation, found numerically on the grid x = k / per_unit in
// [lo, hi] (so x = 0 and every decimal grid point are exact): where it is first reached,
// where it is last reached (a plateau such as relu's shows as at < last_at), and whether
// the first point is the grid's right edge (the slope is still rising there).
struct MaxSlope {
  double slope;
  double at;
  double last_at;
  bool at_edge;
};
MaxSlope max_slope(const Entry& e, double lo = -10.0, double hi = 10.0, int per_unit = 1000);
// max_slope(entries()[id]) on the default grid, measured once per activation and kept (the
// probes ask for it at every probed step). Throws std::out_of_range for an id >= count.
const MaxSlope& max_slope(std::size_t id);

// Where the slope is exactly 0 as training computes it: through the SIMD kernels (slopes()),
// in float or in double. The grid x = k / per_unit, |x| <= range (every point exact in both
// types for a power-of-two per_unit), is scanned outwards from 0 on each side; between the
// first grid point where the slope is 0 and its neighbour nearer 0, bisection over the
// numbers of T finds the boundary (one change assumed between two grid points). tanh and
// gelu round or underflow to 0 far out; a unit whose inputs all lie there reads as dead.
// Throws std::invalid_argument unless 0 < range <= 1e6 and 1 <= per_unit <= 2^20.
struct ZeroSlope {
  double range = 0;             // the scan covered [-range, range]
  std::optional<double> below;  // the x <= 0 nearest 0 where the slope is exactly 0
  bool all_below = false;       // ... and it is 0 at every grid point below it
  std::optional<double> above;  // the x > 0 nearest 0 where it is exactly 0
  bool all_above = false;       // ... and it is 0 at every grid point above it
};
template <class T> ZeroSlope zero_slope(const Entry& e, double range = 128.0, int per_unit = 4096);
// zero_slope<T>(entries()[id]) on the default grid, measured once per activation and type
// and kept. Throws std::out_of_range for an id >= count.
template <class T> const ZeroSlope& zero_slope(std::size_t id);

// Every registered activation, in catalogue order.
std::span<const Entry> entries();
// The id of `name`; throws std::invalid_argument listing the valid names if unknown.
std::size_t find(std::string_view name);
// The entry of `name`; throws std::invalid_argument listing the valid names if unknown.
const Entry& get(std::string_view name);

}  // namespace slope::act

namespace slope {
// The names of every registered activation, in catalogue order.
std::vector<std::string> activations();
}  // namespace slope
