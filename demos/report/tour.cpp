#include "report/tour.hpp"

#include <stdexcept>

namespace slope::demo::tour {

const std::vector<Run>& runs() {
  static const std::vector<Run> tour{
      {kMicrograd, "micrograd", {}},
      // micrograd's own choice of activation, for the report's tanh claim.
      {kMicrogradTanh, "micrograd", {"--act", "tanh"}},
      // Every activation, relu(2 x + 1) and x = 1.5: the explorer's defaults.
      {kExplorer, "explorer", {}},
      // Training curves on spirals over 3 seeds, shortened to 200 steps for the tour.
      {kCurves, "curves", {"--steps", "200"}},
      // Depth 8, relu/sigmoid/tanh/gelu, Xavier and He, 200 steps: the defaults.
      {kVanishing, "vanishing", {}},
      // The step-0 gradients of deeper stacks (no training).
      {kVanishingDeep, "vanishing", {"--depth", "8,16,32", "--steps", "0"}},
      // Glorot and Bengio (2010): a depth-4 sigmoid net under the "standard" init
      // U(+-1/sqrt(n)) (PyTorch's) and a large SGD step; its top hidden layer saturates
      // towards 0 early.
      {kVanishingGlorot,
       "vanishing",
       {"--depth", "4", "--act", "sigmoid,tanh", "--init", "pytorch", "--lr", "4", "--steps",
        "1000", "--probe-every", "10"}},
      // The lr sweep 0.03..3 over 3 seeds, a negative bias, a bad init; born dead, 3000 trials.
      {kDeadRelu, "dead-relu", {}},
      // 16 pre-LN residual FFN blocks beside a depth-16 MLP, 2 seeds, 60 steps for the tour.
      {kFfn, "ffn", {"--seeds", "2", "--steps", "60"}},
      // GELU where GPT-2 puts it: a small GPT on the fortunes text with gelu, relu and tanh
      // in its MLPs, two seeds, 600 steps; each beats the bigram baseline (sigmoid needs the
      // lesson's full run, in demos/README.md).
      // clang-format off
      {kGpt, "gpt", {"--act", "gelu,relu,tanh", "--seeds", "2", "--steps", "600",
                     "--warmup", "60", "--lr", "0.003", "--layers", "2", "--embd", "64",
                     "--block", "32", "--batch", "8", "--probe-every", "50",
                     "--eval-batches", "8"}},
      // clang-format on
  };
  return tour;
}

const Run& run(std::string_view name) {
  for (const Run& r : runs())
    if (r.name == name) return r;
  throw std::out_of_range("slope::demo::tour::run: the tour has no run '" + std::string(name) +
                          "'");
}

std::string Run::command() const {
  std::string text = "slope-" + std::string(demo);
  for (std::string_view f : flags) text += " " + std::string(f);
  return text;
}

std::string listing() {
  std::string text;
  for (const Run& r : runs()) {
    text += std::string(r.name) + "\t" + std::string(r.demo) + "\t";
    for (std::size_t i = 0; i < r.flags.size(); ++i)
      text += (i ? " " : "") + std::string(r.flags[i]);
    text += "\n";
  }
  return text;
}

}  // namespace slope::demo::tour
