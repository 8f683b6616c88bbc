// demos/web/session.cpp, natively: what the browser pages compute. A session's step by
// step run gives exactly slope-curves' numbers for the same settings (the page's run is
// checked against the native one in the browser test, tests/web/); its probes, dead-unit
// counts and grid predictions agree with the engine's own; bad settings name themselves.
#include <cmath>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "curves/curves.hpp"
#include "web/session.hpp"

namespace {

namespace cv = slope::demo::curves;
namespace web = slope::web;

// The curves run of these settings, one record per step and split.
std::vector<cv::Record> native_run(const web::Settings& s, int steps) {
  cv::Config c;
  static_cast<slope::demo::RunConfig&>(c) = s;  // the page's run is a run of the demos
  c.activations = {s.activation};
  c.seeds = 1;
  c.steps = static_cast<std::size_t>(steps);
  c.eval_every = 1;
  return cv::train_run(c, cv::load_data(c), s.activation, s.seed);
}

void expect_same_as_curves(const web::Settings& s, int steps) {
  const std::vector<cv::Record> native = native_run(s, steps);
  ASSERT_EQ(native.size(), 2u * static_cast<std::size_t>(steps + 1));
  web::Session session(s);
  for (int k = 0; k <= steps; ++k) {
    const web::StepReport r = session.step();
    ASSERT_EQ(r.step, static_cast<std::size_t>(k));
    // curves.csv lists step k's train row, then its test row.
    const cv::Record& train = native[2 * k];
    const cv::Record& test = native[2 * k + 1];
    ASSERT_EQ(train.split, "train");
    ASSERT_EQ(test.split, "test");
    EXPECT_EQ(r.train_loss, train.loss) << "step " << k;
    EXPECT_EQ(r.train_accuracy, train.accuracy) << "step " << k;
    EXPECT_EQ(r.test_loss, test.loss) << "step " << k;
    EXPECT_EQ(r.test_accuracy, test.accuracy) << "step " << k;
  }
}

TEST(WebSession, StepByStepIsSlopeCurvesRun) {
  web::Settings s;
  s.data = "moons";
  s.activation = "relu";
  s.depth = 3;
  s.width = 8;
  s.samples = 80;
  expect_same_as_curves(s, 25);
}

TEST(WebSession, SameWithSgdSigmoidAndAnotherSeed) {
  web::Settings s;
  s.data = "spirals";
  s.activation = "sigmoid";
  s.optim = "sgd";
  s.lr = 0.5;
  s.depth = 2;
  s.width = 12;
  s.samples = 90;
  s.seed = 7;
  s.init = "kaiming_normal";
  expect_same_as_curves(s, 20);
}

TEST(WebSession, ProbesAreTheEnginesOwn) {
  web::Settings s;
  s.activation = "sigmoid";
  s.depth = 16;
  s.width = 8;
  s.samples = 60;
  web::Session session(s);
  const web::StepReport r = session.step();
  ASSERT_EQ(r.layers.size(), 17u);  // 16 hidden layers and the output layer
  ASSERT_EQ(r.dead.size(), 16u);
  for (const auto& d : r.dead) EXPECT_EQ(d.size(), 8u);
  // The lesson's picture: sigmoid's first layer's gradient is far below the last one's.
  EXPECT_LT(r.layers.front().grad_norm * 100, r.layers.back().grad_norm);
  for (const auto& l : r.layers) EXPECT_GT(l.update_ratio, 0);  // Adam moved every layer
  EXPECT_EQ(session.steps_taken(), 1u);
}

TEST(WebSession, CountsDeathsAndRevivals) {
  // Every bias at -10 with weights of std ~0.5: every first-layer unit's pre-activation is
  // negative on every point, so every hidden unit is dead from step 0 (and stays so: no
  // gradient reaches a dead unit's weights).
  web::Settings s;
  s.activation = "relu";
  s.bias = -10;
  s.depth = 2;
  s.width = 6;
  web::Session session(s);
  web::StepReport r = session.step();
  for (const auto& layer : r.dead)
    for (bool d : layer) EXPECT_TRUE(d);
  EXPECT_EQ(r.deaths, 0u);  // dead at step 0 is not a death during training
  EXPECT_EQ(r.layers[0].dead_frac, 1.0);
  r = session.step();
  EXPECT_EQ(r.deaths, 0u);
  EXPECT_EQ(r.revivals, 0u);

  // With sgd at a huge rate, units that were alive die: deaths count them.
  web::Settings k;
  k.activation = "relu";
  k.optim = "sgd";
  k.lr = 30;
  k.data = "spirals";
  k.depth = 3;
  k.width = 16;
  k.init = "kaiming_normal";
  web::Session killer(k);
  const web::StepReport first = killer.step();
  std::size_t dead_at_start = 0;
  for (const auto& layer : first.dead)
    for (bool d : layer) dead_at_start += d;
  web::StepReport last = first;
  for (int i = 0; i < 30 && !killer.diverged(); ++i) last = killer.step();
  std::size_t dead_now = 0;
  for (const auto& layer : last.dead)
    for (bool d : layer) dead_now += d;
  EXPECT_GT(dead_now, dead_at_start);
  EXPECT_GE(last.deaths, dead_now - dead_at_start);  // each net death was counted
  EXPECT_EQ(last.deaths - last.revivals, dead_now - dead_at_start);
}

TEST(WebSession, GridPredictionsAreTheModelsSoftmax) {
  web::Settings s;
  s.data = "spirals";  // three classes
  s.depth = 2;
  s.width = 8;
  web::Session session(s);
  session.step();
  const std::vector<float> p = session.predict_grid(3, -1, 1, -2, 2);
  ASSERT_EQ(p.size(), 3u * 3u * 3u);
  // Grid point (row 2, column 0) is (x0, y1) = (-1, 2).
  const slope::Tensor at = slope::softmax(session.model().forward(slope::Tensor::from({{-1, 2}})));
  for (int c = 0; c < 3; ++c) EXPECT_FLOAT_EQ(p[(2 * 3 + 0) * 3 + c], at.value()(0, c));
  for (int i = 0; i < 9; ++i) EXPECT_NEAR(p[i * 3] + p[i * 3 + 1] + p[i * 3 + 2], 1.0, 1e-6);
  EXPECT_THROW(session.predict_grid(0, -1, 1, -1, 1), std::invalid_argument);
}

TEST(WebSession, BadSettingsNameThemselves) {
  auto message = [](auto change) {
    web::Settings s;
    change(s);
    try {
      web::Session session(s);
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message([](auto& s) { s.data = "rings"; }).find("unknown data set 'rings'"),
            std::string::npos);
  EXPECT_NE(message([](auto& s) { s.depth = 33; }).find("depth must be in 1..32"),
            std::string::npos);
  EXPECT_NE(message([](auto& s) { s.width = 0; }).find("width must be in 1..64"),
            std::string::npos);
  EXPECT_NE(message([](auto& s) { s.activation = "relu6"; }).find("unknown activation 'relu6'"),
            std::string::npos);
  EXPECT_NE(message([](auto& s) { s.optim = "rmsprop"; }).find("unknown optimizer 'rmsprop'"),
            std::string::npos);
  EXPECT_NE(message([](auto& s) { s.init = "orthogonal"; }).find("orthogonal"), std::string::npos);
  EXPECT_NE(message([](auto& s) { s.test_fraction = 1; }).find("test_fraction"), std::string::npos);
}

TEST(WebSession, DivergenceStopsTheRun) {
  web::Settings s;
  s.optim = "sgd";
  s.lr = 1e9;
  s.activation = "relu";
  web::Session session(s);
  for (int i = 0; i < 10 && !session.diverged(); ++i) session.step();
  ASSERT_TRUE(session.diverged().has_value());
  EXPECT_NE(session.diverged()->find("diverged at step"), std::string::npos);
  EXPECT_THROW(session.step(), std::logic_error);
}

TEST(WebSession, NoTestSetMeansNoTestLoss) {
  web::Settings s;
  s.test_fraction = 0;
  web::Session session(s);
  const web::StepReport r = session.step();
  EXPECT_TRUE(std::isnan(r.test_loss));
  EXPECT_TRUE(std::isfinite(r.train_loss));
  EXPECT_EQ(session.train_set().n, s.samples);
}

TEST(WebSession, OptimizerByNameNamesAnUnknownOneWhateverTheRate) {
  const std::vector<slope::Tensor> params{slope::Tensor::zeros(1, 1, true)};
  EXPECT_THROW(slope::demo::Optimizer("rmsprop", params, 0.1), std::invalid_argument);
  EXPECT_THROW(slope::demo::Optimizer("rmsprop", params), std::invalid_argument);
  EXPECT_EQ(slope::demo::Optimizer("sgd", params, 0.3).lr(), 0.3);
  EXPECT_EQ(slope::demo::Optimizer("adam", params).lr(), 0.01);
}

TEST(WebWidget, CurveIsTheCatalogueDefinition) {
  const std::size_t sig = slope::act::find("sigmoid");
  const web::Curve c = web::curve(sig, -4, 4, 9);
  ASSERT_EQ(c.x.size(), 9u);
  for (std::size_t i = 0; i < 9; ++i) {
    const double x = -4.0 + static_cast<double>(i);
    EXPECT_DOUBLE_EQ(c.x[i], x);
    EXPECT_DOUBLE_EQ(c.value[i], 1 / (1 + std::exp(-x)));
    EXPECT_DOUBLE_EQ(c.slope[i], c.value[i] * (1 - c.value[i]));
  }
  EXPECT_THROW(web::curve(slope::act::count, -1, 1, 5), std::out_of_range);
  EXPECT_THROW(web::curve(sig, 1, -1, 5), std::invalid_argument);
}

TEST(WebWidget, ChainGradientIsTheProductOfSlopes) {
  const std::size_t sig = slope::act::find("sigmoid");
  auto s = [](double x) { return 1 / (1 + std::exp(-x)); };
  EXPECT_DOUBLE_EQ(web::chain_gradient(sig, 0, 1), 0.25);
  // x -> s(x) -> s(s(x)): s'(0) * s'(s(0)) = 0.25 * s(0.5) (1 - s(0.5)).
  EXPECT_NEAR(web::chain_gradient(sig, 0, 2), 0.25 * s(0.5) * (1 - s(0.5)), 1e-15);
  // Below the bound 0.25^L at every depth, and far below it deep down.
  for (int L = 2; L <= 32; ++L) EXPECT_LT(web::chain_gradient(sig, 0, L), std::pow(0.25, L));
  EXPECT_DOUBLE_EQ(web::chain_gradient(slope::act::find("relu"), 1.5, 32), 1.0);
  EXPECT_THROW(web::chain_gradient(sig, 0, 0), std::invalid_argument);
}

}  // namespace
