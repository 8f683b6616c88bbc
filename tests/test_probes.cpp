// slope::probe on tiny MLPs whose weights are set by hand, so every statistic the
// lesson reports (grad_norm, act_mean, act_std, saturated_frac, dead_frac, mean_slope,
// update_ratio) is recomputed here by plain loops from closed forms.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <stdexcept>
#include <vector>

#include <slope/slope.hpp>

namespace {

using slope::TensorD;
using M = TensorD::Matrix;

// An activation written independently of the catalogue: its value, slope and the
// maximum of |slope| (closed forms).
struct Fn {
  std::function<double(double)> f, df;
  double max_slope;
};
const Fn kRelu{[](double z) { return z > 0 ? z : 0.0; }, [](double z) { return z > 0 ? 1.0 : 0.0; },
               1.0};
const Fn kSigmoid{[](double z) { return 1 / (1 + std::exp(-z)); },
                  [](double z) { return std::exp(-z) / ((1 + std::exp(-z)) * (1 + std::exp(-z))); },
                  0.25};
const Fn kIdentity{[](double z) { return z; }, [](double) { return 1.0; }, 1.0};

struct Expected {
  double grad_norm, act_mean, act_std, saturated_frac, dead_frac, mean_slope;
};

// Statistics of one layer from its pre-activations z (samples x units) and dL/dW.
Expected stats(const std::vector<std::vector<double>>& z, const Fn& fn,
               const std::vector<std::vector<double>>& dw) {
  const std::size_t n = z.size(), units = z[0].size();
  double sum = 0, slope_sum = 0, saturated = 0, dead = 0, g2 = 0;
  for (const auto& r : dw)
    for (double g : r) g2 += g * g;
  for (std::size_t j = 0; j < units; ++j) {
    bool all_zero = true;
    for (std::size_t i = 0; i < n; ++i) {
      const double d = std::abs(fn.df(z[i][j]));
      sum += fn.f(z[i][j]);
      slope_sum += d;
      saturated += d < 0.05 * fn.max_slope;
      all_zero = all_zero && d == 0;
    }
    dead += all_zero;
  }
  const double pairs = static_cast<double>(n * units), mean = sum / pairs;
  double var = 0;
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < units; ++j) var += std::pow(fn.f(z[i][j]) - mean, 2);
  return {std::sqrt(g2),          mean,
          std::sqrt(var / pairs),  // population std, as numpy's default
          saturated / pairs,      dead / static_cast<double>(units),
          slope_sum / pairs};
}

// A one-hidden-layer network in plain loops: z1 = x W1^T + b1, h = f(z1),
// out = h W2^T + b2, L = mean((out - t)^2); returns the statistics of both layers.
std::vector<Expected> reference(const M& x, const M& w1, const M& b1, const M& w2, const M& b2,
                                const M& t, const Fn& fn) {
  const auto n = static_cast<std::size_t>(x.rows()), in = static_cast<std::size_t>(x.cols()),
             hid = static_cast<std::size_t>(w1.rows());
  std::vector<std::vector<double>> z1(n, std::vector<double>(hid)), out(n, std::vector<double>(1));
  std::vector<std::vector<double>> dw1(hid, std::vector<double>(in, 0.0)),
      dw2(1, std::vector<double>(hid, 0.0));
  for (std::size_t i = 0; i < n; ++i) {
    double o = b2(0, 0);
    for (std::size_t j = 0; j < hid; ++j) {
      double s = b1(0, static_cast<Eigen::Index>(j));
      for (std::size_t k = 0; k < in; ++k)
        s += w1(static_cast<Eigen::Index>(j), static_cast<Eigen::Index>(k)) *
             x(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(k));
      z1[i][j] = s;
      o += w2(0, static_cast<Eigen::Index>(j)) * fn.f(s);
    }
    out[i][0] = o;
    const double dout = 2 * (o - t(static_cast<Eigen::Index>(i), 0)) / static_cast<double>(n);
    for (std::size_t j = 0; j < hid; ++j) {
      dw2[0][j] += dout * fn.f(z1[i][j]);
      const double dz = dout * w2(0, static_cast<Eigen::Index>(j)) * fn.df(z1[i][j]);
      for (std::size_t k = 0; k < in; ++k)
        dw1[j][k] += dz * x(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(k));
    }
  }
  return {stats(z1, fn, dw1), stats(out, kIdentity, dw2)};
}

