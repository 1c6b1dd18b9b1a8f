#include "graph/kg_loaders.h"

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <map>
#include <string_view>
#include <unordered_map>

#include "base/file_io.h"

namespace gnnrec {
namespace {

namespace fs = std::filesystem;

std::string join(const std::string& dir, const char* name) { return (fs::path(dir) / name).string(); }
bool exists(const std::string& dir, const char* name) {
  std::error_code ec;
  return fs::is_regular_file(fs::path(dir) / name, ec);
}

[[noreturn]] void fail(const std::string& path, int64_t line, const std::string& what) {
  throw DataError(path + ":" + std::to_string(line) + ": " + what);
}

// Non-blank lines with 1-based numbers; "\r\n" reads like "\n".
class Lines {
 public:
  explicit Lines(std::string_view t) : t_(t) {}
  bool next(std::string_view* line) {
    while (pos_ < t_.size()) {
      size_t end = t_.find('\n', pos_);
      if (end == std::string_view::npos) end = t_.size();
      std::string_view l = t_.substr(pos_, end - pos_);
      pos_ = end + 1;
      ++number_;
      if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
      if (l.find_first_not_of(" \t") == std::string_view::npos) continue;
      *line = l;
      return true;
    }
    return false;
  }
  int64_t number() const { return number_; }

 private:
  std::string_view t_;
  size_t pos_ = 0;
  int64_t number_ = 0;
};

// Fields separated by `seps` (runs of them count once when `runs`).
std::vector<std::string_view> fields(std::string_view l, std::string_view seps, bool runs) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (true) {
    if (runs) {
      while (i < l.size() && seps.find(l[i]) != std::string_view::npos) ++i;
      if (i >= l.size()) break;
    }
    size_t j = l.find_first_of(seps, i);
    if (j == std::string_view::npos) j = l.size();
    std::string_view f = l.substr(i, j - i);
    while (!f.empty() && f.front() == ' ') f.remove_prefix(1);
    while (!f.empty() && f.back() == ' ') f.remove_suffix(1);
    out.push_back(f);
    if (j >= l.size()) break;
    i = j + 1;
  }
  return out;
}

int64_t to_int(std::string_view tok, const std::string& path, int64_t line, int field) {
  int64_t v = 0;
  auto [p, ec] = std::from_chars(tok.data(), tok.data() + tok.size(), v);
  if (tok.empty() || ec != std::errc() || p != tok.data() + tok.size()) {
    const std::string shown = tok.size() > 40 ? std::string(tok.substr(0, 40)) + "..." : std::string(tok);
    fail(path, line, "field " + std::to_string(field) + " ('" + shown + "') is not an integer");
  }
  if (v < 0 || v > INT32_MAX) {
    fail(path, line, "id " + std::string(tok) + " out of range [0, " + std::to_string(INT32_MAX) + "]");
  }
  return v;
}

// Triples in raw form, read from a `head relation tail` file.
struct RawTriples {
  std::vector<int64_t> head, tail;
  std::vector<std::string> relation;
};

RawTriples read_triples(const std::string& path, bool relation_by_name) {
  const std::string text = read_file(path);
  Lines lines(text);
  std::string_view l;
  RawTriples t;
  while (lines.next(&l)) {
    auto f = relation_by_name ? fields(l, "\t", false) : fields(l, " \t", true);
    if (relation_by_name && f.size() != 3) f = fields(l, " \t", true);
    if (f.size() != 3) {
      fail(path, lines.number(),
           "expected 3 fields (head relation tail), got " + std::to_string(f.size()));
    }
    t.head.push_back(to_int(f[0], path, lines.number(), 1));
    if (relation_by_name) {
      if (f[1].empty()) fail(path, lines.number(), "empty relation name");
      t.relation.emplace_back(f[1]);
    } else {
      t.relation.push_back(std::to_string(to_int(f[1], path, lines.number(), 2)));
    }
    t.tail.push_back(to_int(f[2], path, lines.number(), 3));
  }
  if (t.head.empty()) throw DataError(path + ": no triples");
  return t;
}

// The entity graph: items first (entity i = dense item i, raw id
// item_entity[i] or, when -1, "item:" and its dense id),
// then the other KG entities in numeric order.
TypedGraph entity_graph(const RawTriples& t, const std::vector<int64_t>& item_entity,
                        bool inverse) {
  std::unordered_map<int64_t, int32_t> dense;
  IdMap entities;
  for (size_t i = 0; i < item_entity.size(); ++i) {
    const int64_t e = item_entity[i];
    const std::string raw = e >= 0 ? std::to_string(e) : "item:" + std::to_string(i);
    entities.intern(raw);
    if (e >= 0) dense.emplace(e, static_cast<int32_t>(i));
  }
  std::vector<int64_t> others;
  for (const auto* col : {&t.head, &t.tail}) {
    for (int64_t e : *col) {
      if (!dense.count(e)) others.push_back(e);
    }
  }
  std::sort(others.begin(), others.end());
  others.erase(std::unique(others.begin(), others.end()), others.end());
  for (int64_t e : others) dense.emplace(e, static_cast<int32_t>(entities.intern(std::to_string(e))));

  IdMap relations;
  for (const auto& r : t.relation) relations.intern(r);
  (void)relations.canonicalize();
  TypedGraphBuilder b;
  const int32_t type = b.add_node_type("entity", std::move(entities));
  for (const auto& name : relations.raw_ids()) b.add_relation(name, type, type);
  for (size_t k = 0; k < t.head.size(); ++k) {
    const int32_t r = relations.find(t.relation[k]);
    b.add_edge(r, dense.at(t.head[k]), dense.at(t.tail[k]));
  }
  return b.build(inverse);
}

}  // namespace

