// What a forward pass did, for the probes: a Trace records, while it is alive on this
// thread, every Linear layer's output and the activation that read it, grouped into the
// blocks (FeedForward) they ran in, and every causal self-attention's weights. Nothing is kept in
// the modules themselves, so any module takes part: one built from nn::Linear and nn::Activation is
// recorded as it runs, and a module of a user's own can call record_linear / record_activation.
//
//   slope::probe::Trace trace;              // records this thread's forwards while alive
//   auto loss = slope::cross_entropy(model.forward(x), y);
//   loss.backward();
//   auto stats = slope::probe::layers(trace);   // see probes.hpp
#pragma once

#include <cstddef>
#include <utility>
#include <vector>

#include "slope/activations.hpp"
#include "slope/tensor.hpp"

namespace slope::probe {

template <class T> class BasicTrace {
 public:
  // One Linear layer of the forward pass, in the order they ran (1 = nearest the input).
  struct Layer {
    BasicTensor<T> weight;  // the layer's weight; its grad() is read after backward()
    BasicTensor<T> z;       // the layer's output, the pre-activation
    BasicTensor<T> h;       // the activation's output; z itself when none read z
    std::size_t activation = act::id_of<act::Identity>;  // catalogue id of that activation
    int block = 0;  // the block (1, 2, ...) the layer ran inside; 0 for none
  };

  // Installs this trace as the thread's current one (a nested trace shadows an outer one
  // until it is destroyed). A trace fills while alive even when declared const.
  BasicTrace();
  ~BasicTrace();
  BasicTrace(const BasicTrace&) = delete;
  BasicTrace& operator=(const BasicTrace&) = delete;

  // One causal self-attention (CausalSelfAttention records itself): its two weights and the
  // attention weights of its forward (see slope::causal_self_attention).
  struct Attention {
    BasicTensor<T> c_attn, c_proj;  // the weights; their grad() is read after backward()
    BasicTensor<T> weights;         // (T, batch * n_head * T)
    Eigen::Index batch = 0, n_head = 0;
  };

  const std::vector<Layer>& layers() const { return layers_; }
  const std::vector<Attention>& attentions() const { return attentions_; }
  int blocks() const { return blocks_; }
  // Forgets what was recorded (to reuse one trace across steps).
  void clear() const;

  // The thread's current trace, or nullptr when none is recording.
  static const BasicTrace* current();

  // Marks the layers recorded while it is alive as one block (FeedForward uses it).
  class Block {
   public:
    Block();
    ~Block();
    Block(const Block&) = delete;
    Block& operator=(const Block&) = delete;

   private:
    const BasicTrace* trace_;
    int previous_;
  };

  void add_linear(const BasicTensor<T>& weight, const BasicTensor<T>& out) const;
  void add_activation(std::size_t id, const BasicTensor<T>& in, const BasicTensor<T>& out) const;
  void add_attention(Attention a) const { attentions_.push_back(std::move(a)); }

 private:
  // Recorded into by the forward pass while the trace is alive, whatever its constness.
  mutable std::vector<Layer> layers_;
  mutable std::vector<Attention> attentions_;
  mutable int blocks_ = 0;
  mutable int open_block_ = 0;
  mutable const BasicTrace* previous_;  // the trace this one shadows
};

using Trace = BasicTrace<float>;
using TraceD = BasicTrace<double>;

// Called by a module's forward: a Linear layer with `weight` produced `out`. A no-op
// when no trace is recording.
template <class T> void record_linear(const BasicTensor<T>& weight, const BasicTensor<T>& out) {
  if (auto* t = BasicTrace<T>::current()) t->add_linear(weight, out);
}
// Called by a module's forward: activation `id` (a catalogue id) mapped `in` to `out`.
// It is attributed to the last recorded Linear layer when `in` is that layer's output.
template <class T>
void record_activation(std::size_t id, const BasicTensor<T>& in, const BasicTensor<T>& out) {
  if (auto* t = BasicTrace<T>::current()) t->add_activation(id, in, out);
}

// Called by an attention module's forward: its c_attn and c_proj weights, and the attention
// weights it computed for `batch` sequences and `n_head` heads. A no-op when no trace is
// recording (check BasicTrace<T>::current() first to skip computing the weights).
template <class T>
void record_attention(const BasicTensor<T>& c_attn, const BasicTensor<T>& c_proj,
                      const BasicTensor<T>& weights, Eigen::Index batch, Eigen::Index n_head) {
  if (auto* t = BasicTrace<T>::current())
    t->add_attention({c_attn, c_proj, weights, batch, n_head});
}

}  // namespace slope::probe
