// A small, seedable random source whose streams are the same on every platform
// (std::uniform_real_distribution and std::normal_distribution are not).
#pragma once

#include <cmath>
#include <cstdint>
#include <numbers>

namespace slope {

class Rng {
 public:
  explicit Rng(std::uint64_t seed = 0) : state_(seed) {}

  // splitmix64 (Steele, Lea, Flood 2014).
  std::uint64_t next() {
    std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  // Uniform in [0, 1) with 53 random bits.
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  // Standard normal by Box-Muller.
  double normal() {
    const double u1 = 1.0 - uniform();  // in (0, 1], so log is finite
    const double u2 = uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
  }
  double normal(double mean, double std) { return mean + std * normal(); }
  // Uniform integer in [0, n).
  std::uint64_t below(std::uint64_t n) { return next() % n; }

 private:
  std::uint64_t state_;
};

// The calling thread's default random source, used where no Rng is given (as
// torch.manual_seed's generator); each thread has its own, seeded 0.
Rng& default_rng();
void manual_seed(std::uint64_t seed);

}  // namespace slope
