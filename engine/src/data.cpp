#include "slope/data.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <numbers>
#include <sstream>
#include <stdexcept>
#include <utility>

#include "slope/random.hpp"

namespace slope::data {

namespace {

Dataset empty(std::size_t n, std::size_t dim, int classes) {
  Dataset d;
  d.n = n;
  d.dim = dim;
  d.classes = classes;
  d.x.assign(n * dim, 0.0);
  d.y.assign(n, 0);
  return d;
}

void shuffle(Dataset& d, Rng& rng) {
  for (std::size_t i = d.n; i > 1; --i) {  // Fisher-Yates
    const std::size_t j = rng.below(i);
    std::swap(d.y[i - 1], d.y[j]);
    for (std::size_t k = 0; k < d.dim; ++k) std::swap(d.x[(i - 1) * d.dim + k], d.x[j * d.dim + k]);
  }
}

// Angle i of m points spread evenly over [0, pi], as numpy.linspace(0, pi, m).
double angle(std::size_t i, std::size_t m) {
  return m < 2 ? 0.0 : std::numbers::pi * static_cast<double>(i) / static_cast<double>(m - 1);
}

}  // namespace

Dataset moons(std::size_t n, double noise, std::uint64_t seed) {
  Rng rng(seed);
  Dataset d = empty(n, 2, 2);
  const std::size_t n_out = n / 2, n_in = n - n_out;
  for (std::size_t i = 0; i < n_out; ++i) {
    d.x[2 * i] = std::cos(angle(i, n_out));
    d.x[2 * i + 1] = std::sin(angle(i, n_out));
  }
  for (std::size_t i = 0; i < n_in; ++i) {
    const std::size_t k = n_out + i;
    d.x[2 * k] = 1.0 - std::cos(angle(i, n_in));
    d.x[2 * k + 1] = 0.5 - std::sin(angle(i, n_in));
    d.y[k] = 1;
  }
  shuffle(d, rng);
  for (double& v : d.x) v += noise * rng.normal();
  return d;
}

Dataset circles(std::size_t n, double noise, std::uint64_t seed, double factor) {
  Rng rng(seed);
  Dataset d = empty(n, 2, 2);
  const std::size_t n_out = n / 2, n_in = n - n_out;
  auto ring = [&](std::size_t first, std::size_t m, double r, int label) {
    for (std::size_t i = 0; i < m; ++i) {  // m points evenly on [0, 2 pi)
      const double t = 2.0 * std::numbers::pi * static_cast<double>(i) / static_cast<double>(m);
      d.x[2 * (first + i)] = r * std::cos(t);
      d.x[2 * (first + i) + 1] = r * std::sin(t);
      d.y[first + i] = label;
    }
  };
  ring(0, n_out, 1.0, 0);
  ring(n_out, n_in, factor, 1);
  shuffle(d, rng);
  for (double& v : d.x) v += noise * rng.normal();
  return d;
}

Dataset spirals(std::size_t n, int arms, double noise, std::uint64_t seed) {
  if (arms < 2) throw std::invalid_argument("slope::data::spirals: needs >= 2 arms");
  Rng rng(seed);
  Dataset d = empty(n, 2, arms);
  const auto k = static_cast<std::size_t>(arms);
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t arm = i % k, j = i / k, per_arm = (n + k - 1 - arm) / k;
    const double r = per_arm < 2 ? 0.0 : static_cast<double>(j) / static_cast<double>(per_arm - 1);
    // cs231n: theta runs over 4 radians per arm, offset by arm, plus noise.
    const double t = 4.0 * (static_cast<double>(arm) + r) + noise * rng.normal();
    d.x[2 * i] = r * std::sin(t);
    d.x[2 * i + 1] = r * std::cos(t);
    d.y[i] = static_cast<int>(arm);
  }
  shuffle(d, rng);
  return d;
}

