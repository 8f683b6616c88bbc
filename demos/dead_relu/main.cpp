// slope-dead-relu: ReLU units that are negative for every training example have slope
// 0 everywhere, get no gradient and, in layer 1 under plain SGD, never learn again.
// This demo trains ReLU MLPs under settings that kill units (large learning rates, a
// negative bias init, a bad weight init), tracks every hidden unit at every step, counts
// deaths and revivals, and runs leaky ReLU and GELU under the same settings. It also
// estimates by Monte Carlo how often a narrow deep ReLU network is born dead, beside the
// bound of Lu et al. (2019). Every number printed is measured by this run.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <filesystem>
#include <map>
#include <stdexcept>
#include <string>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include <fmt/core.h>
#include <fmt/ranges.h>
#include <slope/slope.hpp>

#include "dead_relu/dead_relu.hpp"
#include "support/cli.hpp"
#include "support/model.hpp"
#include "support/output.hpp"
#include "support/palette.hpp"
#include "support/parallel.hpp"
#include "support/plot.hpp"
#include "support/progress.hpp"
#include "support/summary.hpp"

namespace {

namespace demo = slope::demo;
namespace dr = slope::demo::dead_relu;
namespace fs = std::filesystem;

struct Result {
  std::string activation;
  dr::Setting setting;
  std::uint64_t seed;
  dr::Run run;
};

std::vector<double> parse_lrs(const std::string& list) {
  std::vector<double> lrs;
  for (const std::string& item : demo::split_list(list)) {
    std::size_t used = 0;
    double lr = 0;
    try {
      lr = std::stod(item, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (item.empty() || used != item.size() || !(lr > 0) || !std::isfinite(lr) || lr > 100)
      throw demo::UsageError("--lr: '" + item + "' is not a learning rate in (0, 100] (in '" +
                             list + "')");
    if (std::find(lrs.begin(), lrs.end(), lr) == lrs.end()) lrs.push_back(lr);
  }
  return lrs;
}

// The widths and depths of Lu et al.'s question.
const std::vector<int> kBornWidths{2, 3, 4, 5, 10};
const std::vector<int> kBornDepths{10, 20, 50};

// Lu et al. (2019), Monte Carlo column of their table, printed for comparison only.
std::string paper_value(int n, int h) {
  if (n == 2 && h == 10) return "0.9099";
  if (n == 4 && h == 10) return "0.3357";
  if (n == 10 && h == 50) return "0.0341";
  return "";
}

// The data rows (first, last; 0 = the first after the header) of dead.csv that hold one
// (activation, setting, layer) series of the first seed.
using Rows =
    std::map<std::tuple<std::string, std::string, int>, std::pair<std::size_t, std::size_t>>;

// Dead fraction over training for the first seed: a panel per setting, a line per
// activation and layer (colour = activation, as in every demo; dash type = layer).
void plot_dead(const fs::path& dir, const std::vector<std::string>& acts,
               const std::vector<dr::Setting>& settings, int layers, const Rows& series,
               std::uint64_t seed) {
  // One slot more than the settings, for the legend: a key inside a panel covers curves.
  const int cols = settings.size() + 1 > 4 ? 3 : 2;
  const int rows = static_cast<int>((settings.size() + 1 + cols - 1) / cols);
  std::string body = fmt::format("  set multiplot layout {},{}\n  unset key\n", rows, cols);
  for (const dr::Setting& s : settings) {
    body += fmt::format(
        "  set title \"{}: {} init, bias {}, lr {} (seed {})\" noenhanced\n"
        "  set xlabel \"step\"\n  set ylabel \"dead fraction of the layer's units\"\n"
        "  set yrange [-0.02:1.02]\n  set grid\n  plot ",
        s.name, s.init, s.bias, s.lr, seed);
    std::string sep;
    for (std::size_t a = 0; a < acts.size(); ++a)
      for (int l = 1; l <= layers; ++l) {
        const auto it = series.find({acts[a], s.name, l});
        if (it == series.end()) continue;  // no records (the run diverged at step 0)
        body += fmt::format(
            "{}\"dead.csv\" skip 1 every ::{}::{} using 4:6 with lines lw {} dt {} lc rgb \"{}\" "
            "notitle",
            sep, it->second.first, it->second.second, a == 0 ? 2 : 1.5, l,
            demo::colour_of(acts[a]));
        sep = ", \\\n       ";
      }
    if (sep.empty()) body += "NaN notitle";  // nothing recorded in this setting
    body += "\n";
  }
  // The legend panel: the same line styles, no data.
  body +=
      "  unset title\n  unset xlabel\n  unset ylabel\n  unset border\n  unset tics\n"
      "  unset grid\n  set xrange [0:1]\n  set yrange [0:1]\n"
      "  set key center center noenhanced box title \"colour: activation, dash: layer\"\n  plot ";
  std::string sep;
  for (std::size_t a = 0; a < acts.size(); ++a)
    for (int l = 1; l <= layers; ++l) {
      body += fmt::format("{}NaN with lines lw {} dt {} lc rgb \"{}\" title \"{} layer {}\"", sep,
                          a == 0 ? 2 : 1.5, l, demo::colour_of(acts[a]), acts[a], l);
      sep = ", \\\n       ";
    }
  // The script draws twice (SVG, then PNG): put back what the legend panel took away.
  body += "\n  unset multiplot\n  set border\n  set tics\n  set autoscale x\n  unset key\n";
  demo::gnuplot(dir, "dead", body, 520 * cols, 400 * rows);
}

// The lesson's claim: the final dead fraction against the learning rate, mean ± std over
// seeds, one line per activation (every hidden unit), and relu's layers dashed.
void plot_dead_vs_lr(const fs::path& dir, const std::vector<std::string>& acts, int layers,
                     std::size_t seeds) {
  std::string body = fmt::format(
      "  set title \"final dead fraction after training, against the learning rate (mean ± std "
      "over {} seed{})\" noenhanced\n"
      "  set xlabel \"learning rate (plain SGD; log scale)\"\n"
      "  set ylabel \"dead fraction of the hidden units\"\n"
      "  set logscale x\n  set yrange [-0.05:1.05]\n  set grid\n"
      "  set key top left noenhanced opaque box\n  plot ",
      seeds, seeds == 1 ? "" : "s");
  std::string sep;
  for (const std::string& a : acts) {
    body += fmt::format(
        "{}\"dead_vs_lr.csv\" skip 1 using 2:((strcol(1) eq \"{}\" && strcol(3) eq \"all\") ? "
        "$6 : NaN):7 with yerrorlines lw 2 pt 7 lc rgb \"{}\" title \"{}, all hidden units\"",
        sep, a, demo::colour_of(a), a);
    sep = ", \\\n       ";
  }
  if (std::find(acts.begin(), acts.end(), "relu") != acts.end())
    for (int l = 1; l <= layers; ++l)
      body += fmt::format(
          "{}\"dead_vs_lr.csv\" skip 1 using 2:((strcol(1) eq \"relu\" && strcol(3) eq \"{}\") ? "
          "$6 : NaN) with linespoints lw 1 dt {} pt 6 lc rgb \"{}\" title \"relu, layer {}\"",
          sep, l, l + 1, demo::colour_of("relu"), l);
  demo::gnuplot(dir, "dead_vs_lr", body + "\n", 800, 520);
}

void plot_born_dead(const fs::path& dir) {
  std::string body =
      "  set title \"born-dead ReLU networks (input dim 1, no biases, He normal)\\n"
      "measured by Monte Carlo (± stderr) against the bound 1-(1-2^{-N})^H\"\n"
      "  set xlabel \"width N\"\n  set ylabel \"probability the network is constant\"\n"
      "  set xrange [1.5:10.5]\n  set samples 200\n  set yrange [0:1.05]\n  set grid\n"
      "  set key top right opaque box\n  plot ";
  std::string sep;
  for (std::size_t i = 0; i < kBornDepths.size(); ++i) {
    const int h = kBornDepths[i];
    // Measured widths as points with error bars (no line across the widths between them);
    // the bound is a formula in N, drawn as one.
    body += fmt::format(
        "{0}\"born_dead.csv\" skip 1 using 1:($2 == {1} ? $4 : NaN):($2 == {1} ? $5 : NaN) with "
        "yerrorbars pt 7 ps 1.2 lw 1.5 lc rgb \"{2}\" title \"H = {1}: measured\", "
        "\\\n       1 - (1 - 2**(-x))**{1} with lines lw 1.5 dt 2 lc rgb \"{2}\" title "
        "\"H = {1}: bound\"",
        sep, h, demo::series_colour(i));
    sep = ", \\\n       ";
  }
  demo::gnuplot(dir, "born_dead", body + "\n", 800, 520);
}

// What the command line asks for: the runs' shared configuration, the activations, and
// the sweep's settings (each activation trains under each setting on every seed).
struct Plan {
  dr::Config base;
  std::vector<std::string> acts{"relu", "leaky_relu", "gelu"};
  std::vector<double> lrs;
  std::vector<dr::Setting> settings;
  std::size_t trials = 3000;
  int threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  std::size_t seeds() const { return static_cast<std::size_t>(base.seeds); }
  // The flags the settings are made from.
  std::string lr_list = "0.03,0.1,0.3,1,3";
  double fixed_lr = 0.1, bias = -1.0;
  std::string bad_init = "normal(1)";
};

void add_flags(CLI::App& app, Plan& plan) {
  app.add_option("--lr", plan.lr_list, "Learning rates of the sweep (settings lr_<lr>, He init)")
      ->capture_default_str();
  app.add_option("--fixed-lr", plan.fixed_lr, "Learning rate of the bias and bad_init settings")
      ->capture_default_str()
      ->check(demo::range(1e-9, 100.0));
  app.add_option("--bias", plan.bias,
                 "Initial bias of every unit in the neg_bias setting (bias_<b> for b >= 0)")
      ->capture_default_str()
      ->check(demo::range(-100.0, 100.0));
  app.add_option("--bad-init", plan.bad_init, "Weight init of the bad_init setting")
      ->capture_default_str()
      ->check(demo::init_name());
  using F = demo::RunFlag;
  demo::add_run_flags(app, plan.base,
                      {F::depth, F::width, F::data, F::samples, F::steps, F::seeds});
  app.add_option("--threads", plan.threads,
                 "Runs trained at once, one per thread (the CSV does not depend on it)")
      ->capture_default_str()
      ->check(CLI::Range(1, 256));
  app.add_option("--trials", plan.trials, "Monte Carlo networks per (width, depth) for born dead")
      ->capture_default_str()
      ->check(CLI::Range(std::size_t{1}, std::size_t{100000000}));
}

void print_header(const Plan& plan) {
  const dr::Config& base = plan.base;
  fmt::print(
      "slope-dead-relu: {} {} samples, MLP of {} hidden layer{} x {} units, full-batch plain "
      "SGD (no momentum, no weight decay), {} step{}, seed{} {}\n"
      "a unit is dead at a step when its slope is exactly 0 for every training example in "
      "that step's forward pass\n",
      base.samples, base.data, base.depth, base.depth == 1 ? "" : "s", base.width, base.steps,
      base.steps == 1 ? "" : "s", plan.seeds() == 1 ? "" : "s",
      plan.seeds() == 1 ? std::to_string(base.seed)
                        : fmt::format("{}..{}", base.seed, base.seed + plan.seeds() - 1));
}

// Every (setting, activation, seed) run, --threads at once, then the born-dead estimates.
struct Measured {
  std::vector<Result> results;
  std::vector<dr::BornDeadEstimate> born;
};
Measured measure(const Plan& plan) {
  Measured m;
  std::vector<dr::Config> configs;
  for (const dr::Setting& s : plan.settings)
    for (const std::string& act : plan.acts)
      for (std::size_t k = 0; k < plan.seeds(); ++k) {
        dr::Config c = plan.base;
        c.activation = act;
        c.setting = s;
        c.seed = plan.base.seed + k;
        configs.push_back(c);
        m.results.push_back({act, s, c.seed, {}});
      }
  const std::size_t train_total = configs.size() * plan.base.steps;
  demo::Progress progress("training, then born dead",
                          train_total + kBornWidths.size() * kBornDepths.size());
  std::atomic<std::size_t> steps_done{0};
  demo::run_parallel(
      configs.size(), plan.threads,
      [&](std::size_t i) {
        m.results[i].run = dr::run(configs[i], [&](std::size_t) { ++steps_done; });
      },
      [&] { progress.update(std::min<std::size_t>(steps_done, train_total)); });
  std::size_t done = train_total;
  for (int h : kBornDepths)
    for (int n : kBornWidths) {
      m.born.push_back(dr::estimate_born_dead(n, h, plan.trials, plan.base.seed));
      progress.update(++done);
    }
  return m;
}

// dead.csv: one row per activation, setting, step and hidden layer, written layer by layer
// so each (activation, setting, seed, layer) series is a contiguous run of rows, which the
// plot reads by row range (a filter over the whole file took gnuplot 18 s). Also runs.csv.
Rows write_dead_csv(const fs::path& out, const Plan& plan, const std::vector<Result>& results) {
  demo::CsvWriter csv(out / "dead.csv", {"activation", "setting", "seed", "step", "layer",
                                         "dead_frac", "deaths", "revivals"});
  Rows rows;
  std::size_t row = 0;
  for (const Result& r : results)
    for (int l = 1; l <= plan.base.depth; ++l) {
      const std::size_t first = row;
      for (const dr::LayerRecord& rec : r.run.records)
        if (rec.layer == l) {
          csv.row(r.activation, r.setting.name, r.seed, rec.step, rec.layer, rec.dead_frac,
                  rec.deaths, rec.revivals);
          ++row;
        }
      if (r.seed == plan.base.seed && row > first)
        rows[{r.activation, r.setting.name, l}] = {first, row - 1};
    }
  csv.commit();
  demo::RunsCsv runs(out / "runs.csv");
  for (const Result& r : results)
    runs.row(r.setting.name, r.activation, plan.base.depth, r.seed, r.run.history);
  runs.commit();
  return rows;
}

// The first seed's runs, one line each, and every seed's totals per activation.
void print_runs(const Plan& plan, const std::vector<Result>& results, demo::Summary& summary) {
  const dr::Config& base = plan.base;
  if (plan.seeds() > 1)
    fmt::print("\nseed {} (every seed's runs are in dead.csv and runs.csv):", base.seed);
  fmt::print("\n{:<11} {:<9} {:>20} {:>8} {:>7} {:>12} {:>14} {:>9}\n", "activation", "setting",
             "final dead frac L1..", "max dead", "deaths", "L1 revivals", "deeper reviv.",
             "train acc");
  std::map<std::string, double> max_dead, l1_revivals, deeper_revivals, grad_sum, dead_pairs;
  for (const Result& r : results) {
    std::vector<double> final_frac(static_cast<std::size_t>(base.depth), 0.0);
    double max_frac = 0;
    std::size_t deaths = 0, rev1 = 0, rev_deep = 0;
    for (const dr::LayerRecord& rec : r.run.records) {
      max_frac = std::max(max_frac, rec.dead_frac);
      deaths += rec.deaths;
      (rec.layer == 1 ? rev1 : rev_deep) += rec.revivals;
      if (rec.step == base.steps)
        final_frac[static_cast<std::size_t>(rec.layer - 1)] = rec.dead_frac;
    }
    max_dead[r.activation] = std::max(max_dead[r.activation], max_frac);
    l1_revivals[r.activation] += static_cast<double>(rev1);
    deeper_revivals[r.activation] += static_cast<double>(rev_deep);
    grad_sum[r.activation] += r.run.layer1_dead_grad_abs_sum;
    dead_pairs[r.activation] += static_cast<double>(r.run.layer1_dead_unit_steps);
    if (r.seed != base.seed) continue;  // the table and these keys: the first seed's runs
    summary.set(dr::key::final_dead_frac(r.activation, r.setting.name), final_frac.front());
    std::string fracs;
    for (double f : final_frac) fracs += fmt::format("{}{:.2f}", fracs.empty() ? "" : " ", f);
    fmt::print("{:<11} {:<9} {:>20} {:>8.2f} {:>7} {:>12} {:>14} {:>8.1f}%{}\n", r.activation,
               r.setting.name, fracs, max_frac, deaths, rev1, rev_deep, 100 * r.run.final_accuracy,
               r.run.history.diverged
                   ? "  " + r.run.history.diverged->message() + "; measured up to it"
                   : "");
  }
  for (const std::string& a : plan.acts) {
    summary.set(dr::key::max_dead_frac(a), max_dead[a]);
    summary.set(dr::key::layer1_revivals(a), l1_revivals[a]);
    summary.set(dr::key::deeper_revivals(a), deeper_revivals[a]);
    summary.set(dr::key::layer1_dead_grad_abs_sum(a), grad_sum[a]);
  }

  fmt::print("\nmeasured over all {} settings and {} seed{} (plain SGD, no weight decay):\n",
             plan.settings.size(), plan.seeds(), plan.seeds() == 1 ? "" : "s");
  for (const std::string& a : plan.acts)
    fmt::print(
        "  {:<11} max dead fraction {:.3f}; layer-1 units dead for {} unit-steps, revived {} "
        "times, sum |dL/dW|+|dL/db| over their rows while dead = {:.6g}; deeper-layer "
        "revivals {}\n",
        a, max_dead[a], dead_pairs[a], l1_revivals[a], grad_sum[a], deeper_revivals[a]);
  if (std::find(plan.acts.begin(), plan.acts.end(), "relu") != plan.acts.end()) {
    const bool stay = l1_revivals["relu"] == 0 && grad_sum["relu"] == 0;
    fmt::print(
        "  => relu: dead layer-1 units {} (their gradient is {}exactly zero); deeper layers "
        "revived {} times, because the layers below them keep learning\n",
        stay ? "never revived" : "DID revive", grad_sum["relu"] == 0 ? "" : "NOT ",
        deeper_revivals["relu"]);
  }
  for (const char* a : {"leaky_relu", "gelu"})
    if (max_dead.count(a))
      fmt::print(
          "  => {}: max dead fraction {} over every setting, step and layer; {}\n", a, max_dead[a],
          max_dead[a] > 0 ? demo::why_dead(a)
                          : "where its float slope is exactly 0: " + demo::where_slope_is_zero(a));
}

// The learning-rate sweep: final dead fraction per layer against the rate, over seeds
// (dead_vs_lr.csv, a table and the summary's keys).
void write_sweep(const fs::path& out, const Plan& plan, const std::vector<Result>& results,
                 demo::Summary& summary) {
  const dr::Config& base = plan.base;
  const std::size_t seeds = plan.seeds();
  demo::CsvWriter sweep_csv(
      out / "dead_vs_lr.csv",
      {"activation", "lr", "layer", "runs", "diverged", "dead_frac_mean", "dead_frac_std"});
  summary.set(dr::key::kSweepSeeds, static_cast<double>(seeds));
  summary.set(dr::key::kSweepLrMin, *std::min_element(plan.lrs.begin(), plan.lrs.end()));
  summary.set(dr::key::kSweepLrMax, *std::max_element(plan.lrs.begin(), plan.lrs.end()));
  fmt::print(
      "\nfinal dead fraction against the learning rate ({} init, bias 0, {} step{}; mean ± std "
      "over {} seed{}; a run that diverged is left out and counted)\n{:<11} {:>6} {:>13}",
      plan.settings.front().init, base.steps, base.steps == 1 ? "" : "s", seeds,
      seeds == 1 ? "" : "s", "activation", "lr", "all hidden");
  for (int l = 1; l <= base.depth; ++l) fmt::print(" {:>13}", fmt::format("layer {}", l));
  fmt::print(" {:>9}\n", "diverged");
  auto pm = [&](double m, double sd) {
    return seeds == 1 ? fmt::format("{:.2f}", m) : fmt::format("{:.2f} ± {:.2f}", m, sd);
  };
  std::vector<dr::SweepPoint> sweep;
  for (const std::string& a : plan.acts)
    for (std::size_t i = 0; i < plan.lrs.size(); ++i) {
      std::vector<const dr::Run*> runs_at;
      for (const Result& r : results)
        if (r.activation == a && r.setting.name == plan.settings[i].name) runs_at.push_back(&r.run);
      const dr::SweepPoint& p =
          sweep.emplace_back(dr::sweep_point(a, plan.lrs[i], runs_at, base.depth));
      fmt::print("{:<11} {:>6}", a, demo::format_number(p.lr));
      for (std::size_t l = 0; l <= static_cast<std::size_t>(base.depth); ++l)
        fmt::print(" {:>13}", p.mean.empty() ? "diverged" : pm(p.mean[l], p.stddev[l]));
      fmt::print(" {:>9}\n", fmt::format("{} of {}", p.diverged, p.runs));
      if (!p.mean.empty()) {
        summary.set(dr::key::sweep_dead_mean(a, p.lr), p.mean[0]);
        summary.set(dr::key::sweep_dead_std(a, p.lr), p.stddev[0]);
      }
      summary.set(dr::key::sweep_diverged(a, p.lr), static_cast<double>(p.diverged));
    }
  // The CSV series by series (activation, then layer, then rate), so gnuplot draws each
  // as one line.
  for (const std::string& a : plan.acts)
    for (std::size_t l = 0; l <= static_cast<std::size_t>(base.depth); ++l)
      for (const dr::SweepPoint& p : sweep)
        if (p.activation == a && !p.mean.empty())
          sweep_csv.row(a, p.lr, l == 0 ? std::string("all") : std::to_string(l), p.runs,
                        p.diverged, p.mean[l], p.stddev[l]);
  sweep_csv.commit();
}

// born_dead.csv, its table and the summary's keys.
void write_born_dead(const fs::path& out, const Plan& plan,
                     const std::vector<dr::BornDeadEstimate>& born, demo::Summary& summary) {
  demo::CsvWriter bcsv(out / "born_dead.csv",
                       {"width", "depth", "trials", "probability", "stderr", "upper_bound"});
  fmt::print(
      "\nborn dead: P(a ReLU net of width N and depth H is constant at init), input dim 1, no "
      "biases, He-normal weights, {} trials each\n"
      "{:>3} {:>3} {:>12} {:>8} {:>18} {:>16}\n",
      plan.trials, "N", "H", "Monte Carlo", "stderr", "1-(1-2^-N)^H", "Lu et al. 2019 MC");
  for (const dr::BornDeadEstimate& e : born) {
    bcsv.row(e.width, e.depth, e.trials, e.probability, e.stderr_, e.upper_bound);
    summary.set(dr::key::born_dead(e.width, e.depth), e.probability);
    summary.set(dr::key::born_dead_bound(e.width, e.depth), e.upper_bound);
    fmt::print("{:>3} {:>3} {:>12.4f} {:>8.4f} {:>18.4f} {:>16}\n", e.width, e.depth, e.probability,
               e.stderr_, e.upper_bound, paper_value(e.width, e.depth));
  }
  bcsv.commit();
}

// Terminal plot: the first activation's layer-1 dead fraction in the setting where it
// grew most during training (units killed by training rather than born dead).
void print_worst_plot(const Plan& plan, const std::vector<Result>& results) {
  const Result* worst = nullptr;
  double most_growth = -1;
  for (const Result& r : results)
    if (r.activation == plan.acts.front()) {
      double first = -1, last = 0;
      for (const dr::LayerRecord& rec : r.run.records)
        if (rec.layer == 1) {
          if (first < 0) first = rec.dead_frac;
          last = rec.dead_frac;
        }
      if (last - first > most_growth) most_growth = last - first, worst = &r;
    }
  if (worst == nullptr) return;
  std::vector<double> y;
  for (const dr::LayerRecord& rec : worst->run.records)
    if (rec.layer == 1) y.push_back(rec.dead_frac);
  fmt::print("\n{}", demo::ascii_plot(y,
                                      fmt::format("{} layer-1 dead fraction by step, setting {}",
                                                  worst->activation, worst->setting.name),
                                      64, 8));
}

int run(int argc, char** argv) {
  Plan plan;
  dr::Config& base = plan.base;
  demo::Cli cli("dead-relu",
                "Dead ReLU units tracked through training (lr, bias and init sweeps), leaky "
                "ReLU and GELU beside ReLU, and the born-dead probability against its bound",
                dr::kDefaultSeed);
  cli.add_activations(plan.acts);
  add_flags(cli.app(), plan);
  if (auto status = cli.parse(argc, argv)) return *status;
  // Small matrices: threads only add synchronisation (docs/performance.md, "Threads").
  slope::set_num_threads(1);
  base.seed = cli.seed();
  plan.lrs = parse_lrs(plan.lr_list);
  plan.settings = dr::settings(plan.lrs, plan.fixed_lr, plan.bias, plan.bad_init);
  const fs::path& out = cli.out();
  print_header(plan);
  const Measured m = measure(plan);
  const Rows rows = write_dead_csv(out, plan, m.results);
  demo::Summary summary;
  print_runs(plan, m.results, summary);
  write_sweep(out, plan, m.results, summary);
  write_born_dead(out, plan, m.born, summary);
  print_worst_plot(plan, m.results);
  plot_dead(out, plan.acts, plan.settings, base.depth, rows, base.seed);
  plot_dead_vs_lr(out, plan.acts, base.depth, plan.seeds());
  plot_born_dead(out);
  summary.write(out);
  fmt::print(
      "\nwrote {}/: dead.csv dead_vs_lr.csv runs.csv born_dead.csv summary.csv, "
      "dead|dead_vs_lr|born_dead .svg|.png with their .gnuplot scripts\n",
      out.string());
  std::vector<std::pair<std::string, const demo::History*>> labelled;
  for (const Result& r : m.results)
    labelled.emplace_back(
        fmt::format("{}, setting {}, seed {}", r.activation, r.setting.name, r.seed),
        &r.run.history);
  return demo::report_divergences(labelled);
}

}  // namespace

int main(int argc, char** argv) {
  return demo::run_main([&] { return run(argc, argv); });
}
