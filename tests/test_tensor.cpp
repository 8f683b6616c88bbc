// slope::Tensor forward values against numbers worked by hand, the losses against
// PyTorch's documented formulas, numerical stability at logits of +-1000, and the
// errors a user meets: shape mismatches, backward on the wrong tensor, bad labels.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include <slope/slope.hpp>

#include "strings.hpp"

namespace {

using slope::Tensor;
using slope::TensorD;
using M = TensorD::Matrix;

using slope::test::contains;

void expect_matrix_near(const M& got, const M& want, double tol = 1e-12) {
  ASSERT_EQ(got.rows(), want.rows());
  ASSERT_EQ(got.cols(), want.cols());
  for (Eigen::Index i = 0; i < got.rows(); ++i)
    for (Eigen::Index j = 0; j < got.cols(); ++j)
      EXPECT_NEAR(got(i, j), want(i, j), tol) << "element (" << i << ", " << j << ")";
}

M mat(std::initializer_list<std::initializer_list<double>> rows) {
  return TensorD::from(rows).value();
}

// --- forward values ---------------------------------------------------------------

TEST(Tensor, ConstructionAndShape) {
  const TensorD z = TensorD::zeros(2, 3);
  EXPECT_EQ(z.rows(), 2);
  EXPECT_EQ(z.cols(), 3);
  EXPECT_EQ(z.shape(), "(2, 3)");
  EXPECT_FALSE(z.requires_grad());
  EXPECT_EQ(z.value().sum(), 0.0);
  const TensorD f = TensorD::full(1, 2, 7.5, true);
  EXPECT_TRUE(f.requires_grad());
  expect_matrix_near(f.value(), mat({{7.5, 7.5}}));
  EXPECT_THROW(TensorD::from({{1, 2}, {3}}), slope::ShapeError);
}

TEST(Tensor, CopiesShareValueAndGradLikePythonNames) {
  TensorD a = TensorD::from({{1, 2}}, true);
  const TensorD b = a;
  b.value()(0, 0) = 10;
  EXPECT_EQ(a.value()(0, 0), 10);
  (b * 3.0).sum().backward();
  expect_matrix_near(a.grad(), mat({{3, 3}}));
}

TEST(Tensor, GradBeforeBackwardIsZerosOfTheShape) {
  const TensorD a = TensorD::zeros(2, 3, true);
  expect_matrix_near(a.grad(), M::Zero(2, 3));
}

TEST(Tensor, MatmulOfSmallMatrices) {
  const TensorD a = TensorD::from({{1, 2, 3}, {4, 5, 6}});
  const TensorD b = TensorD::from({{7, 8}, {9, 10}, {11, 12}});
  // 1*7 + 2*9 + 3*11 = 58, 1*8 + 2*10 + 3*12 = 64, 4*7 + 5*9 + 6*11 = 139, ... = 154
  expect_matrix_near(slope::matmul(a, b).value(), mat({{58, 64}, {139, 154}}));
  expect_matrix_near(a.t().value(), mat({{1, 4}, {2, 5}, {3, 6}}));
  expect_matrix_near(slope::transpose(a).value(), mat({{1, 4}, {2, 5}, {3, 6}}));
}

TEST(Tensor, LinearIsXTimesWTransposePlusB) {
  const TensorD x = TensorD::from({{1, 2}, {3, 4}});
  const TensorD w = TensorD::from({{1, 0}, {0, 1}, {1, 1}});  // (out 3, in 2)
  const TensorD b = TensorD::from({{10, 20, 30}});
  expect_matrix_near(slope::linear(x, w, b).value(), mat({{11, 22, 33}, {13, 24, 37}}));
  expect_matrix_near(slope::linear(x, w, TensorD()).value(), mat({{1, 2, 3}, {3, 4, 7}}));
}

TEST(Tensor, BroadcastingRowColumnScalarAndOuter) {
  const TensorD a = TensorD::from({{1, 2, 3}, {4, 5, 6}});
  const TensorD row = TensorD::from({{10, 20, 30}});
  const TensorD col = TensorD::from({{100}, {200}});
  const TensorD one = TensorD::from({{2}});
  expect_matrix_near((a + row).value(), mat({{11, 22, 33}, {14, 25, 36}}));
  expect_matrix_near((row + a).value(), mat({{11, 22, 33}, {14, 25, 36}}));
  expect_matrix_near((a + col).value(), mat({{101, 102, 103}, {204, 205, 206}}));
  expect_matrix_near((a * one).value(), mat({{2, 4, 6}, {8, 10, 12}}));
  expect_matrix_near((one - a).value(), mat({{1, 0, -1}, {-2, -3, -4}}));
  expect_matrix_near((a / row).value(), mat({{0.1, 0.1, 0.1}, {0.4, 0.25, 0.2}}));
  expect_matrix_near((row + col).value(), mat({{110, 120, 130}, {210, 220, 230}}));
  expect_matrix_near((a * col).value(), mat({{100, 200, 300}, {800, 1000, 1200}}));
}

TEST(Tensor, BroadcastGradientsSumOverTheStretchedDimension) {
  const TensorD a = TensorD::from({{1, 2, 3}, {4, 5, 6}}, true);
  const TensorD row = TensorD::from({{1, 1, 1}}, true);
  const TensorD col = TensorD::from({{1}, {1}}, true);
  const TensorD s = TensorD::from({{1}}, true);
  ((a + row) * col * s).sum().backward();
  expect_matrix_near(row.grad(), mat({{2, 2, 2}}));  // two rows each
  // d/dcol_i = sum_j (a_ij + row_j): 1+2+3+3 = 9, 4+5+6+3 = 18
  expect_matrix_near(col.grad(), mat({{9}, {18}}));
  expect_matrix_near(s.grad(), mat({{27}}));
  expect_matrix_near(a.grad(), M::Ones(2, 3));
}

TEST(Tensor, ScalarsOnEitherSide) {
  const TensorD a = TensorD::from({{1, 2}, {4, 8}});
  expect_matrix_near((a + 1.0).value(), mat({{2, 3}, {5, 9}}));
  expect_matrix_near((1.0 + a).value(), mat({{2, 3}, {5, 9}}));
  expect_matrix_near((a - 1.0).value(), mat({{0, 1}, {3, 7}}));
  expect_matrix_near((1.0 - a).value(), mat({{0, -1}, {-3, -7}}));
  expect_matrix_near((a * 2.0).value(), mat({{2, 4}, {8, 16}}));
  expect_matrix_near((2.0 * a).value(), mat({{2, 4}, {8, 16}}));
  expect_matrix_near((a / 2.0).value(), mat({{0.5, 1}, {2, 4}}));
  expect_matrix_near((8.0 / a).value(), mat({{8, 4}, {2, 1}}));
  expect_matrix_near((-a).value(), mat({{-1, -2}, {-4, -8}}));
}

TEST(Tensor, SumAndMeanOverAllAndEachAxis) {
  const TensorD a = TensorD::from({{1, 2, 3}, {4, 5, 6}});
  EXPECT_EQ(a.sum().item(), 21);
  EXPECT_EQ(a.mean().item(), 3.5);
  expect_matrix_near(a.sum(0).value(), mat({{5, 7, 9}}));
  expect_matrix_near(a.sum(1).value(), mat({{6}, {15}}));
  expect_matrix_near(a.mean(0).value(), mat({{2.5, 3.5, 4.5}}));
  expect_matrix_near(a.mean(1).value(), mat({{2}, {5}}));
  EXPECT_THROW(a.sum(2), std::invalid_argument);
  // The error names the op the user called.
  try {
    a.mean(-1);
    FAIL() << "mean(-1) accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "slope::Tensor::mean: axis must be 0 or 1, got -1");
  }
}

TEST(Tensor, ExpLogPowElementwise) {
  const TensorD a = TensorD::from({{1, 2}, {0.5, 4}});
  expect_matrix_near(a.exp().value(),
                     mat({{std::exp(1.0), std::exp(2.0)}, {std::exp(0.5), std::exp(4.0)}}));
  expect_matrix_near(a.log().value(), mat({{0, std::log(2.0)}, {std::log(0.5), std::log(4.0)}}));
  expect_matrix_near(a.pow(2).value(), mat({{1, 4}, {0.25, 16}}));
  expect_matrix_near(a.pow(0.5).value(), mat({{1, std::sqrt(2.0)}, {std::sqrt(0.5), 2}}));
}

TEST(Tensor, SoftmaxRowsSumToOneAndMatchExpOverSum) {
  const TensorD z = TensorD::from({{1, 2, 3}, {-1, 0, 5}, {0, 0, 0}});
  const M s = slope::softmax(z).value();
  const M ls = slope::log_softmax(z).value();
  for (Eigen::Index i = 0; i < 3; ++i) {
    double denom = 0;
    for (Eigen::Index j = 0; j < 3; ++j) denom += std::exp(z.value()(i, j));
    double row = 0;
    for (Eigen::Index j = 0; j < 3; ++j) {
      EXPECT_NEAR(s(i, j), std::exp(z.value()(i, j)) / denom, 1e-15);
      EXPECT_NEAR(ls(i, j), z.value()(i, j) - std::log(denom), 1e-14);
      row += s(i, j);
    }
    EXPECT_NEAR(row, 1.0, 1e-15);
  }
  EXPECT_NEAR(s(2, 0), 1.0 / 3.0, 1e-15);
}

// --- losses against PyTorch's formulas, worked by hand -----------------------------

TEST(Losses, MseIsTheMeanOverAllElements) {
  const TensorD pred = TensorD::from({{1, 2}, {3, 4}});
  const TensorD target = TensorD::from({{0, 2}, {5, 4}});
  EXPECT_DOUBLE_EQ(slope::mse_loss(pred, target).item(), (1.0 + 0 + 4 + 0) / 4);
}

TEST(Losses, MseGradientIsTwoDiffOverN) {
  const TensorD pred = TensorD::from({{1, 2}, {3, 4}}, true);
  const TensorD target = TensorD::from({{0, 2}, {5, 4}}, true);
  slope::mse_loss(pred, target).backward();
  expect_matrix_near(pred.grad(), mat({{0.5, 0}, {-1, 0}}));
  expect_matrix_near(target.grad(), mat({{-0.5, 0}, {1, 0}}));
}

TEST(Losses, CrossEntropyIsTheMeanOverRowsOfMinusLogSoftmaxAtTheLabel) {
  const TensorD logits = TensorD::from({{1, 2, 3}, {1, 1, 1}}, true);
  const double row0 = -std::log(std::exp(3.0) / (std::exp(1.0) + std::exp(2.0) + std::exp(3.0)));
  const double row1 = std::log(3.0);
  const TensorD loss = slope::cross_entropy(logits, {2, 0});
  EXPECT_NEAR(loss.item(), (row0 + row1) / 2, 1e-15);
  loss.backward();
  // PyTorch: d/dz = (softmax(z) - onehot) / rows
  const double e = std::exp(1.0) + std::exp(2.0) + std::exp(3.0);
  expect_matrix_near(
      logits.grad(),
      mat({{std::exp(1.0) / e / 2, std::exp(2.0) / e / 2, (std::exp(3.0) / e - 1) / 2},
           {(1.0 / 3 - 1) / 2, 1.0 / 6, 1.0 / 6}}),
      1e-15);
}

TEST(Losses, BinaryCrossEntropyWithLogitsMatchesTheTextbookForm) {
  const TensorD x = TensorD::from({{0.5, -1.5}, {2.0, 0.0}});
  const TensorD y = TensorD::from({{1, 0}, {0.25, 1}});
  double want = 0;
  for (Eigen::Index i = 0; i < 4; ++i) {
    const double s = 1.0 / (1.0 + std::exp(-x.value()(i)));
    want += -(y.value()(i) * std::log(s) + (1 - y.value()(i)) * std::log(1 - s));
  }
  EXPECT_NEAR(slope::binary_cross_entropy_with_logits(x, y).item(), want / 4, 1e-15);
}

TEST(Losses, HingeIsTheMeanOfMaxZeroOneMinusYS) {
  const TensorD s = TensorD::from({{2.0}, {0.5}, {-1.0}, {-0.25}});
  const TensorD y = TensorD::from({{1}, {1}, {1}, {-1}});
  // max(0, 1-2) = 0, 1-0.5 = 0.5, 1+1 = 2, 1-0.25 = 0.75
  EXPECT_DOUBLE_EQ(slope::hinge_loss(s, y).item(), (0 + 0.5 + 2 + 0.75) / 4);
}

// --- numerical stability -----------------------------------------------------------

bool all_finite(const M& m) { return m.allFinite(); }

TEST(Stability, CrossEntropyAtLogitsOfPlusMinus1000) {
  const TensorD z = TensorD::from({{1000, -1000}, {-1000, 1000}}, true);
  const TensorD loss = slope::cross_entropy(z, {0, 0});
  EXPECT_NEAR(loss.item(), (0.0 + 2000.0) / 2, 1e-9);
  loss.backward();
  EXPECT_TRUE(all_finite(z.grad()));
  expect_matrix_near(z.grad(), mat({{0, 0}, {-0.5, 0.5}}));
  const Tensor zf = Tensor::from({{1000, -1000}, {-1000, 1000}}, true);
  const Tensor lf = slope::cross_entropy(zf, {0, 0});
  EXPECT_NEAR(lf.item(), 1000.0f, 1e-3f);
  lf.backward();
  EXPECT_TRUE(zf.grad().allFinite());
}

TEST(Stability, SoftmaxAndLogSoftmaxAtPlusMinus1000) {
  const TensorD z = TensorD::from({{1000, -1000, 0}}, true);
  const TensorD s = slope::softmax(z), ls = slope::log_softmax(z);
  expect_matrix_near(s.value(), mat({{1, 0, 0}}));
  expect_matrix_near(ls.value(), mat({{0, -2000, -1000}}), 1e-9);
  (s * TensorD::from({{1, 2, 3}})).sum().backward();
  EXPECT_TRUE(all_finite(z.grad()));
  z.zero_grad();
  (ls * TensorD::from({{1, 2, 3}})).sum().backward();
  EXPECT_TRUE(all_finite(z.grad()));
  const Tensor zf = Tensor::from({{1000, -1000, 0}}, true);
  slope::log_softmax(zf).sum().backward();
  EXPECT_TRUE(slope::log_softmax(zf).value().allFinite());
  EXPECT_TRUE(zf.grad().allFinite());
}

TEST(Stability, BinaryCrossEntropyWithLogitsAtPlusMinus1000) {
  const TensorD x = TensorD::from({{1000, -1000, 1000, -1000}}, true);
  const TensorD y = TensorD::from({{1, 0, 0, 1}});
  const TensorD loss = slope::binary_cross_entropy_with_logits(x, y);
  EXPECT_NEAR(loss.item(), (0 + 0 + 1000 + 1000) / 4.0, 1e-9);
  loss.backward();
  // (sigmoid(x) - y) / n
  expect_matrix_near(x.grad(), mat({{0, 0, 0.25, -0.25}}));
  const Tensor xf = Tensor::from({{1000, -1000}}, true);
  const Tensor lf = slope::binary_cross_entropy_with_logits(xf, Tensor::from({{0, 1}}));
  EXPECT_NEAR(lf.item(), 1000.0f, 1e-3f);
  lf.backward();
  EXPECT_TRUE(xf.grad().allFinite());
}

TEST(Stability, EveryActivationIsFiniteAtPlusMinus1000InFloatAndDouble) {
  for (const std::string& name : slope::activations()) {
    SCOPED_TRACE(name);
    const TensorD xd = TensorD::from({{1000, -1000, 0, 1e-30, -1e-30}}, true);
    const TensorD yd = slope::apply(xd, name);
    EXPECT_TRUE(all_finite(yd.value())) << yd.value();
    yd.sum().backward();
    EXPECT_TRUE(all_finite(xd.grad())) << xd.grad();
    const Tensor xf = Tensor::from({{1000, -1000, 0, 1e-30f, -1e-30f}}, true);
    const Tensor yf = slope::apply(xf, name);
    EXPECT_TRUE(yf.value().allFinite()) << yf.value();
    yf.sum().backward();
    EXPECT_TRUE(xf.grad().allFinite()) << xf.grad();
  }
}

// --- errors ------------------------------------------------------------------------

template <class F> std::string shape_error_message(F&& f) {
  try {
    f();
  } catch (const slope::ShapeError& e) {
    const std::invalid_argument& base = e;  // a ShapeError is an invalid_argument
    return base.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "threw something other than slope::ShapeError: " << e.what();
    return "";
  }
  ADD_FAILURE() << "did not throw";
  return "";
}

TEST(Errors, ShapeMismatchNamesTheOpAndBothShapes) {
  const TensorD a = TensorD::zeros(2, 3), b = TensorD::zeros(4, 5);
  const std::string msg = shape_error_message([&] { slope::matmul(a, b); });
  EXPECT_TRUE(contains(msg, "matmul")) << msg;
  EXPECT_TRUE(contains(msg, "(2, 3)")) << msg;
  EXPECT_TRUE(contains(msg, "(4, 5)")) << msg;

  struct Case {
    const char* op;
    std::function<void()> f;
  };
  const TensorD c = TensorD::full(3, 2, 1.0);
  const std::vector<Case> cases = {
      {"add", [&] { a + c; }},
      {"add", [&] { a - c; }},
      {"mul", [&] { a* c; }},
      {"mul", [&] { a / c; }},
      {"linear", [&] { slope::linear(a, c, TensorD()); }},
      {"mse_loss", [&] { slope::mse_loss(a, c); }},
      {"binary_cross_entropy_with_logits", [&] { slope::binary_cross_entropy_with_logits(a, c); }},
      {"hinge_loss", [&] { slope::hinge_loss(a, c); }},
  };
  for (const Case& k : cases) {
    const std::string m = shape_error_message(k.f);
    EXPECT_TRUE(contains(m, k.op)) << k.op << ": " << m;
    EXPECT_TRUE(contains(m, "(2, 3)")) << k.op << ": " << m;
  }
  EXPECT_TRUE(contains(shape_error_message([&] { slope::mse_loss(a, c); }), "(3, 2)"));
  EXPECT_THROW(slope::matmul(a, b), std::invalid_argument);
  // A row of the wrong width does not broadcast.
  EXPECT_THROW(a + TensorD::zeros(1, 2), slope::ShapeError);
  EXPECT_THROW(a + TensorD::zeros(3, 1), slope::ShapeError);
}

TEST(Errors, LinearWithAWeightOfTheWrongInFeatures) {
  const TensorD x = TensorD::zeros(4, 3), w = TensorD::zeros(5, 2);
  const std::string msg = shape_error_message([&] { slope::linear(x, w, TensorD()); });
  EXPECT_TRUE(contains(msg, "linear")) << msg;
  EXPECT_TRUE(contains(msg, "(4, 3)")) << msg;
  EXPECT_TRUE(contains(msg, "(5, 2)")) << msg;
}

TEST(Errors, BackwardOnANonScalarWithoutASeedNamesItsShape) {
  const TensorD x = TensorD::zeros(2, 3, true);
  const TensorD y = x * 2.0;
  try {
    y.backward();
    FAIL() << "backward() on a (2, 3) tensor did not throw";
  } catch (const std::exception& e) {
    EXPECT_TRUE(contains(e.what(), "(2, 3)")) << e.what();
  }
  // With a seed of its shape it works: the gradient of sum(y * seed).
  y.backward(M::Constant(2, 3, 0.5));
  expect_matrix_near(x.grad(), M::Constant(2, 3, 1.0));
  EXPECT_THROW(y.backward(M::Ones(3, 2)), slope::ShapeError);
}

TEST(Errors, BackwardOnATensorThatRequiresNoGradThrows) {
  const TensorD x = TensorD::from({{1, 2}});
  EXPECT_THROW((x * 2.0).sum().backward(), std::invalid_argument);
}

TEST(Errors, ItemOnANonScalarThrowsShapeError) {
  EXPECT_THROW(TensorD::zeros(2, 1).item(), slope::ShapeError);
  EXPECT_THROW(TensorD::zeros(1, 2).item(), slope::ShapeError);
  EXPECT_THROW(TensorD().item(), slope::ShapeError);
  EXPECT_EQ(TensorD::full(1, 1, 4.25).item(), 4.25);
}

TEST(Errors, CrossEntropyLabelOutOfRangeNamesTheRow) {
  const TensorD z = TensorD::zeros(3, 4);
  for (int bad : {4, -1}) {
    try {
      slope::cross_entropy(z, {0, bad, 1});
      FAIL() << "label " << bad << " accepted";
    } catch (const std::invalid_argument& e) {
      EXPECT_TRUE(contains(e.what(), "row 1")) << e.what();
      EXPECT_TRUE(contains(e.what(), std::to_string(bad))) << e.what();
    }
  }
  EXPECT_THROW(slope::cross_entropy(z, {0, 1}), std::invalid_argument);  // too few labels
}

TEST(Errors, UnknownActivationListsTheValidNames) {
  try {
    slope::apply(TensorD::zeros(1, 1), std::string("relu6"));
    FAIL();
  } catch (const std::invalid_argument& e) {
    for (const std::string& name : slope::activations())
      EXPECT_TRUE(contains(e.what(), name)) << e.what();
  }
}

TEST(Errors, LogOfANonPositiveElementIsADomainError) {
  EXPECT_THROW(TensorD::from({{1, 0}}).log(), std::domain_error);
  EXPECT_THROW(TensorD::from({{-1, 2}}).log(), std::domain_error);
}

// --- graph behaviour ---------------------------------------------------------------

TEST(Graph, NoGradBuildsNoGraphButComputesAndRestores) {
  const TensorD w = TensorD::from({{1, 2}}, true);
  EXPECT_TRUE(slope::grad_enabled());
  {
    slope::no_grad guard;
    EXPECT_FALSE(slope::grad_enabled());
    const TensorD y = (w * 3.0).relu().sum();
    EXPECT_FALSE(y.requires_grad());
    EXPECT_EQ(y.item(), 9.0);
    EXPECT_THROW(y.backward(), std::invalid_argument);
    { slope::no_grad nested; }
    EXPECT_FALSE(slope::grad_enabled()) << "a nested scope restores the outer one";
  }
  EXPECT_TRUE(slope::grad_enabled());
  const TensorD y = (w * 3.0).sum();
  EXPECT_TRUE(y.requires_grad());
  y.backward();
  expect_matrix_near(w.grad(), mat({{3, 3}}));
}

TEST(Graph, LeafGradientsAccumulateAcrossBackwardCalls) {
  const TensorD x = TensorD::from({{1, -2}}, true);
  const TensorD y = (x * x * 0.5 + x * 3.0).sum();  // dy/dx = x + 3
  y.backward();
  expect_matrix_near(x.grad(), mat({{4, 1}}));
  y.backward();  // the same graph again: leaves accumulate, intermediates are recomputed
  expect_matrix_near(x.grad(), mat({{8, 2}}));
  x.zero_grad();
  expect_matrix_near(x.grad(), mat({{0, 0}}));
  (x * 2.0).sum().backward();
  expect_matrix_near(x.grad(), mat({{2, 2}}));
}

TEST(Graph, ATensorUsedTwiceGetsBothContributions) {
  const TensorD x = TensorD::from({{3}}, true);
  const TensorD y = x * x + x;  // 2x + 1 = 7
  y.backward();
  EXPECT_EQ(x.grad()(0, 0), 7.0);
}

TEST(Graph, DetachCutsTheGraph) {
  const TensorD x = TensorD::from({{3}}, true);
  const TensorD d = x.detach();
  EXPECT_FALSE(d.requires_grad());
  EXPECT_EQ(d.item(), 3.0);
  (x * d).backward();
  EXPECT_EQ(x.grad()(0, 0), 3.0);
}

TEST(Graph, OpNamesTheOperation) {
  const TensorD x = TensorD::from({{3}}, true);
  EXPECT_STREQ(x.op(), "leaf");
  EXPECT_STREQ(slope::matmul(x, x).op(), "matmul");
  EXPECT_STREQ(slope::apply(x, "gelu").op(), "gelu");
}

TEST(Graph, ADeepChainBackpropagatesWithoutRecursion) {
  const TensorD x = TensorD::from({{1}}, true);
  TensorD y = x;
  for (int i = 0; i < 10000; ++i) y = y + 1.0;
  y.backward();
  EXPECT_EQ(x.grad()(0, 0), 1.0);
  EXPECT_EQ(y.item(), 10001.0);
}

// As the scalar engine, a Tensor chain of 1,000,000 ops backpropagates and is destroyed
// without recursing once per node (it once overflowed the stack in shared_ptr's
// nested destructors).
TEST(Graph, AMillionNodeChainIsBuiltBackpropagatedAndDestroyed) {
  const TensorD x = TensorD::from({{1}}, true);
  {
    TensorD y = x;
    for (int i = 0; i < 1000000; ++i) y = y + 1.0;
    y.backward();
  }
  EXPECT_EQ(x.grad()(0, 0), 1.0);
}

// --- float and double through one template ------------------------------------------

template <class T> class BothPrecisions : public ::testing::Test {};
using Precisions = ::testing::Types<float, double>;
TYPED_TEST_SUITE(BothPrecisions, Precisions);

TYPED_TEST(BothPrecisions, ATrainingStepWorksAndMatchesByHand) {
  using T = TypeParam;
  using Ten = slope::BasicTensor<T>;
  const Ten x = Ten::from({{1, 2}, {3, 4}});
  const Ten w = Ten::from({{0.5, -0.5}}, true);  // (1, 2)
  const Ten y = Ten::from({{1}, {0}});
  const Ten loss = slope::mse_loss(slope::matmul(x, w.t()), y);
  // pred = (-0.5, -0.5); diffs (-1.5, -0.5); mse = (2.25 + 0.25) / 2 = 1.25
  EXPECT_NEAR(static_cast<double>(loss.item()), 1.25, 1e-6);
  loss.backward();
  // d/dw = sum_i 2 diff_i x_i / 2 = (-1.5 * 1 - 0.5 * 3, -1.5 * 2 - 0.5 * 4) = (-3, -5)
  EXPECT_NEAR(static_cast<double>(w.grad()(0, 0)), -3.0, 1e-6);
  EXPECT_NEAR(static_cast<double>(w.grad()(0, 1)), -5.0, 1e-6);
  static_assert(std::is_same_v<typename Ten::Matrix::Scalar, T>);
}

TEST(BothPrecisionsAgree, FloatMatchesDoubleOnEveryActivationAndLoss) {
  const TensorD zd = TensorD::from({{0.3, -1.2, 2.5}, {-0.7, 0.1, 1.9}});
  const Tensor zf(zd.value().cast<float>());
  for (const std::string& name : slope::activations()) {
    const M a = slope::apply(zd, name).value();
    const M b = slope::apply(zf, name).value().cast<double>();
    EXPECT_LT((a - b).cwiseAbs().maxCoeff(), 1e-6) << name;
  }
  EXPECT_NEAR(slope::cross_entropy(zf, {1, 2}).item(), slope::cross_entropy(zd, {1, 2}).item(),
              1e-6);
}

}  // namespace

