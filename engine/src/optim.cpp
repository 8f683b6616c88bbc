#include "slope/optim.hpp"

#include <cmath>
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

template class SGD<float>;
template class SGD<double>;
template class Adam<float>;
template class Adam<double>;

}  // namespace slope::optim
