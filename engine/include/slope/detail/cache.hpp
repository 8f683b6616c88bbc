// The memory behind the tensor engine's graph, kept per thread so a training loop
// allocates nothing after its first step.
//
// Why: every step builds the same graph again, nodes and buffers of the same sizes, and
// frees the previous step's. Each thread keeps what it frees, blocks by byte size and
// matrices by element count, and hands it out again before asking the heap. A matrix size
// keeps no more buffers than were ever out at once, and each cache (blocks, float matrices,
// double matrices) holds at most kCacheBytes; beyond that a freed block goes back to the
// heap. The memory is returned when the thread exits, or at slope::empty_cache(). Memory freed on
// another thread than the one that took it simply joins that thread's cache.
#pragma once

#include <Eigen/Core>
#include <cstddef>

namespace slope::detail {

// The most each thread's block cache, and each of its matrix caches, keeps.
inline constexpr std::size_t kCacheBytes = std::size_t{256} << 20;

// A block of `bytes` bytes (aligned as operator new's), cached or new.
void* take_block(std::size_t bytes);
// Gives back a block from take_block of the same size.
void give_block(void* p, std::size_t bytes) noexcept;

// A standard allocator over the block cache, for the graph's nodes (std::allocate_shared)
// and their lists of parents.
template <class U> struct Cached {
  using value_type = U;
  Cached() = default;
  template <class V> Cached(const Cached<V>&) noexcept {}
  U* allocate(std::size_t n) { return static_cast<U*>(take_block(n * sizeof(U))); }
  void deallocate(U* p, std::size_t n) noexcept { give_block(p, n * sizeof(U)); }
  template <class V> bool operator==(const Cached<V>&) const noexcept { return true; }
};

// A rows x cols matrix whose elements are not set (whatever the buffer held), from the
// cache when it holds one of rows * cols elements.
template <class T>
Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic> take_matrix(Eigen::Index rows, Eigen::Index cols);
// Moves m's buffer into the cache; m is left 0 x 0.
template <class T> void give_matrix(Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic>& m) noexcept;

// Returns everything the calling thread's caches hold to the heap (slope::empty_cache).
void clear_caches() noexcept;
// Returns the calling thread's packing buffers of Eigen's product kernels (engine/src/gemm.cpp)
// to the heap (slope::empty_cache).
void clear_packing_buffers() noexcept;

}  // namespace slope::detail
