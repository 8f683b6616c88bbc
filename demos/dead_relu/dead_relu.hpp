// slope-dead-relu's computation as plain functions, so the executable and
// tests/test_dead_relu_demo.cpp run the same code: dead-unit tracking through training,
// and the Monte Carlo estimate of the probability that a ReLU network is born dead.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <slope/slope.hpp>

#include "support/run_config.hpp"
#include "support/train.hpp"

namespace slope::demo::dead_relu {

inline constexpr std::uint64_t kDefaultSeed = 7;

// One training setting of the sweep; every activation runs under each.
struct Setting {
  std::string name;  // lr_0.5, neg_bias, bad_init, ...
  std::string init;  // an nn::Init name
  double bias = 0;   // every bias starts here
  double lr = 0.1;   // plain SGD: no momentum, no weight decay
};

// The default sweep: lr_<lr> for each of `lrs` (He init, bias 0), neg_bias (He init,
// every bias `bias`, lr `fixed_lr`; named bias_<b> for a bias >= 0) and bad_init
// (`bad_init` weights, lr `fixed_lr`).
std::vector<Setting> settings(const std::vector<double>& lrs, double fixed_lr, double bias,
                              const std::string& bad_init);

// The run configuration (support/run_config.hpp) with slope-dead-relu's defaults: depth 3,
// noise 0.2 whatever the data set, 300 steps, 3 seeds. The whole data set trains (no test
// split), and the setting gives the init, the biases and the learning rate of plain SGD
// (RunConfig's init, optim and lr are not used).
struct Config : RunConfig {
  Config() { noise = 0.2, depth = 3, steps = 300, seed = kDefaultSeed, seeds = 3; }
  std::string activation = "relu";
  Setting setting{"lr_0.1", "kaiming_normal", 0.0, 0.1};
};

using demo::UnitTracker;  // deaths and revivals between records (support/step.hpp)

// Sum of |dL/dW| and |dL/db| over the rows of the units marked dead, from the layer's
// current gradients.
double dead_rows_grad_abs_sum(const nn::Linear& layer, const std::vector<bool>& dead);

struct LayerRecord {
  std::size_t step = 0;
  int layer = 0;  // 1 = nearest the input
  double dead_frac = 0;
  std::size_t deaths = 0, revivals = 0;
};

struct Run {
  std::vector<LayerRecord> records;  // every step 0..steps, every hidden layer
  // Sum of |grad| over layer 1's dead units' rows, at every step they were dead.
  double layer1_dead_grad_abs_sum = 0;
  std::size_t layer1_dead_unit_steps = 0;  // how many (unit, step) pairs that sum covers
  double final_accuracy = 0;               // training accuracy at the last step measured
  History history;  // the shared loop's record: where the run diverged, if it did
};

// Full-batch plain SGD on cross-entropy, on the shared loop. At each step the forward
// pass over the whole training set decides which units are dead (slope exactly 0 for
// every example; the same pass's backward gives their gradients), then the step is taken.
// A run that turns non-finite stops: Run::history.diverged names the step and layer.
Run run(const Config& config, const std::function<void(std::size_t)>& on_step = {});

// The dead fraction at a run's last step measured: [0] of every hidden unit, [l] of
// hidden layer l (1..depth). nullopt for a run that diverged: it did not end.
std::optional<std::vector<double>> final_dead_fractions(const Run& run, int depth);

// The lesson's learning-rate sweep: for each activation and rate, the final dead
// fractions over seeds (runs that diverged left out and counted).
struct SweepPoint {
  std::string activation;
  double lr = 0;
  std::size_t runs = 0, diverged = 0;
  std::vector<double> mean, stddev;  // indexed as final_dead_fractions; empty if all diverged
  double min_all = 0, max_all = 0;   // of every hidden unit, over the runs that ended
};
SweepPoint sweep_point(std::string activation, double lr, const std::vector<const Run*>& runs,
                       int depth);

// The same on a given model and data (for hand-built models in the tests).
Run train(const nn::MLP& model, const data::Dataset& data, double lr, std::size_t steps,
          const std::function<void(std::size_t)>& on_step = {});
Run train(const nn::MLP& model, const Tensor& x, const std::vector<int>& labels, double lr,
          std::size_t steps, const std::function<void(std::size_t)>& on_step = {});

// --- born dead (Lu, Shin, Su, Karniadakis 2019) -------------------------------------

// 1 - (1 - 2^-N)^H: the probability that some layer is all zero for one input point.
double born_dead_upper_bound(int width, int depth);

// One network of `depth` hidden ReLU layers of `width` units, input dimension 1, no
// biases, He-normal weights: true when it is a constant function on [-1, 1], that is
// its last hidden layer is zero at every point of an evenly spaced grid over [-1, 1]
// (both signs matter; without biases the network is positively homogeneous, so the
// grid's points of one sign agree).
bool born_dead(int width, int depth, Rng& rng);

struct BornDeadEstimate {
  int width = 0, depth = 0;
  std::size_t trials = 0;
  double probability = 0, stderr_ = 0, upper_bound = 0;
};
// The share of `trials` networks born dead, with its binomial standard error. The
// random stream depends on (seed, width, depth) only.
BornDeadEstimate estimate_born_dead(int width, int depth, std::size_t trials, std::uint64_t seed);

// The keys of summary.csv, shared with slope-report.
namespace key {
std::string final_dead_frac(std::string_view activation, std::string_view setting);
// The sweep's mean final dead fraction of every hidden unit, and how many seeds diverged.
std::string sweep_dead_mean(std::string_view activation, double lr);
std::string sweep_dead_std(std::string_view activation, double lr);
std::string sweep_diverged(std::string_view activation, double lr);
inline constexpr const char* kSweepSeeds = "sweep.seeds";
inline constexpr const char* kSweepLrMin = "sweep.lr_min";
inline constexpr const char* kSweepLrMax = "sweep.lr_max";
std::string max_dead_frac(std::string_view activation);
std::string layer1_revivals(std::string_view activation);
std::string deeper_revivals(std::string_view activation);
std::string layer1_dead_grad_abs_sum(std::string_view activation);
std::string born_dead(int width, int depth);
std::string born_dead_bound(int width, int depth);
}  // namespace key

}  // namespace slope::demo::dead_relu
