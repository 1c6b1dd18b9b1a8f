// LightGCN text: train.txt, then (after a NUL byte, when present) test.txt,
// through load_dataset (format detection + load_lightgcn).
#include "fuzz/fuzz_util.h"
#include "graph/loaders.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace gnnrec_fuzz;
  const auto parts = split_parts(data, size, 2);
  const std::string dir = fresh_dir("lightgcn");
  write_file(dir, "train.txt", parts[0]);
  if (parts.size() > 1) write_file(dir, "test.txt", parts[1]);
  else remove_file(dir, "test.txt");
  expect_clean([&] { check_dataset(gnnrec::load_dataset(dir)); }, dir);
  return 0;
}
