#include "support/model.hpp"
#include "support/run_config.hpp"

#include <iomanip>
#include <sstream>
#include <stdexcept>

namespace slope::demo {

std::vector<std::string> optimizer_names() {
  std::vector<std::string> out;
  for (const auto& o : kOptimizers) out.emplace_back(o.name);
  return out;
}

double default_lr(std::string_view optim) {
  for (const auto& o : kOptimizers)
    if (o.name == optim) return o.lr;
  throw std::invalid_argument("unknown optimizer '" + std::string(optim) + "'; valid: sgd, adam");
}

Optimizer::Optimizer(std::string_view name, const std::vector<Tensor>& params, double lr)
    : name_(name), lr_(default_lr(name)) {  // names an unknown optimizer, whatever lr is
  if (lr > 0) lr_ = lr;
  if (name == "sgd")
    sgd_.emplace(params, lr_);
  else
    adam_.emplace(params, lr_);
}

void Optimizer::zero_grad() { sgd_ ? sgd_->zero_grad() : adam_->zero_grad(); }
void Optimizer::step() { sgd_ ? sgd_->step() : adam_->step(); }

double RunConfig::noise_or_default() const { return noise.value_or(data::default_noise(data)); }
double RunConfig::lr_or_default() const { return lr > 0 ? lr : default_lr(optim); }

nn::MLP make_mlp(std::size_t in, int width, int depth, std::size_t classes,
                 std::string_view activation, const nn::Init& init, Rng& rng) {
  std::vector<std::int64_t> sizes{static_cast<std::int64_t>(in)};
  for (int l = 0; l < depth; ++l) sizes.push_back(width);
  sizes.push_back(static_cast<std::int64_t>(classes));
  return nn::MLP(sizes, activation, init, rng);
}

namespace {
std::string g6(double x) {
  std::ostringstream out;
  out << std::setprecision(6) << x + 0.0;  // + 0.0: never "-0"
  return out.str();
}
std::string scanned(const act::ZeroSlope& z) {
  return "[-" + g6(z.range) + ", " + g6(z.range) + "]";
}
}  // namespace

std::string describe_zero_slope(const act::ZeroSlope& z) {
  std::string below, above;
  if (z.below)
    below =
        z.all_below ? "x <= " + g6(*z.below) : "x = " + g6(*z.below) + " (not at every x below it)";
  if (z.above)
    above =
        z.all_above ? "x >= " + g6(*z.above) : "x = " + g6(*z.above) + " (not at every x above it)";
  if (below.empty() && above.empty()) return "nowhere on " + scanned(z);
  return "only at " + below + (below.empty() || above.empty() ? "" : " and ") + above;
}

std::string where_slope_is_zero(std::string_view activation) {
  return describe_zero_slope(act::zero_slope<float>(act::find(activation)));
}

std::string why_dead(std::string_view activation) {
  const act::ZeroSlope& z = act::zero_slope<float>(act::find(activation));
  if (!z.below && !z.above)  // beyond the scanned range, then
    return "its float slope is never exactly 0 on " + scanned(z) +
           ", so every input of a unit counted dead lay beyond that";
  return "its float slope is exactly 0 " + describe_zero_slope(z) +
         ", so every input of a unit counted dead lay there";
}

}  // namespace slope::demo
