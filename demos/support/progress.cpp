#include "progress.hpp"

#include <unistd.h>

#include <cstdio>

#include <fmt/core.h>

namespace slope::demo {

Progress::Progress(std::string label, std::size_t total)
    : label_(std::move(label)),
      total_(total),
      tty_(::isatty(STDERR_FILENO) != 0),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_) {}

Progress::~Progress() { clear(); }

void Progress::update(std::size_t done, std::string_view detail) {
  done_ = done;
  detail_ = detail;
  if (!tty_) return;
  const auto now = std::chrono::steady_clock::now();
  if (now - start_ < std::chrono::seconds(1)) return;
  if (shown_ && now - last_draw_ < std::chrono::milliseconds(100) && done_ != total_) return;
  last_draw_ = now;
  draw();
}

void Progress::print(std::string_view line) {
  const bool was_shown = shown_;
  clear();
  fmt::print("{}\n", line);
  std::fflush(stdout);
  if (was_shown) draw();
}

void Progress::draw() {
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const double frac = total_ == 0 ? 1.0 : static_cast<double>(done_) / static_cast<double>(total_);
  fmt::print(stderr, "\r{} {}/{} ({:.0f}%, {:.1f} s{}{})\x1b[K", label_, done_, total_, 100 * frac,
             secs, detail_.empty() ? "" : ", ", detail_);
  std::fflush(stderr);
  shown_ = true;
}

void Progress::clear() {
  if (!shown_) return;
  fmt::print(stderr, "\r\x1b[K");
  std::fflush(stderr);
  shown_ = false;
}

}  // namespace slope::demo
