// The tensor engine's training step against its floor.
//
// One step = zero_grad, forward, MSE loss, backward, SGD step, for an MLP of `depth`
// Linear layers of width x width on a batch of `batch` rows. The floor is the same
// step written directly on the same products (slope::gemm: OpenBLAS above its threshold,
// Eigen below) and the same activation kernels, with preallocated buffers and no graph;
// slope/floor is the graph's whole overhead.
//
//   cmake --preset release && cmake --build --preset release --target bench_tensor
//   build/release/bench/bench_tensor      # every configuration, then a slope/floor table
//   build/release/bench/bench_tensor --benchmark_filter='float, Relu>/config:1'
#include <benchmark/benchmark.h>

#include <malloc.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <new>
#include <string>
#include <vector>

#include <slope/activation_kernels.hpp>
#include <slope/slope.hpp>

// --- allocations, counted -----------------------------------------------------------
// Every heap allocation of the code linked into this program: malloc calls from it (Eigen's
// matrix storage, inside slope's static library too; CMake links with --wrap=malloc) and
// operator new (graph nodes, closures, vectors), which is defined here on that malloc.
// OpenBLAS's own buffers, inside its shared library, are not counted: it keeps them.
namespace {
std::atomic<std::int64_t> g_allocations{0};
}
extern "C" void* __real_malloc(std::size_t n);
extern "C" void* __wrap_malloc(std::size_t n) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  return __real_malloc(n);
}
void* operator new(std::size_t n) {  // malloc here is this file's, so it is counted
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n) { return operator new(n); }
// GCC cannot see that the malloc above is the one free() pairs with.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }

