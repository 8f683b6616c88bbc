// The numbers a demo measured, for out/REPORT.md: summary.csv in the demo's output
// directory, one `key,value` row each. slope-report reads them back.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace slope::demo {

// Mean, sample standard deviation (0 for one value, and for equal values), min and max of
// some runs' numbers; NaN for none.
struct Stats {
  double mean = 0, std = 0, min = 0, max = 0;
};
Stats stats(const std::vector<double>& v);

class Summary {
 public:
  void set(const std::string& key, double value) { values_[key] = value; }
  const std::map<std::string, double>& values() const { return values_; }
  // Writes dir/summary.csv atomically, keys sorted.
  void write(const std::filesystem::path& dir) const;
  // Reads dir/summary.csv; throws std::runtime_error naming the file and line.
  static Summary read(const std::filesystem::path& dir);

 private:
  std::map<std::string, double> values_;
};

}  // namespace slope::demo
