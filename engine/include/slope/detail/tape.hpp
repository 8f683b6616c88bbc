// The storage behind slope::Value: a per-thread tape of nodes in creation order.
//
// Why a tape: a node's children are always created before it, so creation order is
// already a topological order. backward() walks the tape from the output down,
// iteratively, with no sort, no recursion and no per-node allocation. A node's
// memory is reclaimed when every handle at or above it on the tape is gone, which
// is exactly what happens when a training step's graph goes out of scope. Like a
// std::vector, the tape keeps its largest capacity for the next step (no allocation
// in a training loop after the first step) and frees it when its thread exits.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

namespace slope::detail {

enum class Op : std::uint8_t { Leaf, Add, Mul, AddConst, MulConst, Pow, PowValue, Exp, Log, Act };

inline constexpr std::uint32_t kNone = UINT32_MAX;

// One scalar of a graph. Each op stores the local partial derivatives of its output
// with respect to its children at forward time, so backward is one rule for every
// op: child.grad += partial * grad.
struct Node {
  double data;
  double grad;
  double da;  // d data / d a.data
  double db;  // d data / d b.data; for a one-child op, the op's constant (for DOT labels)
  std::uint32_t a;
  std::uint32_t b;
  std::uint32_t refs;  // live Value handles to this node
  Op op;
  std::uint8_t act;  // activation id when op == Act
};

class Tape {
 public:
  static constexpr std::uint32_t kChunkBits = 12;
  static constexpr std::uint32_t kChunk = 1u << kChunkBits;

  Node& node(std::uint32_t i) { return chunks_[i >> kChunkBits][i & (kChunk - 1)]; }
  std::uint32_t size() const { return size_; }

  // Appends a node holding one handle reference; returns its index.
  std::uint32_t push(const Node& n) {
    if (size_ == capacity_) grow();
    Node& slot = node(size_);
    slot = n;
    slot.refs = 1;
    return size_++;
  }

  void retain(std::uint32_t i) { ++node(i).refs; }

  // Drops one handle reference; pops every unreferenced node off the top. Returns
  // true when the tape is orphaned and empty, so the caller must delete it.
  bool release(std::uint32_t i) {
    if (--node(i).refs != 0 || i + 1 != size_) return false;
    while (size_ > 0 && node(size_ - 1).refs == 0) --size_;
    if (swept_ > size_) swept_ = size_;
    return orphaned_ && size_ == 0;
  }

  // The thread that owned this tape has exited; live handles may still use it.
  // Returns true when nothing uses it any more and it can be deleted now.
  bool orphan() {
    orphaned_ = true;
    return size_ == 0;
  }

  // Nodes below this index may hold gradients from an earlier backward pass; above
  // it every node still has the zero gradient it was created with.
  std::uint32_t swept() const { return swept_; }
  void set_swept(std::uint32_t n) { swept_ = n; }

  // The calling thread's tape.
  static Tape& current();

 private:
  void grow() {
    chunks_.push_back(std::make_unique_for_overwrite<Node[]>(kChunk).release());
    capacity_ += kChunk;
  }

 public:
  Tape() = default;
  Tape(const Tape&) = delete;
  Tape& operator=(const Tape&) = delete;
  ~Tape() {
    for (Node* c : chunks_) delete[] c;
  }

 private:
  std::vector<Node*> chunks_;
  std::uint32_t size_ = 0;
  std::uint32_t capacity_ = 0;
  std::uint32_t swept_ = 0;
  bool orphaned_ = false;
};

}  // namespace slope::detail
