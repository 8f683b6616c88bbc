// Layers and models on slope::Tensor, with PyTorch's names and layouts. Every layer is
// a module (forward + parameters), and modules nest:
//
//   slope::nn::MLP model({2, 32, 32, 1}, "relu", slope::nn::Init::kaiming_normal());
//   auto loss = slope::mse_loss(model.forward(x), y);
//
//   using namespace slope::nn;   // GPT-2's feed-forward half of a block, pre-LN
//   Residual block(Sequential{LayerNorm(32), FeedForward(32, 128, "gelu")});
#pragma once

#include <concepts>
#include <cstdint>
#include <initializer_list>
#include <iosfwd>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "slope/activations.hpp"
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
  BasicTensor<T> forward(const BasicTensor<T>& x) const;  // slope::linear(x, weight, bias)
  BasicTensor<T> operator()(const BasicTensor<T>& x) const { return forward(x); }
  std::vector<BasicTensor<T>> parameters() const;
  void zero_grad() const;
  std::int64_t in_features() const { return weight.cols(); }
  std::int64_t out_features() const { return weight.rows(); }

  BasicTensor<T> weight;
  BasicTensor<T> bias;  // empty (0 x 0) without a bias
};

// --- modules --------------------------------------------------------------------
//
// A module is any type with `forward(const BasicTensor<T>&) const` returning a tensor and
// `parameters() const` returning std::vector<BasicTensor<T>> (handles sharing storage with
// the module; tensors are handles, so a const forward still trains them). Linear, Activation,
// LayerNorm, Residual, FeedForward, Sequential and MLP are modules, and so is any type of a user's
// own: Sequential holds them all by value. parameters() lists depth-first, in the order modules
// were added (Linear and LayerNorm: weight, then bias).
template <class M, class T>
concept Module = requires(const M& m, const BasicTensor<T>& x) {
  { m.forward(x) } -> std::convertible_to<BasicTensor<T>>;
  { m.parameters() } -> std::convertible_to<std::vector<BasicTensor<T>>>;
};

// Any module, held by value (type-erased). Copies copy the module; as for every
// module, the copy's parameters share storage with the original's.
template <class T> class AnyModule {
 public:
  template <class M>
  requires(!std::is_same_v<std::remove_cvref_t<M>, AnyModule> && Module<std::remove_cvref_t<M>, T>)
      AnyModule(M&& m)  // NOLINT: implicit, so a Sequential's braces take modules as they are
      : self_(std::make_unique<Held<std::remove_cvref_t<M>>>(std::forward<M>(m))) {}
  AnyModule(const AnyModule& o) : self_(o.self_ ? o.self_->clone() : nullptr) {}
  AnyModule(AnyModule&&) noexcept = default;
  AnyModule& operator=(const AnyModule& o) { return *this = AnyModule(o); }
  AnyModule& operator=(AnyModule&&) noexcept = default;

  BasicTensor<T> forward(const BasicTensor<T>& x) const { return held().forward(x); }
  BasicTensor<T> operator()(const BasicTensor<T>& x) const { return forward(x); }
  std::vector<BasicTensor<T>> parameters() const { return held().parameters(); }
  // The held module if it is an M, else nullptr (as std::any_cast).
  template <class M> M* get() {
    auto* h = dynamic_cast<Held<M>*>(self_.get());
    return h ? &h->m : nullptr;
  }
  template <class M> const M* get() const {
    const auto* h = dynamic_cast<const Held<M>*>(self_.get());
    return h ? &h->m : nullptr;
  }

 private:
  struct Base {
    virtual ~Base() = default;
    virtual BasicTensor<T> forward(const BasicTensor<T>& x) const = 0;
    virtual std::vector<BasicTensor<T>> parameters() const = 0;
    virtual std::unique_ptr<Base> clone() const = 0;
  };
  template <class M> struct Held final : Base {
    explicit Held(M module) : m(std::move(module)) {}
    BasicTensor<T> forward(const BasicTensor<T>& x) const override { return m.forward(x); }
    std::vector<BasicTensor<T>> parameters() const override { return m.parameters(); }
    std::unique_ptr<Base> clone() const override { return std::make_unique<Held>(m); }
    M m;
  };
  const Base& held() const {
    if (!self_) throw std::logic_error("slope::nn::AnyModule: used after being moved from");
    return *self_;
  }
  std::unique_ptr<Base> self_;
};

