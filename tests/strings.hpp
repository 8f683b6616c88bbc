// String checks the suites share.
#pragma once

#include <string>

namespace slope::test {

// Whether `part` occurs in `s` (std::string::contains is C++23).
inline bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

}  // namespace slope::test
