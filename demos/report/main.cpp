// slope-report: reads the summary.csv every demo of the tour wrote and writes
// REPORT.md, one sentence per claim of the lesson, each with the number the run just
// measured and the plot beside it. `make demo` runs it last.
#include <cmath>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "explorer/explorer.hpp"
#include "curves/curves.hpp"
#include "dead_relu/dead_relu.hpp"
#include "ffn/ffn.hpp"
#include "micrograd/micrograd.hpp"
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
namespace ex = slope::demo::explorer;
namespace mg = slope::demo::micrograd;

// The summaries of the tour, by demo directory name; a missing number is an error
// that names the file and key, so a demo that stops measuring breaks `make demo`.
class Numbers {
 public:
  explicit Numbers(fs::path root) : root_(std::move(root)) {}
  double operator()(const std::string& demo, const std::string& key) {
    auto it = cache_.find(demo);
    if (it == cache_.end()) it = cache_.emplace(demo, demo::Summary::read(root_ / demo)).first;
    const auto& v = it->second.values();
    const auto k = v.find(key);
    if (k == v.end())
      throw demo::UsageError((root_ / demo / "summary.csv").string() + ": no key '" + key +
                             "' (rerun the demo)");
    return k->second;
  }
  bool has(const std::string& demo) const { return fs::exists(root_ / demo / "summary.csv"); }
  // A number a demo writes only when it measured it (a mean over runs that all diverged).
  std::optional<double> maybe(const std::string& demo, const std::string& key) {
    try {
      return (*this)(demo, key);
    } catch (const demo::UsageError&) {
      if (!has(demo)) throw;
      return std::nullopt;
    }
  }

 private:
  fs::path root_;
  std::map<std::string, demo::Summary> cache_;
};

// Shortest round-trip digits, so 0.25^8 prints as 1.52587890625e-05.
std::string num(double x) { return fmt::format("{}", std::abs(x) < 1e-300 ? 0.0 : x); }
std::string g3(double x) { return fmt::format("{:.3g}", x); }
std::string pct(double x) { return fmt::format("{:.0f}%", 100 * x); }