// A registered activation as a layer, by name (`Activation("gelu")`) or by type
// (`Activation(act::GeluTanh{})`).
template <class T> class BasicActivation {
 public:
  explicit BasicActivation(std::string_view name) : id_(act::find(name)) {}
  template <class A>
  requires(act::id_of<A> < act::count) explicit BasicActivation(A) : id_(act::id_of<A>) {}
  BasicTensor<T> forward(const BasicTensor<T>& x) const;
  BasicTensor<T> operator()(const BasicTensor<T>& x) const { return forward(x); }
  std::vector<BasicTensor<T>> parameters() const { return {}; }
  std::string_view name() const { return act::entries()[id_].info.name; }
  std::size_t id() const { return id_; }  // its position in act::Catalogue

 private:
  std::size_t id_;
};

// Modules applied in order; itself a module.
//
//   nn::Sequential seq{nn::Linear(4, 8), nn::Activation("gelu"), nn::Linear(8, 4)};
//   seq.push_back(MyLayer{});
template <class T> class BasicSequential {
 public:
  BasicSequential() = default;
  BasicSequential(std::initializer_list<AnyModule<T>> modules) : modules_(modules) {}
  void push_back(AnyModule<T> module) { modules_.push_back(std::move(module)); }
  BasicTensor<T> forward(const BasicTensor<T>& x) const;
  BasicTensor<T> operator()(const BasicTensor<T>& x) const { return forward(x); }
  std::vector<BasicTensor<T>> parameters() const;
  void zero_grad() const;

  std::size_t size() const { return modules_.size(); }
  AnyModule<T>& operator[](std::size_t i) { return modules_[i]; }
  const AnyModule<T>& operator[](std::size_t i) const { return modules_[i]; }
  // Module i as an M; throws std::invalid_argument if there is none or it is not an M.
  template <class M> M& at(std::size_t i) {
    return const_cast<M&>(static_cast<const BasicSequential&>(*this).at<M>(i));
  }
  template <class M> const M& at(std::size_t i) const {
    const M* m = i < modules_.size() ? modules_[i].template get<M>() : nullptr;
    if (m == nullptr)
      throw std::invalid_argument(
          "slope::nn::Sequential::at: module " + std::to_string(i) +
          (i < modules_.size()
               ? " is not of the type asked for"
               : " is past the end (size " + std::to_string(modules_.size()) + ")"));
    return *m;
  }
  auto begin() const { return modules_.begin(); }
  auto end() const { return modules_.end(); }

 private:
  std::vector<AnyModule<T>> modules_;
};

// PyTorch's nn.LayerNorm over the last dimension: each row (a token position, a sample)
// normalised over its `features` columns with the biased variance, eps inside the square
// root, then scaled by `weight` (1 x features, starts at 1) and shifted by `bias` (starts
// at 0). Without elementwise_affine both are empty and there are no parameters.
template <class T> class BasicLayerNorm {
 public:
  explicit BasicLayerNorm(std::int64_t features, double eps = 1e-5, bool elementwise_affine = true);
  BasicTensor<T> forward(const BasicTensor<T>& x) const;
  BasicTensor<T> operator()(const BasicTensor<T>& x) const { return forward(x); }
  std::vector<BasicTensor<T>> parameters() const;
  std::int64_t features() const { return features_; }
  double eps() const { return eps_; }

  BasicTensor<T> weight;
  BasicTensor<T> bias;

 private:
  std::int64_t features_;
  double eps_;
};

