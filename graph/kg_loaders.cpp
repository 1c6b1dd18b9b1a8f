#include "graph/kg_loaders.h"

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "base/file_io.h"
#include "graph/loaders.h"
#include "graph/recbole.h"
#include "graph/text.h"

namespace gnnrec {
namespace {

namespace fs = std::filesystem;

bool exists(const std::string& dir, const char* name) {
  std::error_code ec;
  return fs::is_regular_file(fs::path(dir) / name, ec);
}

// Triples in raw form, read from a `head relation tail` file.
struct RawTriples {
  std::vector<int64_t> head, tail;
  std::vector<std::string> relation;
};

RawTriples read_triples(const std::string& path, bool relation_by_name) {
  TextFile file(path);
  std::string_view l;
  std::vector<std::string_view> f;
  RawTriples t;
  while (file.next(&l)) {
    if (relation_by_name) split_on(l, "\t", &f);
    if (!relation_by_name || f.size() != 3) split_blanks(l, &f);
    if (f.size() != 3) {
      file.fail("expected 3 fields (head relation tail), got " + std::to_string(f.size()));
    }
    t.head.push_back(file.id(f[0], 1));
    if (relation_by_name) {
      if (f[1].empty()) file.fail("empty relation name");
      t.relation.emplace_back(f[1]);
    } else {
      t.relation.push_back(std::to_string(file.id(f[1], 2)));
    }
    t.tail.push_back(file.id(f[2], 3));
  }
  if (t.head.empty()) throw DataError(path + ": no triples");
  return t;
}

// The raw id of KG entity `e`: its name in `names` when given, else itself.
std::string entity_name(int64_t e, const IdMap* names) {
  return names != nullptr ? names->raw(static_cast<int32_t>(e)) : std::to_string(e);
}

// The entity graph: items first (entity i = dense item i, raw id
// item_entity[i] or, when -1, "item:" and its dense id),
// then the other KG entities in numeric order. Entities are integers, named
// by themselves or, with `names`, by names->raw(e).
TypedGraph entity_graph(const RawTriples& t, const std::vector<int64_t>& item_entity, bool inverse,
                        const IdMap* names = nullptr) {
  std::unordered_map<int64_t, int32_t> dense;
  IdMap entities;
  for (size_t i = 0; i < item_entity.size(); ++i) {
    const int64_t e = item_entity[i];
    const std::string raw = e >= 0 ? entity_name(e, names) : "item:" + std::to_string(i);
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
  for (int64_t e : others) {
    dense.emplace(e, static_cast<int32_t>(entities.intern(entity_name(e, names))));
  }

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
  TextFile file(map_path);
  std::string_view l;
  std::vector<std::string_view> f;
  std::unordered_map<int64_t, int64_t> entity_of;
  std::unordered_map<int64_t, int64_t> item_line, entity_line;
  while (file.next(&l)) {
    split_blanks(l, &f);
    if (f.size() != 2)
      file.fail("expected 2 fields (item entity), got " + std::to_string(f.size()));
    const int64_t item = file.id(f[0], 1);
    const int64_t entity = file.id(f[1], 2);
    if (const auto [it, fresh] = item_line.emplace(item, file.line()); !fresh) {
      file.fail("item " + std::to_string(item) + " is listed twice (first on line " +
                std::to_string(it->second) + ")");
    }
    if (const auto [it, fresh] = entity_line.emplace(entity, file.line()); !fresh) {
      file.fail("entity " + std::to_string(entity) + " is already the entity of the item on line " +
                std::to_string(it->second) + " (each item needs its own entity)");
    }
    entity_of.emplace(item, entity);
  }
  if (entity_of.empty()) throw DataError(map_path + ": no items");
  return entity_of;
}

}  // namespace

TypedGraph load_kgcn_kg(const std::string& dir, const IdMap& items, bool inverse) {
  const std::unordered_map<int64_t, int64_t> entity_of =
      read_item_entities(path_join(dir, "item_index2entity_id.txt"));
  std::vector<int64_t> item_entity(static_cast<size_t>(items.size()), -1);
  for (const auto& [item, entity] : entity_of) {
    const int32_t dense = items.find(std::to_string(item));
    if (dense >= 0) item_entity[static_cast<size_t>(dense)] = entity;
  }
  return entity_graph(read_triples(path_join(dir, "kg.txt"), true), item_entity, inverse);
}

Dataset load_kgcn_interactions(const std::string& dir) {
  const std::string map_path = path_join(dir, "item_index2entity_id.txt");
  const std::unordered_map<int64_t, int64_t> linked = read_item_entities(map_path);
  const std::string path = path_join(dir, "user_artists.dat");
  TextFile file(path);
  std::string_view l;
  std::vector<std::string_view> f;
  if (!file.next(&l)) throw DataError(path + ": no interactions");
  split_on(l, "\t", &f);
  if (f.size() < 2 || f[0] != "userID" || f[1] != "artistID") {
    file.fail("expected the header 'userID<TAB>artistID<TAB>weight'");
  }
  Dataset ds;
  ds.name = fs::path(dir).filename().string();
  if (ds.name.empty()) ds.name = fs::path(dir).parent_path().filename().string();
  ds.format = "kgcn";
  std::vector<int64_t> us, is;
  while (file.next(&l)) {
    split_blanks(l, &f);
    if (f.size() < 2 || f.size() > 3) {
      file.fail("expected 3 fields (userID artistID weight), got " + std::to_string(f.size()));
    }
    const int64_t u = file.id(f[0], 1);
    const int64_t i = file.id(f[1], 2);
    if (f.size() == 3) file.integer(f[2], 3);
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

namespace {

constexpr int kAgeLow[] = {1, 18, 25, 35, 45, 50, 56};  // MovieLens' age groups

// u.genre ("name|index", indices 0, 1, ... in order), or the 19 genres of
// MovieLens 100K by number when the folder has none.
std::vector<std::string> read_genres(const std::string& dir) {
  std::vector<std::string> genres;
  if (!exists(dir, "u.genre")) {
    for (int g = 0; g < 19; ++g) genres.push_back("genre" + std::to_string(g));
    return genres;
  }
  TextFile file(path_join(dir, "u.genre"));
  std::string_view l;
  std::vector<std::string_view> f;
  while (file.next(&l)) {
    split_on(l, "|", &f);
    if (f.size() != 2)
      file.fail("expected 2 fields separated by '|', got " + std::to_string(f.size()));
    if (file.id(f[1], 2) != static_cast<int64_t>(genres.size())) {
      file.fail("genres must be numbered 0, 1, ... in order");
    }
    // Genre g is node g of type "genre": a repeated name would merge two.
    if (std::find(genres.begin(), genres.end(), f[0]) != genres.end()) {
      file.fail("genre '" + shown(f[0]) + "' is listed twice");
    }
    genres.emplace_back(f[0]);
  }
  if (genres.empty()) throw DataError(file.path() + ": no genres");
  return genres;
}

// One u.user row of a user of the data set (dense id, age group).
struct UserRow {
  int32_t user, age;
  std::string gender, occupation;
};

std::vector<UserRow> read_user_rows(const std::string& dir, const IdMap& users) {
  TextFile file(path_join(dir, "u.user"));
  std::string_view l;
  std::vector<std::string_view> f;
  std::vector<UserRow> rows;
  int64_t read = 0;
  while (file.next(&l)) {
    ++read;
    split_on(l, "|", &f);
    if (f.size() != 5)
      file.fail("expected 5 fields separated by '|', got " + std::to_string(f.size()));
    const int32_t uid = file.id(f[0], 1);
    const int64_t age = file.integer(f[1], 2);
    if (age < 0) file.fail("age " + std::to_string(age) + " is negative");
    if (f[2] != "M" && f[2] != "F") file.fail("gender '" + shown(f[2]) + "' is not M or F");
    if (f[3].empty()) file.fail("empty occupation");
    int32_t group = 0;
    for (int32_t g = 0; g < 7; ++g) {
      if (age >= kAgeLow[g]) group = g;
    }
    const int32_t u = users.find(std::to_string(uid));
    if (u < 0) continue;
    rows.push_back({u, group, std::string(f[2]), std::string(f[3])});
  }
  if (read == 0) throw DataError(file.path() + ": no users");
  return rows;
}

// The item-has-genre edges of u.item (genre flags in fields 6, 7, ...).
void add_item_genres(const std::string& dir, const IdMap& items, size_t num_genres,
                     int32_t relation, TypedGraphBuilder* b) {
  TextFile file(path_join(dir, "u.item"));
  std::string_view l;
  std::vector<std::string_view> f;
  const size_t want = 5 + num_genres;
  int64_t read = 0;
  while (file.next(&l)) {
    ++read;
    split_on(l, "|", &f);
    if (f.size() != want) {
      file.fail("expected " + std::to_string(want) + " fields separated by '|', got " +
                std::to_string(f.size()));
    }
    const int32_t i = items.find(std::to_string(file.id(f[0], 1)));
    for (size_t g = 0; g < num_genres; ++g) {
      const std::string_view flag = f[5 + g];
      if (flag != "0" && flag != "1") {
        file.fail("genre flag " + std::to_string(6 + g) + " ('" + shown(flag) + "') is not 0 or 1");
      }
      if (flag == "1" && i >= 0) b->add_edge(relation, i, static_cast<int32_t>(g));
    }
  }
  if (read == 0) throw DataError(file.path() + ": no items");
}

}  // namespace

TypedGraph load_movielens_side(const std::string& dir, const IdMap& users, const IdMap& items,
                               bool inverse) {
  const std::vector<std::string> genres = read_genres(dir);
  const std::vector<UserRow> rows = read_user_rows(dir, users);
  TypedGraphBuilder b;
  const int32_t tu = b.add_node_type("user", users);
  const int32_t ti = b.add_node_type("item", items);
  IdMap genre_ids, age_ids, gender_ids, occupation_ids;
  for (const auto& g : genres) genre_ids.intern(g);
  for (int a : kAgeLow) age_ids.intern(std::to_string(a));
  gender_ids.intern("F");
  gender_ids.intern("M");
  // Occupations are the distinct values of u.user (u.occupation lists the same).
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
  add_item_genres(dir, items, genres.size(), r_genre, &b);
  return b.build(inverse);
}

// --- RecBole atomic files --------------------------------------------------

namespace {

// RecBole's NAME.link: the entity of each item of `items` ("" for an item
// without one). As for KGCN's item map, an item listed twice or an entity
// given to two items is an error.
std::vector<std::string> read_recbole_links(const std::string& path, const IdMap& items) {
  TextFile file(path);
  AtomicHeader h;
  if (!read_atomic_header(file, &h)) throw DataError(path + ": no links");
  const int ci = require_field(file, h, "item_id", AtomicType::kToken);
  const int ce = require_field(file, h, "entity_id", AtomicType::kToken);
  std::unordered_map<std::string, int64_t> item_line, entity_line;
  std::vector<std::string> entity_of(static_cast<size_t>(items.size()));
  std::string_view l;
  std::vector<std::string> f;
  while (file.next(&l)) {
    split_atomic_row(file, h, l, &f);
    const std::string& item = atomic_token(file, h, f, ci);
    const std::string& entity = atomic_token(file, h, f, ce);
    if (const auto [it, fresh] = item_line.emplace(item, file.line()); !fresh) {
      file.fail("item '" + shown(item) + "' is listed twice (first on line " +
                std::to_string(it->second) + ")");
    }
    if (const auto [it, fresh] = entity_line.emplace(entity, file.line()); !fresh) {
      file.fail("entity '" + shown(entity) + "' is already the entity of the item on line " +
                std::to_string(it->second) + " (each item needs its own entity)");
    }
    const int32_t i = items.find(item);
    if (i >= 0) entity_of[static_cast<size_t>(i)] = entity;
  }
  if (item_line.empty()) throw DataError(path + ": no links");
  return entity_of;
}

// RecBole's NAME.kg as triples of entity numbers, interned into `names`.
RawTriples read_recbole_triples(const std::string& path, IdMap* names) {
  TextFile file(path);
  AtomicHeader h;
  if (!read_atomic_header(file, &h)) throw DataError(path + ": no triples");
  const int ch = require_field(file, h, "head_id", AtomicType::kToken);
  const int cr = require_field(file, h, "relation_id", AtomicType::kToken);
  const int ct = require_field(file, h, "tail_id", AtomicType::kToken);
  RawTriples t;
  std::string_view l;
  std::vector<std::string> f;
  while (file.next(&l)) {
    split_atomic_row(file, h, l, &f);
    t.head.push_back(names->intern(atomic_token(file, h, f, ch)));
    t.relation.push_back(atomic_token(file, h, f, cr));
    t.tail.push_back(names->intern(atomic_token(file, h, f, ct)));
  }
  if (t.head.empty()) throw DataError(path + ": no triples");
  return t;
}

}  // namespace

TypedGraph load_recbole_kg(const std::string& kg_path, const std::string& link_path,
                           const IdMap& items, bool inverse) {
  const std::vector<std::string> entity_of = read_recbole_links(link_path, items);
  IdMap names;
  RawTriples t = read_recbole_triples(kg_path, &names);
  std::vector<int64_t> item_entity(static_cast<size_t>(items.size()), -1);
  for (size_t i = 0; i < entity_of.size(); ++i) {
    if (!entity_of[i].empty()) item_entity[i] = names.intern(entity_of[i]);
  }
  // Entity numbers in canonical name order, which entity_graph keeps for
  // the entities that are not items.
  const std::vector<int32_t> order = names.canonicalize();
  for (auto* col : {&t.head, &t.tail, &item_entity}) {
    for (int64_t& e : *col) {
      if (e >= 0) e = order[static_cast<size_t>(e)];
    }
  }
  for (size_t i = 0; i < item_entity.size(); ++i) {
    const std::string unlinked = "item:" + std::to_string(i);
    if (item_entity[i] < 0 && names.find(unlinked) >= 0) {
      throw DataError(kg_path + ": entity '" + unlinked + "' has the name given to item " +
                      std::to_string(i) + " ('" + shown(items.raw(static_cast<int32_t>(i))) +
                      "'), which " + fs::path(link_path).filename().string() +
                      " does not link to an entity");
    }
  }
  return entity_graph(t, item_entity, inverse, &names);
}

namespace {

// One token or token_seq field of NAME.user or NAME.item: its (owner, value)
// pairs, owner a dense user or item id.
struct Feature {
  std::string name;      // the field: the node type of its values
  std::string relation;  // "user-has-" or "item-has-" + name
  int32_t owner_type;    // 0: user, 1: item
  std::vector<int32_t> owner;
  std::vector<std::string> value;
};

// Appends the token and token_seq fields of NAME.user (id_field "user_id",
// owner "user") or NAME.item to `out`. As RecBole: the first row of an id
// counts (later ones are skipped), an empty value is no value, a token_seq
// holds space-separated tokens. Rows of ids that are not in `owners` are
// checked and skipped; float fields are ignored.
void read_features(const std::string& path, const char* id_field, int32_t owner_type,
                   const IdMap& owners, std::vector<Feature>* out) {
  TextFile file(path);
  AtomicHeader h;
  // An empty file is a mistake, as an empty u.user is (a file with only
  // its header is a data set without features, and fine).
  if (!read_atomic_header(file, &h)) throw DataError(path + ": empty (expected a header)");
  const int cid = require_field(file, h, id_field, AtomicType::kToken);
  const std::string owner = owner_type == 0 ? "user" : "item";
  std::vector<size_t> cols;
  const size_t first = out->size();
  for (size_t k = 0; k < h.size(); ++k) {
    const AtomicType t = h.types[k];
    if (static_cast<int>(k) == cid || (t != AtomicType::kToken && t != AtomicType::kTokenSeq)) {
      continue;
    }
    if (h.names[k] == "user" || h.names[k] == "item") {
      file.fail("field '" + h.names[k] + "' has the name of the user or item node type");
    }
    cols.push_back(k);
    out->push_back({h.names[k], owner + "-has-" + h.names[k], owner_type, {}, {}});
  }
  std::vector<bool> seen(static_cast<size_t>(owners.size()), false);
  std::string_view l;
  std::vector<std::string> f;
  std::vector<std::string_view> seq;
  while (file.next(&l)) {
    split_atomic_row(file, h, l, &f);
    const int32_t o = owners.find(atomic_token(file, h, f, cid));
    if (o < 0 || seen[static_cast<size_t>(o)]) continue;
    seen[static_cast<size_t>(o)] = true;
    for (size_t j = 0; j < cols.size(); ++j) {
      Feature& feat = (*out)[first + j];
      const std::string& v = f[cols[j]];
      if (h.types[cols[j]] == AtomicType::kToken) {
        if (v.empty()) continue;
        feat.owner.push_back(o);
        feat.value.push_back(v);
      } else {
        split_blanks(v, &seq);
        for (std::string_view s : seq) {
          feat.owner.push_back(o);
          feat.value.emplace_back(s);
        }
      }
    }
  }
}

}  // namespace

TypedGraph load_recbole_side(const std::string& user_path, const std::string& item_path,
                             const IdMap& users, const IdMap& items, bool inverse) {
  std::vector<Feature> features;
  if (!user_path.empty()) read_features(user_path, "user_id", 0, users, &features);
  if (!item_path.empty()) read_features(item_path, "item_id", 1, items, &features);
  // One node type per field name (a name in both files is one type), its
  // values in canonical order; a field without values is left out.
  std::vector<std::string> type_names;
  std::unordered_map<std::string, IdMap> values;
  for (const Feature& feat : features) {
    if (feat.value.empty()) continue;
    auto [it, fresh] = values.try_emplace(feat.name);
    if (fresh) type_names.push_back(feat.name);
    for (const std::string& v : feat.value) it->second.intern(v);
  }
  TypedGraphBuilder b;
  b.add_node_type("user", users);
  b.add_node_type("item", items);
  std::unordered_map<std::string, int32_t> type_of;
  for (const std::string& name : type_names) {
    IdMap& ids = values.at(name);
    (void)ids.canonicalize();
    type_of[name] = b.add_node_type(name, ids);
  }
  for (const Feature& feat : features) {
    if (feat.value.empty()) continue;
    const IdMap& ids = values.at(feat.name);
    const int32_t r = b.add_relation(feat.relation, feat.owner_type, type_of.at(feat.name));
    for (size_t k = 0; k < feat.owner.size(); ++k) {
      b.add_edge(r, feat.owner[k], ids.find(feat.value[k]));
    }
  }
  return b.build(inverse);
}

namespace {

// The side files of a RecBole folder that load_side_graph reads: NAME.kg
// and NAME.link when both are there, else whichever of NAME.user and
// NAME.item is.
std::vector<std::string> recbole_side_files(const std::string& dir) {
  const std::string inter = dataset_source_files(dir).front();  // dir/NAME.inter
  const std::string stem = inter.substr(0, inter.size() - std::string_view(".inter").size());
  const auto present = [](const std::string& path) {
    std::error_code ec;
    return fs::is_regular_file(path, ec);
  };
  if (present(stem + ".kg") && present(stem + ".link")) return {stem + ".kg", stem + ".link"};
  std::vector<std::string> files;
  for (const char* ext : {".user", ".item"}) {
    if (present(stem + ext)) files.push_back(stem + ext);
  }
  return files;
}

// The side graph of a RecBole folder: NAME.kg with NAME.link, else the
// features of NAME.user and NAME.item; nullptr when it has neither.
std::shared_ptr<const TypedGraph> recbole_side_graph(const std::string& dir, const Dataset& ds) {
  const std::vector<std::string> files = recbole_side_files(dir);
  if (files.empty()) return nullptr;
  const auto ends_with = [](const std::string& s, std::string_view e) {
    return s.size() >= e.size() && s.compare(s.size() - e.size(), e.size(), e) == 0;
  };
  if (ends_with(files.front(), ".kg")) {
    return std::make_shared<const TypedGraph>(load_recbole_kg(files[0], files[1], ds.items, true));
  }
  std::string user, item;
  for (const std::string& f : files) (ends_with(f, ".user") ? user : item) = f;
  TypedGraph g = load_recbole_side(user, item, ds.users, ds.items, true);
  if (g.num_forward() == 0) return nullptr;
  return std::make_shared<const TypedGraph>(std::move(g));
}

}  // namespace

std::vector<std::string> side_source_files(const std::string& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return {};
  if (detect_format(dir) == "recbole") return recbole_side_files(dir);
  if (exists(dir, "kg_final.txt")) return {path_join(dir, "kg_final.txt")};
  if (exists(dir, "kg.txt") && exists(dir, "item_index2entity_id.txt")) {
    return {path_join(dir, "kg.txt"), path_join(dir, "item_index2entity_id.txt")};
  }
  if (exists(dir, "u.data") && exists(dir, "u.user") && exists(dir, "u.item")) {
    std::vector<std::string> files{path_join(dir, "u.user"), path_join(dir, "u.item")};
    if (exists(dir, "u.genre")) files.push_back(path_join(dir, "u.genre"));
    return files;
  }
  return {};
}

std::shared_ptr<const TypedGraph> load_side_graph(const std::string& dir, const Dataset& ds) {
  if (ds.format == "recbole") return recbole_side_graph(dir, ds);
  const std::vector<std::string> files = side_source_files(dir);
  if (files.empty()) return nullptr;
  const std::string first = fs::path(files.front()).filename().string();
  if (first == "kg_final.txt") {
    return std::make_shared<const TypedGraph>(load_kgat_kg(files.front(), ds.items, true));
  }
  if (first == "kg.txt") {
    return std::make_shared<const TypedGraph>(load_kgcn_kg(dir, ds.items, true));
  }
  return std::make_shared<const TypedGraph>(load_movielens_side(dir, ds.users, ds.items, true));
}

}  // namespace gnnrec
