// slope-dead-relu: ReLU units that are negative for every training example have slope
// 0 everywhere, get no gradient and, in layer 1 under plain SGD, never learn again.
// This demo trains ReLU MLPs under settings that kill units (large learning rates, a
// negative bias init, a bad weight init), tracks every hidden unit at every step, counts
// deaths and revivals, and runs leaky ReLU and GELU under the same settings. It also
// estimates by Monte Carlo how often a narrow deep ReLU network is born dead, beside the
// bound of Lu et al. (2019). Every number printed is measured by this run.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include <fmt/core.h>
#include <fmt/ranges.h>
#include <slope/slope.hpp>

#include "dead_relu/dead_relu.hpp"
#include "support/cli.hpp"
#include "support/output.hpp"
#include "support/palette.hpp"
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

// Dead fraction over training: a panel per setting, a line per activation and layer
// (colour = activation, as in every demo; dash type = layer).
void plot_dead(const fs::path& dir, const std::vector<std::string>& acts,
               const std::vector<dr::Setting>& settings, int layers) {
  const int cols = settings.size() > 4 ? 3 : 2;
  const int rows = static_cast<int>((settings.size() + cols - 1) / cols);
  std::string body = fmt::format("  set multiplot layout {},{}\n", rows, cols);
  for (const dr::Setting& s : settings) {
    // The legend once, in the first panel.
    body += fmt::format(
        "  set title \"{}: {} init, bias {}, lr {}\" noenhanced\n"
        "  set xlabel \"step\"\n  set ylabel \"dead fraction of the layer's units\"\n"
        "  set yrange [-0.02:1.02]\n  set grid\n  {}\n  plot ",
        s.name, s.init, s.bias, s.lr,
        &s == &settings.front() ? "set key top right horizontal noenhanced font \",8\" maxrows 3 "
                                  "width -2 samplen 2 opaque"
                                : "unset key");
    std::string sep;
    for (std::size_t a = 0; a < acts.size(); ++a)
      for (int l = 1; l <= layers; ++l) {
        body += fmt::format(
            "{}\"dead.csv\" skip 1 using 4:((strcol(1) eq \"{}\" && strcol(2) eq \"{}\" && "
            "$5 == {}) ? $6 : NaN) with lines lw {} dt {} lc rgb \"{}\" title \"{} layer {}\"",
            sep, acts[a], s.name, l, a == 0 ? 2 : 1.5, l, demo::colour_of(acts[a]), acts[a], l);
        sep = ", \\\n       ";
      }
    body += "\n";
  }
  body += "  unset multiplot\n";
  demo::gnuplot(dir, "dead", body, 520 * cols, 400 * rows);
}

void plot_born_dead(const fs::path& dir) {
  std::string body =
      "  set title \"born-dead ReLU networks (input dim 1, no biases, He normal): Monte Carlo "
      "vs 1-(1-2^{-N})^H\"\n"
      "  set xlabel \"width N\"\n  set ylabel \"probability the network is constant\"\n"
      "  set yrange [0:1]\n  set grid\n  set key top right\n  plot ";
  std::string sep;
  for (std::size_t i = 0; i < kBornDepths.size(); ++i) {
    const int h = kBornDepths[i];
    body += fmt::format(
        "{0}\"born_dead.csv\" skip 1 using 1:($2 == {1} ? $4 : NaN):($2 == {1} ? $5 : NaN) with "
        "yerrorlines lw 2 pt 7 lc rgb \"{2}\" title \"H = {1}, Monte Carlo\", \\\n"
        "       \"born_dead.csv\" skip 1 using 1:($2 == {1} ? $6 : NaN) with lines lw 1.5 dt 2 "
        "lc rgb \"{2}\" title \"H = {1}, upper bound\"",
        sep, h, demo::series_colour(i));
    sep = ", \\\n       ";
  }
  demo::gnuplot(dir, "born_dead", body + "\n", 800, 520);
}

