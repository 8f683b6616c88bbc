// slope-report: reads the summary.csv every demo of the tour wrote and writes
// REPORT.md, one sentence per claim of the lesson, each with the number the run just
// measured and the plot beside it. `make demo` runs it last.
#include <cmath>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "curves/curves.hpp"
#include "dead_relu/dead_relu.hpp"
#include "explorer/explorer.hpp"
#include "ffn/ffn.hpp"
#include "gpt/gpt.hpp"
#include "micrograd/micrograd.hpp"
#include "report/tour.hpp"
#include "support/cli.hpp"
#include "support/output.hpp"
#include "support/palette.hpp"
#include "support/summary.hpp"
#include "vanishing/vanishing.hpp"

namespace {

namespace demo = slope::demo;
namespace fs = std::filesystem;
namespace van = slope::demo::vanishing;
namespace dr = slope::demo::dead_relu;
namespace cv = slope::demo::curves;
namespace ffn = slope::demo::ffn;
namespace gpt = slope::demo::gpt;
namespace ex = slope::demo::explorer;
namespace mg = slope::demo::micrograd;
namespace tour = slope::demo::tour;

// The summaries of the tour, by demo directory name; a missing number is an error
// that names the file and key, so a demo that stops measuring breaks `make demo`.
class Numbers {
 public:
  explicit Numbers(fs::path root) : root_(std::move(root)) {}
  double operator()(std::string_view demo, const std::string& key) {
    auto it = cache_.find(demo);
    if (it == cache_.end())
      it = cache_.emplace(std::string(demo), demo::Summary::read(root_ / demo)).first;
    const auto& v = it->second.values();
    const auto k = v.find(key);
    if (k == v.end())
      throw demo::UsageError((root_ / demo / "summary.csv").string() + ": no key '" + key +
                             "' (rerun the demo)");
    return k->second;
  }
  bool has(std::string_view demo) const { return fs::exists(root_ / demo / "summary.csv"); }
  // A number a demo writes only when it measured it (a mean over runs that all diverged).
  std::optional<double> maybe(std::string_view demo, const std::string& key) {
    try {
      return (*this)(demo, key);
    } catch (const demo::UsageError&) {
      if (!has(demo)) throw;
      return std::nullopt;
    }
  }

 private:
  fs::path root_;
  std::map<std::string, demo::Summary, std::less<>> cache_;
};

// Shortest round-trip digits, so 0.25^8 prints as 1.52587890625e-05.
std::string num(double x) { return fmt::format("{}", std::abs(x) < 1e-300 ? 0.0 : x); }
std::string g3(double x) { return fmt::format("{:.3g}", x); }
std::string g6(double x) { return fmt::format("{:.6g}", x); }
std::string pct(double x) { return fmt::format("{:.0f}%", 100 * x); }

// REPORT.md, written section by section: one per claim of the lesson.
class Report {
 public:
  Report(Numbers& numbers, std::string plots_at) : n(numbers), at(std::move(plots_at)) {}
  void title();          // The title and how to read the report.
  void relu_hinge();     // ReLU is a hinge.
  void relu_undamped();  // ReLU passes gradients undamped.
  void sigmoid_slope();  // sigmoid's slope is at most 0.25.
  void
  sigmoid_stacks();     // Deep sigmoid stacks vanish; the top layer saturates (Glorot and Bengio).
  void tanh_centred();  // tanh is zero-centred.
  void gelu_leaks();    // GELU leaks a sliver of gradient.
  void dead_relu();     // Dead ReLUs: the sweep and born dead.
  void training_curves();  // Training curves.
  void residual_blocks();  // The next lesson's block.
  void gelu_in_gpt();      // Where GELU sits in GPT-2, and what changes without it.
  const std::string& markdown() const { return md; }

