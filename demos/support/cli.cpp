#include "cli.hpp"

#include <csignal>

#include <algorithm>
#include <exception>
#include <system_error>

#include <fmt/core.h>
#include <fmt/ranges.h>
#include <slope/activations.hpp>
#include <slope/nn.hpp>

#include "output.hpp"
#include "support/model.hpp"

namespace slope::demo {

namespace {

std::string& mutable_program_name() {
  static std::string name = "slope";
  return name;
}

// Error messages must stay on one line, whatever CLI11 or a library puts in them.
std::string one_line(std::string s) {
  std::replace(s.begin(), s.end(), '\n', ' ');
  while (!s.empty() && s.back() == ' ') s.pop_back();
  return s;
}

void print_error(std::string_view message) {
  fmt::print(stderr, "{}: {}\n", program_name(), one_line(std::string(message)));
}

// CLI11 validator: empty string when `name` is registered, else slope's message
// listing the valid names.
std::string check_activation(const std::string& name) {
  try {
    act::find(name);
    return {};
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
}

}  // namespace

const std::string& program_name() { return mutable_program_name(); }

const std::string& exit_statuses() {
  static const std::string text = fmt::format(
      "Exit status: 0 success, {} internal error (a bug), {} bad input, {} a training run turned "
      "non-finite (the other outputs still written), {} SIGINT, {} SIGTERM (no file left "
      "half-written).",
      kInternalError, kUsageError, kDiverged, kInterruptedBase + SIGINT,
      kInterruptedBase + SIGTERM);
  return text;
}

void warn(std::string_view message) {
  fmt::print(stderr, "{}: warning: {}\n", program_name(), one_line(std::string(message)));
}

Cli::Cli(std::string name, std::string description, std::optional<std::uint64_t> default_seed)
    : app_(std::move(description), "slope-" + name),
      seed_(default_seed.value_or(0)),
      out_str_("out/" + name) {
  mutable_program_name() = "slope-" + name;
  if (default_seed)
    app_.add_option("--seed", seed_, "Random seed; the same seed gives byte-identical CSV")
        ->capture_default_str()
        ->check(CLI::Validator(  // CLI11 would wrap "-1" around to 2^64 - 1
            [](const std::string& s) -> std::string {
              return s.starts_with('-') ? "must be a non-negative integer, got " + s : "";
            },
            "", "non-negative"));
  app_.add_option("--out", out_str_, "Output directory for CSV, plots and scripts")
      ->capture_default_str();
  app_.footer(exit_statuses());
}

void Cli::add_activation(std::string& activation) {
  std::string names;
  for (const std::string& n : slope::activations()) names += (names.empty() ? "" : ", ") + n;
  app_.add_option("--act", activation, "Hidden-layer activation, one of: " + names)
      ->capture_default_str()
      ->check(CLI::Validator(check_activation, "NAME", "activation"));
}

void Cli::add_activations(std::vector<std::string>& activations) {
  act_list_target_ = &activations;
  for (const std::string& a : activations) act_list_ += (act_list_.empty() ? "" : ",") + a;
  app_.add_option("--act", act_list_,
                  "Comma-separated activations, or 'all' for every registered one")
      ->capture_default_str()
      ->check(CLI::Validator(
          [](const std::string& list) -> std::string {
            try {
              parse_activation_list(list);
              return {};
            } catch (const UsageError& e) {
              return e.what();
            }
          },
          "LIST", "activation list"));
}

std::optional<int> Cli::parse(int argc, const char* const* argv) {
  try {
    app_.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app_.exit(e);  // --help: help on stdout, status 0
    print_error(fmt::format("{} (see --help)", e.what()));
    return kUsageError;
  }
  out_ = out_str_;
  if (act_list_target_ != nullptr) *act_list_target_ = parse_activation_list(act_list_);
  std::error_code ec;
  std::filesystem::create_directories(out_, ec);
  if (ec || !std::filesystem::is_directory(out_)) {
    print_error(fmt::format("--out: cannot create directory '{}': {}", out_.string(),
                            ec ? ec.message() : "a file of that name exists"));
    return kUsageError;
  }
  return std::nullopt;
}

void add_run_flags(CLI::App& app, RunConfig& config, std::initializer_list<RunFlag> flags) {
  const RunBounds& b = kRunBounds;
  std::string data_names;
  for (const std::string& n : slope::data::names())
    data_names += (data_names.empty() ? "" : ", ") + n;
  for (const RunFlag flag : flags) switch (flag) {
      case RunFlag::data:
        app.add_option("--data", config.data, "Data set: " + data_names)
            ->capture_default_str()
            ->check(CLI::IsMember(slope::data::names()));
        break;
      case RunFlag::data_or_csv:
        app.add_option("--data", config.data,
                       "Data set: " + data_names + ", or a CSV file of rows x1,...,xn,label")
            ->capture_default_str();
        break;
      case RunFlag::samples:
        app.add_option("--samples", config.samples, "Points of a generated data set")
            ->capture_default_str()
            ->check(CLI::Range(b.samples_min, b.samples_max));
        break;
      case RunFlag::noise: {
        CLI::Option* o = app.add_option_function<double>(
                                "--noise", [&config](const double& v) { config.noise = v; },
                                config.noise ? "Noise of a generated data set"
                                             : "Noise of a generated data set (default: moons "
                                               "0.1, spirals 0.2, others 0.05)")
                             ->check(range(0.0, b.noise_max));
        if (config.noise) o->default_str(fmt::format("{}", *config.noise));
        break;
      }
      case RunFlag::test_fraction:
        app.add_option("--test-fraction", config.test_fraction,
                       "Share of the data held out for testing")
            ->capture_default_str()
            ->check(range(b.test_fraction_min, b.test_fraction_max));
        break;
      case RunFlag::depth:
        app.add_option("--depth", config.depth, "Hidden layers")
            ->capture_default_str()
            ->check(CLI::Range(1, b.depth_max));
        break;
      case RunFlag::width:
        app.add_option("--width", config.width, "Units per hidden layer")
            ->capture_default_str()
            ->check(CLI::Range(1, b.width_max));
        break;
      case RunFlag::init:
        app.add_option("--init", config.init,
                       "Weight init: " + fmt::format("{}", fmt::join(nn::Init::names(), ", ")))
            ->capture_default_str()
            ->check(init_name());
        break;
      case RunFlag::optim: {
        app.add_option("--optim", config.optim, "Optimizer (sgd: plain, no momentum)")
            ->capture_default_str()
            ->check(CLI::IsMember(optimizer_names()));
        std::string defaults;
        for (const auto& o : kOptimizers)
          defaults += fmt::format("{}{} for {}", defaults.empty() ? "" : ", ", o.lr, o.name);
        app.add_option("--lr", config.lr, "Learning rate (default " + defaults + ")")
            ->check(range(b.lr_min, b.lr_max));
        break;
      }
      case RunFlag::steps:
        app.add_option("--steps", config.steps, "Training steps (0: the untrained network only)")
            ->capture_default_str()
            ->check(CLI::Range(std::size_t{0}, b.steps_max));
        break;
      case RunFlag::probe_every:
        app.add_option("--probe-every", config.probe_every, "Probe every this many steps")
            ->capture_default_str()
            ->check(CLI::Range(std::size_t{1}, b.probe_every_max));
        break;
      case RunFlag::seeds:
        app.add_option("--seeds", config.seeds, "Model seeds per run: --seed, --seed + 1, ...")
            ->capture_default_str()
            ->check(CLI::Range(1, b.seeds_max));
        break;
    }
}

CLI::Validator init_name() {
  return CLI::Validator(
      [](const std::string& name) -> std::string {
        try {
          slope::nn::Init::parse(name);
          return {};
        } catch (const std::invalid_argument& e) {
          return e.what();
        }
      },
      "INIT", "init");
}

CLI::Validator range(double lo, double hi) {
  return CLI::Validator(
      [lo, hi](const std::string& text) -> std::string {
        double v = 0;
        if (!CLI::detail::lexical_cast(text, v) || !(v >= lo && v <= hi))
          return fmt::format("{} is not in [{:g}, {:g}]", text, lo, hi);
        return {};
      },
      fmt::format("[{:g} - {:g}]", lo, hi), "range");
}

std::vector<std::string> split_list(std::string_view list) {
  std::vector<std::string> items;
  std::size_t start = 0;
  while (start <= list.size()) {
    const std::size_t comma = std::min(list.find(',', start), list.size());
    items.emplace_back(list.substr(start, comma - start));
    start = comma + 1;
  }
  return items;
}

std::vector<std::string> parse_activation_list(std::string_view list) {
  if (list == "all") return slope::activations();
  std::vector<std::string> names;
  for (const std::string& name : split_list(list)) {
    try {
      act::find(name);
    } catch (const std::invalid_argument& e) {
      throw UsageError(e.what());
    }
    // A name given twice trains once: its runs would be the same runs, twice.
    if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
  }
  return names;
}

int run_main(const std::function<int()>& body) {
  exit_cleanly_on_interrupt();
  try {
    return body();
  } catch (const UsageError& e) {
    print_error(e.what());
    return kUsageError;
  } catch (const Diverged& e) {
    print_error(e.what());
    return kDiverged;
  } catch (const std::exception& e) {
    print_error(fmt::format("error: {}", e.what()));
    return kInternalError;
  }
}

std::vector<int> parse_depths(const std::string& list) {
  std::vector<int> depths;
  for (const std::string& item : split_list(list)) {
    std::size_t used = 0;
    int d = 0;
    try {
      d = std::stoi(item, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != item.size() || item.empty() || d < 1 || d > 1000)
      throw UsageError("--depth: '" + item + "' is not a depth in 1..1000 (in '" + list + "')");
    if (std::find(depths.begin(), depths.end(), d) == depths.end()) depths.push_back(d);
  }
  return depths;
}

}  // namespace slope::demo
