// Small classification data sets, deterministic from a seed, and CSV loading.
#pragma once

#include <cstddef>
#include <cstdint>
#include <istream>
#include <string>
#include <utility>
#include <vector>

#include "slope/tensor.hpp"

namespace slope::data {

// n samples of dim features, row-major, with integer class labels 0..classes-1.
struct Dataset {
  std::size_t n = 0;
  std::size_t dim = 0;
  int classes = 0;
  std::vector<double> x;
  std::vector<int> y;

  double at(std::size_t i, std::size_t j) const { return x[i * dim + j]; }

  // The features as an (n, dim) tensor.
  template <class T = float> BasicTensor<T> features() const;
  // Labels as an (n, classes) one-hot tensor, for mse_loss.
  template <class T = float> BasicTensor<T> one_hot() const;
  // Labels as an (n, 1) tensor of -1/+1 (class 0 -> -1), for hinge_loss; two classes.
  template <class T = float> BasicTensor<T> signs() const;
};

// Two interleaving half circles, as scikit-learn's make_moons: the upper moon is
// class 0, the lower class 1, shuffled, with Gaussian noise of std `noise`.
Dataset moons(std::size_t n, double noise, std::uint64_t seed);
// Two concentric circles, as scikit-learn's make_circles: outer radius 1 is class 0,
// inner radius `factor` class 1.
Dataset circles(std::size_t n, double noise, std::uint64_t seed, double factor = 0.5);
// K interleaved spiral arms (cs231n's spiral data), one class per arm.
Dataset spirals(std::size_t n, int arms, double noise, std::uint64_t seed);
// Points uniform in [-1, 1]^2, class 1 where x1 * x2 > 0 (the XOR quadrants).
Dataset xor_data(std::size_t n, double noise, std::uint64_t seed);
// Points from N(0, I) in `dim` dimensions labelled by a fixed random teacher network
// (tanh MLP of `depth` hidden layers of `width` units): the argmax of its `classes`
// outputs. A task any student of enough capacity can fit exactly.
Dataset teacher(std::size_t n, std::size_t dim, int classes, std::uint64_t seed, int depth = 2,
                std::size_t width = 16);

// Rows of `x1,...,xn,label` (a header row is optional, labels are integers in
// [0, 1000000]). Throws std::runtime_error naming the file and line of the first
// problem ("data.csv:3: ..."), quoting at most 80 characters of the line.
Dataset load_csv(const std::string& path);
// The same from a stream; `name` stands for the file in messages.
Dataset load_csv(std::istream& in, const std::string& name);

// The registered generator by name: moons, circles, spirals, xor, teacher.
Dataset make(const std::string& name, std::size_t n, double noise, std::uint64_t seed);
std::vector<std::string> names();
// The noise that keeps each generator's classes separable but not trivially so: moons 0.1,
// spirals 0.2 (radians of the arm angle, as cs231n's), 0.05 for the others (teacher
// ignores noise).
double default_noise(const std::string& name);

// A seeded shuffle split into (train, test) with round(test_fraction * n) test rows.
std::pair<Dataset, Dataset> train_test_split(const Dataset& d, double test_fraction,
                                             std::uint64_t seed);

}  // namespace slope::data
