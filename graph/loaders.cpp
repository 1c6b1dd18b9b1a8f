#include "graph/loaders.h"

#include "base/file_io.h"
#include "graph/kg_loaders.h"

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

constexpr int64_t kMaxId = INT32_MAX;

std::string join(const std::string& dir, const char* name) {
  return (fs::path(dir) / name).string();
}

bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\r'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && (is_blank(s.front()) || s.front() == '\n')) s.remove_prefix(1);
  while (!s.empty() && (is_blank(s.back()) || s.back() == '\n')) s.remove_suffix(1);
  return s;
}

// Iterates over the non-blank lines of a buffer with 1-based line numbers;
// a trailing '\r' is dropped so "\r\n" files read like "\n" files.
class Lines {
 public:
  explicit Lines(std::string_view text) : text_(text) {}
  bool next(std::string_view* line) {
    while (pos_ < text_.size()) {
      size_t end = text_.find('\n', pos_);
      if (end == std::string_view::npos) end = text_.size();
      std::string_view l = text_.substr(pos_, end - pos_);
      pos_ = end + 1;
      ++number_;
      if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
      if (trim(l).empty()) continue;
      *line = l;
      return true;
    }
    return false;
  }
  int64_t number() const { return number_; }

 private:
  std::string_view text_;
  size_t pos_ = 0;
  int64_t number_ = 0;
};

[[noreturn]] void fail(const std::string& path, int64_t line, const std::string& what) {
  throw DataError(path + ":" + std::to_string(line) + ": " + what);
}

// Quoted for messages, shortened so one bad megabyte-long token still gives
// a readable one-line error.
std::string shown(std::string_view tok) {
  constexpr size_t kMax = 40;
  if (tok.size() <= kMax) return std::string(tok);
  return std::string(tok.substr(0, kMax)) + "...";
}

int64_t parse_int(std::string_view tok, const std::string& path, int64_t line, int field) {
  int64_t v = 0;
  const char* end = tok.data() + tok.size();
  auto [p, ec] = std::from_chars(tok.data(), end, v);
  if (ec == std::errc::result_out_of_range && p == end) {
    fail(path, line, "field " + std::to_string(field) + " ('" + shown(tok) +
                         "') does not fit a 64-bit integer");
  }
  if (tok.empty() || ec != std::errc() || p != end) {
    fail(path, line, "field " + std::to_string(field) + " ('" + shown(tok) +
                         "') is not an integer");
  }
  return v;
}

int32_t parse_id(std::string_view tok, const std::string& path, int64_t line, int field) {
  int64_t v = 0;
  const char* end = tok.data() + tok.size();
  auto [p, ec] = std::from_chars(tok.data(), end, v);
  const bool overflow = ec == std::errc::result_out_of_range && p == end;
  if (!overflow && (tok.empty() || ec != std::errc() || p != end)) {
    fail(path, line, "field " + std::to_string(field) + " ('" + shown(tok) +
                         "') is not an integer");
  }
  if (overflow || v < 0 || v > kMaxId) {
    fail(path, line, "id " + shown(tok) + " out of range [0, " + std::to_string(kMaxId) + "]");
  }
  return static_cast<int32_t>(v);
}

float parse_rating(std::string_view tok, const std::string& path, int64_t line, int field) {
  float v = 0;
  const char* end = tok.data() + tok.size();
  auto [p, ec] = std::from_chars(tok.data(), end, v);
  if (tok.empty() || ec != std::errc() || p != end || !std::isfinite(v)) {
    fail(path, line, "field " + std::to_string(field) + " ('" + shown(tok) +
                         "') is not a finite number");
  }
  return v;
}

// Splits on runs of spaces/tabs.
void split_blanks(std::string_view line, std::vector<std::string_view>* out) {
  out->clear();
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && is_blank(line[i])) ++i;
    size_t j = i;
    while (j < line.size() && !is_blank(line[j])) ++j;
    if (j > i) out->push_back(line.substr(i, j - i));
    i = j;
  }
}

// Splits on an exact separator; fields are trimmed of blanks.
void split_on(std::string_view line, std::string_view sep, std::vector<std::string_view>* out) {
  out->clear();
  size_t i = 0;
  while (true) {
    size_t j = line.find(sep, i);
    if (j == std::string_view::npos) {
      out->push_back(trim(line.substr(i)));
      return;
    }
    out->push_back(trim(line.substr(i, j - i)));
    i = j + sep.size();
  }
}

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
void parse_lightgcn(const std::string& path, const std::string& text, Interactions* out,
                    const std::vector<int32_t>* train_users) {
  // Size guess: ~6 bytes per token in the published files.
  out->reserve(text.size() / 6);
  Lines lines(text);
  std::string_view line;
  std::vector<std::string_view> tok;
  while (lines.next(&line)) {
    split_blanks(line, &tok);
    const int32_t u = parse_id(tok[0], path, lines.number(), 1);
    if (tok.size() < 2) continue;  // a user without interactions
    if (train_users != nullptr &&
        !std::binary_search(train_users->begin(), train_users->end(), u)) {
      fail(path, lines.number(),
           "user " + std::to_string(u) + " has no training interactions");
    }
    for (size_t k = 1; k < tok.size(); ++k) {
      out->user.push_back(u);
      out->item.push_back(parse_id(tok[k], path, lines.number(), static_cast<int>(k + 1)));
    }
  }
}