namespace {

template <class T> using Matrix = typename slope::BasicTensor<T>::Matrix;

// Heap allocations made by one more call of `step` (after the warm-up steps so far).
template <class Step> double allocations_of(Step&& step) {
  const std::int64_t before = g_allocations.load();
  step();
  return static_cast<double>(g_allocations.load() - before);
}

struct Config {
  int batch, width, depth;
};
constexpr Config kConfigs[] = {{32, 32, 8}, {256, 256, 8}, {1024, 512, 4}};
constexpr double kLr = 1e-3;

template <class T> Matrix<T> random_matrix(Eigen::Index r, Eigen::Index c, slope::Rng& rng) {
  Matrix<T> m(r, c);
  for (Eigen::Index i = 0; i < m.size(); ++i) m(i) = static_cast<T>(rng.normal());
  return m;
}

// slope: the PyTorch-style loop.
template <class T, class A> void BM_Slope(benchmark::State& state) {
  const Config c = kConfigs[state.range(0)];
  slope::set_num_threads(static_cast<int>(state.range(1)));
  slope::Rng rng(1);
  std::vector<std::int64_t> sizes(static_cast<std::size_t>(c.depth) + 1, c.width);
  slope::nn::BasicMLP<T> model(sizes, A::info.name, slope::nn::Init::xavier_uniform(), rng);
  const slope::BasicTensor<T> x(random_matrix<T>(c.batch, c.width, rng));
  const slope::BasicTensor<T> y(random_matrix<T>(c.batch, c.width, rng));
  slope::optim::SGD opt(model.parameters(), kLr);
  auto step = [&] {
    opt.zero_grad();
    auto loss = slope::mse_loss(model.forward(x), y);
    loss.backward();
    opt.step();
    benchmark::DoNotOptimize(loss.item());
  };
  for (auto _ : state) step();
  state.counters["allocs/step"] = allocations_of(step);
}

// The floor: the same arithmetic on the same products (slope::gemm, so the same BLAS or
// Eigen kernels) and the same activation kernels, every buffer allocated once, no graph.
template <class T, class A> void BM_Floor(benchmark::State& state) {
  const Config c = kConfigs[state.range(0)];
  slope::set_num_threads(static_cast<int>(state.range(1)));
  slope::Rng rng(1);
  std::vector<std::int64_t> sizes(static_cast<std::size_t>(c.depth) + 1, c.width);
  slope::nn::BasicMLP<T> init(sizes, A::info.name, slope::nn::Init::xavier_uniform(), rng);
  const Matrix<T> x = random_matrix<T>(c.batch, c.width, rng);
  const Matrix<T> y = random_matrix<T>(c.batch, c.width, rng);
  const auto L = static_cast<std::size_t>(c.depth);
  std::vector<Matrix<T>> W(L), b(L), dW(L), db(L), Z(L), H(L);
  for (std::size_t l = 0; l < L; ++l) {
    W[l] = init.linear(l).weight.value();
    b[l] = init.linear(l).bias.value();
    dW[l].resize(c.width, c.width);
    db[l].resize(1, c.width);
    Z[l].resize(c.batch, c.width);
    H[l].resize(c.batch, c.width);
  }
  Matrix<T> dH(c.batch, c.width), dZ(c.batch, c.width);
  const T n = static_cast<T>(c.batch) * static_cast<T>(c.width);
  auto step = [&] {
    for (std::size_t l = 0; l < L; ++l) {  // forward
      const Matrix<T>& in = l == 0 ? x : H[l - 1];
      slope::gemm<T>(in, false, W[l], true, Z[l]);
      if (l + 1 < L)  // z += b, h = f(z), a column at a time, split as slope splits it
        slope::parallel_for(c.width, Z[l].size(), [&](Eigen::Index j) {
          Z[l].col(j).array() += b[l](0, j);
          slope::act::values<A>(Z[l].col(j).data(), H[l].col(j).data(), c.batch);
        });
      else
        Z[l].rowwise() += b[l].row(0);
    }
    const Matrix<T>& out = Z[L - 1];  // the output layer is linear
    const T loss = (out - y).squaredNorm() / n;
    dH = (out - y) * (T(2) / n);
    for (std::size_t l = L; l-- > 0;) {  // backward
      if (l + 1 < L) {
        slope::parallel_for(c.width, Z[l].size(), [&](Eigen::Index j) {
          slope::act::slopes_times<A>(Z[l].col(j).data(), H[l].col(j).data(), dH.col(j).data(),
                                      dZ.col(j).data(), c.batch);
          db[l](0, j) = dZ.col(j).sum();
        });
      } else {
        dZ = dH;
        db[l] = dZ.colwise().sum();
      }
      const Matrix<T>& in = l == 0 ? x : H[l - 1];
      slope::gemm<T>(dZ, true, in, false, dW[l]);
      if (l > 0) slope::gemm<T>(dZ, false, W[l], false, dH);
    }
    for (std::size_t l = 0; l < L; ++l) {  // SGD
      W[l] -= T(kLr) * dW[l];
      b[l] -= T(kLr) * db[l];
    }
    benchmark::DoNotOptimize(loss);
  };
  for (auto _ : state) step();
  state.counters["allocs/step"] = allocations_of(step);
}

// Heap in use (glibc's mallinfo2) after steps 1, 2 and 10,000 of the 32x32x8 relu
// step: each step's graph is freed when the next replaces it, so it must stay flat.
void BM_MemoryFlat(benchmark::State& state) {
  slope::set_num_threads(1);
  slope::Rng rng(1);
  slope::nn::MLP model(std::vector<std::int64_t>(9, 32), "relu", slope::nn::Init::xavier_uniform(),
                       rng);
  const slope::Tensor x(random_matrix<float>(32, 32, rng)), y(random_matrix<float>(32, 32, rng));
  slope::optim::SGD opt(model.parameters(), kLr);
  auto step = [&] {
    opt.zero_grad();
    auto loss = slope::mse_loss(model.forward(x), y);
    loss.backward();
    opt.step();
  };
  double first = 0, second = 0, last = 0;
  for (auto _ : state) {
    step();
    first = static_cast<double>(mallinfo2().uordblks);
    step();
    second = static_cast<double>(mallinfo2().uordblks);
    for (int i = 2; i < 10000; ++i) step();
    last = static_cast<double>(mallinfo2().uordblks);
  }
  state.counters["heap_step_1"] = first;
  state.counters["heap_step_2"] = second;
  state.counters["heap_step_10000"] = last;
}
BENCHMARK(BM_MemoryFlat)->Iterations(1)->Unit(benchmark::kMillisecond);

// Every registered activation through the catalogue: forward and backward of
// slope::apply on a 256 x 256 float tensor (registered in main, one per activation).
void BM_Activation(benchmark::State& state, const std::string& name) {
  slope::set_num_threads(1);
  slope::Rng rng(1);
  const slope::Tensor x(random_matrix<float>(256, 256, rng), true);
  const Matrix<float> seed = Matrix<float>::Ones(256, 256);
  for (auto _ : state) {
    auto y = slope::apply(x, name);
    y.backward(seed);
    benchmark::DoNotOptimize(x.grad().data());
  }
  state.SetItemsProcessed(state.iterations() * 256 * 256);
}

// The elementwise passes on the products' threads (slope::parallel_for): gelu forward and
// backward of a 1024 x 512 float tensor (the gradient accumulating: the += path) on 1 and 2.
void BM_ActivationThreads(benchmark::State& state) {
  slope::set_num_threads(static_cast<int>(state.range(0)));
  slope::Rng rng(1);
  const slope::Tensor x(random_matrix<float>(1024, 512, rng), true);
  const Matrix<float> seed = Matrix<float>::Ones(1024, 512);
  for (auto _ : state) {
    auto y = slope::apply(x, "gelu");
    y.backward(seed);
    benchmark::DoNotOptimize(x.grad().data());
  }
  state.SetItemsProcessed(state.iterations() * 1024 * 512);
  slope::set_num_threads(1);
}
BENCHMARK(BM_ActivationThreads)
    ->ArgName("threads")
    ->Arg(1)
    ->Arg(2)
    ->Unit(benchmark::kMicrosecond)
    ->MeasureProcessCPUTime()
    ->UseRealTime();

// The activation kernels alone, forward (y = f(x)) and backward (dx = g f'(x)) over 1M
// floats, in SIMD batches; beside them the scalar definitions element by element (what
// the engine ran before) and a copy of the same bytes (three arrays read or written).
constexpr std::size_t kKernelN = 1 << 20;
template <class A> void BM_Kernel(benchmark::State& state) {
  std::vector<float> x(kKernelN), g(kKernelN, 1.0f), y(kKernelN), dx(kKernelN);
  slope::Rng rng(1);
  for (float& v : x) v = static_cast<float>(rng.uniform(-6, 6));
  for (auto _ : state) {
    slope::act::values<A>(x.data(), y.data(), kKernelN);
    slope::act::slopes_times<A>(x.data(), y.data(), g.data(), dx.data(), kKernelN);
    benchmark::DoNotOptimize(dx.data());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kKernelN));
}
template <class A> void BM_KernelScalar(benchmark::State& state) {
  std::vector<float> x(kKernelN), g(kKernelN, 1.0f), y(kKernelN), dx(kKernelN);
  slope::Rng rng(1);
  for (float& v : x) v = static_cast<float>(rng.uniform(-6, 6));
  for (auto _ : state) {
    for (std::size_t i = 0; i < kKernelN; ++i) y[i] = A::value(x[i]);
    for (std::size_t i = 0; i < kKernelN; ++i) dx[i] = g[i] * A::slope(x[i]);
    benchmark::DoNotOptimize(dx.data());
    benchmark::DoNotOptimize(y.data());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kKernelN));
}
void BM_KernelCopy(
    benchmark::State& state) {  // the same bytes: read x, write y; read x, g, write dx
  std::vector<float> x(kKernelN, 1.0f), g(kKernelN, 1.0f), y(kKernelN), dx(kKernelN);
  for (auto _ : state) {
    std::copy(x.begin(), x.end(), y.begin());
    for (std::size_t i = 0; i < kKernelN; ++i) dx[i] = g[i] * x[i];
    benchmark::DoNotOptimize(dx.data());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kKernelN));
}
BENCHMARK(BM_KernelCopy);

