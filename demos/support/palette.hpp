// One colour per activation, the same in every plot of every demo.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace slope::demo {

// The colour ("#rrggbb") of a registered activation; throws std::invalid_argument
// listing the valid names for any other name.
std::string_view colour_of(std::string_view activation);

// The lesson's four activations, in the order it teaches them: relu, sigmoid, tanh, gelu.
// The training demos' default --act, the report's lines and the pages' first tabs; they
// also get the palette's most distinct colours.
const std::vector<std::string>& lesson_activations();

// A colour for series that are not activations (layers, settings): the i-th of a fixed
// cycle.
std::string_view series_colour(std::size_t i);

}  // namespace slope::demo
