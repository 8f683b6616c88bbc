// The ops a transformer adds to the tensor engine: the embedding lookup and causal
// self-attention, each forward beside its backward, with the shapes in comments. Rows are
// the B*T token positions, sequence by sequence, as llm.c flattens (B, T, C).
#include <cmath>
#include <limits>
#include <span>
#include <stdexcept>
#include <string>

#include "ops.hpp"
#include "slope/gemm.hpp"
#include "slope/tensor.hpp"
#include "slope/threads.hpp"

namespace slope {

// --- embedding: a gather forward, a scatter-add backward ----------------------------

template <class T> BasicTensor<T> embedding(std::span<const int> ids, const BasicTensor<T>& table) {
  const Index V = table.rows(), C = table.cols(), N = static_cast<Index>(ids.size());
  // The backward keeps the ids as numbers of T: exact up to 2^24 in float.
  if (V > (Index{1} << std::numeric_limits<T>::digits))
    throw ShapeError("slope::embedding: a table of " + std::to_string(V) + " rows has ids a " +
                     (sizeof(T) == 4 ? "float" : "double") + " cannot hold exactly");
  for (Index i = 0; i < N; ++i)
    if (ids[static_cast<std::size_t>(i)] < 0 || ids[static_cast<std::size_t>(i)] >= V)
      throw std::out_of_range("slope::embedding: id " +
                              std::to_string(ids[static_cast<std::size_t>(i)]) + " at position " +
                              std::to_string(i) + " is outside [0, " + std::to_string(V) +
                              ") (a table of shape " + table.shape() + ")");
  Matrix<T> out = fresh<T>(N, C);  // out (N, C): row i = table row ids[i]
  const Matrix<T>& w = table.value();
  for (Index c = 0; c < C; ++c)
    for (Index i = 0; i < N; ++i) out(i, c) = w(ids[static_cast<std::size_t>(i)], c);
  BasicTensor<T> kept;  // the ids (N, 1), for the backward
  if (records<T>({&table})) {
    kept = saved<T>(fresh<T>(N, 1));
    for (Index i = 0; i < N; ++i)
      kept.value()(i, 0) = static_cast<T>(ids[static_cast<std::size_t>(i)]);
  }
  return make<T>("embedding", std::move(out), {&table},
                 [](TensorNode<T>& self) {  // table.grad row ids[i] += g row i (N, C)
                   TensorNode<T>& pt = *self.parents[0];
                   const Matrix<T>& id = self.parents[1]->value;
                   if (pt.grad.size() == 0) {
                     pt.grad = fresh<T>(pt.value.rows(), pt.value.cols());
                     pt.grad.setZero();
                   }
                   for (Index c = 0; c < self.grad.cols(); ++c)
                     for (Index i = 0; i < self.grad.rows(); ++i)
                       pt.grad(static_cast<Index>(id(i, 0)), c) += self.grad(i, c);
                 },
                 {&kept});
}

// --- causal self-attention (llm.c's attention_forward and attention_backward) -------------

namespace {

// The shape of an attention: `batch` sequences of T positions, C = 3C'/3 features in
// n_head heads of hs each.
struct Heads {
  Index batch, T, C, n_head, hs;
};

template <class T> Heads heads_of(const BasicTensor<T>& qkv, Index batch, Index n_head) {
  const char* op = "slope::causal_self_attention: ";  // no string built unless it throws
  if (batch < 1 || n_head < 1)
    throw ShapeError(std::string(op) + "batch and n_head must be at least 1, got batch " +
                     std::to_string(batch) + " and n_head " + std::to_string(n_head));
  if (qkv.cols() % 3 != 0 || qkv.cols() == 0)
    throw ShapeError(std::string(op) + "qkv " + qkv.shape() +
                     " must have 3C columns (q, k and v), C >= 1");
  const Index C = qkv.cols() / 3;
  if (C % n_head != 0)
    throw ShapeError(std::string(op) + "C = " + std::to_string(C) + " (qkv " + qkv.shape() +
                     ") is not a multiple of n_head = " + std::to_string(n_head));
  if (qkv.rows() % batch != 0 || qkv.rows() == 0)
    throw ShapeError(std::string(op) + "qkv " + qkv.shape() +
                     " has a row count that is not batch = " + std::to_string(batch) +
                     " sequences of T >= 1 positions");
  return {batch, qkv.rows() / batch, C, n_head, C / n_head};
}

// Row t of a (T, T) block of scores becomes softmax over s <= t of scale * score, and 0 for
// s > t (the future). Column-major: the loops run down columns. Shifted by each row's
// largest score, so it stays finite for any scores.
// Each column's rows t >= s are contiguous: Eigen runs them in SIMD, exp included.
template <class T> void masked_softmax(GemmBlock<T> a, T scale, T* row_max, T* row_sum) {
  using Column = Eigen::Map<Eigen::Array<T, Eigen::Dynamic, 1>>;
  const Index n = a.rows;
  Column max(row_max, n), sum(row_sum, n);
  max.setConstant(-std::numeric_limits<T>::infinity());
  sum.setZero();
  for (Index s = 0; s < n; ++s)  // rows t >= s of column s: the unmasked scores
    max.tail(n - s) = max.tail(n - s).max(Column(a.data + s * a.ld, n).tail(n - s));
  for (Index s = 0; s < n; ++s) {
    Column col(a.data + s * a.ld, n);
    col.head(s).setZero();
    col.tail(n - s) = (scale * (col.tail(n - s) - max.tail(n - s))).exp();
    sum.tail(n - s) += col.tail(n - s);
  }
  for (Index s = 0; s < n; ++s) Column(a.data + s * a.ld, n).tail(n - s) /= sum.tail(n - s);
}

// llm.c's attention_backward: from dL/dy (B*T, C), the gradient of qkv (B*T, 3C), block by
// block of (sequence, head), through the weights the forward kept.
template <class T> void attention_backward(TensorNode<T>& self, Index n_head, T scale) {
  TensorNode<T>& px = *self.parents[0];
  const Matrix<T>& x = px.value;
  const Matrix<T>& a = self.parents[1]->value;  // the weights (T, B * n_head * T)
  const Index len = a.rows(), width = x.cols() / 3;
  const Heads h{a.cols() / (len * n_head), len, width, n_head, width / n_head};
  const Matrix<T>& g = self.grad;     // dL/dy (B*T, C)
  Scratch<T> dx(x.rows(), x.cols());  // dL/dqkv (B*T, 3C): each block written once
  parallel_for(h.batch * h.n_head, a.size(), [&](Index bh) {
    const Index r = (bh / h.n_head) * h.T, c = (bh % h.n_head) * h.hs;
    const auto w = gemm_block(a, 0, bh * h.T, h.T, h.T);  // (T, T)
    const auto dy = gemm_block(g, r, c, h.T, h.hs);       // (T, hs)
    Scratch<T> dw(h.T, h.T);
    // dw = dy (T, hs) · v^T (hs, T); dv = w^T (T, T) · dy (T, hs)
    gemm<T>(dy, false, gemm_block(x, r, 2 * h.C + c, h.T, h.hs), true,
            gemm_block(dw.m, 0, 0, h.T, h.T));
    gemm<T>(w, true, dy, false, gemm_block(dx.m, r, 2 * h.C + c, h.T, h.hs));
    // Through the softmax: ds = w * (dw - rowsum(w * dw)) * scale, 0 where masked.
    // Column by column (rows t >= s of column s are the unmasked ones), so Eigen runs in SIMD.
    using Column = Eigen::Map<const Eigen::Array<T, Eigen::Dynamic, 1>>;
    Scratch<T> dot(h.T, 1);
    auto d = dot.m.col(0).array();
    d.setZero();
    for (Index s = 0; s < h.T; ++s)
      d.tail(h.T - s) +=
          Column(w.data + s * w.ld, h.T).tail(h.T - s) * dw.m.col(s).array().tail(h.T - s);
    for (Index s = 0; s < h.T; ++s) {
      auto col = dw.m.col(s).array();
      col.head(s).setZero();
      col.tail(h.T - s) = Column(w.data + s * w.ld, h.T).tail(h.T - s) *
                          (col.tail(h.T - s) - d.tail(h.T - s)) * scale;
    }
    const auto ds = gemm_block(std::as_const(dw.m), 0, 0, h.T, h.T);
    // dq = ds (T, T) · k (T, hs); dk = ds^T (T, T) · q (T, hs)
    gemm<T>(ds, false, gemm_block(x, r, h.C + c, h.T, h.hs), false,
            gemm_block(dx.m, r, c, h.T, h.hs));
    gemm<T>(ds, true, gemm_block(x, r, c, h.T, h.hs), false,
            gemm_block(dx.m, r, h.C + c, h.T, h.hs));
  });
  px.accumulate(dx.m);
}

}  // namespace

// llm.c's attention_forward, per (sequence, head); its backward is attention_backward above.
template <class T>
BasicTensor<T> causal_self_attention(const BasicTensor<T>& qkv, Index batch, Index n_head,
                                     BasicTensor<T>* weights) {
  const Heads h = heads_of(qkv, batch, n_head);
  const T scale = T(1) / std::sqrt(static_cast<T>(h.hs));
  const Matrix<T>& x = qkv.value();
  Matrix<T> out = fresh<T>(x.rows(), h.C);
  // The attention weights, (T, T) per (sequence, head) side by side: columns
  // [(b * n_head + head) * T, + T). Kept for the backward.
  BasicTensor<T> att = saved<T>(fresh<T>(h.T, h.batch * h.n_head * h.T));
  Matrix<T>& a = att.value();
  parallel_for(h.batch * h.n_head, a.size(), [&](Index bh) {
    const Index r = (bh / h.n_head) * h.T, c = (bh % h.n_head) * h.hs;
    const auto q = gemm_block(x, r, c, h.T, h.hs);            // (T, hs)
    const auto k = gemm_block(x, r, h.C + c, h.T, h.hs);      // (T, hs)
    const auto v = gemm_block(x, r, 2 * h.C + c, h.T, h.hs);  // (T, hs)
    const auto w = gemm_block(a, 0, bh * h.T, h.T, h.T);      // (T, T)
    gemm<T>(q, false, k, true, w);  // scores: q (T, hs) · k^T (hs, T) -> (T, T)
    Scratch<T> stats(h.T, 2);
    masked_softmax<T>(w, scale, stats.m.col(0).data(), stats.m.col(1).data());
    // y = w (T, T) · v (T, hs) -> (T, hs), into the head's columns of out (B*T, C)
    gemm<T>(gemm_block(std::as_const(a), 0, bh * h.T, h.T, h.T), false, v, false,
            gemm_block(out, r, c, h.T, h.hs));
  });
  if (weights != nullptr) *weights = att;
  return make<T>(
      "causal_self_attention", std::move(out), {&qkv},
      [n_head = h.n_head, scale](TensorNode<T>& self) {  // 16 bytes: stored with no allocation
        attention_backward(self, n_head, scale);
      },
      {&att});
}

#define SLOPE_INSTANTIATE(T)                                                         \
  template BasicTensor<T> embedding(std::span<const int>, const BasicTensor<T>&);    \
  template BasicTensor<T> causal_self_attention(const BasicTensor<T>&, Index, Index, \
                                                BasicTensor<T>*);

SLOPE_INSTANTIATE(float)
SLOPE_INSTANTIATE(double)
#undef SLOPE_INSTANTIATE

}  // namespace slope
