#include "base/file_io.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
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
  const std::string dir = std::filesystem::path(path).parent_path().string();
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
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail(path, "cannot open", errno);
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

}  // namespace gnnrec
