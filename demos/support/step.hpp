// One step of the training loop every tensor demo and the browser playground share, and
// the unit tracking both draw: kept free of fmt and CLI11, so the WebAssembly build of
// demos/web compiles this very file. demo::train (train.hpp) loops over it.
#pragma once

#include <cmath>
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <slope/slope.hpp>

#include "support/model.hpp"

namespace slope::demo {

// Probes of one step, from that step's forward and backward (before its update); each
// update_ratio from the optimizer step that follows (NaN at the last step).
struct ProbePoint {
  std::size_t step = 0;
  std::vector<probe::LayerStats> layers;  // one per Linear layer, 1 = nearest the input
  std::vector<probe::BlockStats> blocks;  // one per FeedForward block (none in an MLP)
};

// Where a run turned non-finite: the step, and what (the first layer whose
// pre-activations or gradient are not finite, or the loss itself).
struct Divergence {
  std::size_t step = 0;
  int layer = 0;  // the Linear layer (1 = nearest the input); 0 when no layer is to blame
  std::string what;
  std::string message() const;  // "diverged at step 4: layer 3's pre-activations are ..."
};

// Called at every step after the backward pass (the final, untaken step too) with that
// forward pass's trace and logits, for a demo's own per-step measurements.
using StepHook = std::function<void(std::size_t step, const probe::Trace&, const Tensor& logits)>;

// What one step measured, on the parameters before its update.
struct StepResult {
  double loss = NAN, accuracy = NAN;            // the training set's
  double test_loss = NAN, test_accuracy = NAN;  // when probed and there is a test set
  std::optional<ProbePoint> probe;              // when probed
  std::optional<Divergence> diverged;           // set: nothing after the forward was kept
};

// One full-batch step at number `step`: zero_grad, the traced forward on `x_train`,
// cross-entropy against train.y, backward; `on_forward`; then, when `probed`, the probes and
// the loss and accuracy on `x_test` (when test has rows); then, when `take`, the optimizer
// step and each probed layer's update ratio. A non-finite loss, logit, pre-activation or
// gradient (of a traced layer's weight, or of any parameter `opt` updates) ends the step
// before `on_forward` and the update: `diverged` says where.
StepResult train_step(const nn::AnyModule<float>& model, Optimizer& opt, const Tensor& x_train,
                      const data::Dataset& train, const Tensor& x_test, const data::Dataset& test,
                      std::size_t step, bool probed, bool take, const StepHook& on_forward = {});

// Deaths and revivals of a layer's units between consecutive records.
class UnitTracker {
 public:
  struct Change {
    std::size_t dead = 0;      // units dead now
    std::size_t deaths = 0;    // alive at the previous record, dead now
    std::size_t revivals = 0;  // dead at the previous record, alive now
  };
  // `dead[j]`: unit j is dead now. The first record has no deaths or revivals.
  Change record(const std::vector<bool>& dead);

 private:
  std::vector<bool> previous_;
  bool first_ = true;
};

}  // namespace slope::demo
