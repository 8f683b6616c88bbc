// Every tensor op, every broadcasting path, every loss and every registered activation
// against central finite differences in double precision (slope::gradcheck). A new op
// costs one CHECK_GRAD line here; a new activation costs nothing (the registry loop
// picks it up). The checker itself is shown able to fail on a deliberately wrong backward.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include <slope/slope.hpp>

namespace {

using slope::TensorD;
using M = TensorD::Matrix;
using Inputs = std::vector<TensorD>;

// A (rows, cols) matrix of numbers from a fixed seed, uniform in [lo, hi], each at least
// `gap` away from 0 so kinks at 0 (relu, leaky_relu, hinge margins) are never straddled.
M random(Eigen::Index rows, Eigen::Index cols, std::uint64_t seed, double lo = -2.0,
         double hi = 2.0, double gap = 0.05) {
  slope::Rng rng(seed);
  M m(rows, cols);
  for (Eigen::Index i = 0; i < m.size(); ++i) {
    double v = 0;
    do v = rng.uniform(lo, hi);
    while (std::abs(v) < gap);
    m(i) = v;
  }
  return m;
}
TensorD input(Eigen::Index rows, Eigen::Index cols, std::uint64_t seed, double lo = -2.0,
              double hi = 2.0) {
  return TensorD(random(rows, cols, seed, lo, hi));
}
TensorD positive(Eigen::Index rows, Eigen::Index cols, std::uint64_t seed) {
  return input(rows, cols, seed, 0.5, 2.0);
}

void expect_gradcheck(const char* what, const std::function<TensorD(const Inputs&)>& f,
                      const Inputs& inputs) {
  const slope::GradcheckResult r = slope::gradcheck(f, inputs);
  EXPECT_TRUE(r.ok) << what << ": worst " << r.worst << " (max abs error " << r.max_abs_error
                    << ")";
  EXPECT_LT(r.max_abs_error, 1e-5) << what;
}

#define CHECK_GRAD(f, ...) expect_gradcheck(#f, [](const Inputs& x) { return f; }, {__VA_ARGS__})

TEST(Gradcheck, Matmul) {
  CHECK_GRAD(slope::matmul(x[0], x[1]), input(3, 4, 1), input(4, 2, 2));
  CHECK_GRAD(slope::matmul(x[0], x[1]), input(1, 5, 3), input(5, 1, 4));
}

TEST(Gradcheck, Embedding) {  // repeated ids accumulate into one row
  CHECK_GRAD(slope::embedding(std::vector<int>{2, 0, 2, 1, 2}, x[0]), input(3, 4, 1));
}

TEST(Gradcheck, CausalSelfAttention) {
  // batch 2 of T = 3, C = 4 in 2 heads; one sequence; one head; T = 1
  CHECK_GRAD(slope::causal_self_attention(x[0], 2, 2), input(6, 12, 1));
  CHECK_GRAD(slope::causal_self_attention(x[0], 1, 2), input(5, 12, 2));
  CHECK_GRAD(slope::causal_self_attention(x[0], 2, 1), input(4, 9, 3));
  CHECK_GRAD(slope::causal_self_attention(x[0], 3, 2), input(3, 6, 4));
  // T = 37, a multiple of no SIMD width: whole packets and scalar tails in every column
  CHECK_GRAD(slope::causal_self_attention(x[0], 2, 3), input(74, 27, 5));
}

TEST(Gradcheck, LinearWithAndWithoutBias) {
  CHECK_GRAD(slope::linear(x[0], x[1], x[2]), input(4, 3, 1), input(5, 3, 2), input(1, 5, 3));
  CHECK_GRAD(slope::linear(x[0], x[1], TensorD()), input(4, 3, 4), input(5, 3, 5));
}

TEST(Gradcheck, Transpose) {
  CHECK_GRAD(x[0].t(), input(3, 4, 1));
  CHECK_GRAD(slope::transpose(x[0]) * x[1], input(3, 4, 2), input(4, 3, 3));
  CHECK_GRAD(slope::matmul(x[0], x[0].t()), input(3, 2, 4));
}

// + - * / for every pair of shapes that broadcast in 2-D: same shape, a row (1, c), a
// column (r, 1) and a scalar (1, 1) on either side, and a row against a column.
TEST(Gradcheck, ElementwiseOpsOnEveryBroadcastingPath) {
  struct Shape {
    Eigen::Index r, c;
  };
  const std::vector<std::pair<Shape, Shape>> pairs = {
      {{3, 4}, {3, 4}}, {{3, 4}, {1, 4}}, {{1, 4}, {3, 4}}, {{3, 4}, {3, 1}}, {{3, 1}, {3, 4}},
      {{3, 4}, {1, 1}}, {{1, 1}, {3, 4}}, {{1, 4}, {3, 1}}, {{3, 1}, {1, 4}}, {{1, 1}, {1, 1}}};
  std::uint64_t seed = 10;
  for (const auto& [sa, sb] : pairs) {
    SCOPED_TRACE("(" + std::to_string(sa.r) + ", " + std::to_string(sa.c) + ") with (" +
                 std::to_string(sb.r) + ", " + std::to_string(sb.c) + ")");
    const TensorD a = input(sa.r, sa.c, ++seed), b = input(sb.r, sb.c, ++seed);
    const TensorD b_pos = positive(sb.r, sb.c, ++seed);  // a divisor away from 0
    CHECK_GRAD(x[0] + x[1], a, b);
    CHECK_GRAD(x[0] - x[1], a, b);
    CHECK_GRAD(x[0] * x[1], a, b);
    CHECK_GRAD(x[0] / x[1], a, b_pos);
  }
}

TEST(Gradcheck, TensorWithDoubleOnEitherSide) {
  const TensorD a = input(3, 4, 1), a_pos = positive(3, 4, 2);
  CHECK_GRAD(x[0] + 2.5, a);
  CHECK_GRAD(2.5 + x[0], a);
  CHECK_GRAD(x[0] - 2.5, a);
  CHECK_GRAD(2.5 - x[0], a);
  CHECK_GRAD(x[0] * 2.5, a);
  CHECK_GRAD(2.5 * x[0], a);
  CHECK_GRAD(x[0] / 2.5, a);
  CHECK_GRAD(2.5 / x[0], a_pos);
  CHECK_GRAD(-x[0], a);
}

TEST(Gradcheck, SumAndMeanOverAllAndEachAxis) {
  const TensorD a = input(3, 4, 1);
  CHECK_GRAD(x[0].sum(), a);
  CHECK_GRAD(x[0].sum(0), a);
  CHECK_GRAD(x[0].sum(1), a);
  CHECK_GRAD(x[0].mean(), a);
  CHECK_GRAD(x[0].mean(0), a);
  CHECK_GRAD(x[0].mean(1), a);
  CHECK_GRAD(slope::sum(x[0] * x[0]), a);
  CHECK_GRAD(slope::mean(x[0] * x[0]), a);
}

TEST(Gradcheck, ExpLogPow) {
  CHECK_GRAD(x[0].exp(), input(3, 4, 1));
  CHECK_GRAD(slope::exp(x[0]), input(3, 4, 2));
  CHECK_GRAD(x[0].log(), positive(3, 4, 3));
  CHECK_GRAD(slope::log(x[0]), positive(3, 4, 4));
  CHECK_GRAD(x[0].pow(2.0), input(3, 4, 5));
  CHECK_GRAD(x[0].pow(3.0), input(3, 4, 6));
  CHECK_GRAD(x[0].pow(-1.0), positive(3, 4, 7));
  CHECK_GRAD(x[0].pow(0.5), positive(3, 4, 8));
  CHECK_GRAD(slope::pow(x[0], -2.5), positive(3, 4, 9));
  CHECK_GRAD(x[0].pow(0.0) * x[0], input(3, 4, 10));
}

TEST(Gradcheck, SoftmaxAndLogSoftmax) {
  CHECK_GRAD(slope::softmax(x[0]), input(4, 5, 1));
  CHECK_GRAD(slope::log_softmax(x[0]), input(4, 5, 2));
  CHECK_GRAD(slope::softmax(x[0]), input(1, 1, 3));             // a single class: constant 1
  CHECK_GRAD(slope::log_softmax(x[0] * 20.0), input(3, 3, 4));  // peaked rows
}

TEST(Gradcheck, EveryLossWithRespectToBothArguments) {
  CHECK_GRAD(slope::mse_loss(x[0], x[1]), input(4, 3, 1), input(4, 3, 2));
  const std::vector<int> labels = {0, 2, 1, 2};
  expect_gradcheck("cross_entropy",
                   [&](const Inputs& x) { return slope::cross_entropy(x[0], labels); },
                   {input(4, 3, 3)});
  CHECK_GRAD(slope::binary_cross_entropy_with_logits(x[0], x[1]), input(4, 3, 4, -4.0, 4.0),
             input(4, 3, 5, 0.0, 1.0));
  // Scores away from the margin 1 - y s = 0, targets +-1 and then general numbers.
  TensorD scores = input(4, 3, 6, -3.0, 3.0);
  TensorD signs(random(4, 3, 7).cwiseSign());
  for (Eigen::Index i = 0; i < scores.value().size(); ++i)
    if (std::abs(1.0 - signs.value()(i) * scores.value()(i)) < 0.1) scores.value()(i) += 0.3;
  CHECK_GRAD(slope::hinge_loss(x[0], x[1]), scores, signs);
}

// Every activation of the registry, by name and (where there is one) by method.
TEST(Gradcheck, EveryRegisteredActivation) {
  ASSERT_GE(slope::activations().size(), 10u);
  for (const std::string& name : slope::activations()) {
    SCOPED_TRACE(name);
    for (const auto& [lo, hi] : std::vector<std::pair<double, double>>{{-3, 3}, {-8, 8}}) {
      const slope::GradcheckResult r = slope::gradcheck(
          [&](const Inputs& x) { return slope::apply(x[0], name); }, {input(5, 6, 99, lo, hi)});
      EXPECT_TRUE(r.ok) << name << " on [" << lo << ", " << hi << "]: " << r.worst;
    }
    // Composed: the activation inside a layer, so its backward meets a non-trivial grad.
    const slope::GradcheckResult r = slope::gradcheck(
        [&](const Inputs& x) {
          return slope::mse_loss(slope::apply(slope::linear(x[0], x[1], x[2]), name), x[3]);
        },
        {input(4, 3, 1), input(5, 3, 2), input(1, 5, 3), input(4, 5, 4)});
    EXPECT_TRUE(r.ok) << name << " in a layer: " << r.worst;
  }
  CHECK_GRAD(x[0].relu(), input(3, 4, 5));
  CHECK_GRAD(x[0].sigmoid(), input(3, 4, 6));
  CHECK_GRAD(x[0].tanh(), input(3, 4, 7));
  CHECK_GRAD(x[0].gelu(), input(3, 4, 8));
  CHECK_GRAD(slope::relu(x[0]) + slope::sigmoid(x[0]) + slope::tanh(x[0]) + slope::gelu(x[0]),
             input(3, 4, 9));
}

TEST(Gradcheck, ATwoLayerNetworkEndToEnd) {
  const std::vector<int> labels = {1, 0, 2, 1, 0};
  expect_gradcheck(
      "mlp",
      [&](const Inputs& x) {
        const TensorD h = slope::linear(x[0], x[1], x[2]).tanh();
        return slope::cross_entropy(slope::linear(h, x[3], x[4]), labels) +
               (x[1] * x[1]).sum() * 1e-2;
      },
      {input(5, 4, 1), input(6, 4, 2), input(1, 6, 3), input(3, 6, 4), input(1, 3, 5)});
}

// --- the checker can fail ------------------------------------------------------------

// x^2 built through the public node() API, as a user adds an op, with a backward that
// multiplies by `factor` * x instead of 2 x.
TensorD square(const TensorD& x, double factor) {
  auto n = std::make_shared<TensorD::Node>();
  n->value = x.value().cwiseProduct(x.value());
  n->op = "square";
  n->requires_grad = x.requires_grad() && slope::grad_enabled();
  if (n->requires_grad) {
    n->parents = {x.node()};
    n->backward = [factor](TensorD::Node& self) {
      TensorD::Node& p = *self.parents[0];
      p.accumulate(self.grad.cwiseProduct(p.value) * factor);
    };
  }
  return TensorD(n);
}

TEST(Gradcheck, PassesACorrectUserOp) {
  const slope::GradcheckResult r =
      slope::gradcheck([](const Inputs& x) { return square(x[0], 2.0); }, {input(3, 4, 1)});
  EXPECT_TRUE(r.ok) << r.worst;
}

TEST(Gradcheck, FailsAWrongBackwardAndSaysWhere) {
  const slope::GradcheckResult r =
      slope::gradcheck([](const Inputs& x) { return square(x[0], 1.0); }, {input(3, 4, 1)});
  EXPECT_FALSE(r.ok);
  EXPECT_GT(r.max_abs_error, 0.1);
  EXPECT_NE(r.worst.find("input 0"), std::string::npos) << r.worst;
}

TEST(Gradcheck, FailsABackwardOffByOnePercent) {
  // rtol is 1e-3, so a 1% error in the slope must not pass.
  const slope::GradcheckResult r = slope::gradcheck(
      [](const Inputs& x) { return square(x[0], 2.02); }, {input(3, 4, 1, 1.0, 3.0)});
  EXPECT_FALSE(r.ok) << r.worst;
}

TEST(Gradcheck, FailsAGradientThatMissesOneInput) {
  // The second input's gradient is dropped: detach() hides it from the graph.
  const slope::GradcheckResult r = slope::gradcheck(
      [](const Inputs& x) { return x[0] * x[1].detach(); }, {input(2, 3, 1), input(2, 3, 2)});
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.worst.find("input 1"), std::string::npos) << r.worst;
}

}  // namespace

// `worst` names the element that fails, not the one with the largest error: a huge
// gradient may carry a large absolute rounding error well inside its relative tolerance.
TEST(Gradcheck, WorstNamesTheFailingElementNotTheLargestError) {
  const slope::TensorD big(slope::TensorD::Matrix::Constant(1, 1, 1.0));
  const slope::TensorD wrong(slope::TensorD::Matrix::Constant(1, 1, 0.01));
  const slope::GradcheckResult r = slope::gradcheck(
      [](const std::vector<slope::TensorD>& in) {
        // d/dx of 1e12 x^2 is right but rounds to within ~1e-4 relative; d/dx of
        // detach(x) * x is x analytically and 2x numerically: wrong by 0.01.
        return in[0] * in[0] * 1e12 + in[1].detach() * in[1];
      },
      {big, wrong});
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.worst.find("input 1 element (0, 0)"), std::string::npos) << r.worst;
  EXPECT_NE(r.worst.find("against a tolerance of"), std::string::npos) << r.worst;
  EXPECT_GT(r.max_abs_error, 0.011) << "the large gradient's error should be the largest";
}
