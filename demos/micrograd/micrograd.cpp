#include "micrograd/micrograd.hpp"

#include <fmt/format.h>

#include <cmath>
#include <stdexcept>
#include <string>

namespace slope::demo::micrograd {

Points moons(std::size_t n, double noise, std::uint64_t seed) {
  const data::Dataset d = data::moons(n, noise, seed);
  Points p;
  for (std::size_t i = 0; i < d.n; ++i) {
    p.x.push_back({d.at(i, 0), d.at(i, 1)});
    p.y.push_back(d.y[i] == 1 ? 1.0 : -1.0);
  }
  return p;
}

Setup make_setup(const Config& config) {
  return {moons(config.points, config.noise, config.seed),
          scalar::MLP(2, {16, 16, 1}, config.activation, config.seed + 1)};
}

Evaluation evaluate(const scalar::MLP& model, const Points& data, double alpha) {
  Value data_loss = 0.0;
  std::size_t correct = 0;
  for (std::size_t i = 0; i < data.x.size(); ++i) {
    const Value s = model({data.x[i][0], data.x[i][1]})[0];
    data_loss = data_loss + (1.0 - data.y[i] * s).relu();  // max-margin: always relu
    correct += (data.y[i] > 0) == (s.data() > 0);
  }
  Value reg = 0.0;
  for (const Value& p : model.parameters()) reg = reg + p * p;
  const double n = static_cast<double>(data.x.size());
  return {data_loss * (1.0 / n) + alpha * reg, static_cast<double>(correct) / n};
}

namespace {

// The 1-based index of the first layer with a non-finite parameter or gradient, or 0.
std::size_t first_bad_layer(const scalar::MLP& model) {
  for (std::size_t l = 0; l < model.layers.size(); ++l)
    for (const Value& p : model.layers[l].parameters())
      if (!std::isfinite(p.data()) || !std::isfinite(p.grad())) return l + 1;
  return 0;
}

}  // namespace

StepResult train_step(scalar::MLP& model, const Points& data, std::size_t step, std::size_t steps) {
  const double lr = learning_rate(step, steps);
  const std::vector<Value> params = model.parameters();
  StepResult r{step, 0.0, 0.0};
  {
    const Evaluation e = evaluate(model, data);
    r.loss = e.loss.data();
    r.accuracy = e.accuracy;
    model.zero_grad();
    e.loss.backward();
  }  // the step's graph is freed here; parameters keep their grads
  const std::size_t bad = first_bad_layer(model);
  if (!std::isfinite(r.loss) || bad != 0)
    throw Diverged(fmt::format("training diverged at step {}: loss {:.4g}{}", step, r.loss,
                               bad != 0 ? fmt::format(", layer {} has a non-finite weight or "
                                                      "gradient",
                                                      bad)
                                        : ""));
  for (const Value& p : params) p.data() -= lr * p.grad();
  return r;
}

std::vector<StepResult> train(scalar::MLP& model, const Points& data, std::size_t steps,
                              const std::function<void(const StepResult&)>& on_step) {
  std::vector<StepResult> results;
  for (std::size_t k = 0; k < steps; ++k) {
    results.push_back(train_step(model, data, k, steps));
    if (on_step) on_step(results.back());
  }
  const Evaluation final_eval = evaluate(model, data);
  results.push_back({steps, final_eval.loss.data(), final_eval.accuracy});
  if (on_step) on_step(results.back());
  return results;
}

double score(const scalar::MLP& model, double x1, double x2) { return model({x1, x2})[0].data(); }

}  // namespace slope::demo::micrograd
