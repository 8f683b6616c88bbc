// The worked examples of docs/extending.md, compiled and checked: an activation written as
// the catalogue's entries are (Mish), and a module of one's own (Scale) trained inside a
// Sequential. docs/extending.md quotes the code below line for line (a test checks that its
// quotes are still here), so change the two together.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include <slope/slope.hpp>

#include "finite_difference.hpp"

// Mish (Misra 2019), written exactly as an entry of activations/include/slope/activations.hpp
// and inside slope::act, so Info, math, Softplus and Sigmoid are found as they are there.
namespace slope::act::extending_example {

struct Mish {
  static constexpr Info info{.name = "mish",
                             .formula = "x tanh(softplus(x))",
                             .range = "[-0.31, inf)",
                             .zero_centred = false,
                             .kink = "smooth",
                             .job = "a smooth, self-regularising ReLU (YOLOv4)"};
  template <class T> static T value(T x) {
    return x * math::tanh(Softplus::value(x));  // std's tanh for a scalar, slope's for a batch
  }
  template <class T> static T slope(T x) {
    const T t = math::tanh(Softplus::value(x));
    return t + x * (T(1) - t * t) * Sigmoid::value(x);
  }
};

// Not in act::Catalogue, so it has no id: slope::apply<Mish>(x) and nn::Activation(Mish{})
// do not compile until the one registry line names it.
static_assert(id_of<Mish> == count);

}  // namespace slope::act::extending_example

// Named, so the helpers below (Scale among them) keep to this suite in a unity build.
namespace extending {
namespace {

using slope::act::extending_example::Mish;

// mish(x) = x tanh(log(1 + e^x)) = x (u - 1) / (u + 1) with u = (1 + e^x)^2: a closed form
// with no tanh and no log to check the definition against.
double mish_closed_form(double x) {
  const double u = (1 + std::exp(x)) * (1 + std::exp(x));
  return x * (u - 1) / (u + 1);
}

TEST(Extending, MishMatchesItsClosedForms) {
  EXPECT_EQ(Mish::info.name, "mish");
  // mish(1) = tanh(log(1 + e)); mish'(0) = tanh(log 2) = 3/5; mish'(1) worked in 30 digits.
  EXPECT_NEAR(Mish::value(1.0), 0.8650983882673103, 1e-14);
  EXPECT_NEAR(Mish::slope(0.0), 0.6, 1e-15);
  EXPECT_NEAR(Mish::slope(1.0), 1.0490362200997922, 1e-14);
  for (double x : {-3.0, -1.0, -0.5, 0.0, 0.5, 1.0, 2.0, 5.0})
    EXPECT_NEAR(Mish::value(x), mish_closed_form(x), 1e-14 * std::max(1.0, std::abs(x)))
        << "x = " << x;
  // The same text in float.
  EXPECT_NEAR(Mish::value(1.0f), 0.8650984f, 1e-6f);
  EXPECT_NEAR(Mish::slope(1.0f), 1.0490362f, 1e-6f);
}

TEST(Extending, MishSlopeMatchesCentralDifferences) {
  // -1.1924 is near Mish's minimum, where the slope crosses 0.
  for (double x : {-3.0, -1.1924, -0.5, 0.0, 0.5, 1.0, 2.0, 5.0}) {
    double at = x;
    const double numeric =
        slope_test::central_difference([&] { return Mish::value(at); }, at, slope_test::step_at(x));
    EXPECT_NEAR(Mish::slope(x), numeric, 1e-8) << "x = " << x;
  }
}

// The scalar engine, composing Mish from its own ops, backpropagates to the same slope.
TEST(Extending, MishSlopeMatchesTheScalarEnginesGraph) {
  for (double v : {-3.0, -1.0, 0.0, 1.0, 2.0}) {
    const slope::Value x = v;
    const slope::Value y = x * (1.0 + x.exp()).log().tanh();
    y.backward();
    EXPECT_NEAR(y.data(), Mish::value(v), 1e-14) << "x = " << v;
    EXPECT_NEAR(x.grad(), Mish::slope(v), 1e-13) << "x = " << v;
  }
}

// A module of one's own: any type with forward(x) and parameters().
struct Scale {  // y = x * s, one learned scale per feature
  slope::Tensor s;
  slope::Tensor forward(const slope::Tensor& x) const { return x * s; }
  std::vector<slope::Tensor> parameters() const { return {s}; }
};
static_assert(slope::nn::Module<Scale, float>);

TEST(Extending, ScaleTrainsInsideASequential) {
  slope::nn::Sequential seq{slope::nn::Linear(4, 8), slope::nn::Activation("tanh")};
  seq.push_back(Scale{slope::Tensor(slope::Tensor::Matrix::Ones(1, 8), true)});
  ASSERT_EQ(seq.parameters().size(), 3u);  // Linear's weight and bias, then Scale's s

  const slope::Tensor x = slope::Tensor::from(
      {{0.5f, -1.0f, 2.0f, 0.25f}, {-0.5f, 1.5f, 0.0f, -2.0f}, {1.0f, 0.75f, -1.25f, 0.5f}});
  const slope::Tensor loss = seq.forward(x).mean();
  loss.backward();

  // loss is the mean of the 3 x 8 numbers h * s, where h = tanh(Linear(x)) is what Scale
  // reads, so d loss / d s_j = (h_1j + h_2j + h_3j) / (3 * 8): h's column mean over 8.
  const slope::Tensor h = seq[1](seq[0](x));
  const slope::Tensor::Matrix want = h.value().colwise().mean() / 8.0f;
  Scale& scale = seq.at<Scale>(2);
  const slope::Tensor::Matrix grad = scale.s.grad();
  EXPECT_LT((grad - want).cwiseAbs().maxCoeff(), 1e-6f);

  // One SGD step through the handles seq.parameters() shares with the modules.
  const slope::Tensor::Matrix before = scale.s.value();
  slope::optim::SGD opt(seq.parameters(), 0.5);
  opt.step();
  EXPECT_LT((scale.s.value() - (before - 0.5f * grad)).cwiseAbs().maxCoeff(), 1e-6f);
}

}  // namespace
}  // namespace extending
