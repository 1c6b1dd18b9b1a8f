// KGAT: train.txt, kg_final.txt, then test.txt when present (NUL-separated),
// through load_dataset and load_side_graph (load_kgat_kg).
#include "fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const char* const names[] = {"train.txt", "kg_final.txt", "test.txt"};
  gnnrec_fuzz::fuzz_dataset_folder(data, size, "kgat", names);
  return 0;
}
