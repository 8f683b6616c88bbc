// micrograd's moons demo (karpathy/micrograd, demo.ipynb) as plain functions, so the
// slope-micrograd executable and its test run the same computation.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include <slope/slope.hpp>

#include "support/exit.hpp"

namespace slope::demo::micrograd {

using demo::Diverged;

// The default --seed: with relu it reaches 100% training accuracy in 100 steps.
inline constexpr std::uint64_t kDefaultSeed = 1337;

// Two-class points with labels -1 and +1, as the max-margin loss wants them.
struct Points {
  std::vector<std::array<double, 2>> x;
  std::vector<double> y;  // -1 or +1
};

// slope::data::moons with labels 0/1 mapped to -1/+1.
Points moons(std::size_t n, double noise, std::uint64_t seed);

struct Config {
  std::string activation = "relu";  // hidden layers; the loss's relu is always relu
  std::uint64_t seed = kDefaultSeed;
  std::size_t steps = 100;
  std::size_t points = 100;
  double noise = 0.1;
};

// The data (seed `seed`) and the MLP 2-16-16-1 (seed `seed + 1`, so the two draw
// from independent random streams).
struct Setup {
  Points data;
  scalar::MLP model;
};
Setup make_setup(const Config& config);

// micrograd's loss(): the mean max-margin loss relu(1 - y_i * score_i) plus
// alpha * sum of p^2 over the parameters, and the share of points whose score has
// the sign of their label (a score of exactly 0 counts as -1, as in micrograd).
struct Evaluation {
  Value loss;
  double accuracy;
};
Evaluation evaluate(const scalar::MLP& model, const Points& data, double alpha = 1e-4);

// micrograd's schedule, stretched over `steps`: 1.0 at step 0 down to 0.1.
inline double learning_rate(std::size_t step, std::size_t steps) {
  return 1.0 - 0.9 * static_cast<double>(step) / static_cast<double>(steps);
}

// Loss and accuracy at a step, measured before that step's update.
struct StepResult {
  std::size_t step;
  double loss;
  double accuracy;
};

// One full-batch step as micrograd: evaluate, zero_grad, backward, p -= lr * grad.
// Throws Diverged naming the step and layer if the loss or a gradient turns NaN or Inf.
StepResult train_step(scalar::MLP& model, const Points& data, std::size_t step, std::size_t steps);

// `steps` train_steps and then one evaluation of the trained model: results for
// steps 0..steps, the last one the final model. `on_step` sees each as it comes (so a
// caller still has the steps before a Diverged).
std::vector<StepResult> train(scalar::MLP& model, const Points& data, std::size_t steps,
                              const std::function<void(const StepResult&)>& on_step = {});

// The model's score at one point (its sign is the predicted class).
double score(const scalar::MLP& model, double x1, double x2);

// The keys of summary.csv, shared with slope-report.
namespace key {
inline std::string final_accuracy(std::string_view a) { return "final_accuracy." + std::string(a); }
inline std::string final_loss(std::string_view a) { return "final_loss." + std::string(a); }
inline constexpr const char* kSteps = "steps";
}  // namespace key

}  // namespace slope::demo::micrograd
