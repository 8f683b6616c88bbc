#include "slope/gemm.hpp"

#include <atomic>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "slope/detail/cache.hpp"
#include "slope/errors.hpp"
#include "slope/threads.hpp"

#ifdef SLOPE_BLAS
#include <cblas.h>
#endif

namespace slope {

namespace {

using Index = Eigen::Index;

// At least kBlasMinFlops multiply-adds: the products the BLAS takes (measured), and on
// Eigen's kernels the ones whose packing buffers slope keeps.
bool big_product(Index m, Index n, Index k) {
  return static_cast<double>(m) * static_cast<double>(n) * static_cast<double>(k) >= kBlasMinFlops;
}

// The packing buffers of Eigen's product kernels, kept by each thread. Eigen's own product
// packs blocks of A and B (kc x mc and kc x nc elements) into buffers it takes from the heap
// whenever they pass EIGEN_STACK_ALLOCATION_LIMIT (128 KiB): two allocations per product at
// the MLP's sizes, every training step. eigen_gemm runs the same kernels with the same
// blocking (so the same numbers, tested) on buffers that grow once and are kept.
template <class T> std::vector<T, Eigen::aligned_allocator<T>>& packing_buffer(int which) {
  thread_local std::vector<T, Eigen::aligned_allocator<T>> buffers[2];
  return buffers[which];
}

template <class T> class KeptBlocking : public Eigen::internal::level3_blocking<T, T> {
 public:
  // Eigen's dense product's blocking of an m x n result over depth k, on one thread.
  KeptBlocking(Index m, Index n, Index k) {
    this->m_mc = m;
    this->m_nc = n;
    this->m_kc = k;
    Eigen::internal::computeProductBlockingSizes<T, T, 1>(this->m_kc, this->m_mc, this->m_nc,
                                                          Index{1});
    this->m_blockA = buffer(0, this->m_kc * this->m_mc);
    this->m_blockB = buffer(1, this->m_kc * this->m_nc);
  }

 private:
  static T* buffer(int which, Index size) {
    auto& b = packing_buffer<T>(which);
    if (static_cast<Index>(b.size()) < size) {
      b.clear();
      b.shrink_to_fit();  // one buffer at a time: no copy of the old one
      b.resize(static_cast<std::size_t>(size));
    }
    return b.data();
  }
};

// m, or its transpose as an expression (no copy).
template <bool Transpose, class M> decltype(auto) op(const M& m) {
  if constexpr (Transpose)
    return m.transpose();
  else
    return (m);
}

template <class T> using ConstMap = Eigen::Map<const GemmMatrix<T>, 0, Eigen::OuterStride<>>;
template <class T> using Map = Eigen::Map<GemmMatrix<T>, 0, Eigen::OuterStride<>>;

// c = op(a) op(b), or c += with accumulate, on Eigen's kernels. Big products on one thread
// run Eigen's product code (as its dense product calls it) on the kept buffers; Eigen's
// threads take their own, and a product with one row or column is Eigen's matrix-vector
// product, which packs nothing.
template <class T, bool TA, bool TB>
void eigen_gemm(GemmBlock<const T> a, GemmBlock<const T> b, GemmBlock<T> c, bool accumulate) {
  const Index k = TA ? a.rows : a.cols;
  if (num_threads() == 1 && c.rows > 1 && c.cols > 1 && big_product(c.rows, c.cols, k)) {
    using Eigen::ColMajor, Eigen::RowMajor;
    Map<T> cm(c.data, c.rows, c.cols, Eigen::OuterStride<>(c.ld));
    if (!accumulate) cm.setZero();
    KeptBlocking<T> blocking(c.rows, c.cols, k);
    Eigen::internal::general_matrix_matrix_product<Index, T, TA ? RowMajor : ColMajor, false, T,
                                                   TB ? RowMajor : ColMajor, false, ColMajor,
                                                   1>::run(c.rows, c.cols, k, a.data, a.ld, b.data,
                                                           b.ld, c.data, 1, c.ld, T(1), blocking,
                                                           nullptr);
    return;
  }
  const ConstMap<T> am(a.data, a.rows, a.cols, Eigen::OuterStride<>(a.ld));
  const ConstMap<T> bm(b.data, b.rows, b.cols, Eigen::OuterStride<>(b.ld));
  Map<T> cm(c.data, c.rows, c.cols, Eigen::OuterStride<>(c.ld));
  if (accumulate)
    cm.noalias() += op<TA>(am) * op<TB>(bm);
  else
    cm.noalias() = op<TA>(am) * op<TB>(bm);
}

template <class T>
void eigen_gemm(GemmBlock<const T> a, bool ta, GemmBlock<const T> b, bool tb, GemmBlock<T> c,
                bool accumulate) {
  if (ta && tb)
    eigen_gemm<T, true, true>(a, b, c, accumulate);
  else if (ta)
    eigen_gemm<T, true, false>(a, b, c, accumulate);
  else if (tb)
    eigen_gemm<T, false, true>(a, b, c, accumulate);
  else
    eigen_gemm<T, false, false>(a, b, c, accumulate);
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

std::string dims(const char* name, Index r, Index c, bool t) {
  return std::string(name) + (t ? "^T" : "") + " (" + std::to_string(t ? c : r) + ", " +
         std::to_string(t ? r : c) + ")";
}

}  // namespace

const char* blas_name() {
#ifdef SLOPE_BLAS
  return "openblas";
#else
  return "none";
#endif
}

namespace detail {
void clear_packing_buffers() noexcept {
  for (int which : {0, 1}) {
    std::vector<float, Eigen::aligned_allocator<float>>().swap(packing_buffer<float>(which));
    std::vector<double, Eigen::aligned_allocator<double>>().swap(packing_buffer<double>(which));
  }
}
}  // namespace detail

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
// by CPU model when it loads, and a model it does not know gets older ones: Prescott's
// (SSE3) on a CPU it cannot place, Haswell's (AVX2) on one with AVX-512 it files under Zen.
// Both are slower than Eigen's kernels built for the CPU's widest vectors, which then keep
// every product. OPENBLAS_CORETYPE, set before the program starts, names the kernels to
// OpenBLAS (docs/performance.md, "The BLAS and its kernels", has the machines and figures).
bool blas_keeps_up() {
#if defined(__AVX512F__) || defined(__AVX2__)
  static const bool keeps_up = [] {
    const std::string_view core = openblas_get_corename();
#ifdef __AVX512F__
    for (const std::string_view wide : {"SkylakeX", "Cooperlake", "SapphireRapids"})
#else
    for (const std::string_view wide :
         {"Haswell", "Zen", "SkylakeX", "Cooperlake", "SapphireRapids"})
#endif
      if (core == wide) return true;
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
  return big_product(m, n, k) && m <= kIntMax && n <= kIntMax && k <= kIntMax && blas_keeps_up();
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
void gemm(GemmBlock<const T> a, bool ta, GemmBlock<const T> b, bool tb, GemmBlock<T> c,
          bool accumulate) {
  const Index m = ta ? a.cols : a.rows, k = ta ? a.rows : a.cols;
  const Index kb = tb ? b.cols : b.rows, n = tb ? b.rows : b.cols;
  if (k != kb)
    throw ShapeError("slope::gemm: " + dims("a", a.rows, a.cols, ta) + " and " +
                     dims("b", b.rows, b.cols, tb) + " have different inner dimensions");
  if (c.rows != m || c.cols != n)
    throw ShapeError("slope::gemm: " + std::string(accumulate ? "accumulating" : "writing") +
                     " a (" + std::to_string(m) + ", " + std::to_string(n) + ") product into c (" +
                     std::to_string(c.rows) + ", " + std::to_string(c.cols) + ")");
#ifdef SLOPE_BLAS
  if (use_blas(m, n, k)) {
    detail::apply_blas_threads();
    blas_gemm(ta, tb, m, n, k, a.data, a.ld, b.data, b.ld, accumulate ? T(1) : T(0), c.data, c.ld);
    return;
  }
#endif
  eigen_gemm<T>(a, ta, b, tb, c, accumulate);
}

template <class T>
void gemm(const GemmMatrix<T>& a, bool ta, const GemmMatrix<T>& b, bool tb, GemmMatrix<T>& c,
          bool accumulate) {
  if (!accumulate) {  // c takes the product's shape (a shape error first, if any)
    const Index m = ta ? a.cols() : a.rows(), n = tb ? b.rows() : b.cols();
    if ((ta ? a.rows() : a.cols()) == (tb ? b.cols() : b.rows())) c.resize(m, n);
  }
  gemm<T>(gemm_block(a, 0, 0, a.rows(), a.cols()), ta, gemm_block(b, 0, 0, b.rows(), b.cols()), tb,
          gemm_block(c, 0, 0, c.rows(), c.cols()), accumulate);
}

template void gemm<float>(const GemmMatrix<float>&, bool, const GemmMatrix<float>&, bool,
                          GemmMatrix<float>&, bool);
template void gemm<double>(const GemmMatrix<double>&, bool, const GemmMatrix<double>&, bool,
                           GemmMatrix<double>&, bool);
template void gemm<float>(GemmBlock<const float>, bool, GemmBlock<const float>, bool,
                          GemmBlock<float>, bool);
template void gemm<double>(GemmBlock<const double>, bool, GemmBlock<const double>, bool,
                           GemmBlock<double>, bool);

}  // namespace slope
