// Distance in units in the last place, for the suites that compare the SIMD activation
// kernels with the scalar definitions.
#pragma once

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

}  // namespace slope_test
