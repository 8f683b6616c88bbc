// Threads: two models trained at once on two std::threads give bit for bit what each
// gives alone (no shared mutable state); set_num_threads changes Eigen's GEMM threads
// without changing results beyond rounding; and a training loop's memory stays flat.
#include <gtest/gtest.h>

#include <malloc.h>

#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <new>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <slope/slope.hpp>

// --- a count of live operator-new allocations in this test program -----------------
// Eigen allocates matrix storage with malloc, not operator new, so this counts the
// graph's nodes, closures and vectors; malloc totals are checked separately below.
namespace {
std::atomic<long long> g_live{0};
}
void* operator new(std::size_t n) {
  if (void* p = std::malloc(n == 0 ? 1 : n)) {
    g_live.fetch_add(1, std::memory_order_relaxed);
    return p;
  }
  throw std::bad_alloc();
}
void* operator new[](std::size_t n) { return operator new(n); }
void operator delete(void* p) noexcept {
  if (p == nullptr) return;
  g_live.fetch_sub(1, std::memory_order_relaxed);
  std::free(p);
}
void operator delete[](void* p) noexcept { operator delete(p); }
void operator delete(void* p, std::size_t) noexcept { operator delete(p); }
void operator delete[](void* p, std::size_t) noexcept { operator delete(p); }

// --- and every malloc call from the code linked statically into it -----------------
// (this file, slope's library, Eigen's storage inside both; CMake links it with
// --wrap=malloc), operator new above included.
namespace {
std::atomic<long long> g_mallocs{0};
}
extern "C" void* __real_malloc(std::size_t n);
extern "C" void* __wrap_malloc(std::size_t n) {
  g_mallocs.fetch_add(1, std::memory_order_relaxed);
  return __real_malloc(n);
}

