// The scalar engine: micrograd's moons training step, and raw nodes per second.
//
//   cmake --preset release && cmake --build --preset release --target bench_scalar
//   build/release/bench/bench_scalar
#include <benchmark/benchmark.h>

#include <cstdint>
#include <string>
#include <vector>

#include <slope/slope.hpp>

namespace {

using slope::Value;

// One step of micrograd's demo.ipynb: forward on all 100 points, max-margin loss plus
// 1e-4 L2, backward, SGD update. Reports graph nodes per step.
void BM_MoonsStep(benchmark::State& state) {
  const auto data = slope::data::moons(100, 0.1, 1);
  slope::scalar::MLP model(2, {16, 16, 1}, "relu", 1337);
  const auto params = model.parameters();
  std::vector<std::vector<Value>> inputs;
  for (std::size_t i = 0; i < data.n; ++i) inputs.push_back({data.at(i, 0), data.at(i, 1)});
  std::uint32_t nodes = 0;
  for (auto _ : state) {
    const std::uint32_t base = params.back().tape().size();
    Value loss = 0.0;
    {
      Value data_loss = 0.0;
      for (std::size_t i = 0; i < data.n; ++i) {
        const double yi = data.y[i] == 1 ? 1.0 : -1.0;
        data_loss = data_loss + (1.0 + -yi * model(inputs[i])[0]).relu();
      }
      Value reg = 0.0;
      for (const Value& p : params) reg = reg + p * p;
      loss = data_loss * (1.0 / static_cast<double>(data.n)) + 1e-4 * reg;
    }
    nodes = loss.tape().size() - base;
    model.zero_grad();
    loss.backward();
    for (const Value& p : params) p.data() -= 0.01 * p.grad();
    benchmark::DoNotOptimize(loss.data());
  }
  state.counters["nodes"] = nodes;
  state.counters["nodes/s"] =
      benchmark::Counter(static_cast<double>(nodes) * static_cast<double>(state.iterations()),
                         benchmark::Counter::kIsRate);
}
BENCHMARK(BM_MoonsStep)->Unit(benchmark::kMicrosecond);

// x = x * 1.0001 + 0.5, n times: one long dependency chain, forward and backward.
void BM_Chain(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  Value x0 = 1.0;
  for (auto _ : state) {
    Value x = x0;
    for (std::size_t i = 0; i < n; ++i) x = x * 1.0001 + 0.5;
    x.backward();
    benchmark::DoNotOptimize(x0.grad());
  }
  state.counters["nodes/s"] =
      benchmark::Counter(2.0 * static_cast<double>(n) * static_cast<double>(state.iterations()),
                         benchmark::Counter::kIsRate);
}
BENCHMARK(BM_Chain)->Arg(1 << 10)->Arg(1 << 13)->Arg(1 << 16)->Unit(benchmark::kMicrosecond);

// sum of w_i * x_i over n leaves: a wide, shallow graph.
void BM_WideSum(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  std::vector<Value> w, x;
  for (std::size_t i = 0; i < n; ++i) {
    w.emplace_back(0.001 * static_cast<double>(i));
    x.emplace_back(1.0 - 0.001 * static_cast<double>(i));
  }
  for (auto _ : state) {
    Value s = 0.0;
    for (std::size_t i = 0; i < n; ++i) s = s + w[i] * x[i];
    s.backward();
    benchmark::DoNotOptimize(w[0].grad());
  }
  state.counters["nodes/s"] =
      benchmark::Counter(2.0 * static_cast<double>(n) * static_cast<double>(state.iterations()),
                         benchmark::Counter::kIsRate);
}
BENCHMARK(BM_WideSum)->Arg(1 << 16)->Unit(benchmark::kMicrosecond);

// Every registered activation through the catalogue: slope::apply on 65,536 leaves,
// forward and backward (registered in main, one per activation).
void BM_ScalarActivation(benchmark::State& state, const std::string& name) {
  std::vector<Value> x;
  for (int i = 0; i < 1 << 16; ++i) x.emplace_back(-4.0 + 8.0 * i / (1 << 16));
  for (auto _ : state) {
    Value s = 0.0;
    for (const Value& xi : x) s = s + slope::apply(xi, name);
    s.backward();
    benchmark::DoNotOptimize(x[0].grad());
  }
  state.counters["nodes/s"] = benchmark::Counter(
      2.0 * static_cast<double>(x.size()) * static_cast<double>(state.iterations()),
      benchmark::Counter::kIsRate);
}

}  // namespace

int main(int argc, char** argv) {
  for (const std::string& name : slope::activations())
    benchmark::RegisterBenchmark(("BM_ScalarActivation/" + name).c_str(), BM_ScalarActivation, name)
        ->Unit(benchmark::kMicrosecond);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
