// The catalogue's activations over arrays, in SIMD batches: the same definitions as
// activations.hpp, instantiated for xsimd::batch instead of a scalar. Every element takes
// the batch path (the tail is padded into one batch), so a result does not depend on where
// an element sits in its array. Without SLOPE_SIMD (the browser build) the scalar
// definitions run element by element.
#pragma once

#include <algorithm>
#include <cstddef>

#include "slope/activations.hpp"

#if SLOPE_SIMD
#include <xsimd/xsimd.hpp>
#endif

namespace slope::act {

namespace detail {
// f(batch) over n elements of x, writing out; g (may be null) is read beside x.
template <class T, class F> void for_batches(const T* x, const T* g, T* out, std::size_t n, F f) {
#if SLOPE_SIMD
  using B = xsimd::batch<T>;
  constexpr std::size_t w = B::size;
  std::size_t i = 0;
  for (; i + w <= n; i += w)
    f(B::load_unaligned(x + i), g ? B::load_unaligned(g + i) : B(T(1))).store_unaligned(out + i);
  if (i < n) {  // the tail, padded with zeros into one batch
    alignas(64) T xs[w] = {}, gs[w] = {}, os[w];
    std::copy(x + i, x + n, xs);
    if (g) std::copy(g + i, g + n, gs);
    f(B::load_unaligned(xs), g ? B::load_unaligned(gs) : B(T(1))).store_unaligned(os);
    std::copy(os, os + (n - i), out + i);
  }
#else
  for (std::size_t i = 0; i < n; ++i) out[i] = f(x[i], g ? g[i] : T(1));
#endif
}
}  // namespace detail

// out[i] = A::value(x[i]) for i < n (out may be x).
template <class A, class T> void values(const T* x, T* out, std::size_t n) {
  detail::for_batches(x, static_cast<const T*>(nullptr), out, n,
                      [](auto v, auto) { return A::value(v); });
}

// out[i] = A::slope(x[i]) for i < n.
template <class A, class T> void slopes(const T* x, T* out, std::size_t n) {
  detail::for_batches(x, static_cast<const T*>(nullptr), out, n,
                      [](auto v, auto) { return A::slope(v); });
}

// out[i] = g[i] * A::slope(x[i]) for i < n: the backward pass of y = f(x) given dL/dy = g.
template <class A, class T> void slopes_times(const T* x, const T* g, T* out, std::size_t n) {
  detail::for_batches(x, g, out, n, [](auto v, auto gv) { return gv * A::slope(v); });
}

}  // namespace slope::act
