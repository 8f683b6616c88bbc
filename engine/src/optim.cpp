#include "slope/optim.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <stdexcept>
#include <string>

namespace slope::optim {

namespace {
void check_lr(const char* who, double lr) {
  if (!(lr >= 0.0) || !std::isfinite(lr))
    throw std::invalid_argument(std::string("slope::optim::") + who +
                                ": learning rate must be finite and >= 0, got " +
                                std::to_string(lr));
}
template <class T> void zero_all(const std::vector<BasicTensor<T>>& params) {
  for (const auto& p : params) p.zero_grad();
}
}  // namespace

template <class T>
SGD<T>::SGD(std::vector<BasicTensor<T>> params, double lr_, double momentum_, double weight_decay_)
    : lr(lr_), momentum(momentum_), weight_decay(weight_decay_), params_(std::move(params)) {
  check_lr("SGD", lr);
  buf_.resize(params_.size());
}

template <class T> void SGD<T>::zero_grad() const { zero_all(params_); }

template <class T> void SGD<T>::step() {
  const T lr_t = static_cast<T>(lr), mu = static_cast<T>(momentum),
          wd = static_cast<T>(weight_decay);
  for (std::size_t i = 0; i < params_.size(); ++i) {
    auto& p = params_[i].value();
    const auto& g = params_[i].grad();  // left as backward() made it, as PyTorch does
    auto& d = buf_[i];
    if (mu == T(0)) {
      p -= lr_t * (g + wd * p);
      continue;
    }
    if (d.size() == 0)
      d = g + wd * p;  // the first step's buffer is the (decayed) gradient itself
    else
      d = mu * d + g + wd * p;
    p -= lr_t * d;
  }
}

template <class T>
Adam<T>::Adam(std::vector<BasicTensor<T>> params, double lr_, Betas betas_, double eps_,
              double weight_decay_)
    : lr(lr_), betas(betas_), eps(eps_), weight_decay(weight_decay_), params_(std::move(params)) {
  check_lr("Adam", lr);
  if (!(betas.beta1 >= 0 && betas.beta1 < 1 && betas.beta2 >= 0 && betas.beta2 < 1))
    throw std::invalid_argument("slope::optim::Adam: betas must be in [0, 1), got (" +
                                std::to_string(betas.beta1) + ", " + std::to_string(betas.beta2) +
                                ")");
  m_.resize(params_.size());
  v_.resize(params_.size());
  d_.resize(params_.size());
}

template <class T> void Adam<T>::zero_grad() const { zero_all(params_); }

template <class T> void Adam<T>::step() {
  ++t_;
  const T b1 = static_cast<T>(betas.beta1), b2 = static_cast<T>(betas.beta2);
  const T c1 = static_cast<T>(1.0 - std::pow(betas.beta1, static_cast<double>(t_)));
  const T c2 = static_cast<T>(1.0 - std::pow(betas.beta2, static_cast<double>(t_)));
  const T lr_t = static_cast<T>(lr), e = static_cast<T>(eps), wd = static_cast<T>(weight_decay);
  for (std::size_t i = 0; i < params_.size(); ++i) {
    auto& p = params_[i].value();
    auto& g = d_[i];
    g = params_[i].grad() + wd * p;  // a copy: p.grad() stays as backward() left it
    if (t_ == 1) {
      m_[i].setZero(p.rows(), p.cols());
      v_[i].setZero(p.rows(), p.cols());
    }
    m_[i] = b1 * m_[i] + (T(1) - b1) * g;
    v_[i] = b2 * v_[i] + (T(1) - b2) * g.cwiseProduct(g);
    p.array() -= lr_t * (m_[i].array() / c1) / ((v_[i].array() / c2).sqrt() + e);
  }
}

template <class T>
AdamW<T>::AdamW(std::vector<BasicTensor<T>> params, double lr_, Betas betas_, double eps_,
                double weight_decay)
    : AdamW(std::vector<ParamGroup<T>>{{std::move(params), weight_decay}}, lr_, betas_, eps_) {}

template <class T>
AdamW<T>::AdamW(std::vector<ParamGroup<T>> groups, double lr_, Betas betas_, double eps_)
    : lr(lr_), betas(betas_), eps(eps_), groups_(std::move(groups)) {
  check_lr("AdamW", lr);
  if (!(betas.beta1 >= 0 && betas.beta1 < 1 && betas.beta2 >= 0 && betas.beta2 < 1))
    throw std::invalid_argument("slope::optim::AdamW: betas must be in [0, 1), got (" +
                                std::to_string(betas.beta1) + ", " + std::to_string(betas.beta2) +
                                ")");
  for (const ParamGroup<T>& g : groups_) {
    if (!(g.weight_decay >= 0) || !std::isfinite(g.weight_decay))
      throw std::invalid_argument(
          "slope::optim::AdamW: weight_decay must be finite and >= 0, got " +
          std::to_string(g.weight_decay));
    m_.emplace_back(g.params.size());
    v_.emplace_back(g.params.size());
  }
}

template <class T> std::vector<BasicTensor<T>> AdamW<T>::parameters() const {
  std::vector<BasicTensor<T>> out;
  for (const ParamGroup<T>& g : groups_) out.insert(out.end(), g.params.begin(), g.params.end());
  return out;
}

template <class T> void AdamW<T>::zero_grad() const {
  for (const ParamGroup<T>& g : groups_) zero_all(g.params);
}

template <class T> void AdamW<T>::step() {
  ++t_;
  const T b1 = static_cast<T>(betas.beta1), b2 = static_cast<T>(betas.beta2);
  const T step_size = static_cast<T>(lr / (1.0 - std::pow(betas.beta1, static_cast<double>(t_))));
  const T c2_sqrt = static_cast<T>(std::sqrt(1.0 - std::pow(betas.beta2, static_cast<double>(t_))));
  const T e = static_cast<T>(eps);
  for (std::size_t k = 0; k < groups_.size(); ++k) {
    const T decay = static_cast<T>(1.0 - lr * groups_[k].weight_decay);
    for (std::size_t i = 0; i < groups_[k].params.size(); ++i) {
      const BasicTensor<T>& param = groups_[k].params[i];
      auto& p = param.value();
      const auto& g = param.grad();
      auto& m = m_[k][i];
      auto& v = v_[k][i];
      if (t_ == 1) {
        m.setZero(p.rows(), p.cols());
        v.setZero(p.rows(), p.cols());
      }
      if (decay != T(1)) p *= decay;  // decoupled: p -= lr wd p
      m = b1 * m + (T(1) - b1) * g;
      v = b2 * v + (T(1) - b2) * g.cwiseProduct(g);
      p.array() -= step_size * m.array() / (v.array().sqrt() / c2_sqrt + e);
    }
  }
}

double CosineSchedule::operator()(std::int64_t it) const {
  if (it < warmup_iters)
    return lr * static_cast<double>(it + 1) / static_cast<double>(warmup_iters + 1);
  if (it > lr_decay_iters) return min_lr;
  const double ratio =
      static_cast<double>(it - warmup_iters) /
      static_cast<double>(std::max<std::int64_t>(1, lr_decay_iters - warmup_iters));
  return min_lr + 0.5 * (1.0 + std::cos(std::numbers::pi * ratio)) * (lr - min_lr);
}

template class SGD<float>;
template class SGD<double>;
template class Adam<float>;
template class Adam<double>;
template class AdamW<float>;
template class AdamW<double>;

}  // namespace slope::optim

namespace slope::nn {

template <class T>
double clip_grad_norm(const std::vector<BasicTensor<T>>& params, double max_norm) {
  if (!(max_norm > 0))
    throw std::invalid_argument("slope::nn::clip_grad_norm: max_norm must be positive, got " +
                                std::to_string(max_norm));
  double sum = 0;  // squares summed in double, however the gradients are stored
  for (const BasicTensor<T>& p : params)
    if (p.node()->grad.size() != 0) sum += p.node()->grad.template cast<double>().squaredNorm();
  const double norm = std::sqrt(sum);
  const double coef = max_norm / (norm + 1e-6);
  if (coef < 1)
    for (const BasicTensor<T>& p : params)
      if (p.node()->grad.size() != 0) p.node()->grad *= static_cast<T>(coef);
  return norm;
}

template double clip_grad_norm(const std::vector<BasicTensor<float>>&, double);
template double clip_grad_norm(const std::vector<BasicTensor<double>>&, double);

}  // namespace slope::nn
