// slope-vanishing: deep MLPs with each activation, probed per layer. Sigmoid's slope is
// at most 1/4, so the gradient that reaches layer 1 of a deep sigmoid stack is a tiny
// fraction of the output layer's; ReLU's slope is 0 or 1, so under He init the
// per-layer gradient norms stay within a small factor. Every number printed is measured
// by this run; 0.25^(L-1) is printed beside sigmoid's ratio as the bound on the slope
// factors alone.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include <fmt/core.h>
#include <fmt/ranges.h>
#include <slope/slope.hpp>

#include "support/cli.hpp"
#include "support/output.hpp"
#include "support/palette.hpp"
#include "support/plot.hpp"
#include "support/progress.hpp"
#include "support/summary.hpp"
#include "vanishing/vanishing.hpp"

namespace {

namespace demo = slope::demo;
namespace van = slope::demo::vanishing;
namespace fs = std::filesystem;

struct Result {
  std::string init, activation;
  int depth;
  van::Run run;
};

std::vector<std::string> parse_inits(const std::string& list) {
  std::vector<std::string> inits;
  for (const std::string& item : demo::split_list(list)) {
    try {
      const std::string name = slope::nn::Init::parse(item).name();
      if (std::find(inits.begin(), inits.end(), name) == inits.end()) inits.push_back(name);
    } catch (const std::invalid_argument& e) {
      throw demo::UsageError(std::string("--init: ") + e.what());
    }
  }
  return inits;
}

// Returns the first data row (0 = the first after the header) of each result's block in
// layers.csv: probe by probe, depth + 1 rows a probe.
std::vector<std::size_t> write_csv(const fs::path& dir, const std::vector<const Result*>& results,
                                   std::uint64_t seed) {
  demo::CsvWriter layers(dir / "layers.csv",
                         {"activation", "depth", "seed", "step", "layer", "grad_norm", "act_mean",
                          "act_std", "saturated_frac", "dead_frac", "mean_slope", "update_ratio"});
  demo::CsvWriter curves(dir / "curves.csv",
                         {"activation", "depth", "seed", "step", "split", "loss", "accuracy"});
  std::vector<std::size_t> first_rows;
  std::size_t row = 0;
  for (const Result* r : results) {
    first_rows.push_back(row);
    for (const van::Probe& p : r->run.probes)
      for (const slope::probe::LayerStats& s : p.layers) {
        layers.row(r->activation, r->depth, seed, p.step, s.layer, s.grad_norm, s.act_mean,
                   s.act_std, s.saturated_frac, s.dead_frac, s.mean_slope, s.update_ratio);
        ++row;
      }
    // Train rows, then test rows: each series contiguous, so gnuplot draws it as one line.
    for (const char* split : {"train", "test"})
      for (const van::Curve& c : r->run.curves)
        if (c.split == split)
          curves.row(r->activation, r->depth, seed, c.step, c.split, c.loss, c.accuracy);
  }
  demo::RunsCsv runs(dir / "runs.csv");
  for (const Result* r : results) runs.row(r->init, r->activation, r->depth, seed, r->run);
  layers.commit();
  curves.commit();
  runs.commit();
  return first_rows;
}

// Gradient norm per layer at step 0: one line per activation, dash type per depth.
void plot_step0(const fs::path& dir, const std::string& init, const std::vector<std::string>& acts,
                const std::vector<int>& depths) {
  std::string body = fmt::format(
      "  set title \"gradient norm per layer at step 0 ({} init; layer depth+1 = output)\" "
      "noenhanced\n"
      "  set xlabel \"Linear layer (1 = nearest the input)\"\n"
      "  set ylabel \"||dL/dW_l|| (log scale)\"\n"
      "  set logscale y\n  set format y \"10^{{%L}}\"\n  set grid\n"
      "  set key outside right top noenhanced\n  plot ",
      init);
  std::string sep;
  for (std::size_t d = 0; d < depths.size(); ++d)
    for (std::size_t a = 0; a < acts.size(); ++a) {
      body += fmt::format(
          "{}\"layers.csv\" skip 1 using 5:((strcol(1) eq \"{}\" && $2 == {} && $4 == 0) ? $6 : "
          "NaN) with linespoints lw 2 pt 7 ps 0.6 dt {} lc rgb \"{}\" title \"{} depth {}\"",
          sep, acts[a], depths[d], d + 1, demo::colour_of(acts[a]), acts[a], depths[d]);
      sep = ", \\\n       ";
    }
  demo::gnuplot(dir, "grad_step0", body + "\n", 900, 560);
}

// The same through training: one panel per activation (sigmoid and relu when run) at
// the first depth, one line per probed step, coloured from early (dark) to late.
// An activation in `no_gradient` (every gradient norm exactly 0: a width-1 relu stack
// whose unit died) gets a panel that says so, since a log axis cannot draw zeros.
void plot_training(const fs::path& dir, const std::string& init,
                   const std::vector<std::string>& acts, int depth,
                   const std::vector<std::size_t>& steps,
                   const std::vector<std::string>& no_gradient) {
  std::vector<std::string> shown;
  for (const char* a : {"sigmoid", "relu"})
    if (std::find(acts.begin(), acts.end(), a) != acts.end()) shown.push_back(a);
  if (shown.empty()) shown.push_back(acts.front());
  const std::size_t last = std::max<std::size_t>(1, steps.back());
  std::string body = fmt::format("  set multiplot layout 1,{}\n", shown.size());
  for (const std::string& a : shown) {
    body += fmt::format(
        "  set title \"{}, depth {}, {} init: ||dL/dW_l|| through training\" noenhanced\n"
        "  set xlabel \"Linear layer\"\n  set ylabel \"gradient norm (log scale)\"\n"
        "  set logscale y\n  set format y \"10^{{%L}}\"\n  set grid\n"
        "  set palette defined (0 \"#08306b\", 1 \"#4292c6\", 2 \"#fdae61\")\n"
        "  set cbrange [0:{}]\n  set cblabel \"step\"\n  unset key\n  plot ",
        a, depth, init, last);
    if (std::find(no_gradient.begin(), no_gradient.end(), a) != no_gradient.end()) {
      body.resize(body.size() - std::string_view("  plot ").size());  // a panel of words instead
      body += fmt::format(
          "  set xrange [1:{}]\n  set yrange [1e-3:1]\n  set label 1 \"every "
          "gradient is exactly 0 (dead units):\\nnothing to draw on a log axis\" "
          "at graph 0.5, graph 0.5 center\n  plot NaN notitle\n  unset label 1\n"
          "  set xrange [*:*]\n  set yrange [*:*]\n",
          depth + 1);
      continue;
    }
    std::string sep;
    for (std::size_t s : steps) {
      body += fmt::format(
          "{}\"layers.csv\" skip 1 using 5:((strcol(1) eq \"{}\" && $2 == {} && $4 == {}) ? $6 : "
          "NaN):({}) with linespoints lw 1.5 pt 7 ps 0.4 lc palette",
          sep, a, depth, s, s);
      sep = ", \\\n       ";
    }
    body += "\n";
  }
  body += "  unset multiplot\n";
  demo::gnuplot(dir, "grad_training", body, 560 * static_cast<int>(shown.size()), 480);
}

// Glorot and Bengio (2010): each hidden layer's mean activation (left) and saturated
// fraction (right) through training, for sigmoid and tanh at `depth`, one line per layer
// coloured from layer 1 (dark) to the top hidden layer (light). The series are read from
// layers.csv by row range: `first_rows` is what write_csv returned for `results`.
void plot_saturation(const fs::path& dir, const std::string& init,
                     const std::vector<const Result*>& results,
                     const std::vector<std::size_t>& first_rows, int depth) {
  std::string body;
  std::size_t panels = 0;
  for (std::size_t k = 0; k < results.size(); ++k) {
    const Result* r = results[k];
    const std::size_t per_probe = static_cast<std::size_t>(r->depth) + 1;
    const std::size_t first = first_rows[k], rows = r->run.probes.size() * per_probe;
    if (r->depth != depth || (r->activation != "sigmoid" && r->activation != "tanh") || rows == 0)
      continue;
    for (const bool mean : {true, false}) {
      ++panels;
      body += fmt::format(
          "  set title \"{}, depth {}, {} init: {} per hidden layer\" noenhanced\n"
          "  set xlabel \"step\"\n  set ylabel \"{}\"\n  set grid\n  set yrange [{}]\n"
          "  set palette defined (0 \"#08306b\", 1 \"#4292c6\", 2 \"#fdae61\")\n"
          "  set cbrange [1:{}]\n  set cblabel \"layer\"\n  unset key\n  plot ",
          r->activation, depth, init, mean ? "mean activation" : "saturated fraction",
          mean ? "mean of f(z)" : "share with |f'(z)| < 5% of max",
          mean ? (r->activation == "sigmoid" ? "0:1" : "-1:1") : "0:1", std::max(2, depth));
      std::string sep;
      for (int l = 1; l <= depth; ++l) {
        body += fmt::format(
            "{}\"layers.csv\" skip 1 every {}::{}::{} using 4:{}:({}) with lines lw 2 lc "
            "palette",
            sep, per_probe, first + static_cast<std::size_t>(l - 1), first + rows - 1, mean ? 7 : 9,
            l);
        sep = ", \\\n       ";
      }
      body += "\n";
    }
  }
  if (panels == 0) return;
  demo::gnuplot(dir, "saturation",
                fmt::format("  set multiplot layout {},2\n{}  unset multiplot\n", panels / 2, body),
                1100, 360 * static_cast<int>(panels / 2));
}

// Training curves: a row per depth, loss (left) and accuracy (right); solid = train,
// dashed = test.
void plot_curves(const fs::path& dir, const std::string& init, const std::vector<std::string>& acts,
                 const std::vector<int>& depths) {
  std::string body = fmt::format("  set multiplot layout {},2\n", depths.size());
  for (int depth : depths) {
    for (const bool loss : {true, false}) {
      body += fmt::format(
          "  set title \"depth {}, {}: {} (solid train, dashed test)\" noenhanced\n"
          "  set xlabel \"step\"\n  set ylabel \"{}\"\n  set grid\n  unset logscale y\n"
          "  set key outside right top noenhanced\n  {}\n  plot ",
          depth, init, loss ? "loss" : "accuracy",
          loss ? "cross-entropy loss (log scale)" : "accuracy",
          loss ? "set logscale y" : "unset logscale y; set yrange [0:1.02]");
      std::string sep;
      for (std::size_t a = 0; a < acts.size(); ++a)
        for (const char* split : {"train", "test"}) {
          const bool train = split[1] == 'r';
          body += fmt::format(
              "{}\"curves.csv\" skip 1 using 4:((strcol(1) eq \"{}\" && $2 == {} && "
              "strcol(5) eq \"{}\") ? ${} : NaN) with lines lw 2 dt {} lc rgb \"{}\" title \"{}\"",
              sep, acts[a], depth, split, loss ? 6 : 7, train ? 1 : 2, demo::colour_of(acts[a]),
              train ? acts[a] : "");
          sep = ", \\\n       ";
        }
      body += "\n  set yrange [*:*]\n  unset logscale y\n";
    }
  }
  body += "  unset multiplot\n";
  demo::gnuplot(dir, "curves", body, 1100, 380 * static_cast<int>(depths.size()));
}

// A ratio of two gradient norms; 0/0 when no gradient reaches a layer (a width-1 relu
// stack whose one unit is dead), which is no measurement.
std::string ratio_text(double r) {
  if (!std::isfinite(r)) return "no gradient";
  return r < 0.1 ? fmt::format("{:.3g} (1/{:.3g})", r, 1 / r) : fmt::format("{:.3g}", r);
}

// What the command line asks for: the runs' shared configuration, and the lists of
// activations, depths and inits every combination of which trains.
struct Plan {
  van::Config base;
  std::vector<std::string> acts = demo::lesson_activations();
  std::vector<int> depths;
  std::vector<std::string> inits;
  std::string depth_list = "8", init_list = "xavier_uniform,kaiming_normal";  // as given
};

void add_flags(CLI::App& app, Plan& plan) {
  app.add_option("--depth", plan.depth_list, "Hidden layers, a comma-separated list (8,16,32)")
      ->capture_default_str();
  app.add_option("--init", plan.init_list,
                 "Weight inits, comma-separated (" +
                     fmt::format("{}", fmt::join(slope::nn::Init::names(), ", ")) +
                     "); each writes its CSVs into OUT/<init>/")
      ->capture_default_str();
  using F = demo::RunFlag;
  demo::add_run_flags(
      app, plan.base,
      {F::width, F::data, F::samples, F::noise, F::optim, F::steps, F::probe_every});
}

// Every (init, depth, activation) run, in that order.
std::vector<Result> train_all(const Plan& plan) {
  const std::size_t runs = plan.inits.size() * plan.acts.size() * plan.depths.size();
  demo::Progress progress("training", runs * plan.base.steps);
  std::size_t done = 0;
  std::vector<Result> results;
  for (const std::string& init : plan.inits)
    for (int depth : plan.depths)
      for (const std::string& act : plan.acts) {
        van::Config c = plan.base;
        c.init = init, c.depth = depth, c.activation = act;
        results.push_back(
            {init, act, depth, van::run(c, [&](std::size_t s) { progress.update(done + s); })});
        done += plan.base.steps;
      }
  return results;
}

// A run's numbers in summary.csv, for slope-report.
void summarise(demo::Summary& summary, const Result& r, double ratio, double spread,
               double train_acc, double test_acc) {
  const std::string& init = r.init;
  summary.set(van::key::ratio(init, r.activation, r.depth), ratio);
  summary.set(van::key::spread(init, r.activation, r.depth), spread);
  summary.set(van::key::train_acc(init, r.activation, r.depth), train_acc);
  summary.set(van::key::test_acc(init, r.activation, r.depth), test_acc);
  summary.set(van::key::best_train_acc(init, r.activation, r.depth), r.run.best_train_accuracy);
  const van::TopLayer top = van::top_hidden_layer(r.run, r.depth);
  auto set_top = [&](const char* what, double v) {
    summary.set(van::key::top_mean(what, init, r.activation, r.depth), v);
  };
  set_top("start", top.start);
  set_top("lowest", top.lowest);
  set_top("lowest_step", static_cast<double>(top.lowest_step));
  set_top("last", top.last);
  set_top("last_step", static_cast<double>(top.last_step));
  set_top("below_min", top.below_min);
  set_top("below_max", top.below_max);
}

// One init's table, with each run's numbers put in the summary.
void print_table(const std::string& init, const std::vector<const Result*>& mine,
                 demo::Summary& summary) {
  fmt::print("\n{} init\n", init);
  fmt::print("  {:<11} {:>5}  {:>24}  {:>12}  {:>11}  {:>9}  {:>8}  {}\n", "activation", "depth",
             "|g1|/|gL| at step 0", "max/min |gl|", "slopes' cap", "train acc", "test acc",
             "best train acc (step)");
  for (const Result* r : mine) {
    const std::string bound =
        r->activation == "sigmoid" ? fmt::format("{:.4g}", van::sigmoid_bound(r->depth)) : "";
    if (r->run.probes.empty()) {  // diverged at step 0: nothing measured
      fmt::print("  {:<11} {:>5}  {}\n", r->activation, r->depth, r->run.diverged->message());
      continue;
    }
    const auto& step0 = r->run.probes.front().layers;
    const double ratio = van::first_over_last(step0), spread = van::spread(step0);
    double train_acc = NAN, test_acc = NAN;
    for (const van::Curve& c : r->run.curves)
      (c.split == "train" ? train_acc : test_acc) = c.accuracy;
    summarise(summary, *r, ratio, spread, train_acc, test_acc);
    fmt::print("  {:<11} {:>5}  {:>24}  {:>12}  {:>11}  {:>8.1f}%  {:>7.1f}%  {:.1f}% ({}){}\n",
               r->activation, r->depth, ratio_text(ratio),
               std::isfinite(spread) ? fmt::format("{:.3g}", spread) : "no gradient", bound,
               100 * train_acc, 100 * test_acc, 100 * r->run.best_train_accuracy, r->run.best_step,
               r->run.diverged ? "  " + r->run.diverged->message() + "; last measured above" : "");
  }
  fmt::print(
      "  slopes' cap: 0.25^(L-1), the most the L-1 sigmoid slopes between the output layer "
      "and layer 1 can multiply to; it caps those slope factors, not |g1|/|gL|, which the "
      "weights' gain also multiplies (so the ratio may exceed it). \"no gradient\": some "
      "layer's gradient is exactly 0 (dead units), so there is no ratio to measure.\n");
}

// One init's CSVs and plots, in OUT/<init>/.
void write_init(const fs::path& dir, const Plan& plan, const std::string& init,
                const std::vector<const Result*>& mine) {
  fs::create_directories(dir);
  const std::vector<std::size_t> first_rows = write_csv(dir, mine, plan.base.seed);
  // The probed steps to draw through training: at most 11, evenly spread, first and last.
  std::vector<std::size_t> steps;
  const std::vector<van::Probe>& probes =
      std::max_element(mine.begin(), mine.end(),
                       [](const Result* a, const Result* b) {
                         return a->run.probes.size() < b->run.probes.size();
                       })[0]
          ->run.probes;
  const std::size_t shown = std::min<std::size_t>(11, probes.size());
  for (std::size_t i = 0; i < shown; ++i)
    steps.push_back(probes[shown == 1 ? 0 : i * (probes.size() - 1) / (shown - 1)].step);
  plot_step0(dir, init, plan.acts, plan.depths);
  if (plan.base.steps == 0 || steps.empty()) return;  // with no training nothing to draw over steps
  std::vector<std::string> no_gradient;
  for (const std::string& a : plan.acts) {
    bool any = false;
    for (const Result* r : mine)
      if (r->activation == a && r->depth == plan.depths.front())
        for (const van::Probe& probe : r->run.probes)
          for (const auto& l : probe.layers) any = any || l.grad_norm > 0;
    if (!any) no_gradient.push_back(a);
  }
  plot_training(dir, init, plan.acts, plan.depths.front(), steps, no_gradient);
  plot_saturation(dir, init, mine, first_rows, plan.depths.front());
  plot_curves(dir, init, plan.acts, plan.depths);
}

// The lesson's two claims, checked on this run's numbers.
void print_claims(const std::vector<Result>& results, std::size_t trained_steps) {
  fmt::print("\n");
  for (const Result& r : results) {
    if (r.run.probes.empty()) continue;
    if (r.activation == "sigmoid" && trained_steps > 0) {
      const van::TopLayer top = van::top_hidden_layer(r.run, r.depth);
      fmt::print(
          "sigmoid, depth {}, {}: the top hidden layer's mean activation was {:.3f} at step 0, "
          "{:.3f} at its lowest (step {}) and {:.3f} at step {} (Glorot and Bengio 2010: it "
          "saturates towards 0 early in training and recovers slowly)\n",
          r.depth, r.init, top.start, top.lowest, top.lowest_step, top.last, top.last_step);
    }
    const auto& step0 = r.run.probes.front().layers;
    const double ratio = van::first_over_last(step0), spread = van::spread(step0);
    if (r.activation == "sigmoid")
      fmt::print(
          "sigmoid, depth {}, {}: layer 1's gradient norm is {:.3g}x the output layer's "
          "({}100x smaller); the {} sigmoid slopes in between have measured mean |f'| product "
          "{:.3g} <= 0.25^{} = {:.4g} (the ratio also carries the weights' gain)\n",
          r.depth, r.init, ratio, ratio <= 0.01 ? "at least " : "NOT ", r.depth,
          van::slope_product(step0), r.depth, van::sigmoid_bound(r.depth));
    if (r.activation == "relu" && r.init.starts_with("kaiming") &&
        !(std::isfinite(ratio) && std::isfinite(spread)))
      fmt::print(
          "relu, depth {}, {}: no gradient reaches some layer at step 0 (its units are dead), "
          "so the ratio is not measured\n",
          r.depth, r.init);
    else if (r.activation == "relu" && r.init.starts_with("kaiming"))
      fmt::print(
          "relu, depth {}, {}: layer 1 / output layer gradient norm {:.3g}, max/min over "
          "layers {:.3g} ({}within a factor of 10)\n",
          r.depth, r.init, ratio, spread,
          spread <= 10 && ratio <= 10 && ratio >= 0.1 ? "" : "NOT ");
  }
}

// Terminal plots: log10 of the step-0 gradient norm by layer, sigmoid and relu.
void print_step0_plots(const Plan& plan, const std::vector<Result>& results) {
  for (const char* want : {"sigmoid", "relu"})
    for (const Result& r : results)
      if (r.activation == want && r.depth == plan.depths.front() && !r.run.probes.empty() &&
          (std::string(want) == "sigmoid" ? r.init == plan.inits.front()
                                          : r.init.starts_with("kaiming"))) {
        std::vector<double> y;
        for (const auto& s : r.run.probes.front().layers) y.push_back(std::log10(s.grad_norm));
        fmt::print("\n{}", demo::ascii_plot(y,
                                            fmt::format("log10 ||dL/dW_l|| at step 0 by layer l, "
                                                        "{}, {}, depth {}",
                                                        want, r.init, r.depth),
                                            std::min<int>(64, 4 * static_cast<int>(y.size())), 8, 1,
                                            static_cast<double>(y.size())));
        break;
      }
}

int run(int argc, char** argv) {
  Plan plan;
  demo::Cli cli("vanishing",
                "Deep MLPs with each activation: per-layer gradient norms at init and through "
                "training, against sigmoid's 0.25^(L-1) bound",
                van::kDefaultSeed);
  cli.add_activations(plan.acts);
  add_flags(cli.app(), plan);
  if (auto status = cli.parse(argc, argv)) return *status;
  // Small matrices: threads only add synchronisation (docs/performance.md, "Threads").
  slope::set_num_threads(1);
  van::Config& base = plan.base;
  base.seed = cli.seed();
  base.lr = base.lr_or_default();
  plan.depths = demo::parse_depths(plan.depth_list);
  plan.inits = parse_inits(plan.init_list);

  const van::Split split = van::make_data(base);
  fmt::print(
      "slope-vanishing: {} ({} train, {} test, {} classes), MLPs of width {}, depth {} "
      "(hidden layers), {} lr {}, {}, probes every {}, seed {}\n"
      "L = the last Linear layer (the output layer, layer depth+1); the backward pass from it "
      "to layer 1 crosses L-1 = depth activation slopes.\n",
      base.data, split.train.n, split.test.n, split.train.classes, base.width,
      fmt::join(plan.depths, ","), base.optim, base.lr,
      demo::count_of(static_cast<long long>(base.steps), "step"),
      demo::count_of(static_cast<long long>(base.probe_every), "step"), base.seed);
  const std::vector<Result> results = train_all(plan);
  demo::Summary summary;
  for (int depth : plan.depths) summary.set(van::key::bound(depth), van::sigmoid_bound(depth));
  for (const std::string& init : plan.inits) {
    std::vector<const Result*> mine;
    for (const Result& r : results)
      if (r.init == init) mine.push_back(&r);
    print_table(init, mine, summary);
    write_init(cli.out() / init, plan, init, mine);
  }
  print_claims(results, base.steps);
  print_step0_plots(plan, results);
  summary.write(cli.out());
  fmt::print(
      "\nwrote {}/: summary.csv, and per init <init>/: layers.csv curves.csv runs.csv, "
      "grad_step0|grad_training|curves|saturation .svg|.png with their .gnuplot scripts "
      "(saturation: with sigmoid or tanh)\n",
      cli.out().string());
  std::vector<std::pair<std::string, const demo::History*>> labelled;
  for (const Result& r : results)
    labelled.emplace_back(fmt::format("{} depth {} ({} init)", r.activation, r.depth, r.init),
                          &r.run);
  return demo::report_divergences(labelled);
}

}  // namespace

int main(int argc, char** argv) {
  return demo::run_main([&] { return run(argc, argv); });
}
