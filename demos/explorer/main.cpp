// slope-explorer: the activation explorer. For each registered activation, f and f'
// at a few points, its range and job, and its maximum slope found numerically; the
// hinge of a ReLU neuron relu(w x + b); the lesson's two exercises worked; and the
// 0.25^L bound of a sigmoid stack beside the product of measured maximum slopes.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <fmt/core.h>
#include <slope/activations.hpp>

#include "explorer/explorer.hpp"
#include "support/cli.hpp"
#include "support/model.hpp"
#include "support/output.hpp"
#include "support/palette.hpp"
#include "support/plot.hpp"
#include "support/summary.hpp"

namespace {

namespace demo = slope::demo;
namespace ex = slope::demo::explorer;
namespace act = slope::act;

// Short numbers for the terminal ("0.25", "-0.1700", "1e-05").
std::string g(double x) { return fmt::format("{:.6g}", x + 0.0); }

// "2 x + 1", "-0.5 x - 4": the neuron's pre-activation as a reader writes it.
std::string affine(double w, double b) {
  return fmt::format("{} x {} {}", g(w), b < 0 ? "-" : "+", g(std::abs(b)));
}

// One line on where the slope peaks, from the measured peak.
std::string describe_peak(std::string_view name, const act::MaxSlope& p) {
  if (p.at_edge)
    return fmt::format(
        "{}: max slope {} at x = {}, the edge of the scanned grid: the slope is "
        "still rising there and only approaches its supremum",
        name, g(p.slope), g(p.at));
  if (p.at != p.last_at)
    return fmt::format("{}: max slope {} for x from {} to {} (a plateau; first grid point x = {})",
                       name, g(p.slope), g(p.at), g(p.last_at), g(p.at));
  return fmt::format("{}: max slope {} at x = {}", name, g(p.slope), g(p.at));
}

// Where the slope, as the kernels compute it, is exactly 0.
std::string describe_zero_slope(const act::Entry& e) {
  const act::ZeroSlope &f = act::zero_slope<float>(e.id), &d = act::zero_slope<double>(e.id);
  if (!f.below && !f.above && !d.below && !d.above)
    return fmt::format("slope never exactly 0 on [-{0}, {0}], in float or double", g(f.range));
  return fmt::format("slope exactly 0, as training computes it: in float {}; in double {}",
                     demo::describe_zero_slope(f), demo::describe_zero_slope(d));
}

void print_table(const act::Entry& e, const act::MaxSlope& peak) {
  const act::Info& info = e.info;
  const ex::Extremes r = ex::extremes(e);
  fmt::print("\n{}  f(x) = {}\n", info.name, info.formula);
  fmt::print("  range {} (on [-6, 6]: {} .. {}), zero-centred: {}, kink: {}\n", info.range,
             g(r.min_value), g(r.max_value), info.zero_centred ? "yes" : "no", info.kink);
  fmt::print("  job: {}\n", info.job);
  std::string xs = "        x", fs = "     f(x)", ds = "    f'(x)";
  for (double x : ex::table_xs()) {
    xs += fmt::format(" {:>8}", g(x));
    fs += fmt::format(" {:>8.4f}", e.value(x) + 0.0);
    ds += fmt::format(" {:>8.4f}", e.slope(x) + 0.0);
  }
  fmt::print("{}\n{}\n{}\n", xs, fs, ds);
  fmt::print("  {}\n", describe_peak("measured", peak));
  fmt::print("  {}\n", describe_zero_slope(e));
}

void write_activations_csv(const std::filesystem::path& dir,
                           const std::vector<const act::Entry*>& chosen) {
  demo::CsvWriter csv(dir / "activations.csv", {"activation", "x", "value", "slope"});
  for (const act::Entry* e : chosen)
    for (int i = 0; i < ex::kGridPoints; ++i) {
      const double x = ex::grid_x(i);
      csv.row(e->info.name, x, e->value(x), e->slope(x));
    }
  csv.commit();
}

// The plot commands for the activation in block `block` of activations.csv (its rows are
// written one activation after another): f bold, f' faint. `every` reads only that
// block, which keeps gnuplot quick; the name check guards against a reordered file.
std::string curve_commands(std::string_view name, std::size_t block, bool titles) {
  const std::string_view colour = demo::colour_of(name);
  const std::size_t first = block * ex::kGridPoints, last = first + ex::kGridPoints - 1;
  return fmt::format(
      "plot \"activations.csv\" skip 1 every ::{1}::{2} using 2:(strcol(1) eq \"{0}\" ? $3 : "
      "NaN) with lines lw 4 lc rgb \"{5}\" {3}, \\\n"
      "       \"activations.csv\" skip 1 every ::{1}::{2} using 2:(strcol(1) eq \"{0}\" ? $4 : "
      "NaN) with lines lw 2 lc rgb \"#90{6}\" {4}\n",
      name, first, last, titles ? "title \"f(x)\"" : "notitle",
      titles ? "title \"slope f'(x)\"" : "notitle", colour,
      colour.substr(1));  // the slope: the same colour, faint (alpha 0x90 of 0xff transparent)
}

// Axes through the origin, as the lesson's interactive widget draws them.
// Axes through the origin, as the widget draws them; the x axis leaves its "0" to the y
// axis, so the two labels do not collide at the origin.
constexpr const char* kWidgetAxes =
    "  set border 0\n"
    "  set xtics axis nomirror\n"
    "  set xtics add (\"\" 0)\n"
    "  set ytics axis nomirror\n"
    "  set xlabel \"x\" offset graph 0.45, 0\n"  // at the right, clear of the y axis' ticks
    "  set ylabel \"f(x) and slope f'(x)\"\n"
    "  set zeroaxis lt 1 lw 1 lc rgb \"#555555\"\n"
    "  set grid lc rgb \"#eeeeee\"\n"
    "  set xrange [-6:6]\n"
    "  set offsets 0, 0, 0.15, 0.15\n";

void plot_activation(const std::filesystem::path& dir, const act::Entry& e, std::size_t block,
                     const act::MaxSlope& peak) {
  demo::gnuplot(dir, fmt::format("activation_{}", e.info.name),
                fmt::format("  set title \"{}: f(x) = {}   (max slope {} at x = {})\" noenhanced\n"
                            "{}"
                            "  set key top left opaque box\n"
                            "  {}",
                            e.info.name, e.info.formula, g(peak.slope), g(peak.at), kWidgetAxes,
                            curve_commands(e.info.name, block, true)),
                720, 480);
}

// Small panels: ticks on the left and bottom border (tick labels at the origin collide
// at this size), the axes through the origin drawn as lines, axis labels only on the
// outer panels.
void plot_overview(const std::filesystem::path& dir, const std::vector<const act::Entry*>& chosen) {
  const int cols = std::min<int>(4, static_cast<int>(chosen.size()));
  const int rows = (static_cast<int>(chosen.size()) + cols - 1) / cols;
  std::string body = fmt::format(
      "  set multiplot layout {},{} title \"each activation (bold) and its slope "
      "(faint, same colour)\"\n"
      "  set border 3\n  set xtics nomirror 2\n  set ytics nomirror\n"
      "  set zeroaxis lt 1 lw 1 lc rgb \"#999999\"\n  set grid lc rgb \"#eeeeee\"\n"
      "  set xrange [-6:6]\n  set offsets 0, 0, 0.15, 0.15\n",
      rows, cols);
  for (std::size_t k = 0; k < chosen.size(); ++k) {
    const bool left = k % static_cast<std::size_t>(cols) == 0;
    const bool bottom = k + static_cast<std::size_t>(cols) >= chosen.size();
    body += fmt::format("  set title \"{}\" noenhanced\n  {}\n  {}\n  {}", chosen[k]->info.name,
                        left ? "set ylabel \"f(x), f'(x)\"" : "unset ylabel",
                        bottom ? "set xlabel \"x\"" : "unset xlabel",
                        curve_commands(chosen[k]->info.name, k, false));
  }
  body += "  unset multiplot\n";
  demo::gnuplot(dir, "activations", body, 300 * cols, 260 * rows + 40);
}

// The hinge of relu(w x + b): the kink from the formula and as measured, a table around
// it, hinge.csv and hinge.svg|png. Returns the measured kink (nullopt for w = 0).
std::optional<ex::Kink> show_hinge(const std::filesystem::path& dir, const ex::Neuron& n) {
  fmt::print("\nthe ReLU hinge of one neuron relu({})\n", affine(n.weight, n.bias));
  const std::optional<ex::Kink> kink = ex::locate_kink(n);
  if (n.weight == 0.0) {
    fmt::print(
        "  w = 0: relu({}) = relu({}) = {} for every x, a constant with slope 0 "
        "everywhere; there is no kink to find (try --weight 2)\n",
        affine(n.weight, n.bias), g(n.bias), g(n.value(0.0)));
  } else if (!kink) {
    fmt::print(
        "  the kink -b/w = {} lies beyond |x| < 1e15, where no grid reaches; no kink "
        "measured\n",
        g(-n.bias / n.weight));
  } else {
    fmt::print("  formula:  the kink is where w x + b = 0, at x = -b/w = {}\n",
               g(-n.bias / n.weight + 0.0));
    fmt::print(
        "  measured: the sampled slope changes from {} to {} between grid points x = {} and "
        "x = {} (grid step {}); the active side's samples extrapolate to zero at x = {}\n",
        g(kink->slope_left), g(kink->slope_right), g(kink->left), g(kink->right),
        g(2 * kink->range / 1200), g(kink->x));
    fmt::print("  {:>10} {:>12} {:>14} {:>10}\n", "x", "w x + b", "relu(w x + b)", "slope");
    // x to two decimals whatever its size: the rows step by 0.01 near a kink at 333333.33.
    const double big = std::max(1.0, std::abs(kink->x) + 1);
    const int digits = std::max(4, static_cast<int>(std::floor(std::log10(big))) + 3);
    for (double d : {-1.0, -0.5, -0.1, -0.01, 0.0, 0.01, 0.1, 0.5, 1.0}) {
      const double x = kink->x + d;
      fmt::print("  {:>10} {:>12} {:>14} {:>10}{}\n", fmt::format("{:.{}g}", x, digits),
                 g(n.weight * x + n.bias), g(n.value(x)), g(n.slope(x)),
                 d == 0.0 ? "   <- kink (slope convention relu'(0) = 0)" : "");
    }
  }

  // The plotted window: the grid that found the kink, or [-6, 6] without one.
  const double range = kink ? kink->range : 6.0;
  demo::CsvWriter csv(dir / "hinge.csv", {"x", "value", "slope"});
  std::vector<double> values;
  double lo = 0, hi = 0;  // of value and slope, so the y axis always shows 0
  for (int i = 0; i <= 1200; ++i) {
    const double x = ex::kink_grid_x(i, range);
    csv.row(x, n.value(x), n.slope(x));
    lo = std::min({lo, n.value(x), n.slope(x)});
    hi = std::max({hi, n.value(x), n.slope(x)});
    if (i % 20 == 0) values.push_back(n.value(x));
  }
  csv.commit();
  const double pad = hi > lo ? 0.08 * (hi - lo) : 1.0;  // a constant neuron still gets a y range
  fmt::print("\n{}", demo::ascii_plot(values,
                                      fmt::format("relu({}) for x from {} to {}",
                                                  affine(n.weight, n.bias), g(-range), g(range)),
                                      64, 12, -range, range));

  std::string marks;
  if (kink)
    marks = fmt::format(
        "  set arrow from {0}, graph 0 to {0}, graph 1 nohead dt 2 lw 1.5 lc rgb \"#b2182b\"\n"
        "  set label \"kink at x = {1}\" at {0}, graph 0.6 {2} offset {3},0 tc rgb \"#b2182b\"\n",
        demo::format_number(kink->x), g(kink->x), kink->x < 0 ? "right" : "left",
        kink->x < 0 ? -1 : 1);
  demo::gnuplot(
      dir, "hinge",
      fmt::format("  set title \"the hinge of one ReLU neuron: relu({})\" "
                  "noenhanced\n"
                  "  set border 0\n"
                  "  set xtics axis nomirror\n"
                  "  set ytics axis nomirror\n"
                  "  set zeroaxis lt 1 lw 1 lc rgb \"#555555\"\n"
                  "  set grid lc rgb \"#eeeeee\"\n"
                  "  set xrange [{}:{}]\n"
                  "  set yrange [{}:{}]\n"
                  "  set key top left opaque box\n"
                  "  set xlabel \"x\"\n"
                  "  set ylabel \"relu(w x + b) and its slope\"\n"
                  "{}"
                  "  plot \"hinge.csv\" skip 1 using 1:2 with lines lw 4 lc rgb "
                  "\"#2166ac\" title \"relu(w x + b)\", \\\n"
                  "       \"hinge.csv\" skip 1 using 1:3 with lines lw 2 lc rgb "
                  "\"#f4a582\" title \"slope w relu'(w x + b)\"{}\n",
                  affine(n.weight, n.bias), demo::format_number(-range), demo::format_number(range),
                  demo::format_number(lo - pad), demo::format_number(hi + pad), marks,
                  kink ? fmt::format(", \\\n       \"+\" using ({}):(0) every ::0::0 "
                                     "with points pt 7 ps 1.5 lc rgb \"#b2182b\" "
                                     "title \"kink\"",
                                     demo::format_number(kink->x))
                       : std::string()),
      720, 480);
  return kink;
}

void show_exercises(double x) {
  const act::Entry& relu = act::get("relu");
  const act::Entry& sigmoid = act::get("sigmoid");
  fmt::print("\nexercise 1: relu(x) by hand at x = {}\n", g(x));
  fmt::print("  relu({0}) = max(0, {0}) = {1}    catalogue: relu({0}) = {2}, relu'({0}) = {3}\n",
             g(x), g(std::max(0.0, x)), g(relu.value(x)), g(relu.slope(x)));
  const ex::SigmoidSteps s = ex::sigmoid_by_hand(x);
  fmt::print("exercise 2: sigmoid(x) = 1 / (1 + e^-x) by hand at x = {}\n", g(x));
  fmt::print("  e^-x           = e^{} = {}\n", g(-x), fmt::format("{:.8g}", s.exp_neg_x));
  fmt::print("  1 + e^-x       = {:.8g}\n", s.denominator);
  fmt::print(
      "  1 / (1 + e^-x) = {:.8g}    catalogue: sigmoid({}) = {:.8g}, slope s (1 - s) = "
      "{:.8g}\n",
      s.value, g(x), sigmoid.value(x), sigmoid.slope(x));
}

std::vector<ex::BoundRow> show_bound(const std::filesystem::path& dir) {
  const std::vector<ex::BoundRow> rows = ex::vanishing_bound(32);
  demo::CsvWriter csv(dir / "vanishing_bound.csv", {"layers", "bound", "measured_product"});
  for (const ex::BoundRow& r : rows) csv.row(r.layers, r.bound, r.measured_product);
  csv.commit();
  fmt::print(
      "\nthe vanishing bound: through L sigmoid layers the gradient shrinks by at most the "
      "product of L maximum slopes\n");
  fmt::print("  {:>3} {:>14} {:>22}    {:>3} {:>14} {:>22}\n", "L", "0.25^L", "product of measured",
             "L", "0.25^L", "product of measured");
  for (std::size_t i = 0; i < 16; ++i) {
    const ex::BoundRow &a = rows[i], &b = rows[i + 16];
    fmt::print("  {:>3} {:>14.6e} {:>22.6e}    {:>3} {:>14.6e} {:>22.6e}\n", a.layers, a.bound,
               a.measured_product, b.layers, b.bound, b.measured_product);
  }
  double worst = 0;
  for (const ex::BoundRow& r : rows)
    worst = std::max(worst, std::abs(r.measured_product / r.bound - 1));
  fmt::print("  largest relative difference between the columns: {}\n", g(worst));
  return rows;
}

// Every activation's table and measured maximum slope (for those in `names`), and the
// numbers the report quotes of the whole catalogue.
void show_catalogue(const std::vector<std::string>& names, demo::Summary& summary) {
  std::vector<std::string> peak_lines;
  for (const act::Entry& e : act::entries()) {
    const act::MaxSlope peak = act::max_slope(e);
    const ex::Extremes r = ex::extremes(e);
    const std::string a(e.info.name);
    summary.set(ex::key::max_slope(a), peak.slope);
    summary.set(ex::key::max_slope_at(a), peak.at + 0.0);
    summary.set(ex::key::slope_at_0(a), e.slope(0.0));
    summary.set(ex::key::value_at_0(a), e.value(0.0));
    summary.set(ex::key::range_min(a), r.min_value);
    summary.set(ex::key::range_max(a), r.max_value);
    if (const act::ZeroSlope& z = act::zero_slope<float>(e.id); z.below)
      summary.set(ex::key::zero_slope_float(a), *z.below);
    if (const act::ZeroSlope& z = act::zero_slope<double>(e.id); z.below)
      summary.set(ex::key::zero_slope_double(a), *z.below);
    if (std::find(names.begin(), names.end(), a) == names.end()) continue;
    print_table(e, peak);
    peak_lines.push_back(describe_peak(a, peak));
  }
  const act::Entry& gelu = act::get("gelu");
  const ex::Extremes gelu_range = ex::extremes(gelu);
  summary.set(ex::key::slope_at_minus_1("gelu"), gelu.slope(-1.0));
  summary.set(ex::key::value_at_minus_1("gelu"), gelu.value(-1.0));
  summary.set(ex::key::min_value("gelu"), gelu_range.min_value);
  summary.set(ex::key::min_at("gelu"), gelu_range.min_at);

  fmt::print("\nmaximum slopes, measured:\n");
  for (const std::string& line : peak_lines) fmt::print("  {}\n", line);
  if (std::find(names.begin(), names.end(), "gelu") != names.end())
    fmt::print(
        "  gelu's minimum on the grid: {} at x = {} (grid step 0.01); gelu'(-1) = {}, not 0\n",
        g(gelu_range.min_value), g(gelu_range.min_at), g(gelu.slope(-1.0)));
}

// The lesson's curve in the terminal: sigmoid's slope never tops 0.25.
void print_sigmoid_slope() {
  const act::Entry& sigmoid = act::get("sigmoid");
  std::vector<double> sig_slope;
  for (int i = 0; i < ex::kGridPoints; i += 20) sig_slope.push_back(sigmoid.slope(ex::grid_x(i)));
  fmt::print("\n{}", demo::ascii_plot(sig_slope, "sigmoid'(x) for x from -6 to 6", 64, 12,
                                      ex::grid_x(0), ex::grid_x(ex::kGridPoints - 1)));
}

// The hinge of relu(w x + b), drawn and put in the summary.
void summarise_hinge(const std::filesystem::path& dir, const ex::Neuron& neuron,
                     demo::Summary& summary) {
  const std::optional<ex::Kink> kink = show_hinge(dir, neuron);
  summary.set(ex::key::kKinkWeight, neuron.weight);
  summary.set(ex::key::kKinkBias, neuron.bias);
  summary.set(ex::key::kKinkXFormula,
              neuron.weight != 0.0 ? -neuron.bias / neuron.weight + 0.0 : NAN);
  summary.set(ex::key::kKinkXMeasured, kink ? kink->x : NAN);
  summary.set(ex::key::kKinkSlopeLeft, kink ? kink->slope_left : neuron.slope(-1.0));
  summary.set(ex::key::kKinkSlopeRight, kink ? kink->slope_right : neuron.slope(1.0));
}

int run(int argc, char** argv) {
  demo::Cli cli("explorer",
                "The activation explorer: f and f' of every registered activation, its "
                "maximum slope found numerically, the hinge of a ReLU neuron, the lesson's "
                "exercises and the 0.25^L bound of a sigmoid stack",
                0);
  std::vector<std::string> names = slope::activations();
  cli.add_activations(names);
  double weight = 2.0, bias = 1.0, x = 1.5;
  cli.app()
      .add_option("--weight", weight, "w of the ReLU neuron relu(w x + b)")
      ->capture_default_str();
  cli.app().add_option("--bias", bias, "b of the ReLU neuron relu(w x + b)")->capture_default_str();
  cli.app()
      .add_option("--x", x, "The point the exercises work relu(x) and sigmoid(x) at")
      ->capture_default_str();
  if (auto status = cli.parse(argc, argv)) return *status;
  for (auto [flag, v] : {std::pair{"--weight", weight}, {"--bias", bias}, {"--x", x}})
    if (!std::isfinite(v))
      throw demo::UsageError(fmt::format("{}: expected a finite number, got {}", flag, v));
  const std::filesystem::path& dir = cli.out();

  std::vector<const act::Entry*> chosen;
  for (const std::string& n : names) chosen.push_back(&act::get(n));
  fmt::print(
      "slope-explorer: {} of {} registered activations; slopes scanned on a grid of "
      "step 0.001 over [-10, 10]\n",
      chosen.size(), act::entries().size());

  demo::Summary summary;  // for out/REPORT.md: always the whole catalogue
  show_catalogue(names, summary);
  write_activations_csv(dir, chosen);
  for (std::size_t k = 0; k < chosen.size(); ++k)
    plot_activation(dir, *chosen[k], k, act::max_slope(*chosen[k]));
  plot_overview(dir, chosen);

  print_sigmoid_slope();
  summarise_hinge(dir, {weight, bias}, summary);
  show_exercises(x);
  const std::vector<ex::BoundRow> bound = show_bound(dir);
  summary.set(ex::key::sigmoid_product(8), bound[7].measured_product);
  summary.set(ex::key::bound(8), bound[7].bound);
  summary.write(dir);

  fmt::print(
      "\nwrote {}/: activations.csv hinge.csv vanishing_bound.csv summary.csv, "
      "activation_<name>.svg|png activations.svg|png hinge.svg|png (with their .gnuplot "
      "scripts)\n",
      dir.string());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return demo::run_main([&] { return run(argc, argv); });
}