// x + module(x): a residual connection around any module that keeps the shape.
template <class T> class BasicResidual {
 public:
  explicit BasicResidual(AnyModule<T> inner) : module(std::move(inner)) {}
  BasicTensor<T> forward(const BasicTensor<T>& x) const;  // ShapeError if module(x) differs
  BasicTensor<T> operator()(const BasicTensor<T>& x) const { return forward(x); }
  std::vector<BasicTensor<T>> parameters() const { return module.parameters(); }

  AnyModule<T> module;
};

// GPT-2's MLP (nanoGPT's `MLP`): proj(act(fc(x))), fc: dim -> hidden, proj: hidden -> dim.
// A pre-LN transformer block's feed-forward half is
//   nn::Residual(nn::Sequential{nn::LayerNorm(C), nn::FeedForward(C, 4 * C, "gelu")})
// with rows = the B*T token positions. The probes see one FeedForward as one block.
template <class T> class BasicFeedForward {
 public:
  BasicFeedForward(std::int64_t dim, std::int64_t hidden, std::string_view activation = "gelu",
                   const Init& init = Init::pytorch(), Rng& rng = default_rng());
  BasicFeedForward(std::int64_t dim, std::int64_t hidden, BasicActivation<T> activation,
                   const Init& init = Init::pytorch(), Rng& rng = default_rng());
  BasicTensor<T> forward(const BasicTensor<T>& x) const;
  BasicTensor<T> operator()(const BasicTensor<T>& x) const { return forward(x); }
  std::vector<BasicTensor<T>> parameters() const;  // fc's, then proj's

  BasicLinear<T> fc;
  BasicActivation<T> activation;
  BasicLinear<T> proj;
};

// A multilayer perceptron, built as a Sequential: Linear layers between consecutive
// `sizes`, the activation after each but the last (Linear, Activation, ..., Linear).
template <class T> class BasicMLP : public BasicSequential<T> {
 public:
  BasicMLP(const std::vector<std::int64_t>& sizes, std::string_view activation = "relu",
           const Init& init = Init::pytorch(), Rng& rng = default_rng());
  std::string_view activation() const { return act::entries()[activation_].info.name; }
  // The number of Linear layers, and the l-th (0 = nearest the input).
  std::size_t depth() const { return (this->size() + 1) / 2; }
  // An MLP's layers are fixed by its sizes (depth() and linear() rely on the pattern);
  // build a Sequential to add more.
  void push_back(AnyModule<T>) = delete;
  BasicLinear<T>& linear(std::size_t l) { return this->template at<BasicLinear<T>>(2 * l); }
  const BasicLinear<T>& linear(std::size_t l) const {
    return this->template at<BasicLinear<T>>(2 * l);
  }

 private:
  std::size_t activation_;
};

using Linear = BasicLinear<float>;
using LinearD = BasicLinear<double>;
using Activation = BasicActivation<float>;
using ActivationD = BasicActivation<double>;
using Sequential = BasicSequential<float>;
using SequentialD = BasicSequential<double>;
using MLP = BasicMLP<float>;
using MLPD = BasicMLP<double>;
using LayerNorm = BasicLayerNorm<float>;
using LayerNormD = BasicLayerNorm<double>;
using Residual = BasicResidual<float>;
using ResidualD = BasicResidual<double>;
using FeedForward = BasicFeedForward<float>;
using FeedForwardD = BasicFeedForward<double>;

// Parameters to and from a stream, exactly (hexadecimal floating point, so a
// round trip restores every bit). load() reads and checks the whole file first (count
// and shapes against the model before any storage is allocated, then every number) and
// throws std::runtime_error naming `name`, the line and what is wrong, leaving the
// parameters untouched.
template <class T> void save(std::ostream& out, const std::vector<BasicTensor<T>>& params);
template <class T>
void load(std::istream& in, const std::vector<BasicTensor<T>>& params,
          const std::string& name = "<stream>");

}  // namespace nn
}  // namespace slope
