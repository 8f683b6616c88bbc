#include "gpt/gpt.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <numeric>
#include <sstream>

#include "support/exit.hpp"

namespace slope::demo::gpt {

namespace fs = std::filesystem;

std::vector<std::string> corpus_files(const std::string& dir) {
  std::vector<std::string> files;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec))
    if (e.is_regular_file() && e.path().filename().string().find('.') == std::string::npos)
      files.push_back(e.path().string());
  std::sort(files.begin(), files.end());
  if (files.empty())
    throw UsageError(dir + ": no fortunes files (apt-get install fortunes, or give --text FILE)");
  return files;
}

std::string read_text(const Config& config) {
  const std::vector<std::string> files =
      config.text.empty() ? corpus_files() : std::vector<std::string>{config.text};
  std::string text;
  for (const std::string& f : files) {
    std::ifstream in(f, std::ios::binary);
    if (!in) throw UsageError(f + ": cannot open the file");
    std::ostringstream s;
    s << in.rdbuf();
    text += s.str();
  }
  return text;
}

data::TextDataset load_text(const Config& config) {
  const std::string name = config.text.empty() ? std::string(kFortunesDir) : config.text;
  try {
    data::TextDataset text(read_text(config), config.val_fraction, name);
    Rng rng(0);
    for (const data::TextSplit split : {data::TextSplit::train, data::TextSplit::val})
      text.batch(split, 1, config.block, rng);  // throws naming the text and the split
    return text;
  } catch (const std::invalid_argument& e) {
    throw UsageError(e.what());
  }
}

Baselines baselines(const data::TextDataset& text) {
  const auto train = text.ids(data::TextSplit::train), val = text.ids(data::TextSplit::val);
  const auto v = static_cast<std::size_t>(text.tokenizer().size());
  std::vector<double> uni(v, 1.0);  // add-one
  std::vector<double> bi(v * v, 1.0), from(v, static_cast<double>(v));
  for (std::size_t i = 0; i < train.size(); ++i) {
    uni[static_cast<std::size_t>(train[i])] += 1;
    if (i > 0) {
      bi[static_cast<std::size_t>(train[i - 1]) * v + static_cast<std::size_t>(train[i])] += 1;
      from[static_cast<std::size_t>(train[i - 1])] += 1;
    }
  }
  const double total = static_cast<double>(train.size() + v);
  Baselines b;
  for (std::size_t i = 0; i < val.size(); ++i) {
    b.unigram -= std::log(uni[static_cast<std::size_t>(val[i])] / total);
    if (i > 0) {
      const auto prev = static_cast<std::size_t>(val[i - 1]);
      b.bigram -= std::log(bi[prev * v + static_cast<std::size_t>(val[i])] / from[prev]);
    }
  }
  b.unigram /= static_cast<double>(std::max<std::size_t>(1, val.size()));
  b.bigram /= static_cast<double>(std::max<std::size_t>(2, val.size()) - 1);
  return b;
}

nn::GPTConfig model_config(const Config& c, int vocab_size, std::string_view activation) {
  return {.vocab_size = vocab_size,
          .block_size = c.block,
          .n_layer = c.layers,
          .n_head = c.heads,
          .n_embd = c.embd,
          .activation = std::string(activation)};
}

namespace {

// The mean loss over `batches` batches of a split, the same batches for every run at a step.
double eval_loss(const nn::GPT& model, const data::TextDataset& text, data::TextSplit split,
                 const Config& c, int step) {
  const no_grad guard;
  Rng rng(1'000'003ull * static_cast<std::uint64_t>(step + 1) + (split == data::TextSplit::val));
  double sum = 0;
  for (int k = 0; k < c.eval_batches; ++k) {
    const data::TextBatch b = text.batch(split, c.batch, c.block, rng);
    sum += cross_entropy(model.forward(b.inputs, c.batch), b.targets).item();
  }
  return sum / c.eval_batches;
}

}  // namespace

