#include "output.hpp"

#include <unistd.h>

#include <atomic>
#include <locale>
#include <stdexcept>
#include <system_error>

#include <fmt/format.h>

namespace slope::demo {

namespace {

std::filesystem::path temp_name(const std::filesystem::path& target) {
  static std::atomic<unsigned> counter{0};
  return target.parent_path() / fmt::format(".{}.tmp-{}-{}", target.filename().string(),
                                            static_cast<long>(::getpid()), counter++);
}

}  // namespace

AtomicFile::AtomicFile(std::filesystem::path target)
    : target_(std::move(target)), temp_(temp_name(target_)) {
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
