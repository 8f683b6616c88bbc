// slope-curves (demos/curves.cpp, demos/curves_lib.cpp) on small settings: the records
// follow curves.csv's schema, runs are reproducible, the summary over seeds is right,
// divergence is reported, and bad flags or data exit with status 2 naming file and line.
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "demo_test_support.hpp"

#include "curves/curves.hpp"
#include "support/exit.hpp"
#include "support/output.hpp"

namespace fs = std::filesystem;
namespace cv = slope::demo::curves;

namespace {

using slope::test::read;
using slope::test::TempDir;

int run_curves(const std::string& args, const fs::path& err) {
  return slope::test::run_program(SLOPE_CURVES_EXE, args, "/dev/null", err);
}

cv::Config small_curves() {
  cv::Config c;
  c.activations = {"relu", "tanh"};
  c.data = "moons";
  c.samples = 60;
  c.depth = 2;
  c.width = 8;
  c.steps = 20;
  c.eval_every = 5;
  c.seeds = 2;
  return c;
}

cv::Record rec(const std::string& a, std::uint64_t seed, int step, const char* split, double loss,
               double acc) {
  return {a, 2, seed, step, split, loss, acc};
}

const std::string kSmallFlags =
    "--act relu,tanh --data moons --samples 60 --depth 2 --width 8 --steps 20 --eval-every 5 "
    "--seeds 2";

}  // namespace

TEST(Curves, RecordsTrainAndTestAtEveryEvaluationAndTheEnd) {
  const cv::Config c = small_curves();
  const cv::Split split = cv::load_data(c);
  EXPECT_EQ(split.test.n, 15u);  // round(0.25 * 60)
  EXPECT_EQ(split.train.n, 45u);
  const std::vector<cv::Record> r = cv::train_run(c, split, "relu", 5);
  ASSERT_EQ(r.size(), 2u * 5);  // steps 0, 5, 10, 15, 20; train and test each
  for (std::size_t i = 0; i < r.size(); ++i) {
    EXPECT_EQ(r[i].step, static_cast<int>(i / 2) * 5);
    EXPECT_EQ(r[i].split, i % 2 == 0 ? "train" : "test");
    EXPECT_EQ(r[i].activation, "relu");
    EXPECT_EQ(r[i].depth, 2);
    EXPECT_EQ(r[i].seed, 5u);
    EXPECT_TRUE(std::isfinite(r[i].loss));
    EXPECT_GE(r[i].accuracy, 0.0);
    EXPECT_LE(r[i].accuracy, 1.0);
  }
  // Two classes at random initial weights: the loss starts near log 2 and training lowers it.
  EXPECT_NEAR(r[0].loss, std::log(2.0), 0.3);
  EXPECT_LT(r[r.size() - 2].loss, r[0].loss);
}

TEST(Curves, SameSeedSameRecordsOtherSeedOthers) {
  const cv::Config c = small_curves();
  const cv::Split split = cv::load_data(c);
  const auto a = cv::train_run(c, split, "tanh", 1), b = cv::train_run(c, split, "tanh", 1),
             d = cv::train_run(c, split, "tanh", 2);
  ASSERT_EQ(a.size(), b.size());
  bool differs = false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].loss, b[i].loss);
    EXPECT_EQ(a[i].accuracy, b[i].accuracy);
    differs = differs || a[i].loss != d[i].loss;
  }
  EXPECT_TRUE(differs);
}

TEST(Curves, StatsAreMeanSampleStdMinMax) {
  const cv::Stats s = cv::stats({1, 2, 3});
  EXPECT_DOUBLE_EQ(s.mean, 2);
  EXPECT_DOUBLE_EQ(s.std, 1);
  EXPECT_EQ(s.min, 1);
  EXPECT_EQ(s.max, 3);
  EXPECT_EQ(cv::stats({0.97, 0.97, 0.97}).std, 0.0);
  EXPECT_EQ(cv::stats({0.5}).std, 0.0);
}

