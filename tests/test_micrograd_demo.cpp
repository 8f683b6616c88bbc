// slope-micrograd (demos/micrograd.cpp) and the demo-support pieces it stands on: the
// training reaches micrograd's result, the loss is the formula, runs are reproducible,
// files are replaced atomically and bad flags exit with status 2.
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "demo_test_support.hpp"

#include <slope/slope.hpp>

#include "micrograd/micrograd.hpp"
#include "support/output.hpp"

namespace fs = std::filesystem;
namespace mg = slope::demo::micrograd;
using slope::Value;

namespace {

using slope::test::read;
using slope::test::TempDir;

std::vector<std::string> files_in(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename());
  std::sort(names.begin(), names.end());
  return names;
}

// Runs slope-micrograd with `args`; returns its exit status, stderr into `err`.
int run_micrograd(const std::string& args, const fs::path& err) {
  return slope::test::run_program(SLOPE_MICROGRAD_EXE, args, "/dev/null", err);
}

}  // namespace

TEST(MicrogradDemo, DefaultRunReachesFullTrainAccuracy) {
  const mg::Config config;  // relu, default seed, 100 steps
  auto [data, model] = mg::make_setup(config);
  const std::vector<mg::StepResult> results = mg::train(model, data, config.steps);
  ASSERT_EQ(results.size(), config.steps + 1);
  EXPECT_EQ(results.back().accuracy, 1.0);
  EXPECT_LT(results.back().loss, 0.1 * results.front().loss);
}

// One linear unit score = 0.5 x1 - x2 + 0.25 on two points, worked by hand:
//   (1, 2),  y = +1: score -1.25, hinge max(0, 1 + 1.25) = 2.25, wrong side
//   (-1, 0), y = -1: score -0.25, hinge max(0, 1 - 0.25) = 0.75, right side
//   loss = (2.25 + 0.75) / 2 + 1e-4 (0.25 + 1 + 0.0625) = 1.50013125, accuracy 1/2
//   dloss/dw1 = (-1 * 1 + 1 * -1) / 2 + 2e-4 * 0.5 = -0.9999
TEST(MicrogradDemo, LossIsMeanHingePlusL2OnATinyCase) {
  slope::scalar::MLP unit(2, {1});
  unit.layers[0].neurons[0].w[0].data() = 0.5;
  unit.layers[0].neurons[0].w[1].data() = -1.0;
  unit.layers[0].neurons[0].b.data() = 0.25;
  const mg::Points data{{{1.0, 2.0}, {-1.0, 0.0}}, {1.0, -1.0}};

  const mg::Evaluation e = mg::evaluate(unit, data);
  EXPECT_NEAR(e.loss.data(), 1.50013125, 1e-12);
  EXPECT_EQ(e.accuracy, 0.5);
  unit.zero_grad();
  e.loss.backward();
  EXPECT_NEAR(unit.layers[0].neurons[0].w[0].grad(), -0.9999, 1e-12);
}

// The step-0 loss of the default run, recomputed with plain doubles from the weights.
TEST(MicrogradDemo, StepZeroLossMatchesAPlainForwardPass) {
  const mg::Config config;
  const auto [data, model] = mg::make_setup(config);
  double hinge = 0.0, l2 = 0.0;
  for (std::size_t i = 0; i < data.x.size(); ++i) {
    std::vector<double> h{data.x[i][0], data.x[i][1]};
    for (std::size_t l = 0; l < model.layers.size(); ++l) {
      std::vector<double> next;
      for (const slope::scalar::Neuron& n : model.layers[l].neurons) {
        double z = n.b.data();
        for (std::size_t k = 0; k < h.size(); ++k) z += n.w[k].data() * h[k];
        const bool last = l + 1 == model.layers.size();
        next.push_back(last ? z : std::max(z, 0.0));  // relu hidden layers, linear output
      }
      h = next;
    }
    hinge += std::max(0.0, 1.0 - data.y[i] * h[0]);
  }
  for (const Value& p : model.parameters()) l2 += p.data() * p.data();
  const double expected = hinge / static_cast<double>(data.x.size()) + 1e-4 * l2;
  EXPECT_NEAR(mg::evaluate(model, data).loss.data(), expected, 1e-12 * expected);
}

TEST(MicrogradDemo, LearningRateFallsFromOneToATenth) {
  EXPECT_EQ(mg::learning_rate(0, 100), 1.0);
  EXPECT_NEAR(mg::learning_rate(50, 100), 0.55, 1e-15);
  EXPECT_NEAR(mg::learning_rate(100, 200), 0.55, 1e-15);
}