Run train(const Config& c, const data::TextDataset& text, const std::string& activation,
          std::uint64_t seed, const std::function<void(int, double, double)>& on_step) {
  Run run;
  run.activation = activation;
  run.seed = seed;
  Rng rng(seed);
  auto model = std::make_shared<nn::GPT>(model_config(c, text.tokenizer().size(), activation), rng);
  optim::AdamW<float> opt(model->optim_groups(c.weight_decay), c.lr, {c.beta1, c.beta2});
  const optim::CosineSchedule schedule{.lr = c.lr,
                                       .min_lr = c.min_lr,
                                       .warmup_iters = c.warmup,
                                       .lr_decay_iters = static_cast<std::int64_t>(c.steps)};
  const std::vector<Tensor> params = model->parameters();
  Rng batches(seed + 1);
  const auto steps = static_cast<int>(c.steps), every = static_cast<int>(c.probe_every);
  const auto start = std::chrono::steady_clock::now();
  double tokens = 0, last_val = NAN;
  for (int step = 0;; ++step) {
    const bool probed = step % every == 0 || step == steps;
    if (probed) {
      run.evals.push_back({step, eval_loss(*model, text, data::TextSplit::train, c, step),
                           eval_loss(*model, text, data::TextSplit::val, c, step)});
      last_val = run.evals.back().val_loss;
    }
    if (step == steps) break;
    opt.lr = schedule(step);
    const data::TextBatch b = text.batch(data::TextSplit::train, c.batch, c.block, batches);
    opt.zero_grad();
    std::optional<probe::Trace> trace;
    if (probed) trace.emplace();
    const Tensor loss = cross_entropy(model->forward(b.inputs, c.batch), b.targets);
    if (!std::isfinite(loss.item())) {
      run.diverged =
          "step " + std::to_string(step) + ": the loss is " + std::to_string(loss.item());
      break;
    }
    loss.backward();
    if (probed) run.probes.push_back({step, probe::transformer_blocks(*trace)});
    trace.reset();
    nn::clip_grad_norm(params, c.clip);
    opt.step();
    tokens += static_cast<double>(b.inputs.size());
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (on_step) on_step(step + 1, tokens / std::max(seconds, 1e-9), last_val);
  }
  run.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!run.diverged) {
    Rng sampling(seed + 2);
    run.sample = text.tokenizer().decode(model->generate(
        text.tokenizer().encode("\n"), c.sample_chars, c.temperature, c.top_k, sampling));
  }
  run.model = model;
  return run;
}

namespace {

// How PyTorch prints the module of each activation.
std::string torch_module(std::string_view a) {
  if (a == "gelu") return "GELU(approximate='none')";
  if (a == "gelu_tanh") return "GELU(approximate='tanh')";
  if (a == "relu") return "ReLU()";
  if (a == "leaky_relu") return "LeakyReLU(negative_slope=0.01)";
  if (a == "sigmoid") return "Sigmoid()";
  if (a == "tanh") return "Tanh()";
  if (a == "elu") return "ELU(alpha=1.0)";
  if (a == "silu") return "SiLU()";
  if (a == "softplus") return "Softplus(beta=1, threshold=20)";
  return "Identity()";
}

std::string thousands(long long n) {
  std::string s = std::to_string(n);
  for (int i = static_cast<int>(s.size()) - 3; i > 0; i -= 3)
    s.insert(static_cast<std::size_t>(i), ",");
  return s;
}

template <class M> long long count(const M& m) {
  long long n = 0;
  for (const Tensor& p : m.parameters()) n += p.value().size();
  return n;
}

}  // namespace

