// What slope-curves computes, as plain functions, so the demo and its test
// (tests/test_curves_demo.cpp) run the same code: training runs of MLPs with several
// activations over several seeds, their curves (curves.csv's schema), the summary over
// seeds, and reading earlier runs' curves.csv back for --compare. Nothing here prints.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <slope/slope.hpp>

#include "support/palette.hpp"
#include "support/summary.hpp"
#include "support/train.hpp"

namespace slope::demo::curves {

// The run configuration (support/run_config.hpp) with slope-curves' defaults: the data set's
// own noise, a quarter held out, Adam, 300 steps, 3 model seeds per activation (seed,
// seed + 1, ...).
struct Config : RunConfig {
  Config() { test_fraction = 0.25, steps = 300, seeds = 3; }
  std::vector<std::string> activations = lesson_activations();
  int eval_every = 10;  // curves at step 0, every eval_every steps and the last
};

// --data names a CSV file when it ends in ".csv" or is an existing file.
bool is_csv_path(const std::string& data);

// The data of a run, split once (seed config.seed) and shared by every activation and
// seed, so runs differ only in the activation and the model's initial weights. Throws
// UsageError for an unknown generator, a malformed CSV (naming file and line) or a split
// that leaves the train or test set empty.
struct Split {
  data::Dataset train, test;
};
Split load_data(const Config& config);

// One observation of curves.csv: activation,depth,seed,step,split,loss,accuracy.
struct Record {
  std::string activation;
  int depth;
  std::uint64_t seed;
  int step;
  std::string split;  // "train" or "test"
  double loss;
  double accuracy;
};

// Full-batch training of MLP({dim, width x depth, classes}) with cross-entropy from
// initial weights drawn with Rng(seed), on the shared loop. Records train and test loss
// and accuracy at step 0, every eval_every steps (train: the step's own forward pass,
// before its update) and at the last step. `on_step(k)` is called after each update. A
// run that turns non-finite stops there: its records end before that step and
// `history->diverged` (when given) names the step and the layer.
std::vector<Record> train_run(const Config& config, const Split& split,
                              const std::string& activation, std::uint64_t seed,
                              const std::function<void(int)>& on_step = {},
                              History* history = nullptr);

// Mean, sample standard deviation, min and max (support/summary.hpp).
using demo::Stats;
using demo::stats;

// One point of a curve over seeds: loss and accuracy of one activation and split at
// one step. Points come sorted by (activation in first-seen order, split, step).
struct Band {
  std::string activation;
  std::string split;
  int step;
  Stats loss, accuracy;
};
std::vector<Band> bands(const std::vector<Record>& records);

// The summary table of one activation: final values over seeds and the steps to reach
// 90% train accuracy (first evaluated step at or above 0.9) of the seeds that did.
struct Final {
  std::string activation;
  Stats train_loss, test_loss, train_acc, test_acc;
  int seeds = 0;
  int reached_90 = 0;       // seeds that reached 90% train accuracy
  double steps_to_90 = -1;  // their mean step, -1 if none did
};
std::vector<Final> finals(const std::vector<Record>& records);

// Reads a curves.csv (header activation,depth,seed,step,split,loss,accuracy). Throws
// UsageError naming the file and line of the first problem.
std::vector<Record> read_curves(const std::string& path);

// The keys of summary.csv, shared with slope-report: `<what>.<activation>`.
namespace key {
std::string final_train_acc(std::string_view activation);
std::string final_test_acc(std::string_view activation);
std::string final_test_acc_std(std::string_view activation);
std::string final_train_loss(std::string_view activation);
std::string steps_to_90(std::string_view activation);
}  // namespace key

}  // namespace slope::demo::curves
