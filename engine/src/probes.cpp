#include "slope/probes.hpp"

#include <cmath>

#include "slope/activations.hpp"

namespace slope::probe {

namespace {
template <class M> double std_dev(const M& m) {
  if (m.size() == 0) return 0.0;
  const double mean = m.template cast<double>().mean();
  return std::sqrt((m.template cast<double>().array() - mean).square().mean());
}

// Layer l's activation; the output layer has none, so it is measured as the identity.
template <class T> const act::Entry& layer_activation(const nn::BasicMLP<T>& m, std::size_t l) {
  return act::get(l + 1 == m.depth() ? "identity" : m.activation());
}

void check_forward(std::size_t have, std::size_t depth) {
  if (have != depth)
    throw std::logic_error("slope::probe: run the model's forward() before probing");
}
}  // namespace

template <class T> std::vector<LayerStats> layers(const nn::BasicMLP<T>& model) {
  check_forward(model.z.size(), model.depth());
  std::vector<LayerStats> out;
  for (std::size_t l = 0; l < model.depth(); ++l) {
    const act::Entry& f = layer_activation(model, l);
    const double threshold = 0.05 * act::max_slope(f).slope;
    const auto& z = model.z[l].value();
    const auto& h = model.h[l].value();
    LayerStats s;
    s.layer = static_cast<int>(l + 1);
    s.grad_norm = static_cast<double>(model.layers[l].weight.grad().norm());
    s.act_mean = h.size() ? static_cast<double>(h.template cast<double>().mean()) : 0.0;
    s.act_std = std_dev(h);
    double slope_sum = 0;
    std::size_t saturated = 0, dead = 0;
    for (Eigen::Index j = 0; j < z.cols(); ++j) {
      bool all_zero = true;
      for (Eigen::Index i = 0; i < z.rows(); ++i) {
        const double d = std::abs(f.slope(static_cast<double>(z(i, j))));
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
    out.push_back(s);
  }
  return out;
}

template <class T> std::vector<bool> dead_units(const nn::BasicMLP<T>& model, std::size_t l) {
  check_forward(model.z.size(), model.depth());
  const act::Entry& f = layer_activation(model, l);
  const auto& z = model.z.at(l).value();
  std::vector<bool> dead(static_cast<std::size_t>(z.cols()), z.rows() > 0);
  for (Eigen::Index j = 0; j < z.cols(); ++j)
    for (Eigen::Index i = 0; i < z.rows() && dead[static_cast<std::size_t>(j)]; ++i)
      if (f.slope(static_cast<double>(z(i, j))) != 0.0) dead[static_cast<std::size_t>(j)] = false;
  return dead;
}

template <class T>
double update_ratio(const typename BasicTensor<T>::Matrix& before,
                    const typename BasicTensor<T>::Matrix& after) {
  const double s = std_dev(after);
  return s == 0.0 ? 0.0 : std_dev((after - before).eval()) / s;
}

template std::vector<LayerStats> layers(const nn::BasicMLP<float>&);
template std::vector<LayerStats> layers(const nn::BasicMLP<double>&);
template std::vector<bool> dead_units(const nn::BasicMLP<float>&, std::size_t);
template std::vector<bool> dead_units(const nn::BasicMLP<double>&, std::size_t);
template double update_ratio<float>(const Tensor::Matrix&, const Tensor::Matrix&);
template double update_ratio<double>(const TensorD::Matrix&, const TensorD::Matrix&);

}  // namespace slope::probe
