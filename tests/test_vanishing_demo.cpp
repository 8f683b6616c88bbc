// slope-vanishing (demos/vanishing.cpp, demos/vanishing_lib.cpp) on small settings:
// sigmoid stacks shrink the gradient towards layer 1, ReLU stacks under He init keep it,
// the probes are taken when they say, the update ratio is the optimizer step's, and the
// executable is reproducible, writes the CSV schemas of demos/README.md and rejects bad flags.
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "demo_test_support.hpp"

#include <slope/slope.hpp>

#include "vanishing/vanishing.hpp"

namespace fs = std::filesystem;
namespace van = slope::demo::vanishing;

namespace {

using slope::test::read;
using slope::test::TempDir;

int run_vanishing(const std::string& args, const fs::path& err) {
  return slope::test::run_program(SLOPE_VANISHING_EXE, args, "/dev/null", err);
}

van::Config small_vanishing(const std::string& act, const std::string& init, int depth) {
  van::Config c;
  c.activation = act;
  c.init = init;
  c.depth = depth;
  c.width = 32;
  c.samples = 120;
  c.steps = 0;
  return c;
}

}  // namespace

// 0.25^8, a closed form.
TEST(VanishingDemo, SigmoidBoundIsAQuarterPerSlope) {
  EXPECT_EQ(van::sigmoid_bound(8), 1.52587890625e-5);
  EXPECT_EQ(van::sigmoid_bound(1), 0.25);
}

// Each sigmoid slope is at most 1/4 (closed form), so the measured mean slopes multiply
// to at most 0.25^depth, and layer 1's gradient ends up far below the output layer's.
TEST(VanishingDemo, SigmoidStackShrinksTheGradientTowardsLayerOne) {
  const van::Run run = van::run(small_vanishing("sigmoid", "xavier_uniform", 6));
  ASSERT_EQ(run.probes.size(), 1u);
  const auto& layers = run.probes.front().layers;
  ASSERT_EQ(layers.size(), 7u);  // 6 hidden + output
  for (std::size_t l = 0; l + 1 < layers.size(); ++l) EXPECT_LE(layers[l].mean_slope, 0.25);
  EXPECT_LE(van::slope_product(layers), van::sigmoid_bound(6));
  EXPECT_LT(van::first_over_last(layers), 1e-2);
  // Each layer's gradient is smaller than the one above it.
  for (std::size_t l = 0; l + 1 < layers.size(); ++l)
    EXPECT_LT(layers[l].grad_norm, layers[l + 1].grad_norm) << "layer " << l + 1;
}

// relu's slope is 0 or 1 and He init keeps the signal's scale, so no layer's gradient
// is far from another's.
TEST(VanishingDemo, ReluStackUnderHeInitKeepsGradientsWithinAFactorOfTen) {
  const van::Run run = van::run(small_vanishing("relu", "kaiming_normal", 6));
  const auto& layers = run.probes.front().layers;
  EXPECT_LT(van::spread(layers), 10.0);
  EXPECT_GT(van::first_over_last(layers), 0.1);
  EXPECT_LT(van::first_over_last(layers), 10.0);
}

// The requirement, on the executable's default setup (spirals, width 32, depth 8,
// seed 42): sigmoid under Xavier at least 100x smaller at layer 1, relu under He within 10x.
TEST(VanishingDemo, DefaultSetupShowsBothClaims) {
  van::Config sigmoid;  // the defaults
  sigmoid.steps = 0;
  const auto sig = van::run(sigmoid).probes.front().layers;
  EXPECT_LE(van::first_over_last(sig), 0.01);

  van::Config relu = sigmoid;
  relu.activation = "relu";
  relu.init = "kaiming_normal";
  const auto rel = van::run(relu).probes.front().layers;
  EXPECT_LE(van::spread(rel), 10.0);
  EXPECT_GE(van::first_over_last(rel), 0.1);
}

TEST(VanishingDemo, RatioAndSpreadAreMeasuredFromTheGradientNorms) {
  std::vector<slope::probe::LayerStats> layers(3);
  layers[0].grad_norm = 0.5, layers[1].grad_norm = 4.0, layers[2].grad_norm = 2.0;
  EXPECT_EQ(van::first_over_last(layers), 0.25);
  EXPECT_EQ(van::spread(layers), 8.0);
}

