#include "ffn/ffn.hpp"

#include <limits>
#include <stdexcept>

#include <fmt/core.h>

namespace slope::demo::ffn {

nn::Sequential make_residual(std::size_t in, int width, int hidden_mult, int depth,
                             std::size_t classes, std::string_view activation, const nn::Init& init,
                             Rng& rng) {
  const auto c = static_cast<std::int64_t>(width);
  nn::Sequential model{nn::Linear(static_cast<std::int64_t>(in), c, true, init, rng)};
  for (int b = 0; b < depth; ++b)
    model.push_back(nn::Residual(nn::Sequential{
        nn::LayerNorm(c), nn::FeedForward(c, hidden_mult * c, activation, init, rng)}));
  model.push_back(nn::LayerNorm(c));
  model.push_back(nn::Linear(c, static_cast<std::int64_t>(classes), true, init, rng));
  return model;
}

Split make_data(const Config& config) { return make_split(config); }

std::vector<Level> levels(const std::string& model, const ProbePoint& p) {
  std::vector<Level> out;
  if (model == kMlp) {
    for (const probe::LayerStats& s : p.layers) out.push_back({s.layer, s});
    return out;
  }
  for (const probe::BlockStats& b : p.blocks) {
    probe::LayerStats s = b.hidden;
    s.layer = b.block;
    s.grad_norm = b.grad_norm;
    s.update_ratio = p.layers.at(static_cast<std::size_t>(b.first_layer - 1)).update_ratio;
    out.push_back({b.block, s});
  }
  return out;
}

double first_over_last(const std::vector<Level>& levels) {
  if (levels.empty()) return std::numeric_limits<double>::quiet_NaN();
  return levels.front().stats.grad_norm / levels.back().stats.grad_norm;
}

History run(const Config& config, const Split& split,
            const std::function<void(std::size_t)>& on_step) {
  if (config.depth < 1 || config.width < 1 || config.hidden_mult < 1)
    throw std::invalid_argument("depth, width and hidden_mult must be positive");
  Rng rng(config.model_seed);
  const nn::Init init = nn::Init::parse(config.init);
  const auto classes = static_cast<std::size_t>(split.train.classes);
  const nn::Sequential model =
      config.model == kMlp ? nn::Sequential(make_mlp(split.train.dim, config.width, config.depth,
                                                     classes, config.activation, init, rng))
                           : make_residual(split.train.dim, config.width, config.hidden_mult,
                                           config.depth, classes, config.activation, init, rng);
  Optimizer opt(config.optim, model.parameters(), config.lr);
  return train(model, opt, split.train, split.test, {config.steps, config.probe_every}, {},
               on_step);
}

namespace key {
namespace {
std::string make(std::string_view what, std::string_view m, std::string_view a, int d) {
  return fmt::format("{}.{}.{}.{}", what, m, a, d);
}
}  // namespace
std::string ratio(std::string_view m, std::string_view a, int d) { return make("ratio", m, a, d); }
std::string final_loss(std::string_view m, std::string_view a, int d) {
  return make("final_loss", m, a, d);
}
std::string final_loss_std(std::string_view m, std::string_view a, int d) {
  return make("final_loss_std", m, a, d);
}
std::string final_test_acc(std::string_view m, std::string_view a, int d) {
  return make("final_test_acc", m, a, d);
}
}  // namespace key

}  // namespace slope::demo::ffn
