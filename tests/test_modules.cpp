// Modules that compose: LayerNorm (closed forms, finite differences, the same op composed
// from mean and pow), Residual, FeedForward, a pre-LN block against PyTorch's numbers, a
// user's own module inside a Sequential, the parameters' order, typed activations, and
// probes of FeedForward blocks. Everything through the public header, as a user writes it.
#include <gtest/gtest.h>

#include <cmath>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <slope/slope.hpp>

namespace {

using slope::Tensor;
using slope::TensorD;
using M = TensorD::Matrix;
namespace nn = slope::nn;

// sin(k + 0.7 i + 1.3 j): the deterministic numbers tests/reference/ffn_block.py uses.
M fill(Eigen::Index rows, Eigen::Index cols, double k) {
  M m(rows, cols);
  for (Eigen::Index i = 0; i < rows; ++i)
    for (Eigen::Index j = 0; j < cols; ++j)
      m(i, j) = std::sin(k + 0.7 * static_cast<double>(i) + 1.3 * static_cast<double>(j));
  return m;
}

// --- LayerNorm ----------------------------------------------------------------------

// Row (1, 2, 3, 4): mean 2.5, biased variance 1.25, so (x - 2.5) / sqrt(1.25).
TEST(LayerNorm, NormalisesEachRowWithTheBiasedVariance) {
  const TensorD x = TensorD::from({{1, 2, 3, 4}, {-2, 0, 2, 4}});
  const TensorD y = slope::layer_norm(x, TensorD(), TensorD(), 0.0);
  const double s = std::sqrt(1.25);
  const double want0[] = {-1.5 / s, -0.5 / s, 0.5 / s, 1.5 / s};
  for (int j = 0; j < 4; ++j) {
    EXPECT_NEAR(y.value()(0, j), want0[j], 1e-15);
    EXPECT_NEAR(y.value()(1, j), want0[j], 1e-15);  // (-2, 0, 2, 4) = 2 (1, 2, 3, 4) - 4
  }
  // eps sits inside the square root: var 1.25 + eps 0.75 = 2.
  const TensorD z = slope::layer_norm(x, TensorD(), TensorD(), 0.75);
  EXPECT_NEAR(z.value()(0, 0), -1.5 / std::sqrt(2.0), 1e-15);
}

TEST(LayerNorm, ModuleStartsAtWeightOneBiasZeroAndScalesThenShifts) {
  nn::LayerNormD ln(3);
  EXPECT_EQ(ln.weight.value(), M::Ones(1, 3));
  EXPECT_EQ(ln.bias.value(), M::Zero(1, 3));
  EXPECT_EQ(ln.eps(), 1e-5);
  ASSERT_EQ(ln.parameters().size(), 2u);
  ln.weight.value() << 2, 2, 2;
  ln.bias.value() << 1, 0, -1;
  const TensorD y = ln(TensorD::from({{0, 1, 2}}));  // xhat = (-1, 0, 1) / sqrt(2/3 + 1e-5)
  const double r = 1 / std::sqrt(2.0 / 3 + 1e-5);
  EXPECT_NEAR(y.value()(0, 0), -2 * r + 1, 1e-14);
  EXPECT_NEAR(y.value()(0, 1), 0.0, 1e-14);
  EXPECT_NEAR(y.value()(0, 2), 2 * r - 1, 1e-14);
  EXPECT_TRUE(nn::LayerNormD(3, 1e-5, false).parameters().empty());
}

// A constant row has variance 0: xhat = 0, so y = bias, and the gradient stays finite:
// dx = rstd (dxhat - mean(dxhat)) with rstd = 1 / sqrt(eps).
TEST(LayerNorm, ConstantRowsAreStable) {
  const TensorD x(M::Constant(2, 4, 7.0), true);
  const TensorD w(fill(1, 4, 3.0), true), b(fill(1, 4, 4.0), true);
  const TensorD g(fill(2, 4, 5.0));
  const TensorD y = slope::layer_norm(x, w, b, 1e-5);
  EXPECT_EQ(y.value().row(0), b.value().row(0));
  (y * g).sum().backward();
  ASSERT_TRUE(x.grad().allFinite());
  const double rstd = 1 / std::sqrt(1e-5);
  for (Eigen::Index i = 0; i < 2; ++i) {
    const Eigen::RowVectorXd dxhat = g.value().row(i).cwiseProduct(w.value().row(0));
    for (Eigen::Index j = 0; j < 4; ++j)
      EXPECT_NEAR(x.grad()(i, j), rstd * (dxhat(j) - dxhat.mean()), 1e-9);
  }
  EXPECT_EQ(w.grad(), M::Zero(1, 4));  // dL/dw = sum g * xhat = 0
}

TEST(LayerNorm, GradcheckWithAndWithoutAffine) {
  const std::vector<TensorD> in = {TensorD(fill(5, 6, 1.0) * 2), TensorD(fill(1, 6, 2.0)),
                                   TensorD(fill(1, 6, 3.0))};
  auto with = [](const std::vector<TensorD>& v) {
    return slope::layer_norm(v[0], v[1], v[2], 1e-5);
  };
  auto without = [](const std::vector<TensorD>& v) {
    return slope::layer_norm(v[0], TensorD(), TensorD(), 1e-5);
  };
  for (const auto& r : {slope::gradcheck(with, in), slope::gradcheck(without, {in[0]})})
    EXPECT_TRUE(r.ok) << r.worst << " (max abs error " << r.max_abs_error << ")";
  // A single feature: every row is constant.
  const auto one = slope::gradcheck(
      with, {TensorD(fill(3, 1, 1.0)), TensorD(fill(1, 1, 2.0)), TensorD(fill(1, 1, 3.0))});
  EXPECT_TRUE(one.ok) << one.worst;
}

// The fused op against the same formula composed from slope's primitives.
TEST(LayerNorm, AgreesWithTheCompositionOfMeanAndPow) {
  const TensorD x1(fill(4, 5, 1.0) * 3, true), x2(fill(4, 5, 1.0) * 3, true);
  const TensorD w1(fill(1, 5, 2.0), true), w2(fill(1, 5, 2.0), true);
  const TensorD b1(fill(1, 5, 3.0), true), b2(fill(1, 5, 3.0), true);
  const TensorD g(fill(4, 5, 4.0));
  const TensorD fused = slope::layer_norm(x1, w1, b1, 1e-5);
  const TensorD c = x2 - x2.mean(1);
  const TensorD composed = c * ((c * c).mean(1) + 1e-5).pow(-0.5) * w2 + b2;
  EXPECT_LT((fused.value() - composed.value()).cwiseAbs().maxCoeff(), 1e-14);
  (fused * g).sum().backward();
  (composed * g).sum().backward();
  EXPECT_LT((x1.grad() - x2.grad()).cwiseAbs().maxCoeff(), 1e-13);
  EXPECT_LT((w1.grad() - w2.grad()).cwiseAbs().maxCoeff(), 1e-13);
  EXPECT_LT((b1.grad() - b2.grad()).cwiseAbs().maxCoeff(), 1e-13);
}

TEST(LayerNorm, BadShapesAndEpsAreNamed) {
  try {
    nn::LayerNorm(4)(Tensor::zeros(2, 3));
    FAIL();
  } catch (const slope::ShapeError& e) {
    EXPECT_NE(std::string(e.what()).find("(2, 3)"), std::string::npos) << e.what();
  }
  EXPECT_THROW(slope::layer_norm(TensorD::zeros(2, 3), TensorD::zeros(1, 4), TensorD(), 1e-5),
               slope::ShapeError);
  EXPECT_THROW(nn::LayerNorm(0), std::invalid_argument);
  EXPECT_THROW(nn::LayerNorm(3, -1.0), std::invalid_argument);
}

// --- Residual, FeedForward and the pre-LN block ---------------------------------------

TEST(Residual, AddsTheInputAndChecksTheShape) {
  nn::LinearD lin(3, 3);
  const nn::ResidualD res(lin);
  const TensorD x(fill(2, 3, 1.0));
  EXPECT_LT((res(x).value() - (x.value() + lin(x).value())).cwiseAbs().maxCoeff(), 1e-15);
  try {
    nn::ResidualD(nn::LinearD(3, 2))(x);
    FAIL();
  } catch (const slope::ShapeError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("Residual"), std::string::npos) << msg;
    EXPECT_NE(msg.find("(2, 3) to (2, 2)"), std::string::npos) << msg;
  }
}

