// slope-explorer (demos/explorer/): the explorer's
// measurements agree with closed forms and published values, the kink of relu(w x + b) is
// found at -b/w, runs are reproducible, and bad input exits with status 2.
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <utility>

#include <gtest/gtest.h>

#include "demo_test_support.hpp"

#include <slope/activations.hpp>

#include "explorer/explorer.hpp"
#include "support/summary.hpp"

namespace fs = std::filesystem;
namespace ex = slope::demo::explorer;
namespace act = slope::act;

namespace {

using slope::test::read;
using slope::test::TempDir;

// Runs slope-explorer with `args`; stdout into `out`, stderr into `err`.
int run_activations(const std::string& args, const fs::path& out, const fs::path& err) {
  return slope::test::run_program(SLOPE_EXPLORER_EXE, args, out, err);
}

}  // namespace

TEST(Explorer, GridRunsFromMinusSixToSixInHundredths) {
  EXPECT_EQ(ex::grid_x(0), -6.0);
  EXPECT_EQ(ex::grid_x(600), 0.0);  // exactly, not 1e-16
  EXPECT_EQ(ex::grid_x(ex::kGridPoints - 1), 6.0);
  EXPECT_DOUBLE_EQ(ex::grid_x(150), -4.5);
}

// Closed forms: sigmoid' = s(1 - s) peaks at 0 with 1/4; tanh' = 1 - tanh^2 at 0 with 1.
TEST(Explorer, SigmoidMaxSlopeIsAQuarterAtZero) {
  const act::MaxSlope p = act::max_slope(act::get("sigmoid"));
  EXPECT_EQ(p.slope, 0.25);
  EXPECT_EQ(p.at, 0.0);
  EXPECT_EQ(p.last_at, 0.0);
  EXPECT_FALSE(p.at_edge);
}

TEST(Explorer, TanhMaxSlopeIsOneAtZero) {
  const act::MaxSlope p = act::max_slope(act::get("tanh"));
  EXPECT_EQ(p.slope, 1.0);
  EXPECT_EQ(p.at, 0.0);
  EXPECT_EQ(p.last_at, 0.0);
}

TEST(Explorer, ReluMaxSlopeIsOneForEveryPositiveX) {
  const act::MaxSlope p = act::max_slope(act::get("relu"));
  EXPECT_EQ(p.slope, 1.0);
  EXPECT_DOUBLE_EQ(p.at, 0.001);  // the first grid point right of the kink
  EXPECT_EQ(p.last_at, 10.0);
}

TEST(Explorer, SoftplusSlopeStillRisesAtTheGridEdge) {
  const act::MaxSlope p = act::max_slope(act::get("softplus"));
  EXPECT_TRUE(p.at_edge);
  EXPECT_NEAR(p.slope, 1.0 / (1.0 + std::exp(-10.0)), 1e-15);  // sigmoid(10)
}

// Published value: GELU's minimum is -0.169971207479904 at x = -0.751791524693564.
TEST(Explorer, GeluMinimumWithinTheGridResolution) {
  const ex::Extremes r = ex::extremes(act::get("gelu"));
  EXPECT_NEAR(r.min_at, -0.751791524693564, ex::kGridStep / 2);
  EXPECT_NEAR(r.min_value, -0.169971207479904, 1e-5);
  EXPECT_GE(r.min_value, -0.169971207479904);  // the grid can only miss the minimum upward
}

TEST(Explorer, SigmoidRangeOnTheGridIsInsideZeroOne) {
  const ex::Extremes r = ex::extremes(act::get("sigmoid"));
  EXPECT_NEAR(r.min_value, 1 / (1 + std::exp(6.0)), 1e-15);
  EXPECT_NEAR(r.max_value, 1 / (1 + std::exp(-6.0)), 1e-15);
  EXPECT_EQ(r.min_at, -6.0);
  EXPECT_EQ(r.max_at, 6.0);
}

TEST(Explorer, KinkOfReluNeuronIsAtMinusBOverW) {
  const std::pair<double, double> cases[] = {{2, 1},   {-2, 1},  {0.5, -3},    {3, 0},
                                             {1, -6},  {1, 6},   {-0.7, -2.1}, {1e-3, 0.5},
                                             {1e6, 1}, {-5, 37}, {0.3, 0.1}};
  for (const auto& [w, b] : cases) {
    const std::optional<ex::Kink> k = ex::locate_kink({w, b});
    ASSERT_TRUE(k.has_value()) << w << " " << b;
    const double expected = -b / w;
    EXPECT_NEAR(k->x, expected, 1e-9 * std::max(1.0, std::abs(expected))) << w << " " << b;
    EXPECT_LE(k->left, k->x) << w << " " << b;
    EXPECT_GE(k->right, k->x) << w << " " << b;
    // d/dx relu(w x + b) is w on the active side, 0 on the other.
    EXPECT_EQ(k->slope_left, w > 0 ? 0.0 : w) << w << " " << b;
    EXPECT_EQ(k->slope_right, w > 0 ? w : 0.0) << w << " " << b;
  }
}

TEST(Explorer, ConstantNeuronHasNoKink) {
  EXPECT_FALSE(ex::locate_kink({0.0, 1.0}).has_value());
  EXPECT_FALSE(ex::locate_kink({0.0, -1.0}).has_value());
}

// The lesson's bound: 0.25^8 = 1.52587890625e-5 (a closed form).
TEST(Explorer, VanishingProductIsAQuarterToTheL) {
  const std::vector<ex::BoundRow> rows = ex::vanishing_bound(32);
  ASSERT_EQ(rows.size(), 32u);
  double quarter_to_the_l = 1.0;
  for (const ex::BoundRow& r : rows) {
    quarter_to_the_l /= 4;  // exact in binary floating point
    EXPECT_EQ(r.bound, quarter_to_the_l) << r.layers;
    EXPECT_NEAR(r.measured_product / quarter_to_the_l, 1.0, 1e-12) << r.layers;
  }
  EXPECT_EQ(rows[7].bound, 1.52587890625e-5);
}