void expect_stats(const std::vector<slope::probe::LayerStats>& got,
                  const std::vector<Expected>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (std::size_t l = 0; l < got.size(); ++l) {
    SCOPED_TRACE("layer " + std::to_string(l + 1));
    EXPECT_EQ(got[l].layer, static_cast<int>(l + 1));
    EXPECT_NEAR(got[l].grad_norm, want[l].grad_norm, 1e-12 * (1 + want[l].grad_norm));
    EXPECT_NEAR(got[l].act_mean, want[l].act_mean, 1e-12);
    EXPECT_NEAR(got[l].act_std, want[l].act_std, 1e-12);
    EXPECT_DOUBLE_EQ(got[l].saturated_frac, want[l].saturated_frac);
    EXPECT_DOUBLE_EQ(got[l].dead_frac, want[l].dead_frac);
    EXPECT_NEAR(got[l].mean_slope, want[l].mean_slope, 1e-12);
    EXPECT_TRUE(std::isnan(got[l].update_ratio)) << "no step was taken";
  }
}

struct Net {
  M w1, b1, w2, b2;
};

slope::nn::MLPD build(const Net& net, const char* activation) {
  slope::nn::MLPD model({net.w1.cols(), net.w1.rows(), 1}, activation);
  model.linear(0).weight.value() = net.w1;
  model.linear(0).bias.value() = net.b1;
  model.linear(1).weight.value() = net.w2;
  model.linear(1).bias.value() = net.b2;
  return model;
}

// Unit 0 is negative for every sample (dead); unit 2 sits exactly on the kink once.
const Net kReluNet{TensorD::from({{0, 0}, {1, 0}, {1, -1}}).value(),
                   TensorD::from({{-1, 0.5, 0}}).value(), TensorD::from({{1, -2, 0.5}}).value(),
                   TensorD::from({{0.1}}).value()};
const M kX = TensorD::from({{1, 2}, {-1, 0.5}, {2, -1}, {0.5, 0.5}}).value();
const M kT = TensorD::from({{1}, {0}, {-1}, {2}}).value();

TEST(Probes, ReluLayerWithADeadUnitMatchesTheHandComputation) {
  const slope::nn::MLPD model = build(kReluNet, "relu");
  const slope::probe::TraceD trace;  // records the forward below
  slope::mse_loss(model.forward(TensorD(kX)), TensorD(kT)).backward();
  const auto got = slope::probe::layers(trace);
  const auto want = reference(kX, kReluNet.w1, kReluNet.b1, kReluNet.w2, kReluNet.b2, kT, kRelu);
  expect_stats(got, want);
  // By hand: z1 = (-1, -1, -1, -1 | 1.5, -0.5, 2.5, 1 | -1, -1.5, 3, 0). Unit 0 dead
  // -> 1/3; z <= 0 at 4 + 1 + 3 of 12 pairs -> saturated 8/12; mean slope 4/12.
  EXPECT_DOUBLE_EQ(got[0].dead_frac, 1.0 / 3);
  EXPECT_DOUBLE_EQ(got[0].saturated_frac, 8.0 / 12);
  EXPECT_DOUBLE_EQ(got[0].mean_slope, 4.0 / 12);
  // The output layer is measured as the identity: slope 1 everywhere.
  EXPECT_EQ(got[1].dead_frac, 0.0);
  EXPECT_EQ(got[1].saturated_frac, 0.0);
  EXPECT_EQ(got[1].mean_slope, 1.0);
  EXPECT_EQ(slope::probe::dead_units(trace, 0), (std::vector<bool>{true, false, false}));
  EXPECT_EQ(slope::probe::dead_units(trace, 1), (std::vector<bool>{false}));
}

TEST(Probes, TheSameUnitIsNotDeadUnderLeakyReluOrGelu) {
  for (const char* act : {"leaky_relu", "gelu", "elu", "silu"}) {
    const slope::nn::MLPD model = build(kReluNet, act);
    const slope::probe::TraceD trace;  // records the forward below
    slope::mse_loss(model.forward(TensorD(kX)), TensorD(kT)).backward();
    EXPECT_EQ(slope::probe::layers(trace)[0].dead_frac, 0.0) << act;
    EXPECT_EQ(slope::probe::dead_units(trace, 0), (std::vector<bool>(3, false))) << act;
  }
}

