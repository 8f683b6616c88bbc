// Text for a character-level language model, as nanoGPT's shakespeare_char: a tokenizer of
// the text's characters and a data set of seeded random windows.
//
//   auto text = slope::data::TextDataset::from_file("input.txt");   // 90% train, 10% val
//   auto b = text.batch(slope::data::TextSplit::train, 12, 64, rng);  // 12 windows of 64 + 1
//   auto loss = slope::cross_entropy(model.forward(b.inputs, 12), b.targets);
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "slope/random.hpp"

namespace slope::data {

// The sorted unique characters (Unicode code points) of a UTF-8 text, the i-th with id i.
class CharTokenizer {
 public:
  // Throws std::invalid_argument for an empty text, or invalid UTF-8 (naming the byte).
  explicit CharTokenizer(std::string_view utf8);
  // Throws std::invalid_argument for a character the text did not have, naming it and where.
  std::vector<int> encode(std::string_view utf8) const;
  // Throws std::out_of_range for an id outside [0, size()).
  std::string decode(std::span<const int> ids) const;
  int size() const { return static_cast<int>(chars_.size()); }
  const std::vector<char32_t>& chars() const { return chars_; }

 private:
  std::vector<char32_t> chars_;
};

// The code points of a UTF-8 text; std::invalid_argument naming the first bad byte's offset
// for a truncated, overlong or out-of-range sequence or a surrogate.
std::vector<char32_t> decode_utf8(std::string_view utf8);
// The UTF-8 of one code point.
std::string encode_utf8(char32_t c);

enum class TextSplit { train, val };

// `batch` windows, one after the other: inputs are ids [i, i + block_size) of the split and
// targets ids [i + 1, i + block_size + 1), each window at its own random offset i.
struct TextBatch {
  std::vector<int> inputs, targets;
};

// A text's ids, the first (1 - val_fraction) training and the rest validation (nanoGPT's
// split), and random windows of them (nanoGPT's get_batch).
class TextDataset {
 public:
  // `name` is what errors call the text (a file's path). Throws std::invalid_argument naming
  // it for an empty text, invalid UTF-8 or a val_fraction outside [0, 1).
  TextDataset(std::string_view utf8, double val_fraction = 0.1, std::string name = "<text>");
  // Reads a UTF-8 file; std::runtime_error naming the file when it cannot be read,
  // std::invalid_argument naming it for the cases above.
  static TextDataset from_file(const std::string& path, double val_fraction = 0.1);

  const CharTokenizer& tokenizer() const { return tokenizer_; }
  std::span<const int> ids(TextSplit split) const;
  const std::string& name() const { return name_; }
  // Offsets uniform over [0, n - block_size - 1] of the split's n ids, drawn from rng in
  // order. Throws std::invalid_argument naming the text and the split when it has fewer
  // than block_size + 1 ids, or for batch or block_size below 1.
  TextBatch batch(TextSplit split, int batch, int block_size, Rng& rng) const;

 private:
  CharTokenizer tokenizer_;
  std::vector<int> ids_;
  std::size_t train_end_;
  std::string name_;
};

}  // namespace slope::data
