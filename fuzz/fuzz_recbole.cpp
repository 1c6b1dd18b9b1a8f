// RecBole atomic files: ml.inter, ml.user, ml.item, ml.kg, ml.link
// (NUL-separated; missing trailing parts are missing files), through
// load_dataset (load_recbole) and load_side_graph (load_recbole_kg with both
// ml.kg and ml.link, else load_recbole_side).
#include "fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const char* const names[] = {"ml.inter", "ml.user", "ml.item", "ml.kg", "ml.link"};
  gnnrec_fuzz::fuzz_dataset_folder(data, size, "recbole", names);
  return 0;
}
