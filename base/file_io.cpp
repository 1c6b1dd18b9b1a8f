#include "base/file_io.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "base/data_error.h"

namespace gnnrec {
namespace {

[[noreturn]] void fail(const std::string& path, const char* what, int err) {
  throw DataError(path + ": " + what + ": " + std::strerror(err));
}

void write_all(int fd, const char* data, size_t n, const std::string& path,
               const std::string& tmp) {
  while (n > 0) {
    const ssize_t w = ::write(fd, data, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      fail(path, "cannot write", err);
    }
    data += w;
    n -= static_cast<size_t>(w);
  }
}

std::atomic<WriteHook> write_hook{nullptr};

}  // namespace

void set_write_hook(WriteHook hook) { write_hook.store(hook); }

void write_file_atomic(const std::string& path, std::initializer_list<std::string_view> parts) {
  // Unique per process and call, so concurrent writers never share a file.
  static std::atomic<uint64_t> counter{0};
  const std::string tmp =
      path + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(counter++);
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) fail(path, "cannot write", errno);
  bool first = true;
  for (std::string_view part : parts) {
    write_all(fd, part.data(), part.size(), path, tmp);
    if (first) {
      first = false;
      if (const WriteHook hook = write_hook.load()) {
        if (const int err = hook(path)) {
          ::close(fd);
          ::unlink(tmp.c_str());
          fail(path, "cannot write", err);
        }
      }
    }
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    fail(path, "cannot write", err);
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    fail(path, "cannot write", err);
  }
  // Make the rename itself durable.
  sync_directory(std::filesystem::path(path).parent_path().string());
}

void sync_directory(const std::string& dir) {
  const int dfd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
}

void append_line_durable(const std::string& path, std::string_view line) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) fail(path, "cannot write", errno);
  std::string data(line);
  data.push_back('\n');
  write_all(fd, data.data(), data.size(), path, "");
  if (::fsync(fd) != 0 || ::close(fd) != 0) fail(path, "cannot write", errno);
}

std::string read_file(const std::string& path) {
  // O_NONBLOCK: opening a FIFO must not wait for a writer; it is refused below.
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) fail(path, "cannot open", errno);
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    fail(path, "cannot open", err);
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    throw DataError(
        path + ": cannot read: " +
        (S_ISDIR(st.st_mode) ? "is a directory" : "not a regular file (a FIFO, socket or device)"));
  }
  std::string out;
  char buf[1 << 16];
  for (;;) {
    const ssize_t r = ::read(fd, buf, sizeof buf);
    if (r < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      ::close(fd);
      fail(path, "cannot read", err);
    }
    if (r == 0) break;
    out.append(buf, static_cast<size_t>(r));
  }
  ::close(fd);
  return out;
}

uint64_t checksum64(const char* p, size_t n) {
  uint64_t h = 0xcbf29ce484222325ULL;
  constexpr uint64_t kPrime = 0x100000001b3ULL;
  size_t k = 0;
  for (; k + 8 <= n; k += 8) {
    uint64_t w;
    std::memcpy(&w, p + k, 8);
    h = (h ^ w) * kPrime;
  }
  for (; k < n; ++k) h = (h ^ static_cast<unsigned char>(p[k])) * kPrime;
  return h;
}

namespace {

constexpr uint64_t rotl(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }

// MurmurHash3's 64-bit finaliser: every input bit reaches every output bit.
constexpr uint64_t fmix64(uint64_t k) {
  k ^= k >> 33;
  k *= 0xff51afd7ed558ccdULL;
  k ^= k >> 33;
  k *= 0xc4ceb9fe1a85ec53ULL;
  k ^= k >> 33;
  return k;
}

}  // namespace

uint64_t content_hash64(const char* p, size_t n) {
  // One lane of MurmurHash3 x64: each 8-byte word is mixed before it is
  // folded in, so unlike checksum64 a change in any byte moves the whole
  // hash (checksum64 confines a change in a word's top byte to the top bits).
  constexpr uint64_t c1 = 0x87c37b91114253d5ULL, c2 = 0x4cf5ad432745937fULL;
  uint64_t h = 0x9368e53c2f6af274ULL ^ n;
  size_t k = 0;
  for (; k + 8 <= n; k += 8) {
    uint64_t w;
    std::memcpy(&w, p + k, 8);
    h ^= rotl(w * c1, 31) * c2;
    h = rotl(h, 27) * 5 + 0x52dce729;
  }
  uint64_t tail = 0;
  for (size_t t = 0; k + t < n; ++t)
    tail |= static_cast<uint64_t>(static_cast<unsigned char>(p[k + t])) << (8 * t);
  h ^= rotl(tail * c1, 31) * c2;
  return fmix64(h);
}

std::string file_fingerprint(const std::string& path) {
  const std::string bytes = read_file(path);
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx",
                static_cast<unsigned long long>(content_hash64(bytes.data(), bytes.size())));
  return std::to_string(bytes.size()) + ":" + hex;
}

}  // namespace gnnrec