std::string describe(const nn::GPT& model) {
  const nn::GPTConfig& c = model.config();
  std::string out;
  // A line, its parameter count right-aligned at column 96 (none for a container's close).
  auto line = [&](int depth, const std::string& text, long long params = -1,
                  const std::string& note = "") {
    std::string l = std::string(static_cast<std::size_t>(2 * depth), ' ') + text;
    if (params >= 0 || !note.empty()) {
      const std::string right = params >= 0 ? thousands(params) : "";
      l.resize(std::max<std::size_t>(l.size() + 2, 96 - right.size()), ' ');
      l += right + note;
    }
    out += l + "\n";
  };
  const std::string ln =
      "LayerNorm((" + std::to_string(c.n_embd) + ",), eps=1e-05, elementwise_affine=True)";
  auto linear = [](const nn::Linear& l, bool bias = true) {
    return "Linear(in_features=" + std::to_string(l.in_features()) +
           ", out_features=" + std::to_string(l.out_features()) +
           ", bias=" + (bias ? "True" : "False") + ")";
  };
  line(0, "GPT(");
  line(1, "(transformer): ModuleDict(");
  line(2,
       "(wte): Embedding(" + std::to_string(c.vocab_size) + ", " + std::to_string(c.n_embd) + ")",
       count(model.wte));
  line(2,
       "(wpe): Embedding(" + std::to_string(c.block_size) + ", " + std::to_string(c.n_embd) + ")",
       count(model.wpe));
  line(2, "(h): ModuleList(");
  for (std::size_t i = 0; i < model.blocks.size(); ++i) {
    const nn::Block& b = model.blocks[i];
    line(3, "(" + std::to_string(i) + "): Block(", count(b));
    line(4, "(ln_1): " + ln, count(b.ln_1));
    line(4, "(attn): CausalSelfAttention(", count(b.attn));
    line(5, "(c_attn): " + linear(b.attn.c_attn), count(b.attn.c_attn));
    line(5, "(c_proj): " + linear(b.attn.c_proj), count(b.attn.c_proj));
    line(4, ")");
    line(4, "(ln_2): " + ln, count(b.ln_2));
    line(4, "(mlp): MLP(", count(b.mlp));
    line(5, "(c_fc): " + linear(b.mlp.fc), count(b.mlp.fc));
    line(5, "(act): " + torch_module(b.mlp.activation.name()), -1,
         "  <-- " + std::string(b.mlp.activation.name()) + ", between c_fc and c_proj");
    line(5, "(c_proj): " + linear(b.mlp.proj), count(b.mlp.proj));
    line(4, ")");
    line(3, ")");
  }
  line(2, ")");
  line(2, "(ln_f): " + ln, count(model.ln_f));
  line(1, ")");
  line(1,
       "(lm_head): Linear(in_features=" + std::to_string(c.n_embd) +
           ", out_features=" + std::to_string(c.vocab_size) + ", bias=False)",
       -1, "  tied: transformer.wte.weight");
  line(0, ")");
  out +=
      "number of parameters: " + thousands(count(model)) + " (the LM head is wte, counted once)\n";
  return out;
}

std::vector<std::vector<Tensor::Matrix>> attention_maps(const nn::GPT& model,
                                                        const std::vector<int>& ids) {
  const no_grad guard;
  const probe::Trace trace;
  model.forward(ids, 1);
  std::vector<std::vector<Tensor::Matrix>> out;
  const auto t = static_cast<Eigen::Index>(ids.size());
  for (const auto& a : trace.attentions()) {
    std::vector<Tensor::Matrix>& heads = out.emplace_back();
    for (Eigen::Index h = 0; h < a.n_head; ++h)
      heads.push_back(a.weights.value().middleCols(h * t, t));
  }
  return out;
}

std::string gelu_against_relu(double gap, double spread, int seeds) {
  std::ostringstream out;
  out.setf(std::ios::fixed);
  out.precision(4);
  out << "relu - gelu = " << (gap >= 0 ? "+" : "") << gap
      << " nats; the larger of their standard deviations over seeds is " << spread
      << ", so the gap is ";
  if (seeds < 2)
    out << "not measured against a spread (one seed decides nothing)";
  else if (std::abs(gap) > spread)
    out << std::setprecision(1) << std::abs(gap) / spread << " times the spread";
  else
    out << "within the spread: one cannot tell them apart here";
  out << " (" << (gap > 0 ? "gelu lower" : "relu lower")
      << "). Shazeer (2020), Table 1, T5-base on C4 after 65,536 steps, mean of 4 runs: ReLU "
         "1.997 (± 0.005), GELU 1.983 (± 0.005), Swish 1.994 (± 0.003): there gelu leads by "
         "about three standard deviations.";
  return out.str();
}

namespace key {
std::string final_val(std::string_view a) { return "final_val." + std::string(a); }
std::string final_val_std(std::string_view a) { return "final_val_std." + std::string(a); }
std::string dead_frac(std::string_view a) { return "dead_frac." + std::string(a); }
std::string entropy(std::string_view a) { return "entropy." + std::string(a); }
}  // namespace key

}  // namespace slope::demo::gpt
