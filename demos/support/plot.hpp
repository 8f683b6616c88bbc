// Plots: gnuplot scripts rendered to SVG and PNG, Graphviz DOT rendered to SVG, and a
// small character plot for the terminal.
#pragma once

#include <cmath>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace slope::demo {

// The full path of `name` found on PATH, or nullopt.
std::optional<std::filesystem::path> find_program(std::string_view name);

// Runs argv[0] (looked up on PATH) with working directory `dir`, its stderr into the
// file `log` (relative to `dir`; empty: inherited), waits, and returns its exit status
// (-1 if it could not be started or did not exit normally). An interrupt meanwhile
// stops the program before the demo exits (see exit_cleanly_on_interrupt).
int run_program(const std::vector<std::string>& argv, const std::filesystem::path& dir,
                const std::filesystem::path& log = {});

// Writes dir/<stem>.gnuplot (body wrapped in a loop over the svg and pngcairo
// terminals) and runs gnuplot in `dir` to draw dir/<stem>.svg and dir/<stem>.png.
// The body refers to data files by names relative to `dir`, so the script re-runs
// by hand: `cd dir && gnuplot <stem>.gnuplot`. Without gnuplot it warns once and
// returns false; the script and the CSV stay. gnuplot's own messages are kept off the
// terminal; when it fails, the warning quotes its first one.
bool gnuplot(const std::filesystem::path& dir, std::string_view stem, std::string_view body,
             int width = 800, int height = 600);

// Renders dir/<stem>.dot to dir/<stem>.svg with Graphviz's dot. Without dot it warns
// once and returns false.
bool render_dot(const std::filesystem::path& dir, std::string_view stem);

// A short plot of y for the terminal, `height` rows of `width` columns plus axis labels,
// for instance a loss curve. The x axis is labelled x_first at the left and x_last at the
// right (y's index, 0 and size - 1, when x_last is NaN), in the title's units. Non-finite
// values are skipped.
std::string ascii_plot(std::span<const double> y, std::string_view title, int width = 64,
                       int height = 12, double x_first = 0, double x_last = NAN);

}  // namespace slope::demo
