// slope::Tensor: 2-D tensors (rows = batch) over Eigen, with reverse-mode autograd.
//
//   slope::Tensor x(X), w(W, /*requires_grad=*/true);
//   auto loss = slope::mse_loss(slope::matmul(x, w).relu(), y);
//   loss.backward();          // w.grad() now holds dloss/dw
//
// `Tensor` holds float and `TensorD` double, through one template. A tensor is a
// handle: copies share the value, the gradient and the graph, as Python names do.
// Every op builds its output and, beside it, the function that sends the gradient
// back (see tensor.cpp). A graph belongs to one thread at a time.
#pragma once

#include <Eigen/Core>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "slope/activations.hpp"
#include "slope/detail/cache.hpp"
#include "slope/errors.hpp"

namespace slope {

// While alive, tensor ops on this thread record no graph (evaluation, updates).
class no_grad {
 public:
  no_grad();
  ~no_grad();
  no_grad(const no_grad&) = delete;
  no_grad& operator=(const no_grad&) = delete;

 private:
  bool previous_;
};
bool grad_enabled();

// Returns to the heap the memory the calling thread keeps for its next graphs (each
// training step reuses the nodes and buffers the previous one freed; see
// slope/detail/cache.hpp), as torch.cuda.empty_cache() does for PyTorch's caching
// allocator. The next step allocates its buffers again.
void empty_cache();

namespace detail {
template <class T> struct TensorNode {
  using Matrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic>;
  using Parents = std::vector<std::shared_ptr<TensorNode>, Cached<std::shared_ptr<TensorNode>>>;
  Matrix value;
  Matrix grad;  // 0 x 0 until a gradient arrives
  bool requires_grad = false;
  const char* op = "leaf";
  // The inputs, then any tensor the backward keeps (a leaf that needs no gradient).
  Parents parents;
  std::function<void(TensorNode&)> backward;  // adds this->grad's share to each parent
  std::uint64_t visited = 0;                  // the last backward() pass that reached it

  TensorNode() = default;
  TensorNode(const TensorNode&) = delete;
  TensorNode& operator=(const TensorNode&) = delete;
  // Frees a long chain of parents iteratively: shared_ptr's own destructor would recurse
  // once per node and overflow the stack on a graph a million ops deep. The buffers go to
  // the thread's cache (slope/detail/cache.hpp) for the next step's graph.
  ~TensorNode() {
    Parents stack = std::move(parents);
    while (!stack.empty()) {
      std::shared_ptr<TensorNode> n = std::move(stack.back());
      stack.pop_back();
      if (n.use_count() == 1)  // the last owner: adopt its parents before it dies
        for (auto& p : n->parents) stack.push_back(std::move(p));
    }
    give_matrix(value);
    give_matrix(grad);
  }

  // grad += g, allocating on the first contribution. Only for nodes that need it.
  template <class Expr> void accumulate(const Expr& g) {
    if (!requires_grad) return;
    if (grad.size() == 0) {
      grad = take_matrix<T>(g.rows(), g.cols());
      grad = g;
    } else
      grad += g;
  }
};
}  // namespace detail

template <class T> class BasicTensor {
 public:
  static_assert(std::is_floating_point_v<T>);
  using Scalar = T;
  using Matrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic>;
  using Index = Eigen::Index;
  using Node = detail::TensorNode<T>;

  BasicTensor();  // an empty 0 x 0 tensor
  explicit BasicTensor(Matrix value, bool requires_grad = false);
  static BasicTensor zeros(Index rows, Index cols, bool requires_grad = false);
  static BasicTensor full(Index rows, Index cols, T value, bool requires_grad = false);
  // Rows of numbers, e.g. TensorD::from({{1, 2}, {3, 4}}). Ragged rows throw ShapeError.
  static BasicTensor from(std::initializer_list<std::initializer_list<T>> rows,
                          bool requires_grad = false);

  Matrix& value() const { return node_->value; }
  // dL/d(this) after backward(); zeros of this tensor's shape before any.
  Matrix& grad() const;
  Index rows() const { return node_->value.rows(); }
  Index cols() const { return node_->value.cols(); }
  std::string shape() const;  // "(rows, cols)"
  // The single number of a 1 x 1 tensor; throws ShapeError otherwise.
  T item() const;
  bool requires_grad() const { return node_->requires_grad; }
  // The op that made this tensor ("leaf" for inputs and parameters).
  const char* op() const { return node_->op; }

  // Backpropagates from a 1 x 1 tensor (seed 1); a non-scalar needs a seed of its
  // shape. Leaf grads accumulate, intermediate ones are recomputed, as in micrograd.
  void backward() const;
  void backward(const Matrix& seed) const;
  void zero_grad() const;
  // The same value, cut from the graph.
  BasicTensor detach() const;

  BasicTensor relu() const;
  BasicTensor sigmoid() const;
  BasicTensor tanh() const;
  BasicTensor gelu() const;
  BasicTensor exp() const;
  BasicTensor log() const;  // throws std::domain_error for a non-positive element
  BasicTensor pow(T exponent) const;
  BasicTensor sum() const;
  BasicTensor sum(int axis) const;  // axis 0: (1, cols); axis 1: (rows, 1)
  BasicTensor mean() const;
  BasicTensor mean(int axis) const;
  BasicTensor t() const;  // transpose

  // For ops written outside this file: the node behind the handle.
  const std::shared_ptr<Node>& node() const { return node_; }
  explicit BasicTensor(std::shared_ptr<Node> node) : node_(std::move(node)) {}

 private:
  std::shared_ptr<Node> node_;
};

using Tensor = BasicTensor<float>;
using TensorD = BasicTensor<double>;

// The scalar argument of mixed ops takes the tensor's type (so `x * 2.0` works on
// a float Tensor).
template <class T> using ScalarOf = std::type_identity_t<T>;

// a (n, k) · b (k, m) -> (n, m)
template <class T> BasicTensor<T> matmul(const BasicTensor<T>& a, const BasicTensor<T>& b);
// x (B, in) · weight^T (in, out) + bias (1, out) -> (B, out), PyTorch's F.linear;
// an empty bias means none.
template <class T>
BasicTensor<T> linear(const BasicTensor<T>& x, const BasicTensor<T>& weight,
                      const BasicTensor<T>& bias);
// act(x · weight^T + bias) as one op, for activation `id` of act::Catalogue: the same
// numbers as apply_activation(linear(x, weight, bias), id) in fewer passes. The forward adds
// the bias and applies the activation in one pass over the product; the backward forms
// f'(z) * g and the bias gradient in one pass, then the two products. The pre-activation z
// is kept for the backward and, when `pre` is given, handed out there (a leaf without a
// gradient, for the probes).
template <class T>
BasicTensor<T> linear(const BasicTensor<T>& x, const BasicTensor<T>& weight,
                      const BasicTensor<T>& bias, std::size_t activation,
                      BasicTensor<T>* pre = nullptr);
template <class T> BasicTensor<T> transpose(const BasicTensor<T>& x) { return x.t(); }

// Elementwise, broadcasting as NumPy does in 2-D: each dimension equal or 1.
template <class T> BasicTensor<T> operator+(const BasicTensor<T>& a, const BasicTensor<T>& b);
template <class T> BasicTensor<T> operator*(const BasicTensor<T>& a, const BasicTensor<T>& b);
template <class T> BasicTensor<T> operator-(const BasicTensor<T>& a);
template <class T> BasicTensor<T> operator+(const BasicTensor<T>& a, ScalarOf<T> c);
template <class T> BasicTensor<T> operator*(const BasicTensor<T>& a, ScalarOf<T> c);

template <class T> BasicTensor<T> operator-(const BasicTensor<T>& a, const BasicTensor<T>& b) {
  return a + (-b);
}
template <class T> BasicTensor<T> operator/(const BasicTensor<T>& a, const BasicTensor<T>& b) {
  return a * b.pow(T(-1));
}
template <class T> BasicTensor<T> operator+(ScalarOf<T> c, const BasicTensor<T>& a) {
  return a + c;
}
template <class T> BasicTensor<T> operator*(ScalarOf<T> c, const BasicTensor<T>& a) {
  return a * c;
}
template <class T> BasicTensor<T> operator-(const BasicTensor<T>& a, ScalarOf<T> c) {
  return a + (-c);
}
template <class T> BasicTensor<T> operator-(ScalarOf<T> c, const BasicTensor<T>& a) {
  return (-a) + c;
}
template <class T> BasicTensor<T> operator/(const BasicTensor<T>& a, ScalarOf<T> c) {
  return a * (T(1) / c);
}
template <class T> BasicTensor<T> operator/(ScalarOf<T> c, const BasicTensor<T>& a) {
  return a.pow(T(-1)) * c;
}

// Any registered activation by name, elementwise; unknown names throw
// std::invalid_argument listing the valid ones.
template <class T> BasicTensor<T> apply(const BasicTensor<T>& x, std::string_view activation);
// The activation at position `id` of act::Catalogue (an id from act::find); throws
// std::out_of_range for an id >= act::count.
template <class T> BasicTensor<T> apply_activation(const BasicTensor<T>& x, std::size_t id);
// A registered activation by type, elementwise, with no name lookup:
// slope::apply<slope::act::GeluTanh>(x). A must be in act::Catalogue.
template <class A, class T> BasicTensor<T> apply(const BasicTensor<T>& x) {
  static_assert(act::id_of<A> < act::count, "slope::apply<A>: A is not in act::Catalogue");
  return apply_activation(x, act::id_of<A>);
}
template <class T> BasicTensor<T> relu(const BasicTensor<T>& x) { return x.relu(); }
template <class T> BasicTensor<T> sigmoid(const BasicTensor<T>& x) { return x.sigmoid(); }
template <class T> BasicTensor<T> tanh(const BasicTensor<T>& x) { return x.tanh(); }
template <class T> BasicTensor<T> gelu(const BasicTensor<T>& x) { return x.gelu(); }
template <class T> BasicTensor<T> exp(const BasicTensor<T>& x) { return x.exp(); }
template <class T> BasicTensor<T> log(const BasicTensor<T>& x) { return x.log(); }
template <class T> BasicTensor<T> pow(const BasicTensor<T>& x, ScalarOf<T> p) { return x.pow(p); }
template <class T> BasicTensor<T> sum(const BasicTensor<T>& x) { return x.sum(); }
template <class T> BasicTensor<T> mean(const BasicTensor<T>& x) { return x.mean(); }

// PyTorch's F.layer_norm over the last dimension, fused (forward and backward side by
// side; the forward keeps each row's mean and 1/std for the backward, as llm.c):
// x (B, C) -> (x - mean_row) / sqrt(var_row + eps) * weight + bias, with the biased
// variance; weight and bias (1, C), or empty for none. With eps > 0 a constant row maps
// to bias, and its gradient stays finite.
template <class T>
BasicTensor<T> layer_norm(const BasicTensor<T>& x, const BasicTensor<T>& weight,
                          const BasicTensor<T>& bias, double eps = 1e-5);

// --- transformer ops: rows are the B*T token positions, sequence by sequence -------------

// Embedding lookup: row i of the result is row ids[i] of `table` (V, C) -> (N, C). The
// backward adds each row's gradient into the table's row of its id (repeated ids
// accumulate). An id outside [0, V) throws std::out_of_range naming the id and its position.
template <class T> BasicTensor<T> embedding(std::span<const int> ids, const BasicTensor<T>& table);

// Causal self-attention (GPT-2's, nanoGPT's, llm.c's): qkv (B*T, 3C) holds each position's
// query, key and value side by side (nanoGPT's c_attn output), T = rows / batch; the C
// features split into n_head heads of hs = C / n_head. Each position attends to itself and
// the positions before it in its own sequence, with softmax(q k^T / sqrt(hs)); the result
// (B*T, C) has the heads side by side. The forward keeps the attention weights for the
// backward; `weights`, when given, receives them: (T, B * n_head * T), the (T, T) weights
// of sequence b and head h in columns [(b * n_head + h) * T, + T), row t attending over
// columns s <= t. C % n_head != 0 or rows % batch != 0 throw ShapeError.
template <class T>
BasicTensor<T> causal_self_attention(const BasicTensor<T>& qkv, Eigen::Index batch,
                                     Eigen::Index n_head, BasicTensor<T>* weights = nullptr);

// Along each row (axis 1), stable for logits of any size.
template <class T> BasicTensor<T> softmax(const BasicTensor<T>& logits);
template <class T> BasicTensor<T> log_softmax(const BasicTensor<T>& logits);

// Losses, reduced by the mean as PyTorch's defaults.
// mean((pred - target)^2) over all elements; shapes must match.
template <class T>
BasicTensor<T> mse_loss(const BasicTensor<T>& pred, const BasicTensor<T>& target);
// mean over rows of -log softmax(logits)[row, label]; labels in [0, cols).
template <class T>
BasicTensor<T> cross_entropy(const BasicTensor<T>& logits, const std::vector<int>& labels);
// The share of rows whose largest logit is at the row's label (0 for no rows).
template <class T> double accuracy(const BasicTensor<T>& logits, const std::vector<int>& labels);
// mean over all elements of -[y log sigmoid(x) + (1 - y) log(1 - sigmoid(x))].
template <class T>
BasicTensor<T> binary_cross_entropy_with_logits(const BasicTensor<T>& logits,
                                                const BasicTensor<T>& target);
// micrograd's max-margin loss: mean over all elements of max(0, 1 - y * score), y = +-1.
template <class T>
BasicTensor<T> hinge_loss(const BasicTensor<T>& scores, const BasicTensor<T>& target);

}  // namespace slope
