// The activation catalogue. Suites named EveryActivation loop over the registry, so an
// activation added with one registry line is checked here without a new test: slopes
// against central finite differences in float and double, finite and correct values
// at +-1000, float against double, metadata against the values. The named suites below
// check the lesson's claims against closed forms and published numbers.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <map>
#include <numbers>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <slope/activation_kernels.hpp>
#include <slope/slope.hpp>
#if SLOPE_SIMD
#include <xsimd/xsimd.hpp>
#endif

#include "finite_difference.hpp"
#include "ulps.hpp"

namespace {

using slope::act::Entry;
using slope_test::central_difference;

// --- independent closed forms --------------------------------------------------------
// Written from the textbook definitions with std::exp, std::erf and std::cosh, not from
// the catalogue's code. At a kink the slope is PyTorch's documented choice.

double Phi(double x) { return 0.5 * (1.0 + std::erf(x / std::numbers::sqrt2)); }
double phi(double x) { return std::exp(-0.5 * x * x) / std::sqrt(2.0 * std::numbers::pi); }
double logistic(double x) { return 1.0 / (1.0 + std::exp(-x)); }

struct ClosedForm {
  double (*value)(double);
  double (*slope)(double);
};

const double kGeluTanhC = std::sqrt(2.0 / std::numbers::pi);

const std::map<std::string, ClosedForm>& closed_forms() {
  static const std::map<std::string, ClosedForm> table = {
      {"identity", {[](double x) { return x; }, [](double) { return 1.0; }}},
      {"relu",
       {[](double x) { return x > 0 ? x : 0.0; },
        [](double x) { return x > 0 ? 1.0 : 0.0; }}},  // relu'(0) = 0, PyTorch
      {"leaky_relu",
       {[](double x) { return x > 0 ? x : 0.01 * x; },
        [](double x) { return x > 0 ? 1.0 : 0.01; }}},  // PyTorch: negative_slope at 0
      {"sigmoid",
       {logistic,
        [](double x) { return std::exp(-x) / ((1 + std::exp(-x)) * (1 + std::exp(-x))); }}},
      {"tanh",
       {[](double x) { return (std::exp(x) - std::exp(-x)) / (std::exp(x) + std::exp(-x)); },
        [](double x) { return 1.0 / (std::cosh(x) * std::cosh(x)); }}},
      {"gelu", {[](double x) { return x * Phi(x); }, [](double x) { return Phi(x) + x * phi(x); }}},
      {"gelu_tanh",
       {[](double x) { return 0.5 * x * (1 + std::tanh(kGeluTanhC * (x + 0.044715 * x * x * x))); },
        [](double x) {
          const double u = kGeluTanhC * (x + 0.044715 * x * x * x);
          const double du = kGeluTanhC * (1 + 3 * 0.044715 * x * x);
          return 0.5 * (1 + std::tanh(u)) + 0.5 * x * du / (std::cosh(u) * std::cosh(u));
        }}},
      {"elu",
       {[](double x) { return x > 0 ? x : std::exp(x) - 1; },
        [](double x) { return x > 0 ? 1.0 : std::exp(x); }}},  // alpha 1: 1 at 0 both sides
      {"silu",
       {[](double x) { return x / (1 + std::exp(-x)); },
        [](double x) {
          const double e = std::exp(-x);
          return (1 + e + x * e) / ((1 + e) * (1 + e));
        }}},
      {"softplus", {[](double x) { return std::log(1 + std::exp(x)); }, logistic}},
  };
  return table;
}

// What each required activation tends to far out: value and slope at -L and +L.
struct Tails {
  double (*value_minus)(double L);
  double slope_minus;
  double (*value_plus)(double L);
  double slope_plus;
};

double plus_L(double L) { return L; }
double minus_L(double L) { return -L; }
double zero(double) { return 0.0; }
double one(double) { return 1.0; }
double minus_one(double) { return -1.0; }

const std::map<std::string, Tails>& tails() {
  static const std::map<std::string, Tails> table = {
      {"identity", {minus_L, 1, plus_L, 1}},
      {"relu", {zero, 0, plus_L, 1}},
      {"leaky_relu", {[](double L) { return -0.01 * L; }, 0.01, plus_L, 1}},
      {"sigmoid", {zero, 0, one, 0}},
      {"tanh", {minus_one, 0, one, 0}},
      {"gelu", {zero, 0, plus_L, 1}},
      {"gelu_tanh", {zero, 0, plus_L, 1}},
      {"elu", {minus_one, 0, plus_L, 1}},
      {"silu", {zero, 0, plus_L, 1}},
      {"softplus", {zero, 0, plus_L, 1}},
  };
  return table;
}

const std::vector<std::string> kRequired = {"identity", "relu",    "leaky_relu", "sigmoid",
                                            "tanh",     "gelu",    "gelu_tanh",  "elu",
                                            "silu",     "softplus"};

// Points in [-6, 6] on a 0.01 grid shifted off the integers, so no central difference
// straddles 0 (where relu, leaky_relu and elu have kinks) or any other round number a
// future kink might sit at; plus points on both sides of 0, closer and closer.
std::vector<double> fd_points() {
  std::vector<double> xs;
  for (int k = 0; k < 1200; ++k) xs.push_back(-6.0 + 0.01 * k + 0.00317);
  for (double d : {1e-1, 1e-2, 1e-3, 1e-4}) {
    xs.push_back(-d);
    xs.push_back(d);
  }
  return xs;
}

// A step that never reaches across 0 from x.
double step_off_zero(double x) { return std::min(slope_test::step_at(x), std::abs(x) / 4); }

// The maximum of `slope` on a grid of [-6, 6] with spacing 1e-3 that contains 0.
struct Peak {
  double x, slope;
};
template <class F> Peak max_on_grid(F&& slope) {
  Peak best{0.0, -INFINITY};
  for (int k = -6000; k <= 6000; ++k) {
    const double x = k / 1000.0;
    const double s = slope(x);
    if (s > best.slope) best = {x, s};
  }
  return best;
}

const Entry& entry(std::string_view name) { return slope::act::get(name); }

// --- every registered activation -------------------------------------------------------

class EveryActivation : public ::testing::TestWithParam<std::string> {
 protected:
  const Entry& e = slope::act::get(GetParam());
};

INSTANTIATE_TEST_SUITE_P(Registry, EveryActivation, ::testing::ValuesIn(slope::activations()),
                         [](const ::testing::TestParamInfo<std::string>& p) { return p.param; });

TEST_P(EveryActivation, SlopeMatchesCentralDifferencesInDouble) {
  for (double x0 : fd_points()) {
    double x = x0;
    const double fd = central_difference([&] { return e.value(x); }, x, step_off_zero(x0));
    EXPECT_NEAR(e.slope(x0), fd, 1e-7 * std::max(1.0, std::abs(fd))) << "at x = " << x0;
  }
}

TEST_P(EveryActivation, SlopeMatchesCentralDifferencesInFloat) {
  for (double x0 : fd_points()) {
    const float xf = static_cast<float>(x0);
    // The float slope against a double-precision difference at the same point...
    double x = xf;
    const double fd = central_difference([&] { return e.value(x); }, x, step_off_zero(x));
    EXPECT_NEAR(e.slope_f(xf), fd, 2e-6 * std::max(1.0, std::abs(fd))) << "at x = " << xf;
    // ...and against a difference taken in float itself, where |x| leaves room for it.
    if (std::abs(xf) < 0.05f) continue;
    float y = xf;
    const float fd_f = central_difference([&] { return e.value_f(y); }, y, 0.01f);
    EXPECT_NEAR(e.slope_f(xf), fd_f, 1e-3f * std::max(1.0f, std::abs(fd_f))) << "at x = " << xf;
  }
}

// At a kink the slope is a convention, but it must be one of the two one-sided slopes
// (relu'(0) = 0 is the left one); where the function is smooth both sides agree.
TEST_P(EveryActivation, SlopeAtZeroIsOneOfTheOneSidedSlopes) {
  const double h = 1e-5;
  auto f = [&](double x) { return e.value(x); };
  const double right = (-3 * f(0) + 4 * f(h) - f(2 * h)) / (2 * h);
  const double left = (3 * f(0) - 4 * f(-h) + f(-2 * h)) / (2 * h);
  const double s = e.slope(0.0);
  EXPECT_TRUE(std::abs(s - left) < 1e-8 || std::abs(s - right) < 1e-8)
      << "slope(0) = " << s << ", left " << left << ", right " << right;
  EXPECT_EQ(e.slope_f(0.0f), static_cast<float>(s));
}

TEST_P(EveryActivation, IsFiniteAndCorrectFarOut) {
  const auto it = tails().find(GetParam());
  for (double L : {1e3, 1e4}) {
    for (double x : {-L, L}) {
      const float xf = static_cast<float>(x);
      const double v = e.value(x), s = e.slope(x);
      const float vf = e.value_f(xf), sf = e.slope_f(xf);
      ASSERT_TRUE(std::isfinite(v) && std::isfinite(s)) << "at " << x << ": " << v << ", " << s;
      ASSERT_TRUE(std::isfinite(vf) && std::isfinite(sf)) << "at " << x << ": " << vf << ", " << sf;
      if (it == tails().end()) continue;  // new activations: finite is all we know
      const Tails& t = it->second;
      const double want_v = x < 0 ? t.value_minus(L) : t.value_plus(L);
      const double want_s = x < 0 ? t.slope_minus : t.slope_plus;
      EXPECT_NEAR(v, want_v, 1e-12 * std::max(1.0, std::abs(want_v))) << "value at " << x;
      EXPECT_NEAR(s, want_s, 1e-12) << "slope at " << x;
      EXPECT_NEAR(vf, want_v, 1e-6 * std::max(1.0, std::abs(want_v))) << "float value at " << x;
      EXPECT_NEAR(sf, want_s, 1e-6) << "float slope at " << x;
    }
  }
}

TEST_P(EveryActivation, MatchesItsClosedForm) {
  const auto it = closed_forms().find(GetParam());
  if (it == closed_forms().end())
    GTEST_SKIP() << "no closed form for '" << GetParam() << "' in the table yet";
  const ClosedForm& cf = it->second;
  for (int k = -24; k <= 24; ++k) {  // -6 .. 6 by 0.25, with 0 itself (the kinks)
    const double x = k / 4.0;
    EXPECT_NEAR(e.value(x), cf.value(x), 1e-12 * std::max(1.0, std::abs(cf.value(x))))
        << "value at " << x;
    EXPECT_NEAR(e.slope(x), cf.slope(x), 1e-12 * std::max(1.0, std::abs(cf.slope(x))))
        << "slope at " << x;
    const auto xf = static_cast<float>(x);
    EXPECT_NEAR(e.value_f(xf), cf.value(x), 1e-6 * std::max(1.0, std::abs(cf.value(x))))
        << "float value at " << x;
    EXPECT_NEAR(e.slope_f(xf), cf.slope(x), 1e-6 * std::max(1.0, std::abs(cf.slope(x))))
        << "float slope at " << x;
  }
}

TEST_P(EveryActivation, FloatAgreesWithDouble) {
  for (int k = -2000; k <= 2000; ++k) {
    const auto xf = static_cast<float>(k / 100.0 + 0.001);
    const double x = xf;
    EXPECT_NEAR(e.value_f(xf), e.value(x), 2e-6 * std::max(1.0, std::abs(e.value(x))))
        << "at " << x;
    EXPECT_NEAR(e.slope_f(xf), e.slope(x), 2e-6 * std::max(1.0, std::abs(e.slope(x))))
        << "at " << x;
  }
}

// The maximum slope the explorer reports is found numerically from `slope`; it must
// agree with the maximum of the finite-difference slope, which never calls `slope`.
TEST_P(EveryActivation, MaxSlopeAgreesWithFiniteDifferences) {
  const Peak analytic = max_on_grid([&](double x) { return e.slope(x); });
  const Peak numeric = max_on_grid([&](double x0) {
    double x = x0;
    const double h = x0 == 0.0 ? 1e-6 : step_off_zero(x0);
    // At 0 a kink makes the central difference the mean of the one-sided slopes.
    return x0 == 0.0 ? e.slope(0.0) : central_difference([&] { return e.value(x); }, x, h);
  });
  EXPECT_NEAR(analytic.slope, numeric.slope, 1e-7);
}

TEST_P(EveryActivation, HasTheMetadataTheExplorerPrints) {
  EXPECT_EQ(e.info.name, GetParam());
  EXPECT_FALSE(e.info.formula.empty());
  EXPECT_FALSE(e.info.range.empty());
  EXPECT_FALSE(e.info.kink.empty());
  EXPECT_FALSE(e.info.job.empty());
}

// zero_centred: the activation is odd, f(-x) = -f(x), so its outputs average to 0 on
// inputs symmetric about 0.
TEST_P(EveryActivation, IsZeroCentredExactlyWhenOdd) {
  bool odd = e.value(0.0) == 0.0;
  for (int k = 1; k <= 600 && odd; ++k) {
    const double x = k / 100.0;
    odd = std::abs(e.value(-x) + e.value(x)) <= 1e-12 * std::max(1.0, std::abs(e.value(x)));
  }
  EXPECT_EQ(e.info.zero_centred, odd);
}

// One end of a printed range: its value and its rounding, half a unit of its last
// printed decimal ("-0.17" is -0.17 +- 0.005; "0", "1" and "inf" are exact).
struct End {
  double at, rounding;
};
End parse_end(const std::string& s) {
  const double at = std::strtod(s.c_str(), nullptr);
  const auto dot = s.find('.');
  if (dot == std::string::npos) return {at, 0.0};
  const auto decimals = s.find_last_of("0123456789") - dot;
  return {at, 0.5 * std::pow(10.0, -static_cast<double>(decimals))};
}

// The printed range, e.g. "(0, 1)" or "[-0.17, inf)", holds every value up to the
// rounding of its ends, and its finite ends are approached.
TEST_P(EveryActivation, RangeHoldsTheValues) {
  const std::string r(e.info.range);
  const auto comma = r.find(',');
  ASSERT_TRUE(r.size() >= 5 && (r.front() == '(' || r.front() == '[') &&
              (r.back() == ')' || r.back() == ']') && comma != std::string::npos)
      << "range '" << r << "' is not written as (lo, hi) or [lo, hi]";
  const End lo = parse_end(r.substr(1, comma - 1));
  const End hi = parse_end(r.substr(comma + 1, r.size() - comma - 2));
  // An exact open end excludes itself; a rounded end only bounds within its rounding.
  const bool lo_open = r.front() == '(' && lo.rounding == 0.0;
  const bool hi_open = r.back() == ')' && hi.rounding == 0.0;
  double min = INFINITY, max = -INFINITY;
  for (int k = -1500; k <= 1500; ++k) {
    const double x = k / 100.0, v = e.value(x);
    min = std::min(min, v);
    max = std::max(max, v);
    const double l = lo.at - lo.rounding, h = hi.at + hi.rounding;
    EXPECT_TRUE(lo_open ? v > l : v >= l) << "f(" << x << ") = " << v << " outside " << r;
    EXPECT_TRUE(hi_open ? v < h : v <= h) << "f(" << x << ") = " << v << " outside " << r;
  }
  for (double x : {-1e6, 1e6}) {
    min = std::min(min, e.value(x));
    max = std::max(max, e.value(x));
  }
  if (std::isinf(lo.at))
    EXPECT_LT(min, -1e3);
  else
    EXPECT_NEAR(min, lo.at, std::max(lo.rounding, 1e-6));
  if (std::isinf(hi.at))
    EXPECT_GT(max, 1e3);
  else
    EXPECT_NEAR(max, hi.at, std::max(hi.rounding, 1e-6));
}

TEST_P(EveryActivation, IsReachableByNameFromTheScalarEngine) {
  for (double x : {-2.5, -0.3, 0.7, 3.0}) {
    slope::Value v = x;
    slope::Value y = slope::apply(v, GetParam());
    y.backward();
    EXPECT_EQ(y.data(), e.value(x));
    EXPECT_EQ(v.grad(), e.slope(x));
  }
}

// --- the registry ---------------------------------------------------------------------

TEST(Registry, HasEveryActivationTheDesignRequires) {
  const std::vector<std::string> names = slope::activations();
  for (const std::string& required : kRequired)
    EXPECT_NE(std::find(names.begin(), names.end(), required), names.end()) << required;
}

TEST(Registry, EveryViewListsTheSameActivationsInOrder) {
  const std::vector<std::string> names = slope::activations();
  const auto entries = slope::act::entries();
  ASSERT_EQ(names.size(), entries.size());
  ASSERT_EQ(names.size(), slope::act::count);
  EXPECT_EQ(std::set<std::string>(names.begin(), names.end()).size(), names.size())
      << "names are unique";
  for (std::size_t i = 0; i < names.size(); ++i) {
    EXPECT_EQ(entries[i].id, i);
    EXPECT_EQ(entries[i].info.name, names[i]);
    EXPECT_EQ(slope::act::find(names[i]), i);
    EXPECT_EQ(&slope::act::get(names[i]), &entries[i]);
  }
  // The compile-time view the engines build nodes from agrees with the run-time one.
  std::size_t i = 0;
  slope::act::for_each([&](auto a) {
    using A = decltype(a);
    ASSERT_LT(i, names.size());
    EXPECT_EQ(A::info.name, names[i]);
    EXPECT_EQ(slope::act::id_of<A>, i);
    for (double x : {-1.5, 0.0, 2.0}) {
      EXPECT_EQ(A::value(x), entries[i].value(x));
      EXPECT_EQ(A::slope(x), entries[i].slope(x));
      EXPECT_EQ(A::value(float(x)), entries[i].value_f(float(x)));
      EXPECT_EQ(A::slope(float(x)), entries[i].slope_f(float(x)));
    }
    ++i;
  });
  EXPECT_EQ(i, names.size());
}

TEST(Registry, UnknownNameThrowsListingTheValidNames) {
  for (auto call : {+[] { slope::act::get("relu6"); }, +[] { slope::act::find("relu6"); },
                    +[] { slope::apply(slope::Value(1.0), "relu6"); }}) {
    try {
      call();
      ADD_FAILURE() << "no exception for an unknown name";
    } catch (const std::invalid_argument& err) {
      const std::string msg = err.what();
      EXPECT_NE(msg.find("relu6"), std::string::npos) << msg;
      for (const std::string& name : slope::activations())
        EXPECT_NE(msg.find(name), std::string::npos) << name << " missing from: " << msg;
    }
  }
}

TEST(Registry, ApplyTakesALiteralAStdStringOrAStringView) {
  const slope::Value x = 0.5;
  const std::string name = "sigmoid";
  const std::string_view view = "tanh";
  EXPECT_DOUBLE_EQ(slope::apply(x, "gelu").data(), 0.5 * Phi(0.5));
  EXPECT_DOUBLE_EQ(slope::apply(x, name).data(), logistic(0.5));
  EXPECT_DOUBLE_EQ(slope::apply(x, view).data(), std::tanh(0.5));
}

TEST(Registry, OnlyIdentityAndTanhOfTheRequiredAreZeroCentred) {
  for (const std::string& name : kRequired)
    EXPECT_EQ(entry(name).info.zero_centred, name == "identity" || name == "tanh") << name;
}

// --- the lesson, claim by claim ---------------------------------------------------------

TEST(Relu, IsAHingeWithSlopeExactlyZeroOrOne) {
  const Entry& relu = entry("relu");
  for (int k = -600; k <= 600; ++k) {
    const double x = k / 100.0;
    EXPECT_EQ(relu.value(x), x > 0 ? x : 0.0);
    EXPECT_TRUE(relu.slope(x) == 0.0 || relu.slope(x) == 1.0);
  }
}

TEST(Relu, SlopeAtZeroIsZeroAsPyTorch) {
  EXPECT_EQ(entry("relu").slope(0.0), 0.0);
  EXPECT_EQ(entry("relu").slope_f(0.0f), 0.0f);
}

// A neuron relu(w x + b) folds where w x + b = 0, at x = -b / w.
TEST(Relu, NeuronFoldsAtMinusBiasOverWeight) {
  const double w = 2.0, b = 3.0, kink = -b / w;
  const Entry& relu = entry("relu");
  EXPECT_EQ(relu.value(w * (kink - 1e-9) + b), 0.0);
  EXPECT_GT(relu.value(w * (kink + 1e-9) + b), 0.0);
  EXPECT_EQ(relu.slope(w * (kink - 0.1) + b) * w, 0.0);
  EXPECT_EQ(relu.slope(w * (kink + 0.1) + b) * w, w);
}

TEST(LeakyRelu, NegativeSlopeIsOneHundredthAsPyTorch) {
  const Entry& leaky = entry("leaky_relu");
  EXPECT_DOUBLE_EQ(leaky.slope(-3.0), 0.01);
  EXPECT_DOUBLE_EQ(leaky.slope(0.0), 0.01);  // PyTorch: x > 0 ? 1 : negative_slope
  EXPECT_DOUBLE_EQ(leaky.value(-3.0), -0.03);
  EXPECT_DOUBLE_EQ(leaky.slope(2.0), 1.0);
}

TEST(Elu, AlphaIsOneAsPyTorch) {
  const Entry& elu = entry("elu");
  EXPECT_NEAR(elu.value(-1.0), std::exp(-1.0) - 1.0, 1e-15);
  EXPECT_NEAR(elu.slope(-1.0), std::exp(-1.0), 1e-15);
  EXPECT_DOUBLE_EQ(elu.slope(0.0), 1.0);  // alpha = 1 makes the slope continuous at 0
}

TEST(Softplus, IsLogTwoAtZeroWithTheSigmoidAsSlope) {
  const Entry& softplus = entry("softplus");
  EXPECT_NEAR(softplus.value(0.0), std::numbers::ln2, 1e-15);
  for (double x : {-30.0, -2.0, 0.0, 1.5, 19.0, 25.0})
    EXPECT_NEAR(softplus.slope(x), logistic(x), 1e-15);
  // PyTorch switches to the identity above x = 20; the two differ by less than 1e-8.
  EXPECT_NEAR(softplus.value(20.5), 20.5, 1e-8);
}

TEST(Sigmoid, SquashesIntoZeroOne) {
  const Entry& sigmoid = entry("sigmoid");
  EXPECT_DOUBLE_EQ(sigmoid.value(0.0), 0.5);
  EXPECT_EQ(sigmoid.value(1000.0), 1.0);
  EXPECT_EQ(sigmoid.value(-1000.0), 0.0);
  EXPECT_EQ(sigmoid.value_f(1000.0f), 1.0f);
  EXPECT_EQ(sigmoid.value_f(-1000.0f), 0.0f);
}

TEST(Sigmoid, MaxSlopeIsAQuarterAtZero) {
  const Peak p = max_on_grid([](double x) { return entry("sigmoid").slope(x); });
  EXPECT_EQ(p.x, 0.0);
  EXPECT_DOUBLE_EQ(p.slope, 0.25);  // sigma(0) (1 - sigma(0)) = 1/2 * 1/2
}

// The lesson's bound: 8 sigmoid layers shrink the gradient by at most 0.25^8 = 1.52587890625e-5.
TEST(Sigmoid, EightLayersShrinkTheGradientByAtMostAQuarterToTheEighth) {
  const Peak p = max_on_grid([](double x) { return entry("sigmoid").slope(x); });
  EXPECT_DOUBLE_EQ(std::pow(p.slope, 8), 1.52587890625e-5);
}

TEST(Sigmoid, SlopeAtTwoMatchesTheReference) {
  EXPECT_NEAR(entry("sigmoid").slope(2.0), 0.104993585403507, 1e-12);  // published value
  EXPECT_NEAR(entry("sigmoid").slope(-2.0), 0.104993585403507, 1e-12);
}

TEST(Tanh, IsZeroCentredWithSlopeOneAtZero) {
  const Entry& tanh = entry("tanh");
  EXPECT_EQ(tanh.value(0.0), 0.0);
  EXPECT_EQ(tanh.slope(0.0), 1.0);
  EXPECT_EQ(tanh.value(1000.0), 1.0);
  EXPECT_EQ(tanh.value(-1000.0), -1.0);
}

TEST(Tanh, MaxSlopeIsOneAtZero) {
  const Peak p = max_on_grid([](double x) { return entry("tanh").slope(x); });
  EXPECT_EQ(p.x, 0.0);
  EXPECT_DOUBLE_EQ(p.slope, 1.0);
}

TEST(Tanh, SlopeAtTwoMatchesTheReference) {
  EXPECT_NEAR(entry("tanh").slope(2.0), 0.0706508248531645, 1e-12);  // published value
  EXPECT_NEAR(entry("tanh").slope(-2.0), 0.0706508248531645, 1e-12);
}

// GELU's published values (erf form), to 1e-12.
TEST(Gelu, MatchesTheReferenceValues) {
  const Entry& gelu = entry("gelu");
  EXPECT_NEAR(gelu.value(1.0), 0.841344746068543, 1e-12);
  EXPECT_NEAR(gelu.slope(1.0), 1.08331547058769, 1e-12);
  EXPECT_NEAR(gelu.value(-1.0), -0.158655253931457, 1e-12);
  EXPECT_NEAR(gelu.slope(-1.0), -0.0833154705876863, 1e-12);
  EXPECT_NEAR(gelu.value(-3.0), -0.0040496940948903, 1e-12);
}

TEST(Gelu, MinimumIsWhereTheSlopeCrossesZero) {
  const Entry& gelu = entry("gelu");
  const double x_min = -0.751791524693564;  // published value
  EXPECT_NEAR(gelu.value(x_min), -0.169971207479904, 1e-12);
  EXPECT_NEAR(gelu.slope(x_min), 0.0, 1e-12);
  EXPECT_LT(gelu.slope(x_min - 0.01), 0.0);
  EXPECT_GT(gelu.slope(x_min + 0.01), 0.0);
}

// GELU units never die: the slope is nonzero on the negative side, unlike relu's.
TEST(Gelu, LeaksASliverOfGradientOnTheNegativeSide) {
  const Entry& gelu = entry("gelu");
  for (double x : {-0.5, -1.0, -2.0, -3.0, -5.0}) {
    EXPECT_NE(gelu.slope(x), 0.0) << x;
    EXPECT_EQ(entry("relu").slope(x), 0.0) << x;
  }
}

// gelu'' = phi(x) (2 - x^2), so the slope peaks at x = sqrt 2.
TEST(Gelu, MaxSlopeIsAtRootTwo) {
  const Peak p = max_on_grid([](double x) { return entry("gelu").slope(x); });
  const double r2 = std::numbers::sqrt2;
  EXPECT_NEAR(p.x, r2, 1e-3);
  EXPECT_NEAR(p.slope, Phi(r2) + r2 * phi(r2), 1e-6);
}

// The slope from the value (Phi = y / x, slope_given) costs at most 2 ulps in float against
// the exact slope, computed in double (ulps of 1 below 1, as the kernels are compared).
TEST(Gelu, FloatSlopeFromItsValueIsWithinTwoUlpsOfTheExactSlope) {
  double worst = 0, at = 0;
  for (int k = -20000; k <= 20000; ++k) {
    const auto x = static_cast<float>(k / 1000.0);
    const double exact = 0.5 * std::erfc(-x / std::numbers::sqrt2) + x * phi(x);
    if (std::abs(exact) < 1e-30) continue;
    const double d =
        slope_test::kernel_error_ulps(slope::act::Gelu::slope(x), static_cast<float>(exact));
    if (d > worst) worst = d, at = x;
  }
  EXPECT_LE(worst, 2.0) << "at x = " << at;
}

TEST(GeluTanh, ApproximatesGeluAsGpt2Did) {
  EXPECT_NEAR(entry("gelu_tanh").value(1.0), 0.841191990608277, 1e-12);  // published value
  for (int k = -60; k <= 60; ++k) {
    const double x = k / 10.0;
    EXPECT_NEAR(entry("gelu_tanh").value(x), entry("gelu").value(x), 1e-3) << x;
  }
}

// --- where a slope is exactly 0 (act::zero_slope) ----------------------------------------

// GELU's exact slope Phi(x) + x phi(x) in long double, whose range reaches far below
// double's: at x = -38.5 it is about 1e-321.
long double exact_gelu_slope(long double x) {
  const long double inv_sqrt2 = 0.70710678118654752440L, inv_sqrt2pi = 0.39894228040143267794L;
  return 0.5L * std::erfc(-x * inv_sqrt2) + x * inv_sqrt2pi * std::exp(-0.5L * x * x);
}

slope::act::ZeroSlope zero_float(const char* name) {
  return slope::act::zero_slope<float>(slope::act::find(name));
}
slope::act::ZeroSlope zero_double(const char* name) {
  return slope::act::zero_slope<double>(slope::act::find(name));
}

// GELU's slope is never 0 in exact arithmetic; in float the kernels' slope is exactly 0 from
// one point on down, where its factor e^(-x^2/2) underflows (both Phi, through erfc, and phi
// carry it). xsimd's float exp builds its result as p * 2^k with k = round(arg / ln 2) and
// gives 0 once k < -126 (no subnormals), so the boundary is a closed form:
// -x^2/2 = -126.5 ln 2, x = -sqrt(253 ln 2) = -13.24259. The scalar definitions (the browser
// build) keep subnormals and reach about -14.34, still below float's smallest normal number.
// Every float in [-14.5, -13] is checked: zero_slope's boundary is the first of them.
TEST(Gelu, FloatSlopeIsExactlyZeroOnlyWhereItUnderflows) {
  const slope::act::ZeroSlope z = zero_float("gelu");
  ASSERT_TRUE(z.below.has_value());
  EXPECT_TRUE(z.all_below);
  EXPECT_FALSE(z.above.has_value());  // its slope tends to 1
  std::vector<float> x;
  x.reserve(1u << 20);
  for (float v = -13.0f; v >= -14.5f; v = std::nextafter(v, -100.0f)) x.push_back(v);
  std::vector<float> d(x.size());
  slope::act::slopes(slope::act::find("gelu"), x.data(), d.data(), x.size());
  const auto first = std::find(d.begin(), d.end(), 0.0f);
  ASSERT_NE(first, d.end());
  EXPECT_TRUE(std::all_of(first, d.end(), [](float v) { return v == 0.0f; }));
  const float boundary = x[static_cast<std::size_t>(first - d.begin())];
  EXPECT_EQ(*z.below, boundary);
#if SLOPE_SIMD
  EXPECT_NEAR(boundary, -std::sqrt(253 * std::numbers::ln2), 2e-6);
#else
  EXPECT_LT(std::abs(exact_gelu_slope(boundary)), std::numeric_limits<float>::min());
#endif
  EXPECT_GT(std::abs(exact_gelu_slope(-8.0L)), std::numeric_limits<float>::min());
}

// In double the same happens near x = -38.5, where the exact slope drops below double's
// smallest normal number.
TEST(Gelu, DoubleSlopeIsExactlyZeroOnlyWhereItUnderflows) {
  const slope::act::ZeroSlope z = zero_double("gelu");
  ASSERT_TRUE(z.below.has_value());
  EXPECT_TRUE(z.all_below);
  EXPECT_FALSE(z.above.has_value());
  EXPECT_GT(*z.below, -38.7);
  EXPECT_LT(*z.below, -38.0);
  EXPECT_LT(std::abs(exact_gelu_slope(*z.below)), std::numeric_limits<double>::min());
  const double next = std::nextafter(*z.below, 0.0);  // the boundary: nonzero just above it
  EXPECT_NE(entry("gelu").slope(next), 0.0);
}

// tanh's slope 1 - t^2 is 0 once t rounds to -1 or 1: 1 - |tanh(x)| ~ 2 e^(-2|x|) falls
// below half an ulp of 1 (2^-25 in float, 2^-54 in double) at |x| = 13 ln 2 and 27.5 ln 2.
TEST(Tanh, SlopeIsExactlyZeroWhereTanhRoundsToOne) {
  const double ln2 = std::numbers::ln2;
  for (const auto& [z, edge] : {std::pair{zero_float("tanh"), 13 * ln2},      // 9.0109
                                std::pair{zero_double("tanh"), 27.5 * ln2}})  // 19.062
  {
    ASSERT_TRUE(z.below && z.above);
    EXPECT_TRUE(z.all_below && z.all_above);
    EXPECT_NEAR(*z.below, -edge, 2e-3);
    EXPECT_NEAR(*z.above, edge, 2e-3);
  }
}

// GPT-2's gelu_tanh takes its slope from 0.5 (1 + tanh(u)) and sech^2(u), u = sqrt(2/pi)
// (x + 0.044715 x^3): both are 0 once tanh(u) rounds to -1, at u = -13 ln 2 in float, so
// its float slope is exactly 0 already below x = -5.16, long before exact GELU's.
TEST(GeluTanh, FloatSlopeIsExactlyZeroWhereTanhRoundsToMinusOne) {
  auto u = [](double x) { return 0.79788456080286535588 * (x + 0.044715 * x * x * x); };
  double lo = -10, hi = 0;  // u is increasing: bisect u(x) = -13 ln 2
  for (int i = 0; i < 100; ++i)
    (u(0.5 * (lo + hi)) < -13 * std::numbers::ln2 ? lo : hi) = 0.5 * (lo + hi);
  const slope::act::ZeroSlope z = zero_float("gelu_tanh");
  ASSERT_TRUE(z.below.has_value());
  EXPECT_TRUE(z.all_below);
  EXPECT_NEAR(*z.below, lo, 2e-3);  // -5.158
  EXPECT_FALSE(z.above.has_value());
}

// sigmoid's slope s (1 - s) is 0 once 1 + e^-x rounds to 1, at x = 24 ln 2 in float and
// 53 ln 2 in double (closed forms); on the other side, and for elu, silu and softplus, a
// factor e^x that xsimd's float exp flushes to 0 below 2^-126.5, at x = -126.5 ln 2. In
// double that is near -708, outside the scan.
TEST(EveryActivationZeroSlope, IsWhereTheirExpUnderflowsOrRoundsAway) {
  const double ln2 = std::numbers::ln2;
  ASSERT_TRUE(zero_float("sigmoid").above && zero_double("sigmoid").above);
  EXPECT_NEAR(*zero_float("sigmoid").above, 24 * ln2, 2e-3);   // 16.636
  EXPECT_NEAR(*zero_double("sigmoid").above, 53 * ln2, 2e-3);  // 36.737
  for (const char* a : {"sigmoid", "elu", "silu", "softplus"}) {
    const slope::act::ZeroSlope f = zero_float(a), d = zero_double(a);
#if SLOPE_SIMD
    ASSERT_TRUE(f.below.has_value()) << a;
    EXPECT_TRUE(f.all_below) << a;
    EXPECT_NEAR(*f.below, -126.5 * ln2, 2e-3) << a;  // -87.683
#endif
    EXPECT_FALSE(d.below.has_value()) << a;
    if (std::string_view(a) != "sigmoid") {
      EXPECT_FALSE(f.above || d.above) << a;
    }
  }
}

// relu's slope is 0 for every x <= 0 (relu'(0) = 0, as PyTorch), leaky_relu's and the
// identity's never; the grid and the arguments are checked.
TEST(EveryActivationZeroSlope, IsWhereTheDefinitionsSay) {
  for (const slope::act::ZeroSlope& z : {zero_float("relu"), zero_double("relu")}) {
    ASSERT_TRUE(z.below.has_value());
    EXPECT_EQ(*z.below, 0.0);
    EXPECT_TRUE(z.all_below);
    EXPECT_FALSE(z.above.has_value());
  }
  for (const char* a : {"leaky_relu", "identity"})
    for (const slope::act::ZeroSlope& z : {zero_float(a), zero_double(a)}) {
      EXPECT_FALSE(z.below || z.above) << a;
      EXPECT_EQ(z.range, 128.0);
    }
  EXPECT_THROW(slope::act::zero_slope<float>(entry("gelu"), 0.0), std::invalid_argument);
  EXPECT_THROW(
      slope::act::zero_slope<float>(entry("gelu"), std::numeric_limits<double>::infinity()),
      std::invalid_argument);
  EXPECT_THROW(slope::act::zero_slope<double>(entry("gelu"), 1.0, 0), std::invalid_argument);
  EXPECT_THROW(slope::act::zero_slope<float>(slope::act::count), std::out_of_range);
  // A coarse grid finds the same boundary: bisection, not the grid, places it.
  EXPECT_EQ(*slope::act::zero_slope<float>(entry("gelu"), 16.0, 1).below,
            *zero_float("gelu").below);
}

}  // namespace