TEST(Probes, SigmoidLayerWithHugePreActivationsIsSaturated) {
  // Unit 0: z = 20 x, far out on both tails; unit 1: z near 0, slope near the max 0.25.
  const Net net{TensorD::from({{20}, {0.01}}).value(), TensorD::from({{0, 0}}).value(),
                TensorD::from({{1.5, -1}}).value(), TensorD::from({{0}}).value()};
  const M x = TensorD::from({{1}, {-1}, {1.5}, {-0.5}}).value();
  const slope::nn::MLPD model = build(net, "sigmoid");
  const slope::probe::TraceD trace;
  slope::mse_loss(model.forward(TensorD(x)), TensorD(kT)).backward();
  const auto got = slope::probe::layers(trace);
  expect_stats(got, reference(x, net.w1, net.b1, net.w2, net.b2, kT, kSigmoid));
  EXPECT_DOUBLE_EQ(got[0].saturated_frac, 0.5);
  EXPECT_EQ(got[0].dead_frac, 0.0);
  EXPECT_NEAR(got[0].mean_slope, 0.25 / 2, 1e-4);
}

TEST(Probes, FloatModelsAreProbedToo) {
  slope::nn::MLP model({2, 3, 1}, "relu");
  model.linear(0).weight.value() = kReluNet.w1.cast<float>();
  model.linear(0).bias.value() = kReluNet.b1.cast<float>();
  model.linear(1).weight.value() = kReluNet.w2.cast<float>();
  model.linear(1).bias.value() = kReluNet.b2.cast<float>();
  const slope::probe::Trace trace;
  slope::mse_loss(model.forward(slope::Tensor(kX.cast<float>())), slope::Tensor(kT.cast<float>()))
      .backward();
  const auto got = slope::probe::layers(trace);
  const auto want = reference(kX, kReluNet.w1, kReluNet.b1, kReluNet.w2, kReluNet.b2, kT, kRelu);
  EXPECT_DOUBLE_EQ(got[0].dead_frac, 1.0 / 3);
  EXPECT_NEAR(got[0].grad_norm, want[0].grad_norm, 1e-5);
  EXPECT_NEAR(got[0].act_std, want[0].act_std, 1e-6);
}

TEST(Probes, NeedAForwardWhileTheTraceIsAlive) {
  const slope::nn::MLPD model({2, 3, 1});
  (void)model.forward(TensorD(kX));  // before the trace: not recorded
  const slope::probe::TraceD trace;
  EXPECT_THROW(slope::probe::layers(trace), std::logic_error);
  EXPECT_THROW(slope::probe::dead_units(trace, 0), std::out_of_range);
}

TEST(Probes, UpdateRatioIsStdOfTheChangeOverStdOfTheWeights) {
  const M before = TensorD::from({{1, 2}, {3, 4}}).value();
  const M after = TensorD::from({{1.1, 1.9}, {3.1, 3.9}}).value();
  // The change is (+-0.1), std 0.1; after has mean 2.5 and std sqrt(1.16) (ddof 0):
  // deviations -1.4, -0.6, 0.6, 1.4 -> (1.96 + 0.36 + 0.36 + 1.96) / 4 = 1.16.
  EXPECT_NEAR(slope::probe::update_ratio<double>(before, after), 0.1 / std::sqrt(1.16), 1e-12);
  EXPECT_EQ(slope::probe::update_ratio<double>(before, before), 0.0);
}

TEST(Probes, UpdateRatioOfAnSgdStepIsLrTimesGradStdOverWeightStd) {
  slope::Rng rng(1);
  const slope::nn::MLPD model({4, 16, 1}, "tanh", slope::nn::Init::xavier_normal(), rng);
  const TensorD x(M::Random(32, 4)), t(M::Random(32, 1));
  slope::mse_loss(model.forward(x), t).backward();
  const M before = model.linear(0).weight.value();
  const M g = model.linear(0).weight.grad();
  slope::optim::SGD<double> opt(model.parameters(), 0.01);
  opt.step();
  const M& after = model.linear(0).weight.value();
  auto pop_std = [](const M& m) { return std::sqrt((m.array() - m.mean()).square().mean()); };
  EXPECT_NEAR(slope::probe::update_ratio<double>(before, after), 0.01 * pop_std(g) / pop_std(after),
              1e-12);
}

TEST(MaxSlope, SigmoidIsAQuarterAtZeroTanhIsOneAtZero) {
  const auto s = slope::act::max_slope(slope::act::get("sigmoid"));
  EXPECT_NEAR(s.slope, 0.25, 1e-12);
  EXPECT_NEAR(s.at, 0.0, 1e-9);
  const auto t = slope::act::max_slope(slope::act::get("tanh"));
  EXPECT_NEAR(t.slope, 1.0, 1e-12);
  EXPECT_NEAR(t.at, 0.0, 1e-9);
}

}  // namespace
