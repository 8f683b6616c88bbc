// The errors slope throws beyond the standard ones.
#pragma once

#include <stdexcept>

namespace slope {

// A shape mismatch: the message names the op and both shapes.
class ShapeError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

}  // namespace slope
