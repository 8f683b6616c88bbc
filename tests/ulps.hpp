// Distance in units in the last place, for the suites that compare the SIMD activation
// kernels with the scalar definitions.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <type_traits>

namespace slope_test {

// Distance in units in the last place between two finite numbers of one type (0 when equal).
template <class T> double ulps_apart(T a, T b) {
  if (a == b) return 0.0;
  using I = std::conditional_t<sizeof(T) == 4, std::int32_t, std::int64_t>;
  auto ordered = [](T v) {
    I i;
    std::memcpy(&i, &v, sizeof v);
    return i < 0 ? std::numeric_limits<I>::min() - i : i;  // monotone in v
  };
  using U = std::make_unsigned_t<I>;  // the distance, exact even across the whole range
  const I ia = ordered(a), ib = ordered(b);
  return static_cast<double>(ia > ib ? U(ia) - U(ib) : U(ib) - U(ia));
}

// The SIMD kernels may differ from the scalar definitions by this many ulps.
inline constexpr double kKernelMaxUlps = 4;

// Below this a kernel's value is compared absolutely: relative precision ends near the
// smallest normal number.
template <class T> constexpr T kKernelTiny = std::numeric_limits<T>::min() * 1024;

// A kernel's error against the scalar definition, in ulps. Near a zero of f (gelu's slope
// at -0.75) the last bits are cancellation, so below 1 the error is counted in ulps of 1,
// the scale of every activation's slope and value at 0. For |want| >= kKernelTiny.
template <class T> double kernel_error_ulps(T got, T want) {
  if (!(std::abs(want) < T(1))) return ulps_apart(got, want);
  return std::min(ulps_apart(got, want),
                  std::abs(static_cast<double>(got) - want) / std::numeric_limits<T>::epsilon());
}

}  // namespace slope_test
