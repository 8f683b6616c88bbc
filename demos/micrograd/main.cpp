// slope-micrograd: micrograd's moons demo (karpathy/micrograd, demo.ipynb) on slope's
// scalar engine. An MLP 2-16-16-1 learns two moons with the max-margin loss in 100
// full-batch SGD steps; the run writes the training curve, the decision boundary and
// the graph of one neuron.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <span>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/core.h>
#include <slope/slope.hpp>

#include "micrograd/micrograd.hpp"
#include "support/cli.hpp"
#include "support/output.hpp"
#include "support/plot.hpp"
#include "support/progress.hpp"
#include "support/summary.hpp"

namespace {

namespace demo = slope::demo;
namespace mg = slope::demo::micrograd;
using slope::Value;

void write_curves(const std::filesystem::path& dir, const mg::Config& config,
                  const std::vector<mg::StepResult>& results) {
  demo::CsvWriter csv(dir / "curves.csv",
                      {"activation", "depth", "seed", "step", "split", "loss", "accuracy"});
  for (const mg::StepResult& r : results)
    csv.row(config.activation, 2, config.seed, r.step, "train", r.loss, r.accuracy);
  csv.commit();
}

struct Box {
  double x_lo, x_hi, y_lo, y_hi;
};

// The data's bounding box plus a margin, on a 0.5 grid so the plot's axes are round.
Box box_around(const mg::Points& data) {
  Box b{INFINITY, -INFINITY, INFINITY, -INFINITY};
  for (const auto& p : data.x) {
    b.x_lo = std::min(b.x_lo, p[0]), b.x_hi = std::max(b.x_hi, p[0]);
    b.y_lo = std::min(b.y_lo, p[1]), b.y_hi = std::max(b.y_hi, p[1]);
  }
  auto down = [](double v) { return std::floor(2 * (v - 0.25)) / 2; };
  auto up = [](double v) { return std::ceil(2 * (v + 0.25)) / 2; };
  return {down(b.x_lo), up(b.x_hi), down(b.y_lo), up(b.y_hi)};
}

// The model's score at the centres of a grid of 0.025 x 0.025 cells (x1 varying
// fastest, as gnuplot's `with image` reads it) and at every data point.
void write_boundary(const std::filesystem::path& dir, const slope::scalar::MLP& model,
                    const mg::Points& data, const Box& box) {
  constexpr double kCell = 0.025;
  const auto nx = static_cast<int>(std::lround((box.x_hi - box.x_lo) / kCell));
  const auto ny = static_cast<int>(std::lround((box.y_hi - box.y_lo) / kCell));
  demo::CsvWriter grid(dir / "boundary.csv", {"x1", "x2", "score"});
  for (int j = 0; j < ny; ++j) {
    const double x2 = box.y_lo + (j + 0.5) * kCell;
    for (int i = 0; i < nx; ++i) {
      const double x1 = box.x_lo + (i + 0.5) * kCell;
      grid.row(x1, x2, mg::score(model, x1, x2));
    }
  }
  grid.commit();

  demo::CsvWriter points(dir / "points.csv", {"x1", "x2", "label", "score"});
  for (std::size_t i = 0; i < data.x.size(); ++i)
    points.row(data.x[i][0], data.x[i][1], static_cast<int>(data.y[i]),
               mg::score(model, data.x[i][0], data.x[i][1]));
  points.commit();
}

void plot_boundary(const std::filesystem::path& dir, const mg::Config& config, const Box& box,
                   double accuracy) {
  demo::gnuplot(
      dir, "boundary",
      fmt::format(
          "  set title \"micrograd moons: MLP 2-16-16-1 ({}), seed {}, {} steps, train accuracy "
          "{:.0f}%\" noenhanced\n"
          "  set xlabel \"x1\"\n"
          "  set ylabel \"x2\"\n"
          "  set size ratio -1\n"
          "  set xrange [{}:{}]\n"
          "  set yrange [{}:{}]\n"
          "  set cbrange [-2:2]\n"
          "  set cblabel \"model score (sign = predicted class)\"\n"
          "  # red below 0, blue above, with a visible edge at the decision boundary\n"
          "  set palette defined (-2 \"#d6604d\", -0.001 \"#fbe3d6\", 0 \"#d9eaf5\", 2 "
          "\"#4393c3\")\n"
          "  set key bottom right opaque box\n"
          "  plot \"boundary.csv\" skip 1 using 1:2:3 with image notitle, \\\n"
          "       \"points.csv\" skip 1 using 1:($3 < 0 ? $2 : NaN) with points pt 7 ps 1.2 "
          "lc rgb \"#b2182b\" title \"y = -1\", \\\n"
          "       \"points.csv\" skip 1 using 1:($3 > 0 ? $2 : NaN) with points pt 7 ps 1.2 "
          "lc rgb \"#2166ac\" title \"y = +1\", \\\n"
          "       \"points.csv\" skip 1 using 1:2 with points pt 6 ps 1.2 lc rgb \"black\" "
          "notitle\n",
          config.activation, config.seed, config.steps, 100 * accuracy, box.x_lo, box.x_hi,
          box.y_lo, box.y_hi));
}

void plot_curves(const std::filesystem::path& dir, const mg::Config& config) {
  demo::gnuplot(
      dir, "curves",
      fmt::format("  set title \"micrograd moons: training curve ({}, seed {})\" noenhanced\n"
                  "  set xlabel \"step\"\n"
                  "  set ylabel \"loss (max-margin + 1e-4 L2; log scale)\"\n"
                  "  set logscale y\n"
                  "  set y2label \"train accuracy\"\n"
                  "  set y2range [0:1.05]\n"
                  "  set ytics nomirror\n"
                  "  set y2tics 0.25\n"
                  "  set grid\n"
                  "  set key center right\n"
                  "  plot \"curves.csv\" skip 1 using 4:6 with lines lw 2 lc rgb \"#d6604d\" "
                  "title \"loss\", \\\n"
                  "       \"curves.csv\" skip 1 using 4:7 axes x1y2 with lines lw 2 dt 2 "
                  "lc rgb \"#2166ac\" title \"accuracy\"\n",
                  config.activation, config.seed));
}

// One fresh neuron act(w1 x1 + w2 x2 + b) on the first data point, after backward.
void write_neuron(const std::filesystem::path& dir, const mg::Config& config,
                  const mg::Points& data) {
  slope::Rng rng(config.seed);
  const slope::scalar::Neuron neuron(2, rng, config.activation);
  const Value x1 = data.x[0][0], x2 = data.x[0][1];
  const Value out = neuron({x1, x2});
  out.backward();
  std::ostringstream dot;
  slope::write_dot(dot, out,
                   {{x1, "x1"},
                    {x2, "x2"},
                    {neuron.w[0], "w1"},
                    {neuron.w[1], "w2"},
                    {neuron.b, "b"},
                    {out, "out"}});
  demo::write_file(dir / "neuron.dot", dot.str());
  demo::render_dot(dir, "neuron");
}

// Trains on the scalar engine, a progress line per step; a run that diverges still writes
// curves.csv up to the step before.
std::vector<mg::StepResult> train_logged(slope::scalar::MLP& model, const mg::Points& data,
                                         const mg::Config& config,
                                         const std::filesystem::path& dir) {
  std::vector<mg::StepResult> results;
  try {
    demo::Progress progress("training", config.steps);
    mg::train(model, data, config.steps, [&](const mg::StepResult& r) {
      results.push_back(r);
      if (r.step == config.steps) return;  // the final evaluation is reported below
      progress.print(
          fmt::format("step {} loss {:.4g} accuracy {:.0f}%", r.step, r.loss, 100 * r.accuracy));
      progress.update(r.step + 1);
    });
  } catch (const mg::Diverged&) {
    write_curves(dir, config, results);  // the steps before it, for a look at the blow-up
    fmt::print("wrote {}/curves.csv: the {} step{} before the divergence\n", dir.string(),
               results.size(), results.size() == 1 ? "" : "s");
    throw;
  }
  return results;
}

int run(int argc, char** argv) {
  mg::Config config;
  demo::Cli cli("micrograd",
                "micrograd's moons demo on slope's scalar engine: an MLP 2-16-16-1 trained "
                "with the max-margin loss, full-batch SGD",
                mg::kDefaultSeed);
  cli.add_activation(config.activation);
  cli.app()
      .add_option("--steps", config.steps,
                  "Full-batch SGD steps (lr = 1.0 - 0.9 k / steps; 0: the untrained network only)")
      ->capture_default_str()
      ->check(CLI::Range(std::size_t{0}, std::size_t{1000000}));
  if (auto status = cli.parse(argc, argv)) return *status;
  config.seed = cli.seed();
  const std::filesystem::path& dir = cli.out();

  auto [data, model] = mg::make_setup(config);
  fmt::print(
      "slope-micrograd: {} moons (noise {}), MLP 2-16-16-1 with {}, {} parameters, seed {}\n",
      data.x.size(), config.noise, config.activation, model.parameters().size(), config.seed);
  const std::vector<mg::StepResult> results = train_logged(model, data, config, dir);
  const mg::StepResult& last = results.back();

  std::vector<double> losses;
  for (const mg::StepResult& r : results) losses.push_back(r.loss);
  fmt::print("\n{}", demo::ascii_plot(losses, "loss by step"));

  write_curves(dir, config, results);
  const Box box = box_around(data);
  write_boundary(dir, model, data, box);
  plot_boundary(dir, config, box, last.accuracy);
  plot_curves(dir, config);
  write_neuron(dir, config, data);
  demo::Summary summary;  // for out/REPORT.md
  summary.set(mg::key::final_accuracy(config.activation), last.accuracy);
  summary.set(mg::key::final_loss(config.activation), last.loss);
  summary.set(mg::key::kSteps, static_cast<double>(config.steps));
  summary.write(dir);

  fmt::print("\nfinal (after {} step{}): loss {:.4g} accuracy {:.0f}%\n", config.steps,
             config.steps == 1 ? "" : "s", last.loss, 100 * last.accuracy);
  fmt::print(
      "wrote {}/: curves.csv boundary.csv points.csv, boundary.svg|png curves.svg|png "
      "(with their .gnuplot scripts), neuron.dot|svg, summary.csv\n",
      dir.string());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return demo::run_main([&] { return run(argc, argv); });
}
