#include "vanishing_lib.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <stdexcept>
#include <string>

namespace slope::demo::vanishing {

namespace {

bool finite(const Tensor::Matrix& m) { return m.allFinite(); }

// Names the first layer whose forward output is not finite.
[[noreturn]] void non_finite_forward(const nn::MLP& model, std::size_t step, double loss) {
  for (std::size_t l = 0; l < model.depth(); ++l)
    if (!finite(model.h[l].value()))
      throw std::runtime_error("training diverged at step " + std::to_string(step) + ": layer " +
                               std::to_string(l + 1) + " activations are not finite (loss " +
                               std::to_string(loss) + ")");
  throw std::runtime_error("training diverged at step " + std::to_string(step) +
                           ": the loss is not finite (" + std::to_string(loss) + ")");
}

void check_gradients(const nn::MLP& model, std::size_t step) {
  for (std::size_t l = 0; l < model.depth(); ++l) {
    const nn::Linear& layer = model.layers[l];
    if (!finite(layer.weight.grad()) || !finite(layer.bias.grad()))
      throw std::runtime_error("training diverged at step " + std::to_string(step) + ": layer " +
                               std::to_string(l + 1) + " gradient is not finite");
  }
}

// SGD or Adam behind one interface, chosen by name.
class Optimizer {
 public:
  Optimizer(const Config& c, const std::vector<Tensor>& params) {
    if (c.optim == "sgd")
      sgd_ = std::make_unique<optim::SGD<float>>(params, c.lr);
    else if (c.optim == "adam")
      adam_ = std::make_unique<optim::Adam<float>>(params, c.lr);
    else
      throw std::invalid_argument("unknown optimizer '" + c.optim + "'; valid: sgd, adam");
  }
  void zero_grad() const { sgd_ ? sgd_->zero_grad() : adam_->zero_grad(); }
  void step() { sgd_ ? sgd_->step() : adam_->step(); }

 private:
  std::unique_ptr<optim::SGD<float>> sgd_;
  std::unique_ptr<optim::Adam<float>> adam_;
};

}  // namespace

Split make_data(const Config& config) {
  const data::Dataset all = data::make(config.data, config.samples, config.noise, config.seed);
  auto [train, test] = data::train_test_split(all, config.test_fraction, config.seed + 2);
  return {std::move(train), std::move(test)};
}

Run run(const Config& config, const std::function<void(std::size_t)>& on_step) {
  if (config.depth < 1 || config.width < 1 || config.probe_every < 1)
    throw std::invalid_argument("depth, width and probe_every must be positive");
  const Split split = make_data(config);
  const Tensor x_train = split.train.features<float>(), x_test = split.test.features<float>();

  std::vector<std::int64_t> sizes{static_cast<std::int64_t>(split.train.dim)};
  for (int l = 0; l < config.depth; ++l) sizes.push_back(config.width);
  sizes.push_back(split.train.classes);
  Rng rng(config.seed + 1);
  const nn::MLP model(sizes, config.activation, nn::Init::parse(config.init), rng);
  Optimizer opt(config, model.parameters());

  Run out;
  for (std::size_t step = 0; step <= config.steps; ++step) {
    opt.zero_grad();
    const Tensor logits = model.forward(x_train);
    const Tensor loss = cross_entropy(logits, split.train.y);
    const double loss_value = loss.item();
    if (!std::isfinite(loss_value) || !finite(logits.value()))
      non_finite_forward(model, step, loss_value);
    loss.backward();
    check_gradients(model, step);

    const bool probed = step % config.probe_every == 0 || step == config.steps;
    if (probed) {
      out.probes.push_back({step, probe::layers(model)});
      out.curves.push_back({step, "train", loss_value, slope::accuracy(logits, split.train.y)});
      if (split.test.n > 0) {
        const no_grad off;
        const Tensor test_logits = model.forward(x_test);
        out.curves.push_back({step, "test", cross_entropy(test_logits, split.test.y).item(),
                              slope::accuracy(test_logits, split.test.y)});
      }
    }
    if (step == config.steps) break;  // the final step is measured, not taken

    std::vector<Tensor::Matrix> before;
    if (probed)
      for (const nn::Linear& layer : model.layers) before.push_back(layer.weight.value());
    opt.step();
    if (probed)
      for (std::size_t l = 0; l < model.depth(); ++l)
        out.probes.back().layers[l].update_ratio =
            probe::update_ratio<float>(before[l], model.layers[l].weight.value());
    if (on_step) on_step(step + 1);
  }
  return out;
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

}  // namespace slope::demo::vanishing
