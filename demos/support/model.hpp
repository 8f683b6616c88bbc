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

// Where a slope is exactly 0 (act::zero_slope), in words: "only at x <= 0" (relu), "only at
// x <= -13.2426" (gelu in float, where it underflows), "only at x <= -9.01091 and
// x >= 9.01091" (tanh in float), "nowhere on [-128, 128]" (leaky_relu).
std::string describe_zero_slope(const act::ZeroSlope& z);
// The same for `activation` in float, as training computes it: the only place a unit of it
// can read as dead. std::invalid_argument for an unknown name.
std::string where_slope_is_zero(std::string_view activation);
// Why a unit of `activation` read as dead, for a demo that counted one: "its float slope is
// exactly 0 only at x <= -13.2426, so every input of a unit counted dead lay there" (gelu).
std::string why_dead(std::string_view activation);

}  // namespace slope::demo
