#include "output.hpp"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <climits>
#include <cstring>
#include <locale>
#include <stdexcept>
#include <system_error>

#include <fmt/format.h>

#include "exit.hpp"

namespace slope::demo {

namespace {

std::filesystem::path temp_name(const std::filesystem::path& target) {
  static std::atomic<unsigned> counter{0};
  return target.parent_path() / fmt::format(".{}.tmp-{}-{}", target.filename().string(),
                                            static_cast<long>(::getpid()), counter++);
}

// The temporaries an interrupt removes. A slot is free (0), being filled (1) or
// registered (2); the handler only reads registered slots.
struct CleanupSlot {
  std::atomic<int> state{0};
  char path[PATH_MAX];
};
std::array<CleanupSlot, 64> g_cleanup;
std::atomic<pid_t> g_child{0};

extern "C" void on_interrupt(int sig) {
  if (const pid_t child = g_child.load(); child > 0) {
    ::kill(child, SIGKILL);  // it may be writing a temporary: stop it before removing it
    ::waitpid(child, nullptr, 0);
  }
  for (CleanupSlot& s : g_cleanup)
    if (s.state.load() == 2) ::unlink(s.path);
  ::_exit(kInterruptedBase + sig);
}

}  // namespace

void exit_cleanly_on_interrupt() {
  struct sigaction sa {};
  sa.sa_handler = on_interrupt;
  sigemptyset(&sa.sa_mask);
  sigaddset(&sa.sa_mask, SIGINT);  // one handler at a time
  sigaddset(&sa.sa_mask, SIGTERM);
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);
}

InterruptCleanup::InterruptCleanup(const std::filesystem::path& path) : slot_(-1) {
  const std::string& p = path.native();
  if (p.size() >= PATH_MAX) throw std::length_error("path too long: " + p);
  for (std::size_t i = 0; i < g_cleanup.size(); ++i) {
    int expected = 0;
    if (g_cleanup[i].state.compare_exchange_strong(expected, 1)) {
      std::memcpy(g_cleanup[i].path, p.c_str(), p.size() + 1);
      g_cleanup[i].state.store(2);
      slot_ = static_cast<int>(i);
      return;
    }
  }
  throw std::length_error("more than 64 temporary files open at once, at " + p);
}

InterruptCleanup::~InterruptCleanup() { g_cleanup[static_cast<std::size_t>(slot_)].state.store(0); }

void set_interrupt_child(pid_t pid) { g_child.store(pid); }

AtomicFile::AtomicFile(std::filesystem::path target)
    : target_(std::move(target)), temp_(temp_name(target_)), cleanup_(temp_) {
  out_.imbue(std::locale::classic());  // no digit grouping, whatever the global locale
  out_.open(temp_, std::ios::binary | std::ios::trunc);
  if (!out_) throw std::runtime_error("cannot write " + target_.string());
}

AtomicFile::~AtomicFile() {
  if (committed_) return;
  out_.close();
  std::error_code ec;
  std::filesystem::remove(temp_, ec);  // nothing more to do if this fails
}

void AtomicFile::commit() {
  out_.flush();
  const bool written = static_cast<bool>(out_);
  out_.close();
  std::error_code renamed;
  if (written && !out_.fail()) std::filesystem::rename(temp_, target_, renamed);
  if (!written || out_.fail() || renamed) {
    std::error_code ignored;
    std::filesystem::remove(temp_, ignored);
    throw std::runtime_error("cannot write " + target_.string() + ": " +
                             (renamed ? renamed.message() : "write failed"));
  }
  committed_ = true;
}

void write_file(const std::filesystem::path& target, std::string_view text) {
  AtomicFile f(target);
  f.stream() << text;
  f.commit();
}

std::string format_number(double x) { return fmt::format("{:.10g}", x); }

CsvWriter::CsvWriter(const std::filesystem::path& target, std::vector<std::string> header)
    : file_(target), columns_(header.size()) {
  for (std::size_t i = 0; i < header.size(); ++i) {
    if (i > 0) file_.stream() << ',';
    put_text(header[i]);
  }
  file_.stream() << '\n';
}

void CsvWriter::put_text(std::string_view s) {
  if (s.find_first_of(",\"\n\r") == std::string_view::npos) {
    file_.stream() << s;
    return;
  }
  file_.stream() << '"';  // RFC 4180: quote the field, double any quote inside
  for (char c : s) file_.stream() << (c == '"' ? "\"\"" : std::string(1, c));
  file_.stream() << '"';
}

}  // namespace slope::demo