TypedGraph load_kgat_kg(const std::string& kg_final_path, const IdMap& items, bool inverse) {
  const RawTriples t = read_triples(kg_final_path, false);
  std::vector<int64_t> item_entity(static_cast<size_t>(items.size()), -1);
  for (int64_t i = 0; i < items.size(); ++i) {
    const std::string& raw = items.raw(static_cast<int32_t>(i));
    int64_t v = 0;
    auto [p, ec] = std::from_chars(raw.data(), raw.data() + raw.size(), v);
    if (ec != std::errc() || p != raw.data() + raw.size()) {
      throw DataError(kg_final_path + ": item id '" + raw +
                      "' of the interactions is not an integer entity id");
    }
    item_entity[static_cast<size_t>(i)] = v;
  }
  return entity_graph(t, item_entity, inverse);
}

namespace {

// KGCN's item_index2entity_id.txt: item -> entity. KGCN's items are the
// first entities, one each: an item listed twice or an entity given to two
// items is an error (found by fuzzing: two items on one entity reached the
// graph builder as an out-of-range edge). Read by both KGCN loaders.
std::unordered_map<int64_t, int64_t> read_item_entities(const std::string& map_path) {
  const std::string text = read_file(map_path);
  Lines lines(text);
  std::string_view l;
  std::unordered_map<int64_t, int64_t> entity_of;
  std::unordered_map<int64_t, int64_t> item_line, entity_line;
  while (lines.next(&l)) {
    const auto f = fields(l, " \t", true);
    if (f.size() != 2) {
      fail(map_path, lines.number(), "expected 2 fields (item entity), got " + std::to_string(f.size()));
    }
    const int64_t item = to_int(f[0], map_path, lines.number(), 1);
    const int64_t entity = to_int(f[1], map_path, lines.number(), 2);
    const int64_t line = static_cast<int64_t>(lines.number());
    if (const auto [it, fresh] = item_line.emplace(item, line); !fresh) {
      fail(map_path, lines.number(),
           "item " + std::to_string(item) + " is listed twice (first on line " +
               std::to_string(it->second) + ")");
    }
    if (const auto [it, fresh] = entity_line.emplace(entity, line); !fresh) {
      fail(map_path, lines.number(),
           "entity " + std::to_string(entity) + " is already the entity of the item on line " +
               std::to_string(it->second) + " (each item needs its own entity)");
    }
    entity_of.emplace(item, entity);
  }
  return entity_of;
}

}  // namespace

