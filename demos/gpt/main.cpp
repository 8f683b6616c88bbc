// slope-gpt: GELU where GPT-2 puts it. A character-level GPT (nanoGPT's shape, built from
// slope's modules) trained on real text with each feed-forward activation: validation
// curves against a unigram and a bigram baseline, the FFN's dead and saturated units and
// each block's gradient norms, the attention's heads, generated text, the model printed
// with the activation's place marked, and safetensors checkpoints that PyTorch loads.
// Every number printed is measured by this run.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <fmt/core.h>
#include <slope/slope.hpp>

#include "gpt/gpt.hpp"
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
namespace gpt = slope::demo::gpt;
namespace fs = std::filesystem;

void add_flags(CLI::App& app, gpt::Config& c) {
  app.add_option("--text", c.text, "A UTF-8 text file to train on (default: Debian's fortunes)");
  using F = demo::RunFlag;
  demo::add_run_flags(app, c, {F::steps, F::probe_every, F::seeds});
  auto whole = [&](const char* flag, int& v, const char* what, int lo, int hi) {
    app.add_option(flag, v, what)->capture_default_str()->check(CLI::Range(lo, hi));
  };
  auto real = [&](const char* flag, double& v, const char* what, double lo, double hi) {
    app.add_option(flag, v, what)->capture_default_str()->check(demo::range(lo, hi));
  };
  whole("--layers", c.layers, "Transformer blocks", 1, 64);
  whole("--heads", c.heads, "Attention heads (must divide --embd)", 1, 64);
  whole("--embd", c.embd, "The residual stream's width", 1, 4096);
  whole("--block", c.block, "Context length, in characters", 1, 4096);
  whole("--batch", c.batch, "Sequences per step", 1, 4096);
  real("--lr", c.lr, "Peak learning rate (AdamW)", 1e-9, 10);
  real("--min-lr", c.min_lr, "Learning rate at the end of the cosine", 0, 10);
  whole("--warmup", c.warmup, "Linear warmup steps", 0, 10000000);
  real("--weight-decay", c.weight_decay, "AdamW's decay of the weight matrices", 0, 10);
  real("--beta2", c.beta2, "AdamW's beta2", 0, 0.999999);
  real("--clip", c.clip, "Gradient clipping: the largest total norm", 1e-9, 1e9);
  whole("--eval-batches", c.eval_batches, "Batches of each split per evaluation", 1, 100000);
  whole("--threads", c.threads, "Runs trained at once, one per thread (same CSV for any)", 1, 256);
  whole("--sample-chars", c.sample_chars, "Characters generated per run", 0, 100000);
  real("--temperature", c.temperature, "Sampling temperature", 1e-3, 100);
  whole("--top-k", c.top_k, "Sample among the k most likely characters (0: all)", 0, 100000);
}

// Every (activation, seed) run, --threads at once.
std::vector<gpt::Run> train_all(const gpt::Config& c, const slope::data::TextDataset& text) {
  std::vector<gpt::Run> runs(c.activations.size() * static_cast<std::size_t>(c.seeds));
  std::atomic<std::size_t> steps_done{0};
  std::atomic<double> rate{0}, val{NAN};
  demo::Progress progress("training", runs.size() * c.steps);
  demo::run_parallel(
      runs.size(), c.threads,
      [&](std::size_t i) {
        slope::set_num_threads(1);
        const std::string& act = c.activations[i / static_cast<std::size_t>(c.seeds)];
        const std::uint64_t seed = c.seed + i % static_cast<std::size_t>(c.seeds);
        runs[i] = gpt::train(c, text, act, seed, [&](int, double tokens_per_s, double v) {
          ++steps_done, rate = tokens_per_s, val = v;
        });
      },
      [&] {
        progress.update(steps_done, fmt::format("{:.0f} tokens/s a run, last val loss {:.3f}",
                                                rate.load(), val.load()));
      });
  return runs;
}

