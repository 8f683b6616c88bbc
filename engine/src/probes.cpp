#include "slope/probes.hpp"

#include <cmath>
#include <stdexcept>
#include <string>
#include <type_traits>

#include "slope/activations.hpp"

namespace slope::probe {

// --- the trace ----------------------------------------------------------------------

namespace {
// This thread's current trace of each precision.
template <class T> const BasicTrace<T>*& current_trace() {
  thread_local const BasicTrace<T>* t = nullptr;
  return t;
}
}  // namespace

template <class T> BasicTrace<T>::BasicTrace() : previous_(current_trace<T>()) {
  current_trace<T>() = this;
}
template <class T> BasicTrace<T>::~BasicTrace() {
  // Usually the innermost trace dies first; if not, unlink this one from the chain so no
  // trace is left pointing at it.
  if (current_trace<T>() == this) {
    current_trace<T>() = previous_;
    return;
  }
  for (const BasicTrace* t = current_trace<T>(); t != nullptr; t = t->previous_)
    if (t->previous_ == this) {
      t->previous_ = previous_;
      return;
    }
}
template <class T> const BasicTrace<T>* BasicTrace<T>::current() { return current_trace<T>(); }

template <class T> void BasicTrace<T>::clear() const {
  layers_.clear();
  attentions_.clear();
  blocks_ = 0;
  open_block_ = 0;
}

template <class T>
BasicTrace<T>::Block::Block()
    : trace_(current_trace<T>()), previous_(trace_ ? trace_->open_block_ : 0) {
  if (trace_) trace_->open_block_ = ++trace_->blocks_;
}
template <class T> BasicTrace<T>::Block::~Block() {
  if (trace_) trace_->open_block_ = previous_;
}

template <class T>
void BasicTrace<T>::add_linear(const BasicTensor<T>& weight, const BasicTensor<T>& out) const {
  layers_.push_back({weight, out, out, act::id_of<act::Identity>, open_block_});
}

template <class T>
void BasicTrace<T>::add_activation(std::size_t id, const BasicTensor<T>& in,
                                   const BasicTensor<T>& out) const {
  // Only an activation reading the last Linear layer's own output belongs to that layer.
  if (layers_.empty() || layers_.back().z.node() != in.node() ||
      layers_.back().h.node() != in.node())
    return;
  layers_.back().activation = id;
  layers_.back().h = out;
}

// --- the probes ---------------------------------------------------------------------

namespace {
template <class M> double std_dev(const M& m) {
  if (m.size() == 0) return 0.0;
  const double mean = m.template cast<double>().mean();
  return std::sqrt((m.template cast<double>().array() - mean).square().mean());
}

// f'(z) over a layer in SIMD batches, in the layer's own precision (as the backward pass).
template <class M> M slopes(const act::Entry& f, const M& z) {
  M out(z.rows(), z.cols());
  if constexpr (std::is_same_v<typename M::Scalar, float>)
    f.slopes_f(z.data(), out.data(), static_cast<std::size_t>(z.size()));
  else
    f.slopes(z.data(), out.data(), static_cast<std::size_t>(z.size()));
  return out;
}

template <class T> LayerStats measure(const typename BasicTrace<T>::Layer& l, int index) {
  const act::Entry& f = act::entries()[l.activation];
  const double threshold = 0.05 * act::max_slope(l.activation).slope;
  const auto& z = l.z.value();
  const auto& h = l.h.value();
  LayerStats s;
  s.layer = index;
  s.grad_norm = static_cast<double>(l.weight.grad().norm());
  s.act_mean = h.size() ? static_cast<double>(h.template cast<double>().mean()) : 0.0;
  s.act_std = std_dev(h);
  const auto slope = slopes(f, z);
  double slope_sum = 0;
  std::size_t saturated = 0, dead = 0;
  for (Eigen::Index j = 0; j < z.cols(); ++j) {
    bool all_zero = true;
    for (Eigen::Index i = 0; i < z.rows(); ++i) {
      const double d = std::abs(static_cast<double>(slope(i, j)));
      slope_sum += d;
      saturated += d < threshold;
      all_zero = all_zero && d == 0.0;
    }
    dead += all_zero && z.rows() > 0;
  }
  const double pairs = static_cast<double>(std::max<Eigen::Index>(1, z.size()));
  s.mean_slope = slope_sum / pairs;
  s.saturated_frac = static_cast<double>(saturated) / pairs;
  s.dead_frac =
      static_cast<double>(dead) / static_cast<double>(std::max<Eigen::Index>(1, z.cols()));
  return s;
}
}  // namespace

template <class T> std::vector<LayerStats> layers(const BasicTrace<T>& trace) {
  if (trace.layers().empty())
    throw std::logic_error(
        "slope::probe::layers: the trace recorded no Linear layer; run the model's forward() "
        "while the trace is alive");
  std::vector<LayerStats> out;
  for (std::size_t l = 0; l < trace.layers().size(); ++l)
    out.push_back(measure<T>(trace.layers()[l], static_cast<int>(l + 1)));
  return out;
}

template <class T> std::vector<BlockStats> blocks(const BasicTrace<T>& trace) {
  std::vector<BlockStats> out(static_cast<std::size_t>(trace.blocks()));
  std::vector<bool> seen(out.size(), false);
  for (std::size_t k = 0; k < trace.layers().size(); ++k) {
    const auto& l = trace.layers()[k];
    if (l.block == 0) continue;
    BlockStats& b = out[static_cast<std::size_t>(l.block - 1)];
    const double norm = static_cast<double>(l.weight.grad().norm());
    if (!seen[static_cast<std::size_t>(l.block - 1)]) {  // the block's first layer: fc
      seen[static_cast<std::size_t>(l.block - 1)] = true;
      b.block = l.block;
      b.first_layer = static_cast<int>(k + 1);
      b.grad_norm_fc = norm;
      b.hidden = measure<T>(l, l.block);
    }
    b.grad_norm_proj = norm;  // the last layer seen so far: proj
  }
  std::vector<BlockStats> kept;  // a block that ran no Linear layer has nothing to measure
  for (std::size_t i = 0; i < out.size(); ++i)
    if (seen[i]) {
      out[i].grad_norm = std::hypot(out[i].grad_norm_fc, out[i].grad_norm_proj);
      kept.push_back(out[i]);
    }
  return kept;
}

template <class T>
std::vector<double> head_entropy(const typename BasicTensor<T>::Matrix& w, Eigen::Index batch,
                                 Eigen::Index n_head) {
  const Eigen::Index t_len = w.rows();
  if (batch < 1 || n_head < 1 || w.cols() != batch * n_head * t_len)
    throw std::invalid_argument("slope::probe::head_entropy: weights of shape (" +
                                std::to_string(w.rows()) + ", " + std::to_string(w.cols()) +
                                ") are not batch * n_head (T, T) blocks");
  std::vector<double> out(static_cast<std::size_t>(n_head), 0.0);
  for (Eigen::Index b = 0; b < batch; ++b)
    for (Eigen::Index h = 0; h < n_head; ++h)
      for (Eigen::Index t = 0; t < t_len; ++t)
        for (Eigen::Index s = 0; s <= t; ++s) {
          const double p = static_cast<double>(w(t, (b * n_head + h) * t_len + s));
          if (p > 0) out[static_cast<std::size_t>(h)] -= p * std::log(p);
        }
  for (double& e : out) e /= static_cast<double>(batch * t_len);
  return out;
}

template <class T>
std::vector<TransformerBlockStats> transformer_blocks(const BasicTrace<T>& trace) {
  const std::vector<BlockStats> ffn = blocks(trace);
  const auto& attn = trace.attentions();
  if (attn.empty() || attn.size() != ffn.size())
    throw std::logic_error("slope::probe::transformer_blocks: the trace holds " +
                           std::to_string(attn.size()) + " attentions and " +
                           std::to_string(ffn.size()) +
                           " FeedForward blocks; run a GPT's forward while it is alive");
  std::vector<TransformerBlockStats> out;
  for (std::size_t k = 0; k < attn.size(); ++k) {
    TransformerBlockStats s;
    s.block = static_cast<int>(k + 1);
    s.grad_norm_c_attn = static_cast<double>(attn[k].c_attn.grad().norm());
    s.grad_norm_attn_proj = static_cast<double>(attn[k].c_proj.grad().norm());
    s.grad_norm_c_fc = ffn[k].grad_norm_fc;
    s.grad_norm_mlp_proj = ffn[k].grad_norm_proj;
    s.hidden = ffn[k].hidden;
    s.hidden.layer = s.block;
    s.head_entropy = head_entropy<T>(attn[k].weights.value(), attn[k].batch, attn[k].n_head);
    out.push_back(std::move(s));
  }
  return out;
}

template <class T> std::vector<bool> dead_units(const BasicTrace<T>& trace, std::size_t l) {
  if (l >= trace.layers().size())
    throw std::out_of_range("slope::probe::dead_units: layer " + std::to_string(l) +
                            " of a trace of " + std::to_string(trace.layers().size()) +
                            " Linear layers");
  const auto& layer = trace.layers()[l];
  const auto& z = layer.z.value();
  const auto slope = slopes(act::entries()[layer.activation], z);
  std::vector<bool> dead(static_cast<std::size_t>(z.cols()), z.rows() > 0);
  for (Eigen::Index j = 0; j < z.cols(); ++j)
    for (Eigen::Index i = 0; i < z.rows() && dead[static_cast<std::size_t>(j)]; ++i)
      if (slope(i, j) != T(0)) dead[static_cast<std::size_t>(j)] = false;
  return dead;
}

template <class T>
double update_ratio(const typename BasicTensor<T>::Matrix& before,
                    const typename BasicTensor<T>::Matrix& after) {
  const double s = std_dev(after);
  return s == 0.0 ? 0.0 : std_dev((after - before).eval()) / s;
}

#define SLOPE_INSTANTIATE(T)                                                                \
  template class BasicTrace<T>;                                                             \
  template std::vector<LayerStats> layers(const BasicTrace<T>&);                            \
  template std::vector<BlockStats> blocks(const BasicTrace<T>&);                            \
  template std::vector<TransformerBlockStats> transformer_blocks(const BasicTrace<T>&);     \
  template std::vector<double> head_entropy<T>(const BasicTensor<T>::Matrix&, Eigen::Index, \
                                               Eigen::Index);                               \
  template std::vector<bool> dead_units(const BasicTrace<T>&, std::size_t);                 \
  template double update_ratio<T>(const BasicTensor<T>::Matrix&, const BasicTensor<T>::Matrix&);

SLOPE_INSTANTIATE(float)
SLOPE_INSTANTIATE(double)
#undef SLOPE_INSTANTIATE

}  // namespace slope::probe
