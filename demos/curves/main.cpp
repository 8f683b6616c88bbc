// slope-curves: training curves of MLPs with any activations on a generated data set or
// a CSV file, over several seeds: mean and spread per activation, a summary table of the
// final loss and accuracy, and the steps each activation needs to reach 90% train
// accuracy. `--compare a.csv b.csv` overlays earlier runs' curves.csv instead.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <filesystem>
#include <list>
#include <string>
#include <utility>
#include <vector>

#include <fmt/core.h>
#include <slope/slope.hpp>

#include "curves/curves.hpp"
#include "support/cli.hpp"
#include "support/output.hpp"
#include "support/palette.hpp"
#include "support/plot.hpp"
#include "support/progress.hpp"
#include "support/summary.hpp"

namespace {

namespace demo = slope::demo;
namespace cv = slope::demo::curves;
namespace fs = std::filesystem;

// A curve of the band file: its label, colour, dash type, and the rows its train and
// test points occupy (0-based after the header, for gnuplot's `every ::first::last`).
struct Series {
  std::string label;
  std::string activation;
  std::string colour;
  int dash = 1;
  std::size_t rows[2][2] = {{0, 0}, {0, 0}};  // [train|test][first|last]
  bool has[2] = {false, false};
};

// Writes bands as long-format CSV rows from row number `row` on (with a leading `run`
// column when `run` is given) and adds one Series per (run, activation) to `series`.
// `label` names the run in the legend (short: a full path would cover the curves).
void write_bands(demo::CsvWriter& csv, const std::vector<cv::Band>& bands, const std::string* run,
                 std::size_t& row, std::vector<Series>& series, int dash,
                 const std::string& label_of_run = {}) {
  for (const cv::Band& b : bands) {
    const std::string label = run ? label_of_run + ": " + b.activation : b.activation;
    if (series.empty() || series.back().label != label) {
      Series s;
      s.label = label;
      s.colour = demo::colour_of(b.activation);
      s.activation = b.activation;
      s.dash = dash;
      series.push_back(std::move(s));
    }
    Series& s = series.back();
    const int k = b.split == "train" ? 0 : 1;
    if (!s.has[k]) s.rows[k][0] = row, s.has[k] = true;
    s.rows[k][1] = row;
    if (run)
      csv.row(*run, b.activation, b.split, b.step, b.loss.mean, b.loss.std, b.loss.min, b.loss.max,
              b.accuracy.mean, b.accuracy.std, b.accuracy.min, b.accuracy.max);
    else
      csv.row(b.activation, b.split, b.step, b.loss.mean, b.loss.std, b.loss.min, b.loss.max,
              b.accuracy.mean, b.accuracy.std, b.accuracy.min, b.accuracy.max);
    ++row;
  }
}

std::vector<std::string> band_header(bool with_run) {
  std::vector<std::string> h{"activation",   "split",        "step",        "loss_mean",
                             "loss_std",     "loss_min",     "loss_max",    "accuracy_mean",
                             "accuracy_std", "accuracy_min", "accuracy_max"};
  if (with_run) h.insert(h.begin(), "run");
  return h;
}

// Four panels (loss and accuracy, train and test), a mean line per series and, with
// `bands`, a min-max band over seeds behind it.
std::string panels(const std::string& file, const std::vector<Series>& series, bool with_run,
                   bool bands, const std::string& title) {
  const int o = with_run ? 1 : 0;  // column offset
  const int step = 3 + o, loss = 4 + o, loss_min = 6 + o, loss_max = 7 + o, acc = 8 + o,
            acc_min = 10 + o, acc_max = 11 + o;
  std::string s = fmt::format(
      "  set multiplot layout 2,2 title \"{}\" noenhanced\n"
      "  set grid lc rgb \"#dddddd\"\n"
      "  set format y \"%g\"\n"
      "  set xlabel \"step\"\n"
      "  set key top right opaque box noenhanced\n",
      title);
  struct Panel {
    const char* title;
    int split, mean, lo, hi;
    bool log;
  };
  const Panel ps[] = {{"train loss (cross-entropy; log scale)", 0, loss, loss_min, loss_max, true},
                      {"test loss (log scale)", 1, loss, loss_min, loss_max, true},
                      {"train accuracy", 0, acc, acc_min, acc_max, false},
                      {"test accuracy", 1, acc, acc_min, acc_max, false}};
  for (std::size_t p = 0; p < 4; ++p) {
    const Panel& panel = ps[p];
    s += fmt::format("  set title \"{}\"\n", panel.title);
    s += panel.log ? "  set logscale y\n  set yrange [*:*]\n"
                   : "  unset logscale y\n  set yrange [0:1.02]\n";
    if (p == 1) s += "  unset key\n";
    std::vector<std::string> items;
    for (const Series& c : series) {
      if (!c.has[panel.split]) continue;
      const std::string every =
          fmt::format("every ::{}::{}", c.rows[panel.split][0], c.rows[panel.split][1]);
      if (bands)
        items.push_back(
            fmt::format("\"{}\" skip 1 {} using {}:{}:{} with filledcurves fs "
                        "transparent solid 0.15 noborder lc rgb \"{}\" notitle",
                        file, every, step, panel.lo, panel.hi, c.colour));
      items.push_back(
          fmt::format("\"{}\" skip 1 {} using {}:{} with lines lw 2 dt {} lc rgb "
                      "\"{}\" {}",
                      file, every, step, panel.mean, c.dash, c.colour,
                      p == 0 ? fmt::format("title \"{}\"", c.label) : "notitle"));
    }
    s += "  plot ";
    for (std::size_t i = 0; i < items.size(); ++i)
      s += items[i] + (i + 1 < items.size() ? ", \\\n       " : "\n");
    if (items.empty()) s += "NaN notitle\n";
  }
  s += "  unset multiplot\n";
  return s;
}

// "0.0068 ± 0.0002", "97.3% ± 1.3%": a mean over seeds and its sample std; one seed has
// no spread, so just the number.
std::string pm(const cv::Stats& s, int seeds) {
  return seeds > 1 ? fmt::format("{:.4g} ± {:.2g}", s.mean, s.std) : fmt::format("{:.4g}", s.mean);
}
std::string pct(const cv::Stats& s, int seeds) {
  return seeds > 1 ? fmt::format("{:.1f}% ± {:.1f}%", 100 * s.mean, 100 * s.std)
                   : fmt::format("{:.1f}%", 100 * s.mean);
}

void print_table(const std::vector<cv::Final>& finals, int eval_every) {
  fmt::print("\n{:<12} {:<18} {:<18} {:<16} {:<16} {}\n", "activation", "final train loss",
             "final test loss", "train accuracy", "test accuracy", "steps to 90% train acc");
  for (const cv::Final& f : finals) {
    std::string reach = "never";
    if (f.reached_90 > 0)
      reach = fmt::format(
          "{:.4g}{}", f.steps_to_90,
          f.reached_90 < f.seeds
              ? fmt::format(" (mean of the {} of {} seeds that got there)", f.reached_90, f.seeds)
              : "");
    const int k = static_cast<int>(f.seeds);
    fmt::print("{:<12} {:<18} {:<18} {:<16} {:<16} {}\n", f.activation, pm(f.train_loss, k),
               pm(f.test_loss, k), pct(f.train_acc, k), pct(f.test_acc, k), reach);
  }
  const std::size_t seeds = finals.empty() ? 0 : finals[0].seeds;
  fmt::print(
      "({}; accuracy is checked every {})\n",
      seeds == 1 ? std::string("one seed") : fmt::format("mean ± sample std over {} seeds", seeds),
      eval_every == 1 ? std::string("step") : fmt::format("{} steps", eval_every));
}

// The step between a run's recorded points (its --eval-every), from the records.
int eval_spacing(const std::vector<cv::Record>& records) {
  int spacing = 0;
  for (std::size_t i = 1; i < records.size(); ++i) {
    const int d = records[i].step - records[i - 1].step;
    if (d > 0 && (spacing == 0 || d < spacing)) spacing = d;
  }
  return std::max(spacing, 1);
}

int compare(const std::filesystem::path& dir, const std::vector<std::string>& files) {
  std::vector<std::pair<std::string, std::vector<cv::Record>>> runs;
  for (const std::string& f : files) runs.emplace_back(f, cv::read_curves(f));
  // The legend names each run by its directory (out/a/curves.csv is "a"), or by its
  // number when two directories share a name; the CSV keeps the full path.
  std::vector<std::string> labels;
  for (const std::string& f : files) {
    const std::filesystem::path p = std::filesystem::absolute(f);
    labels.push_back(p.parent_path().filename().string());
  }
  for (std::size_t r = 0; r < labels.size(); ++r)
    if (labels[r].empty() || std::count(labels.begin(), labels.end(), labels[r]) > 1)
      for (std::size_t q = 0; q < labels.size(); ++q) labels[q] = "run " + std::to_string(q + 1);
  demo::CsvWriter csv(dir / "compare.csv", band_header(true));
  std::vector<Series> series;
  std::size_t row = 0;
  for (std::size_t r = 0; r < runs.size(); ++r) {
    write_bands(csv, cv::bands(runs[r].second), &runs[r].first, row, series,
                static_cast<int>(r % 5) + 1, labels[r]);
    fmt::print("\n{}: {} ({} rows)", labels[r], runs[r].first, runs[r].second.size());
    print_table(cv::finals(runs[r].second), eval_spacing(runs[r].second));
  }
  csv.commit();
  demo::gnuplot(dir, "compare",
                panels("compare.csv", series, true, false,
                       fmt::format("training curves of {} runs (mean over seeds)", runs.size())),
                1100, 800);
  fmt::print("\nwrote {}/: compare.csv, compare.svg|png (with compare.gnuplot)\n", dir.string());
  return 0;
}

// Every activation's runs, seed by seed, in training order.
struct Run {
  std::string activation;
  std::uint64_t seed;
  demo::History history;
  std::string label() const { return fmt::format("{} seed {}", activation, seed); }
};
struct Trained {
  std::vector<cv::Record> records;
  std::list<Run> runs;
};

// Trains every activation on seeds seed..seed + seeds - 1, printing each run's end.
Trained train_all(const cv::Config& config, const cv::Split& split) {
  Trained t;
  demo::Progress progress("training", config.activations.size() *
                                          static_cast<std::size_t>(config.seeds) * config.steps);
  std::size_t done = 0;
  for (const std::string& a : config.activations)
    for (int k = 0; k < config.seeds; ++k) {
      Run& run = t.runs.emplace_back(Run{a, config.seed + static_cast<std::uint64_t>(k), {}});
      std::vector<cv::Record> r = cv::train_run(
          config, split, a, run.seed,
          [&](int step) { progress.update(done + static_cast<std::size_t>(step)); }, &run.history);
      done += config.steps;
      if (run.history.diverged) {
        progress.print(
            fmt::format("  {:<10} seed {}: {}", a, run.seed, run.history.diverged->message()));
      } else {
        const cv::Record& train = r[r.size() - 2];
        const cv::Record& test = r.back();
        progress.print(
            fmt::format("  {:<10} seed {}: train loss {:.4f} accuracy {:.1f}%, test "
                        "accuracy {:.1f}%",
                        a, run.seed, train.loss, 100 * train.accuracy, 100 * test.accuracy));
      }
      t.records.insert(t.records.end(), r.begin(), r.end());
    }
  return t;
}

// curves.csv and runs.csv.
void write_csvs(const fs::path& dir, const cv::Config& config, const Trained& t) {
  demo::CsvWriter csv(dir / "curves.csv",
                      {"activation", "depth", "seed", "step", "split", "loss", "accuracy"});
  for (const cv::Record& r : t.records)
    csv.row(r.activation, r.depth, r.seed, r.step, r.split, r.loss, r.accuracy);
  demo::RunsCsv runs(dir / "runs.csv");
  for (const Run& r : t.runs)
    runs.row(fmt::format("seed_{}", r.seed), r.activation, config.depth, r.seed, r.history);
  csv.commit();
  runs.commit();
}

// curves_mean.csv and its plot, curves.svg|png: mean and band over seeds.
void plot_mean(const fs::path& dir, const cv::Config& config, const std::vector<cv::Band>& bands) {
  demo::CsvWriter mean_csv(dir / "curves_mean.csv", band_header(false));
  std::vector<Series> series;
  std::size_t row = 0;
  write_bands(mean_csv, bands, nullptr, row, series, 1);
  mean_csv.commit();
  demo::gnuplot(
      dir, "curves",
      panels("curves_mean.csv", series, false, true,
             fmt::format("{}: MLP {} x {}, {}, {} seeds (line: mean, band: min to max)",
                         config.data, config.depth, config.width, config.optim, config.seeds)),
      1100, 800);
}

void print_loss_plots(const cv::Config& config, const std::vector<cv::Band>& bands) {
  for (const std::string& a : config.activations) {
    std::vector<double> loss;
    for (const cv::Band& b : bands)
      if (b.activation == a && b.split == "train") loss.push_back(b.loss.mean);
    fmt::print("\n{}",
               demo::ascii_plot(loss, fmt::format("{}: mean train loss by step", a), 64, 6, 0,
                                static_cast<double>(config.eval_every) * (loss.size() - 1)));
  }
}

// The summary over seeds of the runs that finished (a diverged run is listed below it).
std::vector<cv::Final> print_finals(const cv::Config& config, const Trained& t) {
  std::vector<cv::Record> finished;
  for (const cv::Record& r : t.records) {
    const auto run = std::find_if(t.runs.begin(), t.runs.end(), [&](const Run& h) {
      return h.activation == r.activation && h.seed == r.seed;
    });
    if (run == t.runs.end() || !run->history.diverged) finished.push_back(r);
  }
  const std::vector<cv::Final> finals = cv::finals(finished);
  print_table(finals, config.eval_every);
  for (const Run& r : t.runs)
    if (r.history.diverged)
      fmt::print("  {}: {} (left out of the table above)\n", r.label(),
                 r.history.diverged->message());
  return finals;
}

void write_summary(const fs::path& dir, const std::vector<cv::Final>& finals) {
  demo::Summary summary;  // for out/REPORT.md
  for (const cv::Final& f : finals) {
    summary.set(cv::key::final_train_acc(f.activation), f.train_acc.mean);
    summary.set(cv::key::final_test_acc(f.activation), f.test_acc.mean);
    summary.set(cv::key::final_test_acc_std(f.activation), f.test_acc.std);
    summary.set(cv::key::final_train_loss(f.activation), f.train_loss.mean);
    summary.set(cv::key::steps_to_90(f.activation), f.steps_to_90);
  }
  summary.write(dir);
}

int run(int argc, char** argv) {
  cv::Config config;
  demo::Cli cli("curves",
                "Training curves of MLPs with any activations, mean and spread over seeds; "
                "--compare overlays earlier runs' curves.csv",
                config.seed);
  cli.add_activations(config.activations);
  CLI::App& app = cli.app();
  using F = demo::RunFlag;
  demo::add_run_flags(app, config,
                      {F::data_or_csv, F::seeds, F::depth, F::width, F::optim, F::steps, F::init,
                       F::samples, F::noise, F::test_fraction});
  app.add_option("--eval-every", config.eval_every, "Record loss and accuracy every N steps")
      ->capture_default_str()
      ->check(CLI::Range(1, 10000000));
  std::vector<std::string> compare_files;
  app.add_option("--compare", compare_files,
                 "Overlay these runs' curves.csv files into compare.svg|png; no training");
  if (auto status = cli.parse(argc, argv)) return *status;
  const fs::path& dir = cli.out();
  if (!compare_files.empty()) return compare(dir, compare_files);
  config.seed = cli.seed();
  slope::set_num_threads(1);  // small matrices: one thread is faster, and reproducible

  const cv::Split split = cv::load_data(config);
  fmt::print(
      "slope-curves: {} ({} train, {} test rows, {} features, {} classes), MLP {} x {} "
      "hidden, {} init, {} lr {}, {}, seeds {}..{}\n",
      config.data, split.train.n, split.test.n, split.train.dim, split.train.classes, config.depth,
      config.width, config.init, config.optim, config.lr_or_default(),
      demo::count_of(static_cast<long long>(config.steps), "step"), config.seed,
      config.seed + static_cast<std::uint64_t>(config.seeds) - 1);
  const Trained trained = train_all(config, split);
  write_csvs(dir, config, trained);
  const std::vector<cv::Band> bands = cv::bands(trained.records);
  plot_mean(dir, config, bands);
  print_loss_plots(config, bands);
  write_summary(dir, print_finals(config, trained));
  fmt::print(
      "\nwrote {}/: curves.csv curves_mean.csv runs.csv summary.csv, curves.svg|png (with "
      "curves.gnuplot)\n",
      dir.string());
  std::vector<std::pair<std::string, const demo::History*>> labelled;
  for (const Run& r : trained.runs) labelled.emplace_back(r.label(), &r.history);
  return demo::report_divergences(labelled);
}

}  // namespace

int main(int argc, char** argv) {
  return demo::run_main([&] { return run(argc, argv); });
}
