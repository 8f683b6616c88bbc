#include "support/palette.hpp"

#include <array>
#include <cstddef>

#include <slope/activations.hpp>

namespace slope::demo {

namespace {
// In catalogue order: identity, relu, leaky_relu, sigmoid, tanh, gelu, gelu_tanh, elu,
// silu, softplus. The lesson's four (relu, sigmoid, tanh, gelu) get the most distinct.
constexpr std::array<std::string_view, 10> kActivationColours = {
    "#4d4d4d", "#d6604d", "#f4a582", "#2166ac", "#1b7837",
    "#762a83", "#c2a5cf", "#8c510a", "#35978f", "#e08214"};

constexpr std::array<std::string_view, 8> kSeriesColours = {
    "#d6604d", "#2166ac", "#1b7837", "#762a83", "#e08214", "#35978f", "#8c510a", "#c51b7d"};
}  // namespace

// An activation registered after these ten takes a series colour until it gets its own.
std::string_view colour_of(std::string_view activation) {
  const std::size_t id = act::find(activation);
  return id < kActivationColours.size() ? kActivationColours[id] : series_colour(id);
}

std::string_view series_colour(std::size_t i) { return kSeriesColours[i % kSeriesColours.size()]; }

const std::vector<std::string>& lesson_activations() {
  static const std::vector<std::string> four = {"relu", "sigmoid", "tanh", "gelu"};
  return four;
}

}  // namespace slope::demo