TypedGraph load_kgcn_kg(const std::string& dir, const IdMap& items, bool inverse) {
  const std::unordered_map<int64_t, int64_t> entity_of =
      read_item_entities(join(dir, "item_index2entity_id.txt"));
  std::vector<int64_t> item_entity(static_cast<size_t>(items.size()), -1);
  for (const auto& [item, entity] : entity_of) {
    const int32_t dense = items.find(std::to_string(item));
    if (dense >= 0) item_entity[static_cast<size_t>(dense)] = entity;
  }
  return entity_graph(read_triples(join(dir, "kg.txt"), true), item_entity, inverse);
}

Dataset load_kgcn_interactions(const std::string& dir) {
  const std::string map_path = join(dir, "item_index2entity_id.txt");
  const std::unordered_map<int64_t, int64_t> linked = read_item_entities(map_path);
  const std::string path = join(dir, "user_artists.dat");
  const std::string text = read_file(path);
  Lines lines(text);
  std::string_view l;
  if (!lines.next(&l)) throw DataError(path + ": no interactions");
  const auto header = fields(l, "\t", false);
  if (header.size() < 2 || header[0] != "userID" || header[1] != "artistID") {
    fail(path, lines.number(), "expected the header 'userID<TAB>artistID<TAB>weight'");
  }
  Dataset ds;
  ds.name = fs::path(dir).filename().string();
  if (ds.name.empty()) ds.name = fs::path(dir).parent_path().filename().string();
  ds.format = "kgcn";
  std::vector<int64_t> us, is;
  while (lines.next(&l)) {
    const auto f = fields(l, " \t", true);
    if (f.size() < 2 || f.size() > 3) {
      fail(path, lines.number(), "expected 3 fields (userID artistID weight), got " + std::to_string(f.size()));
    }
    const int64_t u = to_int(f[0], path, lines.number(), 1);
    const int64_t i = to_int(f[1], path, lines.number(), 2);
    if (f.size() == 3) to_int(f[2], path, lines.number(), 3);
    if (!linked.count(i)) continue;
    us.push_back(u);
    is.push_back(i);
  }
  if (us.empty()) throw DataError(path + ": no interactions with an artist of " + map_path);
  for (int64_t u : us) ds.users.intern(std::to_string(u));
  for (int64_t i : is) ds.items.intern(std::to_string(i));
  (void)ds.users.canonicalize();  // dense ids in numeric raw-id order
  (void)ds.items.canonicalize();
  ds.train.reserve(us.size());
  for (size_t k = 0; k < us.size(); ++k) {
    ds.train.user.push_back(ds.users.find(std::to_string(us[k])));
    ds.train.item.push_back(ds.items.find(std::to_string(is[k])));
  }
  return ds;
}