int run(int argc, char** argv) {
  demo::Cli cli("report", "Writes REPORT.md from the summaries the demos of the tour wrote",
                std::nullopt);
  std::string in = "out";
  cli.app()
      .add_option("--in", in, "Directory holding the demos' output directories")
      ->capture_default_str();
  if (auto status = cli.parse(argc, argv)) return *status;
  Numbers n(in);
  // Plot links are relative to where REPORT.md goes.
  const std::string to_in = fs::relative(fs::absolute(in), fs::absolute(cli.out())).string();
  const std::string at = to_in == "." ? "" : to_in + "/";
  const std::string init_x = "xavier_uniform", init_he = "kaiming_normal";
  std::string md;
  auto add = [&](const std::string& s) { md += s + "\n"; };

  add("# slope: why activation functions matter, measured");
  add("");
  add("Every number below was measured by the demos of `make demo` in this run (their "
      "`summary.csv` files); plots are beside each claim. Rerun a demo to reproduce a "
      "number: the command is in each section.");
  add("");

  // 1. ReLU is a hinge.
  add("## ReLU is a hinge");
  add(fmt::format(
      "A neuron relu({} x + {}) folds at x = -b/w = {}; the explorer, sampling its slope, "
      "found the kink at x = {}, with slope {} to its left and {} to its right.",
      num(n("explorer", ex::key::kKinkWeight)), num(n("explorer", ex::key::kKinkBias)),
      num(n("explorer", ex::key::kKinkXFormula)), num(n("explorer", ex::key::kKinkXMeasured)),
      num(n("explorer", ex::key::kKinkSlopeLeft)),
      num(n("explorer", ex::key::kKinkSlopeRight))));
  add("");
  add("![relu hinge](" + at + "explorer/hinge.svg)  `slope-explorer --weight 2 --bias 1`");
  add("");

  // 2. ReLU passes gradients undamped.
  add("## ReLU's slope is exactly 0 or 1, so gradients pass active units undamped");
  add(fmt::format(
      "In a depth-8 ReLU MLP under He init the per-layer weight-gradient norms at step 0 span "
      "a factor of {} (layer 1 over the last layer: {}); the same stack with sigmoid spans {}.",
      g3(n("vanishing", van::key::spread(init_he, "relu", 8))),
      g3(n("vanishing", van::key::ratio(init_he, "relu", 8))),
      g3(n("vanishing", van::key::spread(init_x, "sigmoid", 8)))));
  add("");
  add("![gradient norms per layer, He init](" + at + "vanishing/" + init_he +
      "/grad_step0.svg)  `slope-vanishing`");
  add("");

  // 3. sigmoid's slope is at most 0.25.
  add("## sigmoid squashes into (0, 1) and its slope never exceeds 0.25");
  add(fmt::format(
      "Scanning the catalogue on a grid of step 0.001 over [-10, 10]: sigmoid's largest slope "
      "is {} at x = {} (its values span [{}, {}] on [-6, 6]); tanh's is {} at x = {}; relu's "
      "is {} (first reached at x = {}); gelu's is {} at x = {}.",
      num(n("explorer", ex::key::max_slope("sigmoid"))),
      num(n("explorer", ex::key::max_slope_at("sigmoid"))),
      g3(n("explorer", ex::key::range_min("sigmoid"))),
      g3(n("explorer", ex::key::range_max("sigmoid"))),
      num(n("explorer", ex::key::max_slope("tanh"))),
      num(n("explorer", ex::key::max_slope_at("tanh"))),
      num(n("explorer", ex::key::max_slope("relu"))),
      num(n("explorer", ex::key::max_slope_at("relu"))),
      g3(n("explorer", ex::key::max_slope("gelu"))),
      g3(n("explorer", ex::key::max_slope_at("gelu")))));
  add("");
  add("![sigmoid and its slope](" + at +
      "explorer/activation_sigmoid.svg)  `slope-explorer`");
  add("");

  // 4. Deep sigmoid stacks vanish.
  add("## Deep sigmoid stacks stop learning: the gradient shrinks by up to 0.25 per layer");
  add(fmt::format(
      "The product of 8 measured maximum sigmoid slopes is {} (0.25^8 = {}). In a sigmoid MLP "
      "under Xavier init, layer 1's gradient norm at step 0 is {} of the last layer's at depth "
      "8 (bound 0.25^(L-1) = {}), while relu's is {}; after training, sigmoid reaches {} test "
      "accuracy against relu's {}.",
      num(n("explorer", ex::key::sigmoid_product(8))), num(n("explorer", ex::key::bound(8))),
      g3(n("vanishing", van::key::ratio(init_x, "sigmoid", 8))),
      g3(n("vanishing", van::key::bound(8))),
      g3(n("vanishing", van::key::ratio(init_x, "relu", 8))),
      pct(n("vanishing", van::key::test_acc(init_x, "sigmoid", 8))),
      pct(n("vanishing", van::key::test_acc(init_x, "relu", 8)))));
  add(fmt::format(
      "Deeper, at step 0: sigmoid's ratio is {} at depth 16 (bound {}) and {} at depth 32 "
      "(bound {}), while relu under He init keeps every layer within a factor of {} and {}.",
      g3(n("vanishing-deep", van::key::ratio(init_x, "sigmoid", 16))),
      g3(n("vanishing-deep", van::key::bound(16))),
      g3(n("vanishing-deep", van::key::ratio(init_x, "sigmoid", 32))),
      g3(n("vanishing-deep", van::key::bound(32))),
      g3(n("vanishing-deep", van::key::spread(init_he, "relu", 16))),
      g3(n("vanishing-deep", van::key::spread(init_he, "relu", 32)))));
  add("");
  add("![gradient norms per layer, Xavier init](" + at + "vanishing/" + init_x +
      "/grad_step0.svg)  `slope-vanishing --depth 8,16,32 --steps 0`");
  add("");
  if (n.has("vanishing-glorot")) {
    auto top = [&](const std::string& what) {
      return n("vanishing-glorot", van::key::top_mean(what, "pytorch", "sigmoid", 4));
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
    add("![mean activation and saturation per layer through training](" + at +
        "vanishing-glorot/pytorch/saturation.svg)  `slope-vanishing --depth 4 --act "
        "sigmoid,tanh --init pytorch --lr 4 --steps 1000 --probe-every 10`");
    add("");
  }

  // 5. tanh.
  add("## tanh is zero-centred, with range (-1, 1) and slope 1 at 0: micrograd's choice");
  add(fmt::format(
      "tanh(0) = {} and tanh'(0) = {}; on [-6, 6] its values span [{}, {}] (sigmoid(0) = {}: "
      "not centred). micrograd's moons demo reached {} training accuracy with tanh and {} with "
      "relu after {} steps.",
      num(n("explorer", ex::key::value_at_0("tanh"))),
      num(n("explorer", ex::key::slope_at_0("tanh"))),
      g3(n("explorer", ex::key::range_min("tanh"))),
      g3(n("explorer", ex::key::range_max("tanh"))),
      num(n("explorer", ex::key::value_at_0("sigmoid"))),
      pct(n("micrograd-tanh", mg::key::final_accuracy("tanh"))),
      pct(n("micrograd", mg::key::final_accuracy("relu"))), num(n("micrograd", mg::key::kSteps))));
  add("");
  add("![micrograd decision boundary, tanh](" + at +
      "micrograd-tanh/boundary.svg)  "
      "`slope-micrograd --act tanh`");
  add("");

  // 6. GELU.
  add("## GELU is a smooth ReLU that leaks a sliver of gradient for x < 0");
  add(fmt::format(
      "gelu(-1) = {} and gelu'(-1) = {}, not 0; its minimum is {} at x = {}. Under the dead-ReLU "
      "demo's settings GELU's largest dead fraction was {} (relu's: {}).",
      g3(n("explorer", ex::key::value_at_minus_1("gelu"))),
      g3(n("explorer", ex::key::slope_at_minus_1("gelu"))),
      g3(n("explorer", ex::key::min_value("gelu"))),
      g3(n("explorer", ex::key::min_at("gelu"))),
      num(n("dead-relu", dr::key::max_dead_frac("gelu"))),
      g3(n("dead-relu", dr::key::max_dead_frac("relu")))));
  add("");
  add("![gelu and its slope](" + at +
      "explorer/activation_gelu.svg)  `slope-explorer --act gelu`");
  add("");

  // 7. Dead ReLU.
  add("## A ReLU unit that is negative for every example never learns again");
  add(fmt::format(
      "Under plain SGD, ReLU's hidden units died (largest dead fraction {}); dead units of "
      "layer 1 revived {} times and received a total |dL/dW| of {} while dead, while deeper "
      "layers revived {} times. Under the same settings leaky_relu's largest dead fraction was "
      "{} and gelu's {}.",
      g3(n("dead-relu", dr::key::max_dead_frac("relu"))),
      num(n("dead-relu", dr::key::layer1_revivals("relu"))),
      num(n("dead-relu", dr::key::layer1_dead_grad_abs_sum("relu"))),
      num(n("dead-relu", dr::key::deeper_revivals("relu"))),
      num(n("dead-relu", dr::key::max_dead_frac("leaky_relu"))),
      num(n("dead-relu", dr::key::max_dead_frac("gelu")))));
  add("");
  {
    const double lo = n("dead-relu", dr::key::kSweepLrMin),
                 hi = n("dead-relu", dr::key::kSweepLrMax);
    const double seeds = n("dead-relu", dr::key::kSweepSeeds);
    auto dead_at = [&](const std::string& a, double lr) {
      const auto m = n.maybe("dead-relu", dr::key::sweep_dead_mean(a, lr));
      const double diverged = n("dead-relu", dr::key::sweep_diverged(a, lr));
      std::string text = m ? pct(*m) : "(every run diverged)";
      if (m && seeds > 1) text += " ± " + pct(n("dead-relu", dr::key::sweep_dead_std(a, lr)));
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
    add("");
    add("![final dead fraction against the learning rate](" + at +
        "dead-relu/dead_vs_lr.svg)  `slope-dead-relu`");
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
                      g3(n("dead-relu", dr::key::born_dead(width, depth))),
                      g3(n("dead-relu", dr::key::born_dead_bound(width, depth)))));
    }
  add("");
  add("![dead units over training](" + at + "dead-relu/dead.svg)  `slope-dead-relu`");
  add("");

  // Training curves.
  if (n.has("curves")) {
    add("## Training curves");
    std::string line = "Final test accuracy (mean over seeds):";
    for (const std::string& a : demo::lesson_activations())
      line += fmt::format(" {} {} (± {}),", a, pct(n("curves", cv::key::final_test_acc(a))),
                          pct(n("curves", cv::key::final_test_acc_std(a))));
    line.back() = '.';
    add(line);
    add("");
    add("![training curves](" + at + "curves/curves.svg)  `slope-curves`");
    add("");
  }

  // The next lesson's block.
  if (n.has("ffn")) {
    add("## Residual connections carry the gradient around every activation (GPT-2's FFN block)");
    const int d = 16;
    add(fmt::format(
        "In a plain sigmoid MLP of depth {} the first layer's gradient norm at step 0 is {} of "
        "the last layer's (over 1e4 times smaller: {}).",
        d, g3(n("ffn", ffn::key::ratio(ffn::kMlp, "sigmoid", d))),
        n("ffn", ffn::key::ratio(ffn::kMlp, "sigmoid", d)) < 1e-4 ? "yes" : "no"));
    std::string ratios;
    bool within = true;
    for (const std::string a : {"relu", "sigmoid", "tanh", "gelu", "gelu_tanh"}) {
      const double r = n("ffn", ffn::key::ratio(ffn::kResidual, a, d));
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
          fmt::format("{:.3f}", n("ffn", ffn::key::final_loss(ffn::kResidual, a, d))),
          fmt::format("{:.3f}", n("ffn", ffn::key::final_loss_std(ffn::kResidual, a, d))),
          pct(n("ffn", ffn::key::final_test_acc(ffn::kResidual, a, d))));
    add(fmt::format("Inside the block, the final training loss (mean ± std over seeds) is {}.",
                    losses));
    add("");
    add("![gradient norm per block and per layer](" + at + "ffn/grad_step0.svg)  `slope-ffn`");
    add("");
  }

  demo::write_file(cli.out() / "REPORT.md", md);
  fmt::print("slope-report: wrote {}\n", (cli.out() / "REPORT.md").string());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return demo::run_main([&] { return run(argc, argv); });
}