void write_csvs(const fs::path& out, const std::vector<gpt::Run>& runs) {
  demo::CsvWriter curves(out / "curves.csv", {"activation", "seed", "step", "split", "loss"});
  demo::CsvWriter blocks(out / "blocks.csv",
                         {"activation", "seed", "step", "block", "grad_norm_c_attn",
                          "grad_norm_attn_proj", "grad_norm_c_fc", "grad_norm_mlp_proj",
                          "dead_frac", "saturated_frac", "mean_slope", "attention_entropy"});
  demo::CsvWriter heads(out / "heads.csv",
                        {"activation", "seed", "step", "block", "head", "entropy"});
  for (const gpt::Run& r : runs) {
    for (const char* split : {"train", "val"})
      for (const gpt::Eval& e : r.evals)
        curves.row(r.activation, r.seed, e.step, split,
                   split[0] == 't' ? e.train_loss : e.val_loss);
    // Block by block, then step by step: each series contiguous, so gnuplot draws it as a line.
    const std::size_t n_blocks = r.probes.empty() ? 0 : r.probes.front().blocks.size();
    for (std::size_t k = 0; k < n_blocks; ++k)
      for (const gpt::Probe& p : r.probes) {
        const auto& b = p.blocks[k];
        double mean = 0;
        for (double e : b.head_entropy) mean += e / static_cast<double>(b.head_entropy.size());
        blocks.row(r.activation, r.seed, p.step, b.block, b.grad_norm_c_attn, b.grad_norm_attn_proj,
                   b.grad_norm_c_fc, b.grad_norm_mlp_proj, b.hidden.dead_frac,
                   b.hidden.saturated_frac, b.hidden.mean_slope, mean);
      }
    for (std::size_t k = 0; k < n_blocks; ++k)
      for (std::size_t h = 0; h < r.probes.front().blocks[k].head_entropy.size(); ++h)
        for (const gpt::Probe& p : r.probes)
          heads.row(r.activation, r.seed, p.step, k + 1, h + 1, p.blocks[k].head_entropy[h]);
  }
  curves.commit();
  blocks.commit();
  heads.commit();
}

// The first run's attention on the validation split's first characters, every block and
// head (attention.csv), with the characters on both axes.
void write_attention(const fs::path& out, const gpt::Run& run, const slope::data::TextDataset& text,
                     int length) {
  const auto val = text.ids(slope::data::TextSplit::val);
  const std::vector<int> ids(val.begin(),
                             val.begin() + std::min<long>(length, static_cast<long>(val.size())));
  const auto maps = gpt::attention_maps(*run.model, ids);
  auto shown = [&](int id) {
    const std::string c = text.tokenizer().decode(std::vector<int>{id});
    // Safe in a CSV field and a gnuplot string, readable on an axis.
    if (c == "\n") return std::string("\\n");
    if (c == " ") return std::string("_");
    if (c == ",") return std::string("<comma>");
    if (c == "\"") return std::string("<quote>");
    if (c == "\\") return std::string("<backslash>");
    return c;
  };
  demo::CsvWriter csv(out / "attention.csv", {"activation", "seed", "block", "head", "query", "key",
                                              "weight", "query_char", "key_char"});
  for (std::size_t b = 0; b < maps.size(); ++b)
    for (std::size_t h = 0; h < maps[b].size(); ++h)
      for (std::size_t q = 0; q < ids.size(); ++q)
        for (std::size_t k = 0; k <= q; ++k)
          csv.row(run.activation, run.seed, b + 1, h + 1, q, k,
                  maps[b][h](static_cast<Eigen::Index>(q), static_cast<Eigen::Index>(k)),
                  shown(ids[q]), shown(ids[k]));
  csv.commit();
  std::string tics;  // the characters themselves on the axes, escaped for gnuplot
  for (std::size_t i = 0; i < ids.size(); ++i) {
    std::string c = text.tokenizer().decode(std::vector<int>{ids[i]});
    c = c == "\n" ? "\\\\n" : c == " " ? "_" : c == "\"" ? "\\\"" : c == "\\" ? "\\\\" : c;
    tics += fmt::format("{}\"{}\" {}", i ? ", " : "", c, i);
  }
  std::string body = fmt::format(
      "  set multiplot layout {},{}\n  set xtics ({}) font \",7\"\n"
      "  set ytics ({}) font \",7\"\n  set yrange [*:*] reverse\n"
      "  set cbrange [0:1]\n  set palette defined (0 \"#ffffff\", 1 \"#08306b\")\n"
      "  unset colorbox\n",
      maps.size(), maps.empty() ? 1 : maps[0].size(), tics, tics);
  // Each (block, head) is a contiguous run of rows, read by row range.
  const std::size_t per_map = ids.size() * (ids.size() + 1) / 2;
  for (std::size_t b = 0; b < maps.size(); ++b)
    for (std::size_t h = 0; h < maps[b].size(); ++h) {
      const std::size_t first = (b * maps[b].size() + h) * per_map;
      body += fmt::format(
          "  set title \"block {} head {} ({})\" noenhanced\n  plot \"attention.csv\" skip 1 every "
          "::{}::{} using 6:5:7 with points pt 5 ps 0.9 lc palette notitle\n",
          b + 1, h + 1, run.activation, first, first + per_map - 1);
    }
  body += "  unset multiplot\n";
  demo::gnuplot(out, "attention", body, 360 * static_cast<int>(maps.empty() ? 1 : maps[0].size()),
                340 * static_cast<int>(maps.size()));
}

