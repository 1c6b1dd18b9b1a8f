#include "graph/typed_graph.h"

#include <gtest/gtest.h>

#include "tests/testing/scratch.h"

namespace gnnrec {
namespace {

using V32 = std::vector<int32_t>;
using V64 = std::vector<int64_t>;

// users u0,u1,u2; items i0,i1; genres g0,g1.
//   rates:     u0->i1, u0->i0, u2->i0, u0->i1 (duplicate)
//   has-genre: i0->g1, i1->g0, i1->g1
TypedGraph small(bool inverse) {
  TypedGraphBuilder b;
  const int32_t u = b.add_node_type("user", 3);
  const int32_t i = b.add_node_type("item", 2);
  const int32_t g = b.add_node_type("genre", 2);
  const int32_t rates = b.add_relation("rates", u, i);
  const int32_t has = b.add_relation("has-genre", i, g);
  b.add_edge(rates, 0, 1);
  b.add_edge(rates, 0, 0);
  b.add_edge(rates, 2, 0);
  b.add_edge(rates, 0, 1);
  b.add_edge(has, 0, 1);
  b.add_edge(has, 1, 0);
  b.add_edge(has, 1, 1);
  return b.build(inverse);
}

TEST(TypedGraph, CsrAndCscMatchHandBuiltExample) {
  const TypedGraph g = small(false);
  ASSERT_EQ(g.num_node_types(), 3);
  EXPECT_EQ(g.num_nodes(g.find_type("user")), 3);
  EXPECT_EQ(g.find_type("nope"), -1);
  ASSERT_EQ(g.num_relations(), 2);
  const RelationStore& r = g.relation(g.find_relation("rates"));
  EXPECT_EQ(r.offsets, (V64{0, 2, 2, 3}));  // the duplicate u0->i1 is kept once
  EXPECT_EQ(r.dst, (V32{0, 1, 0}));
  EXPECT_EQ(r.t_offsets, (V64{0, 2, 3}));
  EXPECT_EQ(r.src, (V32{0, 2, 0}));
  EXPECT_EQ(r.csc_to_csr, (V64{0, 2, 1}));
  const RelationStore& h = g.relation(1);
  EXPECT_EQ(h.offsets, (V64{0, 1, 3}));
  EXPECT_EQ(h.dst, (V32{1, 0, 1}));
  EXPECT_EQ(h.t_offsets, (V64{0, 1, 3}));
  EXPECT_EQ(h.src, (V32{1, 0, 1}));
  EXPECT_EQ(g.num_edges(), 6);
}

TEST(TypedGraph, InverseRelationsFollowTheForwardOnes) {
  const TypedGraph g = small(true);
  ASSERT_EQ(g.num_relations(), 4);
  EXPECT_EQ(g.num_forward(), 2);
  const RelationStore& inv = g.relation(2);
  EXPECT_EQ(inv.name, "rev_rates");
  EXPECT_EQ(inv.inverse_of, 0);
  EXPECT_EQ(inv.src_type, g.find_type("item"));
  EXPECT_EQ(inv.dst_type, g.find_type("user"));
  // The inverse's CSR is the forward relation's CSC.
  EXPECT_EQ(inv.offsets, g.relation(0).t_offsets);
  EXPECT_EQ(inv.dst, g.relation(0).src);
  EXPECT_EQ(inv.t_offsets, g.relation(0).offsets);
  EXPECT_EQ(inv.src, g.relation(0).dst);
  EXPECT_EQ(g.find_relation("rev_has-genre"), 3);
}

TEST(TypedGraph, MergedAdjacencyOfOneEntityType) {
  TypedGraphBuilder b;
  const int32_t e = b.add_node_type("entity", 4);
  const int32_t a = b.add_relation("a", e, e);
  const int32_t c = b.add_relation("c", e, e);
  b.add_edge(a, 0, 2);
  b.add_edge(c, 0, 1);
  b.add_edge(a, 3, 0);
  const TypedGraph g = b.build(true);  // relations a, c, rev_a, rev_c
  const MergedAdjacency m = g.merged(e);
  EXPECT_EQ(m.offsets, (V64{0, 3, 4, 5, 6}));
  // Row 0: a->2, c->1, rev_a<-3; row 1: rev_c->0; row 2: rev_a->0; row 3: a->0.
  EXPECT_EQ(m.neighbor, (V32{2, 1, 3, 0, 0, 0}));
  EXPECT_EQ(m.relation, (V32{0, 1, 2, 3, 2, 0}));
}

TEST(TypedGraph, EmptyRelationAndIsolatedNodes) {
  TypedGraphBuilder b;
  const int32_t t = b.add_node_type("x", 3);
  b.add_relation("r", t, t);
  const TypedGraph g = b.build(false);
  EXPECT_EQ(g.relation(0).offsets, (V64{0, 0, 0, 0}));
  EXPECT_EQ(g.relation(0).t_offsets, (V64{0, 0, 0, 0}));
}

TEST(TypedGraph, ErrorsNameTheRelation) {
  TypedGraphBuilder b;
  const int32_t t = b.add_node_type("x", 2);
  const int32_t r = b.add_relation("likes", t, t);
  EXPECT_THROW(b.add_node_type("x", 1), DataError);
  EXPECT_THROW(b.add_relation("likes", t, t), DataError);
  EXPECT_THROW(b.add_relation("bad", t, 7), DataError);
  b.add_edge(r, 0, 2);
  const std::string msg = testing::error_of<DataError>([&] { b.build(false); });
  EXPECT_NE(msg.find("relation 'likes': edge (0, 2) out of range"), std::string::npos) << msg;
}

}  // namespace
}  // namespace gnnrec