TEST(FeedForward, IsProjOfActOfFc) {
  slope::Rng rng(3);
  const nn::FeedForwardD ff(4, 16, "gelu_tanh", nn::Init::pytorch(), rng);
  EXPECT_EQ(ff.fc.weight.rows(), 16);
  EXPECT_EQ(ff.fc.weight.cols(), 4);
  EXPECT_EQ(ff.proj.weight.rows(), 4);
  EXPECT_EQ(ff.activation.name(), "gelu_tanh");
  const TensorD x(fill(3, 4, 1.0));
  const TensorD want = ff.proj(slope::apply<slope::act::GeluTanh>(ff.fc(x)));
  EXPECT_EQ(ff(x).value(), want.value());
  EXPECT_EQ(nn::FeedForwardD(4, 8).activation.name(), "gelu");  // GPT-2's default
  EXPECT_EQ(nn::FeedForwardD(4, 8, nn::ActivationD(slope::act::Relu{})).activation.name(), "relu");
}

// From PyTorch 1.13, double precision: /usr/bin/python3 tests/reference/ffn_block.py
constexpr double kTorchLoss = 0.59211581682973502;
constexpr double kTorchDx[] = {-0.063346287839702087, 0.041638776110334487,  0.049155639062937864,
                               0.033027616152631042,  0.11238491106883694,   0.055840693921611312,
                               0.0021533328014348152, 0.11340616707791361,   0.14974653849609412,
                               0.0029848943250409543, -0.038055058962509547, 0.096875045235144702};
