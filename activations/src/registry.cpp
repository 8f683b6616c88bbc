#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "slope/activation_kernels.hpp"
#include "slope/activations.hpp"

namespace slope::act {
namespace {

const std::array<Entry, count>& table() {
  static const std::array<Entry, count> t = [] {
    std::array<Entry, count> out{};
    std::size_t i = 0;
    for_each([&](auto a) {
      using A = decltype(a);
      out[i] = Entry{i,
                     A::info,
                     [](double x) { return A::value(x); },
                     [](double x) { return A::slope(x); },
                     [](float x) { return A::value(x); },
                     [](float x) { return A::slope(x); },
                     &slopes<A, double>,
                     &slopes<A, float>};
      ++i;
    });
    return out;
  }();
  return t;
}

}  // namespace

std::span<const Entry> entries() { return table(); }

std::size_t find(std::string_view name) {
  for (const Entry& e : table())
    if (e.info.name == name) return e.id;
  std::string valid;
  for (const Entry& e : table()) {
    if (!valid.empty()) valid += ", ";
    valid += e.info.name;
  }
  throw std::invalid_argument("unknown activation '" + std::string(name) +
                              "'; valid names: " + valid);
}

const Entry& get(std::string_view name) { return table()[find(name)]; }

MaxSlope max_slope(const Entry& e, double lo, double hi, int per_unit) {
  const long first = std::lround(lo * per_unit), last = std::lround(hi * per_unit);
  MaxSlope best{-1.0, lo, lo, false};
  for (long k = first; k <= last; ++k) {
    // k / per_unit, not lo + i * step: that drifts, and an FMA can turn 0 into 2e-16.
    const double x = static_cast<double>(k) / per_unit;
    const double d = std::abs(e.slope(x));
    if (d > best.slope)
      best = {d, x, x, k == last};
    else if (d == best.slope)
      best.last_at = x;
  }
  return best;
}

const MaxSlope& max_slope(std::size_t id) {
  static const std::array<MaxSlope, count> measured = [] {
    std::array<MaxSlope, count> out{};
    for (const Entry& e : table()) out[e.id] = max_slope(e);
    return out;
  }();
  if (id >= count)
    throw std::out_of_range("slope::act::max_slope: no activation with id " + std::to_string(id));
  return measured[id];
}

namespace {
// The zero nearest `nonzero`, given the slope is 0 at `zero` and not at `nonzero`: bisection
// over the numbers of T between them.
template <class T> double boundary(const Entry& e, T zero, T nonzero) {
  for (;;) {
    const T mid = zero + (nonzero - zero) / 2;
    if (mid == zero || mid == nonzero) return zero;  // adjacent numbers
    T d;
    slopes(e.id, &mid, &d, 1);
    (d == T(0) ? zero : nonzero) = mid;
  }
}
}  // namespace

template <class T> ZeroSlope zero_slope(const Entry& e, double range, int per_unit) {
  if (!(range > 0 && range <= 1e6) || per_unit < 1 || per_unit > (1 << 20))
    throw std::invalid_argument(
        "slope::act::zero_slope: needs 0 < range <= 1e6 and 1 <= "
        "per_unit <= 2^20, got range " +
        std::to_string(range) + ", per_unit " + std::to_string(per_unit));
  const auto n = static_cast<std::size_t>(std::floor(range * per_unit));  // points each side
  std::vector<T> x(2 * n + 1), d(2 * n + 1);
  // k / per_unit, not a running sum: every point is the same number in float and double.
  for (std::size_t i = 0; i < x.size(); ++i)
    x[i] = static_cast<T>((static_cast<double>(i) - static_cast<double>(n)) / per_unit);
  slopes(e.id, x.data(), d.data(), x.size());  // the kernels training runs
  auto is_zero = [](T v) { return v == T(0); };
  ZeroSlope z;
  z.range = range;
  for (std::size_t i = n + 1; i-- > 0;)  // x = 0, then outwards to -range
    if (is_zero(d[i])) {
      z.below = i == n ? 0.0 : boundary(e, x[i], x[i + 1]);
      z.all_below = std::all_of(d.begin(), d.begin() + static_cast<std::ptrdiff_t>(i), is_zero);
      break;
    }
  for (std::size_t i = n + 1; i < x.size(); ++i)  // outwards to +range
    if (is_zero(d[i])) {
      z.above = boundary(e, x[i], x[i - 1]);
      z.all_above = std::all_of(d.begin() + static_cast<std::ptrdiff_t>(i), d.end(), is_zero);
      break;
    }
  return z;
}
template ZeroSlope zero_slope<float>(const Entry&, double, int);
template ZeroSlope zero_slope<double>(const Entry&, double, int);

template <class T> const ZeroSlope& zero_slope(std::size_t id) {
  if (id >= count)
    throw std::out_of_range("slope::act::zero_slope: no activation with id " + std::to_string(id));
  static const std::array<ZeroSlope, count> measured = [] {
    std::array<ZeroSlope, count> out{};
    for (const Entry& e : table()) out[e.id] = zero_slope<T>(e);
    return out;
  }();
  return measured[id];
}
template const ZeroSlope& zero_slope<float>(std::size_t);
template const ZeroSlope& zero_slope<double>(std::size_t);

}  // namespace slope::act

namespace slope {
std::vector<std::string> activations() {
  std::vector<std::string> names;
  for (const act::Entry& e : act::entries()) names.emplace_back(e.info.name);
  return names;
}
}  // namespace slope
