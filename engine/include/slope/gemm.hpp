// The one matrix product under every tensor op (and the benchmarks' floor):
//
//   c = op(a) · op(b)      or, with accumulate, c += op(a) · op(b)
//
// where op(m) is m or its transpose, chosen by a flag, so a transposed operand is never
// copied. Products of at least kBlasMinFlops multiply-adds go to the BLAS when slope is
// built with one (CMake option SLOPE_BLAS, OpenBLAS from Debian) and it runs kernels as
// wide as Eigen's (see blas_core); smaller ones, and every product of a build without it,
// run on Eigen's own kernels.
#pragma once

#include <Eigen/Core>
#include <type_traits>

namespace slope {

template <class T> using GemmMatrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic>;

// Throws ShapeError if the inner dimensions differ, or if accumulating into a c of the
// wrong shape. c must not share storage with a or b.
template <class T>
void gemm(const GemmMatrix<T>& a, bool transpose_a, const GemmMatrix<T>& b, bool transpose_b,
          GemmMatrix<T>& c, bool accumulate = false);

// A block of a column-major matrix, as BLAS sees one: element (i, j) at data[i + j * ld].
// Rows [r, r + rows) and columns [c, c + cols) of a matrix m are
// gemm_block(m, r, c, rows, cols): no copy, so a product can read and write blocks of
// bigger matrices (the heads and sequences of attention's packed (B*T, 3C) input).
template <class T> struct GemmBlock {
  T* data;
  Eigen::Index rows, cols, ld;
};
template <class M>
auto gemm_block(M& m, Eigen::Index r, Eigen::Index c, Eigen::Index rows, Eigen::Index cols) {
  return GemmBlock<std::remove_pointer_t<decltype(m.data())>>{m.data() + r + c * m.rows(), rows,
                                                              cols, m.rows()};
}

// The same product on blocks: c (which must have the product's shape) = op(a) op(b), or +=.
// The same kernels and routing as the matrix form; c must not overlap a or b.
template <class T>
void gemm(GemmBlock<const T> a, bool transpose_a, GemmBlock<const T> b, bool transpose_b,
          GemmBlock<T> c, bool accumulate = false);

// Which kernels a product of m x k by k x n runs on: "openblas" or "eigen".
const char* gemm_backend(Eigen::Index m, Eigen::Index n, Eigen::Index k);
// The BLAS slope was built with ("openblas"), or "none".
const char* blas_name();
// The BLAS's kernels, as OpenBLAS names them ("Haswell", "Zen", "SkylakeX", "Prescott"...),
// or "none". A build for AVX2 (-march=native on such a CPU) uses the BLAS only on its AVX2
// kernels (Haswell, Zen, SkylakeX, Cooperlake, SapphireRapids): on a CPU model OpenBLAS
// does not know it falls back to Prescott's SSE3 kernels, slower than Eigen's.
const char* blas_core();

// The routing threshold, m * n * k, measured with bench/bench_gemm (see bench/RESULTS.md).
inline constexpr double kBlasMinFlops = 48.0 * 48.0 * 48.0;

}  // namespace slope