constexpr double kTorchDlnWeight[] = {0.12589331385654262, 0.036335600917707107,
                                      0.29803120260446853, 0.012010111527737535};
constexpr double kTorchDlnBias[] = {0.10317596495487077, -0.34738814322575301, -0.28902780773678949,
                                    0.19275894320670578};
constexpr double kTorchDfcWeight0[] = {-0.046904783918298276, -6.3822394537086052e-05,
                                       0.034378654168089925, 0.011605496814479843};
constexpr double kTorchDprojBias[] = {0.19013651018383096, 0.44806270710590579, 0.11250308452610752,
                                      -0.19489003436607594};
constexpr double kTorchAdamLosses[] = {0.59211581682973502, 0.49232539751769661,
                                       0.40820625424311929, 0.33798115710642945};

// The block against PyTorch 1.13 (tests/reference/ffn_block.py prints these numbers).
struct TorchBlock {
  nn::LayerNormD ln{4};
  nn::FeedForwardD ff{4, 8, "gelu"};
  nn::ResidualD block{nn::SequentialD{ln, ff}};
  TorchBlock() {
    ln.weight.value() = (M::Ones(1, 4) + 0.1 * fill(1, 4, 3.0));
    ln.bias.value() = 0.1 * fill(1, 4, 4.0);
    ff.fc.weight.value() = 0.5 * fill(8, 4, 5.0);
    ff.fc.bias.value() = 0.1 * fill(1, 8, 6.0);
    ff.proj.weight.value() = 0.5 * fill(4, 8, 7.0);
    ff.proj.bias.value() = 0.1 * fill(1, 4, 8.0);
  }
};

TEST(PreLnBlock, LossAndGradientsMatchPyTorch) {
  TorchBlock m;
  const TensorD x(fill(3, 4, 1.0), true), target(fill(3, 4, 2.0));
  const TensorD loss = slope::mse_loss(m.block(x), target);
  loss.backward();
  EXPECT_NEAR(loss.item(), kTorchLoss, 1e-14);
  for (Eigen::Index i = 0; i < 12; ++i)
    EXPECT_NEAR(x.grad()(i / 4, i % 4), kTorchDx[i], 1e-14) << i;
  for (Eigen::Index j = 0; j < 4; ++j) {
    EXPECT_NEAR(m.ln.weight.grad()(0, j), kTorchDlnWeight[j], 1e-14) << j;
    EXPECT_NEAR(m.ln.bias.grad()(0, j), kTorchDlnBias[j], 1e-14) << j;
    EXPECT_NEAR(m.ff.fc.weight.grad()(0, j), kTorchDfcWeight0[j], 1e-14) << j;
    EXPECT_NEAR(m.ff.proj.bias.grad()(0, j), kTorchDprojBias[j], 1e-14) << j;
  }
}

