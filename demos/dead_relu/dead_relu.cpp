#include "dead_relu/dead_relu.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <optional>
#include <stdexcept>
#include <string>

#include <fmt/core.h>

namespace slope::demo::dead_relu {

namespace {

std::string lr_name(double lr) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "lr_%g", lr);
  return buf;
}

}  // namespace

std::vector<Setting> settings(const std::vector<double>& lrs, double fixed_lr, double bias,
                              const std::string& bad_init) {
  std::vector<Setting> out;
  for (double lr : lrs) out.push_back({lr_name(lr), "kaiming_normal", 0.0, lr});
  // "neg_bias" only for a negative bias: --bias 100 is a setting of its own, bias_100.
  char name[48];
  std::snprintf(name, sizeof name, "bias_%g", bias);
  out.push_back({bias < 0 ? "neg_bias" : name, "kaiming_normal", bias, fixed_lr});
  out.push_back({"bad_init", nn::Init::parse(bad_init).name(), 0.0, fixed_lr});
  return out;
}

double dead_rows_grad_abs_sum(const nn::Linear& layer, const std::vector<bool>& dead) {
  const Tensor::Matrix& gw = layer.weight.grad();
  const Tensor::Matrix& gb = layer.bias.grad();
  double sum = 0;
  for (std::size_t j = 0; j < dead.size(); ++j) {
    if (!dead[j]) continue;
    const auto row = static_cast<Eigen::Index>(j);
    sum += static_cast<double>(gw.row(row).cwiseAbs().sum());
    if (gb.size() > 0) sum += std::abs(static_cast<double>(gb(0, row)));
  }
  return sum;
}

Run train(const nn::MLP& model, const Tensor& x, const std::vector<int>& labels, double lr,
          std::size_t steps, const std::function<void(std::size_t)>& on_step) {
  data::Dataset d;
  d.n = static_cast<std::size_t>(x.rows()), d.dim = static_cast<std::size_t>(x.cols());
  for (Eigen::Index i = 0; i < x.rows(); ++i)
    for (Eigen::Index j = 0; j < x.cols(); ++j) d.x.push_back(static_cast<double>(x.value()(i, j)));
  d.y = labels;
  d.classes = labels.empty() ? 0 : *std::max_element(labels.begin(), labels.end()) + 1;
  return train(model, d, lr, steps, on_step);
}

Run train(const nn::MLP& model, const data::Dataset& d, double lr, std::size_t steps,
          const std::function<void(std::size_t)>& on_step) {
  Optimizer opt("sgd", model.parameters(), lr);  // plain: no momentum, no weight decay
  const std::size_t hidden = model.depth() - 1;
  std::vector<UnitTracker> trackers(hidden);
  Run out;
  // Every step: the forward pass over the whole training set decides which units are dead,
  // and the same pass's backward gives their gradients (the last step is not taken).
  auto track = [&](std::size_t step, const probe::Trace& trace, const Tensor&) {
    for (std::size_t l = 0; l < hidden; ++l) {
      const std::vector<bool> dead = probe::dead_units(trace, l);
      const UnitTracker::Change c = trackers[l].record(dead);
      out.records.push_back(
          {step, static_cast<int>(l + 1),
           dead.empty() ? 0.0 : static_cast<double>(c.dead) / static_cast<double>(dead.size()),
           c.deaths, c.revivals});
      if (l == 0 && step < steps) {
        out.layer1_dead_grad_abs_sum += dead_rows_grad_abs_sum(model.linear(0), dead);
        out.layer1_dead_unit_steps += c.dead;
      }
    }
  };
  out.history = demo::train(model, opt, d, data::Dataset{},
                            {steps, std::max<std::size_t>(1, steps)}, track, on_step);
  if (!out.history.curves.empty()) out.final_accuracy = out.history.curves.back().accuracy;
  return out;
}

Run run(const Config& config, const std::function<void(std::size_t)>& on_step) {
  if (config.depth < 1 || config.width < 1)
    throw std::invalid_argument("depth and width must be positive");
  const data::Dataset d =
      data::make(config.data, config.samples, config.noise_or_default(), config.seed);
  Rng rng(config.seed + 1);
  const nn::Init init = nn::Init::parse(config.setting.init).with_bias(config.setting.bias);
  const nn::MLP model = make_mlp(d.dim, config.width, config.depth,
                                 static_cast<std::size_t>(d.classes), config.activation, init, rng);
  return train(model, d, config.setting.lr, config.steps, on_step);
}

// --- born dead ----------------------------------------------------------------------

double born_dead_upper_bound(int width, int depth) {
  return 1.0 - std::pow(1.0 - std::pow(2.0, -width), depth);
}

