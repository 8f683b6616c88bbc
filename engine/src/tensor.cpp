#include "slope/tensor.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <sstream>
#include <string>

#include "ops.hpp"
#include "slope/activation_kernels.hpp"
#include "slope/activations.hpp"
#include "slope/gemm.hpp"
#include "slope/threads.hpp"

namespace slope {

namespace {
thread_local bool t_grad_enabled = true;
}

no_grad::no_grad() : previous_(t_grad_enabled) { t_grad_enabled = false; }
no_grad::~no_grad() { t_grad_enabled = previous_; }
bool grad_enabled() { return t_grad_enabled; }

void empty_cache() {
  detail::clear_caches();
  detail::clear_packing_buffers();
}

// --- the tensor handle ----------------------------------------------------------

template <class T> BasicTensor<T>::BasicTensor() : node_(new_node<T>()) {}

template <class T>
BasicTensor<T>::BasicTensor(Matrix value, bool requires_grad) : node_(new_node<T>()) {
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
  if (node_->grad.size() == 0) {
    node_->grad = fresh<T>(rows(), cols());
    node_->grad.setZero();
  }
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

template <class T> BasicTensor<T> BasicTensor<T>::detach() const {
  return BasicTensor(evaluated<T>(value()));
}

template <class T> void BasicTensor<T>::backward() const {
  if (rows() != 1 || cols() != 1)
    throw std::invalid_argument("slope::Tensor::backward: a " + shape() +
                                " tensor needs a seed gradient of its shape; only a (1, 1) "
                                "tensor backpropagates without one");
  Scratch<T> seed(1, 1);
  seed.m(0, 0) = T(1);
  backward(seed.m);
}

template <class T> void BasicTensor<T>::backward(const Matrix& seed) const {
  if (!requires_grad())
    throw std::invalid_argument(
        "slope::Tensor::backward: this tensor does not require grad (no input of its graph "
        "was created with requires_grad = true, or it was built under no_grad)");
  if (seed.rows() != rows() || seed.cols() != cols())
    throw ShapeError("slope::Tensor::backward: seed shape " + shape_of(seed.rows(), seed.cols()) +
                     " differs from the tensor's " + shape());
  // Topological order by an iterative depth-first search (post-order). Each pass has its
  // own number, so a node is marked as reached by writing it, with no set to clear; the
  // two lists keep their capacity on this thread for the next pass.
  static std::atomic<std::uint64_t> passes{0};
  const std::uint64_t pass = passes.fetch_add(1, std::memory_order_relaxed) + 1;
  thread_local std::vector<Node*> t_order;
  thread_local std::vector<std::pair<Node*, std::size_t>> t_stack;
  std::vector<Node*> order = std::move(t_order);  // taken, so a nested pass starts empty
  std::vector<std::pair<Node*, std::size_t>> stack = std::move(t_stack);
  order.clear();
  stack.clear();
  node_->visited = pass;
  stack.emplace_back(node_.get(), 0);
  while (!stack.empty()) {
    auto& [n, next] = stack.back();
    if (next < n->parents.size()) {
      Node* p = n->parents[next++].get();
      if (p->requires_grad && p->visited != pass) {
        p->visited = pass;
        stack.emplace_back(p, 0);
      }
    } else {
      order.push_back(n);
      stack.pop_back();
    }
  }
  for (Node* n : order)
    if (n->backward) detail::give_matrix(n->grad);  // intermediate: recomputed from scratch
  node_->accumulate(seed);
  for (auto it = order.rbegin(); it != order.rend(); ++it)
    if ((*it)->backward && (*it)->grad.size() != 0) (*it)->backward(**it);
  t_order = std::move(order);
  t_stack = std::move(stack);
}

// --- ops: the value and, beside it, its backward ------------------------------

template <class T> BasicTensor<T> matmul(const BasicTensor<T>& a, const BasicTensor<T>& b) {
  if (a.cols() != b.rows()) shape_error("matmul", a, b, "have different inner dimensions");
  Matrix<T> out = fresh<T>(a.rows(), b.cols());
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
  Matrix<T> out = fresh<T>(x.rows(), weight.rows());
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
  // The pre-activation: a leaf the backward (as a saved tensor) and the probes share.
  BasicTensor<T> z = saved<T>(fresh<T>(x.rows(), weight.rows()));
  Matrix<T>& zv = z.value();
  gemm<T>(x.value(), false, weight.value(), true, zv);  // x (B, in) · W^T (in, out)
  const Index rows = zv.rows();
  const auto n = static_cast<std::size_t>(rows);
  Matrix<T> out = fresh<T>(rows, zv.cols());
  parallel_for(zv.cols(), zv.size(), [&](Index j) {  // z += b, h = f(z): one pass
    if (has_bias) zv.col(j).array() += bias.value()(0, j);
    act::values(id, zv.col(j).data(), out.col(j).data(), n);
  });
  if (pre != nullptr) *pre = z;
  return make<T>(name, std::move(out), {&x, &weight, &bias},
                 [id](TensorNode<T>& self) {
                   const Matrix<T>& zz = self.parents[3]->value;
                   // f(z): sigmoid, tanh and gelu take their slopes from it
                   const Matrix<T>& h = self.value;
                   TensorNode<T>& pb = *self.parents[2];
                   const bool bias_grad = pb.value.size() != 0 && pb.requires_grad;
                   Scratch<T> dz(zz.rows(), zz.cols()), db(1, bias_grad ? zz.cols() : 0);
                   const auto len = static_cast<std::size_t>(zz.rows());
                   // dz = f'(z) * g, db = sum of dz
                   parallel_for(zz.cols(), zz.size(), [&](Index j) {
                     act::slopes_times(id, zz.col(j).data(), h.col(j).data(),
                                       self.grad.col(j).data(), dz.m.col(j).data(), len);
                     if (bias_grad) db.m(0, j) = dz.m.col(j).sum();
                   });
                   if (bias_grad) pb.accumulate(db.m);
                   linear_products(self, dz.m);
                 },
                 {&z});
}

template <class T> BasicTensor<T> BasicTensor<T>::t() const {
  return make<T>("transpose", evaluated<T>(value().transpose()), {this},
                 [](TensorNode<T>& self) { self.parents[0]->accumulate(self.grad.transpose()); });
}

template <class T> BasicTensor<T> operator+(const BasicTensor<T>& a, const BasicTensor<T>& b) {
  const auto [r, c] = broadcast_shape("add", a, b);
  Matrix<T> out = (a.rows() == r && a.cols() == c && b.rows() == r && b.cols() == c)
                      ? evaluated<T>(a.value() + b.value())
                      : evaluated<T>(expand<T>(a.value(), r, c) + expand<T>(b.value(), r, c));
  return make<T>("add", std::move(out), {&a, &b}, [](TensorNode<T>& self) {
    for (auto& p : self.parents)
      if (p->requires_grad) accumulate_reduced(*p, self.grad);
  });
}

template <class T> BasicTensor<T> operator*(const BasicTensor<T>& a, const BasicTensor<T>& b) {
  const auto [r, c] = broadcast_shape("mul", a, b);
  Matrix<T> out = evaluated<T>(expand<T>(a.value(), r, c).cwiseProduct(expand<T>(b.value(), r, c)));
  return make<T>("mul", std::move(out), {&a, &b}, [](TensorNode<T>& self) {
    TensorNode<T>& pa = *self.parents[0];
    TensorNode<T>& pb = *self.parents[1];
    const Index rows = self.grad.rows(), cols = self.grad.cols();
    if (pa.requires_grad)  // d(a*b)/da = b
      accumulate_reduced(pa, self.grad.cwiseProduct(expand<T>(pb.value, rows, cols)));
    if (pb.requires_grad)
      accumulate_reduced(pb, self.grad.cwiseProduct(expand<T>(pa.value, rows, cols)));
  });
}

template <class T> BasicTensor<T> operator-(const BasicTensor<T>& a) { return a * T(-1); }

template <class T> BasicTensor<T> operator+(const BasicTensor<T>& a, ScalarOf<T> c) {
  return make<T>("add", evaluated<T>((a.value().array() + c).matrix()), {&a},
                 [](TensorNode<T>& self) { self.parents[0]->accumulate(self.grad); });
}

template <class T> BasicTensor<T> operator*(const BasicTensor<T>& a, ScalarOf<T> c) {
  return make<T>("mul", evaluated<T>(a.value() * c), {&a},
                 [c](TensorNode<T>& self) { self.parents[0]->accumulate(self.grad * c); });
}

template <class T> BasicTensor<T> BasicTensor<T>::exp() const {
  Matrix out = evaluated<T>(value().array().exp().matrix());
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
  return make<T>("log", evaluated<T>(value().array().log().matrix()), {this},
                 [](TensorNode<T>& self) {
                   self.parents[0]->accumulate(self.grad.cwiseQuotient(self.parents[0]->value));
                 });
}

template <class T> BasicTensor<T> BasicTensor<T>::pow(T p) const {
  Matrix out = evaluated<T>(value().array().pow(p).matrix());
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
  return make<T>(
      "sum", evaluated<T>(Matrix::Constant(1, 1, value().sum())), {this}, [](TensorNode<T>& self) {
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
  Matrix out =
      axis == 0 ? evaluated<T>(value().colwise().sum()) : evaluated<T>(value().rowwise().sum());
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
  Matrix<T> out = fresh<T>(z.rows(), z.cols());
  in_chunks(z.size(), [&](Index at, std::size_t len) {
    act::values(id, z.data() + at, out.data() + at, len);
  });
  return make<T>(name, std::move(out), {&x}, [id](TensorNode<T>& self) {
    TensorNode<T>& p = *self.parents[0];
    if (!p.requires_grad) return;
    const T* zs = p.value.data();
    const T* ys = self.value.data();
    const T* g = self.grad.data();
    if (p.grad.size() == 0) {  // dz = g * f'(z), written straight into the gradient
      p.grad = fresh<T>(p.value.rows(), p.value.cols());
      T* dz = p.grad.data();
      in_chunks(p.value.size(), [&](Index at, std::size_t len) {
        act::slopes_times(id, zs + at, ys + at, g + at, dz + at, len);
      });
    } else {
      Scratch<T> dz(p.value.rows(), p.value.cols());
      T* d = dz.m.data();
      T* acc = p.grad.data();
      in_chunks(p.value.size(), [&](Index at, std::size_t len) {
        act::slopes_times(id, zs + at, ys + at, g + at, d + at, len);
        using Flat = Eigen::Map<Eigen::Array<T, Eigen::Dynamic, 1>>;
        Flat(acc + at, static_cast<Index>(len)) += Flat(d + at, static_cast<Index>(len));
      });
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
  // Both kept for the backward, as saved tensors.
  const BasicTensor<T> row_mean = saved<T>(evaluated<T>(x.value().rowwise().mean()));
  Matrix<T> out = evaluated<T>(x.value().colwise() - row_mean.value().col(0));  // then xhat, then y
  const BasicTensor<T> row_rstd = saved<T>(
      evaluated<T>((out.array().square().rowwise().mean() + static_cast<T>(eps)).rsqrt().matrix()));
  out = (out.array().colwise() * row_rstd.value().col(0).array()).matrix();
  if (has_w) out = (out.array().rowwise() * weight.value().row(0).array()).matrix();
  if (has_b) out = (out.array().rowwise() + bias.value().row(0).array()).matrix();
  return make<T>(
      "layer_norm", std::move(out), {&x, &weight, &bias},
      [has_w, has_b](TensorNode<T>& self) {
        TensorNode<T>& px = *self.parents[0];
        TensorNode<T>& pw = *self.parents[1];
        TensorNode<T>& pb = *self.parents[2];
        const Matrix<T>& mean = self.parents[3]->value;
        const Matrix<T>& rstd = self.parents[4]->value;
        const Matrix<T>& g = self.grad;  // dL/dy (B, C)
        const Scratch<T> xhat(
            ((px.value.colwise() - mean.col(0)).array().colwise() * rstd.col(0).array()).matrix());
        if (has_w) pw.accumulate(g.cwiseProduct(xhat.m).colwise().sum());  // (1, C)
        if (has_b) pb.accumulate(g.colwise().sum());                       // (1, C)
        if (!px.requires_grad) return;
        // dxhat = g * weight; dx = rstd * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat)),
        // the means over each row's C features (llm.c's layernorm_backward).
        const Scratch<T> dxhat(
            has_w ? evaluated<T>((g.array().rowwise() * pw.value.row(0).array()).matrix())
                  : evaluated<T>(g));
        const Scratch<T> m1(dxhat.m.rowwise().mean());                       // (B, 1)
        const Scratch<T> m2(dxhat.m.cwiseProduct(xhat.m).rowwise().mean());  // (B, 1)
        px.accumulate(((((dxhat.m.colwise() - m1.m.col(0)).array() -
                         xhat.m.array().colwise() * m2.m.col(0).array())
                            .colwise() *
                        rstd.col(0).array())
                           .matrix()));
      },
      {&row_mean, &row_rstd});
}

// --- softmax and losses: fused, because composing them is slow and overflows ---

namespace {
// Row-wise log-sum-exp, shifted by the row maximum so exp never overflows. (n, 1)
// From the cache: hold it in a Scratch.
template <class T> Matrix<T> logsumexp_rows(const Matrix<T>& z) {
  const Scratch<T> m(z.rowwise().maxCoeff());
  return evaluated<T>(m.m.array() + (z.colwise() - m.m.col(0)).array().exp().rowwise().sum().log());
}
}  // namespace

template <class T> BasicTensor<T> log_softmax(const BasicTensor<T>& logits) {
  const Scratch<T> lse(logsumexp_rows<T>(logits.value()));
  Matrix<T> out = evaluated<T>(logits.value().colwise() - lse.m.col(0));
  return make<T>("log_softmax", std::move(out), {&logits}, [](TensorNode<T>& self) {
    // dx = g - softmax * rowsum(g)
    const Scratch<T> s(self.value.array().exp().matrix());
    const Scratch<T> gsum(self.grad.rowwise().sum());
    self.parents[0]->accumulate(self.grad -
                                (s.m.array().colwise() * gsum.m.col(0).array()).matrix());
  });
}

template <class T> BasicTensor<T> softmax(const BasicTensor<T>& logits) {
  const Matrix<T>& z = logits.value();
  const Scratch<T> lse(logsumexp_rows<T>(z));
  Matrix<T> out = evaluated<T>((z.colwise() - lse.m.col(0)).array().exp().matrix());
  return make<T>("softmax", std::move(out), {&logits}, [](TensorNode<T>& self) {
    // dx = s * (g - rowsum(g * s))
    const Matrix<T>& s = self.value;
    const Scratch<T> dot(self.grad.cwiseProduct(s).rowwise().sum());
    self.parents[0]->accumulate(
        (s.array() * (self.grad.colwise() - dot.m.col(0)).array()).matrix());
  });
}

template <class T>
BasicTensor<T> mse_loss(const BasicTensor<T>& pred, const BasicTensor<T>& target) {
  if (pred.rows() != target.rows() || pred.cols() != target.cols())
    shape_error("mse_loss", pred, target, "differ");
  const BasicTensor<T> diff = saved<T>(evaluated<T>(pred.value() - target.value()));
  const T n = static_cast<T>(std::max<Index>(1, diff.value().size()));
  const T loss = diff.value().squaredNorm() / n;
  Matrix<T> out = fresh<T>(1, 1);
  out(0, 0) = loss;
  return make<T>("mse_loss", std::move(out), {&pred, &target},
                 [n](TensorNode<T>& self) {
                   const Matrix<T>& d = self.parents[2]->value;
                   const T k = T(2) * self.grad(0, 0) / n;  // d/dpred = 2 (pred - target) / n
                   self.parents[0]->accumulate(d * k);
                   self.parents[1]->accumulate(d * -k);
                 },
                 {&diff});
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
  const Scratch<T> lse(logsumexp_rows<T>(z));
  const T n = static_cast<T>(std::max<Index>(1, z.rows()));
  T loss = 0;
  for (Index i = 0; i < z.rows(); ++i) loss += lse.m(i, 0) - z(i, labels[i]);
  // The backward's softmax(z) - onehot(label), formed here while lse is at hand, when a
  // gradient will be asked for (so the labels need not be kept).
  BasicTensor<T> g;
  if (records<T>({&logits})) {
    g = saved<T>(evaluated<T>((z.colwise() - lse.m.col(0)).array().exp()));
    for (Index i = 0; i < z.rows(); ++i) g.value()(i, labels[i]) -= T(1);
  }

  Matrix<T> out = fresh<T>(1, 1);
  out(0, 0) = loss / n;
  return make<T>("cross_entropy", std::move(out), {&logits},
                 [n](TensorNode<T>& self) {  // d/dz = (softmax(z) - onehot(label)) / n
                   self.parents[0]->accumulate(self.parents[1]->value * (self.grad(0, 0) / n));
                 },
                 {&g});
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
  return make<T>("binary_cross_entropy_with_logits", evaluated<T>(Matrix<T>::Constant(1, 1, loss)),
                 {&logits, &target}, [n](TensorNode<T>& self) {
                   const Matrix<T>& xx = self.parents[0]->value;
                   const Matrix<T>& yy = self.parents[1]->value;
                   const T k = self.grad(0, 0) / n;
                   const Scratch<T> s(xx.unaryExpr([](T v) { return act::Sigmoid::value(v); }));
                   self.parents[0]->accumulate((s.m - yy) * k);  // sigmoid(x) - y
                   self.parents[1]->accumulate(xx * -k);         // -x
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
  return make<T>("hinge_loss", evaluated<T>(Matrix<T>::Constant(1, 1, loss)), {&scores, &target},
                 [n](TensorNode<T>& self) {
                   const Matrix<T>& ss = self.parents[0]->value;
                   const Matrix<T>& yy = self.parents[1]->value;
                   const T k = self.grad(0, 0) / n;
                   // Inside the margin (1 - y s > 0) the slope is -y (wrt s) and -s (wrt y).
                   const Scratch<T> active(
                       ((T(1) - yy.array() * ss.array()) > T(0)).template cast<T>().matrix());
                   self.parents[0]->accumulate(active.m.cwiseProduct(yy) * -k);
                   self.parents[1]->accumulate(active.m.cwiseProduct(ss) * -k);
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
