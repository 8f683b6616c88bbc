// slope-ffn: the next lesson's block. Stacks of N pre-LN residual feed-forward blocks,
// x + proj(act(fc(layernorm(x)))) as in GPT-2, beside plain MLPs of the same depth, with
// each activation. The residual path carries the gradient around every activation, so
// the first block's gradient stays near the last's even with sigmoid, while the plain
// sigmoid MLP's first layer gets almost nothing. Every number printed is measured here.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <list>
#include <map>
#include <string>
#include <vector>

#include <fmt/core.h>
#include <fmt/ranges.h>
#include <slope/slope.hpp>

#include "ffn/ffn.hpp"
#include "support/cli.hpp"
#include "support/output.hpp"
#include "support/palette.hpp"
#include "support/plot.hpp"
#include "support/progress.hpp"
#include "support/summary.hpp"
#include "support/train.hpp"

namespace {

namespace demo = slope::demo;
namespace ffn = slope::demo::ffn;
namespace fs = std::filesystem;

struct Result {
  std::string model, activation;
  int depth;
  std::uint64_t seed;
  demo::History history;
};

// Gradient norm per level at step 0, seed 1 of each: MLP (left) and residual (right)
// panels at one depth, a line per activation.
void plot_step0(const fs::path& dir, const std::vector<std::string>& acts, int depth,
                std::uint64_t seed) {
  std::string body = "  set multiplot layout 1,2\n";
  for (const std::string_view model : {ffn::kMlp, ffn::kResidual}) {
    body += fmt::format(
        "  set title \"{}, depth {}: gradient norm at step 0\" noenhanced\n"
        "  set xlabel \"{}\"\n  set ylabel \"||dL/dW|| (log scale)\"\n"
        "  set logscale y\n  set format y \"10^{{%L}}\"\n  set grid\n"
        "  set key outside bottom center horizontal noenhanced\n  plot ",
        model, depth,
        model == ffn::kMlp ? "Linear layer (depth+1 = output)" : "block (fc and proj weights)");
    std::string sep;
    for (const std::string& a : acts) {
      body += fmt::format(
          "{}\"layers.csv\" skip 1 using 6:((strcol(1) eq \"{}\" && strcol(2) eq \"{}\" && $3 == "
          "{} && $4 == {} && $5 == 0) ? $7 : NaN) with linespoints lw 2 pt 7 ps 0.5 lc rgb \"{}\" "
          "title \"{}\"",
          sep, model, a, depth, seed, demo::colour_of(a), a);
      sep = ", \\\n       ";
    }
    body += "\n";
  }
  body += "  unset multiplot\n";
  demo::gnuplot(dir, "grad_step0", body, 1200, 520);
}

// Training loss at one depth: solid residual, dashed MLP, one colour per activation.
void plot_curves(const fs::path& dir, const std::vector<std::string>& acts, int depth,
                 std::uint64_t seed) {
  std::string body = fmt::format(
      "  set title \"train loss, depth {}, seed {} (solid: residual_ffn, dashed: mlp)\" "
      "noenhanced\n  set xlabel \"step\"\n  set ylabel \"cross-entropy (log scale)\"\n"
      "  set logscale y\n  set grid\n  set key outside right top noenhanced\n  plot ",
      depth, seed);
  std::string sep;
  for (const std::string& a : acts)
    for (const std::string_view model : {ffn::kResidual, ffn::kMlp}) {
      body += fmt::format(
          "{}\"curves.csv\" skip 1 using 5:((strcol(1) eq \"{}\" && strcol(2) eq \"{}\" && $3 == "
          "{} && $4 == {} && strcol(6) eq \"train\") ? $7 : NaN) with lines lw 2 dt {} lc rgb "
          "\"{}\" title \"{} {}\"",
          sep, model, a, depth, seed, model == ffn::kResidual ? 1 : 2, demo::colour_of(a), model,
          a);
      sep = ", \\\n       ";
    }
  demo::gnuplot(dir, "curves", body + "\n", 1000, 560);
}

struct Spread {
  double mean = NAN, std = NAN;
};
Spread spread(const std::vector<double>& v) {
  if (v.empty()) return {};
  double m = 0;
  for (double x : v) m += x;
  m /= static_cast<double>(v.size());
  double ss = 0;
  for (double x : v) ss += (x - m) * (x - m);
  return {m, v.size() > 1 ? std::sqrt(ss / static_cast<double>(v.size() - 1)) : 0.0};
}

// What the command line asks for: the runs' shared configuration, and the activations and
// depths every combination of which trains, for both models and every seed.
struct Plan {
  ffn::Config base;
  std::vector<std::string> acts{"relu", "sigmoid", "tanh", "gelu", "gelu_tanh"};
  std::vector<int> depths;
};

// Every (depth, model, activation, seed) run, in that order.
std::list<Result> train_all(const Plan& plan, const ffn::Split& split) {
  const ffn::Config& base = plan.base;
  const std::size_t runs =
      2 * plan.acts.size() * plan.depths.size() * static_cast<std::size_t>(base.seeds);
  demo::Progress progress("training", runs * base.steps);
  std::size_t done = 0;
  std::list<Result> results;
  for (int depth : plan.depths)
    for (const std::string_view model : {ffn::kMlp, ffn::kResidual})
      for (const std::string& act : plan.acts)
        for (int k = 0; k < base.seeds; ++k) {
          ffn::Config c = base;
          c.model = model, c.activation = act, c.depth = depth;
          c.model_seed = base.seed + static_cast<std::uint64_t>(k);
          results.push_back(
              {c.model, act, depth, c.model_seed,
               ffn::run(c, split, [&](std::size_t s) { progress.update(done + s); })});
          done += base.steps;
        }
  return results;
}

// layers.csv, curves.csv and runs.csv.
void write_csvs(const fs::path& out, const std::list<Result>& results) {
  demo::CsvWriter layers(
      out / "layers.csv",
      {"model", "activation", "depth", "seed", "step", "layer", "grad_norm", "act_mean", "act_std",
       "saturated_frac", "dead_frac", "mean_slope", "update_ratio"});
  demo::CsvWriter curves(out / "curves.csv", {"model", "activation", "depth", "seed", "step",
                                              "split", "loss", "accuracy"});
  demo::RunsCsv runs(out / "runs.csv");
  for (const Result& r : results) {
    for (const demo::ProbePoint& p : r.history.probes)
      for (const ffn::Level& l : ffn::levels(r.model, p)) {
        const slope::probe::LayerStats& s = l.stats;
        layers.row(r.model, r.activation, r.depth, r.seed, p.step, l.layer, s.grad_norm, s.act_mean,
                   s.act_std, s.saturated_frac, s.dead_frac, s.mean_slope, s.update_ratio);
      }
    for (const char* split_name : {"train", "test"})
      for (const demo::CurvePoint& c : r.history.curves)
        if (c.split == split_name)
          curves.row(r.model, r.activation, r.depth, r.seed, c.step, c.split, c.loss, c.accuracy);
    runs.row(r.model, r.activation, r.depth, r.seed, r.history);
  }
  layers.commit();
  curves.commit();
  runs.commit();
}

// The table: step-0 gradient ratio (first seed) and final loss over seeds, also put in the
// summary.
demo::Summary print_table(const Plan& plan, const std::list<Result>& results) {
  demo::Summary summary;
  fmt::print("\n  {:<13} {:<10} {:>5}  {:>22}  {:>22}  {:>15}\n", "model", "activation", "depth",
             "|g_first|/|g_last| @0", "final train loss", "final test acc");
  for (int depth : plan.depths)
    for (const std::string_view model : {ffn::kMlp, ffn::kResidual})
      for (const std::string& act : plan.acts) {
        double ratio = NAN;
        std::vector<double> loss, test_acc;
        std::string note;
        for (const Result& r : results) {
          if (r.model != model || r.activation != act || r.depth != depth) continue;
          if (r.seed == plan.base.seed && !r.history.probes.empty())
            ratio = ffn::first_over_last(ffn::levels(r.model, r.history.probes.front()));
          if (r.history.diverged) {
            note += fmt::format("  seed {} {}", r.seed, r.history.diverged->message());
            continue;
          }
          for (const demo::CurvePoint& c : r.history.curves)
            if (c.step == plan.base.steps)
              (c.split == "train" ? loss : test_acc)
                  .push_back(c.split == "train" ? c.loss : c.accuracy);
        }
        const Spread l = spread(loss), t = spread(test_acc);
        summary.set(ffn::key::ratio(model, act, depth), ratio);
        summary.set(ffn::key::final_loss(model, act, depth), l.mean);
        summary.set(ffn::key::final_loss_std(model, act, depth), l.std);
        summary.set(ffn::key::final_test_acc(model, act, depth), t.mean);
        fmt::print("  {:<13} {:<10} {:>5}  {:>22.3g}  {:>13.4f} ± {:<6.4f}  {:>8.1f}% ± {:.1f}{}\n",
                   model, act, depth, ratio, l.mean, l.std, 100 * t.mean, 100 * t.std, note);
      }
  return summary;
}

// The lesson's claims on this run's numbers.
void print_claims(const Plan& plan, const demo::Summary& summary) {
  fmt::print("\n");
  for (int depth : plan.depths) {
    const auto& v = summary.values();
    const auto sig = v.find(ffn::key::ratio(ffn::kMlp, "sigmoid", depth));
    if (sig != v.end())
      fmt::print(
          "depth {}: in the plain sigmoid MLP layer 1's gradient is {:.3g}x the last layer's "
          "({}over 1e4 times smaller)\n",
          depth, sig->second, sig->second < 1e-4 ? "" : "NOT ");
    double lo = INFINITY, hi = 0;
    for (const std::string& a : plan.acts) {
      const double r = v.at(ffn::key::ratio(ffn::kResidual, a, depth));
      lo = std::min(lo, r), hi = std::max(hi, r);
    }
    fmt::print(
        "depth {}: with residual FFN blocks block 1's gradient is {:.3g}x to {:.3g}x the last "
        "block's over every activation ({}within a factor of 10)\n",
        depth, lo, hi, lo >= 0.1 && hi <= 10 ? "" : "NOT ");
  }
}

// Terminal plot: log10 of the step-0 gradient by level, sigmoid when run, at depth `shown`.
void print_step0_plots(const Plan& plan, const std::list<Result>& results, int shown) {
  const std::string plotted =
      std::find(plan.acts.begin(), plan.acts.end(), "sigmoid") != plan.acts.end()
          ? "sigmoid"
          : plan.acts.front();
  for (const std::string_view model : {ffn::kMlp, ffn::kResidual})
    for (const Result& r : results)
      if (r.model == model && r.activation == plotted && r.depth == shown &&
          r.seed == plan.base.seed && !r.history.probes.empty()) {
        std::vector<double> y;
        for (const ffn::Level& l : ffn::levels(r.model, r.history.probes.front()))
          y.push_back(std::log10(l.stats.grad_norm));
        fmt::print("\n{}", demo::ascii_plot(y,
                                            fmt::format("log10 gradient norm at step 0 by {} "
                                                        "(1 = nearest the input), {}, {}, depth {}",
                                                        model == ffn::kMlp ? "layer" : "block",
                                                        model, r.activation, shown),
                                            std::min<int>(64, 2 * static_cast<int>(y.size())), 8, 1,
                                            static_cast<double>(y.size())));
        break;
      }
}

int run(int argc, char** argv) {
  Plan plan;
  ffn::Config& base = plan.base;
  std::string depth_list = "16";
  demo::Cli cli("ffn",
                "Stacks of pre-LN residual FFN blocks (GPT-2's MLP half) beside plain MLPs of the "
                "same depth: per-block gradient norms with each activation, GELU vs ReLU inside "
                "the block",
                ffn::kDefaultSeed);
  cli.add_activations(plan.acts);
  CLI::App& app = cli.app();
  app.add_option("--depth", depth_list, "Blocks (residual) and hidden layers (MLP), a list")
      ->capture_default_str();
  app.add_option("--hidden-mult", base.hidden_mult, "A block's hidden width over C (GPT-2: 4)")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  using F = demo::RunFlag;
  demo::add_run_flags(
      app, base,
      {F::width, F::data, F::samples, F::init, F::optim, F::steps, F::probe_every, F::seeds});
  if (auto status = cli.parse(argc, argv)) return *status;
  slope::set_num_threads(1);  // small matrices: threads only add synchronisation
  base.seed = cli.seed();
  plan.depths = demo::parse_depths(depth_list);
  const fs::path& out = cli.out();
  const ffn::Split split = ffn::make_data(base);
  fmt::print(
      "slope-ffn: {} ({} train, {} test, {} classes); residual_ffn = Linear({}, {}), N x "
      "Residual(LayerNorm, FeedForward({}, {})), LayerNorm, Linear; mlp = {} hidden layers of "
      "{}; {} init, {} lr {}, {}, seeds {}..{}\n",
      base.data, split.train.n, split.test.n, split.train.classes, split.train.dim, base.width,
      base.width, base.hidden_mult * base.width, "N", base.width, base.init, base.optim,
      base.lr_or_default(), demo::count_of(static_cast<long long>(base.steps), "step"), base.seed,
      base.seed + static_cast<std::uint64_t>(base.seeds) - 1);
  const std::list<Result> results = train_all(plan, split);
  write_csvs(out, results);
  const demo::Summary summary = print_table(plan, results);
  print_claims(plan, summary);
  const int shown = plan.depths[plan.depths.size() / 2];  // the middle depth
  print_step0_plots(plan, results, shown);
  plot_step0(out, plan.acts, shown, base.seed);
  if (base.steps > 0) plot_curves(out, plan.acts, shown, base.seed);
  summary.write(out);
  fmt::print(
      "\nwrote {}/: layers.csv curves.csv runs.csv summary.csv, grad_step0|curves .svg|.png with "
      "their .gnuplot scripts\n",
      out.string());
  std::vector<std::pair<std::string, const demo::History*>> labelled;
  for (const Result& r : results)
    labelled.emplace_back(
        fmt::format("{} {} depth {} seed {}", r.model, r.activation, r.depth, r.seed), &r.history);
  return demo::report_divergences(labelled);
}

}  // namespace

int main(int argc, char** argv) {
  return demo::run_main([&] { return run(argc, argv); });
}
