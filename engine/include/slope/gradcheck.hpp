// Checks any tensor function's analytic gradients against central finite
// differences, in double precision.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "slope/tensor.hpp"

namespace slope {

struct GradcheckResult {
  bool ok = true;
  double max_abs_error = 0;  // the largest |analytic - numeric| over every element
  // The element furthest past its tolerance (nearest it when every element passes),
  // with both numbers and the tolerance: where to look when ok is false. The largest
  // error may sit elsewhere, well inside the tolerance of a large gradient.
  std::string worst;
};

// f maps the inputs to any tensor y; the check differentiates sum(y * R) for a fixed
// random R, so every output element is covered. An input passes where
// |analytic - numeric| <= atol + rtol * |numeric| (PyTorch's gradcheck tolerances).
// Inputs are copied; f must not depend on anything but its arguments.
GradcheckResult gradcheck(const std::function<TensorD(const std::vector<TensorD>&)>& f,
                          const std::vector<TensorD>& inputs, double eps = 1e-6, double atol = 1e-5,
                          double rtol = 1e-3);

}  // namespace slope
