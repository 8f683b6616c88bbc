// Small classification data sets, deterministic from a seed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace slope::data {

// n samples of dim features, row-major, with integer class labels 0..classes-1.
struct Dataset {
  std::size_t n = 0;
  std::size_t dim = 0;
  int classes = 0;
  std::vector<double> x;
  std::vector<int> y;

  double at(std::size_t i, std::size_t j) const { return x[i * dim + j]; }
};

// Two interleaving half circles, as scikit-learn's make_moons: the upper moon is
// class 0, the lower class 1, shuffled, with Gaussian noise of std `noise`.
Dataset moons(std::size_t n, double noise, std::uint64_t seed);

}  // namespace slope::data
