// How a demo ends: the exit statuses (demos/README.md, "Exit statuses"), the errors that map
// to them and run_main, which does the mapping. No CLI11 here, so the demos' computations can
// throw UsageError without compiling the command-line library. Defined in cli.cpp, beside the
// command line that names the program.
#pragma once

#include <functional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace slope::demo {

// The exit statuses of every demo (demos/README.md, "Exit statuses"; --help prints
// exit_statuses()).
// 0: success.
// 1: an internal error, a bug (any exception other than the two below).
inline constexpr int kInternalError = 1;
// 2: bad flags, unknown activations, unreadable or malformed input.
inline constexpr int kUsageError = 2;
// 3: at least one training run turned non-finite (the other runs' outputs still written).
inline constexpr int kDiverged = 3;
// 128 + the signal: SIGINT 130, SIGTERM 143 (no output left half-written).
inline constexpr int kInterruptedBase = 128;
// The table as --help prints it, from the constants above.
const std::string& exit_statuses();

// Bad input from the user; the demo exits with kUsageError and prints what().
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A run turned non-finite where the demo cannot go on; it exits with kDiverged and
// prints what() (a demo that trains several runs reports them with
// report_divergences instead).
class Diverged : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// "slope-<name>" once a Cli has been made, for messages ("slope-micrograd: ...").
const std::string& program_name();

// Prints "slope-<name>: warning: <message>" on stderr.
void warn(std::string_view message);

// Runs a demo's body with exit_cleanly_on_interrupt() installed and maps errors to exit
// statuses: UsageError -> 2, Diverged -> 3, any other exception -> 1, each with one
// line on stderr.
int run_main(const std::function<int()>& body);

}  // namespace slope::demo
