// slope::nn: PyTorch's Linear layout and default init, the initialisations of Glorot &
// Bengio and He et al. against their closed forms, Sequential and MLP,
// parameters() sharing storage with the model, and an exact save/load round trip.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include <slope/slope.hpp>

#include "strings.hpp"

namespace {

using slope::TensorD;
using slope::nn::Init;
using M = TensorD::Matrix;

using slope::test::contains;

double sample_std(const M& m) {
  const double mean = m.mean();
  return std::sqrt((m.array() - mean).square().sum() / static_cast<double>(m.size() - 1));
}

// --- Linear ---------------------------------------------------------------------------

TEST(Linear, WeightIsOutByInAndBiasOneByOut) {
  const slope::nn::LinearD lin(3, 2);
  EXPECT_EQ(lin.weight.rows(), 2);
  EXPECT_EQ(lin.weight.cols(), 3);
  EXPECT_EQ(lin.bias.rows(), 1);
  EXPECT_EQ(lin.bias.cols(), 2);
  EXPECT_EQ(lin.in_features(), 3);
  EXPECT_EQ(lin.out_features(), 2);
  EXPECT_TRUE(lin.weight.requires_grad());
  EXPECT_TRUE(lin.bias.requires_grad());
  EXPECT_EQ(lin.parameters().size(), 2u);
}

TEST(Linear, ForwardIsXTimesWTransposePlusBByHand) {
  slope::nn::LinearD lin(3, 2);
  lin.weight.value() = TensorD::from({{1, 2, 3}, {4, 5, 6}}).value();
  lin.bias.value() = TensorD::from({{10, 20}}).value();
  const TensorD x = TensorD::from({{1, 1, 1}, {1, 0, -1}});
  const M y = lin.forward(x).value();
  // (1+2+3+10, 4+5+6+20) and (1-3+10, 4-6+20)
  EXPECT_EQ(y, TensorD::from({{16, 35}, {8, 18}}).value());
  EXPECT_EQ(lin(x).value(), y);
}

TEST(Linear, WithoutBiasHasOneParameter) {
  slope::nn::LinearD lin(3, 2, false);
  EXPECT_EQ(lin.bias.rows() * lin.bias.cols(), 0);
  EXPECT_EQ(lin.parameters().size(), 1u);
  lin.weight.value() = TensorD::from({{1, 2, 3}, {4, 5, 6}}).value();
  EXPECT_EQ(lin.forward(TensorD::from({{1, 0, -1}})).value(), TensorD::from({{-2, -2}}).value());
}

TEST(Linear, GradientsAreSummedOverTheBatch) {
  slope::nn::LinearD lin(2, 1);
  lin.weight.value() = TensorD::from({{0.5, -1}}).value();
  lin.bias.value() = TensorD::from({{0.25}}).value();
  const TensorD x = TensorD::from({{1, 2}, {3, 4}});
  lin.forward(x).sum().backward();
  EXPECT_EQ(lin.weight.grad(), TensorD::from({{4, 6}}).value());  // column sums of x
  EXPECT_EQ(lin.bias.grad(), TensorD::from({{2}}).value());       // rows in the batch
}

TEST(Linear, PyTorchDefaultInitIsUniformInPlusMinusOneOverSqrtIn) {
  slope::Rng rng(1);
  const slope::nn::LinearD lin(100, 200, true, Init::pytorch(), rng);
  const double bound = 1.0 / std::sqrt(100.0);
  const M& w = lin.weight.value();
  const M& b = lin.bias.value();
  EXPECT_LE(w.cwiseAbs().maxCoeff(), bound);
  EXPECT_LE(b.cwiseAbs().maxCoeff(), bound);
  EXPECT_GT(w.cwiseAbs().maxCoeff(), 0.98 * bound) << "the whole range is used";
  EXPECT_GT(b.cwiseAbs().maxCoeff(), 0.8 * bound) << "biases are not left at 0";
  EXPECT_NEAR(sample_std(w), bound / std::sqrt(3.0), 0.02 * bound / std::sqrt(3.0));
  EXPECT_NEAR(w.mean(), 0.0, 0.05 * bound);
  // The default arguments use the same init.
  const slope::nn::Linear lf(16, 4);
  EXPECT_LE(lf.weight.value().cwiseAbs().maxCoeff(), 0.25f);
  EXPECT_LE(lf.bias.value().cwiseAbs().maxCoeff(), 0.25f);
}

TEST(Linear, RejectsNonPositiveFeatures) {
  EXPECT_THROW(slope::nn::LinearD(0, 3), std::invalid_argument);
  EXPECT_THROW(slope::nn::LinearD(3, -1), std::invalid_argument);
}

// --- initialisations against their closed forms -----------------------------------------

struct InitCase {
  Init init;
  double want_std;       // the closed form for fan_in 512, fan_out 256
  double uniform_bound;  // 0 for normal inits
};

TEST(Init, SampleStdMatchesTheClosedFormOnALargeLayer) {
  constexpr double in = 512, out = 256;
  const std::vector<InitCase> cases = {
      {Init::xavier_uniform(), std::sqrt(2 / (in + out)), std::sqrt(6 / (in + out))},
      {Init::xavier_normal(), std::sqrt(2 / (in + out)), 0},
      {Init::xavier_normal(2.0), 2 * std::sqrt(2 / (in + out)), 0},  // gain
      {Init::kaiming_uniform(), std::sqrt(2 / in), std::sqrt(6 / in)},
      {Init::kaiming_normal(), std::sqrt(2 / in), 0},
      {Init::lecun_normal(), std::sqrt(1 / in), 0},
      {Init::normal(0.01), 0.01, 0},
      {Init::pytorch(), 1 / std::sqrt(3 * in), 1 / std::sqrt(in)},
  };
  slope::Rng rng(2024);
  for (const InitCase& c : cases) {
    SCOPED_TRACE(c.init.name());
    const slope::nn::LinearD lin(512, 256, true, c.init, rng);
    const M& w = lin.weight.value();
    EXPECT_NEAR(sample_std(w), c.want_std, 0.02 * c.want_std);
    EXPECT_NEAR(w.mean(), 0.0, 0.02 * c.want_std);
    EXPECT_NEAR(c.init.weight_std(512, 256), c.want_std, 1e-12 * c.want_std);
    if (c.uniform_bound > 0) {
      EXPECT_LE(w.cwiseAbs().maxCoeff(), c.uniform_bound);
      EXPECT_GT(w.cwiseAbs().maxCoeff(), 0.99 * c.uniform_bound);
    } else {
      // A Gaussian of 131072 samples reaches beyond 3 std but (almost surely) not 6.
      EXPECT_GT(w.cwiseAbs().maxCoeff(), 3 * c.want_std);
      EXPECT_LT(w.cwiseAbs().maxCoeff(), 6 * c.want_std);
    }
  }
}

TEST(Init, FloatLayersGetTheSameDistribution) {
  slope::Rng rng(5);
  const slope::nn::Linear lin(512, 256, true, Init::kaiming_normal(), rng);
  const M w = lin.weight.value().cast<double>();
  EXPECT_NEAR(sample_std(w), std::sqrt(2.0 / 512), 0.02 * std::sqrt(2.0 / 512));
}

TEST(Init, WithBiasSetsEveryBias) {
  slope::Rng rng(3);
  const slope::nn::LinearD lin(4, 6, true, Init::kaiming_normal().with_bias(0.1), rng);
  EXPECT_EQ(lin.bias.value(), M::Constant(1, 6, 0.1));
}

TEST(Init, ParseKnowsEveryNameAndNormalWithItsStd) {
  for (const char* name : {"pytorch", "xavier_uniform", "xavier_normal", "kaiming_uniform",
                           "kaiming_normal", "lecun_normal"}) {
    EXPECT_EQ(Init::parse(name).name(), name);
  }
  EXPECT_EQ(Init::parse("xavier_uniform").kind(), Init::Kind::xavier_uniform);
  EXPECT_EQ(Init::parse("kaiming_normal").kind(), Init::Kind::kaiming_normal);
  const Init n = Init::parse("normal(0.01)");
  EXPECT_EQ(n.kind(), Init::Kind::normal);
  EXPECT_DOUBLE_EQ(n.weight_std(10, 20), 0.01);
  EXPECT_EQ(Init::parse(Init::normal(0.5).name()).weight_std(1, 1), 0.5);
}

TEST(Init, ParseRejectsUnknownNamesListingTheValidOnes) {
  for (const char* bad : {"he", "xavier", "normal()", "normal(abc)", "Kaiming_normal", ""}) {
    try {
      Init::parse(bad);
      ADD_FAILURE() << "accepted '" << bad << "'";
    } catch (const std::invalid_argument& e) {
      EXPECT_TRUE(contains(e.what(), "xavier_uniform")) << e.what();
      EXPECT_TRUE(contains(e.what(), "kaiming_normal")) << e.what();
      EXPECT_TRUE(contains(e.what(), "lecun_normal")) << e.what();
    }
  }
}

TEST(Init, ParseNamesANonPositiveStdAsSuch) {
  for (const char* bad : {"normal(0)", "normal(-1)", "normal(inf)", "normal(nan)"}) {
    try {
      Init::parse(bad);
      ADD_FAILURE() << "accepted '" << bad << "'";
    } catch (const std::invalid_argument& e) {
      EXPECT_TRUE(contains(e.what(), "std must be a positive finite number")) << e.what();
      EXPECT_TRUE(contains(e.what(), bad)) << e.what();
    }
  }
}

// --- Sequential and MLP ----------------------------------------------------------------

TEST(Sequential, ForwardEqualsTheManualComposition) {
  slope::Rng rng(11);
  const slope::nn::SequentialD seq{slope::nn::LinearD(3, 4, true, Init::pytorch(), rng),
                                   slope::nn::ActivationD("tanh"),
                                   slope::nn::LinearD(4, 2, true, Init::pytorch(), rng)};
  ASSERT_EQ(seq.size(), 3u);
  EXPECT_EQ(seq.parameters().size(), 4u);
  const auto& l1 = seq.at<slope::nn::LinearD>(0);
  const auto& l2 = seq.at<slope::nn::LinearD>(2);
  const M x = TensorD::from({{0.5, -1, 2}, {1, 1, 1}}).value();
  M h = x * l1.weight.value().transpose();
  h.rowwise() += l1.bias.value().row(0);
  h = h.array().tanh().matrix();
  M want = h * l2.weight.value().transpose();
  want.rowwise() += l2.bias.value().row(0);
  const M got = seq.forward(TensorD(x)).value();
  EXPECT_LT((got - want).cwiseAbs().maxCoeff(), 1e-15);
  EXPECT_THROW(slope::nn::ActivationD("nope"), std::invalid_argument);
}

TEST(Sequential, PushBackAndZeroGrad) {
  slope::nn::SequentialD seq;
  const slope::nn::LinearD first(2, 3), last(3, 1, false);
  seq.push_back(first);
  const slope::nn::ActivationD relu("relu");
  seq.push_back(relu);
  seq.push_back(last);
  EXPECT_EQ(seq.parameters().size(), 3u);
  seq.forward(TensorD::from({{1, 2}})).sum().backward();
  seq.zero_grad();
  for (const TensorD& p : seq.parameters()) EXPECT_EQ(p.grad().cwiseAbs().sum(), 0.0);
}

TEST(MLP, SizesGiveLayersOfPyTorchShapes) {
  slope::Rng rng(1);
  const slope::nn::MLPD model({3, 5, 4, 2}, "gelu", Init::xavier_normal(), rng);
  ASSERT_EQ(model.depth(), 3u);
  EXPECT_EQ(model.activation(), "gelu");
  const std::vector<std::pair<int, int>> shapes = {{5, 3}, {4, 5}, {2, 4}};
  for (std::size_t l = 0; l < 3; ++l) {
    EXPECT_EQ(model.linear(l).weight.rows(), shapes[l].first);
    EXPECT_EQ(model.linear(l).weight.cols(), shapes[l].second);
    EXPECT_EQ(model.linear(l).bias.cols(), shapes[l].first);
  }
  const auto params = model.parameters();
  ASSERT_EQ(params.size(), 6u);
  Eigen::Index count = 0;
  for (const TensorD& p : params) count += p.value().size();
  EXPECT_EQ(count, 5 * 3 + 5 + 4 * 5 + 4 + 2 * 4 + 2);
  const TensorD y = model.forward(TensorD::zeros(7, 3));
  EXPECT_EQ(y.rows(), 7);
  EXPECT_EQ(y.cols(), 2);
  // Built as a Sequential: Linear, Activation, Linear, Activation, Linear.
  EXPECT_EQ(model.size(), 5u);
  EXPECT_EQ(model.depth(), 3u);
  EXPECT_EQ(model.at<slope::nn::ActivationD>(1).name(), model.activation());
  EXPECT_EQ(&model.at<slope::nn::LinearD>(4), &model.linear(2));
}

TEST(MLP, ForwardAppliesTheActivationBetweenLayersButNotAfterTheLast) {
  slope::Rng rng(4);
  const slope::nn::MLPD model({2, 3, 1}, "relu", Init::pytorch(), rng);
  const M x = TensorD::from({{1, -2}, {0.5, 0.25}}).value();
  M h = x * model.linear(0).weight.value().transpose();
  h.rowwise() += model.linear(0).bias.value().row(0);
  h = h.cwiseMax(0.0);
  M want = h * model.linear(1).weight.value().transpose();
  want.rowwise() += model.linear(1).bias.value().row(0);
  EXPECT_LT((model(TensorD(x)).value() - want).cwiseAbs().maxCoeff(), 1e-15);
}

TEST(MLP, RejectsBadArguments) {
  EXPECT_THROW(slope::nn::MLPD({3}, "relu"), std::invalid_argument);
  EXPECT_THROW(slope::nn::MLPD({3, 1}, "bogus"), std::invalid_argument);
}

TEST(MLP, ParametersShareStorageWithTheModel) {
  slope::nn::MLPD model({2, 3, 1});
  const auto params = model.parameters();
  params[0].value()(0, 0) = 42.0;
  EXPECT_EQ(model.linear(0).weight.value()(0, 0), 42.0);
  params[1].value().setZero();
  EXPECT_EQ(model.linear(0).bias.value().cwiseAbs().sum(), 0.0);
  // A gradient from backward is visible through the parameter handles too.
  slope::mse_loss(model.forward(TensorD::from({{1, 2}})), TensorD::from({{1}})).backward();
  EXPECT_EQ(&params[2].grad(), &model.linear(1).weight.grad());
  EXPECT_GT(params[2].grad().cwiseAbs().sum() + params[3].grad().cwiseAbs().sum(), 0.0);
}

TEST(MLP, ZeroGradClearsEveryParameter) {
  slope::nn::MLPD model({2, 4, 4, 1}, "tanh");
  slope::mse_loss(model.forward(TensorD::from({{1, 2}, {-1, 0.5}})), TensorD::from({{1}, {0}}))
      .backward();
  double total = 0;
  for (const TensorD& p : model.parameters()) total += p.grad().cwiseAbs().sum();
  EXPECT_GT(total, 0.0);
  model.zero_grad();
  for (const TensorD& p : model.parameters()) EXPECT_EQ(p.grad().cwiseAbs().sum(), 0.0);
}

TEST(MLP, ManualSeedMakesConstructionReproducible) {
  auto weights = [](const slope::nn::MLP& m) {
    std::vector<slope::Tensor::Matrix> out;
    for (const auto& p : m.parameters()) out.push_back(p.value());
    return out;
  };
  slope::manual_seed(7);
  const slope::nn::MLP a({2, 8, 8, 1}, "relu", Init::kaiming_normal());
  slope::manual_seed(7);
  const slope::nn::MLP b({2, 8, 8, 1}, "relu", Init::kaiming_normal());
  slope::manual_seed(8);
  const slope::nn::MLP c({2, 8, 8, 1}, "relu", Init::kaiming_normal());
  EXPECT_EQ(weights(a), weights(b));
  EXPECT_NE(weights(a), weights(c));
  // The same with an explicit Rng.
  slope::Rng r1(99), r2(99);
  EXPECT_EQ(weights(slope::nn::MLP({3, 4, 2}, "relu", Init::pytorch(), r1)),
            weights(slope::nn::MLP({3, 4, 2}, "relu", Init::pytorch(), r2)));
}

// --- save and load -----------------------------------------------------------------------

template <class T> std::vector<std::uint64_t> bits(const std::vector<slope::BasicTensor<T>>& ps) {
  std::vector<std::uint64_t> out;
  for (const auto& p : ps)
    for (Eigen::Index i = 0; i < p.value().size(); ++i) {
      if constexpr (std::is_same_v<T, float>)
        out.push_back(std::bit_cast<std::uint32_t>(p.value()(i)));
      else
        out.push_back(std::bit_cast<std::uint64_t>(p.value()(i)));
    }
  return out;
}

template <class T> class SaveLoad : public ::testing::Test {};
using Precisions = ::testing::Types<float, double>;
TYPED_TEST_SUITE(SaveLoad, Precisions);

TYPED_TEST(SaveLoad, RoundTripRestoresEveryBit) {
  using T = TypeParam;
  slope::Rng rng(1);
  const slope::nn::BasicMLP<T> model({3, 7, 5, 2}, "relu", Init::kaiming_normal(), rng);
  // Numbers a decimal format would round: awkward fractions, extremes, -0, subnormals.
  auto& w = model.linear(0).weight.value();
  w(0, 0) = T(0.1);
  w(0, 1) = -T(0);
  w(0, 2) = std::numeric_limits<T>::denorm_min();
  w(1, 0) = std::numeric_limits<T>::max();
  w(1, 1) = std::numeric_limits<T>::lowest();
  w(1, 2) = std::numeric_limits<T>::min();
  w(2, 0) = T(1) / T(3);
  std::stringstream file;
  slope::nn::save(file, model.parameters());

  slope::Rng other(2);
  const slope::nn::BasicMLP<T> fresh({3, 7, 5, 2}, "relu", Init::kaiming_normal(), other);
  ASSERT_NE(bits(fresh.parameters()), bits(model.parameters()));
  slope::nn::load(file, fresh.parameters());
  EXPECT_EQ(bits(fresh.parameters()), bits(model.parameters()));
}

TYPED_TEST(SaveLoad, WrongShapeOrCountThrowsAndLeavesTheModelUntouched) {
  using T = TypeParam;
  slope::Rng rng(1);
  const slope::nn::BasicMLP<T> saved({3, 7, 2}, "relu", Init::pytorch(), rng);
  std::stringstream good;
  slope::nn::save(good, saved.parameters());
  const std::string text = good.str();

  const slope::nn::BasicMLP<T> wider({3, 8, 2}, "relu", Init::pytorch(), rng);
  const slope::nn::BasicMLP<T> deeper({3, 7, 7, 2}, "relu", Init::pytorch(), rng);
  const slope::nn::BasicMLP<T> same({3, 7, 2}, "relu", Init::pytorch(), rng);
  for (const auto* model : {&wider, &deeper, &same}) {
    const auto before = bits(model->parameters());
    std::vector<std::string> files = {text, "not a parameter file"};
    if (model == &same) files = {text.substr(0, text.size() - 30), "not a parameter file"};
    for (const std::string& f : files) {
      std::stringstream in(f);
      EXPECT_THROW(slope::nn::load(in, model->parameters()), std::runtime_error);
      EXPECT_EQ(bits(model->parameters()), before);
    }
  }
  // What differs is named: the shapes for a wrong shape, the counts for a wrong count.
  try {
    std::stringstream in(text);
    slope::nn::load(in, wider.parameters());
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_TRUE(contains(e.what(), "(7, 3)")) << e.what();
    EXPECT_TRUE(contains(e.what(), "(8, 3)")) << e.what();
  }
  try {
    std::stringstream in(text);
    slope::nn::load(in, deeper.parameters());
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_TRUE(contains(e.what(), "4")) << e.what();
    EXPECT_TRUE(contains(e.what(), "6")) << e.what();
  }
}

TYPED_TEST(SaveLoad, EveryErrorNamesTheFileAndTheLine) {
  using T = TypeParam;
  slope::Rng rng(1);
  const slope::nn::BasicMLP<T> model({2, 3, 2}, "relu", Init::pytorch(), rng);
  std::stringstream good;
  slope::nn::save(good, model.parameters());
  std::vector<std::string> lines;
  for (std::string l; std::getline(good, l);) lines.push_back(l);
  // Line 1 header, 2 the first shape "3 2", 3..5 its rows, 6 the bias shape "1 3", ...
  ASSERT_EQ(lines[1], "3 2");
  auto error_for = [&](std::vector<std::string> edited) {
    std::string text;
    for (const std::string& l : edited) text += l + "\n";
    std::stringstream in(text);
    const auto before = bits(model.parameters());
    try {
      slope::nn::load(in, model.parameters(), "model.params");
    } catch (const std::runtime_error& e) {
      EXPECT_EQ(bits(model.parameters()), before);
      return std::string(e.what());
    }
    ADD_FAILURE() << "loaded:\n" << text;
    return std::string();
  };
  auto with = [&](std::size_t line, const std::string& text) {
    std::vector<std::string> e = lines;
    e[line - 1] = text;
    return e;
  };
  EXPECT_EQ(error_for(with(1, "slope-parameters 2 4")),
            "slope::nn::load: model.params:1: not a slope parameter file (bad header)");
  EXPECT_EQ(error_for(with(1, "slope-parameters 1 99999999999999999999")),
            "slope::nn::load: model.params:1: the tensor count must be a whole number >= 0, got "
            "'99999999999999999999'");
  EXPECT_EQ(error_for(with(2, "3000000000 2")),
            "slope::nn::load: model.params:2: tensor 0 is (3000000000, 2) in the file, (3, 2) "
            "in the model");
  EXPECT_EQ(error_for(with(4, "0x1p-1 zz")),
            "slope::nn::load: model.params:4: tensor 0: bad number 'zz'");
  EXPECT_EQ(error_for(with(4, "0x1p-1")),
            "slope::nn::load: model.params:4: expected tensor 0's row 1 (2 fields), got 1");
  std::vector<std::string> cut(lines.begin(), lines.begin() + 4);
  EXPECT_EQ(error_for(cut),
            "slope::nn::load: model.params:5: the file ends early, expected tensor 0's row 2");
  std::vector<std::string> extra = lines;
  extra.push_back("1 2 3");
  EXPECT_EQ(error_for(extra), "slope::nn::load: model.params:" + std::to_string(extra.size()) +
                                  ": unexpected text after the last tensor");
  if constexpr (std::is_same_v<T, float>) {  // 1e39 is a double, not a float
    EXPECT_EQ(error_for(with(3, "1e39 0")),
              "slope::nn::load: model.params:3: tensor 0: 1e39 is out of range for this "
              "precision");
  }
}

}  // namespace
