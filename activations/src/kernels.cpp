// The array kernels of activation_kernels.hpp: each activation's value and slope from
// activations.hpp, on xsimd batches (or element by element without SLOPE_SIMD).
#include <algorithm>
#include <cstddef>

#include "slope/activation_kernels.hpp"
#include "slope/activations.hpp"

#if SLOPE_SIMD
#include <xsimd/xsimd.hpp>
#endif

namespace slope::act {
namespace {

// f(batch of x, batch of g) over n elements, written to out; g (may be null) is read beside
// x. The tail is padded with zeros into one batch.
template <class T, class F> void for_batches(const T* x, const T* g, T* out, std::size_t n, F f) {
#if SLOPE_SIMD
  using B = xsimd::batch<T>;
  constexpr std::size_t w = B::size;
  std::size_t i = 0;
  for (; i + w <= n; i += w)
    f(B::load_unaligned(x + i), g ? B::load_unaligned(g + i) : B(T(1))).store_unaligned(out + i);
  if (i < n) {
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

template <class T> void values_of(std::size_t id, const T* x, T* out, std::size_t n) {
  visit(id, [&]<class A>(A) {
    for_batches(x, static_cast<const T*>(nullptr), out, n,
                [](auto v, auto) { return A::value(v); });
  });
}
template <class T> void slopes_of(std::size_t id, const T* x, T* out, std::size_t n) {
  visit(id, [&]<class A>(A) {
    for_batches(x, static_cast<const T*>(nullptr), out, n,
                [](auto v, auto) { return A::slope(v); });
  });
}
template <class T>
void slopes_times_of(std::size_t id, const T* x, const T* g, T* out, std::size_t n) {
  visit(id, [&]<class A>(A) {
    for_batches(x, g, out, n, [](auto v, auto gv) { return gv * A::slope(v); });
  });
}

}  // namespace

void values(std::size_t id, const float* x, float* out, std::size_t n) { values_of(id, x, out, n); }
void values(std::size_t id, const double* x, double* out, std::size_t n) {
  values_of(id, x, out, n);
}
void slopes(std::size_t id, const float* x, float* out, std::size_t n) { slopes_of(id, x, out, n); }
void slopes(std::size_t id, const double* x, double* out, std::size_t n) {
  slopes_of(id, x, out, n);
}
void slopes_times(std::size_t id, const float* x, const float* g, float* out, std::size_t n) {
  slopes_times_of(id, x, g, out, n);
}
void slopes_times(std::size_t id, const double* x, const double* g, double* out, std::size_t n) {
  slopes_times_of(id, x, g, out, n);
}

}  // namespace slope::act
