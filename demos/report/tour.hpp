// The tour `make demo` runs, defined once: each run's name (its output folder under the
// tour's directory), the demo it runs and its flags, in order. demos/run_demos.sh runs the
// list that `slope-report --tour` prints, and slope-report reads the runs' outputs by the
// same names.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace slope::demo::tour {

struct Run {
  std::string_view name;                // its output folder, <tour dir>/<name>
  std::string_view demo;                // the executable slope-<demo>
  std::vector<std::string_view> flags;  // besides --out
  // "slope-<demo> <flags>", as a reader types it.
  std::string command() const;
};

// The runs' names, for slope-report.
inline constexpr std::string_view kMicrograd = "micrograd", kMicrogradTanh = "micrograd-tanh",
                                  kExplorer = "explorer", kCurves = "curves",
                                  kVanishing = "vanishing", kVanishingDeep = "vanishing-deep",
                                  kVanishingGlorot = "vanishing-glorot", kDeadRelu = "dead-relu",
                                  kFfn = "ffn", kGpt = "gpt";

// Every run, in the order the tour makes them (slope-report runs last, on their outputs).
const std::vector<Run>& runs();
// The run of that name; std::out_of_range for a name the tour does not have.
const Run& run(std::string_view name);

// The list as run_demos.sh reads it: a line per run, "name<TAB>demo<TAB>flags" with the
// flags separated by spaces.
std::string listing();

}  // namespace slope::demo::tour
