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

}  // namespace slope::optim
