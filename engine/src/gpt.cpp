#include "slope/gpt.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

#include "slope/trace.hpp"

namespace slope::nn {

namespace {

// A (rows, cols) matrix of N(0, std) draws, row by row (independent of storage order).
template <class T>
typename BasicTensor<T>::Matrix normal_matrix(std::int64_t rows, std::int64_t cols, double std,
                                              Rng& rng) {
  typename BasicTensor<T>::Matrix m(rows, cols);
  for (Eigen::Index i = 0; i < m.rows(); ++i)
    for (Eigen::Index j = 0; j < m.cols(); ++j) m(i, j) = static_cast<T>(rng.normal(0.0, std));
  return m;
}

void check_positive(const char* what, std::int64_t v) {
  if (v < 1)
    throw std::invalid_argument(std::string("slope::nn::GPT: ") + what +
                                " must be at least 1, got " + std::to_string(v));
}

}  // namespace

// --- Embedding -------------------------------------------------------------------------

template <class T>
BasicEmbedding<T>::BasicEmbedding(std::int64_t num_embeddings, std::int64_t embedding_dim,
                                  Rng& rng) {
  if (num_embeddings < 1 || embedding_dim < 1)
    throw std::invalid_argument("slope::nn::Embedding: sizes must be positive, got (" +
                                std::to_string(num_embeddings) + ", " +
                                std::to_string(embedding_dim) + ")");
  weight = BasicTensor<T>(normal_matrix<T>(num_embeddings, embedding_dim, 1.0, rng), true);
}

// --- CausalSelfAttention ----------------------------------------------------------------

template <class T>
BasicCausalSelfAttention<T>::BasicCausalSelfAttention(std::int64_t n_embd, std::int64_t n_head,
                                                      Rng& rng, double proj_std)
    : c_attn(n_embd, 3 * n_embd, true, Init::normal(0.02), rng),
      c_proj(n_embd, n_embd, true, Init::normal(proj_std), rng),
      n_head_(n_head) {
  if (n_head < 1 || n_embd % n_head != 0)
    throw std::invalid_argument("slope::nn::CausalSelfAttention: n_embd " + std::to_string(n_embd) +
                                " is not split by n_head " + std::to_string(n_head));
}

template <class T>
BasicTensor<T> BasicCausalSelfAttention<T>::forward(const BasicTensor<T>& x, Eigen::Index batch,
                                                    BasicTensor<T>* weights) const {
  // x (B*T, C) -> q, k, v (B*T, 3C) -> heads (B*T, C) -> (B*T, C)
  const bool traced = probe::BasicTrace<T>::current() != nullptr;
  BasicTensor<T> kept;  // the attention weights, for the probes
  const BasicTensor<T> y = causal_self_attention(c_attn(x), batch, n_head_,
                                                 weights  ? weights
                                                 : traced ? &kept
                                                          : nullptr);
  if (traced)
    probe::record_attention(c_attn.weight, c_proj.weight, weights ? *weights : kept, batch,
                            n_head_);
  return c_proj(y);
}

template <class T> std::vector<BasicTensor<T>> BasicCausalSelfAttention<T>::parameters() const {
  std::vector<BasicTensor<T>> out = c_attn.parameters();
  for (auto& p : c_proj.parameters()) out.push_back(std::move(p));
  return out;
}

// --- Block ------------------------------------------------------------------------------

template <class T>
BasicBlock<T>::BasicBlock(std::int64_t n_embd, std::int64_t n_head, std::string_view activation,
                          Rng& rng, std::int64_t n_layer)
    : ln_1(n_embd),
      attn(n_embd, n_head, rng, 0.02 / std::sqrt(2.0 * static_cast<double>(n_layer))),
      ln_2(n_embd),
      mlp(n_embd, 4 * n_embd, activation, Init::normal(0.02), rng) {
  mlp.proj.weight.value() = normal_matrix<T>(
      n_embd, 4 * n_embd, 0.02 / std::sqrt(2.0 * static_cast<double>(n_layer)), rng);
}

template <class T>
BasicTensor<T> BasicBlock<T>::forward(const BasicTensor<T>& x, Eigen::Index batch) const {
  const BasicTensor<T> h = x + attn.forward(ln_1(x), batch);  // (B*T, C)
  return h + mlp(ln_2(h));
}

template <class T> std::vector<BasicTensor<T>> BasicBlock<T>::parameters() const {
  std::vector<BasicTensor<T>> out;
  for (const auto& part :
       {ln_1.parameters(), attn.parameters(), ln_2.parameters(), mlp.parameters()})
    out.insert(out.end(), part.begin(), part.end());
  return out;
}

// --- GPT --------------------------------------------------------------------------------

namespace {
GPTConfig checked(GPTConfig c) {
  check_positive("vocab_size", c.vocab_size);
  check_positive("block_size", c.block_size);
  check_positive("n_layer", c.n_layer);
  check_positive("n_head", c.n_head);
  check_positive("n_embd", c.n_embd);
  if (c.n_embd % c.n_head != 0)
    throw std::invalid_argument("slope::nn::GPT: n_embd " + std::to_string(c.n_embd) +
                                " is not a multiple of n_head " + std::to_string(c.n_head));
  act::find(c.activation);  // names the valid ones
  return c;
}
}  // namespace

template <class T>
BasicGPT<T>::BasicGPT(GPTConfig config, Rng& rng)
    : wte(checked(config).vocab_size, config.n_embd, rng),
      wpe(config.block_size, config.n_embd, rng),
      ln_f(config.n_embd),
      config_(std::move(config)) {
  // nanoGPT's init: embeddings N(0, 0.02), as its Linear weights.
  wte.weight.value() = normal_matrix<T>(config_.vocab_size, config_.n_embd, 0.02, rng);
  wpe.weight.value() = normal_matrix<T>(config_.block_size, config_.n_embd, 0.02, rng);
  for (std::int64_t l = 0; l < config_.n_layer; ++l)
    blocks.emplace_back(config_.n_embd, config_.n_head, config_.activation, rng, config_.n_layer);
}

template <class T>
BasicTensor<T> BasicGPT<T>::forward(std::span<const int> ids, Eigen::Index batch) const {
  const auto n = static_cast<Eigen::Index>(ids.size());
  if (batch < 1 || n == 0 || n % batch != 0)
    throw ShapeError("slope::nn::GPT::forward: " + std::to_string(n) +
                     " ids are not batch = " + std::to_string(batch) + " sequences of T >= 1");
  const Eigen::Index t = n / batch;
  if (t > config_.block_size)
    throw std::invalid_argument("slope::nn::GPT::forward: sequences of " + std::to_string(t) +
                                " tokens, longer than block_size " +
                                std::to_string(config_.block_size));
  thread_local std::vector<int> positions;  // 0..T-1 for each sequence, kept between steps
  positions.resize(ids.size());
  for (std::size_t i = 0; i < ids.size(); ++i) positions[i] = static_cast<int>(i % t);
  BasicTensor<T> x = wte(ids) + wpe(positions);  // (B*T, C)
  for (const BasicBlock<T>& block : blocks) x = block.forward(x, batch);
  // The LM head is the token embedding: ln_f(x) (B*T, C) · wte^T (C, V) -> (B*T, V)
  return linear(ln_f(x), wte.weight, BasicTensor<T>());
}

template <class T>
std::vector<int> BasicGPT<T>::generate(std::vector<int> prompt, int max_new_tokens,
                                       double temperature, int top_k, Rng& rng) const {
  if (prompt.empty()) throw std::invalid_argument("slope::nn::GPT::generate: an empty prompt");
  if (!(temperature > 0) || !std::isfinite(temperature))
    throw std::invalid_argument("slope::nn::GPT::generate: temperature must be positive, got " +
                                std::to_string(temperature));
  const no_grad guard;
  std::vector<double> p(static_cast<std::size_t>(config_.vocab_size));
  for (int step = 0; step < max_new_tokens; ++step) {
    const std::size_t context =
        std::min(prompt.size(), static_cast<std::size_t>(config_.block_size));
    const BasicTensor<T> logits = forward(std::span<const int>(prompt).last(context), 1);  // (T, V)
    for (std::size_t v = 0; v < p.size(); ++v)
      p[v] = static_cast<double>(logits.value()(logits.rows() - 1, static_cast<Eigen::Index>(v))) /
             temperature;
    if (top_k > 0 && static_cast<std::size_t>(top_k) < p.size()) {  // keep the top_k largest
      std::vector<double> sorted = p;
      std::nth_element(sorted.begin(), sorted.begin() + (top_k - 1), sorted.end(),
                       std::greater<>());
      const double kth = sorted[static_cast<std::size_t>(top_k - 1)];
      for (double& z : p)
        if (z < kth) z = -std::numeric_limits<double>::infinity();
    }
    const double top = *std::max_element(p.begin(), p.end());
    double sum = 0;
    for (double& z : p) sum += (z = std::exp(z - top));
    double u = rng.uniform() * sum;
    std::size_t next = 0;
    while (next + 1 < p.size() && u >= p[next]) u -= p[next++];
    while (p[next] == 0) --next;  // never a token cut by top_k (u at the very end of the sum)
    prompt.push_back(static_cast<int>(next));
  }
  return prompt;
}

template <class T> std::vector<BasicTensor<T>> BasicGPT<T>::parameters() const {
  // named_parameters()' order, without building the names (an optimizer or clipping may ask
  // every step).
  std::vector<BasicTensor<T>> out{wte.weight, wpe.weight};
  for (const BasicBlock<T>& b : blocks)
    for (BasicTensor<T>& p : b.parameters()) out.push_back(std::move(p));
  for (BasicTensor<T>& p : ln_f.parameters()) out.push_back(std::move(p));
  return out;
}

template <class T>
std::vector<std::pair<std::string, BasicTensor<T>>> BasicGPT<T>::named_parameters() const {
  std::vector<std::pair<std::string, BasicTensor<T>>> out{{"transformer.wte.weight", wte.weight},
                                                          {"transformer.wpe.weight", wpe.weight}};
  auto add = [&](const std::string& name, const auto& module) {  // a Linear or a LayerNorm
    out.emplace_back(name + ".weight", module.weight);
    out.emplace_back(name + ".bias", module.bias);
  };
  for (std::size_t i = 0; i < blocks.size(); ++i) {
    const std::string h = "transformer.h." + std::to_string(i);
    const BasicBlock<T>& b = blocks[i];
    add(h + ".ln_1", b.ln_1);
    add(h + ".attn.c_attn", b.attn.c_attn);
    add(h + ".attn.c_proj", b.attn.c_proj);
    add(h + ".ln_2", b.ln_2);
    add(h + ".mlp.c_fc", b.mlp.fc);
    add(h + ".mlp.c_proj", b.mlp.proj);
  }
  add("transformer.ln_f", ln_f);
  return out;
}

template <class T>
std::vector<optim::ParamGroup<T>> BasicGPT<T>::optim_groups(double weight_decay) const {
  optim::ParamGroup<T> decay{{}, weight_decay}, no_decay{{}, 0.0};
  for (auto& [name, p] : named_parameters()) {
    const bool matrix = name.ends_with(".weight") && name.find(".ln_") == std::string::npos;
    (matrix ? decay : no_decay).params.push_back(p);
  }
  return {decay, no_decay};
}

template class BasicEmbedding<float>;
template class BasicEmbedding<double>;
template class BasicCausalSelfAttention<float>;
template class BasicCausalSelfAttention<double>;
template class BasicBlock<float>;
template class BasicBlock<double>;
template class BasicGPT<float>;
template class BasicGPT<double>;

}  // namespace slope::nn