int run(int argc, char** argv) {
  dr::Config base;
  std::vector<std::string> acts{"relu", "leaky_relu", "gelu"};
  std::string lr_list = "0.01,0.1,0.5,1";
  double fixed_lr = 0.1, bias = -1.0;
  std::string bad_init = "normal(1)";
  std::size_t trials = 3000;
  demo::Cli cli("dead-relu",
                "Dead ReLU units tracked through training (lr, bias and init sweeps), leaky "
                "ReLU and GELU beside ReLU, and the born-dead probability against its bound",
                dr::kDefaultSeed);
  cli.add_activations(acts);
  CLI::App& app = cli.app();
  app.add_option("--lr", lr_list, "Learning rates of the sweep (settings lr_<lr>, He init)")
      ->capture_default_str();
  app.add_option("--fixed-lr", fixed_lr, "Learning rate of the neg_bias and bad_init settings")
      ->capture_default_str()
      ->check(demo::range(1e-9, 100.0));
  app.add_option("--bias", bias, "Initial bias of every unit in the neg_bias setting")
      ->capture_default_str()
      ->check(demo::range(-100.0, 100.0));
  app.add_option("--bad-init", bad_init, "Weight init of the bad_init setting")
      ->capture_default_str()
      ->check(demo::init_name());
  app.add_option("--depth", base.depth, "Hidden layers")
      ->capture_default_str()
      ->check(CLI::Range(1, 100));
  app.add_option("--width", base.width, "Units per hidden layer")
      ->capture_default_str()
      ->check(CLI::Range(1, 4096));
  app.add_option("--data", base.data, "Data set")
      ->capture_default_str()
      ->check(CLI::IsMember(slope::data::names()));
  app.add_option("--samples", base.samples, "Training samples")
      ->capture_default_str()
      ->check(CLI::Range(std::size_t{10}, std::size_t{1000000}));
  app.add_option("--steps", base.steps,
                 "Full-batch plain SGD steps per setting (0: the untrained network only)")
      ->capture_default_str()
      ->check(CLI::Range(std::size_t{0}, std::size_t{1000000}));
  app.add_option("--trials", trials, "Monte Carlo networks per (width, depth) for born dead")
      ->capture_default_str()
      ->check(CLI::Range(std::size_t{1}, std::size_t{100000000}));
  if (auto status = cli.parse(argc, argv)) return *status;
  // Small matrices: threads only add synchronisation (ten times slower on a busy 2-core box).
  slope::set_num_threads(1);
  base.seed = cli.seed();
  const std::vector<dr::Setting> settings =
      dr::settings(parse_lrs(lr_list), fixed_lr, bias, bad_init);
  const fs::path& out = cli.out();

  fmt::print(
      "slope-dead-relu: {} {} samples, MLP of {} hidden layers x {} units, full-batch plain "
      "SGD (no momentum, no weight decay), {} steps, seed {}\n"
      "a unit is dead at a step when its slope is exactly 0 for every training example in "
      "that step's forward pass\n",
      base.samples, base.data, base.depth, base.width, base.steps, base.seed);

  std::vector<Result> results;
  const std::size_t born_cells = kBornWidths.size() * kBornDepths.size();
  std::vector<dr::BornDeadEstimate> born;
  {
    const std::size_t train_total = acts.size() * settings.size() * base.steps;
    demo::Progress progress("training, then born dead", train_total + born_cells);
    std::size_t done = 0;
    for (const dr::Setting& s : settings)
      for (const std::string& act : acts) {
        dr::Config c = base;
        c.activation = act;
        c.setting = s;
        results.push_back(
            {act, s, dr::run(c, [&](std::size_t step) { progress.update(done + step); })});
        done += base.steps;
      }
    for (int h : kBornDepths)
      for (int n : kBornWidths) {
        born.push_back(dr::estimate_born_dead(n, h, trials, base.seed));
        progress.update(++done);
      }
  }

  // dead.csv: one row per activation, setting, step and hidden layer.
  demo::CsvWriter csv(out / "dead.csv", {"activation", "setting", "seed", "step", "layer",
                                         "dead_frac", "deaths", "revivals"});
  // Layer by layer, so each (activation, setting, layer) series is contiguous and gnuplot
  // draws it as one line.
  for (const Result& r : results)
    for (int l = 1; l <= base.depth; ++l)
      for (const dr::LayerRecord& rec : r.run.records)
        if (rec.layer == l)
          csv.row(r.activation, r.setting.name, base.seed, rec.step, rec.layer, rec.dead_frac,
                  rec.deaths, rec.revivals);
  csv.commit();
  demo::RunsCsv runs(out / "runs.csv");
  for (const Result& r : results)
    runs.row(r.setting.name, r.activation, base.depth, base.seed, r.run.history);
  runs.commit();

  demo::Summary summary;
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
    summary.set(dr::key::final_dead_frac(r.activation, r.setting.name), final_frac.front());
    std::string fracs;
    for (double f : final_frac) fracs += fmt::format("{}{:.2f}", fracs.empty() ? "" : " ", f);
    fmt::print("{:<11} {:<9} {:>20} {:>8.2f} {:>7} {:>12} {:>14} {:>8.1f}%{}\n", r.activation,
               r.setting.name, fracs, max_frac, deaths, rev1, rev_deep, 100 * r.run.final_accuracy,
               r.run.history.diverged
                   ? "  " + r.run.history.diverged->message() + "; measured up to it"
                   : "");
  }
  for (const std::string& a : acts) {
    summary.set(dr::key::max_dead_frac(a), max_dead[a]);
    summary.set(dr::key::layer1_revivals(a), l1_revivals[a]);
    summary.set(dr::key::deeper_revivals(a), deeper_revivals[a]);
    summary.set(dr::key::layer1_dead_grad_abs_sum(a), grad_sum[a]);
  }

  fmt::print("\nmeasured over all {} settings (plain SGD, no weight decay):\n", settings.size());
  for (const std::string& a : acts)
    fmt::print(
        "  {:<11} max dead fraction {:.3f}; layer-1 units dead for {} unit-steps, revived {} "
        "times, sum |dL/dW|+|dL/db| over their rows while dead = {:.6g}; deeper-layer "
        "revivals {}\n",
        a, max_dead[a], dead_pairs[a], l1_revivals[a], grad_sum[a], deeper_revivals[a]);
  if (std::find(acts.begin(), acts.end(), "relu") != acts.end()) {
    const bool stay = l1_revivals["relu"] == 0 && grad_sum["relu"] == 0;
    fmt::print(
        "  => relu: dead layer-1 units {} (their gradient is {}exactly zero); deeper layers "
        "revived {} times, because the layers below them keep learning\n",
        stay ? "never revived" : "DID revive", grad_sum["relu"] == 0 ? "" : "NOT ",
        deeper_revivals["relu"]);
  }
  for (const char* a : {"leaky_relu", "gelu"})
    if (max_dead.count(a))
      fmt::print("  => {}: max dead fraction {} over every setting, step and layer\n", a,
                 max_dead[a]);

  // born_dead.csv and its table.
  demo::CsvWriter bcsv(out / "born_dead.csv",
                       {"width", "depth", "trials", "probability", "stderr", "upper_bound"});
  fmt::print(
      "\nborn dead: P(a ReLU net of width N and depth H is constant at init), input dim 1, no "
      "biases, He-normal weights, {} trials each\n"
      "{:>3} {:>3} {:>12} {:>8} {:>18} {:>16}\n",
      trials, "N", "H", "Monte Carlo", "stderr", "1-(1-2^-N)^H", "Lu et al. 2019 MC");
  for (const dr::BornDeadEstimate& e : born) {
    bcsv.row(e.width, e.depth, e.trials, e.probability, e.stderr_, e.upper_bound);
    summary.set(dr::key::born_dead(e.width, e.depth), e.probability);
    summary.set(dr::key::born_dead_bound(e.width, e.depth), e.upper_bound);
    fmt::print("{:>3} {:>3} {:>12.4f} {:>8.4f} {:>18.4f} {:>16}\n", e.width, e.depth, e.probability,
               e.stderr_, e.upper_bound, paper_value(e.width, e.depth));
  }
  bcsv.commit();

  // Terminal plot: the first activation's layer-1 dead fraction in the setting where it
  // grew most during training (units killed by training rather than born dead).
  const Result* worst = nullptr;
  double most_growth = -1;
  for (const Result& r : results)
    if (r.activation == acts.front()) {
      double first = -1, last = 0;
      for (const dr::LayerRecord& rec : r.run.records)
        if (rec.layer == 1) {
          if (first < 0) first = rec.dead_frac;
          last = rec.dead_frac;
        }
      if (last - first > most_growth) most_growth = last - first, worst = &r;
    }
  if (worst != nullptr) {
    std::vector<double> y;
    for (const dr::LayerRecord& rec : worst->run.records)
      if (rec.layer == 1) y.push_back(rec.dead_frac);
    fmt::print("\n{}", demo::ascii_plot(y,
                                        fmt::format("{} layer-1 dead fraction by step, setting {}",
                                                    worst->activation, worst->setting.name),
                                        64, 8));
  }

  plot_dead(out, acts, settings, base.depth);
  plot_born_dead(out);
  summary.write(out);
  fmt::print(
      "\nwrote {}/: dead.csv runs.csv born_dead.csv summary.csv, dead|born_dead .svg|.png "
      "with their .gnuplot scripts\n",
      out.string());
  std::vector<std::pair<std::string, const demo::History*>> labelled;
  for (const Result& r : results)
    labelled.emplace_back(fmt::format("{}, setting {}", r.activation, r.setting.name),
                          &r.run.history);
  return demo::report_divergences(labelled);
}

}  // namespace

int main(int argc, char** argv) {
  return demo::run_main([&] { return run(argc, argv); });
}