 private:
  void add(const std::string& s) { md += s + "\n"; }
  // A plot of one of the tour's runs, beside the command that draws it.
  void plot(std::string_view alt, std::string_view run, const std::string& file,
            const std::string& command) {
    add(fmt::format("![{}]({}{}/{})  `{}`", alt, at, run, file, command));
  }
  Numbers& n;
  const std::string at;  // the tour's directory relative to REPORT.md, for plot links
  std::string md;
  const std::string init_x = "xavier_uniform", init_he = "kaiming_normal";
};

void Report::relu_hinge() {
  add("## ReLU is a hinge");
  add(fmt::format(
      "A neuron relu({} x + {}) folds at x = -b/w = {}; the explorer, sampling its slope, "
      "found the kink at x = {}, with slope {} to its left and {} to its right.",
      num(n(tour::kExplorer, ex::key::kKinkWeight)), num(n(tour::kExplorer, ex::key::kKinkBias)),
      num(n(tour::kExplorer, ex::key::kKinkXFormula)),
      num(n(tour::kExplorer, ex::key::kKinkXMeasured)),
      num(n(tour::kExplorer, ex::key::kKinkSlopeLeft)),
      num(n(tour::kExplorer, ex::key::kKinkSlopeRight))));
  add("");
  plot("relu hinge", tour::kExplorer, "hinge.svg", "slope-explorer --weight 2 --bias 1");
  add("");
}

void Report::relu_undamped() {
  add("## ReLU's slope is exactly 0 or 1, so gradients pass active units undamped");
  add(fmt::format(
      "In a depth-8 ReLU MLP under He init the per-layer weight-gradient norms at step 0 span "
      "a factor of {} (layer 1 over the last layer: {}); the same stack with sigmoid spans {}.",
      g3(n(tour::kVanishing, van::key::spread(init_he, "relu", 8))),
      g3(n(tour::kVanishing, van::key::ratio(init_he, "relu", 8))),
      g3(n(tour::kVanishing, van::key::spread(init_x, "sigmoid", 8)))));
  add("");
  plot("gradient norms per layer, He init", tour::kVanishing, init_he + "/grad_step0.svg",
       tour::run(tour::kVanishing).command());
  add("");
}

void Report::sigmoid_slope() {
  add("## sigmoid squashes into (0, 1) and its slope never exceeds 0.25");
  add(fmt::format(
      "Scanning the catalogue on a grid of step 0.001 over [-10, 10]: sigmoid's largest slope "
      "is {} at x = {} (its values span [{}, {}] on [-6, 6]); tanh's is {} at x = {}; relu's "
      "is {} (first reached at x = {}); gelu's is {} at x = {}.",
      num(n(tour::kExplorer, ex::key::max_slope("sigmoid"))),
      num(n(tour::kExplorer, ex::key::max_slope_at("sigmoid"))),
      g3(n(tour::kExplorer, ex::key::range_min("sigmoid"))),
      g3(n(tour::kExplorer, ex::key::range_max("sigmoid"))),
      num(n(tour::kExplorer, ex::key::max_slope("tanh"))),
      num(n(tour::kExplorer, ex::key::max_slope_at("tanh"))),
      num(n(tour::kExplorer, ex::key::max_slope("relu"))),
      num(n(tour::kExplorer, ex::key::max_slope_at("relu"))),
      g3(n(tour::kExplorer, ex::key::max_slope("gelu"))),
      g3(n(tour::kExplorer, ex::key::max_slope_at("gelu")))));
  add("");
  plot("sigmoid and its slope", tour::kExplorer, "activation_sigmoid.svg", "slope-explorer");
  add("");
}

void Report::sigmoid_stacks() {
  add("## Deep sigmoid stacks stop learning: the gradient shrinks by up to 0.25 per layer");
  add(fmt::format(
      "The product of 8 measured maximum sigmoid slopes is {} (0.25^8 = {}). In a sigmoid MLP "
      "under Xavier init, layer 1's gradient norm at step 0 is {} of the last layer's at depth "
      "8 (bound 0.25^(L-1) = {}), while relu's is {}; after training, sigmoid reaches {} test "
      "accuracy against relu's {}.",
      num(n(tour::kExplorer, ex::key::sigmoid_product(8))),
      num(n(tour::kExplorer, ex::key::bound(8))),
      g3(n(tour::kVanishing, van::key::ratio(init_x, "sigmoid", 8))),
      g3(n(tour::kVanishing, van::key::bound(8))),
      g3(n(tour::kVanishing, van::key::ratio(init_x, "relu", 8))),
      pct(n(tour::kVanishing, van::key::test_acc(init_x, "sigmoid", 8))),
      pct(n(tour::kVanishing, van::key::test_acc(init_x, "relu", 8)))));
  add(fmt::format(
      "Deeper, at step 0: sigmoid's ratio is {} at depth 16 (bound {}) and {} at depth 32 "
      "(bound {}), while relu under He init keeps every layer within a factor of {} and {}.",
      g3(n(tour::kVanishingDeep, van::key::ratio(init_x, "sigmoid", 16))),
      g3(n(tour::kVanishingDeep, van::key::bound(16))),
      g3(n(tour::kVanishingDeep, van::key::ratio(init_x, "sigmoid", 32))),
      g3(n(tour::kVanishingDeep, van::key::bound(32))),
      g3(n(tour::kVanishingDeep, van::key::spread(init_he, "relu", 16))),
      g3(n(tour::kVanishingDeep, van::key::spread(init_he, "relu", 32)))));
  add("");
  plot("gradient norms per layer, Xavier init", tour::kVanishing, init_x + "/grad_step0.svg",
       tour::run(tour::kVanishingDeep).command());
  add("");
  if (n.has(tour::kVanishingGlorot)) {
    auto top = [&](const std::string& what) {
      return n(tour::kVanishingGlorot, van::key::top_mean(what, "pytorch", "sigmoid", 4));
    };
    add(fmt::format(
        "Sigmoid's top hidden layer saturates early (Glorot and Bengio 2010, Figure 2): in a "
        "depth-4 sigmoid MLP under the standard init U(-1/sqrt(n), 1/sqrt(n)) trained with SGD "
        "at lr 4, the top hidden layer's mean activation fell from {} at step 0 to {} at step "
        "{}, while the layers below stayed between {} and {}, and it was back to only {} at "
        "step {}.",
        g3(top("start")), g3(top("lowest")), num(top("lowest_step")), g3(top("below_min")),
        g3(top("below_max")), g3(top("last")), num(top("last_step"))));
    add("");
    plot("mean activation and saturation per layer through training", tour::kVanishingGlorot,
         "pytorch/saturation.svg", tour::run(tour::kVanishingGlorot).command());
    add("");
  }
}

void Report::tanh_centred() {
  add("## tanh is zero-centred, with range (-1, 1) and slope 1 at 0: micrograd's choice");
  add(fmt::format(
      "tanh(0) = {} and tanh'(0) = {}; on [-6, 6] its values span [{}, {}] (sigmoid(0) = {}: "
      "not centred). micrograd's moons demo reached {} training accuracy with tanh and {} with "
      "relu after {} steps.",
      num(n(tour::kExplorer, ex::key::value_at_0("tanh"))),
      num(n(tour::kExplorer, ex::key::slope_at_0("tanh"))),
      g3(n(tour::kExplorer, ex::key::range_min("tanh"))),
      g3(n(tour::kExplorer, ex::key::range_max("tanh"))),
      num(n(tour::kExplorer, ex::key::value_at_0("sigmoid"))),
      pct(n(tour::kMicrogradTanh, mg::key::final_accuracy("tanh"))),
      pct(n(tour::kMicrograd, mg::key::final_accuracy("relu"))),
      num(n(tour::kMicrograd, mg::key::kSteps))));
  add("");
  plot("micrograd decision boundary, tanh", tour::kMicrogradTanh, "boundary.svg",
       tour::run(tour::kMicrogradTanh).command());
  add("");
}

void Report::gelu_leaks() {
  add("## GELU is a smooth ReLU that leaks a sliver of gradient for x < 0");
  add(fmt::format(
      "gelu(-1) = {} and gelu'(-1) = {}, not 0; its minimum is {} at x = {}. Its slope is never "
      "0 in exact arithmetic, but as training computes it, it underflows to exactly 0 in float "
      "at x <= {} (in double at x <= {}; GPT-2's tanh approximation, gelu_tanh, already at "
      "x <= {} in float), so a GELU unit can read as dead only if every input it sees lies "
      "there. Under the dead-ReLU demo's settings GELU's largest dead fraction was {} (relu's: "
      "{}).",
      g3(n(tour::kExplorer, ex::key::value_at_minus_1("gelu"))),
      g3(n(tour::kExplorer, ex::key::slope_at_minus_1("gelu"))),
      g3(n(tour::kExplorer, ex::key::min_value("gelu"))),
      g3(n(tour::kExplorer, ex::key::min_at("gelu"))),
      g6(n(tour::kExplorer, ex::key::zero_slope_float("gelu"))),
      g6(n(tour::kExplorer, ex::key::zero_slope_double("gelu"))),
      g6(n(tour::kExplorer, ex::key::zero_slope_float("gelu_tanh"))),
      num(n(tour::kDeadRelu, dr::key::max_dead_frac("gelu"))),
      g3(n(tour::kDeadRelu, dr::key::max_dead_frac("relu")))));
  add("");
  plot("gelu and its slope", tour::kExplorer, "activation_gelu.svg", "slope-explorer --act gelu");
  add("");
}

void Report::dead_relu() {
  add("## A ReLU unit that is negative for every example never learns again");
  add(fmt::format(
      "Under plain SGD, ReLU's hidden units died (largest dead fraction {}); dead units of "
      "layer 1 revived {} times and received a total |dL/dW| of {} while dead, while deeper "
      "layers revived {} times. Under the same settings leaky_relu's largest dead fraction was "
      "{} and gelu's {}.",
      g3(n(tour::kDeadRelu, dr::key::max_dead_frac("relu"))),
      num(n(tour::kDeadRelu, dr::key::layer1_revivals("relu"))),
      num(n(tour::kDeadRelu, dr::key::layer1_dead_grad_abs_sum("relu"))),
      num(n(tour::kDeadRelu, dr::key::deeper_revivals("relu"))),
      num(n(tour::kDeadRelu, dr::key::max_dead_frac("leaky_relu"))),
      num(n(tour::kDeadRelu, dr::key::max_dead_frac("gelu")))));
  add("");
  {
    const double lo = n(tour::kDeadRelu, dr::key::kSweepLrMin),
                 hi = n(tour::kDeadRelu, dr::key::kSweepLrMax);
    const double seeds = n(tour::kDeadRelu, dr::key::kSweepSeeds);
    auto dead_at = [&](const std::string& a, double lr) {
      const auto m = n.maybe(tour::kDeadRelu, dr::key::sweep_dead_mean(a, lr));
      const double diverged = n(tour::kDeadRelu, dr::key::sweep_diverged(a, lr));
      std::string text = m ? pct(*m) : "(every run diverged)";
      if (m && seeds > 1) text += " ± " + pct(n(tour::kDeadRelu, dr::key::sweep_dead_std(a, lr)));
      if (diverged > 0)
        text +=
            fmt::format(" ({} of {} runs diverged and are left out)", num(diverged), num(seeds));
      return text;
    };
    add(fmt::format(
        "The learning rate decides it. In the sweep (plain SGD, He init, 300 full-batch steps on "
        "spirals, mean ± std over {} seeds) relu ended with {} of its hidden units dead at lr {} "
        "and {} at lr {}: CS231n's \"as much as 40% of your network can be dead if the learning "
        "rate is set too high\", measured. At lr {} leaky_relu ended with {} dead and gelu "
        "with {}.",
        num(seeds), dead_at("relu", lo), num(lo), dead_at("relu", hi), num(hi), num(hi),
        dead_at("leaky_relu", hi), dead_at("gelu", hi)));
    if (n(tour::kDeadRelu, dr::key::max_dead_frac("gelu")) > 0)
      add(fmt::format(
          "gelu's units counted dead had every input at x <= {}, where its float slope "
          "underflows to exactly 0 (slope-explorer); its slope is never 0 in exact arithmetic.",
          g6(n(tour::kExplorer, ex::key::zero_slope_float("gelu")))));
    add("");
    plot("final dead fraction against the learning rate", tour::kDeadRelu, "dead_vs_lr.svg",
         tour::run(tour::kDeadRelu).command());
    add("");
  }
  add("Born dead (Lu et al. 2019): the probability that a ReLU network of width N and depth H "
      "is constant at initialisation, by Monte Carlo, beside the bound 1-(1-2^-N)^H:");
  add("");
  add("| N | H | measured | bound |");
  add("|---|---|---|---|");
  for (int width : {2, 3, 4, 5, 10})
    for (int depth : {10, 20, 50}) {
      add(fmt::format("| {} | {} | {} | {} |", width, depth,
                      g3(n(tour::kDeadRelu, dr::key::born_dead(width, depth))),
                      g3(n(tour::kDeadRelu, dr::key::born_dead_bound(width, depth)))));
    }
  add("");
  plot("dead units over training", tour::kDeadRelu, "dead.svg",
       tour::run(tour::kDeadRelu).command());
  add("");
}

void Report::training_curves() {
  if (n.has(tour::kCurves)) {
    add("## Training curves");
    std::string line = "Final test accuracy (mean over seeds):";
    for (const std::string& a : demo::lesson_activations())
      line += fmt::format(" {} {} (± {}),", a, pct(n(tour::kCurves, cv::key::final_test_acc(a))),
                          pct(n(tour::kCurves, cv::key::final_test_acc_std(a))));
    line.back() = '.';
    add(line);
    add("");
    plot("training curves", tour::kCurves, "curves.svg", "slope-curves");
    add("");
  }
}

void Report::residual_blocks() {
  if (n.has(tour::kFfn)) {
    add("## Residual connections carry the gradient around every activation (GPT-2's FFN block)");
    const int d = 16;
    add(fmt::format(
        "In a plain sigmoid MLP of depth {} the first layer's gradient norm at step 0 is {} of "
        "the last layer's (over 1e4 times smaller: {}).",
        d, g3(n(tour::kFfn, ffn::key::ratio(ffn::kMlp, "sigmoid", d))),
        n(tour::kFfn, ffn::key::ratio(ffn::kMlp, "sigmoid", d)) < 1e-4 ? "yes" : "no"));
    std::string ratios;
    bool within = true;
    for (const std::string a : {"relu", "sigmoid", "tanh", "gelu", "gelu_tanh"}) {
      const double r = n(tour::kFfn, ffn::key::ratio(ffn::kResidual, a, d));
      within = within && r >= 0.1 && r <= 10;
      ratios += fmt::format("{}{} {}", ratios.empty() ? "" : ", ", a, g3(r));
    }
    add(fmt::format(
        "With {} pre-LN residual FFN blocks, x + proj(act(fc(layernorm(x)))), block 1's gradient "
        "norm over the last block's is {} (every activation within a factor of 10: {}).",
        d, ratios, within ? "yes" : "no"));
    std::string losses;
    for (const std::string a : {"gelu", "gelu_tanh", "relu"})
      losses += fmt::format(
          "{}{} {} ± {} (test accuracy {})", losses.empty() ? "" : ", ", a,
          fmt::format("{:.3f}", n(tour::kFfn, ffn::key::final_loss(ffn::kResidual, a, d))),
          fmt::format("{:.3f}", n(tour::kFfn, ffn::key::final_loss_std(ffn::kResidual, a, d))),
          pct(n(tour::kFfn, ffn::key::final_test_acc(ffn::kResidual, a, d))));
    add(fmt::format("Inside the block, the final training loss (mean ± std over seeds) is {}.",
                    losses));
    add("");
    plot("gradient norm per block and per layer", tour::kFfn, "grad_step0.svg", "slope-ffn");
    add("");
  }
}

void Report::title() {
  add("# slope: why activation functions matter, measured");
  add("");
  add("Every number below was measured by the demos of `make demo` in this run (their "
      "`summary.csv` files); plots are beside each claim. Rerun a demo to reproduce a "
      "number: the command is in each section.");
  add("");
}

void Report::gelu_in_gpt() {
  if (!n.has(tour::kGpt)) return;
  add("## GELU sits between c_fc and c_proj in every block of GPT-2");
  const double steps = n(tour::kGpt, gpt::key::kSteps), seeds = n(tour::kGpt, gpt::key::kSeeds);
  const double bigram = n(tour::kGpt, gpt::key::kBigram);
  add(fmt::format(
      "A character-level GPT built from slope's modules (`gpt/model.txt` marks the activation's "
      "place: `(act)` between `mlp.c_fc` and `mlp.c_proj` in each block), trained {} steps on "
      "the fortunes text with each activation in its MLPs, {} seed(s) each. Validation loss in "
      "nats per character against {:.3f} for a unigram and {:.3f} for a bigram model of the "
      "same text; the FFNs' dead fraction and the heads' attention entropy at the end:",
      num(steps), num(seeds), n(tour::kGpt, gpt::key::kUnigram), bigram));
  add("");
  add("| activation | validation loss | below the bigram | FFN dead fraction | attention entropy "
      "|");
  add("|---|---|---|---|---|");
  std::map<std::string, std::pair<double, double>> loss;  // mean, std
  for (const std::string& a : slope::activations()) {
    const auto v = n.maybe(tour::kGpt, gpt::key::final_val(a));
    if (!v) continue;
    loss[a] = {*v, n(tour::kGpt, gpt::key::final_val_std(a))};
    add(fmt::format("| {} | {:.4f} ± {:.4f} | {:+.4f} | {:.4f} | {:.3f} |", a, *v, loss[a].second,
                    bigram - *v, n(tour::kGpt, gpt::key::dead_frac(a)),
                    n(tour::kGpt, gpt::key::entropy(a))));
  }
  add("");
  bool all_beat = !loss.empty();
  for (const auto& [a, l] : loss) all_beat = all_beat && l.first < bigram;
  std::string claims =
      fmt::format("Every activation beats the bigram baseline: {}.", all_beat ? "yes" : "no");
  if (loss.count("gelu") && loss.count("relu"))
    claims += " " + gpt::gelu_against_relu(loss["relu"].first - loss["gelu"].first,
                                           std::max(loss["gelu"].second, loss["relu"].second),
                                           static_cast<int>(seeds));
  for (const char* a : {"sigmoid", "tanh"})
    if (loss.count(a) && loss.count("gelu"))
      claims += fmt::format(" {} inside the FFN ends {:+.4f} nats from gelu.", a,
                            loss[a].first - loss["gelu"].first);
  if (loss.count("gelu"))
    claims += fmt::format(
        " A gelu unit can read as dead only where its float slope underflows to 0, at x <= {}.",
        g6(n(tour::kExplorer, ex::key::zero_slope_float("gelu"))));
  add(claims + " Every claim with its numbers, a sample and the attention maps: `gpt/REPORT.md`.");
  add("");
  plot("validation loss against the baselines", tour::kGpt, "val_loss.svg",
       tour::run(tour::kGpt).command());
  add("");
}

int run(int argc, char** argv) {
  demo::Cli cli("report", "Writes REPORT.md from the summaries the demos of the tour wrote",
                std::nullopt);
  std::string in = "out";
  bool list_tour = false;
  cli.app()
      .add_option("--in", in, "Directory holding the demos' output directories")
      ->capture_default_str();
  cli.app().add_flag("--tour", list_tour,
                     "Print the tour's runs (name, demo, flags; a line each, tab-separated) and "
                     "exit: demos/run_demos.sh runs them");
  if (auto status = cli.parse(argc, argv)) return *status;
  if (list_tour) {
    fmt::print("{}", tour::listing());
    return 0;
  }
  Numbers n(in);
  // Plot links are relative to where REPORT.md goes.
  const std::string to_in = fs::relative(fs::absolute(in), fs::absolute(cli.out())).string();
  Report report(n, to_in == "." ? "" : to_in + "/");
  report.title();
  report.relu_hinge();
  report.relu_undamped();
  report.sigmoid_slope();
  report.sigmoid_stacks();
  report.tanh_centred();
  report.gelu_leaks();
  report.dead_relu();
  report.training_curves();
  report.residual_blocks();
  report.gelu_in_gpt();
  demo::write_file(cli.out() / "REPORT.md", report.markdown());
  fmt::print("slope-report: wrote {}\n", (cli.out() / "REPORT.md").string());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return demo::run_main([&] { return run(argc, argv); });
}
