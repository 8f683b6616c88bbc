// libFuzzer target: any bytes as a parameter file for slope::nn::load into a small MLP,
// in float and in double. It loads or throws std::runtime_error naming the file and the
// line, and a failed load leaves every parameter bit for bit as it was.
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <slope/nn.hpp>

#include "fuzz_check.hpp"

namespace {

template <class T> void load_into_model(const std::string& bytes) {
  using slope::fuzz::check;
  slope::Rng rng(1);
  const slope::nn::BasicMLP<T> model({2, 3, 2}, "tanh", slope::nn::Init::pytorch(), rng);
  std::vector<typename slope::BasicTensor<T>::Matrix> before;
  for (const auto& p : model.parameters()) before.push_back(p.value());
  std::istringstream in(bytes);
  try {
    slope::nn::load(in, model.parameters(), "fuzz.params");
  } catch (const std::runtime_error& e) {
    const std::string msg = e.what();
    check(slope::fuzz::starts_with(msg, "slope::nn::load: fuzz.params:"),
          "the error does not name the file: " + msg);
    check(msg.size() < 400, "an error of " + std::to_string(msg.size()) + " characters");
    const auto params = model.parameters();
    for (std::size_t k = 0; k < params.size(); ++k)
      check(params[k].value().cwiseEqual(before[k]).all(),
            "a failed load changed tensor " + std::to_string(k) + ": " + msg);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  load_into_model<float>(bytes);
  load_into_model<double>(bytes);
  return 0;
}
