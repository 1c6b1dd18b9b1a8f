// MovieLens 100K: u.data, then u.user, u.item and u.genre (parts separated
// by NUL bytes; a missing part is a missing file), through load_dataset and
// load_side_graph (the u.user/u.item side information).
#include "fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const char* const names[] = {"u.data", "u.user", "u.item", "u.genre"};
  gnnrec_fuzz::fuzz_dataset_folder(data, size, "ml-100k", names);
  return 0;
}