namespace {

using slope::Tensor;

struct TrainingRun {
  std::vector<Tensor::Matrix> params;
  std::vector<float> losses;
};

// 40 steps of the PyTorch loop on moons with a float MLP; everything from `seed`.
TrainingRun train(std::uint64_t seed) {
  slope::Rng rng(seed);
  const slope::data::Dataset d = slope::data::moons(64, 0.1, seed);
  const Tensor x = d.features(), y = d.signs();
  slope::nn::MLP model({2, 16, 16, 1}, "tanh", slope::nn::Init::xavier_normal(), rng);
  slope::optim::SGD<float> opt(model.parameters(), 0.05, 0.9);
  TrainingRun run;
  for (int step = 0; step < 40; ++step) {
    opt.zero_grad();
    const Tensor loss = slope::hinge_loss(model.forward(x), y);
    loss.backward();
    opt.step();
    run.losses.push_back(loss.item());
  }
  for (const Tensor& p : model.parameters()) run.params.push_back(p.value());
  return run;
}

TEST(Threads, TwoModelsTrainedConcurrentlyMatchEachTrainedAlone) {
  const TrainingRun alone1 = train(1), alone2 = train(2);
  ASSERT_NE(alone1.losses, alone2.losses);
  for (int repeat = 0; repeat < 3; ++repeat) {
    TrainingRun together1, together2;
    std::thread t1([&] { together1 = train(1); });
    std::thread t2([&] { together2 = train(2); });
    t1.join();
    t2.join();
    EXPECT_EQ(together1.losses, alone1.losses);
    EXPECT_EQ(together1.params, alone1.params);
    EXPECT_EQ(together2.losses, alone2.losses);
    EXPECT_EQ(together2.params, alone2.params);
  }
}

// The same, with products big enough for the BLAS (256 x 64 x 64): OpenBLAS's OpenMP build
// takes its thread count from the calling thread, so before slope applied set_num_threads
// on every thread, a model trained on a std::thread ran its products on every core and
// rounded differently from the same model trained on the thread that set the count.
TrainingRun train_wide(std::uint64_t seed) {
  slope::Rng rng(seed);
  const slope::data::Dataset d = slope::data::spirals(256, 3, 0.2, seed);
  const Tensor x = d.features();
  slope::nn::MLP model({2, 64, 64, 64, 3}, "relu", slope::nn::Init::kaiming_normal(), rng);
  slope::optim::SGD<float> opt(model.parameters(), 0.5);
  TrainingRun run;
  for (int step = 0; step < 30; ++step) {
    opt.zero_grad();
    const Tensor loss = slope::cross_entropy(model.forward(x), d.y);
    loss.backward();
    opt.step();
    run.losses.push_back(loss.item());
  }
  for (const Tensor& p : model.parameters()) run.params.push_back(p.value());
  return run;
}

TEST(Threads, SetNumThreadsHoldsOnEveryThreadThroughTheBlas) {
  // (ctest runs this again on OpenBLAS's Haswell kernels where a build for AVX2 keeps the
  // products off the ones OpenBLAS picked: tests/CMakeLists.txt.)
  if (std::string_view(slope::gemm_backend(256, 64, 64)) == "eigen")
    GTEST_SKIP() << "these products run on Eigen here (BLAS: " << slope::blas_name() << ", kernels "
                 << slope::blas_core() << ")";
  const int original = slope::num_threads();
  slope::set_num_threads(1);
  const TrainingRun alone1 = train_wide(1), alone2 = train_wide(2);
  TrainingRun together1, together2;
  std::thread t1([&] { together1 = train_wide(1); });
  std::thread t2([&] { together2 = train_wide(2); });
  t1.join();
  t2.join();
  slope::set_num_threads(original);
  EXPECT_EQ(together1.losses, alone1.losses);
  EXPECT_EQ(together1.params, alone1.params);
  EXPECT_EQ(together2.losses, alone2.losses);
  EXPECT_EQ(together2.params, alone2.params);
}

TEST(Threads, NoGradAndTheDefaultRngArePerThread) {
  auto weights = [] {
    const slope::nn::MLP m({2, 4, 1});  // default_rng()
    return m.linear(0).weight.value();
  };
  slope::manual_seed(5);
  const Tensor::Matrix first = weights();
  slope::manual_seed(5);
  std::thread other([&] {
    slope::manual_seed(77);
    slope::no_grad guard;  // a no_grad on another thread does not switch ours off
    for (int i = 0; i < 10; ++i) weights();
  });
  other.join();
  EXPECT_TRUE(slope::grad_enabled());
  EXPECT_EQ(weights(), first) << "another thread drew from our default generator";
}

TEST(Threads, DefaultUsesEveryCore) {
  if (std::getenv("OMP_NUM_THREADS") != nullptr) GTEST_SKIP() << "OMP_NUM_THREADS is set";
  EXPECT_EQ(slope::num_threads(), static_cast<int>(std::thread::hardware_concurrency()));
}

TEST(Threads, OneAndTwoGemmThreadsGiveTheSameLoss) {
  const int original = slope::num_threads();
  slope::Rng rng(3);
  Tensor::Matrix a(384, 384), b(384, 384), t(384, 384);
  for (Eigen::Index i = 0; i < a.size(); ++i) {
    a(i) = static_cast<float>(rng.uniform(-1, 1));
    b(i) = static_cast<float>(rng.uniform(-1, 1));
    t(i) = static_cast<float>(rng.uniform(-1, 1));
  }
  auto loss_with = [&](int n) {
    slope::set_num_threads(n);
    EXPECT_EQ(slope::num_threads(), n);
    const Tensor wa(a, true);
    const Tensor loss = slope::mse_loss(slope::matmul(wa, Tensor(b)).tanh(), Tensor(t));
    loss.backward();
    return std::pair<float, Tensor::Matrix>(loss.item(), wa.grad());
  };
  const auto [l1, g1] = loss_with(1);
  const auto [l2, g2] = loss_with(2);
  slope::set_num_threads(original);
  EXPECT_NEAR(l1, l2, 1e-5f * std::abs(l1));
  EXPECT_LT((g1 - g2).cwiseAbs().maxCoeff(), 1e-5f * g1.cwiseAbs().maxCoeff());
}

// The elementwise passes split over the threads (slope::parallel_for: activations forward
// and backward, both gradient paths) give the same numbers on one thread and on two.
TEST(Threads, ElementwisePassesGiveTheSameNumbersOnOneAndTwoThreads) {
  const int original = slope::num_threads();
  const Tensor::Matrix m = Tensor::Matrix::Random(256, 300);  // 76,800 elements: split
  ASSERT_GE(m.size(), slope::kParallelMinElements);
  auto run = [&](int threads) {
    slope::set_num_threads(threads);
    const Tensor x(m, true);
    const Tensor y = slope::apply(x, "gelu") + slope::apply(x, "tanh");  // 2nd grad adds
    y.backward(Tensor::Matrix::Constant(256, 300, 0.5f));
    return std::pair{Tensor::Matrix(y.value()), Tensor::Matrix(x.grad())};
  };
  const auto one = run(1), two = run(2);
  slope::set_num_threads(original);
  EXPECT_TRUE((one.first.array() == two.first.array()).all());
  EXPECT_TRUE((one.second.array() == two.second.array()).all());
  EXPECT_GT(one.second.cwiseAbs().minCoeff(), 0.0f);  // every gradient element was written
}

TEST(Threads, SetNumThreadsRejectsFewerThanOne) {
  const int original = slope::num_threads();
  EXPECT_THROW(slope::set_num_threads(0), std::invalid_argument);
  EXPECT_THROW(slope::set_num_threads(-2), std::invalid_argument);
  EXPECT_EQ(slope::num_threads(), original);
}

// After the first steps (which allocate the optimizer's buffers) a training loop
// allocates and frees the same graph every step: nothing accumulates.
TEST(Memory, StaysFlatOverManyTrainingSteps) {
  slope::Rng rng(1);
  const Tensor x(Tensor::Matrix::Random(32, 32)), y(Tensor::Matrix::Random(32, 32));
  slope::nn::MLP model({32, 32, 32, 32, 32, 32, 32, 32, 32}, "relu",
                       slope::nn::Init::kaiming_normal(), rng);
  slope::optim::Adam<float> opt(model.parameters(), 1e-3);
  auto step = [&] {
    opt.zero_grad();
    const slope::probe::Trace trace;
    const Tensor loss = slope::mse_loss(model.forward(x), y);
    loss.backward();
    opt.step();
    slope::probe::layers(trace);
  };
  auto heap_bytes = [] {
    const struct mallinfo2 m = mallinfo2();
    return static_cast<long long>(m.uordblks + m.hblkhd);
  };
  for (int i = 0; i < 5; ++i) step();
  const long long live = g_live.load(), bytes = heap_bytes();
  for (int i = 0; i < 1000; ++i) step();
  EXPECT_LE(g_live.load(), live) << "operator-new allocations still alive grew";
  EXPECT_GT(live, 0) << "the counting operator new is not in use";
  if (bytes > 0) {  // mallinfo2 reports nothing under AddressSanitizer
    EXPECT_LT(heap_bytes() - bytes, 16 * 1024) << "malloc'd bytes in use grew";
  }
}

// Heap calls per step over 10 steps, after 3 to warm up.
template <class Step> double allocations_per_step(Step&& step) {
  for (int i = 0; i < 3; ++i) step();
  const long long before = g_mallocs.load();
  for (int i = 0; i < 10; ++i) step();
  return static_cast<double>(g_mallocs.load() - before) / 10.0;
}

// The same for bench_tensor's step: SGD on the MSE of model(x) against y.
double mse_step_allocations(slope::nn::MLP& model, const Tensor& x, const Tensor& y) {
  slope::optim::SGD<float> opt(model.parameters(), 1e-3);
  return allocations_per_step([&] {
    opt.zero_grad();
    const Tensor loss = slope::mse_loss(model.forward(x), y);
    loss.backward();
    opt.step();
  });
}

// After its first steps a training loop allocates nothing: each step's graph takes its
// nodes, parent lists and buffers from what the previous step's freed (the thread's caches,
// slope/detail/cache.hpp), and its closures fit in std::function. Counted: every heap call.
TEST(Memory, ATrainingStepAllocatesNothingAfterItsFirst) {
  slope::Rng rng(3);
  const Tensor x(Tensor::Matrix::Random(32, 32)), y(Tensor::Matrix::Random(32, 32));
  for (const char* act : {"relu", "sigmoid", "gelu"}) {  // bench_tensor's step, fused layers
    slope::nn::MLP model(std::vector<std::int64_t>(9, 32), act, slope::nn::Init::xavier_uniform(),
                         rng);
    EXPECT_EQ(mse_step_allocations(model, x, y), 0.0) << act;
  }
  // A classifier as the demos train it: unfused activations, cross-entropy, Adam.
  std::vector<int> labels;
  for (int i = 0; i < 32; ++i) labels.push_back(i % 3);
  const slope::nn::Sequential model{
      slope::nn::Linear(32, 16, true, slope::nn::Init::pytorch(), rng),
      slope::nn::Activation("tanh"), slope::nn::Activation("relu"),
      slope::nn::Linear(16, 3, true, slope::nn::Init::pytorch(), rng)};
  slope::optim::Adam<float> opt(model.parameters(), 1e-3);
  auto step = [&] {
    opt.zero_grad();
    const Tensor loss = slope::cross_entropy(model.forward(x), labels);
    loss.backward();
    opt.step();
  };
  EXPECT_EQ(allocations_per_step(step), 0.0);
  EXPECT_GT(g_mallocs.load(), 0) << "the counting malloc is not in use";

  // A GPT's step with nanoGPT's recipe: embeddings, attention, AdamW groups, clipping.
  const slope::nn::GPT gpt(
      {.vocab_size = 11, .block_size = 8, .n_layer = 2, .n_head = 2, .n_embd = 16}, rng);
  std::vector<int> ids, next;
  for (int i = 0; i < 16; ++i) ids.push_back(i % 11), next.push_back((i + 1) % 11);
  const std::vector<Tensor> params = gpt.parameters();
  slope::optim::AdamW<float> adamw(gpt.optim_groups(0.1), 1e-3);
  EXPECT_EQ(allocations_per_step([&] {
              adamw.zero_grad();
              const Tensor loss = slope::cross_entropy(gpt.forward(ids, 2), next);
              loss.backward();
              slope::nn::clip_grad_norm(params, 1.0);
              adamw.step();
            }),
            0.0);

  // empty_cache hands the kept memory back: the next step allocates again, the one after
  // does not.
  slope::empty_cache();
  long long before = g_mallocs.load();
  step();
  EXPECT_GT(g_mallocs.load() - before, 10);
  step();
  before = g_mallocs.load();
  step();
  EXPECT_EQ(g_mallocs.load() - before, 0);
}

// The same at 256 x 256, where every product is big enough for the BLAS: on OpenBLAS (its
// buffers are its own) and on Eigen's kernels, where a build for AVX2 keeps them off
// OpenBLAS's Prescott kernels and Eigen's product would take its packing buffers from the
// heap twice per product; slope keeps them per thread (engine/src/gemm.cpp).
TEST(Memory, ATrainingStepOfBigProductsAllocatesNothingAfterItsFirst) {
  const int original = slope::num_threads();
  slope::set_num_threads(1);  // Eigen's threads take buffers of their own
  slope::Rng rng(4);
  const Tensor x(Tensor::Matrix::Random(256, 256)), y(Tensor::Matrix::Random(256, 256));
  slope::nn::MLP model(std::vector<std::int64_t>(4, 256), "relu", slope::nn::Init::xavier_uniform(),
                       rng);
  EXPECT_EQ(mse_step_allocations(model, x, y), 0.0)
      << "products on " << slope::gemm_backend(256, 256, 256);
  slope::set_num_threads(original);
}

// The same over 10,000 steps of GPT-2's block shape, with products big enough for the BLAS:
// Linear, then two Residual(Sequential{LayerNorm, FeedForward}) blocks, then Linear.
TEST(Memory, StaysFlatOverTenThousandStepsOfResidualBlocksOnTheBlas) {
  const int original = slope::num_threads();
  slope::set_num_threads(1);  // ctest runs other suites beside this one
  slope::Rng rng(2);
  const Tensor x(Tensor::Matrix::Random(64, 64));
  std::vector<int> labels;
  for (int i = 0; i < 64; ++i) labels.push_back(i % 3);
  namespace nn = slope::nn;
  auto block = [&] {
    return nn::Residual(nn::Sequential{nn::LayerNorm(64),
                                       nn::FeedForward(64, 256, "gelu", nn::Init::pytorch(), rng)});
  };
  const nn::Sequential model{nn::Linear(64, 64, true, nn::Init::pytorch(), rng), block(), block(),
                             nn::Linear(64, 3, true, nn::Init::pytorch(), rng)};
  SCOPED_TRACE(std::string("products on ") + slope::gemm_backend(64, 256, 64));
  slope::optim::Adam<float> opt(model.parameters(), 1e-3);
  auto step = [&] {
    opt.zero_grad();
    const Tensor loss = slope::cross_entropy(model.forward(x), labels);
    loss.backward();
    opt.step();
    return loss.item();
  };
  auto heap_bytes = [] {
    const struct mallinfo2 m = mallinfo2();
    return static_cast<long long>(m.uordblks + m.hblkhd);
  };
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  const int steps = 100;  // the sanitizers count no malloc'd bytes; the new-count is the check
#else
  const int steps = 10000;
#endif
  for (int i = 0; i < 5; ++i) step();
  const long long live = g_live.load(), bytes = heap_bytes();
  float last = 0;
  for (int i = 0; i < steps; ++i) last = step();
  slope::set_num_threads(original);
  EXPECT_TRUE(std::isfinite(last));
  EXPECT_LE(g_live.load(), live) << "operator-new allocations still alive grew";
  if (bytes > 0) {
    EXPECT_LT(heap_bytes() - bytes, 64 * 1024) << "malloc'd bytes in use grew";
  }
}

// 1,000 residual blocks: the backward pass and the graph's release are iterative, so depth
// costs no stack. With every block's weights and biases zero, each block is the identity
// and the gradient of sum(out) with respect to x is exactly 1 everywhere.
TEST(Memory, AThousandResidualBlocksBackpropagateAndAreFreed) {
  namespace nn = slope::nn;
  slope::Rng rng(3);
  nn::SequentialD model;
  for (int i = 0; i < 1000; ++i) {
    nn::LinearD fc(8, 8, true, nn::Init::normal(1.0), rng);
    fc.weight.value().setZero();
    fc.bias.value().setZero();
    model.push_back(nn::ResidualD(nn::SequentialD{fc, nn::ActivationD("tanh")}));
  }
  ASSERT_EQ(model.parameters().size(), 2000u);
  const long long live = g_live.load();
  slope::TensorD::Matrix grad, xv = slope::TensorD::Matrix::Random(4, 8);
  std::thread t([&] {  // a thread's default stack, not the main one's
    const slope::TensorD x(xv, true);
    const slope::TensorD out = model.forward(x);
    out.sum().backward();
    grad = x.grad();
  });
  t.join();
  EXPECT_EQ(grad, slope::TensorD::Matrix::Ones(4, 8));
  // The first block's weight gradient: the gradient reaching it is all ones, so
  // dL/dW = (1 * tanh'(0))^T x: every row is x's column sums.
  const slope::TensorD::Matrix& g0 = model.parameters()[0].grad();
  for (Eigen::Index i = 0; i < 8; ++i)
    for (Eigen::Index j = 0; j < 8; ++j) EXPECT_NEAR(g0(i, j), xv.col(j).sum(), 1e-12);
  EXPECT_LE(g_live.load() - live, 16) << "the 1000-block graph was not freed";
}

}  // namespace
