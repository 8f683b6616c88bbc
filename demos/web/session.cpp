#include "web/session.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <stdexcept>

namespace slope::web {

namespace {

[[noreturn]] void bad(const std::string& what) {
  throw std::invalid_argument("slope::web::Settings: " + what);
}

// A bound as people write it: 100000, 0.99, 1e+09.
template <class T> std::string num(T x) {
  std::ostringstream out;
  out << x;
  return out.str();
}

bool is_name(const std::vector<std::string>& names, const std::string& s) {
  return std::find(names.begin(), names.end(), s) != names.end();
}

nn::Init init_of(const Settings& s) {
  const nn::Init init = nn::Init::parse(s.init);
  return s.bias == 0 ? init : init.with_bias(s.bias);
}

// slope-curves' split: the data set and its shuffle both from the run's seed.
std::pair<data::Dataset, data::Dataset> split_of(const Settings& s) {
  validate(s);
  return data::train_test_split(data::make(s.data, s.samples, s.noise_or_default(), s.seed),
                                s.test_fraction, s.seed);
}

}  // namespace

void validate(const Settings& s) {
  if (!is_name(data::names(), s.data)) bad("unknown data set '" + s.data + "'");
  const demo::RunBounds& b = demo::kRunBounds;
  const PageBounds& page = kPageBounds;
  if (s.samples < b.samples_min || s.samples > page.samples_max)
    bad("samples must be in " + num(b.samples_min) + ".." + num(page.samples_max));
  if (s.noise && !(*s.noise >= 0 && *s.noise <= b.noise_max))
    bad("noise must be in [0, " + num(b.noise_max) + "]");
  if (!(s.test_fraction >= 0 && s.test_fraction <= b.test_fraction_max))
    bad("test_fraction must be in [0, " + num(b.test_fraction_max) + "]");
  act::find(s.activation);  // names the valid ones
  if (s.depth < 1 || s.depth > page.depth_max) bad("depth must be in 1.." + num(page.depth_max));
  if (s.width < 1 || s.width > page.width_max) bad("width must be in 1.." + num(page.width_max));
  nn::Init::parse(s.init);
  if (!std::isfinite(s.bias)) bad("bias must be finite");
  demo::default_lr(s.optim);
  if (!(s.lr <= b.lr_max)) bad("lr must be at most " + num(b.lr_max));
}

// Members in slope-curves' order: the data, then the model from Rng(seed), then Adam or SGD.
Session::Session(const Settings& settings)
    : settings_(settings),
      split_(split_of(settings_)),
      x_train_(split_.first.features<float>()),
      x_test_(split_.second.features<float>()),
      rng_(settings.seed),
      model_(demo::make_mlp(split_.first.dim, settings.width, settings.depth,
                            static_cast<std::size_t>(split_.first.classes), settings.activation,
                            init_of(settings), rng_)),
      module_(model_),
      optimizer_(settings.optim, model_.parameters(), settings.lr) {}

// slope-curves' step (demo::train_step, probed at every step), and the units it found dead.
StepReport Session::step() {
  if (diverged_) throw std::logic_error("slope::web::Session::step: the run " + *diverged_);
  StepReport r;
  r.step = steps_;
  const demo::StepResult s = demo::train_step(
      module_, optimizer_, x_train_, split_.first, x_test_, split_.second, steps_,
      /*probed=*/true, /*take=*/true, [&](std::size_t, const probe::Trace& trace, const Tensor&) {
        for (std::size_t l = 0; l + 1 < trace.layers().size(); ++l)
          r.dead.push_back(probe::dead_units(trace, l));
      });
  r.train_loss = s.loss;
  r.train_accuracy = s.accuracy;
  if (s.diverged) {
    diverged_ = s.diverged->message();
    return r;
  }
  r.test_loss = s.test_loss;
  r.test_accuracy = s.test_accuracy;
  r.layers = s.probe->layers;
  trackers_.resize(r.dead.size());
  for (std::size_t l = 0; l < r.dead.size(); ++l) {
    const demo::UnitTracker::Change c = trackers_[l].record(r.dead[l]);
    deaths_ += c.deaths;
    revivals_ += c.revivals;
  }
  r.deaths = deaths_;
  r.revivals = revivals_;
  ++steps_;
  return r;
}

std::vector<float> Session::predict_grid(int n, double x0, double x1, double y0, double y1) const {
  if (n < 1 || n > 1024)
    throw std::invalid_argument("slope::web::predict_grid: n must be in 1..1024");
  Tensor::Matrix points(n * n, 2);
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < n; ++j) {
      const double t = n == 1 ? 0.5 : static_cast<double>(j) / (n - 1);
      const double u = n == 1 ? 0.5 : static_cast<double>(i) / (n - 1);
      points(i * n + j, 0) = static_cast<float>(x0 + t * (x1 - x0));
      points(i * n + j, 1) = static_cast<float>(y0 + u * (y1 - y0));
    }
  const no_grad off;
  const Tensor::Matrix p = softmax(model_.forward(Tensor(std::move(points)))).value();
  std::vector<float> out(static_cast<std::size_t>(p.size()));
  for (Eigen::Index r = 0; r < p.rows(); ++r)
    for (Eigen::Index c = 0; c < p.cols(); ++c)
      out[static_cast<std::size_t>(r * p.cols() + c)] = p(r, c);
  return out;
}

Curve curve(std::size_t id, double lo, double hi, int n) {
  if (n < 2 || n > 100000) throw std::invalid_argument("slope::web::curve: n must be in 2..100000");
  if (!(lo < hi)) throw std::invalid_argument("slope::web::curve: needs lo < hi");
  if (id >= act::count)
    throw std::out_of_range("slope::web::curve: no activation with id " + std::to_string(id));
  const act::Entry& e = act::entries()[id];
  Curve c;
  for (int k = 0; k < n; ++k) {
    const double x = lo + (hi - lo) * k / (n - 1);
    c.x.push_back(x);
    c.value.push_back(e.value(x));
    c.slope.push_back(e.slope(x));
  }
  return c;
}

double chain_gradient(std::size_t id, double x, int layers) {
  if (layers < 1 || layers > 1000)
    throw std::invalid_argument("slope::web::chain_gradient: layers must be in 1..1000");
  const Value in = x;
  Value h = in;
  for (int l = 0; l < layers; ++l) h = detail::apply_activation(h, id);
  h.backward();
  return in.grad();
}

}  // namespace slope::web