TEST(VanishingDemo, ProbesAtStepZeroEveryFewStepsAndTheEnd) {
  van::Config c = small_vanishing("tanh", "xavier_uniform", 2);
  c.steps = 12;
  c.probe_every = 5;
  const van::Run run = van::run(c);
  std::vector<std::size_t> steps;
  for (const van::Probe& p : run.probes) steps.push_back(p.step);
  EXPECT_EQ(steps, (std::vector<std::size_t>{0, 5, 10, 12}));
  ASSERT_EQ(run.curves.size(), 2 * steps.size());  // train and test at each
  for (const van::Probe& p : run.probes)
    for (const auto& s : p.layers) {
      if (p.step == 12)
        EXPECT_TRUE(std::isnan(s.update_ratio));  // no update follows the last step
      else
        EXPECT_GT(s.update_ratio, 0.0);
    }
}

// SGD's first update is -lr * grad, so layer l's update ratio at step 0 is
// std(lr * g) / std(W - lr * g), recomputed here from the same initial model.
TEST(VanishingDemo, UpdateRatioIsTheFirstSgdStepsRelativeSize) {
  van::Config c = small_vanishing("relu", "kaiming_normal", 3);
  c.steps = 1;
  c.lr = 0.3;
  const van::Run run = van::run(c);

  const van::Split split = van::make_data(c);
  slope::Rng rng(c.seed + 1);
  const slope::nn::MLP model({2, 32, 32, 32, 3}, "relu", slope::nn::Init::kaiming_normal(), rng);
  slope::cross_entropy(model.forward(split.train.features<float>()), split.train.y).backward();
  auto std_dev = [](const Eigen::MatrixXd& m) {
    return std::sqrt((m.array() - m.mean()).square().mean());
  };
  for (std::size_t l = 0; l < model.depth(); ++l) {
    const Eigen::MatrixXd g = model.linear(l).weight.grad().cast<double>();
    const Eigen::MatrixXd w = model.linear(l).weight.value().cast<double>();
    const double expected = std_dev(c.lr * g) / std_dev(w - c.lr * g);
    EXPECT_NEAR(run.probes.front().layers[l].update_ratio, expected, 1e-3 * expected)
        << "layer " << l + 1;
  }
}

TEST(VanishingDemo, DivergenceNamesTheStepAndTheLayer) {
  van::Config c = small_vanishing("identity", "normal(10)", 8);
  c.steps = 50;
  c.lr = 100;
  const van::Run run = van::run(c);
  ASSERT_TRUE(run.diverged.has_value()) << "expected the run to diverge";
  const std::string msg = run.diverged->message();
  EXPECT_NE(msg.find("step "), std::string::npos) << msg;
  EXPECT_NE(msg.find("layer "), std::string::npos) << msg;
  // The run stops at its first non-finite step; what came before is kept.
  EXPECT_LT(run.diverged->step, c.steps);
  for (const van::Probe& p : run.probes) EXPECT_LT(p.step, run.diverged->step);
}

// --act all under the defaults: the identity stack under He init diverges within a few
// steps. It is reported (stderr, runs.csv), every other run's outputs are written, and
// the exit status is 3.
TEST(VanishingDemo, ActAllWritesEverythingAndExitsThreeWhenIdentityDiverges) {
  TempDir tmp;
  const fs::path out = tmp.path() / "o", err = tmp.path() / "err";
  EXPECT_EQ(run_vanishing("--act all --steps 30 --probe-every 10 --width 16 --samples 100 --out '" +
                              out.string() + "'",
                          err),
            3);
  const std::string msg = read(err);
  EXPECT_NE(msg.find("identity depth 8 (kaiming_normal init): diverged at step"), std::string::npos)
      << msg;
  for (const char* init : {"xavier_uniform", "kaiming_normal"})
    for (const char* f : {"layers.csv", "curves.csv", "runs.csv"})
      EXPECT_TRUE(fs::exists(out / init / f)) << init << "/" << f;
  const std::string runs = read(out / "kaiming_normal" / "runs.csv");
  EXPECT_NE(runs.find("kaiming_normal,identity,8,42,diverged,"), std::string::npos) << runs;
  EXPECT_NE(runs.find("kaiming_normal,relu,8,42,ok,"), std::string::npos) << runs;
  EXPECT_NE(read(out / "kaiming_normal" / "curves.csv").find("softplus,8,42,30,test,"),
            std::string::npos);
}

