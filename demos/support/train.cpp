#include "support/train.hpp"

#include <stdexcept>
#include <utility>

#include <fmt/core.h>

#include "support/exit.hpp"

namespace slope::demo {

// --- data ---------------------------------------------------------------------------

Split make_split(const RunConfig& config) {
  const data::Dataset all =
      data::make(config.data, config.samples, config.noise_or_default(), config.seed);
  auto [train, test] = data::train_test_split(all, config.test_fraction, config.seed + 2);
  return {std::move(train), std::move(test)};
}

// --- the loop -----------------------------------------------------------------------

History train(const nn::AnyModule<float>& model, Optimizer& opt, const data::Dataset& train,
              const data::Dataset& test, const Schedule& schedule, const StepHook& on_forward,
              const std::function<void(std::size_t)>& on_step) {
  if (schedule.probe_every < 1)
    throw std::invalid_argument("slope::demo::train: Schedule::probe_every must be at least 1");
  const Tensor x_train = train.features<float>(), x_test = test.features<float>();
  History out;
  for (std::size_t step = 0; step <= schedule.steps; ++step) {
    const bool probed = step % schedule.probe_every == 0 || step == schedule.steps;
    const bool last = step == schedule.steps;  // the last step is measured, not taken
    StepResult r =
        train_step(model, opt, x_train, train, x_test, test, step, probed, !last, on_forward);
    if (r.diverged) {
      out.diverged = std::move(r.diverged);
      return out;
    }
    if (r.accuracy > out.best_train_accuracy || step == 0)
      out.best_train_accuracy = r.accuracy, out.best_step = step;
    if (probed) {
      out.probes.push_back(std::move(*r.probe));
      out.curves.push_back({step, "train", r.loss, r.accuracy});
      if (test.n > 0) out.curves.push_back({step, "test", r.test_loss, r.test_accuracy});
    }
    if (last) break;
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
