// What the training demos share about a run: its data, the model's shape and init, the
// optimizer and the schedule, the seeds. Each demo's Config derives from RunConfig and
// states only the defaults it changes; demo::add_run_flags (support/cli.hpp) declares the
// flags once, with their bounds (kRunBounds); the browser playground's web::Settings
// derives from it too. No CLI11 here: the WebAssembly build compiles it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

namespace slope::demo {

struct RunConfig {
  std::string data = "spirals";         // a data::names() generator (slope-curves: or a CSV file)
  std::size_t samples = 300;            // points, train and test together
  std::optional<double> noise;          // nullopt: data::default_noise(data)
  double test_fraction = 0.2;           // the share held out for testing
  int depth = 4;                        // hidden layers (slope-ffn: or blocks)
  int width = 32;                       // units per hidden layer (slope-ffn: the stream's C)
  std::string init = "xavier_uniform";  // an nn::Init::parse name
  std::string optim = "adam";           // an optimizer_names() name
  double lr = 0;                        // <= 0: default_lr(optim)
  std::size_t steps = 200;              // full-batch optimizer steps
  std::size_t probe_every = 20;         // probes and curves at step 0, every N steps and last
  std::uint64_t seed = 1;               // the data's, and the first model's
  int seeds = 1;                        // model seeds seed, seed + 1, ..., seed + seeds - 1

  double noise_or_default() const;  // noise, else data::default_noise(data)
  double lr_or_default() const;     // lr when > 0, else default_lr(optim)
};

// The bounds of the flags, in one place for the command line and the browser page.
struct RunBounds {
  std::size_t samples_min = 10, samples_max = 10'000'000;
  double noise_max = 100;
  double test_fraction_min = 0.01, test_fraction_max = 0.99;
  int depth_max = 1000, width_max = 4096;
  double lr_min = 1e-9, lr_max = 1e9;
  std::size_t steps_max = 10'000'000, probe_every_max = 10'000'000;
  int seeds_max = 1000;
};
inline constexpr RunBounds kRunBounds{};

}  // namespace slope::demo
