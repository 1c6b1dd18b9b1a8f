#include <cerrno>
#include <filesystem>

#include <gtest/gtest.h>

#include "base/file_io.h"
#include "graph/interactions.h"
#include "tests/testing/scratch.h"

namespace gnnrec {
namespace {
namespace fs = std::filesystem;

std::string fresh(const std::string& name) { return testing::fresh_dir("gnnrec_file_io_" + name); }

TEST(FileIo, AtomicWriteReplacesAndLeavesNoTemporaries) {
  const std::string dir = fresh("atomic");
  const std::string path = dir + "/f.txt";
  write_file_atomic(path, "old");
  write_file_atomic(path, {"ne", "w", ""});
  EXPECT_EQ(read_file(path), "new");
  int files = 0;
  for (const auto& e : fs::directory_iterator(dir)) files += e.is_regular_file();
  EXPECT_EQ(files, 1);
}

TEST(FileIo, FailedWriteNamesThePathAndKeepsTheOldFile) {
  const std::string dir = fresh("fail");
  const std::string path = dir + "/keep.txt";
  write_file_atomic(path, "precious");
  try {
    write_file_atomic(dir + "/no-such-dir/x.txt", "data");
    FAIL() << "expected DataError";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("no-such-dir/x.txt: cannot write"), std::string::npos)
        << e.what();
  }
  EXPECT_EQ(read_file(path), "precious");
  EXPECT_THROW(read_file(dir + "/missing"), DataError);
}

// The test-only write hook (train/fault_injection.h uses it): an errno it
// returns fails the write as a failing write(2) would, after the first part
// reached the temporary file; the old file stays and no temporary is left.
TEST(FileIo, WriteHookFailureKeepsTheOldFileAndLeavesNoTemporaries) {
  const std::string dir = fresh("hook");
  const std::string path = dir + "/keep.ckpt";
  write_file_atomic(path, "precious");
  static std::string seen;
  set_write_hook([](const std::string& p) {
    seen = p;
    return ENOSPC;
  });
  try {
    write_file_atomic(path, {"head", "tail"});
    set_write_hook(nullptr);
    FAIL() << "expected DataError";
  } catch (const DataError& e) {
    set_write_hook(nullptr);
    EXPECT_EQ(std::string(e.what()), path + ": cannot write: No space left on device");
  }
  EXPECT_EQ(seen, path);
  EXPECT_EQ(read_file(path), "precious");
  int files = 0;
  for (const auto& e : fs::directory_iterator(dir)) files += e.is_regular_file();
  EXPECT_EQ(files, 1);
  write_file_atomic(path, {"new", "er"});  // unhooked again
  EXPECT_EQ(read_file(path), "newer");
}

TEST(FileIo, AppendAddsLines) {
  const std::string path = fresh("append") + "/log.jsonl";
  append_line_durable(path, "a");
  append_line_durable(path, "{\"b\": 1}");
  EXPECT_EQ(read_file(path), "a\n{\"b\": 1}\n");
}

TEST(FileIo, ChecksumByHand) {
  // Empty input: the FNV-1a offset basis. One byte: (basis ^ byte) * prime.
  EXPECT_EQ(checksum64("", 0), 0xcbf29ce484222325ULL);
  EXPECT_EQ(checksum64("a", 1), (0xcbf29ce484222325ULL ^ 0x61ULL) * 0x100000001b3ULL);
  EXPECT_NE(checksum64("abcdefgh", 8), checksum64("abcdefgi", 8));
}

}  // namespace
}  // namespace gnnrec
