#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <set>

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

TEST(FileIo, ReadFileRefusesDirectoriesAndFifosWithoutBlocking) {
  const std::string dir = fresh("special");
  const auto error = [](const std::string& p) {
    return testing::error_of<DataError>([&] { read_file(p); });
  };
  EXPECT_EQ(error(dir), dir + ": cannot read: is a directory");
  const std::string fifo = dir + "/pipe";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0644), 0);
  // No writer: a blocking open would hang here.
  EXPECT_EQ(error(fifo), fifo + ": cannot read: not a regular file (a FIFO, socket or device)");
}

// The bits in which two 64-bit values differ.
int bits_apart(uint64_t a, uint64_t b) { return __builtin_popcountll(a ^ b); }

TEST(FileIo, ContentHashMovesWithEveryByte) {
  // Every single-byte edit of a 64-byte text, at every position and in the
  // top bit too, gives a hash of its own that differs from the original's
  // in many bits (checksum64 confines an edit of a word's top byte to its
  // top 8 bits; a fingerprint must not).
  std::string text(64, 'a');
  for (size_t k = 0; k < text.size(); ++k) text[k] = static_cast<char>('a' + k % 26);
  const uint64_t base = content_hash64(text.data(), text.size());
  EXPECT_EQ(base, content_hash64(text.data(), text.size()));
  std::set<uint64_t> seen{base};
  int fewest = 64;
  for (size_t k = 0; k < text.size(); ++k) {
    for (const unsigned char flip : {0x01, 0x80}) {
      std::string edited = text;
      edited[k] = static_cast<char>(static_cast<unsigned char>(edited[k]) ^ flip);
      const uint64_t h = content_hash64(edited.data(), edited.size());
      EXPECT_TRUE(seen.insert(h).second) << "position " << k;
      fewest = std::min(fewest, bits_apart(h, base));
    }
  }
  EXPECT_GE(fewest, 12);
  // Length counts: a trailing zero byte is a different content.
  EXPECT_NE(content_hash64(text.data(), 10),
            content_hash64((text.substr(0, 10) + '\0').data(), 11));
}

TEST(FileIo, FileFingerprintIsSizeAndContentHash) {
  const std::string dir = fresh("fingerprint");
  write_file_atomic(dir + "/a", "0 1 2\n1 0\n");
  char hex[17];
  const std::string bytes = "0 1 2\n1 0\n";
  std::snprintf(hex, sizeof hex, "%016llx",
                static_cast<unsigned long long>(content_hash64(bytes.data(), bytes.size())));
  EXPECT_EQ(file_fingerprint(dir + "/a"), "10:" + std::string(hex));
  write_file_atomic(dir + "/b", "1 0\n0 1 2\n");  // same size, lines swapped
  EXPECT_NE(file_fingerprint(dir + "/a"), file_fingerprint(dir + "/b"));
}

}  // namespace
}  // namespace gnnrec
