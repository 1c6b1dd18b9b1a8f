// The bipartite user–item graph store: CSR (user -> items) and CSC
// (item -> users) with int64 offsets and int32 indices.
//
// Contract: built once from an Interactions list and immutable afterwards,
// so concurrent readers need no locking. Within a user's CSR row items are
// sorted ascending; within an item's CSC column users are sorted ascending.
// Edge attributes (rating, timestamp, weight) are stored in CSR order;
// csc_to_csr()[k] gives the CSR position of the k-th CSC entry.
// Duplicate (user, item) pairs are kept once (the first occurrence's
// attributes win), because an adjacency matrix has 0/1 entries.
#pragma once

#include <cstdint>
#include <vector>

#include "graph/interactions.h"

namespace gnnrec {

class BipartiteGraph {
 public:
  BipartiteGraph() = default;

  // Builds the graph over num_users x num_items from x. Throws DataError if
  // an id is out of range or if the counts do not fit the index types
  // (ids in int32, edge count in int64).
  static BipartiteGraph build(int64_t num_users, int64_t num_items,
                              const Interactions& x);

  int64_t num_users() const { return num_users_; }
  int64_t num_items() const { return num_items_; }
  int64_t num_edges() const { return static_cast<int64_t>(user_items_.size()); }

  // CSR: items of user u are user_items()[user_offsets()[u] .. user_offsets()[u+1]).
  const std::vector<int64_t>& user_offsets() const { return user_offsets_; }
  const std::vector<int32_t>& user_items() const { return user_items_; }
  // CSC: users of item i are item_users()[item_offsets()[i] .. item_offsets()[i+1]).
  const std::vector<int64_t>& item_offsets() const { return item_offsets_; }
  const std::vector<int32_t>& item_users() const { return item_users_; }
  const std::vector<int64_t>& csc_to_csr() const { return csc_to_csr_; }

  int64_t user_degree(int64_t u) const { return user_offsets_[u + 1] - user_offsets_[u]; }
  int64_t item_degree(int64_t i) const { return item_offsets_[i + 1] - item_offsets_[i]; }
  // Binary search in the user's sorted row.
  bool has_edge(int32_t u, int32_t i) const;

  // Per-edge attributes in CSR order; empty when the input had none.
  const std::vector<float>& rating() const { return rating_; }
  const std::vector<int64_t>& timestamp() const { return timestamp_; }

 private:
  int64_t num_users_ = 0;
  int64_t num_items_ = 0;
  std::vector<int64_t> user_offsets_{0};
  std::vector<int32_t> user_items_;
  std::vector<int64_t> item_offsets_{0};
  std::vector<int32_t> item_users_;
  std::vector<int64_t> csc_to_csr_;
  std::vector<float> rating_;
  std::vector<int64_t> timestamp_;
};

}  // namespace gnnrec
