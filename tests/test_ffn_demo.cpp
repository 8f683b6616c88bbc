// slope-ffn: its models, its probes and the lesson's claims on small settings, and the
// executable's files, schema and exit statuses.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <string>

#include "demo_test_support.hpp"

#include <slope/slope.hpp>

#include "ffn/ffn.hpp"

namespace fs = std::filesystem;
namespace ffn = slope::demo::ffn;

namespace {

using slope::test::read;
using slope::test::TempDir;

int run_ffn(const std::string& args, const fs::path& err) {
  return slope::test::run_program(SLOPE_FFN_EXE, args, "/dev/null", err);
}

ffn::Config small_ffn(std::string model, std::string act, int depth) {
  ffn::Config c;
  c.model = std::move(model), c.activation = std::move(act), c.depth = depth;
  c.width = 16, c.samples = 120, c.steps = 0;
  return c;
}

TEST(FfnDemo, ResidualModelIsTheDesignsBlockStack) {
  slope::Rng rng(1);
  const slope::nn::Sequential m =
      ffn::make_residual(2, 8, 4, 3, 3, "gelu", slope::nn::Init::pytorch(), rng);
  ASSERT_EQ(m.size(), 1u + 3u + 2u);  // in, 3 blocks, ln_f, head
  const auto& block = m.at<slope::nn::Residual>(1);
  const auto* inner = block.module.get<slope::nn::Sequential>();
  ASSERT_NE(inner, nullptr);
  EXPECT_EQ(inner->at<slope::nn::LayerNorm>(0).features(), 8);
  EXPECT_EQ(inner->at<slope::nn::FeedForward>(1).fc.weight.rows(), 32);
  // in: 2, blocks: 3 x (LN 2 + fc 2 + proj 2), ln_f: 2, head: 2.
  EXPECT_EQ(m.parameters().size(), 2u + 3u * 6u + 2u + 2u);
}

// The lesson's claim, on a smaller setting than the demo's: at depth 16 the plain sigmoid
// MLP's first layer gets over 1e4 times less gradient than its last, while with residual
// blocks the first block's is within a factor of 10 of the last's for every activation.
TEST(FfnDemo, ResidualBlocksKeepTheGradientThatSigmoidMlpsLose) {
  const ffn::Split split = ffn::make_data(small_ffn("mlp", "sigmoid", 16));
  const auto mlp = ffn::run(small_ffn("mlp", "sigmoid", 16), split);
  const double mlp_ratio = ffn::first_over_last(ffn::levels("mlp", mlp.probes.front()));
  EXPECT_LT(mlp_ratio, 1e-4);
  for (const char* act : {"relu", "sigmoid", "tanh", "gelu", "gelu_tanh"}) {
    const auto h = ffn::run(small_ffn("residual_ffn", act, 16), split);
    const auto levels = ffn::levels("residual_ffn", h.probes.front());
    ASSERT_EQ(levels.size(), 16u) << act;
    const double r = ffn::first_over_last(levels);
    EXPECT_GT(r, 0.1) << act;
    EXPECT_LT(r, 10.0) << act;
  }
}

TEST(FfnDemo, BlockLevelsComeFromFcAndProj) {
  const ffn::Split split = ffn::make_data(small_ffn("residual_ffn", "relu", 2));
  ffn::Config c = small_ffn("residual_ffn", "relu", 2);
  c.steps = 2, c.probe_every = 1;
  const auto h = ffn::run(c, split);
  ASSERT_EQ(h.probes.size(), 3u);
  const auto& p = h.probes.front();
  ASSERT_EQ(p.blocks.size(), 2u);
  ASSERT_EQ(p.layers.size(), 2u + 2u * 2u);  // in, 2 x (fc, proj), head
  const auto levels = ffn::levels("residual_ffn", p);
  EXPECT_DOUBLE_EQ(levels[0].stats.grad_norm,
                   std::hypot(p.layers[1].grad_norm, p.layers[2].grad_norm));
  EXPECT_EQ(levels[1].stats.dead_frac, p.layers[3].dead_frac);  // block 2's fc
  EXPECT_EQ(levels[0].stats.update_ratio, p.layers[1].update_ratio);
}

TEST(FfnDemo, WritesItsFilesWithTheSchemaAndTheSameSeedGivesTheSameBytes) {
  TempDir tmp;
  const fs::path a = tmp.path() / "a", b = tmp.path() / "b", err = tmp.path() / "err";
  const std::string flags =
      "--act relu,sigmoid --depth 3 --width 8 --samples 80 --steps 6 --probe-every 3 --seeds 2 ";
  ASSERT_EQ(run_ffn(flags + "--out '" + a.string() + "'", err), 0) << read(err);
  ASSERT_EQ(run_ffn(flags + "--out '" + b.string() + "'", err), 0) << read(err);
  for (const char* f : {"layers.csv", "curves.csv", "runs.csv", "summary.csv"}) {
    ASSERT_TRUE(fs::exists(a / f)) << f;
    EXPECT_EQ(read(a / f), read(b / f)) << f;
  }
  const std::string layers = read(a / "layers.csv");
  EXPECT_EQ(layers.substr(0, layers.find('\n')),
            "model,activation,depth,seed,step,layer,grad_norm,act_mean,act_std,saturated_frac,"
            "dead_frac,mean_slope,update_ratio");
  EXPECT_NE(layers.find("\nresidual_ffn,sigmoid,3,3,0,3,"), std::string::npos);  // block 3
  EXPECT_NE(layers.find("\nmlp,relu,3,4,6,4,"), std::string::npos);              // the output layer
  const std::string curves = read(a / "curves.csv");
  EXPECT_EQ(curves.substr(0, curves.find('\n')),
            "model,activation,depth,seed,step,split,loss,accuracy");
  EXPECT_NE(read(a / "summary.csv").find(ffn::key::ratio(ffn::kResidual, "relu", 3)),
            std::string::npos);
}

TEST(FfnDemo, BadFlagsExitTwoAndDivergenceExitsThree) {
  TempDir tmp;
  const fs::path err = tmp.path() / "err";
  EXPECT_EQ(run_ffn("--depth 0 --out '" + (tmp.path() / "o").string() + "'", err), 2);
  EXPECT_NE(read(err).find("--depth"), std::string::npos) << read(err);
  EXPECT_EQ(run_ffn("--act nonesuch", err), 2);
  EXPECT_EQ(run_ffn("--act relu --depth 2 --width 8 --samples 60 --steps 10 --seeds 1 "
                    "--optim sgd --lr 1e6 --out '" +
                        (tmp.path() / "d").string() + "'",
                    err),
            3);
  EXPECT_NE(read(err).find("diverged at step"), std::string::npos) << read(err);
  EXPECT_TRUE(fs::exists(tmp.path() / "d" / "runs.csv"));
}

}  // namespace
