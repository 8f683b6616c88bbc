// What the browser pages ask of the engine, in plain C++ (bindings.cpp only converts it
// to JavaScript values), so the native test suite runs the same code the page runs.
//
// A Session is slope-curves' training run taken one step at a time: the same data set and
// split, the same MLP from the same seed, the same optimizer, the same full-batch step
// (demo::train_step, the one demo::train loops over).
// Each step() measures what the playground draws: losses and accuracies, per-layer
// gradient norms and update ratios, and which hidden units are dead.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <slope/slope.hpp>

#include "support/model.hpp"
#include "support/run_config.hpp"
#include "support/step.hpp"

namespace slope::web {

// A playground run: the run configuration of the demos (support/run_config.hpp) with the
// page's defaults, slope-curves' but for the data set and the model's size, and the page's
// own bounds (kPageBounds). steps, probe_every and seeds are the page's to drive: unused.
struct Settings : demo::RunConfig {
  Settings() { data = "moons", samples = 200, test_fraction = 0.25, width = 16; }
  std::string activation = "relu";  // any registered activation
  double bias = 0;                  // every bias starts here (a negative one kills ReLUs)
};

// What the page can draw: at most this many points, layers and units.
struct PageBounds {
  std::size_t samples_max = 100000;
  int depth_max = 32, width_max = 64;
};
inline constexpr PageBounds kPageBounds{};

// Checks every setting and throws std::invalid_argument naming the first bad one.
void validate(const Settings& s);

// One step's measurements, taken on the parameters before its update.
struct StepReport {
  std::size_t step = 0;
  double train_loss = 0, train_accuracy = 0;
  double test_loss = NAN, test_accuracy = NAN;  // NaN without a test set
  std::vector<probe::LayerStats> layers;        // every Linear layer, 1 = nearest the input
  // dead[l][u]: hidden unit u of hidden layer l had slope 0 for every training example.
  std::vector<std::vector<bool>> dead;
  std::size_t deaths = 0, revivals = 0;  // alive-to-dead and dead-to-alive since step 0
};

class Session {
 public:
  // Throws std::invalid_argument for a bad setting (see validate).
  explicit Session(const Settings& settings);

  // Measures the current parameters (forward, backward, probes, test loss), then takes
  // the optimizer step and fills each layer's update_ratio. A run that turns non-finite
  // takes no step: the report's losses show it and diverged() says where; later calls
  // throw std::logic_error.
  StepReport step();
  std::size_t steps_taken() const { return steps_; }
  const std::optional<std::string>& diverged() const { return diverged_; }

  // The model's class probabilities (softmax of the logits) at each point of an n x n grid
  // over [x0, x1] x [y0, y1], row by row from y0: n * n * classes numbers.
  std::vector<float> predict_grid(int n, double x0, double x1, double y0, double y1) const;

  const Settings& settings() const { return settings_; }
  const data::Dataset& train_set() const { return split_.first; }
  const data::Dataset& test_set() const { return split_.second; }
  const nn::MLP& model() const { return model_; }

 private:
  Settings settings_;
  std::pair<data::Dataset, data::Dataset> split_;  // train, test
  Tensor x_train_, x_test_;
  Rng rng_;
  nn::MLP model_;
  nn::AnyModule<float> module_;  // model_ as demo::train_step takes it (the same parameters)
  demo::Optimizer optimizer_;
  std::size_t steps_ = 0;
  std::vector<demo::UnitTracker> trackers_;  // one per hidden layer
  std::size_t deaths_ = 0, revivals_ = 0;
  std::optional<std::string> diverged_;
};

// --- the widget's numbers -----------------------------------------------------------

// f(x) and f'(x) of the activation `id` at n points from lo to hi (both included).
struct Curve {
  std::vector<double> x, value, slope;
};
Curve curve(std::size_t id, double lo, double hi, int n);

// d/dx of f(f(...f(x))) with `layers` applications of activation `id`, by the scalar
// engine's backward pass: the product of the slopes the chain's units see.
double chain_gradient(std::size_t id, double x, int layers);

}  // namespace slope::web
