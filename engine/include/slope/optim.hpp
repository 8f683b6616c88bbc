// Optimizers with PyTorch's update rules (torch.optim.SGD and torch.optim.Adam).
//
//   slope::optim::SGD opt(model.parameters(), 0.1, /*momentum=*/0.9);
//   opt.zero_grad(); loss = ...; loss.backward(); opt.step();
#pragma once

#include <cstdint>
#include <vector>

#include "slope/tensor.hpp"

namespace slope::optim {

// SGD with momentum mu (dampening 0): g += wd p; buf = g on the first step, then
// buf = mu buf + g; p -= lr buf.
template <class T> class SGD {
 public:
  SGD(std::vector<BasicTensor<T>> params, double lr, double momentum = 0.0,
      double weight_decay = 0.0);
  void zero_grad() const;
  void step();
  double lr;
  double momentum;
  double weight_decay;
  const std::vector<BasicTensor<T>>& parameters() const { return params_; }

 private:
  std::vector<BasicTensor<T>> params_;
  std::vector<typename BasicTensor<T>::Matrix> buf_;  // momentum buffers, 0 x 0 until used
};

struct Betas {
  double beta1 = 0.9;
  double beta2 = 0.999;
};

// Adam (Kingma & Ba 2015): g += wd p; m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2;
// p -= lr (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps).
template <class T> class Adam {
 public:
  Adam(std::vector<BasicTensor<T>> params, double lr = 1e-3, Betas betas = {}, double eps = 1e-8,
       double weight_decay = 0.0);
  void zero_grad() const;
  void step();
  double lr;
  Betas betas;
  double eps;
  double weight_decay;
  const std::vector<BasicTensor<T>>& parameters() const { return params_; }

 private:
  std::vector<BasicTensor<T>> params_;
  std::vector<typename BasicTensor<T>::Matrix> m_, v_, d_;  // moments, decayed gradient
  std::int64_t t_ = 0;
};

// Parameters that share a weight decay (PyTorch's param_groups).
template <class T> struct ParamGroup {
  std::vector<BasicTensor<T>> params;
  double weight_decay = 0.0;
};

// AdamW (Loshchilov & Hutter 2019), torch.optim.AdamW's rule: the decay is decoupled from the
// gradient, p -= lr wd p, then the Adam step m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2;
// p -= (lr / (1 - b1^t)) m / (sqrt(v) / sqrt(1 - b2^t) + eps). Each group has its own
// weight decay (nanoGPT decays the weight matrices of Linear and Embedding, not the biases
// or LayerNorm: nn::GPT::optim_groups).
template <class T> class AdamW {
 public:
  AdamW(std::vector<BasicTensor<T>> params, double lr = 1e-3, Betas betas = {}, double eps = 1e-8,
        double weight_decay = 1e-2);
  AdamW(std::vector<ParamGroup<T>> groups, double lr = 1e-3, Betas betas = {}, double eps = 1e-8);
  void zero_grad() const;
  void step();
  double lr;  // every group's, as nanoGPT sets it each step from its schedule
  Betas betas;
  double eps;
  const std::vector<ParamGroup<T>>& param_groups() const { return groups_; }
  std::vector<BasicTensor<T>> parameters() const;  // every group's, in order

 private:
  std::vector<ParamGroup<T>> groups_;
  std::vector<std::vector<typename BasicTensor<T>::Matrix>> m_, v_;  // per group, per tensor
  std::int64_t t_ = 0;
};

// nanoGPT's learning rate at step `it` (train.py's get_lr): a linear warmup,
// lr (it + 1) / (warmup_iters + 1) for it < warmup_iters, then a cosine from lr down to min_lr
// at lr_decay_iters, and min_lr after.
struct CosineSchedule {
  double lr = 1e-3;
  double min_lr = 1e-4;
  std::int64_t warmup_iters = 100;
  std::int64_t lr_decay_iters = 5000;
  double operator()(std::int64_t it) const;
};

}  // namespace slope::optim

namespace slope::nn {
// torch.nn.utils.clip_grad_norm_: the L2 norm of all the gradients together; when it exceeds
// max_norm, every gradient is scaled by max_norm / (norm + 1e-6). Returns the norm before
// clipping. Tensors without a gradient are skipped.
template <class T>
double clip_grad_norm(const std::vector<BasicTensor<T>>& params, double max_norm);
}  // namespace slope::nn
