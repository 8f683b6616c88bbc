#include "support/step.hpp"

#include <sstream>

namespace slope::demo {

std::string Divergence::message() const {
  return "diverged at step " + std::to_string(step) + ": " + what;
}

namespace {

std::string number(double x) {
  std::ostringstream s;
  s << x;
  return s.str();
}

std::string layer_name(std::size_t l) { return "layer " + std::to_string(l + 1); }

// Whether any traced pre-activation is not finite: tanh or sigmoid can hide an infinite
// pre-activation behind a finite output and loss.
bool any_non_finite(const probe::Trace& trace) {
  for (const auto& l : trace.layers())
    if (!l.z.value().allFinite()) return true;
  return false;
}

// Names the first traced layer whose pre-activations are not finite, or the loss.
Divergence forward_divergence(std::size_t step, const probe::Trace& trace, double loss) {
  for (std::size_t l = 0; l < trace.layers().size(); ++l)
    if (!trace.layers()[l].z.value().allFinite())
      return {step, static_cast<int>(l + 1),
              layer_name(l) + "'s pre-activations are not finite (loss " + number(loss) + ")"};
  return {step, 0, "the loss is " + number(loss) + " (every layer's pre-activations are finite)"};
}

std::optional<Divergence> gradient_divergence(std::size_t step, const probe::Trace& trace,
                                              const std::vector<Tensor>& params) {
  // From the output end: a non-finite gradient spreads to every layer below where it began.
  for (std::size_t l = trace.layers().size(); l-- > 0;)
    if (!trace.layers()[l].weight.grad().allFinite())
      return Divergence{step, static_cast<int>(l + 1),
                        layer_name(l) + "'s weight gradient is not finite"};
  for (const Tensor& p : params)
    if (!p.grad().allFinite())
      return Divergence{step, 0, "a parameter of shape " + p.shape() + "'s gradient is not finite"};
  return std::nullopt;
}

}  // namespace

StepResult train_step(const nn::AnyModule<float>& model, Optimizer& opt, const Tensor& x_train,
                      const data::Dataset& train, const Tensor& x_test, const data::Dataset& test,
                      std::size_t step, bool probed, bool take, const StepHook& on_forward) {
  StepResult out;
  opt.zero_grad();
  std::vector<Tensor> weights;         // the traced layers' weights (handles) ...
  std::vector<Tensor::Matrix> before;  // ... and their values before this step's update
  {
    probe::Trace trace;  // records this forward pass only
    const Tensor logits = model.forward(x_train);
    const Tensor loss = cross_entropy(logits, train.y);
    out.loss = loss.item();
    if (!std::isfinite(out.loss) || !logits.value().allFinite() || any_non_finite(trace)) {
      out.diverged = forward_divergence(step, trace, out.loss);
      return out;
    }
    loss.backward();
    if ((out.diverged = gradient_divergence(step, trace, opt.parameters()))) return out;
    if (on_forward) on_forward(step, trace, logits);
    out.accuracy = slope::accuracy(logits, train.y);
    if (probed) {
      out.probe = ProbePoint{step, probe::layers(trace), probe::blocks(trace)};
      if (take)
        for (const auto& l : trace.layers()) {
          weights.push_back(l.weight);
          before.push_back(l.weight.value());
        }
    }
  }
  if (probed && test.n > 0) {
    const no_grad off;
    const Tensor logits = model.forward(x_test);
    out.test_loss = cross_entropy(logits, test.y).item();
    out.test_accuracy = slope::accuracy(logits, test.y);
  }
  if (!take) return out;
  opt.step();
  for (std::size_t l = 0; l < weights.size(); ++l)
    out.probe->layers[l].update_ratio = probe::update_ratio<float>(before[l], weights[l].value());
  return out;
}

UnitTracker::Change UnitTracker::record(const std::vector<bool>& dead) {
  Change c;
  for (std::size_t j = 0; j < dead.size(); ++j) {
    c.dead += dead[j];
    if (!first_ && j < previous_.size()) {
      c.deaths += dead[j] && !previous_[j];
      c.revivals += !dead[j] && previous_[j];
    }
  }
  previous_ = dead;
  first_ = false;
  return c;
}

}  // namespace slope::demo
