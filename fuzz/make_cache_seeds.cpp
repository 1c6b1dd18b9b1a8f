// Writes the seed inputs of fuzz_cache into the folder given as argv[1]:
// small data sets saved by save_dataset_binary, as whole files (mode byte 0)
// and as bare payloads (mode byte 1).
#include <cstdio>
#include <fstream>
#include <string>

#include "base/file_io.h"
#include "graph/cache.h"
#include "graph/interactions.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s OUT_DIR\n", argv[0]);
    return 2;
  }
  const std::string out = argv[1];
  gnnrec::Dataset a;
  a.name = "tiny";
  a.format = "ml-100k";
  for (const char* u : {"1", "2", "3"}) a.users.intern(u);
  for (const char* i : {"10", "20", "30", "40"}) a.items.intern(i);
  a.train.user = {0, 0, 1, 2, 2};
  a.train.item = {0, 1, 2, 3, 0};
  a.train.rating = {5, 3, 4, 1, 2};
  a.train.timestamp = {100, 200, 300, 400, 500};
  a.test.user = {1};
  a.test.item = {3};
  a.test.rating = {4};
  a.test.timestamp = {600};
  gnnrec::Dataset b;
  b.name = "implicit";
  b.format = "csv";
  for (const char* u : {"alice", "bob"}) b.users.intern(u);
  for (const char* i : {"x", "y"}) b.items.intern(i);
  b.train.user = {0, 1, 1};
  b.train.item = {1, 0, 1};
  int n = 0;
  for (const gnnrec::Dataset* ds : {&a, &b}) {
    const std::string tmp = out + "/.seed.bin";
    gnnrec::save_dataset_binary(*ds, tmp, "gnnrec-fuzz-key");
    const std::string file = gnnrec::read_file(tmp);
    std::remove(tmp.c_str());
    constexpr size_t kHeader = 8 + 4 + 4 + 8 + 8 + 8 + sizeof("gnnrec-fuzz-key") - 1;
    std::ofstream(out + "/whole" + std::to_string(n), std::ios::binary) << '\x00' << file;
    std::ofstream(out + "/payload" + std::to_string(n), std::ios::binary)
        << '\x01' << file.substr(kHeader);
    ++n;
  }
  return 0;
}