// The table of final validation losses over seeds, the FFNs' dead fraction and the heads'
// entropy at the end; the same numbers in summary.csv for slope-report.
void summarise(const fs::path& out, const gpt::Config& c, const std::vector<gpt::Run>& runs,
               const gpt::Baselines& base) {
  demo::Summary summary;
  summary.set(gpt::key::kUnigram, base.unigram);
  summary.set(gpt::key::kBigram, base.bigram);
  summary.set(gpt::key::kSeeds, c.seeds);
  summary.set(gpt::key::kSteps, static_cast<double>(c.steps));
  demo::CsvWriter mean_csv(out / "curves_mean.csv",
                           {"activation", "step", "val_mean", "val_min", "val_max"});
  fmt::print("\n{:<11} {:>18} {:>14} {:>16} {:>10}\n", "activation", "final val loss",
             "below bigram", "FFN dead frac", "attn entropy");
  for (const std::string& a : c.activations) {
    std::vector<double> finals, dead, entropy;
    std::map<int, std::vector<double>> by_step;
    for (const gpt::Run& r : runs) {
      if (r.activation != a || r.diverged) continue;
      finals.push_back(r.evals.back().val_loss);
      for (const gpt::Eval& e : r.evals) by_step[e.step].push_back(e.val_loss);
      if (r.probes.empty()) continue;  // --steps 0: no training step was probed
      for (const auto& b : r.probes.back().blocks) {
        dead.push_back(b.hidden.dead_frac);
        for (double e : b.head_entropy) entropy.push_back(e);
      }
    }
    for (const auto& [step, v] : by_step) {
      const demo::Stats st = demo::stats(v);
      mean_csv.row(a, step, st.mean, st.min, st.max);
    }
    const demo::Stats f = demo::stats(finals), d = demo::stats(dead), e = demo::stats(entropy);
    summary.set(gpt::key::final_val(a), f.mean);
    summary.set(gpt::key::final_val_std(a), f.std);
    summary.set(gpt::key::dead_frac(a), d.mean);
    summary.set(gpt::key::entropy(a), e.mean);
    fmt::print("{:<11} {:>10.4f} ± {:<5.4f} {:>14.4f} {:>16.4f} {:>10.3f}\n", a, f.mean, f.std,
               base.bigram - f.mean, d.mean, e.mean);
    if (a != "relu" && d.max > 0) fmt::print("  {}: {}\n", a, demo::why_dead(a));
  }
  mean_csv.commit();
  fmt::print("baselines on the validation text: unigram {:.4f}, bigram {:.4f} nats\n", base.unigram,
             base.bigram);
  summary.write(out);
}