// The share of rows whose largest logit is at the label, counted by hand.
TEST(Accuracy, CountsRowsWhoseArgmaxIsTheLabel) {
  const TensorD logits = TensorD::from({{2, 1, 0}, {0, 3, 1}, {1, 0, 5}, {4, 4.5, 0}});
  // argmax per row: 0, 1, 2, 1; labels 0, 1, 0, 1 -> 3 of 4 right.
  EXPECT_EQ(slope::accuracy(logits, {0, 1, 0, 1}), 0.75);
  EXPECT_THROW(slope::accuracy(logits, {0, 1}), slope::ShapeError);
}

// --- linear with an activation: one fused op, the numbers of the two ops it replaces ---

// For every registered activation, in double: the fused op's value equals
// apply_activation(linear(...)) exactly (same products, same bias add, same kernel), and
// its gradients for x, weight and bias agree with the two-op graph's to rounding (the bias
// gradient is summed per column in the fused pass); finite differences agree too.
TEST(LinearActivation, EqualsLinearThenActivationForEveryActivation) {
  slope::Rng rng(11);
  for (std::size_t id = 0; id < slope::act::count; ++id) {
    const std::string name(slope::act::entries()[id].info.name);
    SCOPED_TRACE(name);
    slope::nn::LinearD fc(7, 5, true, slope::nn::Init::xavier_uniform(), rng);
    const slope::TensorD x(slope::TensorD::Matrix::Random(6, 7) * 2.0, true);
    const slope::TensorD::Matrix g = slope::TensorD::Matrix::Random(6, 5);

    slope::TensorD pre;
    slope::TensorD fused = slope::linear(x, fc.weight, fc.bias, id, &pre);
    fused.backward(g);
    const slope::TensorD::Matrix gx = x.grad(), gw = fc.weight.grad(), gb = fc.bias.grad();
    x.zero_grad();
    fc.zero_grad();
    slope::TensorD z = slope::linear(x, fc.weight, fc.bias);
    slope::TensorD two = slope::apply_activation(z, id);
    two.backward(g);

    EXPECT_EQ(fused.value(), two.value());
    EXPECT_EQ(pre.value(), z.value());  // the pre-activation handed out for the probes
    EXPECT_FALSE(pre.requires_grad());
    EXPECT_STREQ(fused.op(), slope::act::entries()[id].info.name.data());
    EXPECT_LT((gx - x.grad()).cwiseAbs().maxCoeff(), 1e-14);
    EXPECT_LT((gw - fc.weight.grad()).cwiseAbs().maxCoeff(), 1e-14);
    EXPECT_LT((gb - fc.bias.grad()).cwiseAbs().maxCoeff(), 1e-14);

    const auto r = slope::gradcheck(
        [id](const std::vector<slope::TensorD>& v) { return slope::linear(v[0], v[1], v[2], id); },
        {x, fc.weight, fc.bias});
    EXPECT_TRUE(r.ok) << r.worst;
  }
}

