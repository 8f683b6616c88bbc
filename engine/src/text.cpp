#include "slope/text.hpp"

#include <algorithm>
#include <fstream>
#include <iterator>
#include <sstream>
#include <stdexcept>

namespace slope::data {

std::vector<char32_t> decode_utf8(std::string_view s) {
  std::vector<char32_t> out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    const auto b0 = static_cast<unsigned char>(s[i]);
    const int len = b0 < 0x80           ? 1
                    : (b0 >> 5) == 0x6  ? 2
                    : (b0 >> 4) == 0xE  ? 3
                    : (b0 >> 3) == 0x1E ? 4
                                        : 0;
    auto bad = [&](const char* why) {
      throw std::invalid_argument("invalid UTF-8 at byte " + std::to_string(i) + ": " + why);
    };
    if (len == 0) bad("not the first byte of a character");
    if (i + static_cast<std::size_t>(len) > s.size()) bad("a character cut short by the end");
    char32_t c = len == 1 ? b0 : len == 2 ? (b0 & 0x1F) : len == 3 ? (b0 & 0x0F) : (b0 & 0x07);
    for (int k = 1; k < len; ++k) {
      const auto b = static_cast<unsigned char>(s[i + static_cast<std::size_t>(k)]);
      if ((b >> 6) != 0x2) bad("a character cut short");
      c = (c << 6) | (b & 0x3F);
    }
    static constexpr char32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
    if (c < kMin[len]) bad("an overlong encoding");
    if (c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) bad("not a Unicode character");
    out.push_back(c);
    i += static_cast<std::size_t>(len);
  }
  return out;
}

std::string encode_utf8(char32_t c) {
  std::string out;
  if (c < 0x80) {
    out += static_cast<char>(c);
  } else if (c < 0x800) {
    out += static_cast<char>(0xC0 | (c >> 6));
    out += static_cast<char>(0x80 | (c & 0x3F));
  } else if (c < 0x10000) {
    out += static_cast<char>(0xE0 | (c >> 12));
    out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (c & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (c >> 18));
    out += static_cast<char>(0x80 | ((c >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (c & 0x3F));
  }
  return out;
}

CharTokenizer::CharTokenizer(std::string_view utf8) {
  chars_ = decode_utf8(utf8);
  if (chars_.empty()) throw std::invalid_argument("slope::data::CharTokenizer: an empty text");
  std::sort(chars_.begin(), chars_.end());
  chars_.erase(std::unique(chars_.begin(), chars_.end()), chars_.end());
}

std::vector<int> CharTokenizer::encode(std::string_view utf8) const {
  const std::vector<char32_t> cs = decode_utf8(utf8);
  std::vector<int> ids(cs.size());
  for (std::size_t i = 0; i < cs.size(); ++i) {
    const auto it = std::lower_bound(chars_.begin(), chars_.end(), cs[i]);
    if (it == chars_.end() || *it != cs[i])
      throw std::invalid_argument("slope::data::CharTokenizer::encode: '" + encode_utf8(cs[i]) +
                                  "' (character " + std::to_string(i) +
                                  ") is not in the tokenizer's text");
    ids[i] = static_cast<int>(it - chars_.begin());
  }
  return ids;
}

std::string CharTokenizer::decode(std::span<const int> ids) const {
  std::string out;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (ids[i] < 0 || ids[i] >= size())
      throw std::out_of_range("slope::data::CharTokenizer::decode: id " + std::to_string(ids[i]) +
                              " at position " + std::to_string(i) + " is outside [0, " +
                              std::to_string(size()) + ")");
    out += encode_utf8(chars_[static_cast<std::size_t>(ids[i])]);
  }
  return out;
}

namespace {
CharTokenizer tokenizer_of(std::string_view utf8, const std::string& name) {
  try {
    return CharTokenizer(utf8);
  } catch (const std::invalid_argument& e) {
    const std::string why = e.what();
    throw std::invalid_argument(name + ": " +
                                (utf8.empty() ? std::string("the text is empty") : why));
  }
}
}  // namespace

TextDataset::TextDataset(std::string_view utf8, double val_fraction, std::string name)
    : tokenizer_(tokenizer_of(utf8, name)), name_(std::move(name)) {
  if (!(val_fraction >= 0 && val_fraction < 1))
    throw std::invalid_argument(name_ + ": val_fraction must be in [0, 1), got " +
                                std::to_string(val_fraction));
  ids_ = tokenizer_.encode(utf8);
  train_end_ = static_cast<std::size_t>(static_cast<double>(ids_.size()) * (1 - val_fraction));
}

TextDataset TextDataset::from_file(const std::string& path, double val_fraction) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(path + ": cannot open the file");
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) throw std::runtime_error(path + ": cannot read the file");
  return TextDataset(text.str(), val_fraction, path);
}

std::span<const int> TextDataset::ids(TextSplit split) const {
  const std::span<const int> all(ids_);
  return split == TextSplit::train ? all.first(train_end_) : all.subspan(train_end_);
}

TextBatch TextDataset::batch(TextSplit split, int batch, int block_size, Rng& rng) const {
  if (batch < 1 || block_size < 1)
    throw std::invalid_argument(name_ + ": batch and block_size must be at least 1, got " +
                                std::to_string(batch) + " and " + std::to_string(block_size));
  const std::span<const int> data = ids(split);
  const auto window = static_cast<std::size_t>(block_size) + 1;
  if (data.size() < window)
    throw std::invalid_argument(
        name_ + ": the " + (split == TextSplit::train ? "training" : "validation") + " split has " +
        std::to_string(data.size()) +
        " characters, fewer than block_size + 1 = " + std::to_string(window));
  TextBatch b;
  b.inputs.reserve(static_cast<std::size_t>(batch) * (window - 1));
  b.targets.reserve(b.inputs.capacity());
  for (int k = 0; k < batch; ++k) {
    const std::size_t i = rng.below(data.size() - window + 1);
    b.inputs.insert(b.inputs.end(), data.begin() + static_cast<long>(i),
                    data.begin() + static_cast<long>(i + window - 1));
    b.targets.insert(b.targets.end(), data.begin() + static_cast<long>(i + 1),
                     data.begin() + static_cast<long>(i + window));
  }
  return b;
}

}  // namespace slope::data
