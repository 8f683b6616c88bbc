#include "support/summary.hpp"

#include <cstdlib>
#include <fstream>
#include <stdexcept>

#include <fmt/format.h>

#include "support/exit.hpp"
#include "support/output.hpp"

namespace slope::demo {

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
