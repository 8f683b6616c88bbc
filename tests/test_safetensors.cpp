// Checkpoints in the safetensors format: a GPT round-trips bit for bit in float and double;
// a file PyTorch wrote (tests/reference/safetensors_torch.py) loads into slope's GPT with
// PyTorch's weights and gives PyTorch's logits; every malformed file is an error naming the
// file and the tensor, after which every parameter is as it was.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <slope/slope.hpp>

namespace safetensors_test {
namespace {

namespace fs = std::filesystem;
using slope::nn::Named;

fs::path temp_dir() {
  const fs::path d = fs::temp_directory_path() / ("slope-safetensors-" + std::to_string(getpid()));
  fs::create_directories(d);
  return d;
}

std::string read_bytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

const slope::nn::GPTConfig kConfig{
    .vocab_size = 7, .block_size = 6, .n_layer = 2, .n_head = 2, .n_embd = 8};

template <class T> void expect_same(const Named<T>& a, const Named<T>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i)
    EXPECT_TRUE(a[i].second.value() == b[i].second.value()) << a[i].first;
}

TEST(Safetensors, AGptRoundTripsBitForBit) {
  const fs::path dir = temp_dir();
  slope::Rng rng(1);
  const slope::nn::GPT saved(kConfig, rng), loaded(kConfig, rng);  // different weights
  slope::nn::save_safetensors((dir / "f.safetensors").string(), saved.named_parameters());
  slope::nn::load_safetensors((dir / "f.safetensors").string(), loaded.named_parameters());
  expect_same(saved.named_parameters(), loaded.named_parameters());
  const slope::nn::GPTD saved_d(kConfig, rng), loaded_d(kConfig, rng);
  slope::nn::save_safetensors((dir / "d.safetensors").string(), saved_d.named_parameters());
  slope::nn::load_safetensors((dir / "d.safetensors").string(), loaded_d.named_parameters());
  expect_same(saved_d.named_parameters(), loaded_d.named_parameters());
  // The layout: 8 bytes of header length, then JSON with PyTorch's shapes: biases 1-D.
  const std::string bytes = read_bytes(dir / "f.safetensors");
  std::uint64_t n = 0;
  std::memcpy(&n, bytes.data(), 8);
  EXPECT_EQ(n % 8, 0u);  // the data 8-byte aligned
  const std::string header = bytes.substr(8, n);
  EXPECT_NE(header.find(R"("transformer.h.0.ln_1.bias":{"data_offsets":[)"), std::string::npos);
  EXPECT_NE(header.find(R"("dtype":"F32","shape":[8]})"), std::string::npos);
  EXPECT_NE(header.find(R"("dtype":"F32","shape":[24,8]})"), std::string::npos);  // c_attn
  // Every parameter once (the head is wte): wte 7 x 8 + wpe 6 x 8, and per block 2 LayerNorms
  // of 16, c_attn 8 x 24 + 24, attn.c_proj 8 x 8 + 8, c_fc 8 x 32 + 32, mlp.c_proj 32 x 8 + 8
  // (872), then ln_f's 16: 1864 floats.
  EXPECT_EQ(bytes.size(), 8 + n + 4 * (56 + 48 + 2 * 872 + 16u));
  fs::remove_all(dir);
}

TEST(Safetensors, PyTorchsFileLoadsWithPyTorchsWeights) {
  slope::Rng rng(1);
  const slope::nn::GPTD model(kConfig, rng);
  slope::nn::load_safetensors(
      std::string(SLOPE_SOURCE_DIR) + "/tests/reference/gpt_torch.safetensors",
      model.named_parameters());
  // tests/reference/gpt.py's weights, which the file holds: the k-th s * sin(k + 0.7 i + 1.3 j)
  int k = 0;
  for (const auto& [name, p] : model.named_parameters()) {
    ++k;
    const bool ln = name.find(".ln_") != std::string::npos && name.ends_with(".weight");
    for (Eigen::Index i = 0; i < p.rows(); ++i)
      for (Eigen::Index j = 0; j < p.cols(); ++j) {
        const double f = std::sin(k + 0.7 * static_cast<double>(i) + 1.3 * static_cast<double>(j));
        const double want = ln ? 1 + 0.1 * f : name.ends_with(".bias") ? 0.1 * f : 0.3 * f;
        ASSERT_EQ(p.value()(i, j), want) << name << " (" << i << ", " << j << ")";
      }
  }
  // Into a float model: F64 converted.
  const slope::nn::GPT f(kConfig, rng);
  slope::nn::load_safetensors(
      std::string(SLOPE_SOURCE_DIR) + "/tests/reference/gpt_torch.safetensors",
      f.named_parameters());
  EXPECT_EQ(f.wte.weight.value()(2, 3), static_cast<float>(model.wte.weight.value()(2, 3)));
}

// A small file by hand: tensors a (2, 3) and b (1, 3), F32 unless said.
std::string file_of(const std::string& header, std::size_t data_bytes) {
  std::string out(8, '\0');
  const std::uint64_t n = header.size();
  std::memcpy(out.data(), &n, 8);
  return out + header + std::string(data_bytes, '\x01');
}
const std::string kGood = R"({"a":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]},)"
                          R"("b":{"dtype":"F32","shape":[3],"data_offsets":[24,36]}})";

TEST(Safetensors, EveryMalformedFileNamesTheFileAndTheTensorAndChangesNothing) {
  const slope::Tensor a(slope::Tensor::Matrix::Constant(2, 3, 5.0f), true),
      b(slope::Tensor::Matrix::Constant(1, 3, 6.0f), true);
  const Named<float> named{{"a", a}, {"b", b}};
  auto error = [&](const std::string& bytes) {
    try {
      slope::nn::load_safetensors_bytes(bytes, named, "ckpt.safetensors");
    } catch (const std::runtime_error& e) {
      EXPECT_EQ(a.value(), slope::Tensor::Matrix::Constant(2, 3, 5.0f)) << "a changed";
      EXPECT_EQ(b.value(), slope::Tensor::Matrix::Constant(1, 3, 6.0f)) << "b changed";
      const std::string msg = e.what();
      EXPECT_TRUE(msg.starts_with("slope::nn::load_safetensors: ckpt.safetensors: ")) << msg;
      return msg;
    }
    return std::string("no error");
  };
  auto has = [](const std::string& msg, const std::string& part) {
    return msg.find(part) != std::string::npos;
  };
  EXPECT_TRUE(has(error("abc"), "shorter than the 8-byte header length"));
  EXPECT_TRUE(has(error(file_of(kGood, 36).substr(0, 50)), "runs past the end"));  // truncated
  EXPECT_TRUE(has(error(file_of(kGood, 30)), "tensor 'b': data_offsets [24, 36] outside"));
  EXPECT_TRUE(has(error(file_of(kGood, 40)), "4 bytes of data after the last tensor"));
  EXPECT_TRUE(has(error(file_of("{\"a\":", 0)), "the header is not JSON"));
  std::string f16 = kGood;
  f16.replace(f16.find("F32"), 3, "F16");
  EXPECT_TRUE(has(error(file_of(f16, 36)), "tensor 'a': dtype F16"));
  EXPECT_TRUE(has(error(file_of(R"({"a":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]},)"
                                R"("b":{"dtype":"F32","shape":[3],"data_offsets":[20,32]}})",
                                36)),
                  "overlaps"));
  EXPECT_TRUE(has(error(file_of(R"({"a":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]},)"
                                R"("b":{"dtype":"F32","shape":[3],"data_offsets":[28,40]}})",
                                40)),
                  "tensor 'b': a hole"));
  EXPECT_TRUE(
      has(error(file_of(R"({"a":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]}})", 24)),
          "tensor 'b' is missing"));
  EXPECT_TRUE(has(error(file_of(kGood.substr(0, kGood.size() - 1) +
                                    R"(,"c":{"dtype":"F32","shape":[1],"data_offsets":[36,40]}})",
                                40)),
                  "tensor 'c' is not one of the model's"));
  EXPECT_TRUE(has(error(file_of(R"({"a":{"dtype":"F32","shape":[3,2],"data_offsets":[0,24]},)"
                                R"("b":{"dtype":"F32","shape":[3],"data_offsets":[24,36]}})",
                                36)),
                  "tensor 'a' has shape (3, 2), the model's is (2, 3)"));
  EXPECT_TRUE(has(error(file_of(R"({"a":{"dtype":"F32","shape":[2,3],"data_offsets":[0,20]},)"
                                R"("b":{"dtype":"F32","shape":[3],"data_offsets":[20,32]}})",
                                32)),
                  "tensor 'a': 20 bytes for 6 elements"));
  EXPECT_TRUE(
      has(error(file_of(R"({"a":{"dtype":"F32","shape":[2,-3],"data_offsets":[0,24]}})", 24)),
          "tensor 'a': each size of shape must be a non-negative integer"));
  EXPECT_TRUE(has(error(file_of("[1, 2]", 0)), "not a JSON object"));
  // The good file loads: the (1, 3) tensor b from its 1-D shape (3,).
  EXPECT_EQ(error(file_of(kGood, 36)), "no error");
  EXPECT_EQ(a.value()(0, 0), b.value()(0, 2));  // both read the same bytes
  const fs::path dir = temp_dir();
  EXPECT_THROW(slope::nn::load_safetensors((dir / "missing").string(), named), std::runtime_error);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace safetensors_test
