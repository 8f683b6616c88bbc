// slope's GPT against PyTorch: a nanoGPT-shaped model (tests/reference/gpt.py builds the
// same one in PyTorch 1.13, in double precision, with the same deterministic weights) gives
// PyTorch's logits, loss and every parameter's gradient, and five steps of nanoGPT's recipe
// (AdamW with weight-decay groups, gradient clipping, warmup + cosine learning rate) give
// PyTorch's losses, norms and parameters. Also: the attention's closed forms and errors,
// the embedding's, generate, the tied head listed once, and a GPT-like model built from a
// block of one's own.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <slope/slope.hpp>

namespace gpt_test {
namespace {

using slope::TensorD;
using M = TensorD::Matrix;

// tests/reference/gpt.txt: "name count v1 v2 ..." a line.
std::map<std::string, std::vector<double>> reference() {
  std::ifstream in(std::string(SLOPE_SOURCE_DIR) + "/tests/reference/gpt.txt");
  std::map<std::string, std::vector<double>> out;
  std::string name;
  std::size_t n = 0;
  while (in >> name >> n) {
    std::vector<double>& v = out[name];
    v.resize(n);
    for (double& x : v) in >> x;
  }
  return out;
}

const slope::nn::GPTConfig kConfig{
    .vocab_size = 7, .block_size = 6, .n_layer = 2, .n_head = 2, .n_embd = 8, .activation = "gelu"};

// The reference's weights: the k-th named parameter s * sin(k + 0.7 i + 1.3 j).
void fill_reference_weights(const slope::nn::GPTD& model) {
  int k = 0;
  for (const auto& [name, p] : model.named_parameters()) {
    ++k;
    const bool ln_weight = name.find(".ln_") != std::string::npos && name.ends_with(".weight");
    const bool bias = name.ends_with(".bias");
    M& w = p.value();
    for (Eigen::Index i = 0; i < w.rows(); ++i)
      for (Eigen::Index j = 0; j < w.cols(); ++j) {
        const double f = std::sin(k + 0.7 * static_cast<double>(i) + 1.3 * static_cast<double>(j));
        w(i, j) = ln_weight ? 1 + 0.1 * f : bias ? 0.1 * f : 0.3 * f;
      }
  }
}

std::vector<int> ints(const std::vector<double>& v) { return {v.begin(), v.end()}; }

// Row by row, as the reference prints matrices.
void expect_matrix_near(const M& got, const std::vector<double>& want, double tol,
                        const std::string& what) {
  ASSERT_EQ(static_cast<std::size_t>(got.size()), want.size()) << what;
  double worst = 0;
  for (Eigen::Index i = 0; i < got.rows(); ++i)
    for (Eigen::Index j = 0; j < got.cols(); ++j)
      worst =
          std::max(worst, std::abs(got(i, j) - want[static_cast<std::size_t>(i * got.cols() + j)]));
  EXPECT_LT(worst, tol) << what;
}

TEST(Gpt, NamesAreNanoGptsStateDict) {
  slope::Rng rng(1);
  const slope::nn::GPTD model(kConfig, rng);
  const auto ref = reference();
  std::vector<std::string> names;
  for (const auto& [name, p] : model.named_parameters()) {
    names.push_back(name);
    ASSERT_TRUE(ref.count("grad." + name)) << name << " is not one of nanoGPT's names";
    EXPECT_EQ(static_cast<std::size_t>(p.value().size()), ref.at("grad." + name).size()) << name;
  }
  EXPECT_EQ(names.size(), 2 + 12 * 2 + 2u);
  EXPECT_EQ(names.front(), "transformer.wte.weight");
  EXPECT_EQ(names[4], "transformer.h.0.attn.c_attn.weight");
  EXPECT_EQ(names.back(), "transformer.ln_f.bias");
}

TEST(Gpt, LogitsLossAndGradientsArePyTorchs) {
  slope::Rng rng(1);
  const slope::nn::GPTD model(kConfig, rng);
  fill_reference_weights(model);
  const auto ref = reference();
  const std::vector<int> ids = ints(ref.at("ids")), targets = ints(ref.at("targets"));
  const TensorD logits = model.forward(ids, 2);
  expect_matrix_near(logits.value(), ref.at("logits"), 1e-12, "logits");
  const TensorD loss = slope::cross_entropy(logits, targets);
  EXPECT_NEAR(loss.item(), ref.at("loss")[0], 1e-13);
  loss.backward();
  for (const auto& [name, p] : model.named_parameters())
    expect_matrix_near(p.grad(), ref.at("grad." + name), 1e-12, "d loss / d " + name);
}

TEST(Gpt, NanoGptsRecipeTrainsAsPyTorch) {
  slope::Rng rng(1);
  const slope::nn::GPTD model(kConfig, rng);
  fill_reference_weights(model);
  const auto ref = reference();
  const std::vector<int> ids = ints(ref.at("ids")), targets = ints(ref.at("targets"));
  slope::optim::AdamW<double> opt(model.optim_groups(0.1), 1e-2, {0.9, 0.99});
  const slope::optim::CosineSchedule schedule{
      .lr = 1e-2, .min_lr = 1e-3, .warmup_iters = 2, .lr_decay_iters = 4};
  for (int it = 0; it < 6; ++it) {
    opt.lr = schedule(it);
    EXPECT_NEAR(opt.lr, ref.at("train.lr")[static_cast<std::size_t>(it)], 1e-15) << it;
    opt.zero_grad();
    const TensorD loss = slope::cross_entropy(model.forward(ids, 2), targets);
    loss.backward();
    const double norm = slope::nn::clip_grad_norm(model.parameters(), 0.05);
    opt.step();
    EXPECT_NEAR(loss.item(), ref.at("train.loss")[static_cast<std::size_t>(it)], 1e-12) << it;
    EXPECT_NEAR(norm, ref.at("train.grad_norm")[static_cast<std::size_t>(it)], 1e-12) << it;
  }
  for (const auto& [name, p] : model.named_parameters())
    expect_matrix_near(p.value(), ref.at("trained." + name), 1e-11, name + " after training");
}

TEST(Gpt, FloatModelAgreesWithTheDoubleOne) {
  slope::Rng rng(1);
  const slope::nn::GPTD d(kConfig, rng);
  fill_reference_weights(d);
  const slope::nn::GPT f(kConfig, rng);
  const auto fp = f.parameters();
  const auto dp = d.parameters();
  for (std::size_t i = 0; i < fp.size(); ++i) fp[i].value() = dp[i].value().cast<float>();
  const auto ref = reference();
  const std::vector<int> ids = ints(ref.at("ids"));
  expect_matrix_near(f.forward(ids, 2).value().cast<double>(), ref.at("logits"), 2e-6,
                     "float logits");
}

TEST(Gpt, TheTiedHeadIsListedOnceAndSteppedOnce) {
  slope::Rng rng(2);
  const slope::nn::GPT model(kConfig, rng);
  std::set<const void*> storage;
  for (const slope::Tensor& p : model.parameters()) storage.insert(p.node().get());
  EXPECT_EQ(storage.size(), model.parameters().size());
  const auto named = model.named_parameters();
  ASSERT_EQ(named.size(), model.parameters().size());
  for (std::size_t i = 0; i < named.size(); ++i)  // the same tensors in the same order
    EXPECT_EQ(model.parameters()[i].node(), named[i].second.node()) << named[i].first;
  const auto groups = model.optim_groups(0.1);
  ASSERT_EQ(groups.size(), 2u);
  EXPECT_EQ(groups[0].params.size() + groups[1].params.size(), model.parameters().size());
  // nanoGPT's rule: 2 embeddings + 4 Linear weights a block decay; the rest (biases, LN) not.
  EXPECT_EQ(groups[0].params.size(), 2 + 4 * 2u);
  EXPECT_EQ(groups[0].weight_decay, 0.1);
  EXPECT_EQ(groups[1].weight_decay, 0.0);
}

TEST(Gpt, LongSequencesAndBadIdsAreErrors) {
  slope::Rng rng(3);
  const slope::nn::GPT model(kConfig, rng);
  const std::vector<int> seven(7, 1), bad{1, 2, 9, 0};
  EXPECT_THROW(model.forward(seven, 1), std::invalid_argument);  // T = 7 > block_size 6
  EXPECT_THROW(model.forward(seven, 2), slope::ShapeError);      // 7 ids are not 2 sequences
  try {
    model.forward(bad, 2);
    FAIL() << "an id outside the vocabulary was taken";
  } catch (const std::out_of_range& e) {
    EXPECT_NE(std::string(e.what()).find("id 9 at position 2"), std::string::npos) << e.what();
  }
  EXPECT_THROW(
      slope::nn::GPT({.vocab_size = 7, .block_size = 6, .n_layer = 1, .n_head = 3, .n_embd = 8}),
      std::invalid_argument);  // 8 features do not split into 3 heads
  EXPECT_THROW(slope::nn::GPT({.vocab_size = 7,
                               .block_size = 6,
                               .n_layer = 1,
                               .n_head = 2,
                               .n_embd = 8,
                               .activation = "relu6"}),
               std::invalid_argument);
}

TEST(Gpt, GenerateExtendsThePromptAndTopOneIsGreedy) {
  slope::Rng rng(4);
  const slope::nn::GPT model(kConfig, rng);
  slope::Rng a(9), b(9);
  const std::vector<int> one = model.generate({1, 2}, 10, 0.8, 3, a);
  EXPECT_EQ(one, model.generate({1, 2}, 10, 0.8, 3, b));  // the same seed, the same text
  ASSERT_EQ(one.size(), 12u);
  EXPECT_EQ(one[0], 1);
  EXPECT_EQ(one[1], 2);
  for (int id : one) EXPECT_TRUE(id >= 0 && id < 7);
  // top_k = 1: always the most likely next token (the context cropped to block_size).
  const std::vector<int> greedy = model.generate({3}, 8, 1.0, 1, a);
  for (std::size_t n = 1; n < greedy.size(); ++n) {
    const std::size_t from = n > 6 ? n - 6 : 0;
    const std::vector<int> context(greedy.begin() + static_cast<long>(from),
                                   greedy.begin() + static_cast<long>(n));
    const slope::Tensor logits = model.forward(context, 1);
    Eigen::Index best = 0;
    logits.value().row(logits.rows() - 1).maxCoeff(&best);
    EXPECT_EQ(greedy[n], best) << "token " << n;
  }
  EXPECT_THROW(model.generate({}, 1, 1.0, 0, a), std::invalid_argument);
  EXPECT_THROW(model.generate({1}, 1, 0.0, 0, a), std::invalid_argument);
}

// --- the ops -------------------------------------------------------------------------

TEST(Attention, OnePositionAttendsToItself) {
  // T = 1: softmax over one score is 1, so each position's output is its own value.
  const TensorD qkv(M::Random(3, 12));  // batch 3 of T = 1, C = 4 in 2 heads
  const TensorD y = slope::causal_self_attention(qkv, 3, 2);
  EXPECT_LT((y.value() - qkv.value().rightCols(4)).cwiseAbs().maxCoeff(), 1e-15);
}

TEST(Attention, NoPositionSeesTheFuture) {
  M x = M::Random(8, 6);  // batch 2 of T = 4, C = 2 in 1 head
  const M before = slope::causal_self_attention(TensorD(x), 2, 1).value();
  x.row(3).setConstant(5.0);  // the last position of the first sequence
  const M after = slope::causal_self_attention(TensorD(x), 2, 1).value();
  EXPECT_EQ(before.topRows(3), after.topRows(3));        // positions 0..2 of sequence 1
  EXPECT_EQ(before.bottomRows(4), after.bottomRows(4));  // all of sequence 2
  EXPECT_NE(before.row(3), after.row(3));
}

TEST(Attention, TwoPositionsByHand) {
  // One head of size 1: q, k, v per position. Position 1 attends to 0 and 1 with
  // softmax(q1 k0, q1 k1), scale 1 / sqrt(1).
  const TensorD qkv = TensorD::from({{0.5, 2.0, 3.0}, {1.5, -1.0, 7.0}});
  const M y = slope::causal_self_attention(qkv, 1, 1).value();
  const double w0 = std::exp(1.5 * 2.0), w1 = std::exp(1.5 * -1.0);
  EXPECT_DOUBLE_EQ(y(0, 0), 3.0);
  EXPECT_NEAR(y(1, 0), (w0 * 3.0 + w1 * 7.0) / (w0 + w1), 1e-15);
}

// Against the definition written as loops, in double: batch 2 of T = 37 (a multiple of no
// SIMD width, so every column has whole packets and a scalar tail), 3 heads of size 3. The
// float op agrees to float's precision, the double op to double's.
TEST(Attention, MatchesTheDefinitionWrittenAsLoops) {
  const Eigen::Index batch = 2, T = 37, heads = 3, hs = 3, C = heads * hs;
  const M x = M::Random(batch * T, 3 * C);
  M want = M::Zero(batch * T, C);
  for (Eigen::Index b = 0; b < batch; ++b)
    for (Eigen::Index h = 0; h < heads; ++h)
      for (Eigen::Index t = 0; t < T; ++t) {
        std::vector<double> score(static_cast<std::size_t>(t) + 1);
        double top = -1e300, total = 0;
        for (Eigen::Index s = 0; s <= t; ++s) {
          double dot = 0;
          for (Eigen::Index i = 0; i < hs; ++i)
            dot += x(b * T + t, h * hs + i) * x(b * T + s, C + h * hs + i);
          score[static_cast<std::size_t>(s)] = dot / std::sqrt(double(hs));
          top = std::max(top, score[static_cast<std::size_t>(s)]);
        }
        for (double& e : score) total += e = std::exp(e - top);
        for (Eigen::Index s = 0; s <= t; ++s)
          for (Eigen::Index i = 0; i < hs; ++i)
            want(b * T + t, h * hs + i) +=
                score[static_cast<std::size_t>(s)] / total * x(b * T + s, 2 * C + h * hs + i);
      }
  const M got = slope::causal_self_attention(TensorD(x), batch, heads).value();
  EXPECT_LT((got - want).cwiseAbs().maxCoeff(), 1e-14);
  const slope::Tensor xf(x.cast<float>());
  const M got_f = slope::causal_self_attention(xf, batch, heads).value().cast<double>();
  EXPECT_LT((got_f - want).cwiseAbs().maxCoeff(), 1e-6);
}

TEST(Attention, HugeScoresStayFinite) {
  const TensorD qkv(M::Random(6, 6) * 1e150, true);
  const TensorD y = slope::causal_self_attention(qkv, 2, 2);
  EXPECT_TRUE(y.value().allFinite());
  y.sum().backward();
  EXPECT_FALSE(qkv.grad().hasNaN());
}

TEST(Attention, WeightsAreRowsOfAProbabilityOverThePast) {
  const slope::Tensor qkv(slope::Tensor::Matrix::Random(10, 12));  // batch 2 of T = 5, 2 heads
  slope::Tensor w;
  slope::causal_self_attention(qkv, 2, 2, &w);
  ASSERT_EQ(w.rows(), 5);
  ASSERT_EQ(w.cols(), 2 * 2 * 5);
  for (Eigen::Index block = 0; block < 4; ++block)
    for (Eigen::Index t = 0; t < 5; ++t) {
      EXPECT_NEAR(w.value().block(t, block * 5, 1, 5).sum(), 1.0f, 1e-6f);
      for (Eigen::Index s = t + 1; s < 5; ++s) EXPECT_EQ(w.value()(t, block * 5 + s), 0.0f);
    }
}

TEST(Attention, BadShapesNameThemselves) {
  auto message = [](Eigen::Index rows, Eigen::Index cols, Eigen::Index batch, Eigen::Index heads) {
    try {
      slope::causal_self_attention(slope::Tensor::zeros(rows, cols), batch, heads);
    } catch (const slope::ShapeError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message(4, 12, 1, 3).find("not a multiple of n_head = 3"), std::string::npos);
  EXPECT_NE(message(5, 12, 2, 2).find("batch = 2"), std::string::npos);
  EXPECT_NE(message(4, 10, 1, 1).find("3C columns"), std::string::npos);
}

TEST(Embedding, RepeatedIdsAccumulate) {
  const TensorD table(M::Random(4, 3), true);
  const std::vector<int> ids{2, 0, 2, 2};
  const TensorD out = slope::embedding(ids, table);
  for (Eigen::Index i = 0; i < 4; ++i) EXPECT_EQ(out.value().row(i), table.value().row(ids[i]));
  out.sum().backward();
  EXPECT_EQ(table.grad().row(2), M::Constant(1, 3, 3.0));  // three uses
  EXPECT_EQ(table.grad().row(0), M::Constant(1, 3, 1.0));
  EXPECT_EQ(table.grad().row(1), M::Zero(1, 3));
  EXPECT_THROW(slope::embedding(std::vector<int>{0, -1}, table), std::out_of_range);
}

// --- a block of one's own ---------------------------------------------------------------

// A GPT-like model whose block a user wrote, without touching slope: attention without its
// output projection, and a ReLU MLP, around slope's own pieces.
struct MyBlock {
  slope::nn::LayerNorm ln;
  slope::nn::Linear qkv;
  slope::nn::FeedForward mlp;
  std::int64_t heads;
  slope::Tensor forward(const slope::Tensor& x, Eigen::Index batch) const {
    const slope::Tensor h = x + slope::causal_self_attention(qkv(ln(x)), batch, heads);
    return h + mlp(h);
  }
  std::vector<slope::Tensor> parameters() const {
    std::vector<slope::Tensor> out = ln.parameters();
    for (const auto& part : {qkv.parameters(), mlp.parameters()})
      out.insert(out.end(), part.begin(), part.end());
    return out;
  }
};

TEST(Gpt, AModelFromABlockOfOnesOwnTrains) {
  slope::Rng rng(5);
  const std::int64_t V = 5, C = 8;
  const slope::nn::Embedding wte(V, C, rng), wpe(4, C, rng);
  std::vector<MyBlock> blocks;
  for (int l = 0; l < 2; ++l)
    blocks.push_back({slope::nn::LayerNorm(C),
                      slope::nn::Linear(C, 3 * C, true, slope::nn::Init::pytorch(), rng),
                      slope::nn::FeedForward(C, 4 * C, "relu", slope::nn::Init::pytorch(), rng),
                      2});
  auto forward = [&](const std::vector<int>& ids, Eigen::Index batch) {
    std::vector<int> pos(ids.size());
    for (std::size_t i = 0; i < ids.size(); ++i) pos[i] = static_cast<int>(i % 4);
    slope::Tensor x = wte(ids) + wpe(pos);
    for (const MyBlock& b : blocks) x = b.forward(x, batch);
    return slope::linear(x, wte.weight, slope::Tensor());  // the head tied to wte
  };
  std::vector<slope::Tensor> params = wte.parameters();
  params.push_back(wpe.weight);
  for (const MyBlock& b : blocks)
    for (const auto& p : b.parameters()) params.push_back(p);
  slope::optim::AdamW<float> opt(params, 1e-2);
  const std::vector<int> ids{0, 1, 2, 3, 1, 2, 3, 4}, next{1, 2, 3, 4, 2, 3, 4, 0};
  float first = 0, last = 0;
  for (int step = 0; step < 60; ++step) {
    opt.zero_grad();
    const slope::Tensor loss = slope::cross_entropy(forward(ids, 2), next);
    loss.backward();
    opt.step();
    (step == 0 ? first : last) = loss.item();
  }
  EXPECT_LT(last, 0.1f * first);  // it learns the sequences
}

// --- the probes --------------------------------------------------------------------------

TEST(GptProbes, PerBlockGradientsDeadUnitsAndHeadEntropy) {
  slope::Rng rng(6);
  const slope::nn::GPT model({.vocab_size = 7,
                              .block_size = 6,
                              .n_layer = 3,
                              .n_head = 2,
                              .n_embd = 8,
                              .activation = "relu"},
                             rng);
  // Block 2's FFN: every c_fc unit's pre-activation far below 0, so every relu unit is dead.
  model.blocks[1].mlp.fc.bias.value().setConstant(-100.0f);
  const std::vector<int> ids{1, 2, 3, 4, 5, 6, 0, 1, 2, 3}, targets{2, 3, 4, 5, 6, 0, 1, 2, 3, 4};
  const slope::probe::Trace trace;
  slope::cross_entropy(model.forward(ids, 2), targets).backward();
  const auto blocks = slope::probe::transformer_blocks(trace);
  ASSERT_EQ(blocks.size(), 3u);
  for (std::size_t k = 0; k < 3; ++k) {
    const slope::nn::Block& b = model.blocks[k];
    EXPECT_EQ(blocks[k].block, static_cast<int>(k + 1));
    EXPECT_DOUBLE_EQ(blocks[k].grad_norm_c_attn, b.attn.c_attn.weight.grad().norm());
    EXPECT_DOUBLE_EQ(blocks[k].grad_norm_attn_proj, b.attn.c_proj.weight.grad().norm());
    EXPECT_DOUBLE_EQ(blocks[k].grad_norm_c_fc, b.mlp.fc.weight.grad().norm());
    EXPECT_DOUBLE_EQ(blocks[k].grad_norm_mlp_proj, b.mlp.proj.weight.grad().norm());
    ASSERT_EQ(blocks[k].head_entropy.size(), 2u);
    for (double e : blocks[k].head_entropy) {
      EXPECT_GE(e, 0.0);
      EXPECT_LE(e, std::lgamma(6.0) / 5 + 1e-6);  // at most uniform attention's
    }
  }
  EXPECT_EQ(blocks[1].hidden.dead_frac, 1.0);
  EXPECT_EQ(blocks[1].hidden.mean_slope, 0.0);
  EXPECT_EQ(blocks[1].grad_norm_c_fc, 0.0);  // a dead layer passes no gradient to c_fc
  EXPECT_LT(blocks[0].hidden.dead_frac, 0.5);
}

TEST(GptProbes, UniformAttentionHasLogFactorialEntropy) {
  // q = 0: every score is 0, so position t attends uniformly to t + 1 positions, entropy
  // log(t + 1); the mean over T positions is log(T!) / T.
  slope::Tensor::Matrix qkv = slope::Tensor::Matrix::Random(2 * 5, 3 * 4);
  qkv.leftCols(4).setZero();
  slope::Tensor w;
  slope::causal_self_attention(slope::Tensor(qkv), 2, 2, &w);
  for (double e : slope::probe::head_entropy<float>(w.value(), 2, 2))
    EXPECT_NEAR(e, std::lgamma(6.0) / 5, 1e-6);
  EXPECT_THROW(slope::probe::head_entropy<float>(w.value(), 3, 2), std::invalid_argument);
}

// --- the schedule and the clipping -----------------------------------------------------

TEST(CosineSchedule, NanoGptsGetLr) {
  const slope::optim::CosineSchedule s{
      .lr = 1.0, .min_lr = 0.1, .warmup_iters = 4, .lr_decay_iters = 14};
  EXPECT_DOUBLE_EQ(s(0), 1.0 / 5);  // (it + 1) / (warmup + 1)
  EXPECT_DOUBLE_EQ(s(3), 4.0 / 5);
  EXPECT_DOUBLE_EQ(s(4), 1.0);                // the top of the cosine
  EXPECT_NEAR(s(9), 0.1 + 0.5 * 0.9, 1e-15);  // half way: cos(pi / 2) = 0
  EXPECT_NEAR(s(14), 0.1, 1e-15);
  EXPECT_DOUBLE_EQ(s(100), 0.1);
}

TEST(ClipGradNorm, ReturnsTheNormAndScalesToMaxNorm) {
  const TensorD a(M::Zero(1, 2), true), b(M::Zero(2, 1), true);
  (a * TensorD::from({{3.0, 0.0}})).sum().backward();
  (b * TensorD::from({{0.0}, {4.0}})).sum().backward();
  EXPECT_DOUBLE_EQ(slope::nn::clip_grad_norm<double>({a, b}, 10.0), 5.0);  // sqrt(9 + 16)
  EXPECT_EQ(a.grad()(0, 0), 3.0);                                          // under: unchanged
  EXPECT_DOUBLE_EQ(slope::nn::clip_grad_norm<double>({a, b}, 1.0), 5.0);
  EXPECT_NEAR(a.grad()(0, 0), 3.0 / (5.0 + 1e-6), 1e-15);
  EXPECT_NEAR(b.grad()(1, 0), 4.0 / (5.0 + 1e-6), 1e-15);
}

}  // namespace
}  // namespace gpt_test