TEST(PreLnBlock, TrainsWithAdamAsPyTorchDoes) {
  TorchBlock m;
  const TensorD x(fill(3, 4, 1.0)), target(fill(3, 4, 2.0));
  slope::optim::Adam<double> opt(m.block.parameters(), 0.01);
  for (int step = 0; step < 3; ++step) {
    opt.zero_grad();
    const TensorD loss = slope::mse_loss(m.block(x), target);
    loss.backward();
    opt.step();
    EXPECT_NEAR(loss.item(), kTorchAdamLosses[step], 1e-13) << "step " << step;
  }
  EXPECT_NEAR(slope::mse_loss(m.block(x), target).item(), kTorchAdamLosses[3], 1e-13);
}

TEST(PreLnBlock, GradcheckOfEveryParameter) {
  auto f = [](const std::vector<TensorD>& v) {
    nn::LayerNormD ln(4);
    nn::FeedForwardD ff(4, 6, "gelu");
    ln.weight = v[1], ln.bias = v[2];
    ff.fc.weight = v[3], ff.fc.bias = v[4], ff.proj.weight = v[5], ff.proj.bias = v[6];
    return nn::ResidualD(nn::SequentialD{ln, ff})(v[0]);
  };
  const auto r = slope::gradcheck(
      f, {TensorD(fill(3, 4, 1.0)), TensorD(fill(1, 4, 2.0) + M::Ones(1, 4)),
          TensorD(fill(1, 4, 3.0)), TensorD(fill(6, 4, 4.0)), TensorD(fill(1, 6, 5.0)),
          TensorD(fill(4, 6, 6.0)), TensorD(fill(1, 4, 7.0))});
  EXPECT_TRUE(r.ok) << r.worst << " (max abs error " << r.max_abs_error << ")";
}

// --- any module, nesting, parameter order -------------------------------------------

// A module written outside slope: y = x * scale (one parameter per feature).
struct Scale {
  TensorD scale;
  TensorD forward(const TensorD& x) const { return x * scale; }
  std::vector<TensorD> parameters() const { return {scale}; }
};

TEST(Sequential, HoldsAUsersOwnModule) {
  nn::SequentialD seq{nn::LinearD(2, 3), nn::ActivationD("tanh")};
  seq.push_back(Scale{TensorD(fill(1, 3, 1.0), true)});
  const TensorD x(fill(4, 2, 2.0));
  const auto& lin = seq.at<nn::LinearD>(0);
  const M want = slope::apply(lin(x), "tanh").value().array().rowwise() *
                 seq.at<Scale>(2).scale.value().row(0).array();
  EXPECT_LT((seq(x).value() - want).cwiseAbs().maxCoeff(), 1e-15);
  ASSERT_EQ(seq.parameters().size(), 3u);
  EXPECT_EQ(&seq.parameters()[2].value(), &seq.at<Scale>(2).scale.value());
  slope::mse_loss(seq(x), TensorD::zeros(4, 3)).backward();
  EXPECT_NE(seq.at<Scale>(2).scale.grad().norm(), 0.0);
  EXPECT_THROW(seq.at<nn::LinearD>(1), std::invalid_argument);
  EXPECT_THROW(seq.at<nn::LinearD>(7), std::invalid_argument);
}

// Depth first, in the order modules were added; Linear and LayerNorm: weight, then bias.
TEST(Sequential, ParametersAreDepthFirstInTheOrderAdded) {
  nn::LinearD in(2, 3), out(3, 1);
  nn::LayerNormD ln(3);
  nn::FeedForwardD ff(3, 6, "relu");
  const nn::SequentialD model{in, nn::ResidualD(nn::SequentialD{ln, ff}), out};
  const std::vector<const M*> want = {
      &in.weight.value(),    &in.bias.value(),    &ln.weight.value(),      &ln.bias.value(),
      &ff.fc.weight.value(), &ff.fc.bias.value(), &ff.proj.weight.value(), &ff.proj.bias.value(),
      &out.weight.value(),   &out.bias.value()};
  const std::vector<TensorD> got = model.parameters();
  ASSERT_EQ(got.size(), want.size());
  for (std::size_t i = 0; i < want.size(); ++i) EXPECT_EQ(&got[i].value(), want[i]) << i;
  // save/load walk the same list.
  std::stringstream s;
  nn::save(s, got);
  nn::load(s, model.parameters());
}