// --- the SIMD kernels against the scalar definitions ------------------------------------

namespace {

using slope_test::ulps_apart;

// x on a fine grid over [-20, 20], a coarse one out to +-1000, and the far ends themselves.
template <class T> std::vector<T> kernel_grid() {
  std::vector<T> x;
  for (int k = -2000; k <= 2000; ++k) x.push_back(static_cast<T>(k / 100.0));
  for (int k = -1000; k <= 1000; k += 7) x.push_back(static_cast<T>(k));
  for (T v : {T(-1000), T(1000), T(-0.0), T(1e-30), T(-1e-30), T(88.7), T(-88.7), T(709), T(-709)})
    x.push_back(v);
  return x;
}

// xsimd's exp, tanh, erfc, expm1 and log1p against the C library's, through each definition.

template <class T> void expect_kernels_match_scalar(const char* type, double max_ulps) {
  const std::vector<T> x = kernel_grid<T>();
  std::vector<T> out(x.size()), g(x.size(), T(1));
  slope::act::for_each([&](auto a) {
    using A = decltype(a);
    for (const bool slope : {false, true}) {
      if (slope)
        slope::act::slopes<A>(x.data(), out.data(), x.size());
      else
        slope::act::values<A>(x.data(), out.data(), x.size());
      double worst = 0;
      T worst_at = 0;
      for (std::size_t i = 0; i < x.size(); ++i) {
        const T want = slope ? A::slope(x[i]) : A::value(x[i]);
        ASSERT_FALSE(std::isnan(out[i]))
            << A::info.name << (slope ? "'" : "") << "(" << x[i] << ") " << type;
        ASSERT_EQ(std::isinf(out[i]), std::isinf(want)) << A::info.name << "(" << x[i] << ")";
        if (std::abs(want) < slope_test::kKernelTiny<T>) {
          EXPECT_LT(std::abs(out[i] - want), slope_test::kKernelTiny<T>)
              << A::info.name << "(" << x[i] << ") " << type;
          continue;
        }
        const double d = slope_test::kernel_error_ulps(out[i], want);
        if (d > worst) worst = d, worst_at = x[i];
      }
      EXPECT_LE(worst, max_ulps) << A::info.name << (slope ? " slope" : " value") << " " << type
                                 << ": " << worst << " ulps at x = " << worst_at;
    }
    // slopes_times is g * slope, the backward pass, given y = f(x) from the forward kernel
    // (sigmoid, tanh and gelu take their slope from it: the same numbers).
    std::vector<T> y(x.size()), s(x.size());
    slope::act::values<A>(x.data(), y.data(), x.size());
    slope::act::slopes<A>(x.data(), s.data(), x.size());
    for (std::size_t i = 0; i < x.size(); ++i) g[i] = T(0.5) + T(i % 7);
    slope::act::slopes_times<A>(x.data(), y.data(), g.data(), out.data(), x.size());
    for (std::size_t i = 0; i < x.size(); ++i)
      ASSERT_EQ(out[i], g[i] * s[i]) << A::info.name << "'(" << x[i] << ") " << type;
  });
}

}  // namespace

