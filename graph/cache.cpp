#include "graph/cache.h"

#include <atomic>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <type_traits>
#include <unistd.h>
#include <vector>

#include "base/file_io.h"
#include "graph/loaders.h"

namespace gnnrec {
namespace {

namespace fs = std::filesystem;

constexpr char kMagic[8] = {'G', 'N', 'N', 'R', 'E', 'C', 'D', 'S'};
// Bump whenever the payload layout or the loaders' output changes, so old
// caches are not trusted.
constexpr uint32_t kVersion = 2;  // 2: keyed on content
constexpr size_t kHeaderSize = 8 + 4 + 4 + 8 + 8 + 8;

class Writer {
 public:
  template <typename T>
  void pod(const T& v) {
    static_assert(std::is_trivially_copyable_v<T>);
    buf_.append(reinterpret_cast<const char*>(&v), sizeof(T));
  }
  void str(const std::string& s) {
    pod<uint64_t>(s.size());
    buf_.append(s);
  }
  template <typename T>
  void vec(const std::vector<T>& v) {
    pod<uint64_t>(v.size());
    if (!v.empty()) buf_.append(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T));
  }
  std::string& buffer() { return buf_; }

 private:
  std::string buf_;
};

// Bounds-checked reader: every get returns false instead of reading past
// the end, so a truncated or garbled payload is detected, not trusted.
class Reader {
 public:
  Reader(const char* p, size_t n) : p_(p), end_(p + n) {}
  template <typename T>
  bool pod(T* v) {
    if (static_cast<size_t>(end_ - p_) < sizeof(T)) return false;
    std::memcpy(v, p_, sizeof(T));
    p_ += sizeof(T);
    return true;
  }
  bool str(std::string* s) {
    uint64_t n;
    if (!pod(&n) || n > static_cast<size_t>(end_ - p_)) return false;
    s->assign(p_, n);
    p_ += n;
    return true;
  }
  template <typename T>
  bool vec(std::vector<T>* v) {
    uint64_t n;
    if (!pod(&n) || n > static_cast<size_t>(end_ - p_) / sizeof(T)) return false;
    v->resize(n);
    if (n > 0) std::memcpy(v->data(), p_, n * sizeof(T));  // data() may be null when empty
    p_ += n * sizeof(T);
    return true;
  }
  bool done() const { return p_ == end_; }

 private:
  const char* p_;
  const char* end_;
};

void write_map(Writer& w, const IdMap& m) {
  w.pod<uint64_t>(static_cast<uint64_t>(m.size()));
  for (const std::string& s : m.raw_ids()) w.str(s);
}

bool read_map(Reader& r, IdMap* m) {
  uint64_t n;
  if (!r.pod(&n)) return false;
  std::string s;
  for (uint64_t k = 0; k < n; ++k) {
    if (!r.str(&s)) return false;
    // A repeated raw id would make dense ids ambiguous: corrupt.
    if (m->intern(s) != static_cast<int32_t>(k)) return false;
  }
  return true;
}

void write_interactions(Writer& w, const Interactions& x) {
  w.vec(x.user);
  w.vec(x.item);
  w.vec(x.rating);
  w.vec(x.timestamp);
}

bool read_interactions(Reader& r, Interactions* x, int64_t n_users, int64_t n_items) {
  if (!r.vec(&x->user) || !r.vec(&x->item) || !r.vec(&x->rating) || !r.vec(&x->timestamp)) {
    return false;
  }
  const size_t n = x->user.size();
  if (x->item.size() != n || (x->has_rating() && x->rating.size() != n) ||
      (x->has_timestamp() && x->timestamp.size() != n)) {
    return false;
  }
  for (size_t e = 0; e < n; ++e) {
    if (x->user[e] < 0 || x->user[e] >= n_users || x->item[e] < 0 || x->item[e] >= n_items) {
      return false;
    }
  }
  return true;
}

std::string absolute_dir(const std::string& dir) {
  std::error_code ec;
  fs::path p = fs::weakly_canonical(fs::path(dir), ec);
  if (ec) p = fs::absolute(fs::path(dir), ec).lexically_normal();
  std::string s = p.string();
  while (s.size() > 1 && s.back() == '/') s.pop_back();
  return s;
}

std::string default_cache_dir() {
  auto env = [](const char* name) -> std::string {
    const char* v = std::getenv(name);
    return v == nullptr ? std::string() : std::string(v);
  };
  if (std::string v = env("GNNREC_CACHE"); !v.empty()) return (fs::path(v) / "datasets").string();
  if (std::string v = env("XDG_CACHE_HOME"); !v.empty()) {
    return (fs::path(v) / "gnnrec" / "datasets").string();
  }
  if (std::string v = env("HOME"); !v.empty()) {
    return (fs::path(v) / ".cache" / "gnnrec" / "datasets").string();
  }
  return "";
}

std::string hex64(uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

}  // namespace

std::string dataset_fingerprint(const std::string& dir) {
  const std::vector<std::string> files = dataset_source_files(dir);
  std::string key = "gnnrec-dataset-cache v" + std::to_string(kVersion) + "\n" +
                    absolute_dir(dir) + "\n";
  // Keyed on content, not size and mtime: an edit that keeps both (a
  // reordered line, a restored timestamp) must not return stale data.
  for (const std::string& f : files) {
    key += fs::path(f).filename().string() + " " + file_fingerprint(f) + "\n";
  }
  return key;
}

std::string dataset_cache_path(const std::string& dir, const std::string& cache_dir) {
  const std::string abs = absolute_dir(dir);
  std::string base = fs::path(abs).filename().string();
  for (char& c : base) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') c = '_';
  }
  return (fs::path(cache_dir) / (base + "-" + hex64(checksum64(abs.data(), abs.size())) + ".bin"))
      .string();
}