bool born_dead(int width, int depth, Rng& rng) {
  // 9 points evenly over [-1, 1] (0 included, where every unit is 0 anyway).
  constexpr int kPoints = 9;
  const auto n = static_cast<std::size_t>(width);
  std::vector<double> h(n * kPoints), next(n * kPoints), w(n * n);
  // Layer 1 (fan_in 1): h[j][p] = relu(w_j x_p), He std sqrt(2 / 1).
  for (std::size_t j = 0; j < n; ++j) {
    const double wj = rng.normal(0.0, std::sqrt(2.0));
    for (int p = 0; p < kPoints; ++p) {
      const double x = -1.0 + 2.0 * p / (kPoints - 1);
      h[j * kPoints + static_cast<std::size_t>(p)] = std::max(0.0, wj * x);
    }
  }
  auto all_zero = [&](const std::vector<double>& v) {
    for (double e : v)
      if (e != 0.0) return false;
    return true;
  };
  if (all_zero(h)) return true;
  const double std = std::sqrt(2.0 / width);
  for (int layer = 2; layer <= depth; ++layer) {
    for (double& e : w) e = rng.normal(0.0, std);
    for (std::size_t i = 0; i < n; ++i)
      for (int p = 0; p < kPoints; ++p) {
        double z = 0;
        for (std::size_t j = 0; j < n; ++j)
          z += w[i * n + j] * h[j * kPoints + static_cast<std::size_t>(p)];
        next[i * kPoints + static_cast<std::size_t>(p)] = std::max(0.0, z);
      }
    h.swap(next);
    // Zero stays zero through the later layers: the network is constant from here.
    if (all_zero(h)) return true;
  }
  return false;
}

BornDeadEstimate estimate_born_dead(int width, int depth, std::size_t trials, std::uint64_t seed) {
  if (width < 1 || depth < 1 || trials < 1)
    throw std::invalid_argument("born dead: width, depth and trials must be positive");
  Rng rng(seed * 1000003u + static_cast<std::uint64_t>(width) * 1009u +
          static_cast<std::uint64_t>(depth));
  std::size_t dead = 0;
  for (std::size_t t = 0; t < trials; ++t) dead += born_dead(width, depth, rng);
  BornDeadEstimate e;
  e.width = width, e.depth = depth, e.trials = trials;
  e.probability = static_cast<double>(dead) / static_cast<double>(trials);
  e.stderr_ = std::sqrt(e.probability * (1 - e.probability) / static_cast<double>(trials));
  e.upper_bound = born_dead_upper_bound(width, depth);
  return e;
}

std::optional<std::vector<double>> final_dead_fractions(const Run& run, int depth) {
  if (run.history.diverged || run.records.empty()) return std::nullopt;
  const std::size_t last = run.records.back().step;
  std::vector<double> f(static_cast<std::size_t>(depth) + 1, 0.0);
  for (const LayerRecord& r : run.records)
    if (r.step == last) f[static_cast<std::size_t>(r.layer)] = r.dead_frac;
  for (int l = 1; l <= depth; ++l) f[0] += f[static_cast<std::size_t>(l)] / depth;  // equal widths
  return f;
}

SweepPoint sweep_point(std::string activation, double lr, const std::vector<const Run*>& runs,
                       int depth) {
  SweepPoint p;
  p.activation = std::move(activation);
  p.lr = lr;
  p.runs = runs.size();
  std::vector<std::vector<double>> ended;
  for (const Run* r : runs) {
    if (auto f = final_dead_fractions(*r, depth)) {
      ended.push_back(std::move(*f));
    } else {
      ++p.diverged;
    }
  }
  if (ended.empty()) return p;
  const std::size_t k = static_cast<std::size_t>(depth) + 1;
  p.mean.assign(k, 0.0);
  p.stddev.assign(k, 0.0);
  p.min_all = p.max_all = ended.front()[0];
  for (const auto& f : ended) {
    for (std::size_t i = 0; i < k; ++i) p.mean[i] += f[i] / static_cast<double>(ended.size());
    p.min_all = std::min(p.min_all, f[0]);
    p.max_all = std::max(p.max_all, f[0]);
  }
  if (ended.size() > 1) {  // the sample standard deviation; 0 for one run
    for (const auto& f : ended)
      for (std::size_t i = 0; i < k; ++i) p.stddev[i] += (f[i] - p.mean[i]) * (f[i] - p.mean[i]);
    for (double& v : p.stddev) v = std::sqrt(v / static_cast<double>(ended.size() - 1));
  }
  return p;
}

namespace key {
std::string sweep_dead_mean(std::string_view a, double lr) {
  return fmt::format("sweep_dead_mean.{}.{}", a, lr_name(lr));
}
std::string sweep_dead_std(std::string_view a, double lr) {
  return fmt::format("sweep_dead_std.{}.{}", a, lr_name(lr));
}
std::string sweep_diverged(std::string_view a, double lr) {
  return fmt::format("sweep_diverged.{}.{}", a, lr_name(lr));
}
std::string final_dead_frac(std::string_view a, std::string_view setting) {
  return fmt::format("final_dead_frac.{}.{}", a, setting);
}
std::string max_dead_frac(std::string_view a) { return fmt::format("max_dead_frac.{}", a); }
std::string layer1_revivals(std::string_view a) { return fmt::format("layer1_revivals.{}", a); }
std::string deeper_revivals(std::string_view a) { return fmt::format("deeper_revivals.{}", a); }
std::string layer1_dead_grad_abs_sum(std::string_view a) {
  return fmt::format("layer1_dead_grad_abs_sum.{}", a);
}
std::string born_dead(int width, int depth) { return fmt::format("born_dead.{}.{}", width, depth); }
std::string born_dead_bound(int width, int depth) {
  return fmt::format("born_dead_bound.{}.{}", width, depth);
}
}  // namespace key

}  // namespace slope::demo::dead_relu