TEST(VanishingDemo, SameSeedGivesByteIdenticalCsvWithTheDesignSchemas) {
  TempDir tmp;
  const fs::path a = tmp.path() / "a", b = tmp.path() / "b", c = tmp.path() / "c";
  const fs::path err = tmp.path() / "err";
  const std::string args =
      "--steps 4 --probe-every 2 --depth 3,4 --width 8 --samples 60 --act relu,sigmoid ";
  ASSERT_EQ(run_vanishing(args + "--seed 5 --out '" + a.string() + "'", err), 0) << read(err);
  ASSERT_EQ(run_vanishing(args + "--seed 5 --out '" + b.string() + "'", err), 0) << read(err);
  ASSERT_EQ(run_vanishing(args + "--seed 6 --out '" + c.string() + "'", err), 0) << read(err);
  for (const char* init : {"xavier_uniform", "kaiming_normal"})
    for (const char* f : {"layers.csv", "curves.csv"}) {
      const fs::path rel = fs::path(init) / f;
      ASSERT_TRUE(fs::exists(a / rel)) << rel;
      EXPECT_EQ(read(a / rel), read(b / rel)) << rel;
      EXPECT_NE(read(a / rel), read(c / rel)) << rel;
    }
  const std::string layers = read(a / "xavier_uniform" / "layers.csv");
  EXPECT_TRUE(layers.starts_with(
      "activation,depth,seed,step,layer,grad_norm,act_mean,act_std,saturated_frac,dead_frac,"
      "mean_slope,update_ratio\n"));
  // 2 activations x (depth 3 + 4 + 2 output layers) x probes at steps 0, 2, 4.
  EXPECT_EQ(std::count(layers.begin(), layers.end(), '\n'), 1 + 2 * (4 + 5) * 3);
  const std::string curves = read(a / "kaiming_normal" / "curves.csv");
  EXPECT_TRUE(curves.starts_with("activation,depth,seed,step,split,loss,accuracy\n"));
  EXPECT_EQ(std::count(curves.begin(), curves.end(), '\n'), 1 + 2 * 2 * 3 * 2);
  const std::string summary = read(a / "summary.csv");
  for (const char* key :
       {"\nratio.xavier_uniform.sigmoid.3,", "\nspread.kaiming_normal.relu.4,", "\nbound.3,",
        "\nbound.4,", "\ntrain_acc.kaiming_normal.sigmoid.4,", "\ntest_acc.xavier_uniform.relu.3,"})
    EXPECT_NE(summary.find(key), std::string::npos) << key;
}

TEST(VanishingDemo, BadFlagsExitWithStatusTwoAndOneLine) {
  TempDir tmp;
  const fs::path err = tmp.path() / "err";
  const std::string out = " --out '" + (tmp.path() / "out").string() + "'";
  for (const std::string args :
       {"--bogus", "--act nonesuch", "--depth 8,x", "--depth 0", "--init bogus", "--optim rmsprop",
        "--steps -1", "--data nowhere", "--width 0"}) {
    EXPECT_EQ(run_vanishing(args + out, err), 2) << args;
    const std::string msg = read(err);
    EXPECT_EQ(std::count(msg.begin(), msg.end(), '\n'), 1) << args << ": " << msg;
    EXPECT_TRUE(msg.starts_with("slope-vanishing: ")) << msg;
  }
  EXPECT_EQ(run_vanishing("--help", err), 0);
  EXPECT_EQ(read(err), "");
}

