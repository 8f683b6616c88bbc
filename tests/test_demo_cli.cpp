// Every demo's command line as a user meets it: the one exit-status table (0 success,
// 1 a bug, 2 bad input, 3 a run turned non-finite, 130/143 interrupted) in --help and in
// what each demo returns, real-valued flags' bounds printed as people write them, and
// runs interrupted by SIGINT and SIGTERM at several points leaving every output file
// either the previous complete one or the new complete one.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "curves/curves.hpp"
#include "demo_test_support.hpp"
#include "support/cli.hpp"
#include "support/palette.hpp"
#include "support/plot.hpp"

extern char** environ;

#include "strings.hpp"

namespace fs = std::filesystem;

namespace {

using slope::test::read;
using slope::test::TempDir;

struct Demo {
  const char* name;
  const char* exe;
  std::string small;  // flags for a run of about a second or less
};

void PrintTo(const Demo& d, std::ostream* os) { *os << d.name; }

const std::vector<Demo>& demos() {
  static const std::vector<Demo> all = {
      {"explorer", SLOPE_EXPLORER_EXE, ""},
      {"micrograd", SLOPE_MICROGRAD_EXE, "--steps 20"},
      {"curves", SLOPE_CURVES_EXE, "--steps 100 --seeds 2 --act relu,tanh"},
      {"vanishing", SLOPE_VANISHING_EXE, "--depth 4 --steps 50"},
      {"dead_relu", SLOPE_DEAD_RELU_EXE, "--steps 50 --trials 20 --lr 0.1,1 --seeds 2"},
      {"ffn", SLOPE_FFN_EXE, "--steps 50 --depth 2 --seeds 1"},
      {"gpt", SLOPE_GPT_EXE,
       "--act relu --steps 40 --layers 1 --embd 16 --heads 2 --block 8 --batch 4 "
       "--probe-every 10 --eval-batches 2 --sample-chars 20"},
  };
  return all;
}

int run(const char* exe, const std::string& args, const fs::path& out, const fs::path& err) {
  return slope::test::run_program(exe, args, out, err);
}

using slope::test::contains;

TEST(DemoCli, EveryDemoPrintsTheExitStatusTableInItsHelp) {
  TempDir tmp;
  const fs::path out = tmp.path() / "out", err = tmp.path() / "err";
  std::vector<const char*> exes = {SLOPE_REPORT_EXE};
  for (const Demo& d : demos()) exes.push_back(d.exe);
  for (const char* exe : exes) {
    ASSERT_EQ(run(exe, "--help", out, err), 0) << exe;
    const std::string help = read(out);
    EXPECT_TRUE(contains(help, slope::demo::exit_statuses())) << exe << ":\n" << help;
    EXPECT_TRUE(contains(help, "2 bad input, 3 a training run turned non-finite")) << help;
    EXPECT_TRUE(contains(help, "130 SIGINT, 143 SIGTERM")) << help;
    EXPECT_EQ(read(err), "") << exe;
  }
}

// The whole tour, as `make demo` runs it, and the report it ends with: the quick settings
// still show what the lesson claims. The GELU-in-GPT section (the last the tour adds) is
// checked claim by claim; the others' numbers are each demo's own tests'.
TEST(DemoCli, TheTourWritesTheReportWithTheGptClaims) {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  GTEST_SKIP() << "the tour is the release build's (about 20 s)";
#endif
  const TempDir dir;
  const fs::path bindir = fs::path(SLOPE_REPORT_EXE).parent_path();
  ASSERT_EQ(std::system(("bash '" + std::string(SLOPE_SOURCE_DIR) + "/demos/run_demos.sh' '" +
                         bindir.string() + "' '" + dir.path().string() + "' > '" +
                         (dir.path() / "log").string() + "' 2>&1")
                            .c_str()),
            0)
      << read(dir.path() / "log");
  const std::string report = read(dir.path() / "REPORT.md");
  const std::string gpt = report.substr(report.find("## GELU sits between c_fc and c_proj"));
  for (const char* a : {"gelu", "relu", "tanh"})
    EXPECT_TRUE(contains(gpt, std::string("| ") + a + " | ")) << a << "\n" << gpt;
  EXPECT_TRUE(contains(gpt, "Every activation beats the bigram baseline: yes.")) << gpt;
  EXPECT_TRUE(contains(gpt, "relu - gelu = ")) << gpt;
  EXPECT_TRUE(contains(gpt, "tanh inside the FFN ends ")) << gpt;
  EXPECT_TRUE(contains(gpt, "underflows to 0, at x <= -1")) << gpt;
  EXPECT_TRUE(fs::exists(dir.path() / "gpt" / "REPORT.md"));
}

TEST(DemoCli, ReportOffersNoSeedAndNamesAMissingSummaryWithStatusTwo) {
  TempDir tmp;
  const fs::path out = tmp.path() / "out", err = tmp.path() / "err";
  ASSERT_EQ(run(SLOPE_REPORT_EXE, "--help", out, err), 0);
  EXPECT_FALSE(contains(read(out), "--seed")) << read(out);
  EXPECT_EQ(run(SLOPE_REPORT_EXE, "--seed 3", out, err), 2);

  const fs::path in = tmp.path() / "empty";
  fs::create_directories(in);
  EXPECT_EQ(run(SLOPE_REPORT_EXE,
                "--in '" + in.string() + "' --out '" + (tmp.path() / "r").string() + "'", out, err),
            2);
  const std::string msg = read(err);
  EXPECT_EQ(msg, "slope-report: " + (in / "explorer" / "summary.csv").string() +
                     ": cannot open (run the demo first)\n");
}

TEST(DemoCli, ARunThatTurnsNonFiniteExitsWithStatusThreeInEveryTrainingDemo) {
  TempDir tmp;
  const fs::path out = tmp.path() / "stdout", err = tmp.path() / "err";
  struct Case {
    const char* exe;
    std::string args;
    const char* written;  // an output the demo still writes
  };
  const Case cases[] = {
      {SLOPE_MICROGRAD_EXE, "--act identity --steps 30", "curves.csv"},
      {SLOPE_CURVES_EXE, "--lr 1e6 --act relu --steps 20 --seeds 1", "runs.csv"},
      {SLOPE_VANISHING_EXE,
       "--lr 100 --depth 4 --steps 10 --act relu --init kaiming_normal --samples 100",
       "summary.csv"},
      {SLOPE_DEAD_RELU_EXE,
       "--bad-init 'normal(100)' --steps 10 --trials 10 --seeds 1 --lr 0.1 --samples 100",
       "runs.csv"},
      {SLOPE_FFN_EXE, "--optim sgd --lr 1e6 --steps 10 --depth 2 --seeds 1", "runs.csv"},
  };
  for (const Case& c : cases) {
    const fs::path dir = tmp.path() / fs::path(c.exe).filename();
    EXPECT_EQ(run(c.exe, c.args + " --out '" + dir.string() + "'", out, err), 3)
        << c.exe << " " << c.args << ": " << read(err);
    EXPECT_TRUE(contains(read(err), "diverged at step ")) << c.exe << ": " << read(err);
    EXPECT_TRUE(fs::exists(dir / c.written)) << c.exe << " " << c.written;
    // Numbers print in a few digits, whatever their size (a loss of 1e272 is not 272 digits).
    const std::string text = read(out) + read(err);
    EXPECT_FALSE(contains(text, "0000000000000")) << c.exe << ": " << text;
  }
  // micrograd keeps the curve up to the step before the divergence.
  ASSERT_EQ(run(SLOPE_MICROGRAD_EXE,
                "--act identity --steps 30 --out '" + (tmp.path() / "mg").string() + "'", out, err),
            3);
  const std::string msg = read(err);
  const auto at = msg.find("diverged at step ");
  ASSERT_NE(at, std::string::npos) << msg;
  const long step = std::stol(msg.substr(at + 17));
  EXPECT_GT(step, 5) << msg;
  const std::string curves = read(tmp.path() / "mg" / "curves.csv");
  EXPECT_EQ(std::count(curves.begin(), curves.end(), '\n'), 1 + step) << curves;
  EXPECT_TRUE(contains(curves, "\nidentity,2,1337," + std::to_string(step - 1) + ",train,"))
      << curves;
}

TEST(DemoCli, RealBoundsAndBadInitsAreNamedInAFewWords) {
  TempDir tmp;
  const fs::path out = tmp.path() / "stdout", err = tmp.path() / "err";
  const std::string o = " --out '" + (tmp.path() / "o").string() + "'";
  EXPECT_EQ(run(SLOPE_CURVES_EXE, "--lr 0" + o, out, err), 2);
  EXPECT_EQ(read(err), "slope-curves: --lr: 0 is not in [1e-09, 1e+09] (see --help)\n");
  EXPECT_EQ(run(SLOPE_DEAD_RELU_EXE, "--bias 1e6" + o, out, err), 2);
  EXPECT_EQ(read(err), "slope-dead-relu: --bias: 1e6 is not in [-100, 100] (see --help)\n");
  EXPECT_EQ(run(SLOPE_CURVES_EXE, "--init 'normal(0)'" + o, out, err), 2);
  EXPECT_TRUE(contains(read(err), "std must be a positive finite number, got 0")) << read(err);
  // --help's range is the accepted range.
  ASSERT_EQ(run(SLOPE_CURVES_EXE, "--help", out, err), 0);
  EXPECT_TRUE(contains(read(out), "[0.01 - 0.99]")) << read(out);
  EXPECT_EQ(run(SLOPE_CURVES_EXE, "--test-fraction 0" + o, out, err), 2);
}

TEST(DemoCli, StepsZeroMeasuresTheUntrainedNetworkInEveryTrainingDemo) {
  TempDir tmp;
  const fs::path out = tmp.path() / "stdout", err = tmp.path() / "err";
  for (const Demo& d : demos()) {
    if (std::string(d.name) == "explorer") continue;  // trains nothing
    std::string args = d.small;
    const auto at = args.find("--steps ");
    args.replace(at,
                 args.find(' ', at + 8) == std::string::npos ? std::string::npos
                                                             : args.find(' ', at + 8) - at,
                 "--steps 0");
    EXPECT_EQ(run(d.exe, args + " --out '" + (tmp.path() / d.name).string() + "'", out, err), 0)
        << d.name << " " << args << ": " << read(err);
    EXPECT_EQ(read(err), "") << d.name;  // and no plot tool's warnings on the terminal
  }
}

TEST(DemoCli, TerminalPlotsLabelTheXAxisInTheTitlesUnits) {
  const std::vector<double> y{1, 2, 3, 2, 1};
  auto last_line = [](const std::string& plot) {
    const std::string body = plot.substr(0, plot.size() - 1);  // without the final newline
    return body.substr(body.rfind('\n') + 1);
  };
  const std::string by_index = slope::demo::ascii_plot(y, "y by index", 5, 4);
  EXPECT_EQ(last_line(by_index), "   0   4") << by_index;
  const std::string by_x = slope::demo::ascii_plot(y, "f(x) for x from -6 to 6", 5, 4, -6, 6);
  EXPECT_EQ(last_line(by_x), "   -6  6") << by_x;
  EXPECT_EQ(slope::demo::count_of(1, "step"), "1 step");
  EXPECT_EQ(slope::demo::count_of(300, "step"), "300 steps");
}

// What a new user hit, each as they would meet it.
TEST(DemoCli, NumbersAndNamesReadAsTheyShould) {
  TempDir tmp;
  const fs::path out = tmp.path() / "stdout", err = tmp.path() / "err";
  auto o = [&](const char* name) { return " --out '" + (tmp.path() / name).string() + "'"; };
  // The hinge table resolves x near a kink far from 0 (every row printed 333333 before).
  ASSERT_EQ(run(SLOPE_EXPLORER_EXE, "--act relu --weight -3 --bias 1e6" + o("a"), out, err), 0);
  EXPECT_TRUE(contains(read(out), "333333.32")) << read(out);
  EXPECT_TRUE(contains(read(out), "333333.34")) << read(out);
  // One seed: no "± 0.0000" spread.
  ASSERT_EQ(
      run(SLOPE_CURVES_EXE, "--seeds 1 --steps 5 --eval-every 5 --act relu" + o("c"), out, err), 0);
  EXPECT_FALSE(contains(read(out), "±")) << read(out);
  EXPECT_TRUE(contains(read(out), "(one seed; accuracy is checked every 5 steps)")) << read(out);
  // relu,relu trains relu once.
  ASSERT_EQ(run(SLOPE_CURVES_EXE, "--seeds 1 --steps 5 --act relu,relu" + o("d"), out, err), 0);
  const std::string runs = read(tmp.path() / "d" / "runs.csv");
  EXPECT_EQ(std::count(runs.begin(), runs.end(), '\n'), 2) << runs;  // header and one run
  // A non-negative --bias is not a "neg_bias".
  ASSERT_EQ(
      run(SLOPE_DEAD_RELU_EXE,
          "--bias 100 --steps 2 --trials 5 --seeds 1 --lr 0.1 --samples 60" + o("e"), out, err),
      0);
  EXPECT_TRUE(contains(read(tmp.path() / "e" / "runs.csv"), "bias_100,relu,"));
  EXPECT_FALSE(contains(read(tmp.path() / "e" / "runs.csv"), "neg_bias"));
  // --compare names runs by their directory in the legend; the CSV keeps the full path.
  ASSERT_EQ(run(SLOPE_CURVES_EXE,
                "--compare '" + (tmp.path() / "c" / "curves.csv").string() + "' '" +
                    (tmp.path() / "d" / "curves.csv").string() + "'" + o("cmp"),
                out, err),
            0)
      << read(err);
  const std::string script = read(tmp.path() / "cmp" / "compare.gnuplot");
  EXPECT_TRUE(contains(script, "title \"c: relu\"")) << script;
  EXPECT_FALSE(contains(script, "title \"" + tmp.path().string())) << script;
  EXPECT_TRUE(contains(read(tmp.path() / "cmp" / "compare.csv"), (tmp.path() / "c").string()));
}

TEST(DemoCli, AnActivationNamedTwiceTrainsOnce) {
  EXPECT_EQ(slope::demo::parse_activation_list("relu,tanh,relu"),
            (std::vector<std::string>{"relu", "tanh"}));
}

// The lesson teaches relu, sigmoid, tanh and gelu, in that order; the demos' defaults, the
// report and the pages (engine.lessonActivations) take the list from one place.
TEST(DemoCli, TheLessonsFourActivationsAreRegisteredAndInTheLessonsOrder) {
  const std::vector<std::string>& four = slope::demo::lesson_activations();
  EXPECT_EQ(four, (std::vector<std::string>{"relu", "sigmoid", "tanh", "gelu"}));
  for (const std::string& name : four) EXPECT_NO_THROW(slope::act::find(name)) << name;
  EXPECT_EQ(slope::demo::curves::Config{}.activations, four);
}

// --- interrupted runs ------------------------------------------------------------------

// Every file in `dir` (hidden ones too) and its contents.
std::map<std::string, std::string> snapshot(const fs::path& dir) {
  std::map<std::string, std::string> files;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (e.is_regular_file()) files[fs::relative(e.path(), dir).string()] = read(e.path());
  return files;
}

std::vector<std::string> split_args(const std::string& s) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i < s.size()) {
    const std::size_t j = std::min(s.find(' ', i), s.size());
    if (j > i) out.push_back(s.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

pid_t spawn(const char* exe, const std::vector<std::string>& args) {
  std::vector<char*> argv = {const_cast<char*>(exe)};
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, exe, &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  return rc == 0 ? pid : -1;
}

int wait_for(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  return -WTERMSIG(status);  // killed by the signal itself: the handler did not run
}

class Interrupted : public ::testing::TestWithParam<Demo> {};

TEST_P(Interrupted, EveryFileIsThePreviousOrTheNewCompleteOneAndTheStatusSaysSo) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "timing-based; the release preset runs it";
#endif
  const Demo& d = GetParam();
  TempDir tmp;
  const fs::path prev = tmp.path() / "prev", next = tmp.path() / "next";
  const std::vector<std::string> flags = split_args(d.small);
  auto with = [&](const std::string& seed, const fs::path& out) {
    std::vector<std::string> a = flags;
    for (const std::string& s : {std::string("--seed"), seed, std::string("--out"), out.string()})
      a.push_back(s);
    return a;
  };
  // The previous outputs (seed 1) and the complete new ones (seed 2), timed.
  ASSERT_EQ(wait_for(spawn(d.exe, with("1", prev))), 0);
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_EQ(wait_for(spawn(d.exe, with("2", next))), 0);
  const auto full = std::chrono::steady_clock::now() - t0;
  const auto before = snapshot(prev), after = snapshot(next);
  ASSERT_FALSE(before.empty());

  int interrupted = 0, mixed = 0;
  for (const int sig : {SIGINT, SIGTERM}) {
    for (const double at : {0.2, 0.5, 0.8}) {
      const fs::path work = tmp.path() / ("work-" + std::to_string(sig) + "-" + std::to_string(at));
      fs::copy(prev, work, fs::copy_options::recursive);
      const pid_t pid = spawn(d.exe, with("2", work));
      ASSERT_GT(pid, 0);
      std::this_thread::sleep_for(std::chrono::duration_cast<std::chrono::microseconds>(full * at));
      ::kill(pid, sig);
      const int status = wait_for(pid);
      const std::string where = std::string(d.name) + " signal " + std::to_string(sig) + " at " +
                                std::to_string(at) + " of the run";
      if (status == 0) continue;  // it finished first: nothing to check beyond the files
      EXPECT_EQ(status, 128 + sig) << where;
      ++interrupted;
      int old_files = 0, new_files = 0;
      for (const auto& [name, text] : snapshot(work)) {
        const auto b = before.find(name), a = after.find(name);
        EXPECT_TRUE(b != before.end() || a != after.end())
            << where << ": a file of neither run (a temporary?): " << name;
        const bool is_old = b != before.end() && text == b->second;
        const bool is_new = a != after.end() && text == a->second;
        EXPECT_TRUE(is_old || is_new) << where << ": " << name << " is neither complete version";
        old_files += is_old && !is_new;
        new_files += is_new && !is_old;
      }
      mixed += old_files > 0 && new_files > 0;
    }
  }
  EXPECT_GT(interrupted, 0) << d.name << ": every run finished before its signal";
  std::printf("%s: %d of 6 runs interrupted, %d of them between files\n", d.name, interrupted,
              mixed);
}

INSTANTIATE_TEST_SUITE_P(EveryDemo, Interrupted, ::testing::ValuesIn(demos()),
                         [](const auto& param_info) { return std::string(param_info.param.name); });

}  // namespace
