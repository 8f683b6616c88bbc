// The scalar engine (slope::Value, micrograd's way: one node per multiply and add) and
// the tensor engine (nn::MLPD on TensorD), given the same MLP weights and data in double,
// agree on the loss and on every parameter gradient to 1e-10, for every registered
// activation and for both the MSE and the max-margin (hinge) loss.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include <slope/slope.hpp>

namespace {

using slope::TensorD;
using slope::Value;
using M = TensorD::Matrix;

enum class Loss { mse, hinge };

// The tensor model's weights copied into scalar leaves: w[l][out][in], b[l][out].
struct ScalarNet {
  std::vector<std::vector<std::vector<Value>>> w;
  std::vector<std::vector<Value>> b;
};

ScalarNet copy_weights(const slope::nn::MLPD& model) {
  ScalarNet net;
  for (std::size_t l = 0; l < model.depth(); ++l) {
    const slope::nn::LinearD& layer = model.linear(l);
    const M& w = layer.weight.value();
    const M& b = layer.bias.value();
    net.w.emplace_back(static_cast<std::size_t>(w.rows()));
    net.b.emplace_back();
    for (Eigen::Index o = 0; o < w.rows(); ++o) {
      for (Eigen::Index i = 0; i < w.cols(); ++i)
        net.w.back()[static_cast<std::size_t>(o)].emplace_back(w(o, i));
      net.b.back().emplace_back(b(0, o));
    }
  }
  return net;
}

// mean over all elements of (out - y)^2, or of max(0, 1 - y out), built node by node.
Value scalar_loss(const ScalarNet& net, const std::string& act, const M& x, const M& y, Loss loss) {
  Value total = 0.0;
  for (Eigen::Index s = 0; s < x.rows(); ++s) {
    std::vector<Value> h;
    for (Eigen::Index k = 0; k < x.cols(); ++k) h.emplace_back(x(s, k));
    for (std::size_t l = 0; l < net.w.size(); ++l) {
      std::vector<Value> next;
      for (std::size_t o = 0; o < net.w[l].size(); ++o) {
        Value z = net.b[l][o];
        for (std::size_t k = 0; k < h.size(); ++k) z = z + net.w[l][o][k] * h[k];
        next.push_back(l + 1 == net.w.size() ? z : slope::apply(z, act));
      }
      h = std::move(next);
    }
    for (std::size_t o = 0; o < h.size(); ++o) {
      const double target = y(s, static_cast<Eigen::Index>(o));
      total = total + (loss == Loss::mse ? (h[o] - target).pow(2) : (1.0 - target * h[o]).relu());
    }
  }
  return total / static_cast<double>(y.size());
}

void expect_engines_agree(const std::string& act, Loss loss, std::uint64_t seed) {
  SCOPED_TRACE(act + (loss == Loss::mse ? " / mse" : " / hinge"));
  slope::Rng rng(seed);
  const std::int64_t outputs = loss == Loss::mse ? 2 : 1;
  slope::nn::MLPD model({3, 6, 5, outputs}, act, slope::nn::Init::pytorch(), rng);
  M x(7, 3), y(7, outputs);
  for (Eigen::Index i = 0; i < x.size(); ++i) x(i) = rng.uniform(-2.0, 2.0);
  for (Eigen::Index i = 0; i < y.size(); ++i)
    y(i) = loss == Loss::mse ? rng.uniform(-1.0, 1.0) : (rng.uniform() < 0.5 ? -1.0 : 1.0);

  // The tensor engine.
  const TensorD pred = model.forward(TensorD(x));
  const TensorD tensor_loss =
      loss == Loss::mse ? slope::mse_loss(pred, TensorD(y)) : slope::hinge_loss(pred, TensorD(y));
  tensor_loss.backward();

  // The scalar engine on the same numbers.
  const ScalarNet net = copy_weights(model);
  const Value scalar = scalar_loss(net, act, x, y, loss);
  scalar.backward();

  EXPECT_NEAR(scalar.data(), tensor_loss.item(), 1e-10 * std::max(1.0, std::abs(scalar.data())));
  EXPECT_GT(scalar.data(), 0.0) << "a loss of 0 would leave nothing to compare";
  double largest = 0;
  for (std::size_t l = 0; l < model.depth(); ++l) {
    const M& gw = model.linear(l).weight.grad();
    const M& gb = model.linear(l).bias.grad();
    for (Eigen::Index o = 0; o < gw.rows(); ++o) {
      const auto oi = static_cast<std::size_t>(o);
      for (Eigen::Index i = 0; i < gw.cols(); ++i) {
        const double s = net.w[l][oi][static_cast<std::size_t>(i)].grad();
        EXPECT_NEAR(s, gw(o, i), 1e-10 * std::max(1.0, std::abs(s)))
            << "layer " << l + 1 << " weight (" << o << ", " << i << ")";
        largest = std::max(largest, std::abs(s));
      }
      const double s = net.b[l][oi].grad();
      EXPECT_NEAR(s, gb(0, o), 1e-10 * std::max(1.0, std::abs(s)))
          << "layer " << l + 1 << " bias " << o;
    }
  }
  EXPECT_GT(largest, 1e-6) << "gradients are not all (near) zero";
}

TEST(EnginesAgree, MseLossForEveryRegisteredActivation) {
  std::uint64_t seed = 100;
  for (const std::string& act : slope::activations()) expect_engines_agree(act, Loss::mse, ++seed);
}

TEST(EnginesAgree, HingeLossForEveryRegisteredActivation) {
  std::uint64_t seed = 200;
  for (const std::string& act : slope::activations())
    expect_engines_agree(act, Loss::hinge, ++seed);
}

TEST(EnginesAgree, TensorActivationsMatchScalarActivationsElementwise) {
  const M z = TensorD::from({{-5, -1.5, -0.25, 0.3, 2, 7}}).value();
  for (const std::string& act : slope::activations()) {
    const TensorD t(z, true);
    const TensorD out = slope::apply(t, act);
    out.sum().backward();
    for (Eigen::Index j = 0; j < z.cols(); ++j) {
      const Value v = z(0, j);
      const Value o = slope::apply(v, act);
      o.backward();
      EXPECT_EQ(o.data(), out.value()(0, j)) << act << " at " << z(0, j);
      EXPECT_EQ(v.grad(), t.grad()(0, j)) << act << " slope at " << z(0, j);
    }
  }
}

}  // namespace
