// CSR/CSC construction against a hand-built example.
#include <gtest/gtest.h>

#include "graph/bipartite_graph.h"

namespace gnnrec {
namespace {

TEST(BipartiteGraph, CsrAndCscByHand) {
  Interactions x;
  x.user = {2, 0, 2, 0, 1, 2};
  x.item = {1, 3, 0, 1, 1, 1};  // (2,1) twice: the first (rating 5) is kept
  x.rating = {5, 4, 3, 2, 1, 9};
  const BipartiteGraph g = BipartiteGraph::build(4, 5, x);
  EXPECT_EQ(g.num_edges(), 5);
  EXPECT_EQ(g.user_offsets(), (std::vector<int64_t>{0, 2, 3, 5, 5}));
  EXPECT_EQ(g.user_items(), (std::vector<int32_t>{1, 3, 1, 0, 1}));
  EXPECT_EQ(g.rating(), (std::vector<float>{2, 4, 1, 3, 5}));
  EXPECT_EQ(g.item_offsets(), (std::vector<int64_t>{0, 1, 4, 4, 5, 5}));
  EXPECT_EQ(g.item_users(), (std::vector<int32_t>{2, 0, 1, 2, 0}));
  EXPECT_EQ(g.csc_to_csr(), (std::vector<int64_t>{3, 0, 2, 4, 1}));
  EXPECT_TRUE(g.has_edge(2, 0));
  EXPECT_FALSE(g.has_edge(3, 0));
  EXPECT_EQ(g.user_degree(3), 0);  // isolated user
  EXPECT_EQ(g.item_degree(4), 0);  // isolated item
}

TEST(BipartiteGraph, RejectsOutOfRangeIds) {
  Interactions x;
  x.user = {0};
  x.item = {7};
  try {
    BipartiteGraph::build(1, 5, x);
    FAIL() << "expected DataError";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("item 7"), std::string::npos) << e.what();
  }
  EXPECT_THROW(BipartiteGraph::build(int64_t{1} << 32, 5, x), DataError);
}

TEST(BipartiteGraph, Empty) {
  const BipartiteGraph g = BipartiteGraph::build(0, 0, Interactions{});
  EXPECT_EQ(g.num_edges(), 0);
  EXPECT_EQ(g.user_offsets().size(), 1u);
}

}  // namespace
}  // namespace gnnrec
