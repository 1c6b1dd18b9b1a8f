// The binary data-set cache (graph/cache.h): load_dataset_binary must
// return false for any file it did not write (never throw, never read out
// of bounds) and, when it returns true, a consistent Dataset. Input byte 0
// chooses the mode: even, the rest is the whole file; odd, the rest is the
// payload, wrapped in a valid header (magic, version, key, lengths and
// checksum), so that the payload parser is reached past the checksum.
#include <cstring>

#include "base/file_io.h"
#include "fuzz/fuzz_util.h"
#include "graph/cache.h"

namespace {
constexpr char kKey[] = "gnnrec-fuzz-key";

template <typename T>
void put(std::string& s, T v) {
  s.append(reinterpret_cast<const char*>(&v), sizeof v);
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace gnnrec_fuzz;
  if (size == 0) return 0;
  const std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  std::string file;
  if (data[0] % 2 == 0) {
    file.assign(rest);
  } else {
    file.append("GNNRECDS", 8);
    put<uint32_t>(file, 1);  // graph/cache.cpp's kVersion
    put<uint32_t>(file, 0);
    put<uint64_t>(file, sizeof kKey - 1);
    put<uint64_t>(file, rest.size());
    put<uint64_t>(file, gnnrec::checksum64(rest.data(), rest.size()));
    file.append(kKey, sizeof kKey - 1);
    file.append(rest);
  }
  const std::string dir = fresh_dir("cache");
  const std::string path = write_file(dir, "ds.bin", file);
  expect_clean([&] {
    gnnrec::Dataset ds;
    ds.name = "untouched";
    if (gnnrec::load_dataset_binary(path, kKey, &ds)) {
      check_dataset(ds);
    } else if (ds.name != "untouched") {
      finding("load_dataset_binary changed *out and returned false");
    }
  }, dir);
  return 0;
}
