// The repository's pages: every relative link in the README and the pages under docs/ and
// demos/ resolves (to a file, and to a heading where it names one), every code block marked
// `<!-- verbatim: PATH -->` is a verbatim excerpt of PATH (so docs/extending.md's worked
// examples are code a test compiles and cannot drift from it), the README stays a front
// door of at most 200 lines, and no file names the team's design contract, which lives
// outside the repository.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;
const fs::path kRoot = SLOPE_SOURCE_DIR;

std::string read_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<fs::path> pages() {
  std::vector<fs::path> out{kRoot / "README.md", kRoot / "demos" / "README.md",
                            kRoot / "demos" / "web" / "README.md"};
  for (const auto& e : fs::directory_iterator(kRoot / "docs"))
    if (e.path().extension() == ".md") out.push_back(e.path());
  return out;
}

// GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens.
std::string slug(const std::string& heading) {
  std::string s;
  for (unsigned char c : heading) {
    if (std::isalnum(c) || c == '-' || c == '_' || c >= 0x80)
      s += static_cast<char>(std::tolower(c));
    else if (c == ' ')
      s += '-';
  }
  return s;
}

// The anchors of a page's headings (outside code blocks).
std::set<std::string> anchors(const fs::path& page) {
  std::set<std::string> out;
  std::istringstream in(read_text(page));
  bool code = false;
  for (std::string line; std::getline(in, line);) {
    if (line.starts_with("```")) code = !code;
    if (code || !line.starts_with("#")) continue;
    const std::size_t text = line.find_first_not_of('#');
    if (text != std::string::npos) out.insert(slug(line.substr(line.find_first_not_of(" #"))));
  }
  return out;
}

// The markdown links and images of a page, outside code blocks and inline code.
std::vector<std::string> links(const fs::path& page) {
  std::vector<std::string> out;
  std::istringstream in(read_text(page));
  bool code = false;
  const std::regex link(R"(\]\(([^)\s]+)(?:\s+"[^"]*")?\))");
  for (std::string line; std::getline(in, line);) {
    if (line.starts_with("```")) code = !code;
    if (code) continue;
    line = std::regex_replace(line, std::regex("`[^`]*`"), "");
    for (std::sregex_iterator m(line.begin(), line.end(), link), end; m != end; ++m)
      out.push_back((*m)[1]);
  }
  return out;
}

TEST(Docs, EveryRelativeLinkResolves) {
  int checked = 0;
  for (const fs::path& page : pages()) {
    ASSERT_TRUE(fs::exists(page)) << page;
    for (const std::string& target : links(page)) {
      if (target.starts_with("http://") || target.starts_with("https://") ||
          target.starts_with("mailto:"))
        continue;
      const std::size_t hash = target.find('#');
      const std::string file = target.substr(0, hash);
      const fs::path resolved = file.empty() ? page : page.parent_path() / file;
      EXPECT_TRUE(fs::exists(resolved))
          << page.lexically_relative(kRoot) << " links to " << target << ", which is missing";
      if (hash != std::string::npos && resolved.extension() == ".md" && fs::exists(resolved)) {
        EXPECT_TRUE(anchors(resolved).count(target.substr(hash + 1)))
            << page.lexically_relative(kRoot) << " links to " << target << ": no such heading in "
            << resolved.lexically_relative(kRoot);
      }
      ++checked;
    }
  }
  EXPECT_GT(checked, 20);  // the pages link onward: the checker found them
}

TEST(Docs, VerbatimBlocksAreTheCode) {
  const std::regex marker(R"(<!-- verbatim: (\S+) -->)");
  int checked = 0;
  for (const fs::path& page : pages()) {
    std::istringstream in(read_text(page));
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    for (std::size_t i = 0; i < lines.size(); ++i) {
      std::smatch m;
      if (!std::regex_match(lines[i], m, marker)) continue;  // a line of its own
      ASSERT_LT(i + 1, lines.size());
      ASSERT_TRUE(lines[i + 1].starts_with("```")) << page << ":" << i + 2 << ": no code block";
      std::string block;
      std::size_t j = i + 2;
      for (; j < lines.size() && !lines[j].starts_with("```"); ++j) block += lines[j] + "\n";
      const fs::path source = kRoot / m[1].str();
      ASSERT_TRUE(fs::exists(source)) << page << ":" << i + 1 << ": " << source;
      EXPECT_NE(read_text(source).find(block), std::string::npos)
          << page.lexically_relative(kRoot) << ":" << i + 3 << ": this block is not in "
          << m[1].str() << ":\n"
          << block;
      ++checked;
    }
  }
  EXPECT_GE(checked, 4);  // an activation, an op, a module and a demo
}

TEST(Docs, TheReadmeIsAFrontDoor) {
  const std::string readme = read_text(kRoot / "README.md");
  EXPECT_LE(std::count(readme.begin(), readme.end(), '\n'), 200);
}

TEST(Docs, NoFileNamesTheDesignContract) {
  const std::string contract = std::string("DESIGN") + ".md";  // not the name itself, here
  const std::set<std::string> skipped{".git", "build", "out", "node_modules"};
  for (auto it = fs::recursive_directory_iterator(kRoot); it != fs::recursive_directory_iterator();
       ++it) {
    if (skipped.count(it->path().filename().string())) {
      it.disable_recursion_pending();
      continue;
    }
    if (!it->is_regular_file() || it->file_size() > 1'000'000) continue;
    EXPECT_EQ(read_text(it->path()).find(contract), std::string::npos)
        << it->path().lexically_relative(kRoot);
  }
}

}  // namespace
