// What the lesson measures inside a network, per Linear layer (1 = nearest the input).
#pragma once

#include <limits>
#include <vector>

#include "slope/nn.hpp"

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

// From the model's last forward() and backward(): one entry per Linear layer. The
// output layer, which has no activation, is measured as the identity.
template <class T> std::vector<LayerStats> layers(const nn::BasicMLP<T>& model);

// Which units of layer l (0-based) had slope exactly 0 for every sample of the last
// forward(): true = dead.
template <class T> std::vector<bool> dead_units(const nn::BasicMLP<T>& model, std::size_t l);

// std(after - before) / std(after): the relative size of one optimizer step
// (about 1e-3 is healthy; Karpathy, makemore part 3).
template <class T>
double update_ratio(const typename BasicTensor<T>::Matrix& before,
                    const typename BasicTensor<T>::Matrix& after);

}  // namespace slope::probe
