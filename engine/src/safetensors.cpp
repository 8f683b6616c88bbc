#include "slope/safetensors.hpp"

#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <stdexcept>

#include <nlohmann/json.hpp>

namespace slope::nn {

static_assert(std::endian::native == std::endian::little,
              "safetensors stores little-endian numbers; this build copies them as they are");

namespace {

using json = nlohmann::json;

// The shape a tensor is stored with: one row as (C,), as PyTorch's biases and LayerNorm.
template <class T> std::vector<std::int64_t> stored_shape(const BasicTensor<T>& t) {
  if (t.rows() == 1) return {t.cols()};
  return {t.rows(), t.cols()};
}

template <class T> constexpr const char* dtype_name() { return sizeof(T) == 4 ? "F32" : "F64"; }

[[noreturn]] void fail(const std::string& file, const std::string& what) {
  throw std::runtime_error("slope::nn::load_safetensors: " + file + ": " + what);
}

std::string shape_text(const std::vector<std::int64_t>& s) {
  std::string out = "(";
  for (std::size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
  return out + (s.size() == 1 ? ",)" : ")");
}

// One tensor of the file, checked against the header's own rules.
struct Entry {
  std::string dtype;
  std::vector<std::int64_t> shape;
  std::uint64_t begin = 0, end = 0;
};

// A non-negative integer of the JSON, or an error naming the tensor and field.
std::uint64_t count_of(const json& v, const std::string& file, const std::string& what) {
  if (!v.is_number_unsigned()) fail(file, what + " must be a non-negative integer");
  return v.get<std::uint64_t>();
}

}  // namespace

template <class T> void save_safetensors(const std::string& path, const Named<T>& named) {
  json header = json::object();
  std::uint64_t offset = 0;
  for (const auto& [name, t] : named) {
    if (name == "__metadata__" || header.contains(name))
      throw std::invalid_argument("slope::nn::save_safetensors: " + path + ": the name '" + name +
                                  "' is " + (name == "__metadata__" ? "reserved" : "used twice"));
    const std::uint64_t bytes = static_cast<std::uint64_t>(t.value().size()) * sizeof(T);
    header[name] = {{"dtype", dtype_name<T>()},
                    {"shape", stored_shape(t)},
                    {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
  }
  std::string text = header.dump();
  text.resize((text.size() + 7) / 8 * 8, ' ');  // the data starts 8-byte aligned
  const std::filesystem::path target(path);
  std::string tmp_name = ".";  // appended, not a + chain: GCC 12 warns falsely (-Wrestrict)
  tmp_name += target.filename().string();
  tmp_name += ".tmp-";
  tmp_name += std::to_string(getpid());
  const std::filesystem::path tmp = target.parent_path() / tmp_name;
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    const std::uint64_t n = text.size();
    out.write(reinterpret_cast<const char*>(&n), sizeof n);
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
    for (const auto& [name, t] : named) {
      // Row by row: slope's matrices are column-major, safetensors' row-major.
      const typename BasicTensor<T>::Matrix row_major = t.value().transpose();
      out.write(
          reinterpret_cast<const char*>(row_major.data()),
          static_cast<std::streamsize>(row_major.size() * static_cast<Eigen::Index>(sizeof(T))));
    }
    out.flush();
    if (!out) {
      std::error_code ec;
      std::filesystem::remove(tmp, ec);
      throw std::runtime_error("slope::nn::save_safetensors: " + path + ": cannot write the file");
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, target, ec);
  if (ec) {
    std::filesystem::remove(tmp, ec);
    throw std::runtime_error("slope::nn::save_safetensors: " + path + ": cannot write the file");
  }
}

template <class T>
void load_safetensors_bytes(std::string_view bytes, const Named<T>& named,
                            const std::string& file) {
  if (bytes.size() < 8) fail(file, "shorter than the 8-byte header length");
  std::uint64_t n = 0;
  std::memcpy(&n, bytes.data(), 8);
  if (n > bytes.size() - 8)
    fail(file, "the header length " + std::to_string(n) + " runs past the end of the file (" +
                   std::to_string(bytes.size()) + " bytes)");
  json header;
  try {
    header = json::parse(bytes.substr(8, n));
  } catch (const json::exception& e) {
    fail(file, std::string("the header is not JSON: ") + e.what());
  }
  if (!header.is_object()) fail(file, "the header is not a JSON object");
  const std::string_view data = bytes.substr(8 + n);

  // The header's own rules: every entry well formed, within the data, no overlap, no hole.
  std::map<std::string, Entry> entries;
  for (const auto& [name, v] : header.items()) {
    if (name == "__metadata__") continue;
    const std::string tensor = "tensor '" + name + "'";
    if (!v.is_object() || !v.contains("dtype") || !v.contains("shape") ||
        !v.contains("data_offsets"))
      fail(file, tensor + ": needs dtype, shape and data_offsets");
    Entry e;
    if (!v["dtype"].is_string()) fail(file, tensor + ": dtype must be a string");
    e.dtype = v["dtype"].template get<std::string>();
    if (e.dtype != "F32" && e.dtype != "F64")
      fail(file, tensor + ": dtype " + e.dtype + " (slope reads F32 and F64)");
    if (!v["shape"].is_array() || v["shape"].size() > 2)
      fail(file, tensor + ": shape must be a list of at most 2 sizes");
    std::uint64_t elements = 1;
    for (const json& d : v["shape"]) {
      const std::uint64_t size = count_of(d, file, tensor + ": each size of shape");
      if (size > (std::uint64_t{1} << 40))
        fail(file, tensor + ": a size of " + std::to_string(size));
      e.shape.push_back(static_cast<std::int64_t>(size));
      elements *= size;
      if (elements > (std::uint64_t{1} << 40)) fail(file, tensor + ": too many elements");
    }
    const json& off = v["data_offsets"];
    if (!off.is_array() || off.size() != 2)
      fail(file, tensor + ": data_offsets must be [begin, end]");
    e.begin = count_of(off[0], file, tensor + ": data_offsets' begin");
    e.end = count_of(off[1], file, tensor + ": data_offsets' end");
    const std::uint64_t width = e.dtype == "F32" ? 4 : 8;
    if (e.begin > e.end || e.end > data.size())
      fail(file, tensor + ": data_offsets [" + std::to_string(e.begin) + ", " +
                     std::to_string(e.end) + "] outside the " + std::to_string(data.size()) +
                     " bytes of data");
    if (e.end - e.begin != elements * width)
      fail(file, tensor + ": " + std::to_string(e.end - e.begin) + " bytes for " +
                     std::to_string(elements) + " elements of " + e.dtype);
    entries.emplace(name, std::move(e));
  }
  std::vector<std::pair<std::uint64_t, std::string>> order;
  for (const auto& [name, e] : entries) order.emplace_back(e.begin, name);
  std::sort(order.begin(), order.end());
  std::uint64_t covered = 0;
  for (const auto& [begin, name] : order) {
    if (begin < covered) fail(file, "tensor '" + name + "': its data overlaps another tensor's");
    if (begin > covered) fail(file, "tensor '" + name + "': a hole in the data before it");
    covered = entries.at(name).end;
  }
  if (covered != data.size())
    fail(file, std::to_string(data.size() - covered) + " bytes of data after the last tensor");

  // Against the model: every name there, none other, each of its shape.
  std::set<std::string> wanted;
  for (const auto& [name, t] : named) {
    wanted.insert(name);
    const auto it = entries.find(name);
    if (it == entries.end()) fail(file, "tensor '" + name + "' is missing");
    const std::vector<std::int64_t>& s = it->second.shape;
    const bool fits = (s.size() == 2 && s[0] == t.rows() && s[1] == t.cols()) ||
                      (s.size() == 1 && t.rows() == 1 && s[0] == t.cols());
    if (!fits)
      fail(file, "tensor '" + name + "' has shape " + shape_text(s) + ", the model's is " +
                     shape_text({t.rows(), t.cols()}));
  }
  for (const auto& [name, e] : entries)
    if (!wanted.count(name)) fail(file, "tensor '" + name + "' is not one of the model's");

  // Only now, write.
  for (const auto& [name, t] : named) {
    const Entry& e = entries.at(name);
    typename BasicTensor<T>::Matrix& m = t.value();
    const char* src = data.data() + e.begin;
    for (Eigen::Index i = 0; i < m.rows(); ++i)
      for (Eigen::Index j = 0; j < m.cols(); ++j) {
        const std::size_t k = static_cast<std::size_t>(i * m.cols() + j);  // row-major
        if (e.dtype == "F32") {
          float f;
          std::memcpy(&f, src + 4 * k, 4);
          m(i, j) = static_cast<T>(f);
        } else {
          double d;
          std::memcpy(&d, src + 8 * k, 8);
          m(i, j) = static_cast<T>(d);
        }
      }
  }
}

template <class T> void load_safetensors(const std::string& path, const Named<T>& named) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw std::runtime_error("slope::nn::load_safetensors: " + path + ": cannot open the file");
  const std::string bytes{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  if (in.bad())
    throw std::runtime_error("slope::nn::load_safetensors: " + path + ": cannot read the file");
  load_safetensors_bytes(bytes, named, path);
}

template void save_safetensors(const std::string&, const Named<float>&);
template void save_safetensors(const std::string&, const Named<double>&);
template void load_safetensors(const std::string&, const Named<float>&);
template void load_safetensors(const std::string&, const Named<double>&);
template void load_safetensors_bytes(std::string_view, const Named<float>&, const std::string&);
template void load_safetensors_bytes(std::string_view, const Named<double>&, const std::string&);

}  // namespace slope::nn
