// slope-vanishing's computation as plain functions, so the executable and
// tests/test_vanishing_demo.cpp run the same code: a deep MLP trained full-batch on a
// small data set, probed per Linear layer at step 0 and every few steps.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <slope/slope.hpp>

namespace slope::demo::vanishing {

inline constexpr std::uint64_t kDefaultSeed = 42;

struct Config {
  std::string activation = "sigmoid";
  std::string init = "xavier_uniform";  // an nn::Init name
  int depth = 8;                        // hidden layers: sizes {in, width x depth, classes}
  int width = 32;
  std::string data = "spirals";
  std::size_t samples = 300;
  double noise = 0.2;
  double test_fraction = 0.2;
  std::string optim = "sgd";  // sgd or adam
  double lr = 0.1;
  std::size_t steps = 200;
  std::size_t probe_every = 20;
  std::uint64_t seed = kDefaultSeed;
};

// One probed step. `layers` comes from the forward and backward pass at `step`
// (before that step's update); each update_ratio from the optimizer step that follows
// (NaN at the final step, after which no update is made).
struct Probe {
  std::size_t step = 0;
  std::vector<probe::LayerStats> layers;  // one per Linear layer, 1 = nearest the input
};

struct Curve {
  std::size_t step = 0;
  std::string split;  // train or test
  double loss = 0;
  double accuracy = 0;
};

struct Run {
  std::vector<Probe> probes;  // step 0, every probe_every steps, and the final step
  std::vector<Curve> curves;  // train and test at the same steps
};

// The data (seed), its train/test split (seed + 2) and the model's weights (seed + 1),
// so every activation and init of one seed sees the same data.
struct Split {
  data::Dataset train, test;
};
Split make_data(const Config& config);

// Trains and probes. `on_step(step)` is called after every update (for a progress
// line). A non-finite loss, activation or gradient throws std::runtime_error naming the
// step and the layer.
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

}  // namespace slope::demo::vanishing
