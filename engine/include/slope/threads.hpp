// The threads slope runs on: how many the matrix products and the elementwise passes use,
// and the loop that splits elementwise work over them (docs/architecture.md, "Threads").
#pragma once

#include <Eigen/Core>

namespace slope {

// Number of threads the matrix products (Eigen's and the BLAS's) and the elementwise passes
// use, for every thread of the program; the default is every core. Throws
// std::invalid_argument for n < 1.
void set_num_threads(int n);
int num_threads();

// Elementwise work of at least this many elements is split over the products' threads.
inline constexpr Eigen::Index kParallelMinElements = Eigen::Index{1} << 15;

// Calls f(j) for every j in [0, n): on the threads set_num_threads set (through OpenMP) when
// the work is at least kParallelMinElements elements, else on this thread. Each f(j) must
// write memory of its own and not throw; elementwise work split so gives the same numbers
// on any number of threads. (The activations, bias and bias-gradient passes of the tensor
// engine, and bench_tensor's floor, use it.)
// (Under ThreadSanitizer it always runs on this thread: libgomp is not instrumented, so the
// sanitizer cannot see the barrier that ends a parallel loop and would report races.)
template <class F> void parallel_for(Eigen::Index n, Eigen::Index elements, const F& f) {
#if defined(_OPENMP) && !defined(__SANITIZE_THREAD__)
  const int threads = num_threads();
  if (threads > 1 && n > 1 && elements >= kParallelMinElements) {
#pragma omp parallel for num_threads(threads) schedule(static)
    for (Eigen::Index j = 0; j < n; ++j) f(j);
    return;
  }
#else
  (void)elements;
#endif
  for (Eigen::Index j = 0; j < n; ++j) f(j);
}

namespace detail {
// Applies set_num_threads's count to the BLAS on the calling thread if it has not been yet
// (OpenBLAS's OpenMP build keeps the count per thread). The product code calls it before
// each BLAS call; a build without a BLAS makes it a no-op.
void apply_blas_threads();
}  // namespace detail

}  // namespace slope
