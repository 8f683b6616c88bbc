#include "slope/nn.hpp"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <istream>
#include <ostream>
#include <sstream>
#include <stdexcept>
#include <string>

#include "slope/activations.hpp"
#include "slope/trace.hpp"

namespace slope {

namespace nn {

namespace {
using Kind = Init::Kind;
std::string number(double x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", x);
  return buf;
}
constexpr std::pair<Kind, std::string_view> kInitNames[] = {
    {Kind::pytorch, "pytorch"},
    {Kind::xavier_uniform, "xavier_uniform"},
    {Kind::xavier_normal, "xavier_normal"},
    {Kind::kaiming_uniform, "kaiming_uniform"},
    {Kind::kaiming_normal, "kaiming_normal"},
    {Kind::lecun_normal, "lecun_normal"},
    {Kind::normal, "normal"},
};
}  // namespace

std::vector<std::string> Init::names() {
  std::vector<std::string> out;
  for (const auto& [k, n] : kInitNames) out.emplace_back(k == Kind::normal ? "normal(std)" : n);
  return out;
}

Init Init::parse(std::string_view name) {
  for (const auto& [k, n] : kInitNames) {
    if (k != Kind::normal && name == n) return Init(k);
  }
  // normal(std)
  if (name.starts_with("normal(") && name.ends_with(")")) {
    const std::string arg(name.substr(7, name.size() - 8));
    char* end = nullptr;
    const double std = std::strtod(arg.c_str(), &end);
    if (!arg.empty() && end == arg.c_str() + arg.size()) {
      if (std > 0 && std::isfinite(std)) return normal(std);
      throw std::invalid_argument("init '" + std::string(name) +
                                  "': std must be a positive finite number, got " + arg);
    }
  }
  std::string valid;
  for (const std::string& n : names()) valid += (valid.empty() ? "" : ", ") + n;
  throw std::invalid_argument("unknown init '" + std::string(name) + "'; valid: " + valid);
}

std::string Init::name() const {
  for (const auto& [k, n] : kInitNames)
    if (k == kind_) {
      if (k == Kind::normal) {
        char buf[64];
        std::snprintf(buf, sizeof buf, "normal(%g)", param_);
        return buf;
      }
      return std::string(n);
    }
  return "?";
}

double Init::weight_std(std::int64_t fan_in, std::int64_t fan_out) const {
  const double in = static_cast<double>(fan_in), out = static_cast<double>(fan_out);
  switch (kind_) {
    case Kind::pytorch:
      return 1.0 / std::sqrt(3.0 * in);  // U(+-1/sqrt(in))
    case Kind::xavier_uniform:
    case Kind::xavier_normal:
      return param_ * std::sqrt(2.0 / (in + out));
    case Kind::kaiming_uniform:
    case Kind::kaiming_normal:
      return std::sqrt(2.0 / in);
    case Kind::lecun_normal:
      return std::sqrt(1.0 / in);
    case Kind::normal:
      return param_;
  }
  return 0.0;
}

template <class T>
void Init::operator()(typename BasicTensor<T>::Matrix& weight,
                      typename BasicTensor<T>::Matrix& bias, Rng& rng) const {
  const double std = weight_std(weight.cols(), weight.rows());
  const bool uniform =
      kind_ == Kind::pytorch || kind_ == Kind::xavier_uniform || kind_ == Kind::kaiming_uniform;
  const double bound = std * std::sqrt(3.0);  // U(-a, a) has std a / sqrt 3
  // Row by row, so a layer's weights do not depend on Eigen's storage order.
  for (Eigen::Index i = 0; i < weight.rows(); ++i)
    for (Eigen::Index j = 0; j < weight.cols(); ++j)
      weight(i, j) = static_cast<T>(uniform ? rng.uniform(-bound, bound) : rng.normal(0.0, std));
  for (Eigen::Index j = 0; j < bias.size(); ++j) {
    const double b = has_bias_ ? bias_
                     : kind_ == Kind::pytorch
                         ? rng.uniform(-1.0, 1.0) / std::sqrt(static_cast<double>(weight.cols()))
                         : 0.0;
    bias(0, j) = static_cast<T>(b);
  }
}

// --- Linear -----------------------------------------------------------------------

template <class T>
BasicLinear<T>::BasicLinear(std::int64_t in_features, std::int64_t out_features, bool has_bias,
                            const Init& init, Rng& rng) {
  if (in_features < 1 || out_features < 1)
    throw std::invalid_argument("slope::nn::Linear: features must be positive, got (" +
                                std::to_string(in_features) + ", " + std::to_string(out_features) +
                                ")");
  typename BasicTensor<T>::Matrix w(out_features, in_features),
      b(has_bias ? 1 : 0, has_bias ? out_features : 0);
  init.operator()<T>(w, b, rng);
  weight = BasicTensor<T>(std::move(w), true);
  bias = has_bias ? BasicTensor<T>(std::move(b), true) : BasicTensor<T>();
}

template <class T> std::vector<BasicTensor<T>> BasicLinear<T>::parameters() const {
  if (bias.rows() * bias.cols() == 0) return {weight};
  return {weight, bias};
}

template <class T> void BasicLinear<T>::zero_grad() const {
  for (const auto& p : parameters()) p.zero_grad();
}

template <class T> BasicTensor<T> BasicLinear<T>::forward(const BasicTensor<T>& x) const {
  BasicTensor<T> z = linear(x, weight, bias);
  probe::record_linear(weight, z);
  return z;
}

// --- Activation ---------------------------------------------------------------------

template <class T> BasicTensor<T> BasicActivation<T>::forward(const BasicTensor<T>& x) const {
  BasicTensor<T> h = apply_activation(x, id_);
  probe::record_activation(id_, x, h);
  return h;
}

// --- Sequential ---------------------------------------------------------------------

namespace {
// A Linear layer and the Activation after it as one fused op (slope::linear with the
// activation's id): the numbers of fc then act, in fewer passes, recorded for the probes
// as the two modules record themselves.
template <class T>
BasicTensor<T> linear_then(const BasicLinear<T>& fc, const BasicActivation<T>& act,
                           const BasicTensor<T>& x) {
  BasicTensor<T> z;
  BasicTensor<T> h = linear(x, fc.weight, fc.bias, act.id(), &z);
  probe::record_linear(fc.weight, z);
  probe::record_activation(act.id(), z, h);
  return h;
}
}  // namespace

// Runs the modules in order; a Linear followed by an Activation runs fused.
template <class T> BasicTensor<T> BasicSequential<T>::forward(const BasicTensor<T>& x) const {
  BasicTensor<T> h = x;
  for (std::size_t i = 0; i < modules_.size(); ++i) {
    const auto* fc = modules_[i].template get<BasicLinear<T>>();
    const auto* act = fc && i + 1 < modules_.size()
                          ? modules_[i + 1].template get<BasicActivation<T>>()
                          : nullptr;
    if (act != nullptr) {
      h = linear_then(*fc, *act, h);
      ++i;
    } else {
      h = modules_[i].forward(h);
    }
  }
  return h;
}

template <class T> std::vector<BasicTensor<T>> BasicSequential<T>::parameters() const {
  std::vector<BasicTensor<T>> out;
  for (const AnyModule<T>& m : modules_)
    for (auto& p : m.parameters()) out.push_back(std::move(p));
  return out;
}

template <class T> void BasicSequential<T>::zero_grad() const {
  for (const auto& p : parameters()) p.zero_grad();
}

// --- LayerNorm ----------------------------------------------------------------------

template <class T>
BasicLayerNorm<T>::BasicLayerNorm(std::int64_t features, double eps, bool elementwise_affine)
    : features_(features), eps_(eps) {
  if (features < 1)
    throw std::invalid_argument("slope::nn::LayerNorm: features must be positive, got " +
                                std::to_string(features));
  if (!(eps >= 0) || !std::isfinite(eps))
    throw std::invalid_argument("slope::nn::LayerNorm: eps must be finite and >= 0, got " +
                                number(eps));
  if (elementwise_affine) {
    weight = BasicTensor<T>::full(1, features, T(1), true);
    bias = BasicTensor<T>::zeros(1, features, true);
  }
}

template <class T> BasicTensor<T> BasicLayerNorm<T>::forward(const BasicTensor<T>& x) const {
  if (x.cols() != features_)
    throw ShapeError("slope::nn::LayerNorm: normalises " + std::to_string(features_) +
                     " features, got an input of shape " + x.shape());
  return layer_norm(x, weight, bias, eps_);
}

template <class T> std::vector<BasicTensor<T>> BasicLayerNorm<T>::parameters() const {
  if (weight.cols() == 0) return {};
  return {weight, bias};
}

// --- Residual and FeedForward -------------------------------------------------------

template <class T> BasicTensor<T> BasicResidual<T>::forward(const BasicTensor<T>& x) const {
  const BasicTensor<T> y = module.forward(x);
  if (y.rows() != x.rows() || y.cols() != x.cols())
    throw ShapeError(
        "slope::nn::Residual: x + module(x) needs the module to keep the shape; it "
        "maps " +
        x.shape() + " to " + y.shape());
  return x + y;
}

template <class T>
BasicFeedForward<T>::BasicFeedForward(std::int64_t dim, std::int64_t hidden,
                                      std::string_view activation_name, const Init& init, Rng& rng)
    : BasicFeedForward(dim, hidden, BasicActivation<T>(activation_name), init, rng) {}

template <class T>
BasicFeedForward<T>::BasicFeedForward(std::int64_t dim, std::int64_t hidden, BasicActivation<T> act,
                                      const Init& init, Rng& rng)
    : fc(dim, hidden, true, init, rng), activation(act), proj(hidden, dim, true, init, rng) {}

template <class T> BasicTensor<T> BasicFeedForward<T>::forward(const BasicTensor<T>& x) const {
  const typename probe::BasicTrace<T>::Block block;  // the probes see fc and proj as one block
  return proj(linear_then(fc, activation, x));       // x (B, dim) -> (B, hidden) -> (B, dim)
}

template <class T> std::vector<BasicTensor<T>> BasicFeedForward<T>::parameters() const {
  std::vector<BasicTensor<T>> out = fc.parameters();
  for (auto& p : proj.parameters()) out.push_back(std::move(p));
  return out;
}

// --- MLP ----------------------------------------------------------------------------

template <class T>
BasicMLP<T>::BasicMLP(const std::vector<std::int64_t>& sizes, std::string_view activation,
                      const Init& init, Rng& rng)
    : activation_(act::find(activation)) {
  if (sizes.size() < 2)
    throw std::invalid_argument("slope::nn::MLP: needs at least 2 sizes (in, out), got " +
                                std::to_string(sizes.size()));
  for (std::size_t i = 0; i + 1 < sizes.size(); ++i) {
    if (i > 0) BasicSequential<T>::push_back(BasicActivation<T>(activation));
    BasicSequential<T>::push_back(BasicLinear<T>(sizes[i], sizes[i + 1], true, init, rng));
  }
}

// --- save and load ------------------------------------------------------------------

namespace {
constexpr std::string_view kMagic = "slope-parameters";
}

template <class T> void save(std::ostream& out, const std::vector<BasicTensor<T>>& params) {
  out << kMagic << " 1 " << params.size() << '\n';
  char buf[64];
  for (const auto& p : params) {
    out << p.rows() << ' ' << p.cols() << '\n';
    for (Eigen::Index i = 0; i < p.rows(); ++i) {
      for (Eigen::Index j = 0; j < p.cols(); ++j) {
        std::snprintf(buf, sizeof buf, "%a", static_cast<double>(p.value()(i, j)));
        out << (j ? " " : "") << buf;
      }
      out << '\n';
    }
  }
  if (!out) throw std::runtime_error("slope::nn::save: writing the parameters failed");
}

template <class T>
void load(std::istream& in, const std::vector<BasicTensor<T>>& params, const std::string& name) {
  std::size_t line_no = 0;
  std::string line;
  auto fail = [&](const std::string& what) {
    throw std::runtime_error("slope::nn::load: " + name + ":" + std::to_string(line_no) + ": " +
                             what);
  };
  auto short_text = [](const std::string& t) {
    return t.size() > 40 ? t.substr(0, 37) + "..." : t;
  };
  // The next line's whitespace-separated tokens, exactly `n` of them.
  auto tokens = [&](std::size_t n, const std::string& what) {
    ++line_no;
    if (!std::getline(in, line)) fail("the file ends early, expected " + what);
    std::vector<std::string> t;
    std::istringstream fields(line);
    for (std::string f; t.size() <= n && fields >> f;) t.push_back(std::move(f));
    if (t.size() != n)
      fail("expected " + what + " (" + std::to_string(n) + " field" + (n == 1 ? "" : "s") +
           "), got " + (t.size() > n ? "more" : std::to_string(t.size())));
    return t;
  };
  auto whole_number = [&](const std::string& t, const std::string& what) {
    std::size_t used = 0;
    long long v = -1;
    try {
      v = std::stoll(t, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != t.size() || v < 0)
      fail(what + " must be a whole number >= 0, got '" + short_text(t) + "'");
    return v;
  };

  const std::vector<std::string> header = tokens(3, "the header 'slope-parameters 1 <count>'");
  if (header[0] != kMagic || header[1] != "1") fail("not a slope parameter file (bad header)");
  const long long count = whole_number(header[2], "the tensor count");
  if (count != static_cast<long long>(params.size()))
    fail("the file holds " + std::to_string(count) + " tensors, the model has " +
         std::to_string(params.size()));
  // Read everything first, so a bad file leaves the model untouched. Shapes are checked
  // against the model before any storage is allocated.
  std::vector<typename BasicTensor<T>::Matrix> values;
  for (std::size_t k = 0; k < params.size(); ++k) {
    const std::string tensor = "tensor " + std::to_string(k);
    const std::vector<std::string> shape = tokens(2, tensor + "'s shape 'rows cols'");
    const long long r = whole_number(shape[0], tensor + "'s rows");
    const long long c = whole_number(shape[1], tensor + "'s cols");
    if (r != params[k].rows() || c != params[k].cols())
      fail(tensor + " is (" + std::to_string(r) + ", " + std::to_string(c) + ") in the file, " +
           params[k].shape() + " in the model");
    typename BasicTensor<T>::Matrix m(r, c);
    for (Eigen::Index i = 0; i < r; ++i) {
      const std::vector<std::string> row =
          tokens(static_cast<std::size_t>(c), tensor + "'s row " + std::to_string(i));
      for (Eigen::Index j = 0; j < c; ++j) {
        const std::string& token = row[static_cast<std::size_t>(j)];
        char* end = nullptr;
        const double v = std::strtod(token.c_str(), &end);
        if (token.empty() || end != token.c_str() + token.size())
          fail(tensor + ": bad number '" + short_text(token) + "'");
        const T t = static_cast<T>(v);
        if (std::isfinite(v) && !std::isfinite(t))
          fail(tensor + ": " + short_text(token) + " is out of range for this precision");
        m(i, j) = t;
      }
    }
    values.push_back(std::move(m));
  }
  while (std::getline(in, line)) {
    ++line_no;
    if (line.find_first_not_of(" \t\r") != std::string::npos)
      fail("unexpected text after the last tensor");
  }
  for (std::size_t k = 0; k < params.size(); ++k) params[k].value() = values[k];
}

#define SLOPE_INSTANTIATE(T)                                                                       \
  template void Init::operator()<T>(BasicTensor<T>::Matrix&, BasicTensor<T>::Matrix&, Rng&) const; \
  template class BasicLinear<T>;                                                                   \
  template class BasicActivation<T>;                                                               \
  template class BasicSequential<T>;                                                               \
  template class BasicLayerNorm<T>;                                                                \
  template class BasicResidual<T>;                                                                 \
  template class BasicFeedForward<T>;                                                              \
  template class BasicMLP<T>;                                                                      \
  template void save(std::ostream&, const std::vector<BasicTensor<T>>&);                           \
  template void load(std::istream&, const std::vector<BasicTensor<T>>&, const std::string&);

SLOPE_INSTANTIATE(float)
SLOPE_INSTANTIATE(double)
#undef SLOPE_INSTANTIATE

}  // namespace nn
}  // namespace slope