void Args(benchmark::internal::Benchmark* b) {
  b->ArgNames({"config", "threads"});
  for (int config = 0; config < 3; ++config)
    for (int threads : {1, 2}) b->Args({config, threads});
  b->Unit(benchmark::kMicrosecond)->MeasureProcessCPUTime()->UseRealTime();
  b->ComputeStatistics(
      "min", [](const std::vector<double>& v) { return *std::min_element(v.begin(), v.end()); });
}

using slope::act::Gelu;
using slope::act::Relu;
using slope::act::Sigmoid;
using slope::act::Tanh;
// Each slope benchmark is followed by its floor, so neighbours in the output pair up.
BENCHMARK_TEMPLATE(BM_Slope, float, Relu)->Apply(Args);
BENCHMARK_TEMPLATE(BM_Floor, float, Relu)->Apply(Args);
BENCHMARK_TEMPLATE(BM_Slope, float, Sigmoid)->Apply(Args);
BENCHMARK_TEMPLATE(BM_Floor, float, Sigmoid)->Apply(Args);
BENCHMARK_TEMPLATE(BM_Slope, double, Relu)->Apply(Args);
BENCHMARK_TEMPLATE(BM_Floor, double, Relu)->Apply(Args);
BENCHMARK_TEMPLATE(BM_Slope, double, Sigmoid)->Apply(Args);
BENCHMARK_TEMPLATE(BM_Floor, double, Sigmoid)->Apply(Args);
BENCHMARK_TEMPLATE(BM_Slope, float, Tanh)->Apply(Args);
BENCHMARK_TEMPLATE(BM_Floor, float, Tanh)->Apply(Args);
BENCHMARK_TEMPLATE(BM_Slope, float, Gelu)->Apply(Args);
BENCHMARK_TEMPLATE(BM_Floor, float, Gelu)->Apply(Args);
BENCHMARK_TEMPLATE(BM_Slope, double, Tanh)->Apply(Args);
BENCHMARK_TEMPLATE(BM_Floor, double, Tanh)->Apply(Args);
BENCHMARK_TEMPLATE(BM_Slope, double, Gelu)->Apply(Args);
BENCHMARK_TEMPLATE(BM_Floor, double, Gelu)->Apply(Args);