TEST(MLP, IsASequentialOfLinearAndActivationLayers) {
  slope::Rng r1(5), r2(5);
  const nn::MLPD mlp({2, 4, 4, 1}, "gelu", nn::Init::kaiming_normal(), r1);
  const nn::SequentialD seq{
      nn::LinearD(2, 4, true, nn::Init::kaiming_normal(), r2), nn::ActivationD("gelu"),
      nn::LinearD(4, 4, true, nn::Init::kaiming_normal(), r2), nn::ActivationD("gelu"),
      nn::LinearD(4, 1, true, nn::Init::kaiming_normal(), r2)};
  const TensorD x(fill(3, 2, 1.0));
  EXPECT_EQ(mlp(x).value(), seq(x).value());
  const nn::SequentialD& as_seq = mlp;  // an MLP is a Sequential
  EXPECT_EQ(as_seq.size(), 5u);
}

// --- typed activations ----------------------------------------------------------------

TEST(TypedActivations, EveryRegisteredActivationIsReachableWithoutAString) {
  const TensorD x(fill(3, 4, 1.0) * 3);
  slope::act::for_each([&](auto a) {
    using A = decltype(a);
    const std::string name(A::info.name);
    EXPECT_EQ(slope::apply<A>(x).value(), slope::apply(x, name).value()) << name;
    EXPECT_EQ(slope::apply<A>(Tensor(x.value().cast<float>())).value(),
              slope::apply(Tensor(x.value().cast<float>()), name).value())
        << name;
    const slope::Value v = 0.75;
    EXPECT_EQ(slope::apply<A>(v).data(), slope::apply(v, name).data()) << name;
    EXPECT_EQ(nn::ActivationD(A{}).name(), name);
    EXPECT_EQ(nn::ActivationD(A{})(x).value(), nn::ActivationD(name)(x).value()) << name;
  });
  // The lesson's four methods stay.
  EXPECT_EQ(x.gelu().value(), slope::apply<slope::act::Gelu>(x).value());
  EXPECT_EQ(x.relu().value(), slope::apply<slope::act::Relu>(x).value());
}

// --- probes of any model --------------------------------------------------------------

TEST(Probes, ASequentialIsProbedAsTheSameMlp) {
  slope::Rng r1(9), r2(9);
  const nn::MLPD mlp({2, 5, 3}, "relu", nn::Init::kaiming_normal(), r1);
  const nn::SequentialD seq{nn::LinearD(2, 5, true, nn::Init::kaiming_normal(), r2),
                            nn::ActivationD("relu"),
                            nn::LinearD(5, 3, true, nn::Init::kaiming_normal(), r2)};
  const TensorD x(fill(6, 2, 1.0));
  std::vector<slope::probe::LayerStats> a, b;
  {
    const slope::probe::TraceD trace;
    slope::cross_entropy(mlp(x), {0, 1, 2, 0, 1, 2}).backward();
    a = slope::probe::layers(trace);
  }
  {
    const slope::probe::TraceD trace;
    slope::cross_entropy(seq(x), {0, 1, 2, 0, 1, 2}).backward();
    b = slope::probe::layers(trace);
  }
  ASSERT_EQ(a.size(), 2u);
  ASSERT_EQ(b.size(), 2u);
  for (std::size_t l = 0; l < 2; ++l) {
    EXPECT_EQ(a[l].grad_norm, b[l].grad_norm);
    EXPECT_EQ(a[l].dead_frac, b[l].dead_frac);
    EXPECT_EQ(a[l].mean_slope, b[l].mean_slope);
  }
}