TEST(Curves, FinalsAverageSeedsAndCountStepsToNinetyPercent) {
  const std::vector<cv::Record> r{
      rec("relu", 1, 0, "train", 1.0, 0.5),    rec("relu", 1, 0, "test", 1.0, 0.5),
      rec("relu", 1, 10, "train", 0.2, 0.95),  rec("relu", 1, 10, "test", 0.3, 0.8),
      rec("relu", 1, 20, "train", 0.1, 0.92),  rec("relu", 1, 20, "test", 0.4, 0.9),
      rec("relu", 2, 0, "train", 1.0, 0.5),    rec("relu", 2, 0, "test", 1.0, 0.5),
      rec("relu", 2, 10, "train", 0.5, 0.7),   rec("relu", 2, 10, "test", 0.5, 0.7),
      rec("relu", 2, 20, "train", 0.3, 0.9),   rec("relu", 2, 20, "test", 0.2, 0.7),
      rec("sigmoid", 1, 0, "train", 1.0, 0.5), rec("sigmoid", 1, 20, "train", 0.9, 0.6)};
  const std::vector<cv::Final> f = cv::finals(r);
  ASSERT_EQ(f.size(), 2u);
  EXPECT_EQ(f[0].activation, "relu");
  EXPECT_EQ(f[0].seeds, 2);
  EXPECT_DOUBLE_EQ(f[0].train_loss.mean, 0.2);
  EXPECT_DOUBLE_EQ(f[0].train_acc.mean, 0.91);
  EXPECT_DOUBLE_EQ(f[0].test_acc.mean, 0.8);
  EXPECT_NEAR(f[0].test_acc.std, std::sqrt(0.02), 1e-15);
  EXPECT_EQ(f[0].reached_90, 2);
  EXPECT_DOUBLE_EQ(f[0].steps_to_90, 15);  // seed 1 at step 10, seed 2 at step 20
  EXPECT_EQ(f[1].reached_90, 0);
  EXPECT_EQ(f[1].steps_to_90, -1);

  const std::vector<cv::Band> b = cv::bands(r);
  ASSERT_EQ(b.size(), 3u + 3u + 2u);  // relu train, relu test, sigmoid train
  EXPECT_EQ(b[1].split, "train");
  EXPECT_EQ(b[1].step, 10);
  EXPECT_DOUBLE_EQ(b[1].accuracy.min, 0.7);
  EXPECT_DOUBLE_EQ(b[1].accuracy.max, 0.95);
  EXPECT_EQ(b[3].split, "test");
}

TEST(Curves, DivergenceStopsTheRunAndNamesTheStepAndLayer) {
  cv::Config c = small_curves();
  c.optim = "sgd";
  c.lr = 1e30;
  const cv::Split split = cv::load_data(c);
  slope::demo::History h;
  const std::vector<cv::Record> r = cv::train_run(c, split, "relu", 1, {}, &h);
  ASSERT_TRUE(h.diverged.has_value());
  const std::string msg = h.diverged->message();
  EXPECT_NE(msg.find("at step "), std::string::npos) << msg;
  EXPECT_NE(msg.find("layer"), std::string::npos) << msg;
  EXPECT_GE(h.diverged->layer, 1) << msg;
  // Everything before the diverged step is kept, and nothing at or after it.
  for (const cv::Record& rec : r) EXPECT_LT(static_cast<std::size_t>(rec.step), h.diverged->step);
}

TEST(Curves, DataNamesAndCsvFiles) {
  TempDir tmp;
  EXPECT_TRUE(cv::is_csv_path("no/such/file.csv"));
  EXPECT_FALSE(cv::is_csv_path("spirals"));
  cv::Config c = small_curves();
  c.data = "nonesuch";
  EXPECT_THROW(cv::load_data(c), slope::demo::UsageError);

  const fs::path good = tmp.path() / "good", bad = tmp.path() / "bad.csv";
  slope::demo::write_file(good, "x1,x2,label\n0,0,0\n1,1,1\n0,1,1\n1,0,0\n");
  slope::demo::write_file(bad, "x1,x2,label\n0,0,0\n1,oops,1\n");
  c.data = good.string();  // an existing file counts as CSV without the extension
  const cv::Split split = cv::load_data(c);
  EXPECT_EQ(split.train.n + split.test.n, 4u);
  c.data = bad.string();
  try {
    cv::load_data(c);
    FAIL() << "expected UsageError";
  } catch (const slope::demo::UsageError& e) {
    EXPECT_NE(std::string(e.what()).find(bad.string() + ":3:"), std::string::npos) << e.what();
  }
}

TEST(Curves, ReadCurvesRoundTripsAndNamesBadLines) {
  TempDir tmp;
  const fs::path good = tmp.path() / "curves.csv", bad = tmp.path() / "bad.csv";
  slope::demo::write_file(good,
                          "activation,depth,seed,step,split,loss,accuracy\n"
                          "relu,4,18446744073709551615,0,train,1.1,0.4\n"
                          "relu,4,1,0,test,nan,0.5\n");
  const std::vector<cv::Record> r = cv::read_curves(good.string());
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].seed, 18446744073709551615ull);
  EXPECT_EQ(r[0].loss, 1.1);
  EXPECT_TRUE(std::isnan(r[1].loss));
  slope::demo::write_file(bad,
                          "activation,depth,seed,step,split,loss,accuracy\n"
                          "relu,4,1,0,train,1.1,0.4\n"
                          "relu,4,1,0,valid,1.1,0.4\n");
  try {
    cv::read_curves(bad.string());
    FAIL() << "expected UsageError";
  } catch (const slope::demo::UsageError& e) {
    EXPECT_NE(std::string(e.what()).find(bad.string() + ":3: split"), std::string::npos)
        << e.what();
  }
  EXPECT_THROW(cv::read_curves((tmp.path() / "missing.csv").string()), slope::demo::UsageError);
}

