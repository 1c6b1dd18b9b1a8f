// MovieLens 1M ratings.dat (`user::item::rating::timestamp`).
#include "fuzz/fuzz_util.h"
#include "graph/loaders.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace gnnrec_fuzz;
  const std::string dir = fresh_dir("ml-1m");
  const std::string path =
      write_file(dir, "ratings.dat", std::string_view(reinterpret_cast<const char*>(data), size));
  expect_clean([&] { check_dataset(gnnrec::load_movielens_1m(path)); }, dir);
  return 0;
}
