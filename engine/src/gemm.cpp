#include "slope/gemm.hpp"

#include <atomic>
#include <stdexcept>
#include <string>
#include <string_view>

#include "slope/tensor.hpp"

#ifdef SLOPE_BLAS
#include <cblas.h>
#endif

namespace slope {

namespace {

using Index = Eigen::Index;

// Eigen's kernels: the four transpose cases spelled out, so each is one noalias product.
template <class T, class A, class B>
void eigen_product(const A& a, const B& b, GemmMatrix<T>& c, bool accumulate) {
  if (accumulate)
    c.noalias() += a * b;
  else
    c.noalias() = a * b;
}

template <class T>
void eigen_gemm(const GemmMatrix<T>& a, bool ta, const GemmMatrix<T>& b, bool tb, GemmMatrix<T>& c,
                bool accumulate) {
  if (ta && tb)
    eigen_product<T>(a.transpose(), b.transpose(), c, accumulate);
  else if (ta)
    eigen_product<T>(a.transpose(), b, c, accumulate);
  else if (tb)
    eigen_product<T>(a, b.transpose(), c, accumulate);
  else
    eigen_product<T>(a, b, c, accumulate);
}

#ifdef SLOPE_BLAS
// Column-major, as Eigen stores matrices: the leading dimension is the stored row count.
void blas_gemm(bool ta, bool tb, Index m, Index n, Index k, const float* a, Index lda,
               const float* b, Index ldb, float beta, float* c, Index ldc) {
  cblas_sgemm(CblasColMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
              static_cast<int>(m), static_cast<int>(n), static_cast<int>(k), 1.0f, a,
              static_cast<int>(lda), b, static_cast<int>(ldb), beta, c, static_cast<int>(ldc));
}
void blas_gemm(bool ta, bool tb, Index m, Index n, Index k, const double* a, Index lda,
               const double* b, Index ldb, double beta, double* c, Index ldc) {
  cblas_dgemm(CblasColMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
              static_cast<int>(m), static_cast<int>(n), static_cast<int>(k), 1.0, a,
              static_cast<int>(lda), b, static_cast<int>(ldb), beta, c, static_cast<int>(ldc));
}
#endif

#ifdef SLOPE_BLAS
// OpenBLAS's OpenMP build takes its thread count from the calling thread's OpenMP setting,
// and openblas_set_num_threads sets that for the thread that calls it only: a model
// trained on another std::thread ran its products on every core, with other rounding and
// the cores oversubscribed. So set_num_threads records the count, and each thread
// applies it before its first BLAS call after a change (one comparison per product).
std::atomic<int> g_blas_threads{0};  // 0: never set, the BLAS's own default
void apply_blas_threads() {
  thread_local int applied = 0;
  const int n = g_blas_threads.load(std::memory_order_relaxed);
  if (n != 0 && n != applied) {
    openblas_set_num_threads(n);
    applied = n;
  }
}
#endif

std::string dims(const char* name, Index r, Index c, bool t) {
  return std::string(name) + (t ? "^T" : "") + " (" + std::to_string(t ? c : r) + ", " +
         std::to_string(t ? r : c) + ")";
}

}  // namespace

void set_num_threads(int n) {
  if (n < 1)
    throw std::invalid_argument("slope::set_num_threads: need at least 1 thread, got " +
                                std::to_string(n));
  Eigen::setNbThreads(n);
#ifdef SLOPE_BLAS
  g_blas_threads.store(n, std::memory_order_relaxed);
  apply_blas_threads();
#endif
}
int num_threads() { return Eigen::nbThreads(); }

const char* blas_name() {
#ifdef SLOPE_BLAS
  return "openblas";
#else
  return "none";
#endif
}

const char* blas_core() {
#ifdef SLOPE_BLAS
  return openblas_get_corename();
#else
  return "none";
#endif
}

namespace {
#ifdef SLOPE_BLAS
// Whether OpenBLAS's kernels are as wide as Eigen's in this build. OpenBLAS picks its kernels
// by CPU model when it loads, and a model it does not know gets its Prescott (SSE3) ones:
// Debian's 0.3.21 does that on Intel's Emerald Rapids (family 6, model 207), where they ran
// 4.4x (float) and 6x (double) slower than Eigen's AVX-512 kernels (bench_gemm at 256).
// Eigen built for AVX2 then keeps every product. OPENBLAS_CORETYPE, set before the program
// starts, names the kernels to OpenBLAS (README, "The tensor engine").
bool blas_keeps_up() {
#ifdef __AVX2__
  static const bool keeps_up = [] {
    const std::string_view core = openblas_get_corename();
    for (const std::string_view avx2 :
         {"Haswell", "Zen", "SkylakeX", "Cooperlake", "SapphireRapids"})
      if (core == avx2) return true;
    return false;
  }();
  return keeps_up;
#else
  return true;
#endif
}
#endif

// Big enough for the BLAS to win (measured), within its int dimensions, and the BLAS on
// kernels for this CPU.
bool use_blas(Index m, Index n, Index k) {
#ifdef SLOPE_BLAS
  constexpr Index kIntMax = 2147483647;
  return static_cast<double>(m) * static_cast<double>(n) * static_cast<double>(k) >=
             kBlasMinFlops &&
         m <= kIntMax && n <= kIntMax && k <= kIntMax && blas_keeps_up();
#else
  (void)m, (void)n, (void)k;
  return false;
#endif
}
}  // namespace

const char* gemm_backend(Index m, Index n, Index k) {
  return use_blas(m, n, k) ? "openblas" : "eigen";
}

template <class T>
void gemm(const GemmMatrix<T>& a, bool ta, const GemmMatrix<T>& b, bool tb, GemmMatrix<T>& c,
          bool accumulate) {
  const Index m = ta ? a.cols() : a.rows(), k = ta ? a.rows() : a.cols();
  const Index kb = tb ? b.cols() : b.rows(), n = tb ? b.rows() : b.cols();
  if (k != kb)
    throw ShapeError("slope::gemm: " + dims("a", a.rows(), a.cols(), ta) + " and " +
                     dims("b", b.rows(), b.cols(), tb) + " have different inner dimensions");
  if (accumulate && (c.rows() != m || c.cols() != n))
    throw ShapeError("slope::gemm: accumulating a (" + std::to_string(m) + ", " +
                     std::to_string(n) + ") product into c (" + std::to_string(c.rows()) + ", " +
                     std::to_string(c.cols()) + ")");
  if (!accumulate) c.resize(m, n);
#ifdef SLOPE_BLAS
  if (use_blas(m, n, k)) {
    apply_blas_threads();
    blas_gemm(ta, tb, m, n, k, a.data(), a.rows(), b.data(), b.rows(), accumulate ? T(1) : T(0),
              c.data(), c.rows());
    return;
  }
#endif
  eigen_gemm<T>(a, ta, b, tb, c, accumulate);
}

template void gemm<float>(const GemmMatrix<float>&, bool, const GemmMatrix<float>&, bool,
                          GemmMatrix<float>&, bool);
template void gemm<double>(const GemmMatrix<double>&, bool, const GemmMatrix<double>&, bool,
                           GemmMatrix<double>&, bool);

}  // namespace slope
