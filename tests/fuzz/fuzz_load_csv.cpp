// libFuzzer target: any bytes as a CSV file for slope::data::load_csv. It returns a
// consistent data set or throws std::runtime_error naming the file and the line; nothing
// else (no crash, no other exception, no hang, no huge allocation).
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <stdexcept>
#include <string>

#include <slope/data.hpp>

#include "fuzz_check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using slope::fuzz::check;
  std::istringstream in(std::string(reinterpret_cast<const char*>(data), size));
  try {
    const slope::data::Dataset d = slope::data::load_csv(in, "fuzz.csv");
    check(d.n > 0 && d.dim > 0, "an empty data set returned");
    check(d.x.size() == d.n * d.dim && d.y.size() == d.n, "sizes disagree");
    for (int y : d.y) check(y >= 0 && y < d.classes && y <= 1000000, "a label out of range");
    for (double v : d.x) check(v == v && v - v == 0, "a non-finite feature");
  } catch (const std::runtime_error& e) {
    const std::string msg = e.what();
    check(slope::fuzz::starts_with(msg, "fuzz.csv:"), "the error does not name the file: " + msg);
    check(msg == "fuzz.csv: no data rows" || (msg.size() > 9 && msg[9] >= '1' && msg[9] <= '9'),
          "the error names no line: " + msg);
    check(msg.size() < 400, "an error of " + std::to_string(msg.size()) + " characters");
  }
  return 0;
}
