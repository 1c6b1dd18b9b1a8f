// Loaders for knowledge graphs and side information, as typed graphs
// aligned with a Dataset's dense user and item ids.
//
// Knowledge graphs (KGAT, KGCN and RecBole formats) come back as a TypedGraph with a
// single node type "entity" whose first ds.num_items() entities ARE the
// data set's items (entity i = dense item i, whether or not the KG mentions
// it), followed by the KG's other entities in canonical raw-id order; one
// relation per KG relation (named by its raw id or name, in canonical
// order) plus, when asked, the inverse relations (graph/typed_graph.h). Item
// entities keep the KG's raw entity ids in the IdMap (for KGAT they equal
// the item ids; an item the KG does not name is "item:" + its dense id).
//
// Errors throw DataError naming the file and line, as graph/loaders.h:
//   "kg_final.txt:7: expected 3 fields (head relation tail), got 2"
//   "item_index2entity_id.txt:3: field 2 ('x') is not an integer"
#pragma once

#include <memory>
#include <string>

#include "graph/interactions.h"
#include "graph/typed_graph.h"

namespace gnnrec {

// KGAT's kg_final.txt: one triple a line, `head relation tail` (blank
// separated integer ids; entity ids < number of items are items, so an
// entity whose raw id is an item raw id of `items` is that item).
TypedGraph load_kgat_kg(const std::string& kg_final_path, const IdMap& items, bool inverse);

// KGCN's music/book/movie layout in `dir`: item_index2entity_id.txt (`item
// entity` per line) and kg.txt (`head relation tail`, tab separated,
// relation by name, entities by the integer ids of the first file's second
// column and beyond). Items of `items` without an entity stay unlinked
// entities; an item_index2entity_id.txt item absent from `items` is skipped.
TypedGraph load_kgcn_kg(const std::string& dir, const IdMap& items, bool inverse);

// KGCN's interactions: dir/user_artists.dat (header `userID artistID
// weight`, tab separated), implicit, keeping only the artists listed in
// dir/item_index2entity_id.txt as KGCN does. Format "kgcn"; no ratings.
Dataset load_kgcn_interactions(const std::string& dir);

// MovieLens 100K side information in `dir` as typed nodes, over the users
// and items of `users` / `items` (raw MovieLens ids; rows for ids not in
// them are skipped):
//   node types   user, item, genre (u.genre names, or genre0..18 without
//                it), age (ML-1M groups: under 18, 18-24, 25-34, 35-44,
//                45-49, 50-55, 56+, named by their lower bound), gender,
//                occupation
//   relations    item-has-genre (u.item's 19 flags), user-has-age,
//                user-has-gender, user-has-occupation (from u.user), with
//                inverses when asked
TypedGraph load_movielens_side(const std::string& dir, const IdMap& users, const IdMap& items,
                               bool inverse);

// RecBole's knowledge graph (graph/recbole.h for the files' header and
// rows): `link_path` (NAME.link: item_id:token entity_id:token, the entity
// of an item) and `kg_path` (NAME.kg: head_id:token relation_id:token
// tail_id:token). Entities and relations are tokens, kept as written; the
// first ds.num_items() entities are the items (an item's raw id is its
// entity's name; an item without a link is "item:" + its dense id), the
// KG's other entities follow in canonical raw-id order. A link of an item
// absent from `items` is skipped; an item listed twice or an entity given
// to two items is an error, as for KGCN's item map.
TypedGraph load_recbole_kg(const std::string& kg_path, const std::string& link_path,
                           const IdMap& items, bool inverse);

// RecBole's NAME.user and NAME.item (either path "" when absent) as typed
// nodes over `users` and `items`: node types user, item, then one per token
// or token_seq field (other than user_id / item_id) that has a value, named
// as the field, its values (a token_seq's space-separated tokens) in
// canonical order; relations user-has-FIELD / item-has-FIELD (with
// inverses when asked). A field of both files is one node type. As RecBole
// reads them: the first row of an id counts, an empty value is none, float
// fields are ignored; rows of ids not in `users` / `items` are skipped.
TypedGraph load_recbole_side(const std::string& user_path, const std::string& item_path,
                             const IdMap& users, const IdMap& items, bool inverse);

// The graph that goes with the data set in `dir`, for the models that use
// one: kg_final.txt (KGAT) or kg.txt (KGCN), with inverse relations; or the
// MovieLens 100K side information (u.user and u.item beside u.data); for a
// RecBole data set (ds.format "recbole"), NAME.kg with NAME.link, else the
// features of NAME.user and NAME.item. nullptr when the folder has none.
std::shared_ptr<const TypedGraph> load_side_graph(const std::string& dir, const Dataset& ds);
// The files load_side_graph(dir, ...) reads (empty when it reads none), for
// the record a run keeps of its inputs.
std::vector<std::string> side_source_files(const std::string& dir);

}  // namespace gnnrec
