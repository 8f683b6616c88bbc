// One training step of nanoGPT's CPU "baby GPT" (4 layers, 4 heads, n_embd 128, block 64,
// batch 12, a 65-character vocabulary, tanh-GELU): forward, cross-entropy, backward, gradient
// clipping, AdamW step. bench/compare_gpt.py runs the same step in PyTorch alternately with
// this one.
#include <benchmark/benchmark.h>

#include <vector>

#include <slope/slope.hpp>

namespace {

void BM_GptStep(benchmark::State& state) {
  slope::set_num_threads(static_cast<int>(state.range(0)));
  const std::string activation = state.range(1) == 0 ? "gelu_tanh" : "relu";
  slope::Rng rng(1);
  const slope::nn::GPT model({.vocab_size = 65,
                              .block_size = 64,
                              .n_layer = 4,
                              .n_head = 4,
                              .n_embd = 128,
                              .activation = activation},
                             rng);
  const int batch = 12, T = 64;
  std::vector<int> ids(batch * T), targets(batch * T);
  for (std::size_t i = 0; i < ids.size(); ++i) {
    ids[i] = static_cast<int>(rng.below(65));
    targets[i] = static_cast<int>(rng.below(65));
  }
  slope::optim::AdamW<float> opt(model.optim_groups(0.1), 1e-3, {0.9, 0.99});
  const std::vector<slope::Tensor> params = model.parameters();
  for (auto _ : state) {
    opt.zero_grad();
    const slope::Tensor loss = slope::cross_entropy(model.forward(ids, batch), targets);
    loss.backward();
    slope::nn::clip_grad_norm(params, 1.0);
    opt.step();
    benchmark::DoNotOptimize(loss.item());
  }
  state.SetLabel(activation);
}
BENCHMARK(BM_GptStep)
    ->ArgsProduct({{1, 2}, {0, 1}})
    ->ArgNames({"threads", "relu"})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->MinTime(2.0);

}  // namespace

BENCHMARK_MAIN();