// Prints the usual console output, then a table pairing each slope run with its floor.
class RatioReporter : public benchmark::ConsoleReporter {
 public:
  RatioReporter() : ConsoleReporter(isatty(STDOUT_FILENO) ? OO_Defaults : OO_Tabular) {}
  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    // One number per benchmark: the run itself, or the fastest of its repetitions (run
    // with --benchmark_repetitions=N --benchmark_enable_random_interleaving=true, as
    // `make bench` does, slope and floor alternate, and the minimum is the least noisy).
    for (const Run& r : runs) {
      if (r.error_occurred) continue;
      const std::string name = r.run_name.str();
      if (r.run_type == Run::RT_Aggregate ? r.aggregate_name == "min" : r.repetitions <= 1)
        ms_[name] = r.GetAdjustedRealTime() / 1e3;
      if (r.run_type == Run::RT_Iteration && r.counters.count("allocs/step"))
        allocs_[name] = r.counters.at("allocs/step");
    }
  }
  void Finalize() override {
    ConsoleReporter::Finalize();
    std::printf("\n%-36s %10s %10s %12s %10s %12s %12s\n", "step (type, act, config, threads)",
                "slope ms", "floor ms", "slope/floor", "x relu", "slope allocs", "floor allocs");
    for (const auto& [name, slope_ms] : ms_) {
      if (name.rfind("BM_Slope", 0) != 0) continue;
      const std::string rest = name.substr(8);  // "<float, Relu>/config:1/threads:2/..."
      const auto floor = ms_.find("BM_Floor" + rest);
      if (floor == ms_.end()) continue;
      const auto comma = rest.find(','), close = rest.find('>');
      const auto relu =
          ms_.find("BM_Slope" + rest.substr(0, comma) + ", Relu" + rest.substr(close));
      std::printf("%-36s %10.3f %10.3f %12.3f %10.3f %12.0f %12.0f\n", label(name).c_str(),
                  slope_ms, floor->second, slope_ms / floor->second,
                  relu == ms_.end() ? 0.0 : slope_ms / relu->second, allocs_["BM_Slope" + rest],
                  allocs_["BM_Floor" + rest]);
    }
  }

 private:
  // "BM_Slope<float, Relu>/config:1/threads:2/..." -> "float relu 256x256x8 t2"
  static std::string label(const std::string& name) {
    const auto open = name.find('<'), comma = name.find(','), close = name.find('>');
    std::string type = name.substr(open + 1, comma - open - 1);
    std::string act = name.substr(comma + 2, close - comma - 2);
    const int config = name[name.find("config:") + 7] - '0';
    const char threads = name[name.find("threads:") + 8];
    const Config c = kConfigs[config];
    return type + " " + act + " " + std::to_string(c.batch) + "x" + std::to_string(c.width) + "x" +
           std::to_string(c.depth) + " t" + threads;
  }
  std::map<std::string, double> ms_, allocs_;
};

}  // namespace

int main(int argc, char** argv) {
  // Keep freed blocks in the heap: otherwise glibc returns Eigen's GEMM workspace to the
  // kernel after every product and the floor, which allocates nothing else, pays a page
  // fault per page per product. The same setting holds for both sides of every ratio.
  mallopt(M_MMAP_THRESHOLD, 64 << 20);
  mallopt(M_TRIM_THRESHOLD, 256 << 20);
  for (const std::string& name : slope::activations())
    benchmark::RegisterBenchmark(("BM_Activation/" + name).c_str(), BM_Activation, name)
        ->Unit(benchmark::kMicrosecond);
  // Every activation's kernel beside its scalar baseline, alternating, registered from the
  // catalogue.
  slope::act::for_each([](auto a) {
    using A = decltype(a);
    const std::string name(A::info.name);
    benchmark::RegisterBenchmark(("BM_Kernel/" + name).c_str(), BM_Kernel<A>)
        ->Unit(benchmark::kMicrosecond);
    benchmark::RegisterBenchmark(("BM_KernelScalar/" + name).c_str(), BM_KernelScalar<A>)
        ->Unit(benchmark::kMicrosecond);
  });
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
  return 0;
}
