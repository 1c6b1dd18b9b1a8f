#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "base/file_io.h"
#include "base/npy.h"
#include "tests/testing/scratch.h"

namespace gnnrec {
namespace {

// numpy 2.4's np.save header of a float32 array of the shape, written out:
// the dict padded with spaces to 128 bytes in all, then '\n'.
std::string numpy_header(const std::string& dict) {
  std::string h("\x93NUMPY\x01\x00\x76\x00", 10);
  h += dict;
  h.append(128 - 10 - dict.size() - 1, ' ');
  return h + "\n";
}

TEST(Npy, HeaderMatchesNumpysOwn) {
  EXPECT_EQ(npy_header_float32({2, 3}),
            numpy_header("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }"));
  EXPECT_EQ(npy_header_float32({5}),
            numpy_header("{'descr': '<f4', 'fortran_order': False, 'shape': (5,), }"));
  EXPECT_EQ(npy_header_float32({}),
            numpy_header("{'descr': '<f4', 'fortran_order': False, 'shape': (), }"));
}

TEST(Npy, DataStartAtAMultipleOf64) {
  for (const std::vector<int64_t>& shape :
       {std::vector<int64_t>{29858, 64}, {1, 2, 3, 4, 5, 6, 7}, {123456789012, 1}}) {
    const std::string h = npy_header_float32(shape);
    EXPECT_EQ(h.size() % 64, 0U);
    EXPECT_EQ(h.back(), '\n');
    EXPECT_EQ(static_cast<size_t>(static_cast<unsigned char>(h[8]) + 256 * h[9]), h.size() - 10);
  }
  EXPECT_THROW(npy_header_float32({2, -1}), std::invalid_argument);
}

TEST(Npy, WritesTheValuesInRowMajorOrderAfterTheHeader) {
  const std::string path = testing::fresh_dir("gnnrec_npy") + "/a.npy";
  const std::vector<float> values{1.5F, -2.0F, 0.25F, 3.0F, 1e-3F, -7.0F};
  write_npy_float32(path, values.data(), {3, 2});
  const std::string bytes = read_file(path);
  ASSERT_EQ(bytes.size(), 128 + values.size() * 4);
  EXPECT_EQ(bytes.substr(0, 128), npy_header_float32({3, 2}));
  std::vector<float> back(values.size());
  std::memcpy(back.data(), bytes.data() + 128, values.size() * 4);
  EXPECT_EQ(back, values);
}

}  // namespace
}  // namespace gnnrec
