#include "slope/tensor.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <string>
#include <unordered_set>

#include "slope/activation_kernels.hpp"
#include "slope/activations.hpp"
#include "slope/gemm.hpp"

namespace slope {

namespace {
thread_local bool t_grad_enabled = true;
}

no_grad::no_grad() : previous_(t_grad_enabled) { t_grad_enabled = false; }
no_grad::~no_grad() { t_grad_enabled = previous_; }
bool grad_enabled() { return t_grad_enabled; }

namespace {

using detail::TensorNode;
template <class T> using Matrix = typename BasicTensor<T>::Matrix;
using Index = Eigen::Index;

std::string shape_of(Index r, Index c) {
  return "(" + std::to_string(r) + ", " + std::to_string(c) + ")";
}
template <class T> std::string shape_of(const BasicTensor<T>& t) {
  return shape_of(t.rows(), t.cols());
}
template <class T>
[[noreturn]] void shape_error(const char* op, const BasicTensor<T>& a, const BasicTensor<T>& b,
                              const char* why) {
  std::string msg = "slope::";  // built with += : GCC 12 warns falsely on a + chain here
  msg += op;
  msg += ": shapes " + shape_of(a) + " and " + shape_of(b) + " " + why;
  throw ShapeError(msg);
}

// The output of an op. The graph is recorded only when grad mode is on and some
// input needs a gradient; `backward` then sends the output's grad to its parents.
template <class T, class Backward>
BasicTensor<T> make(const char* op, Matrix<T> value,
                    std::initializer_list<const BasicTensor<T>*> inputs, Backward&& backward) {
  auto n = std::make_shared<TensorNode<T>>();
  n->value = std::move(value);
  n->op = op;
  if (grad_enabled())
    n->requires_grad = std::any_of(inputs.begin(), inputs.end(),
                                   [](const BasicTensor<T>* in) { return in->requires_grad(); });
  if (n->requires_grad) {
    for (const BasicTensor<T>* in : inputs) n->parents.push_back(in->node());
    n->backward = std::forward<Backward>(backward);
  }
  return BasicTensor<T>(std::move(n));
}

// n.grad += op(a) · op(b), written straight into the gradient (no temporary, no copy of a
// transposed operand).
template <class T>
void accumulate_product(TensorNode<T>& n, const Matrix<T>& a, bool ta, const Matrix<T>& b,
                        bool tb) {
  if (!n.requires_grad) return;
  gemm<T>(a, ta, b, tb, n.grad, n.grad.size() != 0);
}

// Broadcasting in 2-D: each dimension equal, or 1 on one side.
template <class T>
std::pair<Index, Index> broadcast_shape(const char* op, const BasicTensor<T>& a,
                                        const BasicTensor<T>& b) {
  auto dim = [&](Index x, Index y) {
    if (x == y || y == 1) return x;
    if (x == 1) return y;
    shape_error(op, a, b, "do not broadcast");
  };
  return {dim(a.rows(), b.rows()), dim(a.cols(), b.cols())};
}
// m stretched to (rows, cols) along its dimensions of size 1.
template <class T> Matrix<T> expand(const Matrix<T>& m, Index rows, Index cols) {
  if (m.rows() == rows && m.cols() == cols) return m;
  return m.replicate(m.rows() == rows ? 1 : rows, m.cols() == cols ? 1 : cols);
}
// The gradient of a broadcast input: summed over the dimensions it was stretched along.
template <class T> Matrix<T> reduce_to(const Matrix<T>& g, Index rows, Index cols) {
  if (g.rows() == rows && g.cols() == cols) return g;
  if (rows == 1 && cols == 1) return Matrix<T>::Constant(1, 1, g.sum());
  if (rows == 1) return g.colwise().sum();
  return g.rowwise().sum();
}

// The name of the activation at catalogue position `id`, checked (ids come from act::find).
const char* activation_name(std::size_t id, const char* op) {
  if (id >= act::count)
    throw std::out_of_range(std::string("slope::") + op + ": no activation with id " +
                            std::to_string(id));
  return act::entries()[id].info.name.data();
}

std::string number(double x) {
  std::ostringstream s;
  s.precision(9);
  s << x;
  return s.str();
}

}  // namespace

// --- the tensor handle ----------------------------------------------------------

template <class T> BasicTensor<T>::BasicTensor() : node_(std::make_shared<Node>()) {}

template <class T>
BasicTensor<T>::BasicTensor(Matrix value, bool requires_grad) : node_(std::make_shared<Node>()) {
  node_->value = std::move(value);
  node_->requires_grad = requires_grad;
}

template <class T>
BasicTensor<T> BasicTensor<T>::zeros(Index rows, Index cols, bool requires_grad) {
  return full(rows, cols, T(0), requires_grad);
}

template <class T>
BasicTensor<T> BasicTensor<T>::full(Index rows, Index cols, T value, bool requires_grad) {
  if (rows < 0 || cols < 0)
    throw ShapeError("slope::Tensor::full: negative shape " + shape_of(rows, cols));
  return BasicTensor(Matrix::Constant(rows, cols, value), requires_grad);
}

template <class T>
BasicTensor<T> BasicTensor<T>::from(std::initializer_list<std::initializer_list<T>> rows,
                                    bool requires_grad) {
  const Index r = static_cast<Index>(rows.size());
  const Index c = r == 0 ? 0 : static_cast<Index>(rows.begin()->size());
  Matrix m(r, c);
  Index i = 0;
  for (const auto& row : rows) {
    if (static_cast<Index>(row.size()) != c)
      throw ShapeError("slope::Tensor::from: row " + std::to_string(i) + " has " +
                       std::to_string(row.size()) + " numbers, row 0 has " + std::to_string(c));
    Index j = 0;
    for (T v : row) m(i, j++) = v;
    ++i;
  }
  return BasicTensor(std::move(m), requires_grad);
}

template <class T> typename BasicTensor<T>::Matrix& BasicTensor<T>::grad() const {
  if (node_->grad.size() == 0) node_->grad = Matrix::Zero(rows(), cols());
  return node_->grad;
}

template <class T> std::string BasicTensor<T>::shape() const { return shape_of(rows(), cols()); }

template <class T> T BasicTensor<T>::item() const {
  if (rows() != 1 || cols() != 1)
    throw ShapeError("slope::Tensor::item: needs a (1, 1) tensor, got " + shape());
  return node_->value(0, 0);
}

template <class T> void BasicTensor<T>::zero_grad() const {
  if (node_->grad.size() != 0) node_->grad.setZero();
}

template <class T> BasicTensor<T> BasicTensor<T>::detach() const { return BasicTensor(value()); }

template <class T> void BasicTensor<T>::backward() const {
  if (rows() != 1 || cols() != 1)
    throw std::invalid_argument("slope::Tensor::backward: a " + shape() +
                                " tensor needs a seed gradient of its shape; only a (1, 1) "
                                "tensor backpropagates without one");
  backward(Matrix::Ones(1, 1));
}

template <class T> void BasicTensor<T>::backward(const Matrix& seed) const {
  if (!requires_grad())
    throw std::invalid_argument(
        "slope::Tensor::backward: this tensor does not require grad (no input of its graph "
        "was created with requires_grad = true, or it was built under no_grad)");
  if (seed.rows() != rows() || seed.cols() != cols())
    throw ShapeError("slope::Tensor::backward: seed shape " + shape_of(seed.rows(), seed.cols()) +
                     " differs from the tensor's " + shape());
  // Topological order by an iterative depth-first search (post-order).
  std::vector<Node*> order;
  std::unordered_set<Node*> seen{node_.get()};
  std::vector<std::pair<Node*, std::size_t>> stack{{node_.get(), 0}};
  while (!stack.empty()) {
    auto& [n, next] = stack.back();
    if (next < n->parents.size()) {
      Node* p = n->parents[next++].get();
      if (p->requires_grad && seen.insert(p).second) stack.emplace_back(p, 0);
    } else {
      order.push_back(n);
      stack.pop_back();
    }
  }
  for (Node* n : order)
    if (n->backward) n->grad.resize(0, 0);  // intermediate: recomputed from scratch
  node_->accumulate(seed);
  for (auto it = order.rbegin(); it != order.rend(); ++it)
    if ((*it)->backward && (*it)->grad.size() != 0) (*it)->backward(**it);
}

// --- ops: the value and, beside it, its backward ------------------------------

template <class T> BasicTensor<T> matmul(const BasicTensor<T>& a, const BasicTensor<T>& b) {
  if (a.cols() != b.rows()) shape_error("matmul", a, b, "have different inner dimensions");
  Matrix<T> out;
  gemm<T>(a.value(), false, b.value(), false, out);  // a (n, k) · b (k, m) -> (n, m)
  return make<T>("matmul", std::move(out), {&a, &b}, [](TensorNode<T>& self) {
    TensorNode<T>& pa = *self.parents[0];
    TensorNode<T>& pb = *self.parents[1];
    accumulate_product(pa, self.grad, false, pb.value, true);  // (n, m) · (m, k)
    accumulate_product(pb, pa.value, true, self.grad, false);  // (k, n) · (n, m)
  });
}

namespace {

// Checks linear's shapes; true when there is a bias.
template <class T>
bool check_linear(const BasicTensor<T>& x, const BasicTensor<T>& weight,
                  const BasicTensor<T>& bias) {
  if (x.cols() != weight.cols())
    shape_error("linear", x, weight, "do not fit: x is (batch, in), weight (out, in)");
  const bool has_bias = bias.rows() * bias.cols() != 0;
  if (has_bias && (bias.rows() != 1 || bias.cols() != weight.rows()))
    shape_error("linear", weight, bias, "do not fit: weight is (out, in), bias (1, out)");
  return has_bias;
}

// The products of linear's backward, given dL/dz: dX = dz W, dW = dz^T X.
template <class T> void linear_products(TensorNode<T>& self, const Matrix<T>& dz) {
  TensorNode<T>& px = *self.parents[0];
  TensorNode<T>& pw = *self.parents[1];
  accumulate_product(px, dz, false, pw.value, false);  // (B, out) · (out, in)
  accumulate_product(pw, dz, true, px.value, false);   // (out, B) · (B, in)
}

}  // namespace

template <class T>
BasicTensor<T> linear(const BasicTensor<T>& x, const BasicTensor<T>& weight,
                      const BasicTensor<T>& bias) {
  const bool has_bias = check_linear(x, weight, bias);
  Matrix<T> out;
  gemm<T>(x.value(), false, weight.value(), true, out);  // x (B, in) · W^T (in, out)
  if (has_bias) out.rowwise() += bias.value().row(0);    // + b (1, out) -> (B, out)
  return make<T>("linear", std::move(out), {&x, &weight, &bias}, [has_bias](TensorNode<T>& self) {
    linear_products(self, self.grad);
    if (has_bias) self.parents[2]->accumulate(self.grad.colwise().sum());  // (1, out)
  });
}

// linear + activation, fused. Column-major, so column j of z (B, out) is one output unit
// over the batch: contiguous, with one bias. Each pass below handles a column while it is
// in cache.
template <class T>
BasicTensor<T> linear(const BasicTensor<T>& x, const BasicTensor<T>& weight,
                      const BasicTensor<T>& bias, std::size_t id, BasicTensor<T>* pre) {
  const char* name = activation_name(id, "linear");
  const bool has_bias = check_linear(x, weight, bias);
  BasicTensor<T> z;  // the pre-activation: a leaf the backward and the probes share
  Matrix<T>& zv = z.value();
  gemm<T>(x.value(), false, weight.value(), true, zv);  // x (B, in) · W^T (in, out)
  const Index rows = zv.rows();
  const auto n = static_cast<std::size_t>(rows);
  Matrix<T> out(rows, zv.cols());
  for (Index j = 0; j < zv.cols(); ++j) {  // z += b, h = f(z): one pass
    if (has_bias) zv.col(j).array() += bias.value()(0, j);
    act::values(id, zv.col(j).data(), out.col(j).data(), n);
  }
  if (pre != nullptr) *pre = z;
  return make<T>(
      name, std::move(out), {&x, &weight, &bias}, [z, has_bias, id](TensorNode<T>& self) {
        const Matrix<T>& zz = z.value();
        TensorNode<T>& pb = *self.parents[2];
        const bool bias_grad = has_bias && pb.requires_grad;
        Matrix<T> dz(zz.rows(), zz.cols());
        Matrix<T> db(1, bias_grad ? zz.cols() : 0);
        const auto len = static_cast<std::size_t>(zz.rows());
        for (Index j = 0; j < zz.cols(); ++j) {  // dz = f'(z) * g, db = sum of dz
          act::slopes_times(id, zz.col(j).data(), self.grad.col(j).data(), dz.col(j).data(), len);
          if (bias_grad) db(0, j) = dz.col(j).sum();
        }
        if (bias_grad) pb.accumulate(db);
        linear_products(self, dz);
      });
}

template <class T> BasicTensor<T> BasicTensor<T>::t() const {
  return make<T>("transpose", value().transpose(), {this},
                 [](TensorNode<T>& self) { self.parents[0]->accumulate(self.grad.transpose()); });
}

template <class T> BasicTensor<T> operator+(const BasicTensor<T>& a, const BasicTensor<T>& b) {
  const auto [r, c] = broadcast_shape("add", a, b);
  Matrix<T> out = (a.rows() == r && a.cols() == c && b.rows() == r && b.cols() == c)
                      ? Matrix<T>(a.value() + b.value())
                      : Matrix<T>(expand<T>(a.value(), r, c) + expand<T>(b.value(), r, c));
  return make<T>("add", std::move(out), {&a, &b}, [](TensorNode<T>& self) {
    for (auto& p : self.parents)
      if (p->requires_grad)
        p->accumulate(reduce_to<T>(self.grad, p->value.rows(), p->value.cols()));
  });
}

template <class T> BasicTensor<T> operator*(const BasicTensor<T>& a, const BasicTensor<T>& b) {
  const auto [r, c] = broadcast_shape("mul", a, b);
  Matrix<T> out = expand<T>(a.value(), r, c).cwiseProduct(expand<T>(b.value(), r, c));
  return make<T>("mul", std::move(out), {&a, &b}, [](TensorNode<T>& self) {
    TensorNode<T>& pa = *self.parents[0];
    TensorNode<T>& pb = *self.parents[1];
    const Index rows = self.grad.rows(), cols = self.grad.cols();
    if (pa.requires_grad)  // d(a*b)/da = b
      pa.accumulate(reduce_to<T>(self.grad.cwiseProduct(expand<T>(pb.value, rows, cols)),
                                 pa.value.rows(), pa.value.cols()));
    if (pb.requires_grad)
      pb.accumulate(reduce_to<T>(self.grad.cwiseProduct(expand<T>(pa.value, rows, cols)),
                                 pb.value.rows(), pb.value.cols()));
  });
}

template <class T> BasicTensor<T> operator-(const BasicTensor<T>& a) { return a * T(-1); }

template <class T> BasicTensor<T> operator+(const BasicTensor<T>& a, ScalarOf<T> c) {
  return make<T>("add", (a.value().array() + c).matrix(), {&a},
                 [](TensorNode<T>& self) { self.parents[0]->accumulate(self.grad); });
}

template <class T> BasicTensor<T> operator*(const BasicTensor<T>& a, ScalarOf<T> c) {
  return make<T>("mul", a.value() * c, {&a},
                 [c](TensorNode<T>& self) { self.parents[0]->accumulate(self.grad * c); });
}

template <class T> BasicTensor<T> BasicTensor<T>::exp() const {
  Matrix out = value().array().exp().matrix();
  if (!out.allFinite() && value().allFinite())
    throw std::domain_error("slope::Tensor::exp: overflows for an element of " +
                            number(value().maxCoeff()));
  return make<T>("exp", std::move(out), {this}, [](TensorNode<T>& self) {
    self.parents[0]->accumulate(self.grad.cwiseProduct(self.value));  // exp' = exp
  });
}

template <class T> BasicTensor<T> BasicTensor<T>::log() const {
  if (value().size() != 0 && !(value().minCoeff() > T(0)))
    throw std::domain_error("slope::Tensor::log: needs positive elements, got " +
                            number(value().minCoeff()));
  return make<T>("log", value().array().log().matrix(), {this}, [](TensorNode<T>& self) {
    self.parents[0]->accumulate(self.grad.cwiseQuotient(self.parents[0]->value));
  });
}

template <class T> BasicTensor<T> BasicTensor<T>::pow(T p) const {
  Matrix out = value().array().pow(p).matrix();
  if (out.hasNaN() || (!out.allFinite() && value().allFinite())) {
    Index i = 0, j = 0;
    (!out.array().isFinite()).matrix().template cast<int>().maxCoeff(&i, &j);
    throw std::domain_error("slope::Tensor::pow: " + number(value()(i, j)) + " ** " + number(p) +
                            " is " + number(out(i, j)) + " (element " + shape_of(i, j) + ")");
  }
  return make<T>("pow", std::move(out), {this}, [p](TensorNode<T>& self) {
    const Matrix& x = self.parents[0]->value;
    if (p == T(0)) return;  // x^0 is constant (and 0 * 0^-1 would be NaN)
    self.parents[0]->accumulate(
        (self.grad.array() * p * x.array().pow(p - T(1))).matrix());  // p x^(p-1)
  });
}

template <class T> BasicTensor<T> BasicTensor<T>::sum() const {
  return make<T>("sum", Matrix::Constant(1, 1, value().sum()), {this}, [](TensorNode<T>& self) {
    const Matrix& x = self.parents[0]->value;
    self.parents[0]->accumulate(Matrix::Constant(x.rows(), x.cols(), self.grad(0, 0)));
  });
}

namespace {
void check_axis(const char* op, int axis) {
  if (axis != 0 && axis != 1)
    throw std::invalid_argument(std::string("slope::Tensor::") + op +
                                ": axis must be 0 or 1, got " + std::to_string(axis));
}
}  // namespace

template <class T> BasicTensor<T> BasicTensor<T>::sum(int axis) const {
  check_axis("sum", axis);
  Matrix out = axis == 0 ? Matrix(value().colwise().sum()) : Matrix(value().rowwise().sum());
  return make<T>("sum", std::move(out), {this}, [](TensorNode<T>& self) {
    const Matrix& x = self.parents[0]->value;
    self.parents[0]->accumulate(expand<T>(self.grad, x.rows(), x.cols()));
  });
}

template <class T> BasicTensor<T> BasicTensor<T>::mean() const {
  return sum() * (T(1) / static_cast<T>(std::max<Index>(1, value().size())));
}

template <class T> BasicTensor<T> BasicTensor<T>::mean(int axis) const {
  check_axis("mean", axis);
  const Index n = axis == 0 ? rows() : cols();
  return sum(axis) * (T(1) / static_cast<T>(std::max<Index>(1, n)));
}

// Activations: value and slope both come from the catalogue's one definition, run on SIMD
// batches (activation_kernels.hpp).
template <class T> BasicTensor<T> apply_activation(const BasicTensor<T>& x, std::size_t id) {
  const char* name = activation_name(id, "apply_activation");
  const Matrix<T>& z = x.value();  // (B, n) -> (B, n)
  Matrix<T> out(z.rows(), z.cols());
  act::values(id, z.data(), out.data(), static_cast<std::size_t>(z.size()));
  return make<T>(name, std::move(out), {&x}, [id](TensorNode<T>& self) {
    TensorNode<T>& p = *self.parents[0];
    if (!p.requires_grad) return;
    const auto n = static_cast<std::size_t>(p.value.size());
    if (p.grad.size() == 0) {  // dz = g * f'(z), written straight into the gradient
      p.grad.resize(p.value.rows(), p.value.cols());
      act::slopes_times(id, p.value.data(), self.grad.data(), p.grad.data(), n);
    } else {
      Matrix<T> dz(p.value.rows(), p.value.cols());
      act::slopes_times(id, p.value.data(), self.grad.data(), dz.data(), n);
      p.grad += dz;
    }
  });
}

template <class T> BasicTensor<T> BasicTensor<T>::relu() const {
  return apply_activation(*this, act::id_of<act::Relu>);
}
template <class T> BasicTensor<T> BasicTensor<T>::sigmoid() const {
  return apply_activation(*this, act::id_of<act::Sigmoid>);
}
template <class T> BasicTensor<T> BasicTensor<T>::tanh() const {
  return apply_activation(*this, act::id_of<act::Tanh>);
}
template <class T> BasicTensor<T> BasicTensor<T>::gelu() const {
  return apply_activation(*this, act::id_of<act::Gelu>);
}

template <class T> BasicTensor<T> apply(const BasicTensor<T>& x, std::string_view name) {
  return apply_activation(x, act::find(name));
}

// --- layer norm: fused, because composed from mean and pow it is 9 nodes and 3 passes ---

template <class T>
BasicTensor<T> layer_norm(const BasicTensor<T>& x, const BasicTensor<T>& weight,
                          const BasicTensor<T>& bias, double eps) {
  const Index C = x.cols();
  const bool has_w = weight.rows() * weight.cols() != 0, has_b = bias.rows() * bias.cols() != 0;
  if (C < 1) throw ShapeError("slope::layer_norm: needs at least one feature, got " + x.shape());
  if (has_w && (weight.rows() != 1 || weight.cols() != C))
    shape_error("layer_norm", x, weight, "differ: weight must be (1, cols of x)");
  if (has_b && (bias.rows() != 1 || bias.cols() != C))
    shape_error("layer_norm", x, bias, "differ: bias must be (1, cols of x)");
  if (!(eps >= 0) || !std::isfinite(eps))
    throw std::invalid_argument("slope::layer_norm: eps must be finite and >= 0, got " +
                                number(eps));
  // Per row b: mean_b, rstd_b = 1 / sqrt(var_b + eps); xhat = (x - mean) * rstd. (B, 1) each.
  Matrix<T> mean = x.value().rowwise().mean();
  Matrix<T> out = x.value().colwise() - mean.col(0);  // (B, C), then xhat, then y
  Matrix<T> rstd = (out.array().square().rowwise().mean() + static_cast<T>(eps)).rsqrt().matrix();
  out = (out.array().colwise() * rstd.col(0).array()).matrix();
  if (has_w) out = (out.array().rowwise() * weight.value().row(0).array()).matrix();
  if (has_b) out = (out.array().rowwise() + bias.value().row(0).array()).matrix();
  return make<T>(
      "layer_norm", std::move(out), {&x, &weight, &bias},
      [mean = std::move(mean), rstd = std::move(rstd), has_w, has_b](TensorNode<T>& self) {
        TensorNode<T>& px = *self.parents[0];
        TensorNode<T>& pw = *self.parents[1];
        TensorNode<T>& pb = *self.parents[2];
        const Matrix<T>& g = self.grad;  // dL/dy (B, C)
        const Matrix<T> xhat =
            ((px.value.colwise() - mean.col(0)).array().colwise() * rstd.col(0).array()).matrix();
        if (has_w) pw.accumulate(g.cwiseProduct(xhat).colwise().sum());  // (1, C)
        if (has_b) pb.accumulate(g.colwise().sum());                     // (1, C)
        if (!px.requires_grad) return;
        // dxhat = g * weight; dx = rstd * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat)),
        // the means over each row's C features (llm.c's layernorm_backward).
        const Matrix<T> dxhat =
            has_w ? Matrix<T>((g.array().rowwise() * pw.value.row(0).array()).matrix()) : g;
        const Matrix<T> m1 = dxhat.rowwise().mean();                     // (B, 1)
        const Matrix<T> m2 = dxhat.cwiseProduct(xhat).rowwise().mean();  // (B, 1)
        px.accumulate(
            ((((dxhat.colwise() - m1.col(0)).array() - xhat.array().colwise() * m2.col(0).array())
                  .colwise() *
              rstd.col(0).array())
                 .matrix()));
      });
}

// --- softmax and losses: fused, because composing them is slow and overflows ---

namespace {
// Row-wise log-sum-exp, shifted by the row maximum so exp never overflows. (n, 1)
template <class T> Matrix<T> logsumexp_rows(const Matrix<T>& z) {
  const Matrix<T> m = z.rowwise().maxCoeff();
  return (m.array() + (z.colwise() - m.col(0)).array().exp().rowwise().sum().log()).matrix();
}
}  // namespace

template <class T> BasicTensor<T> log_softmax(const BasicTensor<T>& logits) {
  Matrix<T> out = logits.value().colwise() - logsumexp_rows<T>(logits.value()).col(0);
  return make<T>("log_softmax", std::move(out), {&logits}, [](TensorNode<T>& self) {
    // dx = g - softmax * rowsum(g)
    const Matrix<T> s = self.value.array().exp().matrix();
    const Matrix<T> gsum = self.grad.rowwise().sum();
    self.parents[0]->accumulate(self.grad - (s.array().colwise() * gsum.col(0).array()).matrix());
  });
}

template <class T> BasicTensor<T> softmax(const BasicTensor<T>& logits) {
  const Matrix<T>& z = logits.value();
  Matrix<T> out = (z.colwise() - logsumexp_rows<T>(z).col(0)).array().exp().matrix();
  return make<T>("softmax", std::move(out), {&logits}, [](TensorNode<T>& self) {
    // dx = s * (g - rowsum(g * s))
    const Matrix<T>& s = self.value;
    const Matrix<T> dot = self.grad.cwiseProduct(s).rowwise().sum();
    self.parents[0]->accumulate((s.array() * (self.grad.colwise() - dot.col(0)).array()).matrix());
  });
}

template <class T>
BasicTensor<T> mse_loss(const BasicTensor<T>& pred, const BasicTensor<T>& target) {
  if (pred.rows() != target.rows() || pred.cols() != target.cols())
    shape_error("mse_loss", pred, target, "differ");
  Matrix<T> diff = pred.value() - target.value();
  const T n = static_cast<T>(std::max<Index>(1, diff.size()));
  const T loss = diff.squaredNorm() / n;
  return make<T>("mse_loss", Matrix<T>::Constant(1, 1, loss), {&pred, &target},
                 [diff = std::move(diff), n](TensorNode<T>& self) {
                   const T k = T(2) * self.grad(0, 0) / n;  // d/dpred = 2 (pred - target) / n
                   self.parents[0]->accumulate(diff * k);
                   self.parents[1]->accumulate(diff * -k);
                 });
}

template <class T>
BasicTensor<T> cross_entropy(const BasicTensor<T>& logits, const std::vector<int>& labels) {
  const Matrix<T>& z = logits.value();
  if (static_cast<Index>(labels.size()) != z.rows())
    throw ShapeError("slope::cross_entropy: " + std::to_string(labels.size()) +
                     " labels for logits of shape " + logits.shape());
  for (std::size_t i = 0; i < labels.size(); ++i)
    if (labels[i] < 0 || labels[i] >= z.cols())
      throw std::invalid_argument("slope::cross_entropy: label " + std::to_string(labels[i]) +
                                  " at row " + std::to_string(i) + " is outside [0, " +
                                  std::to_string(z.cols()) + ")");
  const Matrix<T> lse = logsumexp_rows<T>(z);
  const T n = static_cast<T>(std::max<Index>(1, z.rows()));
  T loss = 0;
  for (Index i = 0; i < z.rows(); ++i) loss += lse(i, 0) - z(i, labels[i]);
  return make<T>("cross_entropy", Matrix<T>::Constant(1, 1, loss / n), {&logits},
                 [labels, n](TensorNode<T>& self) {
                   // d/dz = (softmax(z) - onehot(label)) / n
                   const Matrix<T>& zz = self.parents[0]->value;
                   Matrix<T> g = (zz.colwise() - logsumexp_rows<T>(zz).col(0)).array().exp();
                   for (Index i = 0; i < g.rows(); ++i) g(i, labels[i]) -= T(1);
                   self.parents[0]->accumulate(g * (self.grad(0, 0) / n));
                 });
}

template <class T> double accuracy(const BasicTensor<T>& logits, const std::vector<int>& labels) {
  const Matrix<T>& z = logits.value();
  if (static_cast<Index>(labels.size()) != z.rows())
    throw ShapeError("slope::accuracy: " + std::to_string(labels.size()) +
                     " labels for logits of shape " + logits.shape());
  std::size_t right = 0;
  for (Index i = 0; i < z.rows(); ++i) {
    Index best = 0;
    z.row(i).maxCoeff(&best);
    right += best == labels[static_cast<std::size_t>(i)];
  }
  return z.rows() ? static_cast<double>(right) / static_cast<double>(z.rows()) : 0.0;
}

template <class T>
BasicTensor<T> binary_cross_entropy_with_logits(const BasicTensor<T>& logits,
                                                const BasicTensor<T>& target) {
  if (logits.rows() != target.rows() || logits.cols() != target.cols())
    shape_error("binary_cross_entropy_with_logits", logits, target, "differ");
  const Matrix<T>& x = logits.value();
  const Matrix<T>& y = target.value();
  const T n = static_cast<T>(std::max<Index>(1, x.size()));
  // -[y log sigmoid(x) + (1 - y) log(1 - sigmoid(x))] = softplus(x) - x y, with the
  // catalogue's overflow-free softplus (the form PyTorch uses).
  const T loss =
      (x.unaryExpr([](T v) { return act::Softplus::value(v); }).array() - x.array() * y.array())
          .sum() /
      n;
  return make<T>("binary_cross_entropy_with_logits", Matrix<T>::Constant(1, 1, loss),
                 {&logits, &target}, [n](TensorNode<T>& self) {
                   const Matrix<T>& xx = self.parents[0]->value;
                   const Matrix<T>& yy = self.parents[1]->value;
                   const T k = self.grad(0, 0) / n;
                   const Matrix<T> s = xx.unaryExpr([](T v) { return act::Sigmoid::value(v); });
                   self.parents[0]->accumulate((s - yy) * k);  // sigmoid(x) - y
                   self.parents[1]->accumulate(xx * -k);       // -x
                 });
}

template <class T>
BasicTensor<T> hinge_loss(const BasicTensor<T>& scores, const BasicTensor<T>& target) {
  if (scores.rows() != target.rows() || scores.cols() != target.cols())
    shape_error("hinge_loss", scores, target, "differ");
  const Matrix<T>& s = scores.value();
  const Matrix<T>& y = target.value();
  const T n = static_cast<T>(std::max<Index>(1, s.size()));
  const T loss = (T(1) - y.array() * s.array()).max(T(0)).sum() / n;
  return make<T>("hinge_loss", Matrix<T>::Constant(1, 1, loss), {&scores, &target},
                 [n](TensorNode<T>& self) {
                   const Matrix<T>& ss = self.parents[0]->value;
                   const Matrix<T>& yy = self.parents[1]->value;
                   const T k = self.grad(0, 0) / n;
                   // Inside the margin (1 - y s > 0) the slope is -y (wrt s) and -s (wrt y).
                   const Matrix<T> active =
                       ((T(1) - yy.array() * ss.array()) > T(0)).template cast<T>().matrix();
                   self.parents[0]->accumulate(active.cwiseProduct(yy) * -k);
                   self.parents[1]->accumulate(active.cwiseProduct(ss) * -k);
                 });
}

// --- explicit instantiations for float and double --------------------------------

#define SLOPE_INSTANTIATE(T)                                                             \
  template class BasicTensor<T>;                                                         \
  template BasicTensor<T> matmul(const BasicTensor<T>&, const BasicTensor<T>&);          \
  template BasicTensor<T> linear(const BasicTensor<T>&, const BasicTensor<T>&,           \
                                 const BasicTensor<T>&);                                 \
  template BasicTensor<T> linear(const BasicTensor<T>&, const BasicTensor<T>&,           \
                                 const BasicTensor<T>&, std::size_t, BasicTensor<T>*);   \
  template BasicTensor<T> operator+(const BasicTensor<T>&, const BasicTensor<T>&);       \
  template BasicTensor<T> operator*(const BasicTensor<T>&, const BasicTensor<T>&);       \
  template BasicTensor<T> operator-(const BasicTensor<T>&);                              \
  template BasicTensor<T> operator+(const BasicTensor<T>&, ScalarOf<T>);                 \
  template BasicTensor<T> operator*(const BasicTensor<T>&, ScalarOf<T>);                 \
  template BasicTensor<T> apply(const BasicTensor<T>&, std::string_view);                \
  template BasicTensor<T> apply_activation(const BasicTensor<T>&, std::size_t);          \
  template BasicTensor<T> layer_norm(const BasicTensor<T>&, const BasicTensor<T>&,       \
                                     const BasicTensor<T>&, double);                     \
  template BasicTensor<T> softmax(const BasicTensor<T>&);                                \
  template BasicTensor<T> log_softmax(const BasicTensor<T>&);                            \
  template BasicTensor<T> mse_loss(const BasicTensor<T>&, const BasicTensor<T>&);        \
  template BasicTensor<T> cross_entropy(const BasicTensor<T>&, const std::vector<int>&); \
  template double accuracy(const BasicTensor<T>&, const std::vector<int>&);              \
  template BasicTensor<T> binary_cross_entropy_with_logits(const BasicTensor<T>&,        \
                                                           const BasicTensor<T>&);       \
  template BasicTensor<T> hinge_loss(const BasicTensor<T>&, const BasicTensor<T>&);

SLOPE_INSTANTIATE(float)
SLOPE_INSTANTIATE(double)
#undef SLOPE_INSTANTIATE

}  // namespace slope
