#include "curves/curves.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <utility>

#include <fmt/core.h>

#include "support/exit.hpp"

namespace slope::demo::curves {

bool is_csv_path(const std::string& data) {
  std::error_code ec;
  return data.ends_with(".csv") || std::filesystem::is_regular_file(data, ec);
}

Split load_data(const Config& config) {
  data::Dataset all;
  if (is_csv_path(config.data)) {
    try {
      all = data::load_csv(config.data);
    } catch (const std::runtime_error& e) {
      throw UsageError(fmt::format("--data: {}", e.what()));  // names file and line
    }
  } else {
    try {
      all = data::make(config.data, config.samples, config.noise_or_default(), config.seed);
    } catch (const std::invalid_argument& e) {
      throw UsageError(fmt::format("--data: {} (or a path to a CSV file)", e.what()));
    }
  }
  auto [train, test] = data::train_test_split(all, config.test_fraction, config.seed);
  if (train.n == 0 || test.n == 0)
    throw UsageError(fmt::format(
        "--test-fraction {} splits {} rows into {} train and {} test rows; both need at least one",
        config.test_fraction, all.n, train.n, test.n));
  return {std::move(train), std::move(test)};
}

std::vector<Record> train_run(const Config& config, const Split& split,
                              const std::string& activation, std::uint64_t seed,
                              const std::function<void(int)>& on_step, History* history) {
  Rng rng(seed);
  const nn::MLP model = make_mlp(split.train.dim, config.width, config.depth,
                                 static_cast<std::size_t>(split.train.classes), activation,
                                 nn::Init::parse(config.init), rng);
  Optimizer opt(config.optim, model.parameters(), config.lr);
  History h =
      train(model, opt, split.train, split.test,
            {static_cast<std::size_t>(config.steps), static_cast<std::size_t>(config.eval_every)},
            {}, [&](std::size_t k) {
              if (on_step) on_step(static_cast<int>(k));
            });
  std::vector<Record> out;
  for (const CurvePoint& c : h.curves)
    out.push_back(
        {activation, config.depth, seed, static_cast<int>(c.step), c.split, c.loss, c.accuracy});
  if (history) *history = std::move(h);
  return out;
}

namespace {

// Activations in the order they first appear.
std::vector<std::string> activations_of(const std::vector<Record>& records) {
  std::vector<std::string> names;
  for (const Record& r : records)
    if (std::find(names.begin(), names.end(), r.activation) == names.end())
      names.push_back(r.activation);
  return names;
}

}  // namespace

std::vector<Band> bands(const std::vector<Record>& records) {
  std::vector<Band> out;
  for (const std::string& a : activations_of(records))
    for (const char* split : {"train", "test"}) {
      std::map<int, std::pair<std::vector<double>, std::vector<double>>> by_step;
      for (const Record& r : records)
        if (r.activation == a && r.split == split) {
          by_step[r.step].first.push_back(r.loss);
          by_step[r.step].second.push_back(r.accuracy);
        }
      for (const auto& [step, v] : by_step)
        out.push_back({a, split, step, stats(v.first), stats(v.second)});
    }
  return out;
}

std::vector<Final> finals(const std::vector<Record>& records) {
  std::vector<Final> out;
  for (const std::string& a : activations_of(records)) {
    // Per seed: its last record of each split, and its first step at >= 90% train accuracy.
    std::map<std::uint64_t, std::map<std::string, const Record*>> last;
    std::map<std::uint64_t, int> reached;
    for (const Record& r : records) {
      if (r.activation != a) continue;
      const Record*& l = last[r.seed][r.split];
      if (l == nullptr || r.step >= l->step) l = &r;
      if (r.split == "train" && r.accuracy >= 0.9 &&
          (!reached.contains(r.seed) || r.step < reached[r.seed]))
        reached[r.seed] = r.step;
    }
    std::vector<double> train_loss, test_loss, train_acc, test_acc, steps;
    for (const auto& [seed, by_split] : last) {
      if (const auto t = by_split.find("train"); t != by_split.end())
        train_loss.push_back(t->second->loss), train_acc.push_back(t->second->accuracy);
      if (const auto t = by_split.find("test"); t != by_split.end())
        test_loss.push_back(t->second->loss), test_acc.push_back(t->second->accuracy);
    }
    for (const auto& [seed, step] : reached) steps.push_back(step);
    Final f;
    f.activation = a;
    f.train_loss = stats(train_loss), f.test_loss = stats(test_loss);
    f.train_acc = stats(train_acc), f.test_acc = stats(test_acc);
    f.seeds = static_cast<int>(last.size());
    f.reached_90 = static_cast<int>(steps.size());
    f.steps_to_90 = steps.empty() ? -1.0 : stats(steps).mean;
    out.push_back(std::move(f));
  }
  return out;
}

namespace {

// Splits one CSV line into fields, undoing RFC 4180 quoting.
std::vector<std::string> split_fields(const std::string& line) {
  std::vector<std::string> fields(1);
  bool quoted = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"')
        fields.back() += '"', ++i;
      else if (c == '"')
        quoted = false;
      else
        fields.back() += c;
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      fields.emplace_back();
    } else {
      fields.back() += c;
    }
  }
  return fields;
}

}  // namespace