void plot_all(const fs::path& out, const gpt::Config& c, const std::vector<gpt::Run>& runs,
              const gpt::Baselines& base) {
  std::string body = fmt::format(
      "  set title \"validation loss, mean and band (min to max) over {} seed(s)\" noenhanced\n"
      "  set xlabel \"step\"\n  set ylabel \"cross-entropy (nats per character)\"\n  set grid\n"
      "  set key outside right top noenhanced\n  plot ",
      c.seeds);
  for (const std::string& a : c.activations)
    body += fmt::format(
        "\"curves_mean.csv\" skip 1 using 2:(strcol(1) eq \"{0}\" ? $4 : NaN):(strcol(1) eq "
        "\"{0}\" ? "
        "$5 : NaN) with filledcurves fs transparent solid 0.15 lc rgb \"{1}\" notitle, \\\n"
        "       \"curves_mean.csv\" skip 1 using 2:(strcol(1) eq \"{0}\" ? $3 : NaN) with lines lw "
        "2 "
        "lc rgb \"{1}\" title \"{0}\", \\\n       ",
        a, demo::colour_of(a));
  body += fmt::format(
      "{} with lines dt 2 lc rgb \"#777777\" title \"unigram baseline\", \\\n"
      "       {} with lines dt 3 lc rgb \"#333333\" title \"bigram baseline\"\n",
      base.unigram, base.bigram);
  demo::gnuplot(out, "val_loss", body, 1000, 560);
  if (c.steps == 0) return;  // nothing was probed: no blocks to draw

  // relu's and gelu's dead units side by side (those run; else the first activation's).
  std::vector<std::string> shown;
  for (const char* a : {"relu", "gelu"})
    if (std::find(c.activations.begin(), c.activations.end(), a) != c.activations.end())
      shown.push_back(a);
  if (shown.empty()) shown.push_back(c.activations.front());
  // One y axis for the panels, so relu's and gelu's dead fractions compare at a glance.
  double top = 0;
  for (const gpt::Run& r : runs)
    for (const gpt::Probe& p : r.probes)
      for (const auto& b : p.blocks) top = std::max(top, b.hidden.dead_frac);
  std::string dead = fmt::format("  set multiplot layout 1,{}\n  set yrange [0:{}]\n", shown.size(),
                                 top > 0 ? std::min(1.0, 1.1 * top) : 0.05);
  for (const std::string& a : shown) {
    dead += fmt::format(
        "  set title \"{}: the FFN's dead fraction per block, seed {}\" noenhanced\n"
        "  set xlabel \"step\"\n  set ylabel \"dead fraction of c_fc's units\" noenhanced\n"
        "  set grid\n  set key top left\n  plot ",
        a, c.seed);
    for (int b = 1; b <= c.layers; ++b)
      dead += fmt::format(
          "{}\"blocks.csv\" skip 1 using 3:((strcol(1) eq \"{}\" && $2 == {} && $4 == {}) ? "
          "$9 : NaN) with linespoints lw 2 lc rgb \"{}\" title \"block {}\"",
          b > 1 ? ", \\\n       " : "", a, c.seed, b,
          demo::series_colour(static_cast<std::size_t>(b - 1)), b);
    dead += "\n";
  }
  demo::gnuplot(out, "dead", dead + "  unset multiplot\n", 550 * static_cast<int>(shown.size()),
                460);

  std::string grads = "  set multiplot layout 2,2\n";
  const char* names[] = {"attn.c_attn", "attn.c_proj", "mlp.c_fc", "mlp.c_proj"};
  for (int w = 0; w < 4; ++w) {
    grads += fmt::format(
        "  set title \"{} {}: ||dL/dW|| per block, seed {}\" noenhanced\n"
        "  set xlabel \"step\"\n  set logscale y\n  set grid\n  plot ",
        c.activations.front(), names[w], c.seed);
    for (int b = 1; b <= c.layers; ++b)
      grads += fmt::format(
          "{}\"blocks.csv\" skip 1 using 3:((strcol(1) eq \"{}\" && $2 == {} && $4 == {}) ? "
          "${} : NaN) with lines lw 2 lc rgb \"{}\" title \"block {}\"",
          b > 1 ? ", \\\n       " : "", c.activations.front(), c.seed, b, 5 + w,
          demo::series_colour(static_cast<std::size_t>(b - 1)), b);
    grads += "\n";
  }
  demo::gnuplot(out, "grad_norms", grads + "  unset multiplot\n", 1100, 800);
}

// What `of` reads from each run of one activation that ended and was probed.
template <class F>
std::vector<double> per_run(const std::vector<gpt::Run>& runs, const std::string& a, F of) {
  std::vector<double> v;
  for (const gpt::Run& r : runs)
    if (r.activation == a && !r.diverged && !r.probes.empty()) v.push_back(of(r));
  return v;
}
// The largest dead fraction of a block's FFN at the end.
double final_dead_most(const gpt::Run& r) {
  double most = 0;
  for (const auto& b : r.probes.back().blocks) most = std::max(most, b.hidden.dead_frac);
  return most;
}

double final_dead(const gpt::Run& r) {
  double d = 0;
  for (const auto& b : r.probes.back().blocks)
    d += b.hidden.dead_frac / r.probes.back().blocks.size();
  return d;
}

