// The one finite-difference helper the suites share: every analytic slope and gradient
// in slope is checked against it, so a new op or activation costs one line of test.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <cstddef>
#include <functional>
#include <vector>

#include <slope/slope.hpp>

namespace slope_test {

// d f / d x by central differences, (f(x + h) - f(x - h)) / 2h. `x` is perturbed in
// place and restored, so `f` may read it from anywhere: a local, a leaf's data(), a
// parameter of a model. Error O(h^2) from truncation plus O(eps |f| / h) from rounding.
template <class T, class F> T central_difference(F&& f, T& x, T h) {
  const T x0 = x;
  x = x0 + h;
  const T up = f();
  x = x0 - h;
  const T down = f();
  x = x0;
  return (up - down) / (T(2) * h);
}

// The step for double precision at x: about cbrt(eps) scaled to x, which balances the
// truncation and rounding errors of a central difference.
inline double step_at(double x) { return 1e-5 * std::max(1.0, std::abs(x)); }

// Checks the gradient backward() gives every leaf of `build()` against central finite
// differences on that leaf's data(). `build` reads the leaves' current data each call.
inline void expect_gradients_match(const std::vector<slope::Value>& leaves,
                                   const std::function<slope::Value()>& build,
                                   double tolerance = 1e-6) {
  for (const slope::Value& leaf : leaves) leaf.grad() = 0.0;
  build().backward();
  std::vector<double> analytic;
  for (const slope::Value& leaf : leaves) analytic.push_back(leaf.grad());
  for (std::size_t i = 0; i < leaves.size(); ++i) {
    double& x = leaves[i].data();
    const double numeric = central_difference([&] { return build().data(); }, x, step_at(x));
    EXPECT_NEAR(analytic[i], numeric, tolerance * std::max(1.0, std::abs(numeric)))
        << "leaf " << i << " at " << x;
  }
}

}  // namespace slope_test