namespace {
// Under the defaults no run of the lesson's four activations diverges, and the two late
// collapses seen at sgd lr 0.1 (GELU under He init from 99% to 30% at step 198, tanh under
// Xavier from 90% to 61%) are gone: their final training accuracy is within 5 points of
// their best. Full-batch SGD on spirals still wanders (relu under Xavier peaks near step 80),
// so the table prints the best accuracy and its step beside the final one.
TEST(VanishingDemo, DefaultsTrainTheLessonsActivationsWithoutLateCollapse) {
#if defined(__SANITIZE_ADDRESS__)
  // Eight full default runs check numbers, not memory (a minute under ASan; the small runs
  // above take the same code paths there); the release preset runs it.
  GTEST_SKIP() << "the release preset checks the defaults' numbers";
#endif
  for (const char* init : {"xavier_uniform", "kaiming_normal"})
    for (const char* act : {"relu", "sigmoid", "tanh", "gelu"}) {
      van::Config c;
      c.init = init, c.activation = act;
      c.lr = slope::demo::default_lr(c.optim);
      const van::Run run = van::run(c);
      ASSERT_FALSE(run.diverged.has_value()) << act << " " << init;
      double final_acc = 0;
      for (const van::Curve& p : run.curves)
        if (p.split == "train" && p.step == c.steps) final_acc = p.accuracy;
      EXPECT_LE(final_acc, run.best_train_accuracy);
      const std::string which = std::string(act) + " " + init;
      if (which == "gelu kaiming_normal" || which == "tanh xavier_uniform") {
        EXPECT_GE(final_acc, run.best_train_accuracy - 0.05)
            << which << ": best " << run.best_train_accuracy << " at step " << run.best_step;
      }
    }
}
}  // namespace

namespace {

// Glorot and Bengio (2010), Figure 2: with sigmoid under the "standard" init
// U(-1/sqrt(n), 1/sqrt(n)) (pytorch's), the top hidden layer's mean activation falls
// towards 0 early in training while the layers below stay near 0.5, and recovers slowly.
TEST(VanishingDemo, SigmoidsTopHiddenLayerSaturatesEarlyAsGlorotAndBengioSaw) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "a 1000-step run checks numbers, not memory; the release preset runs it";
#endif
  van::Config c;
  c.activation = "sigmoid";
  c.init = "pytorch";
  c.depth = 4;
  c.lr = 4;
  c.steps = 1000;
  c.probe_every = 10;
  const van::Run run = van::run(c);
  ASSERT_FALSE(run.diverged.has_value());
  const van::TopLayer top = van::top_hidden_layer(run, 4);
  EXPECT_NEAR(top.start, 0.5, 0.05);    // measured 0.498
  EXPECT_LT(top.lowest, 0.05);          // measured 0.003
  EXPECT_LE(top.lowest_step, 200u);     // early: measured step 50 to 60
  EXPECT_GT(top.last, top.lowest * 3);  // recovering by step 1000: measured 0.095
  EXPECT_GT(top.below_min, 0.25);       // the layers below stay near 0.5: measured 0.32 to 0.77
  EXPECT_LT(top.below_max, 0.85);
}

TEST(VanishingDemo, TopHiddenLayerReadsTheProbesOfTheTopLayer) {
  van::Run run;
  for (std::size_t step : {0u, 10u, 20u}) {
    van::Probe p;
    p.step = step;
    for (int l = 1; l <= 3; ++l) {  // two hidden layers and the output layer
      slope::probe::LayerStats s;
      s.layer = l;
      s.act_mean = l == 2 ? (step == 10 ? 0.1 : 0.5) : 0.4 + 0.01 * static_cast<double>(step);
      p.layers.push_back(s);
    }
    run.probes.push_back(p);
  }
  const van::TopLayer t = van::top_hidden_layer(run, 2);
  EXPECT_EQ(t.start, 0.5);
  EXPECT_EQ(t.lowest, 0.1);
  EXPECT_EQ(t.lowest_step, 10u);
  EXPECT_EQ(t.last, 0.5);
  EXPECT_EQ(t.last_step, 20u);
  EXPECT_DOUBLE_EQ(t.below_min, 0.4);
  EXPECT_DOUBLE_EQ(t.below_max, 0.6);
}

}  // namespace