void save_dataset_binary(const Dataset& ds, const std::string& path, const std::string& key) {
  Writer payload;
  payload.str(ds.name);
  payload.str(ds.format);
  write_map(payload, ds.users);
  write_map(payload, ds.items);
  write_interactions(payload, ds.train);
  write_interactions(payload, ds.test);
  const std::string& body = payload.buffer();

  Writer head;
  head.buffer().append(kMagic, sizeof kMagic);
  head.pod<uint32_t>(kVersion);
  head.pod<uint32_t>(0);
  head.pod<uint64_t>(key.size());
  head.pod<uint64_t>(body.size());
  head.pod<uint64_t>(checksum64(body.data(), body.size()));
  head.buffer().append(key);

  std::error_code ec;
  const fs::path parent = fs::path(path).parent_path();
  if (!parent.empty()) fs::create_directories(parent, ec);
  if (ec) throw DataError(parent.string() + ": cannot create directory: " + ec.message());
  write_file_atomic(path, {head.buffer(), body});
}

bool load_dataset_binary(const std::string& path, const std::string& key, Dataset* out) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return false;
  std::string data;
  std::error_code ec;
  const auto size = fs::file_size(path, ec);
  if (!ec) data.reserve(size);
  char buf[1 << 16];
  size_t got;
  while ((got = std::fread(buf, 1, sizeof buf, f)) > 0) data.append(buf, got);
  const bool read_error = std::ferror(f) != 0;
  std::fclose(f);
  if (read_error || data.size() < kHeaderSize) return false;

  Reader head(data.data(), kHeaderSize);
  char magic[8] = {};
  uint32_t version = 0, reserved = 0;
  uint64_t key_len = 0, body_len = 0, sum = 0;
  for (char& c : magic) head.pod(&c);
  head.pod(&version);
  head.pod(&reserved);
  head.pod(&key_len);
  head.pod(&body_len);
  head.pod(&sum);  // cannot fail: data holds at least kHeaderSize bytes
  if (std::memcmp(magic, kMagic, sizeof kMagic) != 0 || version != kVersion) return false;
  const size_t rest = data.size() - kHeaderSize;
  if (key_len > rest || body_len != rest - key_len) return false;
  if (data.compare(kHeaderSize, key_len, key) != 0 || key_len != key.size()) return false;
  const char* body = data.data() + kHeaderSize + key_len;
  if (checksum64(body, body_len) != sum) return false;

  Reader r(body, body_len);
  Dataset ds;
  if (!r.str(&ds.name) || !r.str(&ds.format) || !read_map(r, &ds.users) ||
      !read_map(r, &ds.items) ||
      !read_interactions(r, &ds.train, ds.num_users(), ds.num_items()) ||
      !read_interactions(r, &ds.test, ds.num_users(), ds.num_items()) || !r.done()) {
    return false;
  }
  *out = std::move(ds);
  return true;
}

Dataset load_dataset_cached(const std::string& dir, const std::string& cache_dir) {
  // Fingerprint before loading: if a file changes while it is parsed, the
  // recorded (old) content hash will not match next time and force a reload.
  const std::string key = dataset_fingerprint(dir);
  const std::string where = cache_dir.empty() ? default_cache_dir() : cache_dir;
  if (where.empty()) return load_dataset(dir);
  const std::string path = dataset_cache_path(dir, where);
  Dataset ds;
  if (load_dataset_binary(path, key, &ds)) return ds;
  ds = load_dataset(dir);
  try {
    save_dataset_binary(ds, path, key);
  } catch (const std::exception&) {
    // An unwritable cache only costs the next run a reparse.
  }
  return ds;
}

}  // namespace gnnrec
