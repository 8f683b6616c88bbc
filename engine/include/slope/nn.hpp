// Layers and models on slope::Tensor, with PyTorch's names and layouts.
//
//   slope::nn::MLP model({2, 32, 32, 1}, "relu", slope::nn::Init::kaiming_normal());
//   auto loss = slope::mse_loss(model.forward(x), y);
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "slope/random.hpp"
#include "slope/tensor.hpp"

namespace slope {

namespace nn {

// A weight initialisation (Glorot & Bengio 2010; He et al. 2015; LeCun 1998), plus
// the constant the biases start at. `pytorch()` is nn.Linear's default: weight and
// bias uniform in +-1/sqrt(fan_in).
class Init {
 public:
  enum class Kind {
    pytorch,
    xavier_uniform,
    xavier_normal,
    kaiming_uniform,
    kaiming_normal,
    lecun_normal,
    normal
  };

  static Init pytorch() { return Init(Kind::pytorch); }
  static Init xavier_uniform(double gain = 1.0) { return Init(Kind::xavier_uniform, gain); }
  static Init xavier_normal(double gain = 1.0) { return Init(Kind::xavier_normal, gain); }
  static Init kaiming_uniform() { return Init(Kind::kaiming_uniform); }
  static Init kaiming_normal() { return Init(Kind::kaiming_normal); }
  static Init lecun_normal() { return Init(Kind::lecun_normal); }
  static Init normal(double std) { return Init(Kind::normal, std); }
  // "xavier_uniform", "kaiming_normal", "normal(0.01)", ...; throws
  // std::invalid_argument listing the valid names.
  static Init parse(std::string_view name);
  static std::vector<std::string> names();

  // The same init with every bias set to `b` (for the pytorch init too).
  Init with_bias(double b) const {
    Init i = *this;
    i.bias_ = b;
    i.has_bias_ = true;
    return i;
  }

  Kind kind() const { return kind_; }
  std::string name() const;
  // The standard deviation this init gives a weight of a layer with these fans.
  double weight_std(std::int64_t fan_in, std::int64_t fan_out) const;

  // Fills weight (out x in) and bias (1 x out).
  template <class T>
  void operator()(typename BasicTensor<T>::Matrix& weight, typename BasicTensor<T>::Matrix& bias,
                  Rng& rng) const;

 private:
  explicit Init(Kind k, double param = 1.0) : kind_(k), param_(param) {}
  Kind kind_;
  double param_;  // gain, or std for normal
  double bias_ = 0.0;
  bool has_bias_ = false;
};

// y = x W^T + b, PyTorch's nn.Linear: weight is (out_features, in_features), bias
// (1, out_features).
template <class T> class BasicLinear {
 public:
  BasicLinear(std::int64_t in_features, std::int64_t out_features, bool bias = true,
              const Init& init = Init::pytorch(), Rng& rng = default_rng());
  BasicTensor<T> forward(const BasicTensor<T>& x) const { return linear(x, weight, bias); }
  BasicTensor<T> operator()(const BasicTensor<T>& x) const { return forward(x); }
  std::vector<BasicTensor<T>> parameters() const;
  void zero_grad() const;
  std::int64_t in_features() const { return weight.cols(); }
  std::int64_t out_features() const { return weight.rows(); }

  BasicTensor<T> weight;
  BasicTensor<T> bias;  // empty (0 x 0) without a bias
};

// A registered activation as a layer.
template <class T> class BasicActivation {
 public:
  explicit BasicActivation(std::string_view name);
  BasicTensor<T> forward(const BasicTensor<T>& x) const { return slope::apply(x, name_); }
  BasicTensor<T> operator()(const BasicTensor<T>& x) const { return forward(x); }
  std::vector<BasicTensor<T>> parameters() const { return {}; }
  const std::string& name() const { return name_; }

 private:
  std::string name_;
};

// Layers applied in order.
template <class T> class BasicSequential {
 public:
  using Layer = std::variant<BasicLinear<T>, BasicActivation<T>>;
  BasicSequential() = default;
  BasicSequential(std::initializer_list<Layer> init) : layers(init) {}
  void push_back(Layer layer) { layers.push_back(std::move(layer)); }
  BasicTensor<T> forward(const BasicTensor<T>& x) const;
  BasicTensor<T> operator()(const BasicTensor<T>& x) const { return forward(x); }
  std::vector<BasicTensor<T>> parameters() const;
  void zero_grad() const;

  std::vector<Layer> layers;
};

// A multilayer perceptron: Linear layers between consecutive `sizes`, the activation
// after each but the last. forward() keeps each layer's pre-activation z and output h
// (handles, no copies) for the probes.
template <class T> class BasicMLP {
 public:
  BasicMLP(const std::vector<std::int64_t>& sizes, std::string_view activation = "relu",
           const Init& init = Init::pytorch(), Rng& rng = default_rng());
  BasicTensor<T> forward(const BasicTensor<T>& x) const;
  BasicTensor<T> operator()(const BasicTensor<T>& x) const { return forward(x); }
  std::vector<BasicTensor<T>> parameters() const;
  void zero_grad() const;
  const std::string& activation() const { return activation_; }
  std::size_t depth() const { return layers.size(); }

  std::vector<BasicLinear<T>> layers;
  // From the last forward: z[l] = layers[l](h[l-1]), h[l] = act(z[l]) (h = z for the last).
  mutable std::vector<BasicTensor<T>> z, h;

 private:
  std::string activation_;
};

using Linear = BasicLinear<float>;
using LinearD = BasicLinear<double>;
using Activation = BasicActivation<float>;
using ActivationD = BasicActivation<double>;
using Sequential = BasicSequential<float>;
using SequentialD = BasicSequential<double>;
using MLP = BasicMLP<float>;
using MLPD = BasicMLP<double>;

// Parameters to and from a stream, exactly (hexadecimal floating point, so a
// round trip restores every bit). load() checks count and shapes first and throws
// std::runtime_error naming what differs, leaving the parameters untouched.
template <class T> void save(std::ostream& out, const std::vector<BasicTensor<T>>& params);
template <class T> void load(std::istream& in, const std::vector<BasicTensor<T>>& params);

}  // namespace nn
}  // namespace slope
