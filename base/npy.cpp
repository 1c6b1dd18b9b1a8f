#include "base/npy.h"

#include <cstring>
#include <stdexcept>
#include <string_view>

#include "base/file_io.h"

namespace gnnrec {

std::string npy_header_float32(const std::vector<int64_t>& shape) {
  if (shape.size() > 32) throw std::invalid_argument("npy: more than 32 dimensions");
  std::string dims;
  for (const int64_t n : shape) {
    if (n < 0) throw std::invalid_argument("npy: negative dimension " + std::to_string(n));
    dims += std::to_string(n) + ", ";
  }
  // Python's tuple syntax: (3,) for one dimension, (3, 4) for two, () for none.
  if (shape.size() > 1) dims.resize(dims.size() - 2);
  else if (shape.size() == 1) dims.resize(dims.size() - 1);
  std::string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + dims + "), }";
  // magic (6) + version (2) + length (2) + dict + padding + '\n' = 64 k.
  const size_t unpadded = 10 + dict.size() + 1;
  dict.append((64 - unpadded % 64) % 64, ' ');
  dict += '\n';
  const auto len = static_cast<uint16_t>(dict.size());
  std::string out("\x93NUMPY\x01\x00", 8);
  out += static_cast<char>(len & 0xff);
  out += static_cast<char>(len >> 8);
  return out + dict;
}

void write_npy_float32(const std::string& path, const float* data,
                       const std::vector<int64_t>& shape) {
  static_assert(sizeof(float) == 4, "npy: float must be IEEE single precision");
  const std::string header = npy_header_float32(shape);
  size_t count = 1;
  for (const int64_t n : shape) count *= static_cast<size_t>(n);
  write_file_atomic(
      path, {header, std::string_view(reinterpret_cast<const char*>(data), count * sizeof(float))});
}

}  // namespace gnnrec