TypedGraph load_movielens_side(const std::string& dir, const IdMap& users, const IdMap& items,
                               bool inverse) {
  std::vector<std::string> genres;
  if (exists(dir, "u.genre")) {
    const std::string path = join(dir, "u.genre");
    const std::string text = read_file(path);
    Lines lines(text);
    std::string_view l;
    while (lines.next(&l)) {
      const auto f = fields(l, "|", false);
      if (f.size() != 2) fail(path, lines.number(), "expected 2 fields separated by '|', got " + std::to_string(f.size()));
      if (to_int(f[1], path, lines.number(), 2) != static_cast<int64_t>(genres.size())) {
        fail(path, lines.number(), "genres must be numbered 0, 1, ... in order");
      }
      // Genre g is node g of type "genre": a repeated name would merge two.
      if (std::find(genres.begin(), genres.end(), f[0]) != genres.end()) {
        fail(path, lines.number(), "genre '" + std::string(f[0]) + "' is listed twice");
      }
      genres.emplace_back(f[0]);
    }
  } else {
    for (int g = 0; g < 19; ++g) genres.push_back("genre" + std::to_string(g));
  }
  static const int kAgeLow[] = {1, 18, 25, 35, 45, 50, 56};
  TypedGraphBuilder b;
  const int32_t tu = b.add_node_type("user", users);
  const int32_t ti = b.add_node_type("item", items);
  IdMap genre_ids, age_ids, gender_ids, occupation_ids;
  for (const auto& g : genres) genre_ids.intern(g);
  for (int a : kAgeLow) age_ids.intern(std::to_string(a));
  gender_ids.intern("F");
  gender_ids.intern("M");
  // Occupations are the distinct values of u.user (u.occupation lists the same).
  struct UserRow {
    int32_t user, age;
    std::string gender, occupation;
  };
  std::vector<UserRow> rows;
  {
    const std::string path = join(dir, "u.user");
    const std::string text = read_file(path);
    Lines lines(text);
    std::string_view l;
    while (lines.next(&l)) {
      const auto f = fields(l, "|", false);
      if (f.size() != 5) fail(path, lines.number(), "expected 5 fields separated by '|', got " + std::to_string(f.size()));
      const int64_t uid = to_int(f[0], path, lines.number(), 1);
      const int64_t age = to_int(f[1], path, lines.number(), 2);
      if (f[2] != "M" && f[2] != "F") fail(path, lines.number(), "gender '" + std::string(f[2]) + "' is not M or F");
      if (f[3].empty()) fail(path, lines.number(), "empty occupation");
      int32_t group = 0;
      for (int32_t g = 0; g < 7; ++g) {
        if (age >= kAgeLow[g]) group = g;
      }
      const int32_t u = users.find(std::to_string(uid));
      if (u < 0) continue;
      rows.push_back({u, group, std::string(f[2]), std::string(f[3])});
    }
  }
  std::vector<std::string> occupations;
  for (const auto& r : rows) occupations.push_back(r.occupation);
  std::sort(occupations.begin(), occupations.end());
  occupations.erase(std::unique(occupations.begin(), occupations.end()), occupations.end());
  for (const auto& o : occupations) occupation_ids.intern(o);
  const int32_t tg = b.add_node_type("genre", genre_ids);
  const int32_t ta = b.add_node_type("age", age_ids);
  const int32_t tx = b.add_node_type("gender", gender_ids);
  const int32_t to = b.add_node_type("occupation", occupation_ids);
  const int32_t r_genre = b.add_relation("item-has-genre", ti, tg);
  const int32_t r_age = b.add_relation("user-has-age", tu, ta);
  const int32_t r_gender = b.add_relation("user-has-gender", tu, tx);
  const int32_t r_occ = b.add_relation("user-has-occupation", tu, to);
  for (const auto& r : rows) {
    b.add_edge(r_age, r.user, r.age);
    b.add_edge(r_gender, r.user, gender_ids.find(r.gender));
    b.add_edge(r_occ, r.user, occupation_ids.find(r.occupation));
  }
  {
    const std::string path = join(dir, "u.item");
    const std::string text = read_file(path);
    Lines lines(text);
    std::string_view l;
    const size_t want = 5 + genres.size();
    while (lines.next(&l)) {
      const auto f = fields(l, "|", false);
      if (f.size() != want) {
        fail(path, lines.number(), "expected " + std::to_string(want) + " fields separated by '|', got " +
                                       std::to_string(f.size()));
      }
      const int64_t iid = to_int(f[0], path, lines.number(), 1);
      const int32_t i = items.find(std::to_string(iid));
      for (size_t g = 0; g < genres.size(); ++g) {
        const std::string_view flag = f[5 + g];
        if (flag != "0" && flag != "1") {
          fail(path, lines.number(), "genre flag " + std::to_string(6 + g) + " ('" + std::string(flag) + "') is not 0 or 1");
        }
        if (flag == "1" && i >= 0) b.add_edge(r_genre, i, static_cast<int32_t>(g));
      }
    }
  }
  return b.build(inverse);
}

std::shared_ptr<const TypedGraph> load_side_graph(const std::string& dir, const Dataset& ds) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return nullptr;
  if (exists(dir, "kg_final.txt")) {
    return std::make_shared<const TypedGraph>(load_kgat_kg(join(dir, "kg_final.txt"), ds.items, true));
  }
  if (exists(dir, "kg.txt") && exists(dir, "item_index2entity_id.txt")) {
    return std::make_shared<const TypedGraph>(load_kgcn_kg(dir, ds.items, true));
  }
  if (exists(dir, "u.data") && exists(dir, "u.user") && exists(dir, "u.item")) {
    return std::make_shared<const TypedGraph>(load_movielens_side(dir, ds.users, ds.items, true));
  }
  return nullptr;
}

}  // namespace gnnrec
