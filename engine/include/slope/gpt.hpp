// GPT-2 from slope's modules, nanoGPT's shape: token and position embeddings, n_layer pre-LN
// blocks of causal self-attention and a feed-forward MLP whose activation is any registered
// one, a final LayerNorm and the LM head tied to the token embedding.
//
//   slope::nn::GPT model({.vocab_size = 65, .block_size = 64, .n_layer = 4, .n_head = 4,
//                         .n_embd = 128, .activation = "gelu"}, rng);
//   auto loss = slope::cross_entropy(model.forward(ids, batch), targets);  // ids: B*T tokens
//
// Rows are the B*T token positions, sequence by sequence (llm.c's (B, T, C) flattened); the
// parts that need the sequences take `batch`, the number of sequences.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "slope/nn.hpp"
#include "slope/optim.hpp"
#include "slope/random.hpp"
#include "slope/tensor.hpp"

namespace slope::nn {

// PyTorch's nn.Embedding: `weight` (num_embeddings, embedding_dim), N(0, 1) at init;
// forward(ids) is slope::embedding(ids, weight).
template <class T> class BasicEmbedding {
 public:
  BasicEmbedding(std::int64_t num_embeddings, std::int64_t embedding_dim, Rng& rng = default_rng());
  BasicTensor<T> forward(std::span<const int> ids) const { return embedding(ids, weight); }
  BasicTensor<T> operator()(std::span<const int> ids) const { return forward(ids); }
  std::vector<BasicTensor<T>> parameters() const { return {weight}; }

  BasicTensor<T> weight;
};

// nanoGPT's CausalSelfAttention: c_attn (n_embd -> 3 n_embd: q, k and v), attention over
// n_head heads (slope::causal_self_attention), c_proj (n_embd -> n_embd). GPT-2's init:
// weights N(0, 0.02), c_proj's N(0, proj_std), biases 0.
template <class T> class BasicCausalSelfAttention {
 public:
  BasicCausalSelfAttention(std::int64_t n_embd, std::int64_t n_head, Rng& rng = default_rng(),
                           double proj_std = 0.02);
  // x (B*T, n_embd) -> (B*T, n_embd); `weights`, when given, receives the attention weights
  // (see slope::causal_self_attention).
  BasicTensor<T> forward(const BasicTensor<T>& x, Eigen::Index batch,
                         BasicTensor<T>* weights = nullptr) const;
  std::vector<BasicTensor<T>> parameters() const;  // c_attn's, then c_proj's
  std::int64_t n_head() const { return n_head_; }

  BasicLinear<T> c_attn;
  BasicLinear<T> c_proj;

 private:
  std::int64_t n_head_;
};

// A pre-LN transformer block, GPT-2's: x + attn(ln_1(x)), then x + mlp(ln_2(x)), with mlp a
// FeedForward(n_embd, 4 n_embd, activation) (nanoGPT's c_fc and c_proj are its fc and proj).
// n_layer, the depth of the model it is part of, scales the init of the two projections
// back into the residual stream: N(0, 0.02 / sqrt(2 n_layer)), as GPT-2.
template <class T> class BasicBlock {
 public:
  BasicBlock(std::int64_t n_embd, std::int64_t n_head, std::string_view activation = "gelu",
             Rng& rng = default_rng(), std::int64_t n_layer = 1);
  BasicTensor<T> forward(const BasicTensor<T>& x, Eigen::Index batch) const;
  std::vector<BasicTensor<T>> parameters() const;  // ln_1, attn, ln_2, mlp

  BasicLayerNorm<T> ln_1;
  BasicCausalSelfAttention<T> attn;
  BasicLayerNorm<T> ln_2;
  BasicFeedForward<T> mlp;
};

struct GPTConfig {
  std::int64_t vocab_size = 0;
  std::int64_t block_size = 0;  // the longest sequence (positions of wpe)
  std::int64_t n_layer = 0;
  std::int64_t n_head = 0;
  std::int64_t n_embd = 0;
  std::string activation = "gelu";  // the MLPs' activation, any registered one
};

template <class T> class BasicGPT {
 public:
  // Throws std::invalid_argument for a size below 1, n_embd not a multiple of n_head, or an
  // unknown activation.
  explicit BasicGPT(GPTConfig config, Rng& rng = default_rng());
  // ids: `batch` sequences of T <= block_size tokens, one after the other -> logits
  // (B*T, vocab_size). An id outside the vocabulary throws std::out_of_range naming it.
  BasicTensor<T> forward(std::span<const int> ids, Eigen::Index batch) const;
  // nanoGPT's generate: the prompt and max_new_tokens tokens sampled one at a time from the
  // last position's softmax(logits / temperature), cut to the top_k most likely (0: all),
  // the context cropped to the last block_size tokens. Records no graph.
  std::vector<int> generate(std::vector<int> prompt, int max_new_tokens, double temperature,
                            int top_k, Rng& rng) const;
  // Each tensor once (the LM head is wte): wte, wpe, the blocks', ln_f.
  std::vector<BasicTensor<T>> parameters() const;
  // The same, with nanoGPT's state_dict names ("transformer.h.0.attn.c_attn.weight", ...).
  std::vector<std::pair<std::string, BasicTensor<T>>> named_parameters() const;
  // nanoGPT's configure_optimizers groups: the weight matrices (wte, wpe, every Linear's
  // weight) decay by weight_decay, the biases and LayerNorm's weights and biases do not.
  std::vector<optim::ParamGroup<T>> optim_groups(double weight_decay) const;
  const GPTConfig& config() const { return config_; }

  BasicEmbedding<T> wte;  // (vocab_size, n_embd); also the LM head
  BasicEmbedding<T> wpe;  // (block_size, n_embd)
  std::vector<BasicBlock<T>> blocks;
  BasicLayerNorm<T> ln_f;

 private:
  GPTConfig config_;
};

using Embedding = BasicEmbedding<float>;
using EmbeddingD = BasicEmbedding<double>;
using CausalSelfAttention = BasicCausalSelfAttention<float>;
using CausalSelfAttentionD = BasicCausalSelfAttention<double>;
using Block = BasicBlock<float>;
using BlockD = BasicBlock<double>;
using GPT = BasicGPT<float>;
using GPTD = BasicGPT<double>;

}  // namespace slope::nn
