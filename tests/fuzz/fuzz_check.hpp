// What the fuzz targets share: a failed check prints what broke and aborts, so libFuzzer
// (and the corpus replay) report the input that broke it.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>

namespace slope::fuzz {

inline void check(bool ok, const std::string& what) {
  if (ok) return;
  std::fprintf(stderr, "fuzz check failed: %s\n", what.c_str());
  std::abort();
}

inline bool starts_with(const std::string& s, const std::string& prefix) {
  return s.rfind(prefix, 0) == 0;
}

}  // namespace slope::fuzz
