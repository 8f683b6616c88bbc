// slope::gemm, the product under matmul and linear: every transpose case, accumulating or
// not, in float and double, on shapes either side of the BLAS threshold, against Eigen's
// own product of explicitly transposed copies; the tensor ops' gradients on a shape the
// BLAS takes, against their closed forms; and the errors.
#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include <slope/slope.hpp>

namespace {

template <class T> using Matrix = slope::GemmMatrix<T>;

// Largest |x - y| relative to the largest |y|.
template <class T> double rel_diff(const Matrix<T>& x, const Matrix<T>& y) {
  return static_cast<double>((x - y).cwiseAbs().maxCoeff() / y.cwiseAbs().maxCoeff());
}

struct Shape {
  Eigen::Index m, n, k;
};
// Below the threshold (Eigen), at and above it (the BLAS when built with one), and the
// degenerate 1-wide products of a batch of one.
constexpr Shape kShapes[] = {{3, 4, 5},     {32, 32, 32},  {48, 48, 48},  {70, 50, 40},
                             {1, 300, 400}, {300, 1, 400}, {129, 257, 65}};

template <class T> void check_all_cases(double tol) {
  for (const Shape s : kShapes)
    for (bool ta : {false, true})
      for (bool tb : {false, true})
        for (bool acc : {false, true}) {
          const Matrix<T> a =
              ta ? Matrix<T>(Matrix<T>::Random(s.k, s.m)) : Matrix<T>(Matrix<T>::Random(s.m, s.k));
          const Matrix<T> b =
              tb ? Matrix<T>(Matrix<T>::Random(s.n, s.k)) : Matrix<T>(Matrix<T>::Random(s.k, s.n));
          const Matrix<T> opa = ta ? Matrix<T>(a.transpose()) : a;
          const Matrix<T> opb = tb ? Matrix<T>(b.transpose()) : b;
          const Matrix<T> c0 = Matrix<T>::Random(s.m, s.n);
          Matrix<T> want = opa * opb;
          if (acc) want += c0;
          Matrix<T> c = acc ? c0 : Matrix<T>();
          slope::gemm<T>(a, ta, b, tb, c, acc);
          SCOPED_TRACE(std::to_string(s.m) + "x" + std::to_string(s.n) + "x" + std::to_string(s.k) +
                       (ta ? " aT" : "") + (tb ? " bT" : "") + (acc ? " +=" : "") + " on " +
                       slope::gemm_backend(s.m, s.n, s.k));
          ASSERT_EQ(c.rows(), s.m);
          ASSERT_EQ(c.cols(), s.n);
          EXPECT_LT(rel_diff<T>(c, want), tol);
        }
}

TEST(Gemm, EveryTransposeCaseMatchesEigenFloat) { check_all_cases<float>(1e-5); }
TEST(Gemm, EveryTransposeCaseMatchesEigenDouble) { check_all_cases<double>(1e-13); }

TEST(Gemm, RoutesByMeasuredSize) {
  EXPECT_STREQ(slope::gemm_backend(8, 8, 8), "eigen");
  EXPECT_STREQ(slope::gemm_backend(32, 32, 32), "eigen");  // the 32x32x8 MLP stays on Eigen
  if (std::string_view(slope::blas_name()) == "none") {    // the Eigen-only build (SLOPE_BLAS=OFF)
    EXPECT_STREQ(slope::blas_core(), "none");
    EXPECT_STREQ(slope::gemm_backend(256, 256, 256), "eigen");
  }
}

// Big products go to OpenBLAS on kernels as wide as Eigen's in this build (AVX-512 ones in a
// build for AVX-512, AVX2 or wider in one for AVX2) and stay on Eigen otherwise, as where
// OpenBLAS runs its Prescott (SSE3) kernels on a CPU model it does not know. ctest runs this
// suite again with OPENBLAS_CORETYPE=Prescott and with the build's widest kernels named
// (tests/CMakeLists.txt), so both cases run on any machine.
TEST(Gemm, BigProductsGoToTheBlasOnlyOnKernelsAsWideAsEigens) {
  if (std::string_view(slope::blas_name()) == "none") GTEST_SKIP() << "built without a BLAS";
  const std::string_view core = slope::blas_core();
  const char* big = slope::gemm_backend(256, 256, 256);
  if (core == "SkylakeX") {
    EXPECT_STREQ(big, "openblas");
  } else if (core == "Haswell") {
#ifdef __AVX512F__
    EXPECT_STREQ(big, "eigen");  // Eigen's AVX-512 kernels are the wider
#else
    EXPECT_STREQ(big, "openblas");
#endif
  } else if (core == "Prescott") {
#ifdef __AVX2__
    EXPECT_STREQ(big, "eigen");
#else
    EXPECT_STREQ(big, "openblas");  // Eigen's kernels here are no wider than Prescott's
#endif
  } else {
    GTEST_SKIP() << "OpenBLAS runs its " << core << " kernels here (products on " << big
                 << "); ctest's gemm_on_*_kernels runs check the others";
  }
}

// On Eigen's kernels, big products run Eigen's own product code on packing buffers slope
// keeps (engine/src/gemm.cpp): the same numbers as Eigen's product, bit for bit, in every
// transpose case, with several blocks along k.
TEST(Gemm, EigensPathGivesEigensProductBitForBit) {
  const Eigen::Index m = 96, n = 80, k = 700;
  if (std::string_view(slope::gemm_backend(m, n, k)) != "eigen")
    GTEST_SKIP() << "this shape runs on " << slope::gemm_backend(m, n, k) << " here";
  for (bool ta : {false, true})
    for (bool tb : {false, true})
      for (bool acc : {false, true}) {
        const Matrix<float> a = ta ? Matrix<float>::Random(k, m) : Matrix<float>::Random(m, k);
        const Matrix<float> b = tb ? Matrix<float>::Random(n, k) : Matrix<float>::Random(k, n);
        const Matrix<float> c0 = Matrix<float>::Random(m, n);
        Matrix<float> want = c0;
        auto product = [&](const auto& x, const auto& y) {
          if (acc)
            want.noalias() += x * y;
          else
            want.noalias() = x * y;
        };
        if (ta && tb)
          product(a.transpose(), b.transpose());
        else if (ta)
          product(a.transpose(), b);
        else if (tb)
          product(a, b.transpose());
        else
          product(a, b);
        Matrix<float> c = c0;
        slope::gemm<float>(a, ta, b, tb, c, acc);
        EXPECT_TRUE(c == want) << (ta ? "aT " : "") << (tb ? "bT " : "") << (acc ? "+=" : "=")
                               << ": largest difference " << (c - want).cwiseAbs().maxCoeff();
      }
}

// Blocks of bigger matrices (attention's heads inside the (B*T, 3C) input) give what the
// same product of copied blocks gives, in every transpose case, small and big enough for the
// kept-buffer path or the BLAS, writing only inside c's block. (To rounding: Eigen's small
// products vectorise differently over strided columns.)
TEST(Gemm, BlocksAreTheProductOfTheirCopies) {
  for (const int size : {5, 64})
    for (const bool ta : {false, true})
      for (const bool tb : {false, true})
        for (const bool acc : {false, true}) {
          const int m = size, n = size + 3, k = size / 2 + 1;
          const Matrix<double> big_a = Matrix<double>::Random(2 * size + 7, 3 * size + 5);
          const Matrix<double> big_b = Matrix<double>::Random(2 * size + 7, 3 * size + 5);
          Matrix<double> big_c = Matrix<double>::Random(2 * size + 9, 2 * size + 9);
          const Matrix<double> before = big_c;
          const int ar = ta ? k : m, ac = ta ? m : k, br = tb ? n : k, bc = tb ? k : n;
          const Matrix<double> a = big_a.block(3, 2, ar, ac), b = big_b.block(1, 4, br, bc);
          Matrix<double> want = big_c.block(2, 1, m, n);
          slope::gemm<double>(a, ta, b, tb, want, acc);
          slope::gemm<double>(slope::gemm_block(big_a, 3, 2, ar, ac), ta,
                              slope::gemm_block(big_b, 1, 4, br, bc), tb,
                              slope::gemm_block(big_c, 2, 1, m, n), acc);
          EXPECT_LT((big_c.block(2, 1, m, n) - want).cwiseAbs().maxCoeff(), 1e-13)
              << size << (ta ? " aT" : "") << (tb ? " bT" : "") << (acc ? " +=" : " =");
          Matrix<double> outside = big_c - before;
          outside.block(2, 1, m, n).setZero();
          EXPECT_EQ(outside.cwiseAbs().maxCoeff(), 0.0) << "wrote outside c's block";
        }
  Matrix<double> x = Matrix<double>::Random(6, 6);
  EXPECT_THROW(slope::gemm<double>(slope::gemm_block(std::as_const(x), 0, 0, 2, 3), false,
                                   slope::gemm_block(std::as_const(x), 0, 0, 3, 2), false,
                                   slope::gemm_block(x, 0, 0, 3, 3)),
               slope::ShapeError);  // c's block is not the product's shape
}

TEST(Gemm, EmptyInnerDimensionGivesZeros) {
  Matrix<double> a(60, 0), b(0, 70), c;
  slope::gemm<double>(a, false, b, false, c);
  ASSERT_EQ(c.rows(), 60);
  ASSERT_EQ(c.cols(), 70);
  EXPECT_EQ(c.cwiseAbs().maxCoeff(), 0.0);
}

TEST(Gemm, MismatchedShapesNameBothOperands) {
  Matrix<float> a = Matrix<float>::Random(4, 5), b = Matrix<float>::Random(4, 6), c;
  try {
    slope::gemm<float>(a, false, b, false, c);
    FAIL() << "expected ShapeError";
  } catch (const slope::ShapeError& e) {
    EXPECT_NE(std::string(e.what()).find("a (4, 5) and b (4, 6)"), std::string::npos) << e.what();
  }
  Matrix<float> wrong = Matrix<float>::Zero(2, 2);
  EXPECT_THROW(slope::gemm<float>(a, true, b, false, wrong, true), slope::ShapeError);
}

// linear's forward and its dX, dW, db on a batch the BLAS takes (every product is at least
// 96 * 80 * 64), against z = x W^T + b, dX = G W, dW = G^T x, db = column sums of G.
template <class T> void check_linear(double tol) {
  using TensorT = slope::BasicTensor<T>;
  const Matrix<T> xv = Matrix<T>::Random(96, 64), wv = Matrix<T>::Random(80, 64);
  const Matrix<T> bv = Matrix<T>::Random(1, 80), g = Matrix<T>::Random(96, 80);
  TensorT x(xv, true), w(wv, true), b(bv, true);
  TensorT z = slope::linear(x, w, b);
  const Matrix<T> want = (xv * wv.transpose()).rowwise() + bv.row(0);
  EXPECT_LT(rel_diff<T>(z.value(), want), tol);
  z.backward(g);
  EXPECT_LT(rel_diff<T>(x.grad(), g * wv), tol);
  EXPECT_LT(rel_diff<T>(w.grad(), g.transpose() * xv), tol);
  EXPECT_LT(rel_diff<T>(b.grad(), g.colwise().sum()), tol);
  // A second backward accumulates into the leaves' gradients (the BLAS's beta = 1 path).
  slope::linear(x, w, b).backward(g);
  EXPECT_LT(rel_diff<T>(w.grad(), T(2) * g.transpose() * xv), tol);
}
TEST(Gemm, LinearOnTheBlasMatchesClosedFormsFloat) { check_linear<float>(1e-5); }
TEST(Gemm, LinearOnTheBlasMatchesClosedFormsDouble) { check_linear<double>(1e-13); }

TEST(Gemm, MatmulOnTheBlasMatchesClosedForms) {
  const Matrix<double> av = Matrix<double>::Random(90, 70), bv = Matrix<double>::Random(70, 110);
  const Matrix<double> g = Matrix<double>::Random(90, 110);
  slope::TensorD a(av, true), b(bv, true);
  slope::TensorD c = slope::matmul(a, b);
  EXPECT_LT(rel_diff<double>(c.value(), av * bv), 1e-13);
  c.backward(g);
  EXPECT_LT(rel_diff<double>(a.grad(), g * bv.transpose()), 1e-13);
  EXPECT_LT(rel_diff<double>(b.grad(), av.transpose() * g), 1e-13);
}

// Finite differences through the BLAS path: x (170, 4) -> tanh(linear) (170, 166), each
// product 170 * 166 * 4 >= 48^3 multiply-adds, with few inputs to perturb (k = 4 is small).
TEST(Gemm, GradcheckThroughTheBlas) {
  // Where this shape runs on Eigen (no BLAS, as in the asan preset, or OpenBLAS on kernels
  // slope keeps off), the small gradchecks cover it; at this size under the sanitizers it
  // takes most of a minute.
  if (std::string_view(slope::gemm_backend(170, 166, 4)) == "eigen")
    GTEST_SKIP() << "this shape runs on Eigen here (BLAS: " << slope::blas_name() << ", kernels "
                 << slope::blas_core() << ")";
  slope::Rng rng(3);
  slope::nn::LinearD layer(4, 166, true, slope::nn::Init::xavier_uniform(), rng);
  ASSERT_GE(170.0 * 166.0 * 4.0, slope::kBlasMinFlops);
  const std::vector<slope::TensorD> in = {slope::TensorD(Matrix<double>::Random(170, 4)),
                                          layer.weight, layer.bias};
  const auto r = slope::gradcheck(
      [](const std::vector<slope::TensorD>& v) { return slope::linear(v[0], v[1], v[2]).tanh(); },
      in);
  EXPECT_TRUE(r.ok) << r.worst;
}

}  // namespace
