// slope::optim against PyTorch's update rules as PyTorch's documentation writes them, worked by
// hand here in double precision on a tiny parameter with gradients set directly.
#include <gtest/gtest.h>

#include <cmath>
#include <stdexcept>
#include <vector>

#include <slope/slope.hpp>

namespace {

using slope::TensorD;
using M = TensorD::Matrix;

constexpr double kTol = 1e-12;

// Three steps of made-up gradients for a (1, 3) parameter.
const std::vector<std::vector<double>> kGrads = {
    {0.5, -1.0, 2.0}, {0.25, 0.5, -3.0}, {-1.0, 0.0, 1.5}};
const std::vector<double> kStart = {1.0, -2.0, 0.5};

TensorD parameter() {
  return TensorD(TensorD::from({{kStart[0], kStart[1], kStart[2]}}).value(), true);
}
M row(const std::vector<double>& v) { return TensorD::from({{v[0], v[1], v[2]}}).value(); }

void expect_row_near(const M& got, const std::vector<double>& want, double tol = kTol) {
  ASSERT_EQ(got.size(), static_cast<Eigen::Index>(want.size()));
  for (std::size_t j = 0; j < want.size(); ++j)
    EXPECT_NEAR(got(0, static_cast<Eigen::Index>(j)), want[j], tol) << "element " << j;
}

TEST(SGD, PlainStepIsPMinusLrG) {
  const TensorD p = parameter();
  slope::optim::SGD<double> opt({p}, 0.1);
  std::vector<double> want = kStart;
  for (const auto& g : kGrads) {
    p.grad() = row(g);
    opt.step();
    for (int j = 0; j < 3; ++j) want[j] -= 0.1 * g[j];
    expect_row_near(p.value(), want);
  }
}

TEST(SGD, MomentumBufferStartsAtGThenMuBufPlusG) {
  const TensorD p = parameter();
  const double lr = 0.1, mu = 0.9;
  slope::optim::SGD<double> opt({p}, lr, mu);
  std::vector<double> want = kStart, buf(3);
  for (std::size_t t = 0; t < kGrads.size(); ++t) {
    p.grad() = row(kGrads[t]);
    opt.step();
    for (int j = 0; j < 3; ++j) {
      buf[j] = t == 0 ? kGrads[t][j] : mu * buf[j] + kGrads[t][j];  // dampening 0
      want[j] -= lr * buf[j];
    }
    expect_row_near(p.value(), want);
  }
  // Worked fully by hand for element 0: buf = 0.5, 0.7, -0.37;
  // p = 1 - 0.05 = 0.95, 0.95 - 0.07 = 0.88, 0.88 + 0.037 = 0.917.
  EXPECT_NEAR(p.value()(0, 0), 0.917, kTol);
}

TEST(SGD, WeightDecayAddsWdTimesPToTheGradientFirst) {
  const TensorD p = parameter();
  const double lr = 0.05, mu = 0.5, wd = 0.01;
  slope::optim::SGD<double> opt({p}, lr, mu, wd);
  std::vector<double> want = kStart, buf(3);
  for (std::size_t t = 0; t < kGrads.size(); ++t) {
    p.grad() = row(kGrads[t]);
    opt.step();
    for (int j = 0; j < 3; ++j) {
      const double g = kGrads[t][j] + wd * want[j];
      buf[j] = t == 0 ? g : mu * buf[j] + g;
      want[j] -= lr * buf[j];
    }
    expect_row_near(p.value(), want);
  }
  // Without momentum: p -= lr (g + wd p). Element 0, one step: 1 - 0.05 (0.5 + 0.01) = 0.9745.
  const TensorD q = parameter();
  slope::optim::SGD<double> plain({q}, lr, 0.0, wd);
  q.grad() = row(kGrads[0]);
  plain.step();
  EXPECT_NEAR(q.value()(0, 0), 0.9745, kTol);
}

TEST(Adam, ThreeStepsWithDefaultBetasAndEps) {
  const TensorD p = parameter();
  const double lr = 0.01, b1 = 0.9, b2 = 0.999, eps = 1e-8;
  slope::optim::Adam<double> opt({p}, lr);
  EXPECT_EQ(opt.betas.beta1, b1);
  EXPECT_EQ(opt.betas.beta2, b2);
  EXPECT_EQ(opt.eps, eps);
  std::vector<double> want = kStart, m(3, 0.0), v(3, 0.0);
  for (std::size_t t = 1; t <= kGrads.size(); ++t) {
    const auto& g = kGrads[t - 1];
    p.grad() = row(g);
    opt.step();
    for (int j = 0; j < 3; ++j) {
      m[j] = b1 * m[j] + (1 - b1) * g[j];
      v[j] = b2 * v[j] + (1 - b2) * g[j] * g[j];
      const double m_hat = m[j] / (1 - std::pow(b1, t));
      const double v_hat = v[j] / (1 - std::pow(b2, t));
      want[j] -= lr * m_hat / (std::sqrt(v_hat) + eps);
    }
    expect_row_near(p.value(), want);
  }
  // Adam's first step moves each element by lr * sign(g) (up to eps): m_hat = g, v_hat = g^2.
  const TensorD q = parameter();
  slope::optim::Adam<double> first({q}, 0.01);
  q.grad() = row(kGrads[0]);
  first.step();
  expect_row_near(q.value(), {1.0 - 0.01, -2.0 + 0.01, 0.5 - 0.01}, 1e-9);
}

TEST(Adam, CustomBetasEpsAndWeightDecay) {
  const TensorD p = parameter();
  const double lr = 0.1, b1 = 0.5, b2 = 0.75, eps = 1e-3, wd = 0.1;
  slope::optim::Adam<double> opt({p}, lr, {b1, b2}, eps, wd);
  std::vector<double> want = kStart, m(3, 0.0), v(3, 0.0);
  for (std::size_t t = 1; t <= kGrads.size(); ++t) {
    p.grad() = row(kGrads[t - 1]);
    opt.step();
    for (int j = 0; j < 3; ++j) {
      const double g = kGrads[t - 1][j] + wd * want[j];  // L2, as torch.optim.Adam
      m[j] = b1 * m[j] + (1 - b1) * g;
      v[j] = b2 * v[j] + (1 - b2) * g * g;
      want[j] -=
          lr * (m[j] / (1 - std::pow(b1, t))) / (std::sqrt(v[j] / (1 - std::pow(b2, t))) + eps);
    }
    expect_row_near(p.value(), want);
  }
}

// torch.optim computes the decayed gradient out of place: p.grad is what backward left.
TEST(Optimizers, StepLeavesTheGradientAsBackwardLeftIt) {
  const TensorD p = parameter();
  slope::optim::SGD<double> sgd({p}, 0.1, 0.9, 0.01);
  p.grad() = row(kGrads[0]);
  sgd.step();
  expect_row_near(p.grad(), kGrads[0], 0.0);
  const TensorD q = parameter();
  slope::optim::Adam<double> adam({q}, 0.1, {}, 1e-8, 0.01);
  q.grad() = row(kGrads[0]);
  adam.step();
  expect_row_near(q.grad(), kGrads[0], 0.0);
}

TEST(Optimizers, ZeroGradClearsEveryParameter) {
  const TensorD a = parameter(), b = parameter();
  a.grad() = row(kGrads[0]);
  b.grad() = row(kGrads[1]);
  slope::optim::SGD<double> sgd({a, b}, 0.1);
  sgd.zero_grad();
  EXPECT_EQ(a.grad().cwiseAbs().sum() + b.grad().cwiseAbs().sum(), 0.0);
  a.grad() = row(kGrads[0]);
  slope::optim::Adam<double> adam({a, b}, 0.1);
  adam.zero_grad();
  EXPECT_EQ(a.grad().cwiseAbs().sum(), 0.0);
}

TEST(Optimizers, RejectBadHyperparameters) {
  const TensorD p = parameter();
  EXPECT_THROW(slope::optim::SGD<double>({p}, -0.1), std::invalid_argument);
  EXPECT_THROW(slope::optim::SGD<double>({p}, std::nan("")), std::invalid_argument);
  EXPECT_THROW(slope::optim::Adam<double>({p}, -1.0), std::invalid_argument);
  EXPECT_THROW(slope::optim::Adam<double>({p}, 0.1, {1.0, 0.999}), std::invalid_argument);
  EXPECT_THROW(slope::optim::Adam<double>({p}, 0.1, {0.9, -0.1}), std::invalid_argument);
}

TEST(Optimizers, FloatFollowsTheSameFormulas) {
  const slope::Tensor p = slope::Tensor::from({{1.0f, -2.0f}}, true);
  slope::optim::SGD<float> opt({p}, 0.1, 0.9);
  p.grad() = slope::Tensor::from({{0.5f, 1.0f}}).value();
  opt.step();
  p.grad() = slope::Tensor::from({{0.5f, 1.0f}}).value();
  opt.step();  // buf = 0.5, then 0.95: p = 1 - 0.05 - 0.095
  EXPECT_NEAR(p.value()(0, 0), 0.855f, 1e-6f);
}

// The PyTorch loop, zero_grad -> forward -> loss -> backward -> step, minimises
// sum((p - c)^2) to its minimum p = c.
TEST(Optimizers, SgdAndAdamMinimiseAQuadratic) {
  const TensorD c = TensorD::from({{3.0, -1.0, 0.5}});
  {
    const TensorD p = TensorD::zeros(1, 3, true);
    slope::optim::SGD<double> opt({p}, 0.1, 0.9);
    for (int step = 0; step < 300; ++step) {
      opt.zero_grad();
      const TensorD loss = ((p - c) * (p - c)).sum();
      loss.backward();
      opt.step();
    }
    EXPECT_LT((p.value() - c.value()).cwiseAbs().maxCoeff(), 1e-6);
  }
  {
    const TensorD p = TensorD::zeros(1, 3, true);
    slope::optim::Adam<double> opt({p}, 0.05);
    for (int step = 0; step < 2000; ++step) {
      opt.zero_grad();
      ((p - c).pow(2)).sum().backward();
      opt.step();
    }
    EXPECT_LT((p.value() - c.value()).cwiseAbs().maxCoeff(), 1e-3);
  }
}

TEST(Optimizers, SgdTrainsAnMlpOnXor) {
  slope::Rng rng(3);
  slope::nn::MLPD model({2, 8, 1}, "tanh", slope::nn::Init::xavier_normal(), rng);
  const TensorD x = TensorD::from({{0, 0}, {0, 1}, {1, 0}, {1, 1}});
  const TensorD y = TensorD::from({{0}, {1}, {1}, {0}});
  slope::optim::SGD<double> opt(model.parameters(), 0.2, 0.9);
  double first = 0, last = 0;
  for (int step = 0; step < 500; ++step) {
    opt.zero_grad();
    const TensorD loss = slope::mse_loss(model.forward(x), y);
    if (step == 0) first = loss.item();
    last = loss.item();
    loss.backward();
    opt.step();
  }
  EXPECT_LT(last, 0.01);
  EXPECT_LT(last, first);
}

}  // namespace