std::vector<Record> read_curves(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw UsageError(fmt::format("--compare: {}: cannot open for reading", path));
  const std::string expected = "activation,depth,seed,step,split,loss,accuracy";
  std::vector<Record> out;
  std::string line;
  int line_no = 0;
  auto fail = [&](const std::string& what) {
    throw UsageError(fmt::format("--compare: {}:{}: {}", path, line_no, what));
  };
  while (std::getline(in, line)) {
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line_no == 1) {
      if (line != expected) fail(fmt::format("expected the header '{}', got '{}'", expected, line));
      continue;
    }
    if (line.empty()) continue;
    const std::vector<std::string> f = split_fields(line);
    if (f.size() != 7) fail(fmt::format("expected 7 fields, got {}", f.size()));
    auto number = [&](std::size_t i, const char* name) {
      char* end = nullptr;
      const double v = std::strtod(f[i].c_str(), &end);
      if (f[i].empty() || end != f[i].c_str() + f[i].size())
        fail(fmt::format("{} must be a number, got '{}'", name, f[i]));
      return v;
    };
    auto whole = [&](std::size_t i, const char* name) {
      const double v = number(i, name);
      if (!(v >= 0 && v == std::floor(v) && v < 1e9))
        fail(fmt::format("{} must be a whole number >= 0, got '{}'", name, f[i]));
      return v;
    };
    if (f[4] != "train" && f[4] != "test")
      fail(fmt::format("split must be train or test, got '{}'", f[4]));
    char* end = nullptr;
    const std::uint64_t seed = std::strtoull(f[2].c_str(), &end, 10);
    if (f[2].empty() || f[2][0] == '-' || end != f[2].c_str() + f[2].size())
      fail(fmt::format("seed must be a whole number >= 0, got '{}'", f[2]));
    out.push_back({f[0], static_cast<int>(whole(1, "depth")), seed,
                   static_cast<int>(whole(3, "step")), f[4], number(5, "loss"),
                   number(6, "accuracy")});
  }
  if (line_no == 0) fail("empty file, expected a curves.csv header");
  if (out.empty()) fail("no data rows");
  return out;
}

namespace key {
std::string final_train_acc(std::string_view a) { return fmt::format("final_train_acc.{}", a); }
std::string final_test_acc(std::string_view a) { return fmt::format("final_test_acc.{}", a); }
std::string final_test_acc_std(std::string_view a) {
  return fmt::format("final_test_acc_std.{}", a);
}
std::string final_train_loss(std::string_view a) { return fmt::format("final_train_loss.{}", a); }
std::string steps_to_90(std::string_view a) { return fmt::format("steps_to_90.{}", a); }
}  // namespace key

}  // namespace slope::demo::curves
