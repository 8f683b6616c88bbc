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

// A node is split in three parts stored in separate arrays, so each pass touches
// only what it needs: forward reads children's `Scalar`s, backward streams `Edge`s
// and scatters into a compact array of grads, handles count in `Meta`.
struct Scalar {
  double data;
  double grad;
};
// Each op stores the local partial derivatives of its output with respect to its
// children at forward time, so backward is one rule for every op:
// child.grad += partial * grad.
struct Edge {
  double da;  // d data / d a.data
  double db;  // d data / d b.data; for a one-child op, the op's constant (for DOT labels)
  std::uint32_t a;
  std::uint32_t b;
};
struct Meta {
  std::uint32_t refs;  // live Value handles to this node
  Op op;
  std::uint8_t act;  // activation id when op == Act
};

// Where a node lives: its index on the tape and its Scalar, which a Value caches so
// that reading data() is one load, not a walk through the chunk table.
struct Slot {
  Scalar* scalar;
  std::uint32_t id;
};

class Tape {
  struct Chunk;

 public:
  static constexpr std::uint32_t kChunkBits = 12;
  static constexpr std::uint32_t kChunk = 1u << kChunkBits;
  static constexpr std::uint32_t kMask = kChunk - 1;

  Scalar& scalar(std::uint32_t i) { return chunks_[i >> kChunkBits]->scalar[i & kMask]; }
  Edge& edge(std::uint32_t i) { return chunks_[i >> kChunkBits]->edge[i & kMask]; }
  Meta& meta(std::uint32_t i) { return chunks_[i >> kChunkBits]->meta[i & kMask]; }
  std::uint32_t size() const { return size_; }

  // The Meta of a slot, found from its Scalar's address without touching the table.
  static Meta& meta(Slot s) {
    return reinterpret_cast<Chunk*>(s.scalar - (s.id & kMask))->meta[s.id & kMask];
  }

  // Appends a node holding `refs` handle references (1: the Value that will own it;
  // 0: an inner node of a fused op, kept alive by the node above it).
  Slot push(double data, const Edge& e, Op op, std::uint8_t act = 0, std::uint32_t refs = 1) {
    if (size_ == capacity_) grow();
    return push_reserved(data, e, op, act, refs);
  }
  // Room for n more nodes, so that n push_reserved calls need no check (a loop of them keeps
  // its running values in registers: no call to grow() can happen inside it).
  void reserve(std::uint32_t n) {
    while (capacity_ - size_ < n) grow();
  }
  Slot push_reserved(double data, const Edge& e, Op op, std::uint8_t act = 0,
                     std::uint32_t refs = 1) {
    Chunk& c = *chunks_[size_ >> kChunkBits];
    const std::uint32_t o = size_ & kMask;
    c.scalar[o] = Scalar{data, 0.0};
    c.edge[o] = e;
    c.meta[o] = Meta{refs, op, act};
    return {&c.scalar[o], size_++};
  }

  void retain(Slot s) { ++meta(s).refs; }

  // Drops one handle reference; pops every unreferenced node off the top. Returns
  // true when the tape is orphaned and empty, so the caller must delete it.
  bool release(Slot s) {
    if (--meta(s).refs != 0 || s.id + 1 != size_) return false;
    while (size_ > 0 && meta(size_ - 1).refs == 0) --size_;
    if (swept_ > size_) swept_ = size_;
    return orphaned_ && size_ == 0;
  }

  // Nodes below this index may hold gradients from an earlier backward pass; above
  // it every node still has the zero gradient it was created with.
  std::uint32_t swept() const { return swept_; }
  void set_swept(std::uint32_t n) { swept_ = n; }

  // The thread that owned this tape has exited; live handles may still use it.
  // Returns true when nothing uses it any more and it can be deleted now.
  bool orphan() {
    orphaned_ = true;
    return size_ == 0;
  }

  // The calling thread's tape.
  static Tape& current();

  Tape() = default;
  Tape(const Tape&) = delete;
  Tape& operator=(const Tape&) = delete;
  ~Tape() = default;

 private:
  struct Chunk {
    Scalar scalar[kChunk];
    Edge edge[kChunk];
    Meta meta[kChunk];
  };
  void grow() {
    chunks_.push_back(std::unique_ptr<Chunk>(new Chunk));  // default-initialised: no zeroing
    capacity_ += kChunk;
  }

  std::vector<std::unique_ptr<Chunk>> chunks_;
  std::uint32_t size_ = 0;
  std::uint32_t capacity_ = 0;
  std::uint32_t swept_ = 0;
  bool orphaned_ = false;
};

}  // namespace slope::detail
