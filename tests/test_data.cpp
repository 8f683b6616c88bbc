// slope::data::moons: scikit-learn's make_moons. Without noise every point lies on its
// half circle at evenly spaced angles; the seed fixes the shuffle and the noise.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <numbers>
#include <vector>

#include <slope/slope.hpp>

namespace {

using slope::data::moons;

TEST(Moons, HasNPointsOfTwoFeaturesInTwoBalancedClasses) {
  for (std::size_t n : {100u, 101u, 2u, 7u}) {
    const auto d = moons(n, 0.1, 1);
    EXPECT_EQ(d.n, n);
    EXPECT_EQ(d.dim, 2u);
    EXPECT_EQ(d.classes, 2);
    ASSERT_EQ(d.x.size(), 2 * n);
    ASSERT_EQ(d.y.size(), n);
    const auto ones = static_cast<std::size_t>(std::count(d.y.begin(), d.y.end(), 1));
    EXPECT_EQ(std::count(d.y.begin(), d.y.end(), 0) + ones, n) << "labels are 0 or 1";
    EXPECT_EQ(n - ones, n / 2) << "scikit-learn: n // 2 points on the outer (upper) moon";
    for (std::size_t i = 0; i < n; ++i) EXPECT_EQ(d.at(i, 1), d.x[2 * i + 1]);
  }
}

TEST(Moons, SameSeedSameDataDifferentSeedDifferentData) {
  const auto a = moons(100, 0.1, 7), b = moons(100, 0.1, 7), c = moons(100, 0.1, 8);
  EXPECT_EQ(a.x, b.x);
  EXPECT_EQ(a.y, b.y);
  EXPECT_NE(a.x, c.x);
  EXPECT_NE(moons(100, 0.0, 7).y, moons(100, 0.0, 8).y) << "the shuffle depends on the seed";
}

// Class 0: the upper half of the unit circle, x^2 + y^2 = 1, y >= 0.
// Class 1: the lower half of the unit circle centred at (1, 0.5), y <= 0.5.
// As scikit-learn, the angles are linspace(0, pi, m): both ends included, even steps.
TEST(Moons, WithoutNoiseEveryPointLiesOnItsHalfCircle) {
  const auto d = moons(200, 0.0, 3);
  std::vector<double> upper, lower;  // angles
  for (std::size_t i = 0; i < d.n; ++i) {
    const double x = d.at(i, 0), y = d.at(i, 1);
    if (d.y[i] == 0) {
      EXPECT_NEAR(x * x + y * y, 1.0, 1e-12);
      EXPECT_GE(y, -1e-15);
      upper.push_back(std::atan2(std::max(y, 0.0), x));  // sin(pi) may round below 0
    } else {
      EXPECT_NEAR((x - 1) * (x - 1) + (y - 0.5) * (y - 0.5), 1.0, 1e-12);
      EXPECT_LE(y, 0.5 + 1e-15);
      lower.push_back(std::atan2(std::max(0.5 - y, 0.0), 1 - x));
    }
  }
  for (std::vector<double>* angles : {&upper, &lower}) {
    ASSERT_EQ(angles->size(), 100u);
    std::sort(angles->begin(), angles->end());
    for (std::size_t k = 0; k < angles->size(); ++k)
      EXPECT_NEAR((*angles)[k], std::numbers::pi * static_cast<double>(k) / 99.0, 1e-12);
  }
}

// The same seed shuffles the same way with or without noise, so subtracting the clean
// set leaves the noise itself: mean 0, standard deviation `noise`.
TEST(Moons, NoiseIsGaussianWithTheGivenStandardDeviation) {
  const auto clean = moons(4000, 0.0, 11), noisy = moons(4000, 0.2, 11);
  ASSERT_EQ(clean.y, noisy.y);
  double sum = 0, sum2 = 0;
  for (std::size_t i = 0; i < clean.x.size(); ++i) {
    const double e = noisy.x[i] - clean.x[i];
    sum += e;
    sum2 += e * e;
  }
  const double n = static_cast<double>(clean.x.size());
  const double mean = sum / n, std = std::sqrt(sum2 / n - mean * mean);
  EXPECT_NEAR(mean, 0.0, 0.01);  // standard error 0.2 / sqrt(8000) = 0.0022
  EXPECT_NEAR(std, 0.2, 0.006);
}

TEST(Moons, TinySetsFollowScikitLearn) {
  EXPECT_EQ(moons(0, 0.1, 1).x.size(), 0u);
  const auto one = moons(1, 0.0, 1);  // n_out = 0, n_in = 1 at angle 0: the point (0, 0.5)
  ASSERT_EQ(one.y.size(), 1u);
  EXPECT_EQ(one.y[0], 1);
  EXPECT_NEAR(one.at(0, 0), 0.0, 1e-15);
  EXPECT_NEAR(one.at(0, 1), 0.5, 1e-15);
}

}  // namespace