// REPORT.md: the lesson's claims about GELU inside GPT-2, each with the number this run
// measured.
void write_report(const fs::path& out, const gpt::Config& c, const std::vector<gpt::Run>& runs,
                  const gpt::Baselines& base, const std::string& model) {
  std::string md = "# GELU where GPT-2 puts it, measured\n\n";
  const std::size_t act_line =
      static_cast<std::size_t>(
          std::count(model.begin(), model.begin() + static_cast<long>(model.find("(act)")), '\n')) +
      1;
  md += fmt::format(
      "**Where it sits.** In every block's MLP, between `c_fc` (n_embd -> 4 n_embd) and `c_proj` "
      "(back to n_embd): `model.txt` line {}, and the same place in each of the {} blocks. "
      "Attention has no activation of its own; the MLP is the only place an activation is "
      "chosen.\n\n",
      act_line, c.layers);
  md += fmt::format(
      "**Validation loss** after {} steps, nats per character, mean ± std over {} seed(s) "
      "(`curves.csv`: each the mean over {} batches of the held-out text):\n\n"
      "| activation | final val loss | below the bigram baseline | FFN dead fraction at the end "
      "|\n|---|---|---|---|\n",
      c.steps, c.seeds, c.eval_batches);
  std::map<std::string, demo::Stats> loss;
  for (const std::string& a : c.activations) {
    loss[a] =
        demo::stats(per_run(runs, a, [](const gpt::Run& r) { return r.evals.back().val_loss; }));
    const demo::Stats d = demo::stats(per_run(runs, a, final_dead));
    md += fmt::format("| {} | {:.4f} ± {:.4f} | {:.4f} | {:.4f} |\n", a, loss[a].mean, loss[a].std,
                      base.bigram - loss[a].mean, d.mean);
  }
  md += fmt::format(
      "\nBaselines on the same held-out text: unigram {:.4f}, add-one bigram {:.4f}.\n\n",
      base.unigram, base.bigram);
  bool all_beat = true;
  for (const auto& [a, st] : loss) all_beat = all_beat && st.mean < base.bigram;
  md += fmt::format("**Every activation beats the bigram baseline: {}.**\n\n",
                    all_beat ? "yes" : "no");
  if (loss.count("gelu") && loss.count("relu"))
    md += "**gelu against relu.** " +
          gpt::gelu_against_relu(loss["relu"].mean - loss["gelu"].mean,
                                 std::max(loss["gelu"].std, loss["relu"].std), c.seeds) +
          "\n\n";
  for (const char* a : {"sigmoid", "tanh"})
    if (loss.count(a) && loss.count("gelu"))
      md += fmt::format("**{} inside the FFN** ends {:+.4f} nats from gelu{}.\n\n", a,
                        loss[a].mean - loss["gelu"].mean,
                        loss.count("relu") ? fmt::format(" and {:+.4f} from relu",
                                                         loss[a].mean - loss["relu"].mean)
                                           : "");
  if (loss.count("relu") && loss.count("gelu")) {
    md += fmt::format(
        "**Dead FFN units** (slope exactly 0 at every position of a training batch), mean over "
        "blocks and seeds at the end: relu {:.4f}, gelu {:.4f} (`blocks.csv`, `dead.png`). "
        "Where the float slope is exactly 0, as slope's kernels compute it:",
        demo::stats(per_run(runs, "relu", final_dead)).mean,
        demo::stats(per_run(runs, "gelu", final_dead)).mean);
    for (const std::string& a : c.activations)
      md += fmt::format(" {} {};", a, demo::where_slope_is_zero(a));
    md.back() = '.';
    for (const std::string& a : c.activations)
      if (const double most = demo::stats(per_run(runs, a, final_dead_most)).max;
          a != "relu" && most > 0)
        md += fmt::format(" {}'s FFNs had dead units at the end (up to {:.4f} of a block's): {}.",
                          a, most, demo::why_dead(a));
    md +=
        " GELU's slope is never 0 in exact arithmetic: a gelu unit dies only where its slope "
        "underflows.\n\n";
  }
  const gpt::Run& first = runs.front();
  if (!first.probes.empty()) {
    md += fmt::format(
        "**Attention entropy** of each head at the end, nats, mean over the positions of "
        "a training batch ({}, seed {}; uniform attention over {} positions would give "
        "{:.3f}):\n\n| block | heads |\n|---|---|\n",
        first.activation, first.seed, c.block, std::lgamma(c.block + 1.0) / c.block);
    for (const auto& b : first.probes.back().blocks) {
      std::string heads;
      for (double e : b.head_entropy)
        heads += fmt::format("{}{:.3f}", heads.empty() ? "" : ", ", e);
      md += fmt::format("| {} | {} |\n", b.block, heads);
    }
    md += "\n";
  }
  md += fmt::format("**A sample** ({}, seed {}, temperature {}, top-k {}):\n\n```\n{}\n```\n\n",
                    first.activation, first.seed, c.temperature, c.top_k, first.sample);
  md += "![validation loss](val_loss.svg) ![dead units](dead.svg) ![attention](attention.svg)\n";
  demo::write_file(out / "REPORT.md", md);
}

