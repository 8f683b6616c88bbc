// The command line every demo shares, on CLI11: --help, --seed, --out, --act, and the
// exit-status convention (2 and one line on stderr for bad input). Only the demos'
// main.cpp files and their flag helpers include it: CLI11 costs seconds per file compiled.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <initializer_list>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <CLI/CLI.hpp>

#include "support/exit.hpp"
#include "support/run_config.hpp"

namespace slope::demo {

// A CLI11 app with the shared flags. A demo adds its own flags through app(), then
// calls parse() and uses seed() and out():
//
//   slope::demo::Cli cli("micrograd", "micrograd's moons demo", 1337);
//   std::string act = "relu";
//   cli.add_activation(act);
//   cli.app().add_option("--steps", steps, "...")->check(CLI::Range(1, 100000));
//   if (auto status = cli.parse(argc, argv)) return *status;
class Cli {
 public:
  // The executable is slope-<name>; --out defaults to out/<name>. A demo that draws
  // nothing at random passes std::nullopt and gets no --seed.
  Cli(std::string name, std::string description, std::optional<std::uint64_t> default_seed);

  CLI::App& app() { return app_; }

  // --act NAME: one registered activation (validated through slope::act::find).
  void add_activation(std::string& activation);
  // --act LIST: comma-separated registered names, or "all" for the whole catalogue.
  void add_activations(std::vector<std::string>& activations);

  // Parses argv. Returns the status to exit with now (0 after --help, kUsageError
  // after one line on stderr), or nullopt when the demo should run.
  std::optional<int> parse(int argc, const char* const* argv);

  std::uint64_t seed() const { return seed_; }
  // The output directory, created by parse().
  const std::filesystem::path& out() const { return out_; }

 private:
  CLI::App app_;
  std::uint64_t seed_;
  std::string out_str_;
  std::filesystem::path out_;
  std::string act_list_;
  std::vector<std::string>* act_list_target_ = nullptr;
};

// The flags of RunConfig's fields, declared once with their bounds (kRunBounds), each
// showing the default the config holds when it is added. A demo adds those it uses:
//   add_run_flags(app, config, {RunFlag::data, RunFlag::samples, RunFlag::steps});
// --seed is the Cli's own. RunFlag::optim adds --optim and --lr; RunFlag::data checks for a
// generator's name, RunFlag::data_or_csv also takes a CSV file's path.
enum class RunFlag {
  data,
  data_or_csv,
  samples,
  noise,
  test_fraction,
  depth,
  width,
  init,
  optim,
  steps,
  probe_every,
  seeds
};
void add_run_flags(CLI::App& app, RunConfig& config, std::initializer_list<RunFlag> flags);

// A CLI11 check that the value is a weight init slope::nn::Init::parse accepts; its
// error lists the valid names.
CLI::Validator init_name();

// CLI11's Range for a real-valued flag, with the bounds and the value written as people
// write them ("0 is not in [1e-09, 1e+09]"), not in std::to_string's fixed notation.
CLI::Validator range(double lo, double hi);

// "1 step", "200 steps": a count and its noun, plural unless the count is 1.
inline std::string count_of(long long n, std::string_view noun) {
  return std::to_string(n) + " " + std::string(noun) + (n == 1 ? "" : "s");
}

// Splits "8,16,32" at the commas ("" gives one empty item).
std::vector<std::string> split_list(std::string_view list);

// Parses --depth's "8,16,32": each a whole number in 1..1000, duplicates dropped; throws
// UsageError naming the bad item.
std::vector<int> parse_depths(const std::string& list);

// Splits "relu,tanh" into names, expanding "all" and dropping repeats (relu,relu is relu);
// throws UsageError for unknown names.
std::vector<std::string> parse_activation_list(std::string_view list);

}  // namespace slope::demo
