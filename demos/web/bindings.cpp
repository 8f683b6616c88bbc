// The pages' view of the engine (embind): the activation catalogue and one training
// session. Everything here converts session.hpp's C++ values to JavaScript ones; nothing
// is computed here. A call that fails returns {error: "..."} naming what is wrong.
#include <emscripten/bind.h>
#include <emscripten/val.h>

#include <cmath>
#include <cstdint>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>

#include "support/palette.hpp"
#include "web/session.hpp"

namespace {

using emscripten::val;
using namespace slope;

template <class T> val typed(const char* array_type, const std::vector<T>& v) {
  return val::global(array_type).new_(emscripten::typed_memory_view(v.size(), v.data()));
}

val error(const std::exception& e) {
  val out = val::object();
  out.set("error", std::string(e.what()));
  return out;
}

// Every registered activation, in catalogue order, with its facts, its colour in every plot
// and its measured maximum slope.
val catalogue() {
  val out = val::array();
  for (const act::Entry& e : act::entries()) {
    const act::MaxSlope& m = act::max_slope(e.id);
    val a = val::object();
    a.set("id", static_cast<int>(e.id));
    a.set("name", std::string(e.info.name));
    a.set("formula", std::string(e.info.formula));
    a.set("range", std::string(e.info.range));
    a.set("zeroCentred", e.info.zero_centred);
    a.set("kink", std::string(e.info.kink));
    a.set("job", std::string(e.info.job));
    a.set("colour", std::string(demo::colour_of(e.info.name)));
    a.set("maxSlope", m.slope);
    a.set("maxSlopeAt", m.at);
    a.set("maxSlopeLastAt", m.last_at);
    a.set("maxSlopeAtEdge", m.at_edge);
    out.call<void>("push", a);
  }
  return out;
}

// The lesson's four activations, in its order: the pages show their tabs first.
val lesson_activations() {
  val out = val::array();
  for (const std::string& name : demo::lesson_activations()) out.call<void>("push", name);
  return out;
}

val curve(int id, double lo, double hi, int n) {
  try {
    const web::Curve c = web::curve(static_cast<std::size_t>(id), lo, hi, n);
    val out = val::object();
    out.set("x", typed("Float64Array", c.x));
    out.set("f", typed("Float64Array", c.value));
    out.set("df", typed("Float64Array", c.slope));
    return out;
  } catch (const std::exception& e) {
    return error(e);
  }
}

// f(x), f'(x) and the slope of a chain of `layers` units; NaN for an id or depth out of range.
bool known(int id) { return id >= 0 && static_cast<std::size_t>(id) < act::count; }
double value_at(int id, double x) { return known(id) ? act::entries()[id].value(x) : NAN; }
double slope_at(int id, double x) { return known(id) ? act::entries()[id].slope(x) : NAN; }
double chain_gradient(int id, double x, int layers) {
  if (!known(id) || layers < 1 || layers > 1000) return NAN;
  return web::chain_gradient(static_cast<std::size_t>(id), x, layers);
}

val names(const std::vector<std::string>& v) {
  val out = val::array();
  for (const auto& s : v) out.call<void>("push", s);
  return out;
}
val data_names() { return names(data::names()); }
val init_names() { return names(nn::Init::names()); }
val optimizers() {
  val out = val::array();
  for (const auto& o : demo::kOptimizers) {
    val d = val::object();
    d.set("name", std::string(o.name));
    d.set("lr", o.lr);
    out.call<void>("push", d);
  }
  return out;
}
double default_noise(const std::string& data) { return data::default_noise(data); }

// --- the playground's session ----------------------------------------------------------

std::unique_ptr<web::Session> g_session;

template <class T> T field(const val& o, const char* name, T fallback) {
  const val v = o[name];
  return v.isUndefined() || v.isNull() ? fallback : v.as<T>();
}
// A whole number from 0 to `max` (Settings checks the real range), or std::invalid_argument
// naming the setting: the casts below would be undefined for anything else.
double whole(const val& o, const char* name, double fallback, double max) {
  const double v = field<double>(o, name, fallback);
  std::string why;
  if (std::floor(v) != v)
    why = " must be a whole number";
  else if (v < 0)
    why = " must not be negative";
  else if (v > max)
    why = " is too large";
  if (!why.empty()) {
    std::ostringstream msg;
    msg << "slope::web::Settings: " << name << why << ", got " << v;
    throw std::invalid_argument(msg.str());
  }
  return v;
}

// Starts a run from {data, samples, noise, testFraction, activation, depth, width, init,
// bias, optim, lr, seed} (missing fields take Settings' defaults). Returns {} or {error}.
val start(const val& s) {
  try {
    web::Settings w;
    w.data = field<std::string>(s, "data", w.data);
    w.samples = static_cast<std::size_t>(whole(s, "samples", static_cast<double>(w.samples), 1e9));
    const double noise = field<double>(s, "noise", -1);  // < 0: the data set's default
    if (noise >= 0) w.noise = noise;
    w.test_fraction = field<double>(s, "testFraction", w.test_fraction);
    w.activation = field<std::string>(s, "activation", w.activation);
    w.depth = static_cast<int>(whole(s, "depth", w.depth, 1e6));
    w.width = static_cast<int>(whole(s, "width", w.width, 1e6));
    w.init = field<std::string>(s, "init", w.init);
    w.bias = field<double>(s, "bias", w.bias);
    w.optim = field<std::string>(s, "optim", w.optim);
    w.lr = field<double>(s, "lr", w.lr);
    w.seed = static_cast<std::uint64_t>(
        whole(s, "seed", static_cast<double>(w.seed), 9007199254740991.0));
    g_session = std::make_unique<web::Session>(w);
    return val::object();
  } catch (const std::exception& e) {
    g_session.reset();
    return error(e);
  }
}

val layer_field(const std::vector<probe::LayerStats>& layers, double probe::LayerStats::*m) {
  std::vector<double> v;
  for (const auto& l : layers) v.push_back(l.*m);
  return typed("Float64Array", v);
}

// One step: {step, trainLoss, trainAccuracy, testLoss, testAccuracy, gradNorm[],
// updateRatio[], deadFrac[], meanSlope[], dead: [Uint8Array per hidden layer], deaths,
// revivals, diverged}.
val step() {
  if (!g_session) return error(std::logic_error("no session: call start() first"));
  try {
    const web::StepReport r = g_session->step();
    val out = val::object();
    out.set("step", static_cast<double>(r.step));
    out.set("trainLoss", r.train_loss);
    out.set("trainAccuracy", r.train_accuracy);
    out.set("testLoss", r.test_loss);
    out.set("testAccuracy", r.test_accuracy);
    out.set("gradNorm", layer_field(r.layers, &probe::LayerStats::grad_norm));
    out.set("updateRatio", layer_field(r.layers, &probe::LayerStats::update_ratio));
    out.set("deadFrac", layer_field(r.layers, &probe::LayerStats::dead_frac));
    out.set("meanSlope", layer_field(r.layers, &probe::LayerStats::mean_slope));
    out.set("actMean", layer_field(r.layers, &probe::LayerStats::act_mean));
    val dead = val::array();
    for (const auto& layer : r.dead) {
      std::vector<std::uint8_t> d(layer.begin(), layer.end());
      dead.call<void>("push", typed("Uint8Array", d));
    }
    out.set("dead", dead);
    out.set("deaths", static_cast<double>(r.deaths));
    out.set("revivals", static_cast<double>(r.revivals));
    if (g_session->diverged()) out.set("diverged", *g_session->diverged());
    return out;
  } catch (const std::exception& e) {
    return error(e);
  }
}

val predict_grid(int n, double x0, double x1, double y0, double y1) {
  if (!g_session) return error(std::logic_error("no session: call start() first"));
  try {
    return typed("Float32Array", g_session->predict_grid(n, x0, x1, y0, y1));
  } catch (const std::exception& e) {
    return error(e);
  }
}

// The session's points: {train: {x: Float64Array (x1, x2 pairs), y: Int32Array}, test, classes}.
val points() {
  if (!g_session) return error(std::logic_error("no session: call start() first"));
  auto set_of = [](const data::Dataset& d) {
    val o = val::object();
    o.set("x", typed("Float64Array", d.x));
    o.set("y", typed("Int32Array", d.y));
    return o;
  };
  val out = val::object();
  out.set("train", set_of(g_session->train_set()));
  out.set("test", set_of(g_session->test_set()));
  out.set("classes", g_session->train_set().classes);
  return out;
}

}  // namespace

EMSCRIPTEN_BINDINGS(slope) {
  emscripten::function("catalogue", &catalogue);
  emscripten::function("lessonActivations", &lesson_activations);
  emscripten::function("curve", &curve);
  emscripten::function("value", &value_at);
  emscripten::function("slope", &slope_at);
  emscripten::function("chainGradient", &chain_gradient);
  emscripten::function("dataNames", &data_names);
  emscripten::function("initNames", &init_names);
  emscripten::function("optimizers", &optimizers);
  emscripten::function("defaultNoise", &default_noise);
  emscripten::function("start", &start);
  emscripten::function("step", &step);
  emscripten::function("predictGrid", &predict_grid);
  emscripten::function("points", &points);
}
