// The unified adjacency and its normalisations against dense float64
// matrices built directly from the definition.
#include <cmath>

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "models/propagation_graph.h"

namespace gnnrec {
namespace {

// 3 users, 4 items; user 2 and item 3 isolated.
BipartiteGraph small_graph() {
  Interactions x;
  x.user = {0, 0, 1, 1, 1, 0};
  x.item = {0, 2, 0, 1, 2, 0};  // (0,0) twice: kept once
  return BipartiteGraph::build(3, 4, x);
}

at::Tensor dense(const SparseAdjacency& a) {
  at::Tensor d = at::zeros({a.num_rows, a.num_cols}, at::kDouble);
  for (int64_t r = 0; r < a.num_rows; ++r) {
    for (int64_t k = a.rowptr[r].item<int64_t>(); k < a.rowptr[r + 1].item<int64_t>(); ++k) {
      d[r][a.col[k].item<int32_t>()] = a.value.defined() ? a.value[k].item<double>() : 1.0;
    }
  }
  return d;
}

at::Tensor reference(bool self_loops, Normalization norm) {
  // Unified 7x7 adjacency from the edges, then the normalisation formula.
  at::Tensor A = at::zeros({7, 7}, at::kDouble);
  for (auto [u, i] : std::vector<std::pair<int, int>>{{0, 0}, {0, 2}, {1, 0}, {1, 1}, {1, 2}}) {
    A[u][3 + i] = 1;
    A[3 + i][u] = 1;
  }
  if (self_loops) A = A + at::eye(7, at::kDouble);
  const at::Tensor deg = A.sum(1);
  if (norm == Normalization::kNone) return A;
  const at::Tensor safe = at::where(deg > 0, deg, at::ones_like(deg));
  const at::Tensor inv = at::where(deg > 0, 1.0 / safe, at::zeros_like(deg));
  if (norm == Normalization::kLeft) return at::diag(inv).mm(A);
  const at::Tensor s = inv.sqrt();
  return at::diag(s).mm(A).mm(at::diag(s));
}

TEST(Adjacency, NormalisationsMatchDenseDefinitions) {
  const BipartiteGraph g = small_graph();
  EXPECT_EQ(g.num_edges(), 5);
  for (bool loops : {false, true}) {
    for (auto norm : {Normalization::kNone, Normalization::kSymmetric, Normalization::kLeft}) {
      const SparseAdjacency a = unified_adjacency(g, norm, loops, at::kDouble);
      EXPECT_TRUE(at::allclose(dense(a), reference(loops, norm), 1e-15, 1e-15))
          << "loops " << loops << " norm " << static_cast<int>(norm);
      // The stored transpose is the transpose.
      SparseAdjacency t;
      t.num_rows = a.num_cols;
      t.num_cols = a.num_rows;
      t.rowptr = a.t_rowptr;
      t.col = a.t_col;
      if (a.value.defined()) t.value = a.value.index_select(0, a.t_perm);
      EXPECT_TRUE(at::equal(dense(t), dense(a).t()));
    }
  }
}

TEST(Adjacency, RowsAloneAreTheWholeMatrixRows) {
  const BipartiteGraph g = small_graph();
  for (bool loops : {false, true}) {
    for (auto norm : {Normalization::kNone, Normalization::kSymmetric, Normalization::kLeft}) {
      const at::Tensor whole = reference(loops, norm);
      for (auto [lo, hi] :
           std::vector<std::pair<int64_t, int64_t>>{{0, 7}, {2, 5}, {4, 4}, {5, 7}}) {
        const SparseAdjacency a = unified_adjacency_rows(g, norm, loops, at::kDouble, lo, hi);
        EXPECT_EQ(a.num_rows, hi - lo);
        EXPECT_TRUE(at::allclose(dense(a), whole.narrow(0, lo, hi - lo), 1e-15, 1e-15))
            << "rows [" << lo << ", " << hi << ") loops " << loops;
      }
    }
  }
}

TEST(Adjacency, SymmetricValuesByHand) {
  // Edge (user 1, item 0): deg(user 1) = 3, deg(item 0) = 2 -> 1/sqrt(6).
  const SparseAdjacency a = unified_adjacency(small_graph(), Normalization::kSymmetric, false, at::kDouble);
  EXPECT_NEAR(dense(a)[1][3].item<double>(), 1.0 / std::sqrt(6.0), 1e-15);
  EXPECT_EQ(a.rowptr[3].item<int64_t>() - a.rowptr[2].item<int64_t>(), 0);  // isolated user
}

TEST(Adjacency, CachedOncePerKey) {
  auto g = std::make_shared<BipartiteGraph>(small_graph());
  PropagationGraph pg(g);
  const auto& a = pg.adjacency(Normalization::kSymmetric, false, at::kFloat, at::kCPU);
  const auto& b = pg.adjacency(Normalization::kSymmetric, false, at::kFloat, at::kCPU);
  const auto& c = pg.adjacency(Normalization::kSymmetric, true, at::kFloat, at::kCPU);
  EXPECT_EQ(&a, &b);
  EXPECT_NE(&a, &c);
  EXPECT_EQ(a.value.scalar_type(), at::kFloat);
}

}  // namespace
}  // namespace gnnrec
