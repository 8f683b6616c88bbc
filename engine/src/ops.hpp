// The helpers every tensor op is written with (tensor.cpp, transformer.cpp): the node an op
// makes and its saved tensors, buffers from the thread's cache, broadcasting, shapes in
// error messages. Internal to the engine's sources; docs/architecture.md, "How an op is
// written", walks through them.
#pragma once

#include <algorithm>
#include <memory>
#include <sstream>
#include <string>
#include <utility>

#include "slope/gemm.hpp"
#include "slope/tensor.hpp"
#include "slope/threads.hpp"

namespace slope {

namespace {

using detail::TensorNode;
template <class T> using Matrix = typename BasicTensor<T>::Matrix;
using Index = Eigen::Index;

// Every node and buffer of a graph comes from the thread's cache (slope/detail/cache.hpp),
// so a training step reuses the previous step's memory and allocates nothing.
template <class T> std::shared_ptr<TensorNode<T>> new_node() {
  return std::allocate_shared<TensorNode<T>>(detail::Cached<TensorNode<T>>{});
}
// A rows x cols matrix for an op to fill: its elements are not set.
template <class T> Matrix<T> fresh(Index rows, Index cols) {
  return detail::take_matrix<T>(rows, cols);
}
// The value of an expression, in a fresh matrix.
template <class T, class Expr> Matrix<T> evaluated(const Expr& e) {
  Matrix<T> m = fresh<T>(e.rows(), e.cols());
  m = e;
  return m;
}
// A matrix for an op's own use, given back to the cache at the end of its scope.
template <class T> struct Scratch {
  Matrix<T> m;
  Scratch(Index rows, Index cols) : m(fresh<T>(rows, cols)) {}
  explicit Scratch(Matrix<T>&& from_cache) : m(std::move(from_cache)) {}
  template <class Expr> explicit Scratch(const Expr& e) : m(evaluated<T>(e)) {}
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  ~Scratch() { detail::give_matrix(m); }
};

inline std::string shape_of(Index r, Index c) {
  // Appended rather than "(" + ...: GCC 12 warns falsely (-Wrestrict) on that form.
  std::string s = "(";
  s += std::to_string(r);
  s += ", ";
  s += std::to_string(c);
  s += ")";
  return s;
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

// Whether an op on these inputs records its graph: grad mode is on and some input needs a
// gradient.
template <class T> bool records(std::initializer_list<const BasicTensor<T>*> inputs) {
  return grad_enabled() && std::any_of(inputs.begin(), inputs.end(), [](const BasicTensor<T>* in) {
           return in->requires_grad();
         });
}

// The output of an op. The graph is recorded only when grad mode is on and some
// input needs a gradient; `backward` then sends the output's grad to its parents. `saved`
// are tensors the backward reads besides the inputs, kept as parents after them (leaves
// that need no gradient). A backward that captures at most 16 trivially copyable bytes is
// stored in the std::function itself, with no allocation.
template <class T, class Backward>
BasicTensor<T> make(const char* op, Matrix<T> value,
                    std::initializer_list<const BasicTensor<T>*> inputs, Backward&& backward,
                    std::initializer_list<const BasicTensor<T>*> saved = {}) {
  auto n = new_node<T>();
  n->value = std::move(value);
  n->op = op;
  n->requires_grad = records<T>(inputs);
  if (n->requires_grad) {
    n->parents.reserve(inputs.size() + saved.size());
    for (const BasicTensor<T>* in : inputs) n->parents.push_back(in->node());
    for (const BasicTensor<T>* in : saved) n->parents.push_back(in->node());
    n->backward = std::forward<Backward>(backward);
  }
  return BasicTensor<T>(std::move(n));
}
// A tensor an op keeps for its backward: a leaf holding `value`, needing no gradient.
template <class T> BasicTensor<T> saved(Matrix<T> value) {
  auto n = new_node<T>();
  n->value = std::move(value);
  return BasicTensor<T>(std::move(n));
}

// n.grad += op(a) · op(b), written straight into the gradient (no temporary, no copy of a
// transposed operand).
template <class T>
void accumulate_product(TensorNode<T>& n, const Matrix<T>& a, bool ta, const Matrix<T>& b,
                        bool tb) {
  if (!n.requires_grad) return;
  const bool add = n.grad.size() != 0;
  if (!add) n.grad = fresh<T>(ta ? a.cols() : a.rows(), tb ? b.rows() : b.cols());
  gemm<T>(a, ta, b, tb, n.grad, add);
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
// m stretched to (rows, cols) along its dimensions of size 1 (an expression over m).
template <class T> auto expand(const Matrix<T>& m, Index rows, Index cols) {
  return m.replicate(m.rows() == rows ? 1 : rows, m.cols() == cols ? 1 : cols);
}
// p.grad += g for a broadcast input p: g summed over the dimensions p was stretched along.
template <class T, class Expr> void accumulate_reduced(TensorNode<T>& p, const Expr& g) {
  const Index rows = p.value.rows(), cols = p.value.cols();
  if (g.rows() == rows && g.cols() == cols)
    p.accumulate(g);
  else if (rows == 1 && cols == 1)
    p.accumulate(Matrix<T>::Constant(1, 1, g.sum()));
  else if (rows == 1)
    p.accumulate(g.colwise().sum());
  else
    p.accumulate(g.rowwise().sum());
}

// f(at, length) over the elements [0, size) of a matrix, in chunks split over the threads
// (parallel_for): for elementwise work on a matrix's flat storage.
template <class F> void in_chunks(Index size, const F& f) {
  constexpr Index kChunk = 8192;  // a multiple of every SIMD batch width
  parallel_for((size + kChunk - 1) / kChunk, size, [&](Index c) {
    f(c * kChunk, static_cast<std::size_t>(std::min(kChunk, size - c * kChunk)));
  });
}

// The name of the activation at catalogue position `id`, checked (ids come from act::find).
inline const char* activation_name(std::size_t id, const char* op) {
  if (id >= act::count)
    throw std::out_of_range(std::string("slope::") + op + ": no activation with id " +
                            std::to_string(id));
  return act::entries()[id].info.name.data();
}

inline std::string number(double x) {
  std::ostringstream s;
  s.precision(9);
  s << x;
  return s.str();
}

}  // namespace

}  // namespace slope