// Shared by the two MovieLens formats, which differ only in the separator.
Dataset load_movielens(const std::string& path, bool tab_separated, const char* format) {
  const std::string text = read_file(path);
  Dataset ds;
  ds.name = parent_name(path);
  ds.format = format;
  Interactions& x = ds.train;
  x.reserve(text.size() / 16);
  x.rating.reserve(text.size() / 16);
  x.timestamp.reserve(text.size() / 16);
  Lines lines(text);
  std::string_view line;
  std::vector<std::string_view> f;
  while (lines.next(&line)) {
    if (tab_separated) {
      split_blanks(line, &f);
    } else {
      split_on(line, "::", &f);
    }
    if (f.size() != 4) {
      fail(path, lines.number(),
           std::string("expected 4 fields separated by ") +
               (tab_separated ? "tabs" : "'::'") + ", got " + std::to_string(f.size()));
    }
    x.user.push_back(parse_id(f[0], path, lines.number(), 1));
    x.item.push_back(parse_id(f[1], path, lines.number(), 2));
    x.rating.push_back(parse_rating(f[2], path, lines.number(), 3));
    x.timestamp.push_back(parse_int(f[3], path, lines.number(), 4));
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

// Splits one record on `delim`, honouring double-quoted fields ("a,b" and
// "say ""hi""" are one field each). Fields are trimmed and unquoted.
void split_delimited(std::string_view line, char delim, std::vector<std::string>* out) {
  out->clear();
  std::string field;
  bool quoted = false;
  bool was_quoted = false;
  for (size_t i = 0; i <= line.size(); ++i) {
    const bool at_end = i == line.size();
    const char c = at_end ? delim : line[i];
    if (quoted) {
      if (at_end) {
        quoted = false;  // unterminated quote: take what is there
      } else if (c == '"') {
        if (i + 1 < line.size() && line[i + 1] == '"') {
          field.push_back('"');
          ++i;
        } else {
          quoted = false;
        }
        continue;
      } else {
        field.push_back(c);
        continue;
      }
    }
    if (c == delim) {
      out->push_back(was_quoted ? field : std::string(trim(field)));
      field.clear();
      was_quoted = false;
    } else if (c == '"' && trim(field).empty()) {
      field.clear();
      quoted = true;
      was_quoted = true;
    } else if (!(was_quoted && is_blank(c))) {
      field.push_back(c);
    }
  }
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

std::string detect_format(const std::string& dir) {
  std::error_code ec;
  const fs::file_status st = fs::status(dir, ec);
  if (!fs::exists(st)) {
    throw DataError(dir + ": cannot open: " + std::strerror(ENOENT));
  }
  if (!fs::is_directory(st)) {
    throw DataError(dir + ": not a directory (expected a data set folder)");
  }
  auto has = [&](const char* name) { return fs::is_regular_file(fs::path(dir) / name, ec); };
  if (has("train.txt")) return "lightgcn";
  if (has("u.data")) return "ml-100k";
  if (has("ratings.dat")) return "ml-1m";
  if (has("user_artists.dat")) return "kgcn";
  std::vector<std::string> delimited;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string ext = entry.path().extension().string();
    if ((ext == ".csv" || ext == ".tsv") && entry.is_regular_file(ec)) {
      delimited.push_back(entry.path().filename().string());
    }
  }
  if (delimited.size() == 1) return "csv";
  if (delimited.empty()) {
    throw DataError(dir +
                    ": no data set found (looked for train.txt, u.data, ratings.dat, "
                    "user_artists.dat or one *.csv/*.tsv file)");
  }
  std::sort(delimited.begin(), delimited.end());
  std::string names;
  for (const auto& n : delimited) names += (names.empty() ? "" : ", ") + n;
  throw DataError(dir + ": found " + std::to_string(delimited.size()) +
                  " *.csv/*.tsv files (" + names + "); expected exactly one");
}

std::vector<std::string> dataset_source_files(const std::string& dir) {
  const std::string format = detect_format(dir);
  if (format == "lightgcn") {
    std::vector<std::string> files{join(dir, "train.txt")};
    std::error_code ec;
    if (fs::exists(join(dir, "test.txt"), ec)) files.push_back(join(dir, "test.txt"));
    return files;
  }
  if (format == "ml-100k") return {join(dir, "u.data")};
  if (format == "ml-1m") return {join(dir, "ratings.dat")};
  if (format == "kgcn") return {join(dir, "user_artists.dat"), join(dir, "item_index2entity_id.txt")};
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string ext = entry.path().extension().string();
    if ((ext == ".csv" || ext == ".tsv") && entry.is_regular_file(ec)) {
      return {entry.path().string()};
    }
  }
  throw DataError(dir + ": the *.csv/*.tsv file disappeared while loading");
}

Dataset load_dataset(const std::string& dir) {
  const std::string format = detect_format(dir);
  Dataset ds;
  if (format == "lightgcn") {
    ds = load_lightgcn(dir);
  } else if (format == "ml-100k") {
    ds = load_movielens_100k(join(dir, "u.data"));
  } else if (format == "ml-1m") {
    ds = load_movielens_1m(join(dir, "ratings.dat"));
  } else if (format == "kgcn") {
    ds = load_kgcn_interactions(dir);
  } else {
    ds = load_delimited(dataset_source_files(dir).front());
  }
  ds.name = base_name(dir);
  ds.format = format;
  return ds;
}

Dataset load_lightgcn(const std::string& dir) {
  const std::string train_path = join(dir, "train.txt");
  const std::string test_path = join(dir, "test.txt");
  Dataset ds;
  ds.name = base_name(dir);
  ds.format = "lightgcn";
  {
    const std::string text = read_file(train_path);
    parse_lightgcn(train_path, text, &ds.train, nullptr);
  }
  if (ds.train.empty()) throw DataError(train_path + ": no interactions");
  std::error_code ec;
  if (fs::exists(test_path, ec)) {
    // Train users, sorted, for the "test user never trained" check.
    std::vector<int32_t> train_users = ds.train.user;
    std::sort(train_users.begin(), train_users.end());
    train_users.erase(std::unique(train_users.begin(), train_users.end()), train_users.end());
    const std::string text = read_file(test_path);
    parse_lightgcn(test_path, text, &ds.test, &train_users);
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

Dataset load_delimited(const std::string& path) {
  std::string text = read_file(path);
  if (text.compare(0, 3, "\xEF\xBB\xBF") == 0) text.erase(0, 3);  // UTF-8 byte order mark
  Lines lines(text);
  std::string_view line;
  if (!lines.next(&line)) throw DataError(path + ": no interactions");

  const int64_t header_line = lines.number();
  char delim = 0;
  size_t best = 0;
  for (char c : {',', '\t', ';', '|'}) {
    const auto n = static_cast<size_t>(std::count(line.begin(), line.end(), c));
    if (n > best) {
      best = n;
      delim = c;
    }
  }
  if (delim == 0) {
    fail(path, header_line, "header '" + shown(line) +
                                "' has no delimiter (looked for ',', tab, ';', '|')");
  }
  std::vector<std::string> header;
  split_delimited(line, delim, &header);
  int col[5] = {-1, -1, -1, -1, -1};  // indexed by Column
  for (size_t k = 0; k < header.size(); ++k) {
    const Column c = classify(header[k]);
    if (c == Column::kOther) continue;
    int& slot = col[static_cast<int>(c)];
    if (slot >= 0) {
      fail(path, header_line, "columns '" + header[static_cast<size_t>(slot)] + "' and '" +
                                  header[k] + "' have the same role");
    }
    slot = static_cast<int>(k);
  }
  const int cu = col[static_cast<int>(Column::kUser)];
  const int ci = col[static_cast<int>(Column::kItem)];
  const int cr = col[static_cast<int>(Column::kRating)];
  const int ct = col[static_cast<int>(Column::kTimestamp)];
  if (cu < 0) fail(path, header_line, "header has no user column (user, user_id, userid, uid)");
  if (ci < 0) {
    fail(path, header_line,
         "header has no item column (item, item_id, itemid, iid, movie_id, movieid)");
  }

  Dataset ds;
  ds.name = parent_name(path);
  ds.format = "csv";
  Interactions& x = ds.train;
  std::vector<std::string> f;
  while (lines.next(&line)) {
    split_delimited(line, delim, &f);
    if (f.size() != header.size()) {
      fail(path, lines.number(),
           "expected " + std::to_string(header.size()) + " fields separated by " +
               describe(delim) + ", got " + std::to_string(f.size()));
    }
    const std::string& u = f[static_cast<size_t>(cu)];
    const std::string& i = f[static_cast<size_t>(ci)];
    if (u.empty()) fail(path, lines.number(), "empty user id (field " + std::to_string(cu + 1) + ")");
    if (i.empty()) fail(path, lines.number(), "empty item id (field " + std::to_string(ci + 1) + ")");
    x.user.push_back(ds.users.intern(u));
    x.item.push_back(ds.items.intern(i));
    if (cr >= 0) x.rating.push_back(parse_rating(f[static_cast<size_t>(cr)], path, lines.number(), cr + 1));
    if (ct >= 0) x.timestamp.push_back(parse_int(f[static_cast<size_t>(ct)], path, lines.number(), ct + 1));
  }
  if (x.empty()) throw DataError(path + ": no interactions");
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
  write_file_atomic(join(dir, "train.txt"), lightgcn_text(ds.train, ds.num_users()));
  write_file_atomic(join(dir, "test.txt"), lightgcn_text(ds.test, ds.num_users()));
}

}  // namespace gnnrec
