#include "slope/data.hpp"

#include <cmath>
#include <numbers>
#include <utility>

#include "slope/random.hpp"

namespace slope::data {

Dataset moons(std::size_t n, double noise, std::uint64_t seed) {
  Rng rng(seed);
  Dataset d;
  d.n = n;
  d.dim = 2;
  d.classes = 2;
  d.x.resize(2 * n);
  d.y.resize(n);
  const std::size_t n_out = n / 2, n_in = n - n_out;
  auto angle = [](std::size_t i, std::size_t m) {
    return m < 2 ? 0.0 : std::numbers::pi * static_cast<double>(i) / static_cast<double>(m - 1);
  };
  for (std::size_t i = 0; i < n_out; ++i) {
    d.x[2 * i] = std::cos(angle(i, n_out));
    d.x[2 * i + 1] = std::sin(angle(i, n_out));
    d.y[i] = 0;
  }
  for (std::size_t i = 0; i < n_in; ++i) {
    const std::size_t k = n_out + i;
    d.x[2 * k] = 1.0 - std::cos(angle(i, n_in));
    d.x[2 * k + 1] = 0.5 - std::sin(angle(i, n_in));
    d.y[k] = 1;
  }
  for (std::size_t i = n; i > 1; --i) {  // Fisher-Yates
    const std::size_t j = rng.below(i);
    std::swap(d.y[i - 1], d.y[j]);
    std::swap(d.x[2 * (i - 1)], d.x[2 * j]);
    std::swap(d.x[2 * (i - 1) + 1], d.x[2 * j + 1]);
  }
  for (double& v : d.x) v += noise * rng.normal();
  return d;
}

}  // namespace slope::data
