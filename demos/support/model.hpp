// A demo's model and optimizer by name, with nothing but the engine underneath, so the
// browser build (demos/web/) makes them exactly as the command-line demos do.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <slope/slope.hpp>

namespace slope::demo {

// The optimizers a demo offers, and the learning rate each uses unless one is given.
// sgd at 0.05: at 0.1 deep GELU and tanh stacks of slope-vanishing blow up late in training.
struct OptimizerDefault {
  std::string_view name;
  double lr;
};
inline constexpr OptimizerDefault kOptimizers[] = {{"sgd", 0.05}, {"adam", 0.01}};

std::vector<std::string> optimizer_names();  // sgd, adam
// sgd 0.05, adam 0.01; std::invalid_argument naming the valid ones otherwise.
double default_lr(std::string_view optim);

// SGD (plain: no momentum, no weight decay) or Adam, chosen by name.
class Optimizer {
 public:
  // lr <= 0 means default_lr(name). Throws std::invalid_argument for an unknown name.
  Optimizer(std::string_view name, const std::vector<Tensor>& params, double lr = 0);
  void zero_grad();
  void step();
  const std::string& name() const { return name_; }
  double lr() const { return lr_; }
  // The parameters it updates.
  const std::vector<Tensor>& parameters() const {
    return sgd_ ? sgd_->parameters() : adam_->parameters();
  }

 private:
  std::string name_;
  double lr_;
  std::optional<optim::SGD<float>> sgd_;
  std::optional<optim::Adam<float>> adam_;
};

// MLP({in, width x depth, classes}): depth hidden layers of `width` units.
nn::MLP make_mlp(std::size_t in, int width, int depth, std::size_t classes,
                 std::string_view activation, const nn::Init& init, Rng& rng);

// Where `activation`'s slope is exactly 0 in float, as training computes it (act::zero_slope):
// the only place a unit of it can read as dead. "for every x < 0" (relu), "only at
// x <= -13.2427" (gelu, where it underflows), "nowhere on [-64, 0)" (leaky_relu).
// std::invalid_argument for an unknown name.
std::string where_slope_is_zero(std::string_view activation);

}  // namespace slope::demo
