// slope-gpt (demos/gpt/): the baselines against their closed forms, the corpus's files in
// their documented order, a short training run that learns and is reproducible, the model
// printed with the activation's place marked, and the executable's files and bad input.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <slope/slope.hpp>

#include "demo_test_support.hpp"
#include "gpt/gpt.hpp"
#include "strings.hpp"
#include "support/model.hpp"

namespace gpt_demo_test {
namespace {

namespace gpt = slope::demo::gpt;
using slope::test::contains;
using slope::test::read;
using slope::test::TempDir;

TEST(GptDemo, BaselinesAreTheirClosedForms) {
  std::string text;
  for (int i = 0; i < 50; ++i) text += "ab";
  const slope::data::TextDataset ds(text, 0.1);  // train: 45 a, 45 b; val: "ababababab"
  const gpt::Baselines b = gpt::baselines(ds);
  EXPECT_NEAR(b.unigram, std::log(2.0), 1e-12);  // (45 + 1) / (90 + 2) each
  // add-one bigram: p(b | a) = (45 + 1) / (45 + 2), p(a | b) = (44 + 1) / (44 + 2); the
  // validation text has 5 a->b and 4 b->a transitions.
  EXPECT_NEAR(b.bigram, -(5 * std::log(46.0 / 47) + 4 * std::log(45.0 / 46)) / 9, 1e-12);
}

TEST(GptDemo, TheCorpusIsTheDotlessFilesInNameOrder) {
  const TempDir dir;
  for (const char* name : {"zen", "art", "art.dat", "zen.u8", "b"})
    std::ofstream(dir.path() / name) << name;
  const std::vector<std::string> files = gpt::corpus_files(dir.path().string());
  ASSERT_EQ(files.size(), 3u);
  EXPECT_EQ(std::filesystem::path(files[0]).filename(), "art");
  EXPECT_EQ(std::filesystem::path(files[1]).filename(), "b");
  EXPECT_EQ(std::filesystem::path(files[2]).filename(), "zen");
  EXPECT_THROW(gpt::corpus_files((dir.path() / "none").string()), slope::demo::UsageError);
}

gpt::Config tiny() {
  gpt::Config c;
  c.layers = 1, c.heads = 2, c.embd = 16, c.block = 8, c.batch = 4;
  c.steps = 60, c.probe_every = 20, c.warmup = 5, c.lr = 1e-2, c.eval_batches = 2;
  c.sample_chars = 30;
  return c;
}

slope::data::TextDataset tiny_text() {
  std::string text;
  for (int i = 0; i < 200; ++i) text += "hello world\n";
  return slope::data::TextDataset(text, 0.1, "hello");
}

TEST(GptDemo, AShortRunLearnsAndIsReproducible) {
  const gpt::Config c = tiny();
  const auto text = tiny_text();
  const gpt::Run a = gpt::train(c, text, "relu", 3), b = gpt::train(c, text, "relu", 3);
  ASSERT_EQ(a.evals.size(), 4u);  // steps 0, 20, 40, 60
  EXPECT_EQ(a.evals.back().step, 60);
  EXPECT_LT(a.evals.back().val_loss, 0.5 * a.evals.front().val_loss);  // it learns the text
  ASSERT_EQ(a.probes.size(), 3u);  // the training steps 0, 20, 40
  ASSERT_EQ(a.probes[0].blocks.size(), 1u);
  EXPECT_EQ(a.probes[0].blocks[0].head_entropy.size(), 2u);
  for (std::size_t i = 0; i < a.evals.size(); ++i)
    EXPECT_EQ(a.evals[i].val_loss, b.evals[i].val_loss) << "the same seed, the same run";
  EXPECT_EQ(a.sample, b.sample);
  EXPECT_EQ(slope::data::decode_utf8(a.sample).size(), 31u);  // the newline and 30 more
  const gpt::Run g = gpt::train(c, text, "gelu", 3);
  EXPECT_NE(g.evals.back().val_loss, a.evals.back().val_loss);
}

TEST(GptDemo, TheModelIsPrintedWithTheActivationsPlace) {
  slope::Rng rng(1);
  const slope::nn::GPT relu(gpt::model_config(tiny(), 11, "relu"), rng);
  const std::string text = gpt::describe(relu);
  EXPECT_TRUE(contains(text, "(c_fc): Linear(in_features=16, out_features=64, bias=True)"));
  EXPECT_TRUE(contains(text, "(act): ReLU()"));
  EXPECT_TRUE(contains(text, "<-- relu, between c_fc and c_proj"));
  EXPECT_LT(text.find("(c_fc)"), text.find("(act)"));
  EXPECT_LT(text.find("(act)"), text.find("(c_proj): Linear(in_features=64"));
  long long total = 0;
  for (const slope::Tensor& p : relu.parameters()) total += p.value().size();
  EXPECT_EQ(total, 11 * 16 + 8 * 16 +
                       (4 * 16 + 16 * 48 + 48 + 16 * 16 + 16 + 16 * 64 + 64 + 64 * 16 + 16) + 32);
  EXPECT_TRUE(contains(text, "number of parameters: 3,616 ")) << text;  // the sum above
  const slope::nn::GPT tanh_gelu(gpt::model_config(tiny(), 11, "gelu_tanh"), rng);
  EXPECT_TRUE(contains(gpt::describe(tanh_gelu), "(act): GELU(approximate='tanh')"));
}

int run_gpt(const std::string& args, const std::filesystem::path& err) {
  return slope::test::run_program(SLOPE_GPT_EXE, args, "/dev/null", err);
}

TEST(GptDemo, TheExecutableWritesItsFilesTheSameForAnyThreads) {
  const TempDir dir;
  std::string text;
  for (int i = 0; i < 300; ++i) text += "to be or not to be\n";
  std::ofstream(dir.path() / "text.txt") << text;
  const std::string common = "--text '" + (dir.path() / "text.txt").string() +
                             "' --act relu,gelu --steps 30 --layers 1 --embd 16 --heads 2 "
                             "--block 8 --batch 4 --probe-every 10 --eval-batches 2 --warmup 3 ";
  ASSERT_EQ(run_gpt(common + "--threads 1 --out '" + (dir.path() / "one").string() + "'",
                    dir.path() / "err1"),
            0)
      << read(dir.path() / "err1");
  ASSERT_EQ(run_gpt(common + "--threads 2 --out '" + (dir.path() / "two").string() + "'",
                    dir.path() / "err2"),
            0);
  for (const char* f : {"curves.csv", "blocks.csv", "heads.csv", "attention.csv", "summary.csv",
                        "samples.txt", "model.txt"})
    EXPECT_EQ(read(dir.path() / "one" / f), read(dir.path() / "two" / f)) << f;
  EXPECT_TRUE(
      read(dir.path() / "one" / "curves.csv").starts_with("activation,seed,step,split,loss\n"));
  EXPECT_TRUE(contains(read(dir.path() / "one" / "blocks.csv"), "relu,1337,20,1,"));
  // REPORT.md says where each activation's float slope is exactly 0: the only place a unit
  // can read as dead (act::zero_slope, measured in tests/test_activations.cpp).
  const std::string report = read(dir.path() / "one" / "REPORT.md");
  EXPECT_TRUE(contains(report, "relu only at x <= 0")) << report;
  EXPECT_TRUE(contains(report, "gelu " + slope::demo::where_slope_is_zero("gelu"))) << report;
  // The checkpoint loads back into the same model.
  slope::Rng rng(9);
  gpt::Config c = tiny();
  const slope::nn::GPT model(gpt::model_config(c, slope::data::CharTokenizer(text).size(), "relu"),
                             rng);
  slope::nn::load_safetensors((dir.path() / "one" / "gpt_relu_seed1337.safetensors").string(),
                              model.named_parameters());
}

TEST(GptDemo, BadInputIsStatusTwoNamingIt) {
  const TempDir dir;
  const std::filesystem::path err = dir.path() / "err";
  const std::string out = " --out '" + (dir.path() / "o").string() + "'";
  EXPECT_EQ(run_gpt("--heads 3 --embd 64 --text /dev/null" + out, err), 2);
  EXPECT_TRUE(contains(read(err), "--heads: 3 does not divide --embd 64")) << read(err);
  EXPECT_EQ(run_gpt("--text '" + (dir.path() / "missing.txt").string() + "'" + out, err), 2);
  EXPECT_TRUE(contains(read(err), "missing.txt")) << read(err);
  std::ofstream(dir.path() / "empty.txt").flush();
  EXPECT_EQ(run_gpt("--text '" + (dir.path() / "empty.txt").string() + "'" + out, err), 2);
  EXPECT_TRUE(contains(read(err), "empty.txt: the text is empty")) << read(err);
  std::ofstream(dir.path() / "short.txt") << "abc";
  EXPECT_EQ(run_gpt("--text '" + (dir.path() / "short.txt").string() + "'" + out, err), 2);
  EXPECT_TRUE(contains(read(err), "short.txt: the training split has")) << read(err);
  EXPECT_EQ(run_gpt("--act relu6" + out, err), 2);
}

}  // namespace
}  // namespace gpt_demo_test
