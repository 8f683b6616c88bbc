// Which GEMM under slope's products, and from what size: C = A · B^T (the Linear forward),
// square n x n, one thread, on Eigen's own kernels, OpenBLAS (cblas_?gemm) and, when
// Debian's libdnnl-dev is installed, oneDNN's dnnl_sgemm (float only: oneDNN has no dgemm).
// Prints GFLOP/s per case, then a table of each against Eigen at the same n; the first n
// at which OpenBLAS wins for good is where slope::kBlasMinFlops sits (gemm.hpp). The
// OpenBLAS column runs the kernels OpenBLAS picked for this CPU, named above the table.
//
//   build/release/bench/bench_gemm
#include <benchmark/benchmark.h>

#include <cstdio>
#include <map>
#include <string>

#include <cblas.h>
#ifdef SLOPE_BENCH_DNNL
#include <oneapi/dnnl/dnnl.h>
#endif

#include <slope/slope.hpp>

namespace {

template <class T> using Matrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic>;

template <class T> struct Operands {
  explicit Operands(Eigen::Index n)
      : a(Matrix<T>::Random(n, n)), b(Matrix<T>::Random(n, n)), c(Matrix<T>::Zero(n, n)) {}
  Matrix<T> a, b, c;
};

void flops(benchmark::State& state, double n) {
  state.counters["GFLOPs"] = benchmark::Counter(
      2 * n * n * n * static_cast<double>(state.iterations()) / 1e9, benchmark::Counter::kIsRate);
}

template <class T> void BM_Eigen(benchmark::State& state) {
  slope::set_num_threads(1);
  const Eigen::Index n = state.range(0);
  Operands<T> m(n);
  for (auto _ : state) {
    m.c.noalias() = m.a * m.b.transpose();
    benchmark::DoNotOptimize(m.c.data());
  }
  flops(state, static_cast<double>(n));
}

template <class T> void BM_OpenBlas(benchmark::State& state) {
  slope::set_num_threads(1);
  const int n = static_cast<int>(state.range(0));
  Operands<T> m(n);
  for (auto _ : state) {
    if constexpr (std::is_same_v<T, float>)
      cblas_sgemm(CblasColMajor, CblasNoTrans, CblasTrans, n, n, n, 1.0f, m.a.data(), n, m.b.data(),
                  n, 0.0f, m.c.data(), n);
    else
      cblas_dgemm(CblasColMajor, CblasNoTrans, CblasTrans, n, n, n, 1.0, m.a.data(), n, m.b.data(),
                  n, 0.0, m.c.data(), n);
    benchmark::DoNotOptimize(m.c.data());
  }
  flops(state, n);
}

#ifdef SLOPE_BENCH_DNNL
void BM_OneDnn(benchmark::State& state) {  // row-major: C^T = B · A^T in its terms
  slope::set_num_threads(1);
  const int n = static_cast<int>(state.range(0));
  Operands<float> m(n);
  for (auto _ : state) {
    dnnl_sgemm('T', 'N', n, n, n, 1.0f, m.b.data(), n, m.a.data(), n, 0.0f, m.c.data(), n);
    benchmark::DoNotOptimize(m.c.data());
  }
  flops(state, n);
}
#endif

constexpr int kSizes[] = {8, 16, 24, 32, 40, 48, 64, 80, 96, 128, 256, 512};
void Sizes(benchmark::internal::Benchmark* b) {
  for (int n : kSizes) b->Arg(n);
}
BENCHMARK_TEMPLATE(BM_Eigen, float)->Apply(Sizes);
BENCHMARK_TEMPLATE(BM_OpenBlas, float)->Apply(Sizes);
#ifdef SLOPE_BENCH_DNNL
BENCHMARK(BM_OneDnn)->Apply(Sizes);
#endif
BENCHMARK_TEMPLATE(BM_Eigen, double)->Apply(Sizes);
BENCHMARK_TEMPLATE(BM_OpenBlas, double)->Apply(Sizes);

// Console output, then GFLOP/s per backend beside Eigen's at each n.
class Table : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const Run& r : runs) {
      const std::string name = r.benchmark_name();  // "BM_OpenBlas<float>/256"
      const auto slash = name.rfind('/');
      const std::string type = name.find("double") != std::string::npos ? "double" : "float";
      const std::string backend = name.substr(3, name.find_first_of("</") - 3);
      gflops_[type + " " + name.substr(slash + 1)][backend] = r.counters.at("GFLOPs");
    }
  }
  void Finalize() override {
    ConsoleReporter::Finalize();
    // OpenBLAS's kernels are its pick for this CPU model (or OPENBLAS_CORETYPE's), and slope
    // keeps its products off them where they are narrower than Eigen's (gemm.hpp).
    std::printf("\nOpenBLAS kernels: %s; slope's 256 x 256 x 256 products run on %s\n",
                slope::blas_core(), slope::gemm_backend(256, 256, 256));
    std::printf("\n%-14s %10s %10s %10s %14s %14s\n", "C = A·B^T", "Eigen", "OpenBLAS", "oneDNN",
                "OpenBLAS/Eigen", "oneDNN/Eigen");
    for (const char* type : {"float", "double"})
      for (int n : kSizes) {
        const auto it = gflops_.find(std::string(type) + " " + std::to_string(n));
        if (it == gflops_.end()) continue;
        auto get = [&](const char* k) { return it->second.count(k) ? it->second.at(k) : 0.0; };
        const double e = get("Eigen"), o = get("OpenBlas"), d = get("OneDnn");
        const std::string label = std::string(type) + " " + std::to_string(n);
        if (d > 0)
          std::printf("%-14s %10.1f %10.1f %10.1f %14.2f %14.2f\n", label.c_str(), e, o, d, o / e,
                      d / e);
        else
          std::printf("%-14s %10.1f %10.1f %10s %14.2f %14s\n", label.c_str(), e, o, "-", o / e,
                      "-");
      }
  }

 private:
  std::map<std::string, std::map<std::string, double>> gflops_;
};

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  Table table;
  benchmark::RunSpecifiedBenchmarks(&table);
  benchmark::Shutdown();
}
