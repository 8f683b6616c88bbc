// slope-vanishing's computation as plain functions, so the executable and
// tests/test_vanishing_demo.cpp run the same code: a deep MLP trained full-batch on a
// small data set, probed per Linear layer at step 0 and every few steps.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include <slope/slope.hpp>

#include "support/train.hpp"

namespace slope::demo::vanishing {

inline constexpr std::uint64_t kDefaultSeed = 42;

// The run configuration (support/run_config.hpp) with slope-vanishing's defaults: depth 8,
// plain SGD, noise 0.2 whatever the data set, probes every 20 steps.
struct Config : RunConfig {
  Config() { noise = 0.2, depth = 8, optim = "sgd", seed = kDefaultSeed; }
  std::string activation = "sigmoid";
};

// A run's probes at step 0, every probe_every steps and the final step, its train and
// test curves at the same steps, and where it diverged if it did (support/train.hpp).
using Probe = ProbePoint;
using Curve = CurvePoint;
using Run = History;

// The data (seed), its train/test split (seed + 2) and the model's weights (seed + 1),
// so every activation and init of one seed sees the same data.
using Split = demo::Split;
Split make_data(const Config& config);

// Trains and probes on the shared loop. `on_step(step)` is called after every update
// (for a progress line). A run that turns non-finite stops there: Run::diverged names
// the step and the layer, and what was measured before it is kept.
Run run(const Config& config, const std::function<void(std::size_t)>& on_step = {});

// Layer 1's gradient norm over the last Linear layer's (the output layer's).
double first_over_last(const std::vector<probe::LayerStats>& layers);
// The largest per-layer gradient norm over the smallest.
double spread(const std::vector<probe::LayerStats>& layers);
// The product of the measured mean |f'| of the hidden layers (the slope factors the
// backward pass multiplies in between layer 1 and the output layer).
double slope_product(const std::vector<probe::LayerStats>& layers);
// 0.25^(L-1) with L the number of Linear layers from layer 1 to the output layer
// (depth + 1): the backward pass crosses L-1 = depth sigmoid slopes, each <= 1/4.
double sigmoid_bound(int depth);

// Glorot and Bengio (2010), Figure 2: with sigmoid, the top hidden layer's mean activation
// falls towards 0 early in training and recovers slowly. From a run's probes: the top
// hidden layer's (layer `depth`) mean activation at step 0, its lowest and at which step,
// and at the last probe. NaN where the run has no probes.
struct TopLayer {
  double start = NAN, lowest = NAN, last = NAN;
  std::size_t lowest_step = 0, last_step = 0;
  double below_min = NAN, below_max = NAN;  // the layers below's means, over every probe
};
TopLayer top_hidden_layer(const Run& run, int depth);

// The keys of summary.csv, shared with slope-report: `<what>.<init>.<activation>.<depth>`.
namespace key {
std::string ratio(std::string_view init, std::string_view activation, int depth);
std::string spread(std::string_view init, std::string_view activation, int depth);
std::string train_acc(std::string_view init, std::string_view activation, int depth);
std::string test_acc(std::string_view init, std::string_view activation, int depth);
std::string best_train_acc(std::string_view init, std::string_view activation, int depth);
std::string bound(int depth);
// TopLayer's fields: top_mean_start, top_mean_lowest, top_mean_lowest_step, top_mean_last,
// top_mean_last_step, top_mean_below_min, top_mean_below_max.
std::string top_mean(std::string_view what, std::string_view init, std::string_view activation,
                     int depth);
}  // namespace key

}  // namespace slope::demo::vanishing