Dataset xor_data(std::size_t n, double noise, std::uint64_t seed) {
  Rng rng(seed);
  Dataset d = empty(n, 2, 2);
  for (std::size_t i = 0; i < n; ++i) {
    const double a = rng.uniform(-1.0, 1.0), b = rng.uniform(-1.0, 1.0);
    d.y[i] = a * b > 0 ? 1 : 0;
    d.x[2 * i] = a + noise * rng.normal();
    d.x[2 * i + 1] = b + noise * rng.normal();
  }
  return d;
}

Dataset teacher(std::size_t n, std::size_t dim, int classes, std::uint64_t seed, int depth,
                std::size_t width) {
  if (classes < 2 || dim < 1 || depth < 0 || width < 1)
    throw std::invalid_argument("slope::data::teacher: needs dim >= 1, classes >= 2");
  Rng rng(seed);
  // The teacher: tanh layers with unit-variance (LeCun) Gaussian weights, biases 0.1 std.
  std::vector<std::pair<std::size_t, std::size_t>> shapes;
  std::size_t in = dim;
  for (int l = 0; l < depth; ++l, in = width) shapes.emplace_back(in, width);
  shapes.emplace_back(in, static_cast<std::size_t>(classes));
  std::vector<std::vector<double>> weights, biases;
  for (auto [fi, fo] : shapes) {
    std::vector<double> w(fi * fo), b(fo);
    for (double& v : w) v = rng.normal() / std::sqrt(static_cast<double>(fi));
    for (double& v : b) v = 0.1 * rng.normal();
    weights.push_back(std::move(w));
    biases.push_back(std::move(b));
  }
  Dataset d = empty(n, dim, classes);
  for (std::size_t i = 0; i < n; ++i) {
    std::vector<double> h(dim);
    for (std::size_t j = 0; j < dim; ++j) h[j] = d.x[i * dim + j] = rng.normal();
    for (std::size_t l = 0; l < shapes.size(); ++l) {
      const auto [fi, fo] = shapes[l];
      std::vector<double> out(fo);
      for (std::size_t o = 0; o < fo; ++o) {
        double s = biases[l][o];
        for (std::size_t j = 0; j < fi; ++j) s += weights[l][o * fi + j] * h[j];
        out[o] = l + 1 < shapes.size() ? std::tanh(s) : s;
      }
      h = std::move(out);
    }
    d.y[i] = static_cast<int>(std::max_element(h.begin(), h.end()) - h.begin());
  }
  return d;
}

namespace {
// A number in a message: %g, never 300 digits.
std::string short_number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}
}  // namespace

Dataset load_csv(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error(path + ": cannot open for reading");
  return load_csv(in, path);
}

Dataset load_csv(std::istream& in, const std::string& path) {
  Dataset d;
  std::string line;
  std::size_t line_no = 0;
  auto fail = [&](const std::string& what) {
    throw std::runtime_error(path + ":" + std::to_string(line_no) + ": " + what);
  };
  while (std::getline(in, line)) {
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    std::vector<double> row;
    std::stringstream fields(line);
    std::string field;
    bool numeric = true;
    while (std::getline(fields, field, ',')) {
      char* end = nullptr;
      const double v = std::strtod(field.c_str(), &end);
      const bool ok =
          end != field.c_str() &&
          field.find_first_not_of(" \t", static_cast<std::size_t>(end - field.c_str())) ==
              std::string::npos;
      if (!ok || !std::isfinite(v)) numeric = false;
      row.push_back(v);
    }
    if (!numeric) {
      if (d.n == 0 && d.dim == 0 && line_no == 1) continue;  // the optional header
      fail("expected numbers separated by commas, got '" +
           (line.size() > 80 ? line.substr(0, 77) + "..." : line) + "'");
    }
    if (row.size() < 2)
      fail("expected at least one feature and a label, got " + std::to_string(row.size()) +
           " field(s)");
    if (d.n == 0) d.dim = row.size() - 1;
    if (row.size() - 1 != d.dim)
      fail("expected " + std::to_string(d.dim + 1) + " fields as on the first row, got " +
           std::to_string(row.size()));
    const double label = row.back();
    if (label < 0 || label != std::floor(label) || label > 1e6)
      fail("the label (last field) must be an integer in [0, 1000000], got " + short_number(label));
    d.x.insert(d.x.end(), row.begin(), row.end() - 1);
    d.y.push_back(static_cast<int>(label));
    d.classes = std::max(d.classes, static_cast<int>(label) + 1);
    ++d.n;
  }
  if (d.n == 0) throw std::runtime_error(path + ": no data rows");
  d.classes = std::max(d.classes, 2);
  return d;
}

