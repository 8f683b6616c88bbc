// The training loop every tensor demo shares: full-batch training on cross-entropy with a
// probe schedule, and non-finite detection that stops a run and names the step and the
// layer (one step of it, shared with the browser playground, is in step.hpp). The model
// and the optimizer by name are in model.hpp.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <slope/slope.hpp>

#include "support/model.hpp"
#include "support/output.hpp"
#include "support/run_config.hpp"
#include "support/step.hpp"

namespace slope::demo {

// --- data ---------------------------------------------------------------------------

struct Split {
  data::Dataset train, test;
};
// data::make(data, samples, noise, seed), split by data::train_test_split(test_fraction,
// seed + 2), so every model and activation of one seed sees the same data.
Split make_split(const RunConfig& config);

// --- the loop -----------------------------------------------------------------------

struct Schedule {
  std::size_t steps = 200;       // optimizer steps; step `steps` is measured, not taken
  std::size_t probe_every = 20;  // probes and curves at step 0, every probe_every, and last
};

// One row of curves.csv's observation: loss and accuracy on a split at a step (train:
// the step's own forward pass, before its update).
struct CurvePoint {
  std::size_t step = 0;
  std::string split;  // "train" or "test"
  double loss = 0;
  double accuracy = 0;
};

struct History {
  std::vector<ProbePoint> probes;
  std::vector<CurvePoint> curves;      // train rows and test rows (test only with a test set)
  std::optional<Divergence> diverged;  // the run stopped at that step; the rest is kept
  // The best training accuracy measured and its step (the first it was reached).
  double best_train_accuracy = 0;
  std::size_t best_step = 0;
};

// Full-batch training of `model` on cross-entropy over `train`, evaluated on `test` (when
// it has rows) at every probed step. `on_step(k)` is called after each update. A
// non-finite loss, pre-activation or gradient stops the run: History::diverged says
// where, and everything measured before it is kept.
History train(const nn::AnyModule<float>& model, Optimizer& opt, const data::Dataset& train,
              const data::Dataset& test, const Schedule& schedule, const StepHook& on_forward = {},
              const std::function<void(std::size_t)>& on_step = {});

// runs.csv, one row per training run of a demo, saying how it ended:
// run,activation,depth,seed,status,diverged_step,diverged_layer,best_train_accuracy,best_step
// with `run` the demo's label for the setting (an init, a sweep setting, a model), status
// "ok" or "diverged", and the diverged_ fields empty for a run that did not.
class RunsCsv {
 public:
  explicit RunsCsv(const std::filesystem::path& path);
  void row(std::string_view run, std::string_view activation, int depth, std::uint64_t seed,
           const History& history);
  void commit() { csv_.commit(); }

 private:
  CsvWriter csv_;
};

// Prints "slope-<demo>: <label>: diverged at step ..." on stderr for each diverged run
// and returns the demo's exit status: kDiverged when any did, else 0.
int report_divergences(const std::vector<std::pair<std::string, const History*>>& runs);

}  // namespace slope::demo
