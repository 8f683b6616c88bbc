// The worked examples of docs/extending.md, compiled and checked: an activation written as
// the catalogue's entries are (Mish), a module of one's own (Scale) trained inside a
// Sequential, and a demo on the shared run configuration (final_loss_demo). docs/extending.md
// quotes the code below line for line (a test checks that its quotes are still here), so change the
// two together.
#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <slope/slope.hpp>

#include "support/cli.hpp"
#include "support/output.hpp"
#include "support/train.hpp"

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

// --- a demo ------------------------------------------------------------------------------

// A demo's main.cpp, whole but for main() (which is `return demo::run_main([&] { return
// run(argc, argv); });`): each activation trained once on the shared loop and its final
// training loss written to final_loss.csv.
namespace final_loss_demo {

namespace demo = slope::demo;

struct Config : demo::RunConfig {  // the shared run configuration, its defaults but steps
  Config() { steps = 100; }
  std::vector<std::string> activations{"relu", "sigmoid"};
};

int run(int argc, const char* const* argv) {
  Config config;
  demo::Cli cli("final-loss", "Each activation's final training loss", config.seed);
  cli.add_activations(config.activations);
  using F = demo::RunFlag;
  demo::add_run_flags(cli.app(), config, {F::data, F::depth, F::width, F::optim, F::steps});
  if (auto status = cli.parse(argc, argv)) return *status;
  config.seed = cli.seed();
  const demo::Split split = demo::make_split(config);
  demo::CsvWriter csv(cli.out() / "final_loss.csv", {"activation", "steps", "loss"});
  for (const std::string& act : config.activations) {
    slope::Rng rng(config.seed + 1);
    const slope::nn::MLP model = demo::make_mlp(split.train.dim, config.width, config.depth,
                                                static_cast<std::size_t>(split.train.classes), act,
                                                slope::nn::Init::parse(config.init), rng);
    demo::Optimizer opt(config.optim, model.parameters(), config.lr);
    const demo::History h =
        demo::train(model, opt, split.train, split.test, {config.steps, config.steps});
    double loss = NAN;
    for (const demo::CurvePoint& c : h.curves)
      if (c.split == "train") loss = c.loss;  // the last one is the last step's
    csv.row(act, config.steps, loss);
  }
  csv.commit();
  return 0;
}

}  // namespace final_loss_demo

namespace extending {
namespace {

TEST(Extending, ADemoOnTheSharedRunConfiguration) {
  const std::filesystem::path out =
      std::filesystem::temp_directory_path() / ("slope-final-loss-" + std::to_string(getpid()));
  const std::string dir = out.string();
  const char* argv[] = {"slope-final-loss", "--out",  dir.c_str(), "--steps", "30", "--act",
                        "relu,tanh",        "--data", "moons"};
  ASSERT_EQ(final_loss_demo::run(9, argv), 0);
  std::ifstream csv(out / "final_loss.csv");
  std::string header, relu, tanh_row, extra;
  std::getline(csv, header);
  std::getline(csv, relu);
  std::getline(csv, tanh_row);
  EXPECT_EQ(header, "activation,steps,loss");
  EXPECT_TRUE(relu.starts_with("relu,30,")) << relu;
  EXPECT_TRUE(tanh_row.starts_with("tanh,30,")) << tanh_row;
  EXPECT_FALSE(std::getline(csv, extra));
  // Trained: below the loss of a uniform guess over moons' two classes, ln 2.
  EXPECT_LT(std::stod(relu.substr(8)), std::log(2.0));
  EXPECT_LT(std::stod(tanh_row.substr(8)), std::log(2.0));
  // The shared flags' bounds: a depth of 0 is bad input, status 2.
  const char* bad[] = {"slope-final-loss", "--out", dir.c_str(), "--depth", "0"};
  EXPECT_EQ(final_loss_demo::run(5, bad), slope::demo::kUsageError);
  std::filesystem::remove_all(out);
}

}  // namespace
}  // namespace extending
