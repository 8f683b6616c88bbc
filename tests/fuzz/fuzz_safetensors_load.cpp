// libFuzzer target: any bytes as a safetensors checkpoint for slope::nn::load_safetensors
// into two tensors, in float and in double. It loads or throws std::runtime_error naming the
// file, and a failed load leaves every tensor bit for bit as it was.
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

#include <slope/safetensors.hpp>

#include "fuzz_check.hpp"

namespace {

template <class T> void load_into(std::string_view bytes) {
  using slope::fuzz::check;
  using M = typename slope::BasicTensor<T>::Matrix;
  const slope::BasicTensor<T> a(M::Constant(2, 3, T(5))), b(M::Constant(1, 3, T(6)));
  const slope::nn::Named<T> named{{"a", a}, {"b", b}};
  try {
    slope::nn::load_safetensors_bytes(bytes, named, "fuzz.safetensors");
  } catch (const std::runtime_error& e) {
    const std::string msg = e.what();
    check(slope::fuzz::starts_with(msg, "slope::nn::load_safetensors: fuzz.safetensors:"),
          "the error does not name the file: " + msg);
    check(msg.size() < 2000, "an error of " + std::to_string(msg.size()) + " characters");
    check(a.value() == M::Constant(2, 3, T(5)) && b.value() == M::Constant(1, 3, T(6)),
          "a failed load changed a tensor: " + msg);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  load_into<float>(bytes);
  load_into<double>(bytes);
  return 0;
}
