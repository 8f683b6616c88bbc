#include "slope/threads.hpp"

#include <atomic>
#include <stdexcept>
#include <string>

#ifdef SLOPE_BLAS
#include <cblas.h>
#endif

namespace slope {

namespace {
#ifdef SLOPE_BLAS
// OpenBLAS's OpenMP build takes its thread count from the calling thread's OpenMP setting,
// and openblas_set_num_threads sets that for the thread that calls it only: a model
// trained on another std::thread ran its products on every core, with other rounding and
// the cores oversubscribed. So set_num_threads records the count, and each thread
// applies it before its first BLAS call after a change (one comparison per product).
std::atomic<int> g_blas_threads{0};  // 0: never set, the BLAS's own default
#endif
}  // namespace

void detail::apply_blas_threads() {
#ifdef SLOPE_BLAS
  thread_local int applied = 0;
  const int n = g_blas_threads.load(std::memory_order_relaxed);
  if (n != 0 && n != applied) {
    openblas_set_num_threads(n);
    applied = n;
  }
#endif
}

void set_num_threads(int n) {
  if (n < 1)
    throw std::invalid_argument("slope::set_num_threads: need at least 1 thread, got " +
                                std::to_string(n));
  Eigen::setNbThreads(n);
#ifdef SLOPE_BLAS
  g_blas_threads.store(n, std::memory_order_relaxed);
  detail::apply_blas_threads();
#endif
}

int num_threads() { return Eigen::nbThreads(); }

}  // namespace slope
