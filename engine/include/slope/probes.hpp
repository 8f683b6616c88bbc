// What the lesson measures inside a network, from a Trace of its forward pass (see
// trace.hpp): per Linear layer (1 = nearest the input), or per block for models built
// of FeedForward blocks.
//
//   slope::probe::Trace trace;
//   slope::Tensor loss = slope::cross_entropy(model.forward(x), y);
//   loss.backward();
//   for (const auto& s : slope::probe::layers(trace)) ... s.grad_norm, s.dead_frac ...
#pragma once

#include <limits>
#include <vector>

#include "slope/tensor.hpp"
#include "slope/trace.hpp"

namespace slope::probe {

struct LayerStats {
  int layer = 0;
  double grad_norm = 0;       // Frobenius norm of dL/dW_l
  double act_mean = 0;        // mean of h_l = f(z_l) over unit-sample pairs
  double act_std = 0;         // its standard deviation
  double saturated_frac = 0;  // share of unit-sample pairs with |f'(z)| < 5% of f's max slope
  double dead_frac = 0;       // share of units with f'(z) == 0 for every sample
  double mean_slope = 0;      // mean |f'(z)| over unit-sample pairs
  double update_ratio = std::numeric_limits<double>::quiet_NaN();  // see update_ratio()
};

// One entry per Linear layer the traced forward ran, after its backward(). A layer whose
// output no activation read (an MLP's output layer) is measured as the identity. Throws
// std::logic_error when the trace recorded no Linear layer.
template <class T> std::vector<LayerStats> layers(const BasicTrace<T>& trace);

// One FeedForward block (fc -> activation -> proj): the gradient norms of its two weights
// and the statistics of its hidden activation (the fc layer's).
struct BlockStats {
  int block = 0;              // 1 = nearest the input
  int first_layer = 0;        // its fc's position in layers(trace) (1-based)
  double grad_norm_fc = 0;    // ||dL/dW|| of the block's first Linear layer (fc)
  double grad_norm_proj = 0;  // ||dL/dW|| of its last Linear layer (proj)
  double grad_norm = 0;       // both together: sqrt(fc^2 + proj^2)
  LayerStats hidden;          // the hidden activation, as layers() measures fc's layer
};
// One entry per block the traced forward ran (empty for a model without blocks).
template <class T> std::vector<BlockStats> blocks(const BasicTrace<T>& trace);

// One transformer block (GPT's: a causal self-attention, then a FeedForward), from a trace of
// the model's forward and backward: the gradient norms of its four weights, the FFN's hidden
// activation as layers() measures it (dead_frac: units whose slope is exactly 0 at every
// position probed), and each head's attention entropy in nats, -sum_s w log w over the
// positions s <= t a position t attends to, averaged over every position of every sequence
// (0 for a head that always looks at one position, log T + ... for a uniform one).
struct TransformerBlockStats {
  int block = 0;                                         // 1 = nearest the input
  double grad_norm_c_attn = 0, grad_norm_attn_proj = 0;  // ||dL/dW|| of attn.c_attn, c_proj
  double grad_norm_c_fc = 0, grad_norm_mlp_proj = 0;     // ||dL/dW|| of mlp.c_fc, c_proj
  LayerStats hidden;                                     // the FFN's hidden activation
  std::vector<double> head_entropy;                      // one per head
};
// One entry per transformer block the traced forward ran: the k-th attention recorded with
// the k-th FeedForward block. Throws std::logic_error when the trace holds no attention or
// their counts differ.
template <class T>
std::vector<TransformerBlockStats> transformer_blocks(const BasicTrace<T>& trace);

// Each head's mean attention entropy (see TransformerBlockStats) from attention weights as
// slope::causal_self_attention gives them.
template <class T>
std::vector<double> head_entropy(const typename BasicTensor<T>::Matrix& weights, Eigen::Index batch,
                                 Eigen::Index n_head);

// Which units of traced Linear layer l (0-based) had slope exactly 0 for every sample:
// true = dead. Throws std::out_of_range for an l the trace does not hold.
template <class T> std::vector<bool> dead_units(const BasicTrace<T>& trace, std::size_t l);

// std(after - before) / std(after): the relative size of one optimizer step
// (about 1e-3 is healthy; Karpathy, makemore part 3).
template <class T>
double update_ratio(const typename BasicTensor<T>::Matrix& before,
                    const typename BasicTensor<T>::Matrix& after);

}  // namespace slope::probe
