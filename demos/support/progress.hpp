// A progress line on stderr for runs longer than a second.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>

namespace slope::demo {

// Redraws one line on stderr in place ("\r") once a run has taken more than a second,
// at most ten times a second, and clears it when done. Silent when stderr is not a
// terminal, so logs and captured output stay clean.
//
//   Progress progress("training", steps);
//   for (...) { progress.print(line); progress.update(step + 1); }
class Progress {
 public:
  Progress(std::string label, std::size_t total);
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  // `detail`, when given, follows the counts ("12,000 tokens/s, val 2.31").
  void update(std::size_t done, std::string_view detail = {});
  // Prints `line` (and a newline) on stdout without tearing the progress line.
  void print(std::string_view line);

 private:
  void draw();
  void clear();

  std::string label_;
  std::string detail_;
  std::size_t total_;
  std::size_t done_ = 0;
  bool tty_;
  bool shown_ = false;
  std::chrono::steady_clock::time_point start_, last_draw_;
};

}  // namespace slope::demo
