#include "graph/loaders.h"

#include "base/file_io.h"
#include "graph/kg_loaders.h"
#include "graph/recbole.h"
#include "graph/text.h"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string_view>
#include <system_error>
#include <unistd.h>

namespace gnnrec {
namespace {

namespace fs = std::filesystem;

void apply_map(const std::vector<int32_t>& old_to_new, std::vector<int32_t>* ids) {
  for (int32_t& v : *ids) v = old_to_new[static_cast<size_t>(v)];
}

bool is_identity(const std::vector<int32_t>& p) {
  for (size_t i = 0; i < p.size(); ++i) {
    if (p[i] != static_cast<int32_t>(i)) return false;
  }
  return true;
}

// Replaces validated raw integer ids in `columns` by dense ids in numeric
// order and returns the map. A direct lookup table when the id range is
// within a small multiple of the column lengths (the usual case: ids
// 0..n-1), sort + binary search otherwise. The bound follows the data, not
// a fixed size: a three-line file with an id near 2^24 used to fill and
// scan a 64 MB table (fuzzing spent 90% of its time there).
IdMap densify(std::initializer_list<std::vector<int32_t>*> columns) {
  int64_t max_id = -1;
  size_t total = 0;
  for (auto* c : columns) {
    for (int32_t v : *c) max_id = std::max<int64_t>(max_id, v);
    total += c->size();
  }
  IdMap map;
  if (max_id < 0) return map;
  const auto range = static_cast<size_t>(max_id) + 1;
  if (range <= 4 * total + 4096) {
    std::vector<int32_t> table(range, -1);
    for (auto* c : columns) {
      for (int32_t v : *c) table[static_cast<size_t>(v)] = 0;
    }
    int32_t next = 0;
    for (size_t raw = 0; raw < range; ++raw) {
      if (table[raw] < 0) continue;
      table[raw] = next++;
      map.intern(std::to_string(raw));
    }
    for (auto* c : columns) {
      for (int32_t& v : *c) v = table[static_cast<size_t>(v)];
    }
  } else {
    std::vector<int32_t> sorted;
    sorted.reserve(total);
    for (auto* c : columns) sorted.insert(sorted.end(), c->begin(), c->end());
    std::sort(sorted.begin(), sorted.end());
    sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
    for (int32_t raw : sorted) map.intern(std::to_string(raw));
    for (auto* c : columns) {
      for (int32_t& v : *c) {
        v = static_cast<int32_t>(std::lower_bound(sorted.begin(), sorted.end(), v) -
                                 sorted.begin());
      }
    }
  }
  // Already in numeric order; canonicalize() is the single definition of
  // that order, so apply whatever it decides.
  const std::vector<int32_t> perm = map.canonicalize();
  if (!is_identity(perm)) {
    for (auto* c : columns) apply_map(perm, c);
  }
  return map;
}

std::string base_name(const std::string& path) {
  fs::path p = fs::path(path).lexically_normal();
  if (p.filename().empty()) p = p.parent_path();  // "dir/" -> "dir"
  std::string name = p.filename().string();
  if (name.empty() || name == "." || name == "..") {
    std::error_code ec;
    const fs::path abs = fs::absolute(p, ec).lexically_normal();
    name = abs.filename().empty() ? abs.parent_path().filename().string()
                                  : abs.filename().string();
  }
  return name;
}

std::string parent_name(const std::string& file) {
  std::error_code ec;
  fs::path abs = fs::absolute(fs::path(file), ec).lexically_normal();
  return abs.parent_path().filename().string();
}

// Parses one LightGCN text file into raw (not yet dense) ids. With
// `train_users` (sorted raw ids), a user line with items must name one.
void parse_lightgcn(TextFile& f, Interactions* out, const std::vector<int32_t>* train_users) {
  // Size guess: ~6 bytes per token in the published files.
  out->reserve(f.bytes() / 6);
  std::string_view line;
  std::vector<std::string_view> tok;
  while (f.next(&line)) {
    split_blanks(line, &tok);
    const int32_t u = f.id(tok[0], 1);
    if (tok.size() < 2) continue;  // a user without interactions
    if (train_users != nullptr &&
        !std::binary_search(train_users->begin(), train_users->end(), u)) {
      f.fail("user " + std::to_string(u) + " has no training interactions");
    }
    for (size_t k = 1; k < tok.size(); ++k) {
      out->user.push_back(u);
      out->item.push_back(f.id(tok[k], static_cast<int>(k + 1)));
    }
  }
}

// Shared by the two MovieLens formats, which differ only in the separator.
Dataset load_movielens(const std::string& path, bool tab_separated, const char* format) {
  TextFile file(path);
  Dataset ds;
  ds.name = parent_name(path);
  ds.format = format;
  Interactions& x = ds.train;
  x.reserve(file.bytes() / 16);
  x.rating.reserve(file.bytes() / 16);
  x.timestamp.reserve(file.bytes() / 16);
  std::string_view line;
  std::vector<std::string_view> f;
  while (file.next(&line)) {
    if (tab_separated) {
      split_blanks(line, &f);
    } else {
      split_on(line, "::", &f);
    }
    if (f.size() != 4) {
      file.fail(std::string("expected 4 fields separated by ") + (tab_separated ? "tabs" : "'::'") +
                ", got " + std::to_string(f.size()));
    }
    x.user.push_back(file.id(f[0], 1));
    x.item.push_back(file.id(f[1], 2));
    x.rating.push_back(file.number(f[2], 3));
    x.timestamp.push_back(file.integer(f[3], 4));
  }
  if (x.empty()) throw DataError(path + ": no interactions");
  ds.users = densify({&x.user});
  ds.items = densify({&x.item});
  return ds;
}

// --- delimited text -------------------------------------------------------

std::string describe(char delim) {
  if (delim == '\t') return "tabs";
  return std::string("'") + delim + "'";
}

enum class Column { kOther, kUser, kItem, kRating, kTimestamp };

Column classify(std::string name) {
  for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (const char* n : {"user", "user_id", "userid", "uid"}) {
    if (name == n) return Column::kUser;
  }
  for (const char* n : {"item", "item_id", "itemid", "iid", "movie_id", "movieid"}) {
    if (name == n) return Column::kItem;
  }
  if (name == "rating" || name == "score") return Column::kRating;
  if (name == "timestamp" || name == "time" || name == "ts") return Column::kTimestamp;
  return Column::kOther;
}

}  // namespace

namespace {

// The file that marks each single-file-detected format, and its name.
struct FormatMarker {
  const char* file;
  const char* format;
  const char* description;
};
constexpr FormatMarker kMarkers[] = {
    {"train.txt", "lightgcn", "LightGCN text"},
    {"u.data", "ml-100k", "MovieLens 100K"},
    {"ratings.dat", "ml-1m", "MovieLens 1M"},
    {"user_artists.dat", "kgcn", "KGCN music"},
};

// Whether DIR/name is there: a regular file is; a missing one is not; a
// directory, FIFO or other special file of that name, or one that cannot be
// looked at, is an error naming it (not "no data set found").
bool has_source_file(const std::string& dir, const std::string& name) {
  std::error_code ec;
  const fs::path p = fs::path(dir) / name;
  const fs::file_status st = fs::status(p, ec);
  if (ec && ec != std::errc::no_such_file_or_directory) {
    throw DataError(p.string() + ": cannot open: " + ec.message());
  }
  if (!fs::exists(st)) return false;
  if (fs::is_regular_file(st)) return true;
  throw DataError(p.string() + ": not a regular file (" +
                  (fs::is_directory(st) ? "a directory" : "a FIFO, socket or device") + ")");
}

// The one file of `dir` whose name ends in one of `extensions`; "" when
// there is none. Several are an error listing them ("found 2 *.inter files
// (a.inter, b.inter); expected exactly one").
std::string exactly_one(const std::string& dir, std::initializer_list<const char*> extensions,
                        const char* what) {
  std::vector<std::string> found;
  std::error_code ec;
  fs::directory_iterator it(dir, ec);
  if (ec) throw DataError(dir + ": cannot read: " + ec.message());
  for (const auto& entry : it) {
    const std::string ext = entry.path().extension().string();
    for (const char* e : extensions) {
      if (ext == e && has_source_file(dir, entry.path().filename().string())) {
        found.push_back(entry.path().filename().string());
      }
    }
  }
  if (found.size() <= 1) return found.empty() ? "" : found.front();
  std::sort(found.begin(), found.end());
  std::string names;
  for (const auto& n : found) names += (names.empty() ? "" : ", ") + n;
  throw DataError(dir + ": found " + std::to_string(found.size()) + " " + what + " files (" +
                  names + "); expected exactly one");
}

}  // namespace

std::string detect_format(const std::string& dir) {
  std::error_code ec;
  const fs::file_status st = fs::status(dir, ec);
  if (ec && ec != std::errc::no_such_file_or_directory) {
    throw DataError(dir + ": cannot open: " + ec.message());
  }
  if (!fs::exists(st)) {
    throw DataError(dir + ": cannot open: " + std::strerror(ENOENT));
  }
  if (!fs::is_directory(st)) {
    throw DataError(dir + ": not a directory (expected a data set folder)");
  }
  const FormatMarker* found = nullptr;
  for (const FormatMarker& m : kMarkers) {
    if (!has_source_file(dir, m.file)) continue;
    if (found != nullptr) {
      // Two data sets in one folder: picking one silently would train on
      // whichever this list names first.
      throw DataError(dir + ": holds two data sets, " + found->file + " (" + found->description +
                      ") and " + m.file + " (" + m.description + "); keep one per folder");
    }
    found = &m;
  }
  if (found != nullptr) return found->format;
  if (!exactly_one(dir, {".inter"}, "*.inter").empty()) return "recbole";
  if (!exactly_one(dir, {".csv", ".tsv"}, "*.csv/*.tsv").empty()) return "csv";
  throw DataError(dir +
                  ": no data set found (looked for train.txt, u.data, ratings.dat, "
                  "user_artists.dat, one *.inter file or one *.csv/*.tsv file)");
}

std::vector<std::string> dataset_source_files(const std::string& dir) {
  const std::string format = detect_format(dir);
  if (format == "lightgcn") {
    std::vector<std::string> files{path_join(dir, "train.txt")};
    if (has_source_file(dir, "test.txt")) files.push_back(path_join(dir, "test.txt"));
    return files;
  }
  if (format == "ml-100k") return {path_join(dir, "u.data")};
  if (format == "ml-1m") return {path_join(dir, "ratings.dat")};
  if (format == "kgcn") {
    return {path_join(dir, "user_artists.dat"), path_join(dir, "item_index2entity_id.txt")};
  }
  const bool recbole = format == "recbole";
  const std::string file = recbole ? exactly_one(dir, {".inter"}, "*.inter")
                                   : exactly_one(dir, {".csv", ".tsv"}, "*.csv/*.tsv");
  if (file.empty()) {
    throw DataError(dir + ": the " + (recbole ? "*.inter" : "*.csv/*.tsv") +
                    " file disappeared while loading");
  }
  return {path_join(dir, file.c_str())};
}

Dataset load_dataset(const std::string& dir) {
  const std::string format = detect_format(dir);
  Dataset ds;
  if (format == "lightgcn") {
    ds = load_lightgcn(dir);
  } else if (format == "ml-100k") {
    ds = load_movielens_100k(path_join(dir, "u.data"));
  } else if (format == "ml-1m") {
    ds = load_movielens_1m(path_join(dir, "ratings.dat"));
  } else if (format == "kgcn") {
    ds = load_kgcn_interactions(dir);
  } else if (format == "recbole") {
    ds = load_recbole(dataset_source_files(dir).front());
  } else {
    ds = load_delimited(dataset_source_files(dir).front());
  }
  ds.name = base_name(dir);
  ds.format = format;
  return ds;
}

Dataset load_lightgcn(const std::string& dir) {
  const std::string train_path = path_join(dir, "train.txt");
  const std::string test_path = path_join(dir, "test.txt");
  Dataset ds;
  ds.name = base_name(dir);
  ds.format = "lightgcn";
  {
    TextFile train(train_path);
    parse_lightgcn(train, &ds.train, nullptr);
  }
  if (ds.train.empty()) throw DataError(train_path + ": no interactions");
  if (has_source_file(dir, "test.txt")) {
    // Train users, sorted, for the "test user never trained" check.
    std::vector<int32_t> train_users = ds.train.user;
    std::sort(train_users.begin(), train_users.end());
    train_users.erase(std::unique(train_users.begin(), train_users.end()), train_users.end());
    TextFile test(test_path);
    parse_lightgcn(test, &ds.test, &train_users);
    // An empty test.txt is not "no split": treating it as absent would
    // silently make a random split of train.txt instead of the shipped one.
    if (ds.test.empty()) {
      throw DataError(test_path + ": no interactions (remove the file to let --split split " +
                      "train.txt, or fill it)");
    }
  }
  ds.users = densify({&ds.train.user, &ds.test.user});
  ds.items = densify({&ds.train.item, &ds.test.item});
  return ds;
}

Dataset load_movielens_100k(const std::string& u_data_path) {
  return load_movielens(u_data_path, /*tab_separated=*/true, "ml-100k");
}

Dataset load_movielens_1m(const std::string& ratings_dat) {
  return load_movielens(ratings_dat, /*tab_separated=*/false, "ml-1m");
}

namespace {

// The header of a delimited file: its delimiter and the column of each role.
struct DelimitedHeader {
  char delim = 0;
  size_t fields = 0;
  int col[5] = {-1, -1, -1, -1, -1};  // indexed by Column
  int of(Column c) const { return col[static_cast<int>(c)]; }
};

// Reads the header from `file`'s current line (the first non-blank one).
DelimitedHeader read_header(const TextFile& file, std::string_view line) {
  DelimitedHeader h;
  size_t best = 0;
  for (char c : {',', '\t', ';', '|'}) {
    const auto n = static_cast<size_t>(std::count(line.begin(), line.end(), c));
    if (n > best) {
      best = n;
      h.delim = c;
    }
  }
  if (h.delim == 0) {
    file.fail("header '" + shown(line) + "' has no delimiter (looked for ',', tab, ';', '|')");
  }
  std::vector<std::string> names;
  split_delimited(line, h.delim, &names);
  h.fields = names.size();
  for (size_t k = 0; k < names.size(); ++k) {
    const Column c = classify(names[k]);
    if (c == Column::kOther) continue;
    int& slot = h.col[static_cast<int>(c)];
    if (slot >= 0) {
      file.fail("columns '" + shown(names[static_cast<size_t>(slot)]) + "' and '" +
                shown(names[k]) + "' have the same role");
    }
    slot = static_cast<int>(k);
  }
  if (h.of(Column::kUser) < 0) file.fail("header has no user column (user, user_id, userid, uid)");
  if (h.of(Column::kItem) < 0) {
    file.fail("header has no item column (item, item_id, itemid, iid, movie_id, movieid)");
  }
  return h;
}

}  // namespace

Dataset load_delimited(const std::string& path) {
  TextFile file(path);
  std::string_view line;
  if (!file.next(&line)) throw DataError(path + ": no interactions");
  const DelimitedHeader h = read_header(file, line);
  const int cu = h.of(Column::kUser);
  const int ci = h.of(Column::kItem);
  const int cr = h.of(Column::kRating);
  const int ct = h.of(Column::kTimestamp);

  Dataset ds;
  ds.name = parent_name(path);
  ds.format = "csv";
  Interactions& x = ds.train;
  std::vector<std::string> f;
  while (file.next(&line)) {
    split_delimited(line, h.delim, &f);
    if (f.size() != h.fields) {
      file.fail("expected " + std::to_string(h.fields) + " fields separated by " +
                describe(h.delim) + ", got " + std::to_string(f.size()));
    }
    const std::string& u = f[static_cast<size_t>(cu)];
    const std::string& i = f[static_cast<size_t>(ci)];
    if (u.empty()) file.fail("empty user id (field " + std::to_string(cu + 1) + ")");
    if (i.empty()) file.fail("empty item id (field " + std::to_string(ci + 1) + ")");
    x.user.push_back(ds.users.intern(u));
    x.item.push_back(ds.items.intern(i));
    if (cr >= 0) x.rating.push_back(file.number(f[static_cast<size_t>(cr)], cr + 1));
    if (ct >= 0) x.timestamp.push_back(file.integer(f[static_cast<size_t>(ct)], ct + 1));
  }
  if (x.empty()) throw DataError(path + ": no interactions");
  apply_map(ds.users.canonicalize(), &x.user);
  apply_map(ds.items.canonicalize(), &x.item);
  return ds;
}

// --- RecBole atomic files --------------------------------------------------

Dataset load_recbole(const std::string& inter_path) {
  TextFile file(inter_path);
  AtomicHeader h;
  if (!read_atomic_header(file, &h)) throw DataError(inter_path + ": no interactions");
  const int cu = require_field(file, h, "user_id", AtomicType::kToken);
  const int ci = require_field(file, h, "item_id", AtomicType::kToken);
  const int cr = optional_field(file, h, "rating", AtomicType::kFloat);
  const int ct = optional_field(file, h, "timestamp", AtomicType::kFloat);

  Dataset ds;
  ds.name = parent_name(inter_path);
  ds.format = "recbole";
  Interactions& x = ds.train;
  std::string_view line;
  std::vector<std::string> f;
  while (file.next(&line)) {
    split_atomic_row(file, h, line, &f);
    x.user.push_back(ds.users.intern(atomic_token(file, h, f, cu)));
    x.item.push_back(ds.items.intern(atomic_token(file, h, f, ci)));
    if (cr >= 0) x.rating.push_back(file.number(f[static_cast<size_t>(cr)], cr + 1));
    if (ct >= 0) x.timestamp.push_back(file.floored(f[static_cast<size_t>(ct)], ct + 1));
  }
  if (x.empty()) throw DataError(inter_path + ": no interactions");
  apply_map(ds.users.canonicalize(), &x.user);
  apply_map(ds.items.canonicalize(), &x.item);
  return ds;
}

// --- writer ---------------------------------------------------------------

namespace {

void append_int(std::string* out, int64_t v) {
  char buf[24];
  auto [p, ec] = std::to_chars(buf, buf + sizeof buf, v);
  (void)ec;
  out->append(buf, p);
}

// One line per user that has interactions, users ascending, items in list
// order (a stable counting sort by user).
std::string lightgcn_text(const Interactions& x, int64_t num_users) {
  std::vector<int64_t> start(static_cast<size_t>(num_users) + 1, 0);
  for (int32_t u : x.user) ++start[static_cast<size_t>(u) + 1];
  for (size_t u = 0; u < static_cast<size_t>(num_users); ++u) start[u + 1] += start[u];
  std::vector<int32_t> items(x.size());
  std::vector<int64_t> fill(start.begin(), start.end() - 1);
  for (size_t e = 0; e < x.size(); ++e) {
    items[static_cast<size_t>(fill[static_cast<size_t>(x.user[e])]++)] = x.item[e];
  }
  std::string out;
  out.reserve(x.size() * 7);
  for (size_t u = 0; u < static_cast<size_t>(num_users); ++u) {
    if (start[u] == start[u + 1]) continue;
    append_int(&out, static_cast<int64_t>(u));
    for (int64_t k = start[u]; k < start[u + 1]; ++k) {
      out.push_back(' ');
      append_int(&out, items[static_cast<size_t>(k)]);
    }
    out.push_back('\n');
  }
  return out;
}

}  // namespace

void write_lightgcn(const Dataset& ds, const std::string& dir) {
  for (const Interactions* x : {&ds.train, &ds.test}) {
    for (size_t e = 0; e < x->size(); ++e) {
      if (x->user[e] < 0 || x->user[e] >= ds.num_users() || x->item[e] < 0 ||
          x->item[e] >= ds.num_items()) {
        throw DataError(dir + ": interaction " + std::to_string(e) +
                        " has ids outside the data set's id maps");
      }
    }
  }
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw DataError(dir + ": cannot create directory: " + ec.message());
  write_file_atomic(path_join(dir, "train.txt"), lightgcn_text(ds.train, ds.num_users()));
  write_file_atomic(path_join(dir, "test.txt"), lightgcn_text(ds.test, ds.num_users()));
}

}  // namespace gnnrec