std::vector<std::string> names() { return {"moons", "circles", "spirals", "xor", "teacher"}; }

double default_noise(const std::string& name) {
  if (name == "moons") return 0.1;
  if (name == "spirals") return 0.2;
  return 0.05;
}

Dataset make(const std::string& name, std::size_t n, double noise, std::uint64_t seed) {
  if (name == "moons") return moons(n, noise, seed);
  if (name == "circles") return circles(n, noise, seed);
  if (name == "spirals") return spirals(n, 3, noise, seed);
  if (name == "xor") return xor_data(n, noise, seed);
  if (name == "teacher") return teacher(n, 2, 2, seed);
  std::string valid;
  for (const auto& v : names()) valid += (valid.empty() ? "" : ", ") + v;
  throw std::invalid_argument("unknown data set '" + name + "'; valid: " + valid);
}

std::pair<Dataset, Dataset> train_test_split(const Dataset& d, double test_fraction,
                                             std::uint64_t seed) {
  if (!(test_fraction >= 0.0 && test_fraction < 1.0))
    throw std::invalid_argument("slope::data::train_test_split: test fraction must be in [0, 1)");
  Dataset all = d;
  Rng rng(seed);
  shuffle(all, rng);
  const auto n_test =
      static_cast<std::size_t>(std::lround(test_fraction * static_cast<double>(d.n)));
  auto take = [&](std::size_t first, std::size_t m) {
    Dataset part = empty(m, d.dim, d.classes);
    std::copy_n(all.x.begin() + static_cast<std::ptrdiff_t>(first * d.dim), m * d.dim,
                part.x.begin());
    std::copy_n(all.y.begin() + static_cast<std::ptrdiff_t>(first), m, part.y.begin());
    return part;
  };
  return {take(n_test, d.n - n_test), take(0, n_test)};
}

template <class T> BasicTensor<T> Dataset::features() const {
  typename BasicTensor<T>::Matrix m(static_cast<Eigen::Index>(n), static_cast<Eigen::Index>(dim));
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < dim; ++j)
      m(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(j)) = static_cast<T>(at(i, j));
  return BasicTensor<T>(std::move(m));
}

template <class T> BasicTensor<T> Dataset::one_hot() const {
  auto t = BasicTensor<T>::zeros(static_cast<Eigen::Index>(n), classes);
  for (std::size_t i = 0; i < n; ++i) t.value()(static_cast<Eigen::Index>(i), y[i]) = T(1);
  return t;
}

template <class T> BasicTensor<T> Dataset::signs() const {
  if (classes != 2)
    throw std::invalid_argument("slope::data::Dataset::signs: needs 2 classes, has " +
                                std::to_string(classes));
  auto t = BasicTensor<T>::zeros(static_cast<Eigen::Index>(n), 1);
  for (std::size_t i = 0; i < n; ++i)
    t.value()(static_cast<Eigen::Index>(i), 0) = y[i] == 1 ? T(1) : T(-1);
  return t;
}

template BasicTensor<float> Dataset::features<float>() const;
template BasicTensor<double> Dataset::features<double>() const;
template BasicTensor<float> Dataset::one_hot<float>() const;
template BasicTensor<double> Dataset::one_hot<double>() const;
template BasicTensor<float> Dataset::signs<float>() const;
template BasicTensor<double> Dataset::signs<double>() const;

}  // namespace slope::data
