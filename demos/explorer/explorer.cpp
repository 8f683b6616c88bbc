#include "explorer/explorer.hpp"

#include <algorithm>
#include <cmath>

namespace slope::demo::explorer {

Extremes extremes(const act::Entry& e) {
  Extremes r{INFINITY, 0, -INFINITY, 0};
  for (int i = 0; i < kGridPoints; ++i) {
    const double x = grid_x(i), v = e.value(x);
    if (v < r.min_value) r.min_value = v, r.min_at = x;
    if (v > r.max_value) r.max_value = v, r.max_at = x;
  }
  return r;
}

double Neuron::value(double x) const { return act::Relu::value(weight * x + bias); }
double Neuron::slope(double x) const { return weight * act::Relu::slope(weight * x + bias); }

std::optional<Kink> locate_kink(const Neuron& n) {
  constexpr int kIntervals = 1200;
  for (double range = 6.0; range < 1e15; range *= 2) {
    auto x = [&](int i) { return kink_grid_x(i, range); };
    int i = 0;
    while (i < kIntervals && n.slope(x(i)) == n.slope(x(i + 1))) ++i;
    if (i == kIntervals) continue;  // no change on this grid: look wider
    // The two samples nearest the kink on the side where the neuron is active.
    const int a = n.weight > 0 ? i + 1 : i;
    const int b = n.weight > 0 ? i + 2 : i - 1;
    if (b < 0 || b > kIntervals) continue;  // the kink sits at the grid's edge: look wider
    const double m = (n.value(x(b)) - n.value(x(a))) / (x(b) - x(a));
    // The slope changed inside [x(i), x(i + 1)], so the kink is there; the clamp only
    // removes an ulp of rounding from the extrapolation. + 0.0 turns -0 into 0.
    const double kink = std::clamp(x(a) - n.value(x(a)) / m, x(i), x(i + 1)) + 0.0;
    return Kink{kink, x(i), x(i + 1), n.slope(x(i)), n.slope(x(i + 1)), range};
  }
  return std::nullopt;
}

std::vector<BoundRow> vanishing_bound(int max_layers) {
  const double max_sigmoid_slope = act::max_slope(act::get("sigmoid")).slope;
  std::vector<BoundRow> rows;
  double product = 1.0;
  for (int layers = 1; layers <= max_layers; ++layers) {
    product *= max_sigmoid_slope;
    rows.push_back({layers, std::pow(0.25, layers), product});
  }
  return rows;
}

SigmoidSteps sigmoid_by_hand(double x) {
  const double e = std::exp(-x);
  const double d = 1.0 + e;
  return {e, d, 1.0 / d};
}

}  // namespace slope::demo::explorer
