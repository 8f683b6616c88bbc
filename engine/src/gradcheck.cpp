#include "slope/gradcheck.hpp"

#include <cmath>
#include <sstream>

#include "slope/random.hpp"

namespace slope {

GradcheckResult gradcheck(const std::function<TensorD(const std::vector<TensorD>&)>& f,
                          const std::vector<TensorD>& inputs, double eps, double atol,
                          double rtol) {
  std::vector<TensorD> x;
  for (const TensorD& in : inputs) x.emplace_back(in.value(), true);

  // Analytic: backpropagate a fixed random seed R, i.e. the gradient of sum(y * R).
  const TensorD y = f(x);
  Rng rng(12345);
  TensorD::Matrix r(y.rows(), y.cols());
  for (Eigen::Index i = 0; i < r.size(); ++i) r(i) = rng.uniform(-1.0, 1.0);
  y.backward(r);

  // Numeric: central differences of the same projection, one element at a time.
  auto projected = [&]() {
    no_grad guard;
    return f(x).value().cwiseProduct(r).sum();
  };
  GradcheckResult result;
  double worst_excess = -1.0;
  for (std::size_t k = 0; k < x.size(); ++k) {
    TensorD::Matrix& v = x[k].value();
    for (Eigen::Index i = 0; i < v.rows(); ++i)
      for (Eigen::Index j = 0; j < v.cols(); ++j) {
        const double saved = v(i, j);
        v(i, j) = saved + eps;
        const double up = projected();
        v(i, j) = saved - eps;
        const double down = projected();
        v(i, j) = saved;
        const double numeric = (up - down) / (2 * eps);
        const double analytic = x[k].grad()(i, j);
        const double err = std::abs(analytic - numeric);
        const double excess = err - (atol + rtol * std::abs(numeric));
        result.max_abs_error = std::max(result.max_abs_error, err);
        if (excess > 0) result.ok = false;
        if (excess > worst_excess) {
          worst_excess = excess;
          std::ostringstream s;
          s.precision(10);
          s << "input " << k << " element (" << i << ", " << j << "): analytic " << analytic
            << ", numeric " << numeric << ", error " << err << " against a tolerance of "
            << atol + rtol * std::abs(numeric);
          result.worst = s.str();
        }
      }
  }
  return result;
}

}  // namespace slope
