// Delimited text with a header (CSV/TSV): one file, load_delimited.
#include "fuzz/fuzz_util.h"
#include "graph/loaders.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace gnnrec_fuzz;
  const std::string dir = fresh_dir("csv");
  const std::string path =
      write_file(dir, "ratings.csv", std::string_view(reinterpret_cast<const char*>(data), size));
  expect_clean([&] { check_dataset(gnnrec::load_delimited(path)); }, dir);
  return 0;
}
