#include "support/train.hpp"

#include <cmath>

#include <fmt/core.h>

#include "support/cli.hpp"

namespace slope::demo {

// --- optimizer flags ---------------------------------------------------------------

void add_optimizer_flags(CLI::App& app, std::string& optim, double& lr) {
  app.add_option("--optim", optim, "Optimizer (sgd: plain, no momentum)")
      ->capture_default_str()
      ->check(CLI::IsMember(optimizer_names()));
  std::string defaults;
  for (const auto& o : kOptimizers)
    defaults += fmt::format("{}{} for {}", defaults.empty() ? "" : ", ", o.lr, o.name);
  app.add_option("--lr", lr, "Learning rate (default " + defaults + ")")->check(range(1e-9, 1e9));
}

// --- data ---------------------------------------------------------------------------

Split make_split(const std::string& name, std::size_t samples, double noise, double test_fraction,
                 std::uint64_t seed) {
  const data::Dataset all = data::make(name, samples, noise, seed);
  auto [train, test] = data::train_test_split(all, test_fraction, seed + 2);
  return {std::move(train), std::move(test)};
}

// --- the loop -----------------------------------------------------------------------

std::string Divergence::message() const {
  return fmt::format("diverged at step {}: {}", step, what);
}

namespace {

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
              fmt::format("layer {}'s pre-activations are not finite (loss {})", l + 1, loss)};
  return {step, 0, fmt::format("the loss is {} (every layer's pre-activations are finite)", loss)};
}

std::optional<Divergence> gradient_divergence(std::size_t step, const probe::Trace& trace,
                                              const std::vector<Tensor>& params) {
  // From the output end: a non-finite gradient spreads to every layer below where it began.
  for (std::size_t l = trace.layers().size(); l-- > 0;)
    if (!trace.layers()[l].weight.grad().allFinite())
      return Divergence{step, static_cast<int>(l + 1),
                        fmt::format("layer {}'s weight gradient is not finite", l + 1)};
  for (const Tensor& p : params)
    if (!p.grad().allFinite())
      return Divergence{step, 0,
                        fmt::format("a parameter of shape {}'s gradient is not finite", p.shape())};
  return std::nullopt;
}

}  // namespace

History train(const nn::AnyModule<float>& model, Optimizer& opt, const data::Dataset& train,
              const data::Dataset& test, const Schedule& schedule, const StepHook& on_forward,
              const std::function<void(std::size_t)>& on_step) {
  if (schedule.probe_every < 1)
    throw std::invalid_argument("slope::demo::train: Schedule::probe_every must be at least 1");
  const Tensor x_train = train.features<float>(), x_test = test.features<float>();
  const std::vector<Tensor> params = model.parameters();
  History out;
  for (std::size_t step = 0; step <= schedule.steps; ++step) {
    const bool probed = step % schedule.probe_every == 0 || step == schedule.steps;
    opt.zero_grad();
    std::vector<Tensor> weights;         // the traced layers' weights (handles) ...
    std::vector<Tensor::Matrix> before;  // ... and their values before this step's update
    {
      probe::Trace trace;  // records this forward pass only
      const Tensor logits = model.forward(x_train);
      const Tensor loss = cross_entropy(logits, train.y);
      const double loss_value = loss.item();
      if (!std::isfinite(loss_value) || !logits.value().allFinite() || any_non_finite(trace)) {
        out.diverged = forward_divergence(step, trace, loss_value);
        return out;
      }
      loss.backward();
      if ((out.diverged = gradient_divergence(step, trace, params))) return out;
      if (on_forward) on_forward(step, trace, logits);
      const double accuracy = slope::accuracy(logits, train.y);
      if (accuracy > out.best_train_accuracy || step == 0)
        out.best_train_accuracy = accuracy, out.best_step = step;
      if (probed) {
        out.probes.push_back({step, probe::layers(trace), probe::blocks(trace)});
        out.curves.push_back({step, "train", loss_value, accuracy});
        if (step < schedule.steps)
          for (const auto& l : trace.layers()) {
            weights.push_back(l.weight);
            before.push_back(l.weight.value());
          }
      }
    }
    if (probed && test.n > 0) {
      const no_grad off;
      const Tensor logits = model.forward(x_test);
      out.curves.push_back(
          {step, "test", cross_entropy(logits, test.y).item(), slope::accuracy(logits, test.y)});
    }
    if (step == schedule.steps) break;  // the last step is measured, not taken
    opt.step();
    for (std::size_t l = 0; l < weights.size(); ++l)
      out.probes.back().layers[l].update_ratio =
          probe::update_ratio<float>(before[l], weights[l].value());
    if (on_step) on_step(step + 1);
  }
  return out;
}

RunsCsv::RunsCsv(const std::filesystem::path& path)
    : csv_(path, {"run", "activation", "depth", "seed", "status", "diverged_step", "diverged_layer",
                  "best_train_accuracy", "best_step"}) {}

void RunsCsv::row(std::string_view run, std::string_view activation, int depth, std::uint64_t seed,
                  const History& h) {
  const bool bad = h.diverged.has_value();
  csv_.row(run, activation, depth, seed, bad ? "diverged" : "ok",
           bad ? std::to_string(h.diverged->step) : "",
           bad ? std::to_string(h.diverged->layer) : "", h.best_train_accuracy, h.best_step);
}

int report_divergences(const std::vector<std::pair<std::string, const History*>>& runs) {
  int status = 0;
  for (const auto& [label, h] : runs)
    if (h->diverged) {
      fmt::print(stderr, "{}: {}: {}\n", program_name(), label, h->diverged->message());
      status = kDiverged;
    }
  return status;
}

}  // namespace slope::demo
