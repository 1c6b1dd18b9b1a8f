// NumPy's .npy format (version 1.0), written by our own small writer so that
// exported representations open with numpy.load and need no Python at
// export time. Torch-free.
//
// The file is the magic "\x93NUMPY", the version bytes 1 0, a little-endian
// uint16 header length, then an ASCII dict
//   {'descr': '<f4', 'fortran_order': False, 'shape': (R, C), }
// padded with spaces and ended by '\n' so that the data start at a multiple
// of 64 bytes, then the values in C (row-major) order.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace gnnrec {

// The header (magic, version, length and dict) of a little-endian float32
// array of the given shape (any rank, 0 to 32 dimensions; each >= 0).
// Throws std::invalid_argument for a negative dimension or too many.
std::string npy_header_float32(const std::vector<int64_t>& shape);

// Writes `data` (the product of `shape` floats, C order) as PATH, atomically
// (base/file_io.h). DataError when the file cannot be written; the machine
// must be little-endian (every platform gnnrec builds on is).
void write_npy_float32(const std::string& path, const float* data,
                       const std::vector<int64_t>& shape);

}  // namespace gnnrec
