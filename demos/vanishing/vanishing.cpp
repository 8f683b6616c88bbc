#include "vanishing/vanishing.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

#include <fmt/core.h>

namespace slope::demo::vanishing {

Split make_data(const Config& config) { return make_split(config); }

Run run(const Config& config, const std::function<void(std::size_t)>& on_step) {
  if (config.depth < 1 || config.width < 1 || config.probe_every < 1)
    throw std::invalid_argument("depth, width and probe_every must be positive");
  const Split split = make_data(config);
  Rng rng(config.seed + 1);
  const nn::MLP model = make_mlp(split.train.dim, config.width, config.depth,
                                 static_cast<std::size_t>(split.train.classes), config.activation,
                                 nn::Init::parse(config.init), rng);
  Optimizer opt(config.optim, model.parameters(), config.lr);
  return train(model, opt, split.train, split.test, {config.steps, config.probe_every}, {},
               on_step);
}

double first_over_last(const std::vector<probe::LayerStats>& layers) {
  if (layers.empty()) return std::numeric_limits<double>::quiet_NaN();
  return layers.front().grad_norm / layers.back().grad_norm;
}

double spread(const std::vector<probe::LayerStats>& layers) {
  if (layers.empty()) return std::numeric_limits<double>::quiet_NaN();
  auto [lo, hi] = std::minmax_element(layers.begin(), layers.end(),
                                      [](const probe::LayerStats& a, const probe::LayerStats& b) {
                                        return a.grad_norm < b.grad_norm;
                                      });
  return hi->grad_norm / lo->grad_norm;
}

double slope_product(const std::vector<probe::LayerStats>& layers) {
  double p = 1.0;
  for (std::size_t l = 0; l + 1 < layers.size(); ++l) p *= layers[l].mean_slope;
  return p;
}

double sigmoid_bound(int depth) { return std::pow(0.25, depth); }

TopLayer top_hidden_layer(const Run& run, int depth) {
  TopLayer t;
  for (const Probe& p : run.probes) {
    if (p.layers.size() < static_cast<std::size_t>(depth)) continue;
    const double m = p.layers[static_cast<std::size_t>(depth - 1)].act_mean;
    if (std::isnan(t.start)) t.start = m;
    if (std::isnan(t.lowest) || m < t.lowest) t.lowest = m, t.lowest_step = p.step;
    t.last = m;
    t.last_step = p.step;
    for (int l = 0; l + 1 < depth; ++l) {
      const double b = p.layers[static_cast<std::size_t>(l)].act_mean;
      if (std::isnan(t.below_min) || b < t.below_min) t.below_min = b;
      if (std::isnan(t.below_max) || b > t.below_max) t.below_max = b;
    }
  }
  return t;
}

namespace key {
namespace {
std::string make(std::string_view what, std::string_view init, std::string_view act, int depth) {
  return fmt::format("{}.{}.{}.{}", what, init, act, depth);
}
}  // namespace
std::string ratio(std::string_view i, std::string_view a, int d) { return make("ratio", i, a, d); }
std::string spread(std::string_view i, std::string_view a, int d) {
  return make("spread", i, a, d);
}
std::string train_acc(std::string_view i, std::string_view a, int d) {
  return make("train_acc", i, a, d);
}
std::string test_acc(std::string_view i, std::string_view a, int d) {
  return make("test_acc", i, a, d);
}
std::string best_train_acc(std::string_view i, std::string_view a, int d) {
  return make("best_train_acc", i, a, d);
}
std::string bound(int depth) { return fmt::format("bound.{}", depth); }
std::string top_mean(std::string_view what, std::string_view i, std::string_view a, int d) {
  return make(std::string("top_mean_") + std::string(what), i, a, d);
}
}  // namespace key

}  // namespace slope::demo::vanishing
