#include "slope/scalar_nn.hpp"

#include <stdexcept>
#include <string>

#include "slope/activations.hpp"

namespace slope::scalar {

Neuron::Neuron(std::size_t nin, Rng& rng, std::string_view activation, bool nonlin)
    : act_(act::find(activation)), nonlin_(nonlin) {
  w.reserve(nin);
  for (std::size_t i = 0; i < nin; ++i) w.emplace_back(rng.uniform(-1.0, 1.0));
}

Value Neuron::operator()(const std::vector<Value>& x) const {
  if (x.size() != w.size())
    throw std::invalid_argument("slope::scalar::Neuron: expected " + std::to_string(w.size()) +
                                " inputs, got " + std::to_string(x.size()));
  // act(b + w[0] x[0] + w[1] x[1] + ...), node for node as micrograd's
  // sum((wi*xi for wi, xi in zip(self.w, x)), self.b).
  const Value sum = detail::affine(b, w, x);
  if (!nonlin_) return sum;
  return detail::apply_activation(sum, act_);
}

std::vector<Value> Neuron::parameters() const {
  std::vector<Value> p = w;
  p.push_back(b);
  return p;
}

Layer::Layer(std::size_t nin, std::size_t nout, Rng& rng, std::string_view activation,
             bool nonlin) {
  neurons.reserve(nout);
  for (std::size_t i = 0; i < nout; ++i) neurons.emplace_back(nin, rng, activation, nonlin);
}

std::vector<Value> Layer::operator()(const std::vector<Value>& x) const {
  std::vector<Value> out;
  out.reserve(neurons.size());
  for (const Neuron& n : neurons) out.push_back(n(x));
  return out;
}

std::vector<Value> Layer::parameters() const {
  std::vector<Value> p;
  for (const Neuron& n : neurons)
    for (Value& v : n.parameters()) p.push_back(std::move(v));
  return p;
}

MLP::MLP(std::size_t nin, const std::vector<std::size_t>& nouts, std::string_view activation,
         std::uint64_t seed) {
  Rng rng(seed);
  std::size_t in = nin;
  for (std::size_t i = 0; i < nouts.size(); ++i) {
    layers.emplace_back(in, nouts[i], rng, activation, i + 1 != nouts.size());
    in = nouts[i];
  }
}

std::vector<Value> MLP::operator()(const std::vector<Value>& x) const {
  std::vector<Value> h = x;
  for (const Layer& l : layers) h = l(h);
  return h;
}

std::vector<Value> MLP::parameters() const {
  std::vector<Value> p;
  for (const Layer& l : layers)
    for (Value& v : l.parameters()) p.push_back(std::move(v));
  return p;
}

}  // namespace slope::scalar
