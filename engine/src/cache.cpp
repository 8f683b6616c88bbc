#include "slope/detail/cache.hpp"

#include <algorithm>
#include <new>
#include <unordered_map>
#include <utility>
#include <vector>

namespace slope::detail {

namespace {

// Set when this thread's caches are destroyed (at thread exit): memory freed after that,
// by a tensor outliving the thread's caches, goes straight back to the heap.
thread_local bool t_closed = false;

class BlockCache {
 public:
  BlockCache() = default;
  BlockCache(const BlockCache&) = delete;
  BlockCache& operator=(const BlockCache&) = delete;
  ~BlockCache() {
    t_closed = true;
    clear();
  }
  void clear() noexcept {
    for (auto& [bytes, blocks] : classes_)
      for (void* p : blocks) ::operator delete(p);
    classes_.clear();
    held_ = 0;
  }

  void* take(std::size_t bytes) {
    std::vector<void*>* blocks = find(bytes);
    if (blocks == nullptr || blocks->empty()) return ::operator new(bytes);
    void* p = blocks->back();
    blocks->pop_back();
    held_ -= bytes;
    return p;
  }

  void give(void* p, std::size_t bytes) noexcept {
    if (held_ + bytes <= kCacheBytes) {
      try {
        std::vector<void*>* blocks = find(bytes);
        if (blocks == nullptr) blocks = &classes_.emplace_back(bytes, std::vector<void*>{}).second;
        blocks->push_back(p);
        held_ += bytes;
        return;
      } catch (const std::bad_alloc&) {  // no room to remember it: freed below
      }
    }
    ::operator delete(p);
  }

 private:
  // A handful of sizes (a node, lists of 1 to 4 parents), searched in order.
  std::vector<void*>* find(std::size_t bytes) {
    for (auto& [b, blocks] : classes_)
      if (b == bytes) return &blocks;
    return nullptr;
  }

  std::vector<std::pair<std::size_t, std::vector<void*>>> classes_;
  std::size_t held_ = 0;
};

// Matrices by element count. A size keeps at most as many as were ever out of the cache at
// once (its peak): a step takes its buffers and gives them back, and a matrix made
// elsewhere (a user's input, an op that allocates its own) that would push a size past
// its peak goes back to the heap, so the cache holds no more than a step's working set.
template <class T> class MatrixCache {
 public:
  using Matrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic>;
  MatrixCache() = default;
  MatrixCache(const MatrixCache&) = delete;
  MatrixCache& operator=(const MatrixCache&) = delete;
  ~MatrixCache() { t_closed = true; }
  void clear() noexcept {
    by_size_.clear();
    held_ = 0;
  }

  Matrix take(Eigen::Index rows, Eigen::Index cols) {
    if (rows * cols == 0) return Matrix(rows, cols);
    Size& s = by_size_[rows * cols];
    s.peak = std::max(s.peak, ++s.out);
    if (s.kept.empty()) return Matrix(rows, cols);
    Matrix m = std::move(s.kept.back());
    s.kept.pop_back();
    held_ -= bytes(m);
    m.resize(rows, cols);  // the same number of elements: no reallocation
    return m;
  }

  void give(Matrix& m) noexcept {
    if (m.size() == 0) return;
    const auto it = by_size_.find(m.size());
    if (it != by_size_.end()) {
      Size& s = it->second;
      if (s.out > 0) --s.out;
      if (s.kept.size() < s.peak && held_ + bytes(m) <= kCacheBytes) {
        try {
          const std::size_t b = bytes(m);
          s.kept.push_back(std::move(m));  // leaves m 0 x 0
          held_ += b;
        } catch (const std::bad_alloc&) {  // no room to remember it: freed below
        }
      }
    }
    m.resize(0, 0);
  }

 private:
  struct Size {
    std::vector<Matrix> kept;
    std::size_t out = 0;   // taken and not given back (never below 0)
    std::size_t peak = 0;  // the most ever out at once
  };
  static std::size_t bytes(const Matrix& m) {
    return static_cast<std::size_t>(m.size()) * sizeof(T);
  }

  std::unordered_map<Eigen::Index, Size> by_size_;
  std::size_t held_ = 0;
};

BlockCache* blocks() {
  if (t_closed) return nullptr;
  thread_local BlockCache cache;
  return &cache;
}
template <class T> MatrixCache<T>* matrices() {
  if (t_closed) return nullptr;
  thread_local MatrixCache<T> cache;
  return &cache;
}

}  // namespace

void* take_block(std::size_t bytes) {
  BlockCache* c = blocks();
  return c != nullptr ? c->take(bytes) : ::operator new(bytes);
}

void give_block(void* p, std::size_t bytes) noexcept {
  if (BlockCache* c = blocks())
    c->give(p, bytes);
  else
    ::operator delete(p);
}

template <class T>
Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic> take_matrix(Eigen::Index rows, Eigen::Index cols) {
  MatrixCache<T>* c = matrices<T>();
  return c != nullptr ? c->take(rows, cols)
                      : Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic>(rows, cols);
}

template <class T> void give_matrix(Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic>& m) noexcept {
  if (MatrixCache<T>* c = matrices<T>())
    c->give(m);
  else
    m.resize(0, 0);
}

void clear_caches() noexcept {
  if (BlockCache* c = blocks()) c->clear();
  if (MatrixCache<float>* c = matrices<float>()) c->clear();
  if (MatrixCache<double>* c = matrices<double>()) c->clear();
}

template Eigen::MatrixXf take_matrix<float>(Eigen::Index, Eigen::Index);
template Eigen::MatrixXd take_matrix<double>(Eigen::Index, Eigen::Index);
template void give_matrix<float>(Eigen::MatrixXf&) noexcept;
template void give_matrix<double>(Eigen::MatrixXd&) noexcept;

}  // namespace slope::detail
