#include "plot.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <set>
#include <system_error>

#include <fmt/format.h>

#include "exit.hpp"
#include "output.hpp"

namespace slope::demo {

namespace {

// Warns about a missing tool once per program run, not once per plot.
bool have(std::string_view tool, std::string_view what) {
  if (find_program(tool)) return true;
  static std::set<std::string, std::less<>> warned;
  if (warned.insert(std::string(tool)).second)
    warn(fmt::format("{} not found, so no {} ('make deps' installs it)", tool, what));
  return false;
}

// Temporary output names for a tool, hidden and unique to this process.
std::string temp_stem(std::string_view stem) {
  return fmt::format(".{}.tmp-{}", stem, static_cast<long>(::getpid()));
}

// Moves a tool's temporary output into place when the tool succeeded, and removes it
// otherwise, so a plot is never half-written.
bool move_into_place(bool tool_ok, const std::filesystem::path& from,
                     const std::filesystem::path& to) {
  std::error_code ec;
  if (tool_ok) std::filesystem::rename(from, to, ec);
  if (!tool_ok || ec) std::filesystem::remove(from, ec);
  return tool_ok && !ec;
}

}  // namespace

std::optional<std::filesystem::path> find_program(std::string_view name) {
  const char* path = std::getenv("PATH");
  std::string_view dirs = path != nullptr ? path : "/usr/local/bin:/usr/bin:/bin";
  while (!dirs.empty()) {
    const std::size_t colon = std::min(dirs.find(':'), dirs.size());
    const std::filesystem::path candidate =
        std::filesystem::path(dirs.substr(0, colon)) / std::string(name);
    if (!candidate.parent_path().empty() && ::access(candidate.c_str(), X_OK) == 0)
      return candidate;
    dirs.remove_prefix(std::min(colon + 1, dirs.size()));
  }
  return std::nullopt;
}

int run_program(const std::vector<std::string>& argv, const std::filesystem::path& dir,
                const std::filesystem::path& log) {
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  std::fflush(stdout);
  std::fflush(stderr);
  // SIGINT and SIGTERM wait until the child is recorded, so an interrupt always stops it.
  sigset_t interrupts, before;
  sigemptyset(&interrupts);
  sigaddset(&interrupts, SIGINT);
  sigaddset(&interrupts, SIGTERM);
  ::sigprocmask(SIG_BLOCK, &interrupts, &before);
  const pid_t pid = ::fork();
  if (pid == 0) {  // child: default signals, directory, stderr, exec; nothing else
    ::signal(SIGINT, SIG_DFL);
    ::signal(SIGTERM, SIG_DFL);
    ::sigprocmask(SIG_SETMASK, &before, nullptr);
    if (::chdir(dir.c_str()) != 0) ::_exit(127);
    if (!log.empty()) {
      const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (fd < 0 || ::dup2(fd, STDERR_FILENO) < 0) ::_exit(127);
      ::close(fd);
    }
    ::execvp(args[0], args.data());
    ::_exit(127);
  }
  if (pid > 0) set_interrupt_child(pid);
  ::sigprocmask(SIG_SETMASK, &before, nullptr);
  if (pid < 0) return -1;
  int status = 0;
  int waited = 0;
  while ((waited = ::waitpid(pid, &status, 0)) < 0 && errno == EINTR) {
  }
  set_interrupt_child(0);
  if (waited < 0) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

bool gnuplot(const std::filesystem::path& dir, std::string_view stem, std::string_view body,
             int width, int height) {
  const std::string script = fmt::format(
      "# Written by {0}. Redraw {1}.svg and {1}.png from the CSV beside this script:\n"
      "#   gnuplot {1}.gnuplot\n"
      "if (!exists(\"out\")) out = \"{1}\"\n"
      "set datafile separator \",\"\n"
      "do for [ext in \"svg png\"] {{\n"
      "  if (ext eq \"svg\") {{\n"
      "    set terminal svg size {2},{3} dynamic font \"Helvetica,13\" background \"white\"\n"
      "  }} else {{\n"
      "    set terminal pngcairo size {2},{3} font \"Helvetica,11\" background \"white\"\n"
      "  }}\n"
      "  set output out.\".\".ext\n"
      "{4}"
      "  unset output\n"
      "}}\n",
      program_name(), stem, width, height, body);
  write_file(dir / fmt::format("{}.gnuplot", stem), script);
  if (!have("gnuplot", "SVG/PNG plots; the CSV and .gnuplot scripts are written")) return false;

  const std::string tmp = temp_stem(stem);
  const InterruptCleanup svg(dir / (tmp + ".svg")), png(dir / (tmp + ".png")),
      log(dir / (tmp + ".log"));
  const int status =
      run_program({"gnuplot", "-e", fmt::format("out='{}'", tmp), fmt::format("{}.gnuplot", stem)},
                  dir, tmp + ".log");
  bool ok = status == 0;
  for (const char* ext : {"svg", "png"})
    ok = move_into_place(status == 0, dir / fmt::format("{}.{}", tmp, ext),
                         dir / fmt::format("{}.{}", stem, ext)) &&
         ok;
  std::string first_message;
  {
    std::ifstream messages(dir / (tmp + ".log"));
    std::getline(messages, first_message);
  }
  std::error_code ignored;
  std::filesystem::remove(dir / (tmp + ".log"), ignored);
  if (!ok)
    warn(fmt::format("gnuplot failed on {}{}", (dir / stem).string() + ".gnuplot",
                     first_message.empty() ? "" : ": " + first_message));
  return ok;
}

bool render_dot(const std::filesystem::path& dir, std::string_view stem) {
  if (!have("dot", "SVG of the graph (graphviz); the .dot file is written")) return false;
  const std::string tmp = temp_stem(stem) + ".svg";
  const InterruptCleanup cleanup(dir / tmp);
  const int status = run_program({"dot", "-Tsvg", fmt::format("{}.dot", stem), "-o", tmp}, dir);
  const bool ok = move_into_place(status == 0, dir / tmp, dir / fmt::format("{}.svg", stem));
  if (!ok) warn(fmt::format("dot failed on {}", (dir / stem).string() + ".dot"));
  return ok;
}

std::string ascii_plot(std::span<const double> y, std::string_view title, int width, int height,
                       double x_first, double x_last) {
  double lo = INFINITY, hi = -INFINITY;
  for (double v : y)
    if (std::isfinite(v)) lo = std::min(lo, v), hi = std::max(hi, v);
  if (!(lo <= hi) || width < 2 || height < 2) return fmt::format("{}: nothing to plot\n", title);

  const int cols = std::min<int>(width, static_cast<int>(y.size()));
  std::vector<std::string> grid(height, std::string(cols, ' '));
  for (int c = 0; c < cols; ++c) {
    // The sample under column c, spreading the samples evenly over the columns.
    const std::size_t i = cols == 1 ? 0 : c * (y.size() - 1) / (cols - 1);
    if (!std::isfinite(y[i])) continue;
    const double t = hi > lo ? (hi - y[i]) / (hi - lo) : 0.5;
    grid[static_cast<std::size_t>(std::lround(t * (height - 1)))][c] = '*';
  }

  const std::string top = fmt::format("{:.4g}", hi), bottom = fmt::format("{:.4g}", lo);
  const std::size_t margin = std::max(top.size(), bottom.size());
  std::string s = fmt::format("{}\n", title);
  for (int r = 0; r < height; ++r) {
    const std::string label = r == 0 ? top : r == height - 1 ? bottom : "";
    s += fmt::format("{:>{}} |{}\n", label, margin, grid[r]);
  }
  s += fmt::format("{:>{}} +{}\n", "", margin, std::string(cols, '-'));
  if (std::isnan(x_last)) x_last = static_cast<double>(y.size() - 1);
  const std::string first = fmt::format("{:.4g}", x_first), last = fmt::format("{:.4g}", x_last);
  const int room =
      std::max<int>(cols - static_cast<int>(first.size()), static_cast<int>(last.size()) + 1);
  s += fmt::format("{:>{}}  {}{:>{}}\n", "", margin, first, last, room);
  return s;
}

}  // namespace slope::demo