// samples.txt, model.txt (`model`, gpt::describe of the first run) and a checkpoint per run.
void write_text_and_checkpoints(const fs::path& out, const gpt::Config& c,
                                const std::vector<gpt::Run>& runs, const std::string& model) {
  std::string samples = fmt::format(
      "Generated by slope-gpt: {} characters per run from a newline, temperature {}, top-k {}.\n",
      c.sample_chars, c.temperature, c.top_k);
  for (const gpt::Run& r : runs) {
    samples +=
        fmt::format("\n=== {}, seed {}, final validation loss {:.4f} ===\n{}\n", r.activation,
                    r.seed, r.evals.back().val_loss, r.diverged ? "(diverged)" : r.sample);
    slope::nn::save_safetensors(
        (out / fmt::format("gpt_{}_seed{}.safetensors", r.activation, r.seed)).string(),
        r.model->named_parameters());
  }
  demo::write_file(out / "samples.txt", samples);
  demo::write_file(out / "model.txt", model);
}

int run(int argc, char** argv) {
  gpt::Config config;
  demo::Cli cli("gpt",
                "GELU where GPT-2 puts it: a character-level GPT trained on text with each "
                "feed-forward activation",
                config.seed);
  cli.add_activations(config.activations);
  add_flags(cli.app(), config);
  if (auto status = cli.parse(argc, argv)) return *status;
  config.seed = cli.seed();
  if (config.embd % config.heads != 0)
    throw demo::UsageError(
        fmt::format("--heads: {} does not divide --embd {}", config.heads, config.embd));
  const fs::path& out = cli.out();
  const slope::data::TextDataset text = gpt::load_text(config);
  const gpt::Baselines base = gpt::baselines(text);
  fmt::print(
      "slope-gpt: {} ({} characters, {} distinct; {} train, {} val), GPT {} layers, {} heads, "
      "n_embd {}, block {}, batch {}, AdamW lr {} -> {} ({} warmup), {} steps, seeds {}..{}\n",
      text.name(),
      text.ids(slope::data::TextSplit::train).size() + text.ids(slope::data::TextSplit::val).size(),
      text.tokenizer().size(), text.ids(slope::data::TextSplit::train).size(),
      text.ids(slope::data::TextSplit::val).size(), config.layers, config.heads, config.embd,
      config.block, config.batch, config.lr, config.min_lr, config.warmup, config.steps,
      config.seed, config.seed + static_cast<std::uint64_t>(config.seeds) - 1);
  const std::vector<gpt::Run> runs = train_all(config, text);
  write_csvs(out, runs);
  write_attention(out, runs.front(), text, std::min(config.block, 32));
  summarise(out, config, runs, base);
  plot_all(out, config, runs, base);
  const std::string model = gpt::describe(*runs.front().model);  // model.txt
  write_text_and_checkpoints(out, config, runs, model);
  write_report(out, config, runs, base, model);
  std::vector<double> val;
  for (const gpt::Eval& e : runs.front().evals) val.push_back(e.val_loss);
  fmt::print("\n{}",
             demo::ascii_plot(val, runs.front().activation + ": validation loss by evaluation"));
  fmt::print(
      "\nwrote {}/: curves.csv curves_mean.csv blocks.csv heads.csv attention.csv summary.csv, "
      "val_loss|dead|grad_norms|attention .svg|.png, samples.txt, model.txt, REPORT.md, "
      "gpt_<activation>_seed<k>.safetensors\n",
      out.string());
  int status = 0;
  for (const gpt::Run& r : runs)
    if (r.diverged) {
      fmt::print(stderr, "slope-gpt: {} seed {} diverged at {}\n", r.activation, r.seed,
                 *r.diverged);
      status = demo::kDiverged;
    }
  return status;
}

}  // namespace

int main(int argc, char** argv) {
  return demo::run_main([&] { return run(argc, argv); });
}