TEST(Explorer, SigmoidByHandMatchesTheClosedForm) {
  const ex::SigmoidSteps s = ex::sigmoid_by_hand(1.5);
  EXPECT_NEAR(s.exp_neg_x, 0.22313016014842982, 1e-15);  // e^-1.5
  EXPECT_NEAR(s.denominator, 1.22313016014842982, 1e-15);
  EXPECT_NEAR(s.value, 0.8175744761936437, 1e-15);
  EXPECT_NEAR(s.value, act::get("sigmoid").value(1.5), 1e-15);
}

TEST(ExplorerDemo, SameSeedGivesByteIdenticalCsvAndTheReportsKeys) {
  TempDir tmp;
  const fs::path a = tmp.path() / "a", b = tmp.path() / "b";
  const fs::path out = tmp.path() / "stdout", err = tmp.path() / "stderr";
  ASSERT_EQ(run_activations("--seed 3 --out '" + a.string() + "'", out, err), 0) << read(err);
  ASSERT_EQ(run_activations("--seed 3 --out '" + b.string() + "'", out, err), 0) << read(err);
  for (const char* f : {"activations.csv", "hinge.csv", "vanishing_bound.csv", "summary.csv"}) {
    ASSERT_TRUE(fs::exists(a / f)) << f;
    EXPECT_EQ(read(a / f), read(b / f)) << f;
  }
  const std::string csv = read(a / "activations.csv");
  EXPECT_TRUE(csv.starts_with("activation,x,value,slope\nidentity,-6,-6,1\n"));
  EXPECT_NE(csv.find("\nsigmoid,0,0.5,0.25\n"), std::string::npos);
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'),
            1 + 1201 * static_cast<long>(slope::act::count));
  EXPECT_TRUE(
      read(a / "vanishing_bound.csv").starts_with("layers,bound,measured_product\n1,0.25,0.25\n"));

  const auto summary = slope::demo::Summary::read(a).values();
  for (const char* k :
       {"kink_weight", "kink_bias", "kink_x_formula", "kink_x_measured", "kink_slope_left",
        "kink_slope_right", "slope_at_-1.gelu", "value_at_-1.gelu", "min_value.gelu", "min_at.gelu",
        "sigmoid_product.8", "bound.8"})
    EXPECT_TRUE(summary.contains(k)) << k;
  for (const std::string& name : slope::activations())
    for (const char* k :
         {"max_slope.", "max_slope_at.", "slope_at_0.", "value_at_0.", "range_min.", "range_max."})
      EXPECT_TRUE(summary.contains(k + name)) << k << name;
  EXPECT_EQ(summary.at("kink_x_formula"), -0.5);
  EXPECT_EQ(summary.at("kink_x_measured"), -0.5);
  EXPECT_EQ(summary.at("kink_slope_left"), 0.0);
  EXPECT_EQ(summary.at("kink_slope_right"), 2.0);
  EXPECT_EQ(summary.at("max_slope.sigmoid"), 0.25);
  EXPECT_EQ(summary.at("max_slope_at.sigmoid"), 0.0);
  EXPECT_NEAR(summary.at("bound.8"), 1.52587890625e-5, 1e-14);  // summary.csv keeps 10 digits
  EXPECT_NEAR(summary.at("sigmoid_product.8"), 1.52587890625e-5, 1e-14);
  // Closed forms: GELU(-1) and GELU'(-1), to the 10 digits summary.csv keeps.
  EXPECT_NEAR(summary.at("value_at_-1.gelu"), -0.158655253931457, 1e-9);
  EXPECT_NEAR(summary.at("slope_at_-1.gelu"), -0.0833154705876863, 1e-9);
  EXPECT_NE(read(out).find("sigmoid: max slope 0.25 at x = 0\n"), std::string::npos);
  for (const char* plot : {"activation_relu.gnuplot", "activations.gnuplot", "hinge.gnuplot"})
    EXPECT_TRUE(fs::exists(a / plot)) << plot;
}

TEST(ExplorerDemo, ZeroWeightIsAConstantNotAnError) {
  TempDir tmp;
  const fs::path out = tmp.path() / "stdout", err = tmp.path() / "stderr";
  ASSERT_EQ(
      run_activations("--act relu --weight 0 --bias 1 --out '" + (tmp.path() / "o").string() + "'",
                      out, err),
      0)
      << read(err);
  EXPECT_NE(read(out).find("no kink"), std::string::npos) << read(out);
}

TEST(ExplorerDemo, BadFlagsExitWithStatusTwoAndOneLine) {
  TempDir tmp;
  const fs::path out = tmp.path() / "stdout", err = tmp.path() / "stderr";
  const std::string dir = " --out '" + (tmp.path() / "o").string() + "'";
  for (const std::string args : {"--bogus", "--act nonesuch", "--act relu,nonesuch", "--weight two",
                                 "--weight nan", "--x inf", "stray"}) {
    EXPECT_EQ(run_activations(args + dir, out, err), 2) << args;
    const std::string msg = read(err);
    EXPECT_EQ(std::count(msg.begin(), msg.end(), '\n'), 1) << args << ": " << msg;
    EXPECT_TRUE(msg.starts_with("slope-explorer: ")) << msg;
  }
  EXPECT_EQ(run_activations("--act nonesuch" + dir, out, err), 2);
  EXPECT_NE(read(err).find("nonesuch"), std::string::npos) << read(err);
}