// Each FeedForward is one block: its fc and proj weights' gradient norms, and the dead and
// saturated fractions of its hidden activation.
TEST(Probes, FeedForwardBlocksAreProbedPerBlock) {
  nn::FeedForwardD b1(2, 3, "relu"), b2(2, 3, "relu");
  // Block 1's hidden unit 0 is dead: fc row 0 is zero with bias -1, so z = -1 always.
  b1.fc.weight.value().row(0).setZero();
  b1.fc.bias.value()(0, 0) = -1;
  const nn::SequentialD model{nn::ResidualD(b1), nn::LayerNormD(2), nn::ResidualD(b2)};
  const slope::probe::TraceD trace;
  slope::mse_loss(model(TensorD(fill(5, 2, 1.0))), TensorD::zeros(5, 2)).backward();
  const auto blocks = slope::probe::blocks(trace);
  ASSERT_EQ(blocks.size(), 2u);
  EXPECT_EQ(blocks[0].block, 1);
  EXPECT_EQ(blocks[1].block, 2);
  EXPECT_EQ(blocks[0].grad_norm_fc, b1.fc.weight.grad().norm());
  EXPECT_EQ(blocks[0].grad_norm_proj, b1.proj.weight.grad().norm());
  EXPECT_EQ(blocks[1].grad_norm_proj, b2.proj.weight.grad().norm());
  EXPECT_DOUBLE_EQ(blocks[0].grad_norm,
                   std::hypot(blocks[0].grad_norm_fc, blocks[0].grad_norm_proj));
  EXPECT_GE(blocks[0].hidden.dead_frac, 1.0 / 3);
  // Four Linear layers in order; the proj layers' outputs are read by no activation.
  const auto layers = slope::probe::layers(trace);
  ASSERT_EQ(layers.size(), 4u);
  EXPECT_EQ(trace.layers()[1].activation, slope::act::id_of<slope::act::Identity>);
  EXPECT_EQ(trace.layers()[0].activation, slope::act::id_of<slope::act::Relu>);
}

// A trace destroyed before a newer one is unlinked: the newer one keeps recording, and
// once both are gone nothing records.
TEST(Trace, DestroyedOutOfOrderLeavesNoDanglingTrace) {
  const nn::LinearD lin(2, 2);
  std::optional<slope::probe::TraceD> outer;
  outer.emplace();
  {
    const slope::probe::TraceD inner;
    outer.reset();
    (void)lin(TensorD(fill(1, 2, 1.0)));
    EXPECT_EQ(inner.layers().size(), 1u);
    EXPECT_EQ(slope::probe::TraceD::current(), &inner);
  }
  EXPECT_EQ(slope::probe::TraceD::current(), nullptr);
  // And the usual order: the inner one shadows the outer one, then hands it back.
  const slope::probe::TraceD a;
  {
    const slope::probe::TraceD b;
    (void)lin(TensorD(fill(1, 2, 1.0)));
    EXPECT_EQ(b.layers().size(), 1u);
  }
  (void)lin(TensorD(fill(1, 2, 1.0)));
  EXPECT_EQ(a.layers().size(), 1u);
}

TEST(AnyModule, AMovedFromModuleSaysSo) {
  nn::AnyModule<double> m = nn::LinearD(2, 3);
  const nn::AnyModule<double> taken = std::move(m);
  EXPECT_EQ(taken.parameters().size(), 2u);
  EXPECT_THROW(m.forward(TensorD::zeros(1, 2)), std::logic_error);  // NOLINT: use after move
  const nn::AnyModule<double> copy = m;                             // copying an empty one is fine
  EXPECT_THROW(copy.parameters(), std::logic_error);
}

TEST(Probes, MaxSlopeIsMeasuredOncePerActivation) {
  for (const slope::act::Entry& e : slope::act::entries()) {
    const slope::act::MaxSlope& once = slope::act::max_slope(e.id);
    EXPECT_EQ(&once, &slope::act::max_slope(e.id)) << e.info.name;  // the same record
    EXPECT_EQ(once.slope, slope::act::max_slope(e).slope) << e.info.name;
  }
  EXPECT_EQ(slope::act::max_slope(slope::act::id_of<slope::act::Sigmoid>).slope, 0.25);
}

}  // namespace
