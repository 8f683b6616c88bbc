// Independent runs of a demo trained at once, one per thread. A run's numbers do not depend
// on the thread it ran on (tests/test_threads.cpp), so the outputs are the same for any
// number of threads.
#pragma once

#include <cstddef>
#include <functional>

namespace slope::demo {

// Calls job(i) for every i in [0, n) on up to `threads` threads (each job must touch only
// its own results), and on_wait() on the calling thread about every 50 ms until all are done
// (a progress line's update). The first exception a job throws stops the jobs not yet
// started and is rethrown here once the running ones end.
void run_parallel(std::size_t n, int threads, const std::function<void(std::size_t)>& job,
                  const std::function<void()>& on_wait = {});

}  // namespace slope::demo
