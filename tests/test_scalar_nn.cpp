// slope::scalar::Neuron, Layer and MLP: micrograd's nn.py. Shapes and parameter count,
// seeded initialisation, outputs against a hand computation, gradients of a loss against
// central finite differences on every parameter, and every registered activation by name.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <vector>

#include <slope/slope.hpp>

#include "finite_difference.hpp"

namespace {

using slope::Value;
using slope::scalar::Layer;
using slope::scalar::MLP;
using slope::scalar::Neuron;

std::vector<double> data_of(const std::vector<Value>& vs) {
  std::vector<double> out;
  for (const Value& v : vs) out.push_back(v.data());
  return out;
}

std::vector<Value> values(std::initializer_list<double> xs) {
  return std::vector<Value>(xs.begin(), xs.end());
}

// The MLP's forward pass written out with doubles and a given activation.
template <class Act> std::vector<double> by_hand(const MLP& m, std::vector<double> x, Act act) {
  for (std::size_t l = 0; l < m.layers.size(); ++l) {
    std::vector<double> y;
    for (const Neuron& n : m.layers[l].neurons) {
      double s = n.b.data();
      for (std::size_t i = 0; i < x.size(); ++i) s += n.w[i].data() * x[i];
      y.push_back(l + 1 == m.layers.size() ? s : act(s));  // the last layer is linear
    }
    x = y;
  }
  return x;
}

TEST(ScalarMLP, TwoSixteenSixteenOneHas337Parameters) {
  const MLP m(2, {16, 16, 1});
  EXPECT_EQ(m.parameters().size(), 337u);  // (2+1)*16 + (16+1)*16 + (16+1)*1
  ASSERT_EQ(m.layers.size(), 3u);
  EXPECT_EQ(m.layers[0].neurons.size(), 16u);
  EXPECT_EQ(m.layers[1].neurons.size(), 16u);
  EXPECT_EQ(m.layers[2].neurons.size(), 1u);
  EXPECT_EQ(m.layers[0].neurons[0].w.size(), 2u);
  EXPECT_EQ(m.layers[2].neurons[0].w.size(), 16u);
  EXPECT_EQ(m.layers[1].parameters().size(), 272u);
  EXPECT_EQ(m.layers[2].neurons[0].parameters().size(), 17u);
}

TEST(ScalarMLP, SameSeedSameWeightsDifferentSeedDifferentWeights) {
  const auto w42 = data_of(MLP(2, {16, 16, 1}, "relu", 42).parameters());
  EXPECT_EQ(data_of(MLP(2, {16, 16, 1}, "relu", 42).parameters()), w42);
  EXPECT_EQ(data_of(MLP(2, {16, 16, 1}, "tanh", 42).parameters()), w42);
  EXPECT_EQ(data_of(MLP(2, {16, 16, 1}).parameters()), data_of(MLP(2, {16, 16, 1}).parameters()));
  const auto w43 = data_of(MLP(2, {16, 16, 1}, "relu", 43).parameters());
  std::size_t differ = 0;
  for (std::size_t i = 0; i < w42.size(); ++i) differ += w42[i] != w43[i];
  EXPECT_GT(differ, 300u);  // every weight; biases are 0 under both seeds
}

TEST(ScalarMLP, WeightsAreUniformInMinusOneOneAndBiasesZeroAsMicrograd) {
  const MLP m(2, {16, 16, 1}, "relu", 3);
  double lo = 1, hi = -1, sum = 0;
  std::size_t n = 0;
  for (const Layer& l : m.layers)
    for (const Neuron& neuron : l.neurons) {
      EXPECT_EQ(neuron.b.data(), 0.0);
      for (const Value& w : neuron.w) {
        EXPECT_GE(w.data(), -1.0);
        EXPECT_LE(w.data(), 1.0);
        lo = std::min(lo, w.data());
        hi = std::max(hi, w.data());
        sum += w.data();
        ++n;
      }
    }
  EXPECT_EQ(n, 304u);   // 2*16 + 16*16 + 16*1
  EXPECT_LT(lo, -0.9);  // 304 uniform draws reach near both ends
  EXPECT_GT(hi, 0.9);
  EXPECT_NEAR(sum / n, 0.0, 0.15);  // std of the mean of U(-1,1) is 0.032
}

TEST(ScalarNeuron, OutputIsTheActivationOfWeightedSumPlusBias) {
  slope::Rng rng(9);
  const Neuron tanh_unit(3, rng, "tanh");
  tanh_unit.b.data() = 0.3;
  const std::vector<double> x = {0.5, -1.2, 2.0};
  double s = 0.3;
  for (std::size_t i = 0; i < 3; ++i) s += tanh_unit.w[i].data() * x[i];
  EXPECT_NEAR(tanh_unit(values({0.5, -1.2, 2.0})).data(), std::tanh(s), 1e-15);

  Neuron relu_unit(2, rng, "relu");
  relu_unit.w[0].data() = 1.5;
  relu_unit.w[1].data() = -2.0;
  relu_unit.b.data() = 0.25;
  EXPECT_DOUBLE_EQ(relu_unit(values({1.0, 0.5})).data(), 1.5 - 1.0 + 0.25);
  EXPECT_EQ(relu_unit(values({-1.0, 0.5})).data(), 0.0);  // -1.5 - 1 + 0.25 < 0

  Neuron linear(2, rng, "relu", false);
  linear.w[0].data() = 1.5;
  linear.w[1].data() = -2.0;
  EXPECT_DOUBLE_EQ(linear(values({-1.0, 0.5})).data(), -2.5);  // nonlin = false: no relu
}

TEST(ScalarMLP, ForwardIsTheHandComputationWithALinearLastLayer) {
  const MLP m(3, {4, 4, 2}, "relu", 5);
  bool some_negative = false;
  for (const std::vector<double>& x : std::vector<std::vector<double>>{
           {0.5, -1.0, 2.0}, {-2.0, 0.3, 0.1}, {1.5, 1.5, -0.7}, {-0.2, -2.5, 1.0}}) {
    const std::vector<Value> out = m({Value(x[0]), Value(x[1]), Value(x[2])});
    const std::vector<double> want = by_hand(m, x, [](double s) { return s > 0 ? s : 0.0; });
    ASSERT_EQ(out.size(), 2u);
    for (std::size_t k = 0; k < 2; ++k) {
      EXPECT_NEAR(out[k].data(), want[k], 1e-12);
      some_negative |= out[k].data() < 0;
    }
  }
  EXPECT_TRUE(some_negative) << "a linear last layer can output negatives even after relu";
}

TEST(ScalarMLP, ZeroGradZeroesEveryParameter) {
  const MLP m(2, {6, 6, 1}, "tanh", 1);
  Value loss = m({Value(0.7), Value(-0.4)})[0].pow(2.0);
  loss.backward();
  std::size_t nonzero = 0;
  for (const Value& p : m.parameters()) nonzero += p.grad() != 0.0;
  EXPECT_GT(nonzero, 40u);
  m.zero_grad();
  for (const Value& p : m.parameters()) EXPECT_EQ(p.grad(), 0.0);
  // The same for one layer and one neuron.
  loss.backward();
  m.layers[0].zero_grad();
  for (const Value& p : m.layers[0].parameters()) EXPECT_EQ(p.grad(), 0.0);
  m.layers[1].neurons[0].zero_grad();
  for (const Value& p : m.layers[1].neurons[0].parameters()) EXPECT_EQ(p.grad(), 0.0);
}

TEST(ScalarMLP, WrongInputSizeThrowsInvalidArgument) {
  const MLP m(2, {3, 1});
  EXPECT_THROW(m(values({1.0})), std::invalid_argument);
  EXPECT_THROW(m(values({1.0, 2.0, 3.0})), std::invalid_argument);
  EXPECT_THROW(m.layers[0](values({})), std::invalid_argument);
  EXPECT_THROW(m.layers[0].neurons[0](values({1.0})), std::invalid_argument);
}

TEST(ScalarMLP, UnknownActivationThrowsInvalidArgument) {
  EXPECT_THROW(MLP(2, {3, 1}, "sigmoidal"), std::invalid_argument);
}

// A squared error plus micrograd's 1e-4 L2 term, differentiated on every parameter.
Value loss_of(const MLP& m, const std::vector<Value>& params) {
  const double xs[4][2] = {{0.5, -1.0}, {-1.5, 0.3}, {1.1, 1.4}, {-0.2, -0.8}};
  const double ys[4] = {1.0, -1.0, 0.5, -0.5};
  Value loss = 0.0;
  for (int k = 0; k < 4; ++k) {
    const Value out = m({Value(xs[k][0]), Value(xs[k][1])})[0];
    loss = loss + (out - ys[k]).pow(2.0);
  }
  Value reg = 0.0;
  for (const Value& p : params) reg = reg + p * p;
  return loss / 4.0 + 1e-4 * reg;
}

TEST(ScalarMLP, LossGradientMatchesCentralDifferencesOnEveryParameter) {
  MLP m(2, {5, 4, 1}, "tanh", 11);
  for (Layer& l : m.layers)  // nonzero biases, so their gradients are exercised too
    for (Neuron& n : l.neurons) n.b.data() = 0.1 * static_cast<double>(n.w.size() % 3) - 0.05;
  const std::vector<Value> params = m.parameters();
  ASSERT_EQ(params.size(), 15u + 24u + 5u);
  slope_test::expect_gradients_match(params, [&] { return loss_of(m, params); });
}

TEST(ScalarMLP, EveryRegisteredActivationWorksByName) {
  for (const std::string& name : slope::activations()) {
    SCOPED_TRACE(name);
    const MLP m(2, {4, 3, 1}, name, 21);
    const slope::act::Entry& act = slope::act::get(name);
    const std::vector<double> want = by_hand(m, {0.6, -1.3}, act.value);
    EXPECT_NEAR(m({Value(0.6), Value(-1.3)})[0].data(), want[0], 1e-12);
    const std::vector<Value> params = m.parameters();
    slope_test::expect_gradients_match(params, [&] { return loss_of(m, params); });
  }
}

TEST(ScalarMLP, GradientDescentLowersTheLoss) {
  const MLP m(2, {8, 8, 1}, "tanh", 2);
  const std::vector<Value> params = m.parameters();
  double first = 0, last = 0;
  for (int step = 0; step < 30; ++step) {
    const Value loss = loss_of(m, params);
    m.zero_grad();
    loss.backward();
    for (const Value& p : params) p.data() -= 0.1 * p.grad();
    (step == 0 ? first : last) = loss.data();
  }
  EXPECT_LT(last, 0.5 * first);
}

}  // namespace