TEST(MicrogradDemo, SameSeedGivesByteIdenticalCsv) {
  TempDir tmp;
  const fs::path a = tmp.path() / "a", b = tmp.path() / "b", c = tmp.path() / "c";
  const fs::path err = tmp.path() / "err";
  ASSERT_EQ(run_micrograd("--steps 5 --seed 7 --out '" + a.string() + "'", err), 0) << read(err);
  ASSERT_EQ(run_micrograd("--steps 5 --seed 7 --out '" + b.string() + "'", err), 0) << read(err);
  ASSERT_EQ(run_micrograd("--steps 5 --seed 8 --out '" + c.string() + "'", err), 0) << read(err);
  for (const char* f : {"curves.csv", "boundary.csv", "points.csv"}) {
    ASSERT_TRUE(fs::exists(a / f)) << f;
    EXPECT_EQ(read(a / f), read(b / f)) << f;
    EXPECT_NE(read(a / f), read(c / f)) << f;
  }
  const std::string curves = read(a / "curves.csv");
  EXPECT_TRUE(curves.starts_with("activation,depth,seed,step,split,loss,accuracy\n"));
  EXPECT_NE(curves.find("\nrelu,2,7,0,train,"), std::string::npos);
  EXPECT_EQ(std::count(curves.begin(), curves.end(), '\n'), 1 + 6);  // header, steps 0..5
}

TEST(MicrogradDemo, BadFlagsExitWithStatusTwoAndOneLine) {
  TempDir tmp;
  const fs::path err = tmp.path() / "err";
  const std::string out = " --out '" + (tmp.path() / "out").string() + "'";
  for (const std::string args :
       {"--bogus", "--act nonesuch", "--steps -1", "--steps many", "--seed -1", "stray"}) {
    EXPECT_EQ(run_micrograd(args + out, err), 2) << args;
    const std::string msg = read(err);
    EXPECT_EQ(std::count(msg.begin(), msg.end(), '\n'), 1) << args << ": " << msg;
    EXPECT_TRUE(msg.starts_with("slope-micrograd: ")) << msg;
  }
  EXPECT_EQ(run_micrograd("--act nonesuch" + out, err), 2);
  EXPECT_NE(read(err).find("valid names: identity, relu"), std::string::npos) << read(err);
  EXPECT_EQ(run_micrograd("--help", err), 0);
  EXPECT_EQ(read(err), "");
}

TEST(CsvWriter, ReplacesAnExistingFileOnlyOnCommit) {
  TempDir tmp;
  const fs::path target = tmp.path() / "curves.csv";
  slope::demo::write_file(target, "old contents\n");
  {
    slope::demo::CsvWriter csv(target, {"step", "loss"});
    csv.row(0, 0.5);
    csv.row(1, 0.25);
    EXPECT_EQ(read(target), "old contents\n");  // untouched while the new one is written
    csv.commit();
  }
  EXPECT_EQ(read(target), "step,loss\n0,0.5\n1,0.25\n");
  EXPECT_EQ(files_in(tmp.path()), std::vector<std::string>{"curves.csv"});
}

TEST(CsvWriter, LeavesNoPartialFileWhenWritingFails) {
  TempDir tmp;
  const fs::path target = tmp.path() / "curves.csv";
  slope::demo::write_file(target, "old contents\n");
  try {  // a run that fails half-way, before commit
    slope::demo::CsvWriter csv(target, {"step", "loss"});
    csv.row(0, 0.5);
    throw std::runtime_error("interrupted");
  } catch (const std::runtime_error&) {
  }
  EXPECT_EQ(read(target), "old contents\n");
  EXPECT_EQ(files_in(tmp.path()), std::vector<std::string>{"curves.csv"});

  // A new file that fails is never created.
  try {
    slope::demo::CsvWriter csv(tmp.path() / "new.csv", {"a"});
    csv.row(1);
    throw std::runtime_error("interrupted");
  } catch (const std::runtime_error&) {
  }
  EXPECT_FALSE(fs::exists(tmp.path() / "new.csv"));

  // commit() that cannot rename (a directory is in the way) throws and cleans up.
  fs::create_directories(tmp.path() / "blocked.csv" / "inside");
  {
    slope::demo::CsvWriter csv(tmp.path() / "blocked.csv", {"a"});
    EXPECT_THROW(csv.commit(), std::runtime_error);
  }
  EXPECT_TRUE(fs::is_directory(tmp.path() / "blocked.csv"));

  // A directory that does not exist: an error naming the file, nothing written.
  EXPECT_THROW(slope::demo::CsvWriter(tmp.path() / "missing" / "x.csv", {"a"}), std::runtime_error);
  EXPECT_EQ(files_in(tmp.path()), (std::vector<std::string>{"blocked.csv", "curves.csv"}));
}

TEST(CsvWriter, RowsMustMatchTheHeader) {
  TempDir tmp;
  slope::demo::CsvWriter csv(tmp.path() / "x.csv", {"a", "b"});
  EXPECT_THROW(csv.row(1), std::logic_error);
}

TEST(CsvWriter, FormatsNumbersAndQuotesTextPortably) {
  using slope::demo::format_number;
  EXPECT_EQ(format_number(0.1), "0.1");
  EXPECT_EQ(format_number(-2.5), "-2.5");
  EXPECT_EQ(format_number(1e-5), "1e-05");
  EXPECT_EQ(format_number(1.0 / 3.0), "0.3333333333");
  EXPECT_EQ(format_number(12345678), "12345678");
  TempDir tmp;
  {
    slope::demo::CsvWriter csv(tmp.path() / "q.csv", {"name", "value"});
    csv.row("a,b", 1.5);
    csv.row(std::string("say \"hi\""), 2);
    csv.commit();
  }
  EXPECT_EQ(read(tmp.path() / "q.csv"), "name,value\n\"a,b\",1.5\n\"say \"\"hi\"\"\",2\n");
}
