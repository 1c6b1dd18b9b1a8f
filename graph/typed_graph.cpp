#include "graph/typed_graph.h"

#include <algorithm>
#include <climits>
#include <numeric>

namespace gnnrec {
namespace {

// CSR of (src, dst) pairs over num_src rows, destinations sorted and
// deduplicated within each row (counting sort on the source, then a sort of
// each row).
void fill_csr(int64_t num_src, const std::vector<int32_t>& s, const std::vector<int32_t>& d,
              std::vector<int64_t>* offsets, std::vector<int32_t>* out) {
  std::vector<int64_t> count(static_cast<size_t>(num_src) + 1, 0);
  for (int32_t v : s) ++count[static_cast<size_t>(v) + 1];
  for (size_t i = 1; i < count.size(); ++i) count[i] += count[i - 1];
  std::vector<int32_t> placed(s.size());
  std::vector<int64_t> next(count.begin(), count.end() - 1);
  for (size_t k = 0; k < s.size(); ++k) placed[static_cast<size_t>(next[static_cast<size_t>(s[k])]++)] = d[k];
  offsets->assign(1, 0);
  offsets->reserve(static_cast<size_t>(num_src) + 1);
  out->clear();
  out->reserve(placed.size());
  for (int64_t r = 0; r < num_src; ++r) {
    auto b = placed.begin() + count[static_cast<size_t>(r)];
    auto e = placed.begin() + count[static_cast<size_t>(r) + 1];
    std::sort(b, e);
    const auto u = std::unique(b, e);
    out->insert(out->end(), b, u);
    offsets->push_back(static_cast<int64_t>(out->size()));
  }
}

// The CSC (transpose) of a CSR, ordered by source within each column, with
// the CSR position of every entry.
void fill_csc(RelationStore& r, int64_t num_dst) {
  const int64_t num_src = static_cast<int64_t>(r.offsets.size()) - 1;
  r.t_offsets.assign(static_cast<size_t>(num_dst) + 1, 0);
  for (int32_t v : r.dst) ++r.t_offsets[static_cast<size_t>(v) + 1];
  for (size_t i = 1; i < r.t_offsets.size(); ++i) r.t_offsets[i] += r.t_offsets[i - 1];
  std::vector<int64_t> next(r.t_offsets.begin(), r.t_offsets.end() - 1);
  r.src.assign(r.dst.size(), 0);
  r.csc_to_csr.assign(r.dst.size(), 0);
  for (int64_t u = 0; u < num_src; ++u) {
    for (int64_t e = r.offsets[static_cast<size_t>(u)]; e < r.offsets[static_cast<size_t>(u) + 1]; ++e) {
      const auto pos = static_cast<size_t>(next[static_cast<size_t>(r.dst[static_cast<size_t>(e)])]++);
      r.src[pos] = static_cast<int32_t>(u);
      r.csc_to_csr[pos] = e;
    }
  }
}

}  // namespace

int32_t TypedGraph::find_type(const std::string& name) const {
  for (size_t i = 0; i < type_names_.size(); ++i) {
    if (type_names_[i] == name) return static_cast<int32_t>(i);
  }
  return -1;
}

int32_t TypedGraph::find_relation(const std::string& name) const {
  for (size_t i = 0; i < relations_.size(); ++i) {
    if (relations_[i].name == name) return static_cast<int32_t>(i);
  }
  return -1;
}

int64_t TypedGraph::num_edges() const {
  int64_t n = 0;
  for (const auto& r : relations_) n += r.num_edges();
  return n;
}

MergedAdjacency TypedGraph::merged(int32_t type) const {
  const int64_t n = num_nodes(type);
  MergedAdjacency m;
  m.offsets.assign(static_cast<size_t>(n) + 1, 0);
  for (const auto& r : relations_) {
    if (r.src_type != type || r.dst_type != type) continue;
    for (int64_t u = 0; u < n; ++u) {
      m.offsets[static_cast<size_t>(u) + 1] += r.offsets[static_cast<size_t>(u) + 1] - r.offsets[static_cast<size_t>(u)];
    }
  }
  for (size_t i = 1; i < m.offsets.size(); ++i) m.offsets[i] += m.offsets[i - 1];
  m.neighbor.resize(static_cast<size_t>(m.offsets.back()));
  m.relation.resize(m.neighbor.size());
  std::vector<int64_t> next(m.offsets.begin(), m.offsets.end() - 1);
  for (size_t ri = 0; ri < relations_.size(); ++ri) {
    const auto& r = relations_[ri];
    if (r.src_type != type || r.dst_type != type) continue;
    for (int64_t u = 0; u < n; ++u) {
      for (int64_t e = r.offsets[static_cast<size_t>(u)]; e < r.offsets[static_cast<size_t>(u) + 1]; ++e) {
        const auto pos = static_cast<size_t>(next[static_cast<size_t>(u)]++);
        m.neighbor[pos] = r.dst[static_cast<size_t>(e)];
        m.relation[pos] = static_cast<int32_t>(ri);
      }
    }
  }
  return m;
}

int32_t TypedGraphBuilder::add_node_type(const std::string& name, IdMap ids) {
  if (std::find(type_names_.begin(), type_names_.end(), name) != type_names_.end()) {
    throw DataError("typed graph: node type '" + name + "' declared twice");
  }
  if (ids.size() > INT32_MAX) throw DataError("typed graph: node type '" + name + "' has more than 2^31-1 nodes");
  type_names_.push_back(name);
  ids_.push_back(std::move(ids));
  return static_cast<int32_t>(type_names_.size() - 1);
}

int32_t TypedGraphBuilder::add_node_type(const std::string& name, int64_t n) {
  IdMap ids;
  for (int64_t i = 0; i < n; ++i) ids.intern(std::to_string(i));
  return add_node_type(name, std::move(ids));
}

int32_t TypedGraphBuilder::add_relation(const std::string& name, int32_t src_type,
                                        int32_t dst_type) {
  for (const auto& d : relations_) {
    if (d.name == name) throw DataError("typed graph: relation '" + name + "' declared twice");
  }
  const auto types = static_cast<int32_t>(type_names_.size());
  if (src_type < 0 || src_type >= types || dst_type < 0 || dst_type >= types) {
    throw DataError("typed graph: relation '" + name + "' names an undeclared node type");
  }
  relations_.push_back({name, src_type, dst_type});
  return static_cast<int32_t>(relations_.size() - 1);
}

void TypedGraphBuilder::add_edge(int32_t relation, int32_t head, int32_t tail) {
  rel_.push_back(relation);
  head_.push_back(head);
  tail_.push_back(tail);
}

TypedGraph TypedGraphBuilder::build(bool add_inverse) const {
  TypedGraph g;
  g.type_names_ = type_names_;
  g.ids_ = ids_;
  g.num_forward_ = static_cast<int64_t>(relations_.size());
  const size_t R = relations_.size();
  // Bucket the triples by relation, checking ids.
  std::vector<std::vector<int32_t>> hs(R), ts(R);
  for (size_t k = 0; k < rel_.size(); ++k) {
    const int32_t r = rel_[k];
    if (r < 0 || static_cast<size_t>(r) >= R) {
      throw DataError("typed graph: triple " + std::to_string(k) + " has unknown relation " +
                      std::to_string(r));
    }
    const Decl& d = relations_[static_cast<size_t>(r)];
    const int64_t ns = ids_[static_cast<size_t>(d.src)].size();
    const int64_t nd = ids_[static_cast<size_t>(d.dst)].size();
    if (head_[k] < 0 || head_[k] >= ns || tail_[k] < 0 || tail_[k] >= nd) {
      throw DataError("typed graph: relation '" + d.name + "': edge (" + std::to_string(head_[k]) +
                      ", " + std::to_string(tail_[k]) + ") out of range [0, " +
                      std::to_string(ns) + ") x [0, " + std::to_string(nd) + ")");
    }
    hs[static_cast<size_t>(r)].push_back(head_[k]);
    ts[static_cast<size_t>(r)].push_back(tail_[k]);
  }
  const size_t total = add_inverse ? 2 * R : R;
  g.relations_.resize(total);
  for (size_t r = 0; r < total; ++r) {
    const bool inv = r >= R;
    const Decl& d = relations_[inv ? r - R : r];
    RelationStore& s = g.relations_[r];
    s.name = inv ? "rev_" + d.name : d.name;
    s.src_type = inv ? d.dst : d.src;
    s.dst_type = inv ? d.src : d.dst;
    s.inverse_of = inv ? static_cast<int32_t>(r - R) : -1;
    const auto& from = inv ? ts[r - R] : hs[r];
    const auto& to = inv ? hs[r - R] : ts[r];
    fill_csr(ids_[static_cast<size_t>(s.src_type)].size(), from, to, &s.offsets, &s.dst);
    fill_csc(s, ids_[static_cast<size_t>(s.dst_type)].size());
  }
  return g;
}

}  // namespace gnnrec
