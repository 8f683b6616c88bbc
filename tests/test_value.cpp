// slope::Value, the scalar engine: every op against central finite differences, random
// expression graphs with shared subexpressions, micrograd's `+=` and repeated-backward
// semantics, errors that name the op and the value, a million-node chain on the main
// thread and on a std::thread, independent graphs on concurrent threads, handle and
// memory behaviour of the tape, and the Graphviz DOT export.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <latch>
#include <optional>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <slope/slope.hpp>

#include "finite_difference.hpp"

namespace {

using slope::Value;
using slope_test::expect_gradients_match;

// --- every op, one line each -------------------------------------------------------------

struct OpCase {
  const char* name;
  std::function<Value(const Value&, const Value&)> f;
  bool positive_a = false;  // the op needs a > 0 (log, fractional powers, Value exponents)
};

const std::vector<OpCase>& op_cases() {
  static const std::vector<OpCase> cases = {
      {"a + b", [](const Value& a, const Value& b) { return a + b; }},
      {"a + 2.5", [](const Value& a, const Value&) { return a + 2.5; }},
      {"2.5 + a", [](const Value& a, const Value&) { return 2.5 + a; }},
      {"a - b", [](const Value& a, const Value& b) { return a - b; }},
      {"a - 2.5", [](const Value& a, const Value&) { return a - 2.5; }},
      {"2.5 - a", [](const Value& a, const Value&) { return 2.5 - a; }},
      {"a * b", [](const Value& a, const Value& b) { return a * b; }},
      {"a * 2.5", [](const Value& a, const Value&) { return a * 2.5; }},
      {"2.5 * a", [](const Value& a, const Value&) { return 2.5 * a; }},
      {"a / b", [](const Value& a, const Value& b) { return a / b; }},
      {"a / 2.5", [](const Value& a, const Value&) { return a / 2.5; }},
      {"2.5 / a", [](const Value& a, const Value&) { return 2.5 / a; }},
      {"-a", [](const Value& a, const Value&) { return -a; }},
      {"a + a", [](const Value& a, const Value&) { return a + a; }},
      {"a * a", [](const Value& a, const Value&) { return a * a; }},
      {"a - a * b / a", [](const Value& a, const Value& b) { return a - a * b / a; }},
      {"a.pow(3)", [](const Value& a, const Value&) { return a.pow(3.0); }},
      {"a.pow(-2)", [](const Value& a, const Value&) { return a.pow(-2.0); }},
      {"a.pow(-1.5)", [](const Value& a, const Value&) { return a.pow(-1.5); }, true},
      {"pow(a, 0.5)", [](const Value& a, const Value&) { return pow(a, 0.5); }, true},
      {"a.pow(b)", [](const Value& a, const Value& b) { return a.pow(b); }, true},
      {"pow(a, b)", [](const Value& a, const Value& b) { return pow(a, b); }, true},
      {"a.exp()", [](const Value& a, const Value&) { return a.exp(); }},
      {"exp(a)", [](const Value& a, const Value&) { return exp(a); }},
      {"a.log()", [](const Value& a, const Value&) { return a.log(); }, true},
      {"log(a)", [](const Value& a, const Value&) { return log(a); }, true},
      {"a.relu()", [](const Value& a, const Value&) { return a.relu(); }},
      {"relu(a)", [](const Value& a, const Value&) { return relu(a); }},
      {"a.sigmoid()", [](const Value& a, const Value&) { return a.sigmoid(); }},
      {"sigmoid(a)", [](const Value& a, const Value&) { return sigmoid(a); }},
      {"a.tanh()", [](const Value& a, const Value&) { return a.tanh(); }},
      {"tanh(a)", [](const Value& a, const Value&) { return tanh(a); }},
      {"a.gelu()", [](const Value& a, const Value&) { return a.gelu(); }},
      {"gelu(a)", [](const Value& a, const Value&) { return gelu(a); }},
      {"a += b", [](Value a, const Value& b) { return a += b; }},
      {"a -= b", [](Value a, const Value& b) { return a -= b; }},
      {"a *= b", [](Value a, const Value& b) { return a *= b; }},
      {"a /= b", [](Value a, const Value& b) { return a /= b; }},
  };
  return cases;
}

// Points off every kink (0) and away from poles; (a, b) pairs with both signs.
const std::vector<std::pair<double, double>> kPoints = {
    {1.3, -0.7}, {-2.1, 0.4}, {0.6, 2.5}, {-0.35, -1.9}};

TEST(ValueGradient, EveryOpMatchesCentralDifferences) {
  for (const OpCase& op : op_cases()) {
    for (auto [a0, b0] : kPoints) {
      SCOPED_TRACE(std::string(op.name) + " at a = " + std::to_string(a0) +
                   ", b = " + std::to_string(b0));
      Value a = op.positive_a ? std::abs(a0) : a0, b = b0;
      expect_gradients_match({a, b}, [&] { return op.f(a, b); });
    }
  }
}

TEST(ValueGradient, EveryRegisteredActivationByNameMatchesCentralDifferences) {
  for (const std::string& name : slope::activations()) {
    for (double x0 : {-4.2, -1.7, -0.3, 0.4, 1.1, 2.2, 5.5}) {
      SCOPED_TRACE(name + " at " + std::to_string(x0));
      Value x = x0;
      expect_gradients_match({x}, [&] { return slope::apply(x, name); });
      // Through a product, so the chain rule multiplies the slope in.
      Value w = 0.8;
      expect_gradients_match({x, w}, [&] { return slope::apply(w * x + 0.1, name) * x; });
    }
  }
}

TEST(ValueGradient, ForwardValuesAreTheClosedForms) {
  Value a = 1.5, b = -0.5;
  EXPECT_DOUBLE_EQ((a + b).data(), 1.0);
  EXPECT_DOUBLE_EQ((a - b).data(), 2.0);
  EXPECT_DOUBLE_EQ((a * b).data(), -0.75);
  EXPECT_DOUBLE_EQ((a / b).data(), -3.0);
  EXPECT_DOUBLE_EQ((1.0 - a).data(), -0.5);
  EXPECT_DOUBLE_EQ((3.0 / a).data(), 2.0);
  EXPECT_DOUBLE_EQ((-a).data(), -1.5);
  EXPECT_DOUBLE_EQ(a.pow(2.0).data(), 2.25);
  EXPECT_DOUBLE_EQ(a.pow(b).data(), 1.0 / std::sqrt(1.5));
  EXPECT_DOUBLE_EQ(a.exp().data(), std::exp(1.5));
  EXPECT_DOUBLE_EQ(a.log().data(), std::log(1.5));
  EXPECT_DOUBLE_EQ(b.relu().data(), 0.0);
  EXPECT_DOUBLE_EQ(a.relu().data(), 1.5);
  EXPECT_DOUBLE_EQ(b.sigmoid().data(), 1.0 / (1.0 + std::exp(0.5)));
  EXPECT_DOUBLE_EQ(b.tanh().data(), std::tanh(-0.5));
  EXPECT_DOUBLE_EQ(a.gelu().data(), 0.75 * (1.0 + std::erf(1.5 / std::sqrt(2.0))));
}

// --- random expression graphs ------------------------------------------------------------

// One step of a random program: an op on earlier nodes i and j with constant c.
struct Instr {
  int op;
  std::size_t i, j;
  double c;
  std::string act;
};

constexpr int kOps = 19;

// Each op keeps its operands in a valid domain by construction (log of a*a + 0.1, a
// base a*a + 0.5 for fractional and Value powers, exp of a bounded argument).
Value run_op(const Instr& in, const Value& a, const Value& b) {
  switch (in.op) {
    case 0:
      return a + b;
    case 1:
      return a - b;
    case 2:
      return a * b;
    case 3:
      return a / (b * b + 0.5);
    case 4:
      return a + in.c;
    case 5:
      return in.c - a;
    case 6:
      return in.c * a;
    case 7:
      return in.c / (a * a + 1.0);
    case 8:
      return a / in.c;
    case 9:
      return -a;
    case 10:
      return a.pow(in.c > 0 ? 2.0 : 3.0);
    case 11:
      return (a * a + 0.5).pow(in.c);
    case 12:
      return (a * a + 0.5).pow(b.tanh());
    case 13:
      return (a.tanh() * 2.0).exp();
    case 14:
      return (a * a + 0.1).log();
    case 15:
      return slope::apply(a, in.act);
    case 16:
      return in.c > 0 ? a.sigmoid() * b.tanh() : a.relu() + b.gelu();
    case 17: {
      Value t = a;
      t += b * in.c;
      return t;
    }
    default: {
      Value t = a;
      t *= b;
      return t;
    }
  }
}

struct Program {
  std::vector<Instr> instrs;
  std::vector<bool> usable;  // false for nodes too large to feed further ops
};

// Builds the program's graph on `leaves`; the root is the sum of the last usable nodes.
Value build(const Program& p, const std::vector<Value>& leaves) {
  std::vector<Value> nodes = leaves;
  for (const Instr& in : p.instrs) nodes.push_back(run_op(in, nodes[in.i], nodes[in.j]));
  Value root = 0.0;
  int taken = 0;
  for (std::size_t k = nodes.size(); k-- > leaves.size() && taken < 4;)
    if (p.usable[k]) root = root + nodes[k], ++taken;
  return root;
}

// A random program of `length` ops over `leaves`. Operands are drawn from every usable
// node so far, so subexpressions are shared and nodes get several parents.
Program random_program(std::mt19937_64& gen, const std::vector<Value>& leaves, int length) {
  const std::vector<std::string> acts = slope::activations();
  auto pick = [&](std::size_t n) { return static_cast<std::size_t>(gen() % n); };
  Program p;
  std::vector<Value> nodes = leaves;
  p.usable.assign(leaves.size(), true);
  const double consts[] = {-2.5, -1.5, -0.7, 0.5, 1.3, 1.7, 3.0};
  while (static_cast<int>(p.instrs.size()) < length) {
    Instr in;
    in.op = static_cast<int>(gen() % kOps);
    do in.i = pick(nodes.size());
    while (!p.usable[in.i]);
    do in.j = pick(nodes.size());
    while (!p.usable[in.j]);
    in.c = consts[pick(std::size(consts))];
    in.act = acts[pick(acts.size())];
    nodes.push_back(run_op(in, nodes[in.i], nodes[in.j]));
    p.instrs.push_back(in);
    p.usable.push_back(std::abs(nodes.back().data()) < 50.0);
  }
  return p;
}

TEST(ValueGradient, RandomExpressionGraphsMatchCentralDifferences) {
  std::mt19937_64 gen(20240601);
  std::uniform_real_distribution<double> leaf(-2.0, 2.0);
  for (int trial = 0; trial < 300; ++trial) {
    std::vector<Value> leaves;
    for (int k = 0; k < 4; ++k) leaves.emplace_back(leaf(gen));
    const Program p = random_program(gen, leaves, 8 + trial % 24);
    SCOPED_TRACE("trial " + std::to_string(trial));
    expect_gradients_match(
        leaves, [&] { return build(p, leaves); }, 1e-5);
  }
}

// --- micrograd's semantics -----------------------------------------------------------------

TEST(ValueSemantics, PlusEqualsRebindsToANewNodeAsPython) {
  Value a = 2.0;
  const Value alias = a;  // `alias = a` in Python: the same node
  a += 3.0;               // `a += 3` in Python: a = a + 3, a new node; alias unchanged
  EXPECT_EQ(a.data(), 5.0);
  EXPECT_EQ(alias.data(), 2.0);
  a.backward();
  EXPECT_EQ(alias.grad(), 1.0);

  Value c = 1.5;
  const Value c0 = c;
  c += c + 1;  // c = c0 + (c0 + 1): dc/dc0 = 2
  EXPECT_EQ(c.data(), 4.0);
  c.backward();
  EXPECT_EQ(c0.grad(), 2.0);

  Value x = 3.0;
  const Value x0 = x;
  x *= x;  // x0 * x0: 2 x0
  x -= 1.0;
  x /= 2.0;
  EXPECT_EQ(x.data(), 4.0);
  x.backward();
  EXPECT_EQ(x0.grad(), 3.0);
}

TEST(ValueSemantics, CopiesShareTheNodeAsPythonNames) {
  Value a = 1.0;
  Value b = a;
  b.data() = 7.0;
  EXPECT_EQ(a.data(), 7.0);
  a.grad() = 2.5;
  EXPECT_EQ(b.grad(), 2.5);
}

TEST(ValueSemantics, BackwardOnALeafSetsItsGradToOne) {
  Value a = 4.0;
  a.backward();
  EXPECT_EQ(a.grad(), 1.0);
}

TEST(ValueSemantics, IntermediateGradientsAreKeptAfterBackward) {
  // micrograd's lecture reads them off the graph: o = tanh(n), n = x*w + b.
  Value x = 2.0, w = -0.5, b = 0.3;
  Value n = x * w + b;
  Value o = n.tanh();
  o.backward();
  const double t = std::tanh(-0.7);
  EXPECT_NEAR(n.grad(), 1 - t * t, 1e-15);
  EXPECT_NEAR(w.grad(), x.data() * (1 - t * t), 1e-15);
}

// micrograd has no zero_grad for leaves inside backward: a second backward adds the
// root's gradient again. Expected values follow micrograd's code by hand.
TEST(ValueSemantics, RepeatedBackwardAccumulatesIntoLeavesAsMicrograd) {
  Value a = 3.0, b = -2.0;
  Value y = a * b;
  y.backward();
  y.backward();  // micrograd: y.grad = 1 again, a.grad += b, b.grad += a
  EXPECT_EQ(a.grad(), 2 * -2.0);
  EXPECT_EQ(b.grad(), 2 * 3.0);
}

TEST(ValueSemantics, TwoLossesOnSharedLeavesAddTheirGradients) {
  Value a = 3.0, b = -2.0;
  Value l1 = a * b;      // dl1/da = b, dl1/db = a
  Value l2 = a + b * b;  // dl2/da = 1, dl2/db = 2b
  l1.backward();
  l2.backward();
  EXPECT_EQ(a.grad(), -2.0 + 1.0);
  EXPECT_EQ(b.grad(), 3.0 + 2 * -2.0);
}

// With an intermediate node between root and leaf, each backward adds exactly
// d root / d leaf into the leaf (PyTorch's retain_graph semantics). micrograd's code
// would give 18 a here: its intermediate h keeps h.grad = 3 from the first pass, adds
// 3 more, and then sends 6 * 2a down; slope recomputes intermediates instead.
TEST(ValueSemantics, RepeatedBackwardAddsTheGradientOncePerCall) {
  Value a = 1.5;
  Value h = a * a;
  Value y = h * 3.0;
  y.backward();
  EXPECT_EQ(a.grad(), 6 * 1.5);
  y.backward();
  EXPECT_EQ(a.grad(), 12 * 1.5);
  EXPECT_EQ(h.grad(), 3.0);
  a.grad() = 0.0;  // zero_grad, as a training loop does
  y.backward();
  EXPECT_EQ(a.grad(), 6 * 1.5);
}

// --- errors name the op and the value ---------------------------------------------------------

template <class F> void expect_error_naming(F&& f, std::initializer_list<const char*> words) {
  try {
    f();
    ADD_FAILURE() << "no exception";
  } catch (const std::exception& e) {
    const std::string msg = e.what();
    for (const char* w : words)
      EXPECT_NE(msg.find(w), std::string::npos) << w << " not in: " << msg;
  }
}

TEST(ValueErrors, LogOfZeroOrANegativeNumberThrowsNamingTheValue) {
  EXPECT_THROW(Value(0.0).log(), std::domain_error);
  expect_error_naming([] { Value(0.0).log(); }, {"log", "0"});
  expect_error_naming([] { Value(-1.0).log(); }, {"log", "-1"});
  expect_error_naming([] { log(Value(-2.5)); }, {"log", "-2.5"});
}

TEST(ValueErrors, PowProducingNaNThrowsNamingTheValue) {
  EXPECT_THROW(Value(-8.0).pow(1.0 / 3), std::domain_error);
  expect_error_naming([] { Value(-8.0).pow(1.0 / 3); }, {"pow", "-8"});
  expect_error_naming([] { Value(-8.0).pow(Value(1.0 / 3)); }, {"pow", "-8"});
  expect_error_naming([] { Value(0.0).pow(-1.0); }, {"pow", "0"});
}

TEST(ValueErrors, ExpOverflowThrowsNamingTheValue) {
  expect_error_naming([] { Value(1000.0).exp(); }, {"exp", "1000"});
}

TEST(ValueErrors, UnknownActivationThrowsListingTheValidNames) {
  EXPECT_THROW(slope::apply(Value(1.0), "swish2"), std::invalid_argument);
  expect_error_naming([] { slope::apply(Value(1.0), "swish2"); }, {"swish2", "relu", "gelu_tanh"});
}

TEST(ValueErrors, DividingByZeroThrowsAsMicrograd) {
  // micrograd computes a / b as a * b**-1, and Python raises ZeroDivisionError for
  // 0.0 ** -1; a silent inf or NaN would poison every gradient below.
  expect_error_naming([] { Value(2.0) / Value(0.0); }, {"0"});
  expect_error_naming([] { 2.0 / Value(0.0); }, {"0"});
  expect_error_naming([] { Value(2.0) / 0.0; }, {"0"});
  expect_error_naming([] { Value(0.0) / 0.0; }, {"0"});
}

// d/dx x^0 = 0 everywhere (PyTorch's convention at x = 0): never 0 * inf = NaN.
TEST(ValueErrors, PowAtZeroNeverGivesASilentNaNGradient) {
  auto check = [](auto&& make, const char* what) {
    SCOPED_TRACE(what);
    Value x = 0.0;
    try {
      Value y = make(x);
      EXPECT_EQ(y.data(), 1.0);
      y.backward();
      EXPECT_FALSE(std::isnan(x.grad()));
      EXPECT_EQ(x.grad(), 0.0);
    } catch (const std::domain_error&) {
      // An error naming the op is the other acceptable answer.
    }
  };
  check([](const Value& x) { return x.pow(0.0); }, "x.pow(0.0)");
  check([](const Value& x) { return x.pow(Value(0.0)); }, "x.pow(Value(0.0))");
}

// --- deep graphs and threads -------------------------------------------------------------------

struct ChainResult {
  double data, grad_x0, grad_c;
  std::uint32_t tape_before, tape_after;
};

// x_n = x0 * c^n built one node at a time; alternate `+ 0.0` so two kinds of node chain.
ChainResult million_node_chain() {
  const Value probe;
  ChainResult r{};
  r.tape_before = probe.tape().size();
  {
    Value x0 = 1.0, c = 1.000001;
    Value x = x0;
    for (int i = 0; i < 1'000'000; ++i) x = i % 2 == 0 ? x * c : x + 0.0;
    x.backward();
    r.data = x.data();
    r.grad_x0 = x0.grad();
    r.grad_c = c.grad();
  }  // the million nodes are released here, iteratively
  r.tape_after = probe.tape().size();
  return r;
}

void expect_chain_correct(const ChainResult& r) {
  const double n = 500'000, c = 1.000001;
  EXPECT_NEAR(r.data, std::pow(c, n), 1e-9 * std::pow(c, n));
  EXPECT_NEAR(r.grad_x0, std::pow(c, n), 1e-9 * std::pow(c, n));
  EXPECT_NEAR(r.grad_c, n * std::pow(c, n - 1), 1e-9 * n * std::pow(c, n - 1));
  EXPECT_EQ(r.tape_after, r.tape_before);
}

TEST(ValueDeepGraph, MillionNodeChainBackpropagatesAndIsFreed) {
  expect_chain_correct(million_node_chain());
}

TEST(ValueDeepGraph, MillionNodeChainOnADefaultStackThread) {
  ChainResult r{};
  std::thread t([&] { r = million_node_chain(); });
  t.join();
  expect_chain_correct(r);
}

// f(a, b) = a b + b^3 + tanh(a - b): df/da = b + sech^2, df/db = a + 3 b^2 - sech^2.
void train_like_loop(double offset, int steps, int& failures) {
  for (int s = 0; s < steps; ++s) {
    const double a0 = offset + 0.001 * s, b0 = -0.5 + 0.0007 * s;
    Value a = a0, b = b0;
    Value f = a * b + b.pow(3.0) + (a - b).tanh();
    f.backward();
    const double t = std::tanh(a0 - b0), sech2 = 1 - t * t;
    const bool ok = std::abs(f.data() - (a0 * b0 + b0 * b0 * b0 + t)) < 1e-12 &&
                    std::abs(a.grad() - (b0 + sech2)) < 1e-12 &&
                    std::abs(b.grad() - (a0 + 3 * b0 * b0 - sech2)) < 1e-12;
    if (!ok) ++failures;
  }
}

TEST(ValueThreads, GraphsBuiltConcurrentlyAreIndependentAndCorrect) {
  const Value probe;
  const std::uint32_t main_size = probe.tape().size();
  int failures[2] = {0, 0};
  const slope::detail::Tape* tapes[2] = {nullptr, nullptr};
  std::latch start(2);
  auto worker = [&](int k) {
    tapes[k] = &Value(0.0).tape();
    start.arrive_and_wait();
    train_like_loop(k == 0 ? 0.3 : -1.2, 20'000, failures[k]);
  };
  std::thread t0(worker, 0), t1(worker, 1);
  t0.join();
  t1.join();
  EXPECT_EQ(failures[0], 0);
  EXPECT_EQ(failures[1], 0);
  EXPECT_NE(tapes[0], tapes[1]);
  EXPECT_NE(tapes[0], &probe.tape());
  EXPECT_EQ(probe.tape().size(), main_size);
}

TEST(ValueThreads, MixingGraphsOfTwoThreadsIsAnError) {
  std::optional<Value> other;
  std::thread([&] { other = Value(2.0); }).join();
  const Value mine = 3.0;
  EXPECT_THROW(mine + *other, std::invalid_argument);
  EXPECT_THROW(*other * mine, std::invalid_argument);
}

TEST(ValueThreads, AValueOutlivesTheThreadThatBuiltIt) {
  std::optional<Value> out, leaf;
  std::thread([&] {
    leaf = Value(3.0);
    out = *leaf * 2.0 + 1.0;
  }).join();
  EXPECT_EQ(out->data(), 7.0);
  out->backward();
  EXPECT_EQ(leaf->grad(), 2.0);
  out.reset();
  leaf.reset();  // the orphaned tape is freed here (the leak checker of asan would tell)
}

// --- handles and memory
// ---------------------------------------------------------------------------

TEST(ValueMemory, DataAndGradReferencesStayValidAsTheGraphGrows) {
  Value a = 1.25;
  double& d = a.data();
  double& g = a.grad();
  std::vector<Value> keep;
  Value x = a;
  for (int i = 0; i < 200'000; ++i) {
    x = x + 1.0;
    if (i % 1000 == 0) keep.push_back(x);
  }
  d = 7.0;
  g = -3.0;
  EXPECT_EQ(a.data(), 7.0);
  EXPECT_EQ(a.grad(), -3.0);
  EXPECT_EQ(&a.data(), &d);
  EXPECT_EQ(keep.back().data(), 1.25 + 199'001.0);
}

TEST(ValueMemory, TapeReturnsToItsBaselineAfterATrainingStep) {
  const slope::scalar::MLP model(2, {8, 8, 1}, "tanh", 7);
  const Value probe;
  const std::uint32_t baseline = probe.tape().size();
  for (int step = 0; step < 3; ++step) {
    {
      Value loss = 0.0;
      for (double x : {-1.0, -0.3, 0.4, 1.1}) {
        const Value out = model({Value(x), Value(x * x)})[0];
        loss += (out - std::sin(x)).pow(2.0);
      }
      model.zero_grad();
      loss.backward();
      for (const Value& p : model.parameters()) p.data() -= 0.05 * p.grad();
      EXPECT_GT(probe.tape().size(), baseline + 100);
    }
    EXPECT_EQ(probe.tape().size(), baseline) << "after step " << step;
  }
}

TEST(ValueMemory, NodesAreFreedWhateverOrderTheirHandlesDie) {
  const Value probe;
  const std::uint32_t baseline = probe.tape().size();
  {
    std::vector<std::optional<Value>> handles;
    Value x = 0.5;
    for (int i = 0; i < 1000; ++i) {
      x = i % 3 == 0 ? x.tanh() : x * 1.01 + 0.1;
      handles.emplace_back(x);
    }
    std::mt19937 gen(5);
    std::shuffle(handles.begin(), handles.end(), gen);
    for (auto& h : handles) h.reset();
  }
  EXPECT_EQ(probe.tape().size(), baseline);
}

// --- Graphviz DOT
// ---------------------------------------------------------------------------------

std::size_t count(const std::string& s, const std::string& what) {
  std::size_t n = 0;
  for (std::size_t at = s.find(what); at != std::string::npos; at = s.find(what, at + 1)) ++n;
  return n;
}

TEST(ValueDot, OneRecordPerValueWithDataGradOpsAndNames) {
  Value a = 2.0, b = -3.0;
  Value c = a * b;     // -6
  Value d = c + a;     // -4: a has two parents
  Value e = d.tanh();  // tanh(-4)
  e.backward();
  std::ostringstream out;
  slope::write_dot(out, e, {{a, "a"}, {b, "b"}, {e, "out"}});
  const std::string dot = out.str();
  EXPECT_EQ(dot.rfind("digraph", 0), 0u) << dot;
  EXPECT_EQ(count(dot, "shape=record"), 5u) << dot;  // a, b, c, d, e: a appears once
  for (const char* s :
       {"data 2.0000", "data -3.0000", "data -6.0000", "data -4.0000", "data -0.9993",
        "grad 1.0000", "\"*\"", "\"+\"", "\"tanh\"", "a |", "b |", "out |"})
    EXPECT_NE(dot.find(s), std::string::npos) << s << " not in:\n" << dot;
  // de/da = (1 - tanh^2(-4)) (b + 1) = -0.0026819...
  const double t = std::tanh(-4.0);
  char grad_a[32];
  std::snprintf(grad_a, sizeof grad_a, "grad %.4f", (1 - t * t) * (-3.0 + 1.0));
  EXPECT_NE(dot.find(grad_a), std::string::npos) << grad_a << " not in:\n" << dot;
  EXPECT_EQ(dot.back(), '\n');
  EXPECT_NE(dot.find('}'), std::string::npos);
}

}  // namespace