TEST(CurvesDemo, SameSeedGivesByteIdenticalCsvAndCompareOverlaysIt) {
  TempDir tmp;
  const fs::path a = tmp.path() / "a", b = tmp.path() / "b", c = tmp.path() / "c";
  const fs::path cmp = tmp.path() / "cmp", err = tmp.path() / "err";
  ASSERT_EQ(run_curves(kSmallFlags + " --seed 4 --out '" + a.string() + "'", err), 0) << read(err);
  ASSERT_EQ(run_curves(kSmallFlags + " --seed 4 --out '" + b.string() + "'", err), 0) << read(err);
  ASSERT_EQ(run_curves(kSmallFlags + " --seed 9 --out '" + c.string() + "'", err), 0) << read(err);
  for (const char* f : {"curves.csv", "curves_mean.csv", "summary.csv"}) {
    ASSERT_TRUE(fs::exists(a / f)) << f;
    EXPECT_EQ(read(a / f), read(b / f)) << f;
    EXPECT_NE(read(a / f), read(c / f)) << f;
  }
  const std::string curves = read(a / "curves.csv");
  EXPECT_TRUE(
      curves.starts_with("activation,depth,seed,step,split,loss,accuracy\nrelu,2,4,0,train,"));
  // 2 activations x 2 seeds x 5 steps x 2 splits, and the header.
  EXPECT_EQ(std::count(curves.begin(), curves.end(), '\n'), 1 + 2 * 2 * 5 * 2);
  const std::string summary = read(a / "summary.csv");
  for (const char* k : {"final_train_acc.relu", "final_test_acc.tanh", "final_test_acc_std.relu",
                        "final_train_loss.tanh", "steps_to_90.relu"})
    EXPECT_NE(summary.find(std::string("\n") + k + ","), std::string::npos) << k;

  ASSERT_EQ(run_curves("--compare '" + (a / "curves.csv").string() + "' '" +
                           (c / "curves.csv").string() + "' --out '" + cmp.string() + "'",
                       err),
            0)
      << read(err);
  const std::string compare = read(cmp / "compare.csv");
  EXPECT_TRUE(compare.starts_with("run,activation,split,step,loss_mean,"));
  EXPECT_NE(compare.find((c / "curves.csv").string() + ",tanh,test,20,"), std::string::npos);
  EXPECT_TRUE(fs::exists(cmp / "compare.gnuplot"));
  EXPECT_FALSE(fs::exists(cmp / "curves.csv"));  // --compare does not train
}

TEST(CurvesDemo, BadInputExitsWithStatusTwoAndOneLine) {
  TempDir tmp;
  const fs::path err = tmp.path() / "err", bad = tmp.path() / "bad.csv";
  slope::demo::write_file(bad, "x1,x2,label\n0.5,0.1,0\n0.2,0.3\n");
  const std::string out = " --out '" + (tmp.path() / "o").string() + "'";
  const std::string cases[] = {"--bogus",
                               "--act nonesuch",
                               "--optim rmsprop",
                               "--steps -1",
                               "--init nonesuch",
                               "--data nonesuch",
                               "--data '" + bad.string() + "'",
                               "--data '" + (tmp.path() / "missing.csv").string() + "'",
                               "--compare '" + bad.string() + "'",
                               "--lr -1"};
  for (const std::string& args : cases) {
    EXPECT_EQ(run_curves(args + out, err), 2) << args;
    const std::string msg = read(err);
    EXPECT_EQ(std::count(msg.begin(), msg.end(), '\n'), 1) << args << ": " << msg;
    EXPECT_TRUE(msg.starts_with("slope-curves: ")) << msg;
  }
  EXPECT_EQ(run_curves("--data '" + bad.string() + "'" + out, err), 2);
  EXPECT_NE(read(err).find(bad.string() + ":3:"), std::string::npos) << read(err);
}

TEST(CurvesDemo, DivergenceExitsWithStatusThreeNamingTheStepAndStillWritesEverything) {
  TempDir tmp;
  const fs::path err = tmp.path() / "err", out = tmp.path() / "o";
  EXPECT_EQ(run_curves(kSmallFlags + " --optim sgd --lr 1e6 --out '" + out.string() + "'", err), 3);
  const std::string msg = read(err);
  EXPECT_NE(msg.find("diverged at step "), std::string::npos) << msg;
  EXPECT_NE(msg.find("layer"), std::string::npos) << msg;
  for (const char* f : {"curves.csv", "runs.csv", "summary.csv"})
    EXPECT_TRUE(fs::exists(out / f)) << f;
  EXPECT_NE(read(out / "runs.csv").find(",diverged,"), std::string::npos) << read(out / "runs.csv");
}
