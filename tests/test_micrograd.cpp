// micrograd's published tests (karpathy/micrograd, test/test_engine.py), ported line
// by line. The expected numbers are micrograd's, which its own test takes from PyTorch.
#include <gtest/gtest.h>

#include <slope/slope.hpp>

using slope::Value;

TEST(Micrograd, SanityCheck) {
  Value x = -4.0;
  auto z = 2 * x + 2 + x;
  auto q = z.relu() + z * x;
  auto h = (z * z).relu();
  auto y = h + q + q * x;
  y.backward();
  EXPECT_NEAR(y.data(), -20.0, 1e-12);
  EXPECT_NEAR(x.grad(), 46.0, 1e-12);
}

TEST(Micrograd, MoreOps) {
  Value a = -4.0;
  Value b = 2.0;
  auto c = a + b;
  auto d = a * b + b.pow(3);
  c += c + 1;
  c += 1 + c + (-a);
  d += d * 2 + (b + a).relu();
  d += 3 * d + (b - a).relu();
  auto e = c - d;
  auto f = e.pow(2);
  auto g = f / 2.0;
  g += 10.0 / f;
  g.backward();
  EXPECT_NEAR(g.data(), 24.70408163265306, 1e-12);
  EXPECT_NEAR(a.grad(), 138.83381924198252, 1e-12);
  EXPECT_NEAR(b.grad(), 645.5772594752186, 1e-12);
}
