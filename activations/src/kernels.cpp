// The array kernels of activation_kernels.hpp: each activation's value and slope from
// activations.hpp, on xsimd batches (or element by element without SLOPE_SIMD).
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>

#include "slope/activation_kernels.hpp"
#include "slope/activations.hpp"

#if SLOPE_SIMD
#include <bit>
#include <cstdint>
#include <type_traits>

#include <xsimd/xsimd.hpp>

namespace slope::act::math {
namespace {
// c[0] + x (c[1] + x (c[2] + ...)), the coefficients given by their bit patterns.
template <class B, auto... C> B horner(const B& x) {
  using T = typename B::value_type;
  constexpr T c[] = {std::bit_cast<T>(C)...};
  B r(c[sizeof...(C) - 1]);
  for (std::size_t i = sizeof...(C) - 1; i-- > 0;) r = xsimd::fma(x, r, B(c[i]));
  return r;
}
}  // namespace

// xsimd 8.1's tanh and float erfc (after Boost.SIMD: the same polynomials, coefficients and
// steps, so the same numbers, which a test checks lane for lane), without their branch on
// whether any lane takes the small-|x| formula: both formulas are computed, and a lane
// select keeps one.
template <class B> B batch_tanh(const B& self) {
  using T = typename B::value_type;
  const B x = xsimd::abs(self), s = x * x;
  B small;  // tanh(x) for |x| < 0.625
  if constexpr (std::is_same_v<T, float>) {
    small = xsimd::fma(
        horner<B, 0xbeaaaa99u, 0x3e088393u, 0xbd5c1e2du, 0x3ca9134eu, 0xbbbaf0eau>(s) * s, x, x);
  } else {
    const B p = horner<B, 0xc0993ac030580563ull, 0xc058d26a0e26682dull, 0xbfeedc5baafd6f4bull>(s);
    const B q = horner<B, 0x40b2ec102442040cull, 0x40a176fa0e5535faull, 0x405c33f28a581b86ull,
                       0x3ff0000000000000ull>(s);
    small = xsimd::fma(s * p / q, x, x);
  }
  const B large = xsimd::fma(B(T(-2)), B(T(1)) / (B(T(1)) + xsimd::exp(x + x)), B(T(1)));
  return xsimd::select(x < B(T(0.625)), small, large) ^ xsimd::bitofsign(self);
}

// erfc. A double batch goes lane by lane through the C library: xsimd 8's double erfc is off
// by up to 1e-9 relative in its tail (its float one is within 4 ulps, and is used).
template <class B> B batch_erfc(const B& self) {
  using T = typename B::value_type;
  if constexpr (std::is_same_v<T, double>) {
    alignas(64) double lanes[B::size];
    self.store_unaligned(lanes);
    for (double& v : lanes) v = std::erfc(v);
    return B::load_unaligned(lanes);
  } else {
    const B x = xsimd::abs(self), z = x / (B(1.0f) + x);
    // erfc(x) for x < 2/3, and exp(x^2) erfc(x) beyond
    const B near =
        (B(1.0f) - z) * horner<B, 0x3f7ffffeu, 0xbe036d7eu, 0xbfa11698u, 0xbffc9284u, 0xc016c985u,
                               0x3f2cff3bu, 0xc010d956u, 0x401b5680u, 0x41aa8e55u>(z);
    const B far =
        xsimd::exp(-x * x) *
        horner<B, 0x3f0a0e8bu, 0xbf918a62u, 0x3e243828u, 0x3ec4ca6eu, 0x3e1175c7u, 0x3e2006f0u,
               0xbfaea865u, 0x4050b063u, 0xc0cd1a85u, 0x40d67e3bu, 0xc0283611u>(z - B(0.4f));
    B r = xsimd::select(x < B(2.0f / 3.0f), near, far);
    r = xsimd::select(x == B(std::numeric_limits<float>::infinity()), B(0.0f), r);
    return xsimd::select(self < B(0.0f), B(2.0f) - r, r);
  }
}
}  // namespace slope::act::math
#endif

namespace slope::act {
namespace {

// out[i] = f(x[i], y[i], g[i]) for i < n, in batches; y and g may be null (f then gets ones
// in their place). The tail is padded with zeros into one batch.
template <class T, class F>
void for_batches(const T* x, const T* y, const T* g, T* out, std::size_t n, F f) {
#if SLOPE_SIMD
  using B = xsimd::batch<T>;
  constexpr std::size_t w = B::size;
  const auto at = [](const T* p, std::size_t i) { return p ? B::load_unaligned(p + i) : B(T(1)); };
  std::size_t i = 0;
  for (; i + w <= n; i += w) f(at(x, i), at(y, i), at(g, i)).store_unaligned(out + i);
  if (i < n) {
    alignas(64) T xs[w] = {}, ys[w] = {}, gs[w] = {}, os[w];
    std::copy(x + i, x + n, xs);
    if (y) std::copy(y + i, y + n, ys);
    if (g) std::copy(g + i, g + n, gs);
    f(at(xs, 0), at(y ? ys : nullptr, 0), at(g ? gs : nullptr, 0)).store_unaligned(os);
    std::copy(os, os + (n - i), out + i);
  }
#else
  for (std::size_t i = 0; i < n; ++i) out[i] = f(x[i], y ? y[i] : T(1), g ? g[i] : T(1));
#endif
}

template <class T> void values_of(std::size_t id, const T* x, T* out, std::size_t n) {
  visit(id, [&]<class A>(A) {
    for_batches<T>(x, nullptr, nullptr, out, n, [](auto v, auto, auto) { return A::value(v); });
  });
}
template <class T> void slopes_of(std::size_t id, const T* x, T* out, std::size_t n) {
  visit(id, [&]<class A>(A) {
    for_batches<T>(x, nullptr, nullptr, out, n, [](auto v, auto, auto) { return A::slope(v); });
  });
}
template <class T>
void slopes_times_of(std::size_t id, const T* x, const T* y, const T* g, T* out, std::size_t n) {
  visit(id, [&]<class A>(A) {
    constexpr bool given = requires { A::slope_given(T(0), T(0)); };
    const T* ys = given ? y : nullptr;  // y is read only where the slope needs it
    for_batches(x, ys, g, out, n, [](auto v, auto fv, auto gv) { return gv * slope_at<A>(v, fv); });
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
void slopes_times(std::size_t id, const float* x, const float* y, const float* g, float* out,
                  std::size_t n) {
  slopes_times_of(id, x, y, g, out, n);
}
void slopes_times(std::size_t id, const double* x, const double* y, const double* g, double* out,
                  std::size_t n) {
  slopes_times_of(id, x, y, g, out, n);
}

}  // namespace slope::act
