// KGCN music layout: user_artists.dat, item_index2entity_id.txt, kg.txt
// (NUL-separated), through load_dataset (load_kgcn_interactions) and
// load_side_graph (load_kgcn_kg).
#include "fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const char* const names[] = {"user_artists.dat", "item_index2entity_id.txt", "kg.txt"};
  gnnrec_fuzz::fuzz_dataset_folder(data, size, "kgcn", names);
  return 0;
}