TEST(ActivationKernels, SimdEqualsTheScalarDefinitionToAFewUlpsNaNFree) {
  expect_kernels_match_scalar<float>("float", slope_test::kKernelMaxUlps);
  expect_kernels_match_scalar<double>("double", slope_test::kKernelMaxUlps);
}

#if SLOPE_SIMD
// slope's batch tanh and float erfc are xsimd's without their branch on whether any lane is
// small (kernels.cpp): the same numbers, lane for lane, on batches that mix small and large
// |x| (where xsimd takes both of its paths) and on batches that are all small or all large.
template <class T> void expect_branch_free_equals_xsimd() {
  using B = xsimd::batch<T>;
  std::vector<T> x = kernel_grid<T>();
  slope::Rng rng(7);
  for (int i = 0; i < 4096; ++i) x.push_back(static_cast<T>(rng.uniform(-3, 3)));
  for (int i = 0; i < 512; ++i) x.push_back(static_cast<T>(rng.uniform(-0.6, 0.6)));
  for (int i = 0; i < 512; ++i) x.push_back(static_cast<T>(rng.uniform(0.7, 9)));
  x.resize(x.size() / B::size * B::size);
  std::vector<T> tanh(x.size()), gelu(x.size());
  slope::act::values<slope::act::Tanh>(x.data(), tanh.data(), x.size());
  slope::act::values<slope::act::Gelu>(x.data(), gelu.data(), x.size());
  for (std::size_t i = 0; i < x.size(); i += B::size) {
    const B v = B::load_unaligned(&x[i]);
    alignas(64) T want_tanh[B::size], want_gelu[B::size];
    xsimd::tanh(v).store_aligned(want_tanh);
    // Gelu's value is x 0.5 erfc(-x / sqrt 2); a double erfc runs through the C library.
    const B arg = -v * B(T(slope::act::Gelu::kInvSqrt2));
    B erfc = xsimd::erfc(arg);
    if constexpr (std::is_same_v<T, double>) {
      alignas(64) T lanes[B::size];
      arg.store_aligned(lanes);
      for (T& l : lanes) l = std::erfc(l);
      erfc = B::load_aligned(lanes);
    }
    (v * B(T(0.5)) * erfc).store_aligned(want_gelu);
    for (std::size_t k = 0; k < B::size; ++k) {
      ASSERT_EQ(std::memcmp(&tanh[i + k], &want_tanh[k], sizeof(T)), 0)
          << "tanh(" << x[i + k] << "): " << tanh[i + k] << " against xsimd's " << want_tanh[k];
      ASSERT_EQ(std::memcmp(&gelu[i + k], &want_gelu[k], sizeof(T)), 0)
          << "gelu(" << x[i + k] << "): " << gelu[i + k] << " against " << want_gelu[k];
    }
  }
}

TEST(ActivationKernels, BranchFreeTanhAndErfcGiveXsimdsNumbers) {
  expect_branch_free_equals_xsimd<float>();
  expect_branch_free_equals_xsimd<double>();
}
#endif