TEST(LinearActivation, WithoutBiasAndWithFrozenInputs) {
  const slope::TensorD x(slope::TensorD::Matrix::Random(4, 3));  // no grad for x
  const slope::TensorD w(slope::TensorD::Matrix::Random(2, 3), true);
  const slope::TensorD none;
  slope::TensorD h = slope::linear(x, w, none, slope::act::id_of<slope::act::Tanh>);
  const slope::TensorD::Matrix z = x.value() * w.value().transpose();
  EXPECT_LT((h.value() - z.array().tanh().matrix()).cwiseAbs().maxCoeff(), 1e-15);
  h.sum().backward();
  const slope::TensorD::Matrix dz = (1.0 - z.array().tanh().square()).matrix();
  EXPECT_LT((w.grad() - dz.transpose() * x.value()).cwiseAbs().maxCoeff(), 1e-14);
}

TEST(LinearActivation, BadShapesAndIdsAreNamed) {
  const slope::Tensor x = slope::Tensor::zeros(4, 3), w = slope::Tensor::zeros(2, 5),
                      b = slope::Tensor::zeros(1, 2);
  EXPECT_THROW(slope::linear(x, w, b, 0), slope::ShapeError);
  const slope::Tensor w2 = slope::Tensor::zeros(2, 3);
  try {
    slope::linear(x, w2, b, slope::act::count);
    FAIL() << "expected out_of_range";
  } catch (const std::out_of_range& e) {
    EXPECT_NE(std::string(e.what()).find("slope::linear: no activation with id"),
              std::string::npos);
  }
}

// Sequential fuses a Linear with the Activation after it; the numbers are those of the
// modules run one by one.
TEST(LinearActivation, SequentialFusesAndGivesTheUnfusedNumbers) {
  slope::Rng rng(5);
  slope::nn::MLPD mlp({3, 8, 8, 2}, "gelu", slope::nn::Init::kaiming_normal(), rng);
  const slope::TensorD x(slope::TensorD::Matrix::Random(10, 3));
  slope::TensorD h = x;
  for (const auto& m : mlp) h = m.forward(h);  // one module at a time: no fusion
  const slope::TensorD fused = mlp.forward(x);
  EXPECT_EQ(fused.value(), h.value());
  {
    const slope::probe::TraceD trace;
    mlp.forward(x);
    ASSERT_EQ(trace.layers().size(), 3u);
    EXPECT_EQ(trace.layers()[0].activation, slope::act::id_of<slope::act::Gelu>);
    EXPECT_EQ(trace.layers()[2].activation, slope::act::id_of<slope::act::Identity>);
  }
}
