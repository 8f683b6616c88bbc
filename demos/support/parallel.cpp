#include "support/parallel.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace slope::demo {

void run_parallel(std::size_t n, int threads, const std::function<void(std::size_t)>& job,
                  const std::function<void()>& on_wait) {
  std::atomic<std::size_t> next{0}, finished{0};
  std::exception_ptr error;
  std::mutex error_mutex;
  auto worker = [&] {
    for (std::size_t i; (i = next++) < n;) {
      try {
        job(i);
      } catch (...) {
        const std::lock_guard<std::mutex> lock(error_mutex);
        if (!error) error = std::current_exception();
        next = n;  // stop the others
      }
    }
    ++finished;
  };
  const std::size_t count = std::clamp<std::size_t>(static_cast<std::size_t>(std::max(threads, 1)),
                                                    1, std::max<std::size_t>(n, 1));
  std::vector<std::thread> workers;
  for (std::size_t t = 0; t < count; ++t) workers.emplace_back(worker);
  while (finished < count) {
    if (on_wait) on_wait();
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  for (std::thread& t : workers) t.join();
  if (error) std::rethrow_exception(error);
}

}  // namespace slope::demo
