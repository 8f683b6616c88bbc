// Checkpoints in the safetensors format (Hugging Face's), which PyTorch users read with a
// few lines of Python (tests/reference/safetensors_torch.py): an 8-byte little-endian header
// length, a JSON header of name -> {dtype, shape, data_offsets}, then the tensors' raw
// little-endian bytes, one after the other.
//
//   slope::nn::save_safetensors("ckpt.safetensors", model.named_parameters());
//   slope::nn::load_safetensors("ckpt.safetensors", model.named_parameters());
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "slope/tensor.hpp"

namespace slope::nn {

template <class T> using Named = std::vector<std::pair<std::string, BasicTensor<T>>>;

// Writes every named tensor as F32 (Tensor) or F64 (TensorD), in the given order. A tensor
// of one row is stored 1-D, (C,), as PyTorch stores biases and LayerNorm's parameters;
// others (rows, cols). The file is written beside its path and renamed into place, so a
// failed or interrupted save leaves the previous file. Throws std::runtime_error naming the
// file if it cannot be written, std::invalid_argument for a name used twice or "__metadata__".
template <class T> void save_safetensors(const std::string& path, const Named<T>& named);

// Reads a file written by save_safetensors or by the safetensors library into the named
// tensors: every name must be there with its shape ((C,) or (1, C) for a one-row tensor),
// as F32 or F64 (converted to the tensor's type), and no other tensor may be. Everything is
// checked before anything is written: a malformed file (truncated, a header length past the
// end, bad JSON, an unknown dtype, offsets out of range, overlapping or leaving a hole, a
// missing, extra or mis-shaped tensor) throws std::runtime_error naming the file and the
// tensor, and leaves every tensor as it was.
template <class T> void load_safetensors(const std::string& path, const Named<T>& named);
// The same from the file's bytes; `name` is what errors call it.
template <class T>
void load_safetensors_bytes(std::string_view bytes, const Named<T>& named, const std::string& name);

}  // namespace slope::nn
