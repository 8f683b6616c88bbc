#include "slope/random.hpp"

namespace slope {

Rng& default_rng() {
  thread_local Rng rng(0);
  return rng;
}

void manual_seed(std::uint64_t seed) { default_rng() = Rng(seed); }

}  // namespace slope
