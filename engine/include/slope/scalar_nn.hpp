// micrograd's nn.py on slope::Value: Neuron, Layer, MLP.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "slope/random.hpp"
#include "slope/value.hpp"

namespace slope::scalar {

class Module {
 public:
  virtual ~Module() = default;
  virtual std::vector<Value> parameters() const = 0;
  void zero_grad() const {
    for (const Value& p : parameters()) p.grad() = 0.0;
  }
};

// act(w . x + b), weights uniform in [-1, 1] and bias 0, as micrograd.
// `nonlin = false` makes a linear unit (the output layer).
class Neuron : public Module {
 public:
  Neuron(std::size_t nin, Rng& rng, std::string_view activation = "relu", bool nonlin = true);
  // micrograd's Neuron(nin, nonlin=True): relu, weights from the thread's default_rng().
  explicit Neuron(std::size_t nin, bool nonlin = true)
      : Neuron(nin, default_rng(), "relu", nonlin) {}
  Value operator()(const std::vector<Value>& x) const;
  std::vector<Value> parameters() const override;

  std::vector<Value> w;
  Value b;

 private:
  std::size_t act_;
  bool nonlin_;
};

class Layer : public Module {
 public:
  Layer(std::size_t nin, std::size_t nout, Rng& rng, std::string_view activation = "relu",
        bool nonlin = true);
  // micrograd's Layer(nin, nout, nonlin=True), from the thread's default_rng().
  Layer(std::size_t nin, std::size_t nout, bool nonlin = true)
      : Layer(nin, nout, default_rng(), "relu", nonlin) {}
  std::vector<Value> operator()(const std::vector<Value>& x) const;
  std::vector<Value> parameters() const override;

  std::vector<Neuron> neurons;
};

// Layers of sizes `nouts` on `nin` inputs; every layer but the last uses `activation`,
// the last is linear. The same seed gives the same weights.
class MLP : public Module {
 public:
  MLP(std::size_t nin, const std::vector<std::size_t>& nouts, std::string_view activation = "relu",
      std::uint64_t seed = 1337);
  std::vector<Value> operator()(const std::vector<Value>& x) const;
  std::vector<Value> parameters() const override;

  std::vector<Layer> layers;
};

}  // namespace slope::scalar
