// slope-ffn's computation, so the executable and tests/test_ffn_demo.cpp run the same
// code: stacks of N pre-LN residual feed-forward blocks (GPT-2's MLP half of a block)
// beside plain MLPs of the same depth, trained on the shared loop and probed per block
// (residual) or per Linear layer (MLP).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include <slope/slope.hpp>

#include "support/train.hpp"

namespace slope::demo::ffn {

inline constexpr std::uint64_t kDefaultSeed = 3;
inline constexpr std::string_view kMlp = "mlp", kResidual = "residual_ffn";

// The run configuration (support/run_config.hpp) with slope-ffn's defaults: 16 blocks,
// PyTorch's init, noise 0.2 whatever the data set, 80 steps probed every 10, 3 model seeds.
struct Config : RunConfig {
  Config() {
    noise = 0.2, depth = 16, init = "pytorch", steps = 80, probe_every = 10;
    seed = kDefaultSeed, seeds = 3;
  }
  std::string model = std::string(kResidual);  // kMlp or kResidual
  std::string activation = "gelu";
  int hidden_mult = 4;                      // a block's hidden width is hidden_mult * C (GPT-2: 4)
  std::uint64_t model_seed = kDefaultSeed;  // the model's weights; seed: the data and split
};

// The residual model: Linear(in, C), then `depth` blocks
// Residual(Sequential{LayerNorm(C), FeedForward(C, hidden_mult * C, activation)}), then
// LayerNorm(C) and Linear(C, classes), as GPT-2's ln_f and head.
nn::Sequential make_residual(std::size_t in, int width, int hidden_mult, int depth,
                             std::size_t classes, std::string_view activation, const nn::Init& init,
                             Rng& rng);

using Split = demo::Split;
Split make_data(const Config& config);

// One probed level of a model at one step: a Linear layer of the MLP (the output layer
// last) or a block of the residual model.
struct Level {
  int layer = 0;
  probe::LayerStats stats;  // grad_norm: the layer's, or the block's fc and proj together
};
std::vector<Level> levels(const std::string& model, const ProbePoint& p);

// First level's gradient norm over the last's (MLP: layer 1 over the output layer;
// residual: block 1 over block N), at a probed step.
double first_over_last(const std::vector<Level>& levels);

History run(const Config& config, const Split& split,
            const std::function<void(std::size_t)>& on_step = {});

// The keys of summary.csv, shared with slope-report.
namespace key {
std::string ratio(std::string_view model, std::string_view activation, int depth);
std::string final_loss(std::string_view model, std::string_view activation, int depth);
std::string final_loss_std(std::string_view model, std::string_view activation, int depth);
std::string final_test_acc(std::string_view model, std::string_view activation, int depth);
}  // namespace key

}  // namespace slope::demo::ffn
