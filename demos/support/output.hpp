// Files the demos write: atomically replaced, with numbers formatted the same way on
// every machine, so the same seed gives byte-identical CSV.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace slope::demo {

// Installs SIGINT and SIGTERM handlers for the demo's whole run (run_main calls it):
// on either signal the handler stops a running plot tool, removes every temporary
// file still registered (AtomicFile's and the plot tools' outputs) and exits with
// 128 + the signal's number, 130 and 143 as shells report them. Every target file is
// then the previous complete file or the new complete one. Only async-signal-safe
// calls run in the handler.
void exit_cleanly_on_interrupt();

// While alive, the file at `path` (not yet created, or being written) is removed if the
// demo is interrupted. Registers the path before the file exists, so no moment leaves
// a temporary behind; at most 64 at once (std::length_error past that).
class InterruptCleanup {
 public:
  explicit InterruptCleanup(const std::filesystem::path& path);
  ~InterruptCleanup();
  InterruptCleanup(const InterruptCleanup&) = delete;
  InterruptCleanup& operator=(const InterruptCleanup&) = delete;

 private:
  int slot_;
};

// The child process an interrupt must stop first (a plot tool writing its output), or
// 0 for none.
void set_interrupt_child(pid_t pid);

// A file written in full or not at all. Everything goes to a hidden temporary file in
// the same directory (".name.tmp-PID-N"); commit() renames it over the target in one
// step. Destroyed without commit() (an exception, an early return) it removes the
// temporary and leaves the target as it was; so does SIGINT or SIGTERM once
// exit_cleanly_on_interrupt() is installed. A process killed outright (SIGKILL) leaves
// at most the temporary, never a half-written target.
class AtomicFile {
 public:
  // Throws std::runtime_error naming the file when the temporary cannot be created.
  explicit AtomicFile(std::filesystem::path target);
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  std::ostream& stream() { return out_; }
  const std::filesystem::path& target() const { return target_; }
  const std::filesystem::path& temp_path() const { return temp_; }

  // Flushes, checks every write succeeded, and renames into place; throws
  // std::runtime_error naming the file otherwise (the temporary is then removed).
  void commit();

 private:
  std::filesystem::path target_;
  std::filesystem::path temp_;
  InterruptCleanup cleanup_;
  std::ofstream out_;
  bool committed_ = false;
};

// Writes `text` to `target` through an AtomicFile.
void write_file(const std::filesystem::path& target, std::string_view text);

// A number as CSV and plots show it: up to 10 significant digits, '.' as the decimal
// point whatever the locale ("0.8958", "1e-05", "nan").
std::string format_number(double x);

// Long-format CSV: a header row, then one observation per row, written atomically.
//
//   CsvWriter csv(dir / "curves.csv", {"activation", "step", "loss"});
//   csv.row("relu", 0, 0.8958);
//   csv.commit();
class CsvWriter {
 public:
  CsvWriter(const std::filesystem::path& target, std::vector<std::string> header);

  // One row; exactly one field per header column (std::logic_error otherwise).
  // Strings are quoted when they need it; numbers go through format_number.
  template <class... Fields> void row(const Fields&... fields) {
    if (sizeof...(fields) != columns_)
      throw std::logic_error("CsvWriter: row of " + std::to_string(sizeof...(fields)) +
                             " fields for " + std::to_string(columns_) + " columns in " +
                             file_.target().string());
    std::size_t i = 0;
    ((file_.stream() << (i++ == 0 ? "" : ","), put(fields)), ...);
    file_.stream() << '\n';
  }

  void commit() { file_.commit(); }

 private:
  template <class T> void put(const T& v) {
    if constexpr (std::is_same_v<T, bool>) {
      file_.stream() << (v ? "1" : "0");
    } else if constexpr (std::is_integral_v<T>) {
      file_.stream() << std::to_string(v);
    } else if constexpr (std::is_floating_point_v<T>) {
      file_.stream() << format_number(static_cast<double>(v));
    } else {
      put_text(std::string_view(v));
    }
  }
  void put_text(std::string_view s);

  AtomicFile file_;
  std::size_t columns_;
};

}  // namespace slope::demo
