// The typed (heterogeneous) graph store: several node types, each with its
// own dense ids and raw-id map, and typed relations between them, each held
// as its own CSR (source -> destinations) and CSC (destination -> sources),
// so that the shared sparse operators run per relation. Torch-free.
//
// Contract: built once by TypedGraphBuilder and immutable afterwards, so
// concurrent readers need no locking. Within a relation, a (head, tail)
// pair is stored once (duplicates are dropped); a CSR row's destinations
// are sorted ascending, a CSC column's sources too, and csc_to_csr()[k] is
// the CSR position of the k-th CSC entry. Offsets are int64, indices int32.
//
// With inverses, build() adds for every relation r (src -> dst) a relation
// "rev_" + r.name (dst -> src, PyG's ToUndirected naming) right after the
// forward relations: relation num_forward() + r is the inverse of r, as in
// KGAT's id layout (relation r + R). A relation whose source and destination
// types are equal also gets its inverse as a separate relation: KG relations
// are directed and the models give the two directions different embeddings.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "graph/interactions.h"

namespace gnnrec {

// One relation's adjacency in both orientations.
struct RelationStore {
  std::string name;
  int32_t src_type = 0;
  int32_t dst_type = 0;
  int32_t inverse_of = -1;  // for an added inverse: the forward relation's index
  std::vector<int64_t> offsets{0};   // CSR over sources: [num_src + 1]
  std::vector<int32_t> dst;          // CSR destinations
  std::vector<int64_t> t_offsets{0}; // CSC over destinations: [num_dst + 1]
  std::vector<int32_t> src;          // CSC sources
  std::vector<int64_t> csc_to_csr;   // CSC entry k is CSR entry csc_to_csr[k]

  int64_t num_edges() const { return static_cast<int64_t>(dst.size()); }
};

// All relations of a node type merged into one CSR over that type's nodes
// (for knowledge-graph models whose nodes are all "entity"): each entry is a
// (relation, neighbour) pair; rows ordered by relation index, then by
// neighbour.
struct MergedAdjacency {
  std::vector<int64_t> offsets{0};   // [num_nodes + 1]
  std::vector<int32_t> neighbor;
  std::vector<int32_t> relation;
};

class TypedGraph {
 public:
  int64_t num_node_types() const { return static_cast<int64_t>(type_names_.size()); }
  const std::string& type_name(int32_t t) const { return type_names_.at(static_cast<size_t>(t)); }
  int64_t num_nodes(int32_t t) const { return ids_.at(static_cast<size_t>(t)).size(); }
  const IdMap& ids(int32_t t) const { return ids_.at(static_cast<size_t>(t)); }
  // The index of the named node type or relation; -1 when there is none.
  int32_t find_type(const std::string& name) const;
  int32_t find_relation(const std::string& name) const;

  int64_t num_relations() const { return static_cast<int64_t>(relations_.size()); }
  // Relations as declared, without the added inverses.
  int64_t num_forward() const { return num_forward_; }
  const RelationStore& relation(int32_t r) const { return relations_.at(static_cast<size_t>(r)); }
  int64_t num_edges() const;

  // Every relation whose source and destination types are both `type`,
  // merged into one CSR (relation ids are this graph's relation indices).
  MergedAdjacency merged(int32_t type) const;

 private:
  friend class TypedGraphBuilder;
  std::vector<std::string> type_names_;
  std::vector<IdMap> ids_;
  std::vector<RelationStore> relations_;
  int64_t num_forward_ = 0;
};

// Collects node types, relations and (head, relation, tail) triples in dense
// ids, then builds the stores. Not thread-safe.
class TypedGraphBuilder {
 public:
  // Declares a node type whose nodes are the raw ids of `ids` (dense ids
  // 0..n-1); returns its index. DataError for a repeated name.
  int32_t add_node_type(const std::string& name, IdMap ids);
  // A node type of n nodes with raw ids "0".."n-1".
  int32_t add_node_type(const std::string& name, int64_t n);
  // Declares a relation between two declared types; returns its index.
  // DataError for a repeated name or an unknown type.
  int32_t add_relation(const std::string& name, int32_t src_type, int32_t dst_type);
  // One triple in dense ids (checked in build()).
  void add_edge(int32_t relation, int32_t head, int32_t tail);

  // Builds the graph, with inverse relations when asked. DataError naming the
  // relation when an id is out of its type's range or counts overflow int32.
  TypedGraph build(bool add_inverse) const;

 private:
  std::vector<std::string> type_names_;
  std::vector<IdMap> ids_;
  struct Decl {
    std::string name;
    int32_t src, dst;
  };
  std::vector<Decl> relations_;
  std::vector<int32_t> head_, rel_, tail_;
};

}  // namespace gnnrec
