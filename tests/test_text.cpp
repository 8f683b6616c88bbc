// Text for the character-level GPT: the tokenizer (sorted unique code points, UTF-8 in and
// out), the 90/10 split and nanoGPT's random windows, and every bad input named with the file.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <slope/slope.hpp>

namespace text_test {
namespace {

namespace data = slope::data;

std::string message_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "no error";
}

TEST(CharTokenizer, SortedUniqueCharactersRoundTrip) {
  const data::CharTokenizer tok("hello wörld");  // ö is two bytes of UTF-8
  EXPECT_EQ(tok.size(), 9);                      // ' ', d, e, h, l, o, r, w, ö
  EXPECT_EQ(tok.chars().front(), U' ');
  EXPECT_EQ(tok.chars().back(), U'ö');
  const std::vector<int> ids = tok.encode("wörld");
  EXPECT_EQ(ids, (std::vector<int>{7, 8, 6, 4, 1}));
  EXPECT_EQ(tok.decode(ids), "wörld");
  EXPECT_NE(message_of([&] { tok.encode("held!"); }).find("'!' (character 4)"), std::string::npos);
  EXPECT_THROW(tok.decode(std::vector<int>{9}), std::out_of_range);
  EXPECT_THROW(data::CharTokenizer(""), std::invalid_argument);
}

TEST(Utf8, BadBytesAreNamedByOffset) {
  EXPECT_EQ(data::decode_utf8("a€😀"), (std::vector<char32_t>{U'a', U'€', U'😀'}));
  EXPECT_EQ(data::encode_utf8(U'😀') + data::encode_utf8(U'€'), "😀€");
  EXPECT_NE(message_of([] { data::decode_utf8("ab\xC3"); }).find("byte 2"), std::string::npos);
  EXPECT_NE(message_of([] { data::decode_utf8("\xC0\xAF"); }).find("overlong"), std::string::npos);
  EXPECT_NE(message_of([] { data::decode_utf8("x\xED\xA0\x80"); }).find("byte 1"),
            std::string::npos);  // a surrogate
  EXPECT_NE(message_of([] { data::decode_utf8("\xFF"); }).find("byte 0"), std::string::npos);
  EXPECT_NE(message_of([] { data::decode_utf8("\xE2\x82x"); }).find("cut short"),
            std::string::npos);
}

TEST(TextDataset, NinetyTenSplitAndWindowsOfTheText) {
  std::string text;
  for (int i = 0; i < 100; ++i) text += static_cast<char>('a' + i % 26);
  const data::TextDataset ds(text, 0.1, "alphabet");
  EXPECT_EQ(ds.ids(data::TextSplit::train).size(), 90u);
  EXPECT_EQ(ds.ids(data::TextSplit::val).size(), 10u);
  slope::Rng a(7), b(7);
  const data::TextBatch x = ds.batch(data::TextSplit::train, 4, 8, a);
  EXPECT_EQ(x.inputs, ds.batch(data::TextSplit::train, 4, 8, b).inputs);  // seeded
  ASSERT_EQ(x.inputs.size(), 32u);
  ASSERT_EQ(x.targets.size(), 32u);
  for (std::size_t w = 0; w < 4; ++w)
    for (std::size_t t = 0; t < 8; ++t) {
      const int in = x.inputs[w * 8 + t], next = x.targets[w * 8 + t];
      EXPECT_EQ(next, (in + 1) % 26) << "the target is the next character";  // a..z cycle
      if (t + 1 < 8) {
        EXPECT_EQ(x.inputs[w * 8 + t + 1], next);
      }
    }
  const data::TextBatch v = ds.batch(data::TextSplit::val, 2, 9, a);  // the whole split
  EXPECT_EQ(std::vector<int>(v.inputs.begin(), v.inputs.begin() + 9),
            std::vector<int>(ds.ids(data::TextSplit::val).begin(),
                             ds.ids(data::TextSplit::val).begin() + 9));
  EXPECT_NE(message_of([&] { ds.batch(data::TextSplit::val, 1, 10, a); })
                .find("alphabet: the validation split has 10 characters, fewer than block_size "
                      "+ 1 = 11"),
            std::string::npos);
}

TEST(TextDataset, BadFilesAreNamed) {
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("slope-text-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  auto file = [&](const char* name, const std::string& bytes) {
    std::ofstream(dir / name, std::ios::binary) << bytes;
    return (dir / name).string();
  };
  const std::string empty = file("empty.txt", ""), bad = file("bad.txt", "ok\n\xFF"),
                    good = file("good.txt", "to be or not to be\n");
  EXPECT_NE(
      message_of([&] { data::TextDataset::from_file(empty); }).find(empty + ": the text is empty"),
      std::string::npos);
  EXPECT_NE(message_of([&] {
              data::TextDataset::from_file(bad);
            }).find(bad + ": invalid UTF-8 at byte 3"),
            std::string::npos);
  const std::string missing = (dir / "missing.txt").string();
  EXPECT_NE(message_of([&] { data::TextDataset::from_file(missing); }).find(missing),
            std::string::npos);
  const data::TextDataset ds = data::TextDataset::from_file(good);
  EXPECT_EQ(ds.tokenizer().decode(ds.ids(data::TextSplit::train)).size(), 17u);  // 90% of 19
  slope::Rng rng(1);
  EXPECT_NE(message_of([&] { ds.batch(data::TextSplit::train, 1, 64, rng); }).find(good),
            std::string::npos);  // shorter than block_size + 1
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace text_test
