// What slope-explorer measures, as plain functions, so the explorer and its test
// (tests/test_explorer_demo.cpp) run the same computation. Nothing here prints.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <slope/activations.hpp>

namespace slope::demo::explorer {

// The plotting grid: x = -6 + i * 0.01 for i = 0..1200, computed from i as (i - 600) / 100
// so nothing drifts and x = 0 is exactly 0 (a compiler may fuse -6 + i * 0.01 into one
// multiply-add, which leaves 1e-16 where 0 should be).
inline constexpr double kGridLo = -6.0;
inline constexpr double kGridStep = 0.01;
inline constexpr int kGridPoints = 1201;
inline double grid_x(int i) { return static_cast<double>(i - 600) / 100.0; }

// The x values of the printed tables.
inline const std::vector<double>& table_xs() {
  static const std::vector<double> xs{-3, -2, -1, -0.5, 0, 0.5, 1, 2, 3};
  return xs;
}

// The smallest and largest value of an activation on the plotting grid, and where.
struct Extremes {
  double min_value, min_at;
  double max_value, max_at;
};
Extremes extremes(const act::Entry& e);

// A neuron relu(w x + b) of one input, its slope w * relu'(w x + b) by the chain rule.
struct Neuron {
  double weight, bias;
  double value(double x) const;
  double slope(double x) const;
};

// The kink of relu(w x + b), located from samples: a grid of 1201 points over [-R, R]
// (R = 6, doubled until the sampled slope changes between two neighbouring points), then
// the zero of the straight line through the two nearest samples on the active side.
struct Kink {
  double x;            // the measured kink
  double left, right;  // the grid points bracketing it
  double slope_left;   // the sampled slope at the grid point just left of the bracket
  double slope_right;  // ... and just right of it
  double range;        // R of the grid that found it
};
// nullopt when the slope never changes: w = 0 (a constant neuron), or a kink beyond 1e15.
std::optional<Kink> locate_kink(const Neuron& n);
// Point i = 0..1200 of the kink search grid over [-range, range], as (i - 600) range / 600
// so the points are exact where they can be (x = -0.5 is -0.5, not -0.5 + 1e-16).
inline double kink_grid_x(int i, double range) {
  return static_cast<double>(i - 600) * range / 600.0;
}

// The lesson's bound: after L sigmoid layers the gradient is at most 0.25^L times as
// large. `measured` is the product of L copies of sigmoid's measured maximum slope.
struct BoundRow {
  int layers;
  double bound;
  double measured_product;
};
std::vector<BoundRow> vanishing_bound(int max_layers);

// sigmoid(x) = 1 / (1 + e^-x) worked step by step, as the lesson's exercise.
struct SigmoidSteps {
  double exp_neg_x, denominator, value;
};
SigmoidSteps sigmoid_by_hand(double x);

// The keys of summary.csv, shared with slope-report.
namespace key {
inline std::string of(std::string_view what, std::string_view activation) {
  return std::string(what) + "." + std::string(activation);
}
inline std::string max_slope(std::string_view a) { return of("max_slope", a); }
inline std::string max_slope_at(std::string_view a) { return of("max_slope_at", a); }
inline std::string slope_at_0(std::string_view a) { return of("slope_at_0", a); }
inline std::string value_at_0(std::string_view a) { return of("value_at_0", a); }
inline std::string slope_at_minus_1(std::string_view a) { return of("slope_at_-1", a); }
inline std::string value_at_minus_1(std::string_view a) { return of("value_at_-1", a); }
inline std::string range_min(std::string_view a) { return of("range_min", a); }
inline std::string range_max(std::string_view a) { return of("range_max", a); }
inline std::string min_value(std::string_view a) { return of("min_value", a); }
inline std::string min_at(std::string_view a) { return of("min_at", a); }
// The x <= 0 nearest 0 where the slope, as training computes it, is exactly 0 in float
// (double); set only for the activations where there is one (act::zero_slope).
inline std::string zero_slope_float(std::string_view a) { return of("zero_slope_float", a); }
inline std::string zero_slope_double(std::string_view a) { return of("zero_slope_double", a); }
inline std::string sigmoid_product(int layers) {
  return of("sigmoid_product", std::to_string(layers));
}
inline std::string bound(int layers) { return of("bound", std::to_string(layers)); }
inline constexpr const char* kKinkWeight = "kink_weight";
inline constexpr const char* kKinkBias = "kink_bias";
inline constexpr const char* kKinkXFormula = "kink_x_formula";
inline constexpr const char* kKinkXMeasured = "kink_x_measured";
inline constexpr const char* kKinkSlopeLeft = "kink_slope_left";
inline constexpr const char* kKinkSlopeRight = "kink_slope_right";
}  // namespace key

}  // namespace slope::demo::explorer
