// slope-gpt's computation, so the executable and tests/test_gpt_demo.cpp run the same code:
// a character-level GPT (nanoGPT's shape, nn::GPT) trained on a text with each feed-forward
// activation, nanoGPT's recipe (AdamW with weight-decay groups, warmup + cosine learning
// rate, gradient clipping), evaluated and probed every few steps.
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <slope/slope.hpp>

#include "support/run_config.hpp"

namespace slope::demo::gpt {

inline constexpr std::uint64_t kDefaultSeed = 1337;
// The default corpus: Debian's `fortunes` package (make deps installs it).
inline constexpr std::string_view kFortunesDir = "/usr/share/games/fortunes";

// The run configuration (support/run_config.hpp) with nanoGPT's CPU "baby GPT" recipe:
// steps 2000, evaluation every 100 steps (probe_every), lr 1e-3. data, samples, noise,
// test_fraction, depth, width, init and optim are not used: the text is the data, the
// model is the GPT below, the optimizer AdamW.
struct Config : RunConfig {
  Config() { steps = 2000, probe_every = 100, lr = 1e-3, seed = kDefaultSeed, seeds = 1; }
  std::string text;  // a UTF-8 file; empty: the fortunes corpus (corpus_files)
  std::vector<std::string> activations{"gelu", "gelu_tanh", "relu", "silu", "tanh", "sigmoid"};
  int layers = 4, heads = 4, embd = 128, block = 64, batch = 12;
  double min_lr = 1e-4, weight_decay = 0.1, beta1 = 0.9, beta2 = 0.99, clip = 1.0;
  int warmup = 100;
  int eval_batches = 20;      // batches of each split per evaluation
  double val_fraction = 0.1;  // the text's last 10% is held out
  int sample_chars = 300;     // generated per run, from a newline
  double temperature = 0.8;
  int top_k = 20;
  int threads =
      static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));  // runs at once
};

// The fortunes corpus: the regular files of `dir` whose names have no dot (not the .dat
// indexes or the .u8 links), sorted by name. Throws UsageError when there are none.
std::vector<std::string> corpus_files(const std::string& dir = std::string(kFortunesDir));
// The text the runs train on: Config::text, or the corpus files one after the other.
// Throws UsageError naming the file for an unreadable one.
std::string read_text(const Config& config);

// The text as a data set (Config::val_fraction held out), checked for the model: each split
// holds at least block + 1 characters. Throws UsageError naming the text for an empty text,
// invalid UTF-8 or a split too short.
data::TextDataset load_text(const Config& config);

// Cross-entropy in nats on the validation split of models that need no training: each
// character's frequency in the training split (add-one), and each character's given the
// one before it (add-one).
struct Baselines {
  double unigram = 0, bigram = 0;
};
Baselines baselines(const data::TextDataset& text);

struct Eval {
  int step = 0;
  double train_loss = 0, val_loss = 0;  // mean over eval_batches batches of each split
};
struct Probe {
  int step = 0;
  std::vector<probe::TransformerBlockStats> blocks;  // of the training step's batch
};
struct Run {
  std::string activation;
  std::uint64_t seed = 0;
  std::vector<Eval> evals;
  std::vector<Probe> probes;
  std::optional<std::string> diverged;  // "step N: the loss is nan", when it did
  std::string sample;                   // generated text
  double seconds = 0;                   // wall time of the training
  std::shared_ptr<const nn::GPT> model;
};

nn::GPTConfig model_config(const Config& config, int vocab_size, std::string_view activation);

// Trains one GPT from Rng(seed) on the text's training split. Evaluates at step 0, every
// probe_every steps and the last, on the same batches for every run (drawn from the step
// number), and probes the transformer blocks on those steps' training batch. A loss that
// turns non-finite stops the run there. `on_step(step, tokens_per_second, val_loss)` is called
// after each step.
Run train(const Config& config, const data::TextDataset& text, const std::string& activation,
          std::uint64_t seed, const std::function<void(int, double, double)>& on_step = {});

// The model as PyTorch prints nanoGPT's, with each module's parameter count and the
// activation's place marked in every block's MLP, between c_fc and c_proj.
std::string describe(const nn::GPT& model);

// The attention weights of every block and head on one sequence (batch 1): weights[b][h] is
// (T, T), row t over the positions s <= t.
std::vector<std::vector<Tensor::Matrix>> attention_maps(const nn::GPT& model,
                                                        const std::vector<int>& ids);

// relu's mean final loss minus gelu's against the larger of their standard deviations over
// `seeds` seeds, in words, with Shazeer's (2020) table beside it; slope-gpt's REPORT.md and
// slope-report's say it the same way.
std::string gelu_against_relu(double relu_minus_gelu, double spread, int seeds);

// The keys of summary.csv, shared with slope-report.
namespace key {
std::string final_val(std::string_view activation);      // mean over seeds
std::string final_val_std(std::string_view activation);  // sample std over seeds
std::string dead_frac(std::string_view activation);      // the FFNs' at the end, mean
std::string entropy(std::string_view activation);        // the heads' at the end, mean
inline constexpr const char* kUnigram = "baseline.unigram";
inline constexpr const char* kBigram = "baseline.bigram";
inline constexpr const char* kSeeds = "seeds";
inline constexpr const char* kSteps = "steps";
}  // namespace key

}  // namespace slope::demo::gpt
