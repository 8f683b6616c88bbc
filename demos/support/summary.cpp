#include "support/summary.hpp"
#include <algorithm>
#include <cmath>

#include <cstdlib>
#include <fstream>
#include <stdexcept>

#include <fmt/format.h>

#include "support/exit.hpp"
#include "support/output.hpp"

namespace slope::demo {

Stats stats(const std::vector<double>& v) {
  Stats s;
  if (v.empty()) return {NAN, NAN, NAN, NAN};
  double sum = 0;
  s.min = s.max = v[0];
  for (double x : v) sum += x, s.min = std::min(s.min, x), s.max = std::max(s.max, x);
  s.mean = sum / static_cast<double>(v.size());
  double ss = 0;
  for (double x : v) ss += (x - s.mean) * (x - s.mean);
  // Equal values have spread 0, not the rounding left in their mean.
  s.std = v.size() > 1 && s.min < s.max ? std::sqrt(ss / static_cast<double>(v.size() - 1)) : 0.0;
  return s;
}

void Summary::write(const std::filesystem::path& dir) const {
  // Shortest round-trip digits (fmt's "{}"), so 0.25^8 reads 1.52587890625e-05.
  std::string text = "key,value\n";
  for (const auto& [k, v] : values_) text += fmt::format("{},{}\n", k, v);
  write_file(dir / "summary.csv", text);
}

Summary Summary::read(const std::filesystem::path& dir) {
  const auto path = dir / "summary.csv";
  std::ifstream in(path);
  if (!in) throw UsageError(path.string() + ": cannot open (run the demo first)");
  Summary s;
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    if (++n == 1) continue;  // header
    const auto comma = line.rfind(',');
    char* end = nullptr;
    const std::string value = comma == std::string::npos ? "" : line.substr(comma + 1);
    const double v = std::strtod(value.c_str(), &end);
    if (comma == std::string::npos || end == value.c_str())
      throw UsageError(path.string() + ":" + std::to_string(n) + ": expected key,value");
    s.set(line.substr(0, comma), v);
  }
  return s;
}

}  // namespace slope::demo
