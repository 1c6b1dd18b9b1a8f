#include "graph/kg_loaders.h"

#include <filesystem>

#include <gtest/gtest.h>

#include "graph/loaders.h"
#include "tests/testing/scratch.h"

namespace gnnrec {
namespace {

namespace fs = std::filesystem;
using V32 = std::vector<int32_t>;
using V64 = std::vector<int64_t>;

class KgLoadersTest : public testing::ScratchDirTest {
 protected:
  KgLoadersTest() : ScratchDirTest("kg_loaders") {}
};

std::string shared(const std::string& name) { return (fs::path(GNNREC_SHARED_DATA) / name).string(); }

IdMap ids(std::initializer_list<const char*> raw) {
  IdMap m;
  for (const char* r : raw) m.intern(r);
  return m;
}

// --- KGAT ------------------------------------------------------------------

TEST_F(KgLoadersTest, KgatItemsAreTheFirstEntities) {
  // Items 0..2 (raw ids of train.txt); entities 3 and 7 are KG-only.
  write("train.txt", "0 0 1\n1 2\n");
  write("test.txt", "0 2\n");
  write("kg_final.txt", "0 0 3\n1 0 3\n2 1 7\n3 1 7\n0 0 3\n");
  const Dataset ds = load_dataset(dir_);
  const TypedGraph g = load_kgat_kg(dir_ + "/kg_final.txt", ds.items, true);
  ASSERT_EQ(g.num_node_types(), 1);
  EXPECT_EQ(g.type_name(0), "entity");
  EXPECT_EQ(g.num_nodes(0), 5);
  EXPECT_EQ(g.ids(0).raw(3), "3");
  EXPECT_EQ(g.ids(0).raw(4), "7");
  ASSERT_EQ(g.num_relations(), 4);
  EXPECT_EQ(g.relation(0).name, "0");
  EXPECT_EQ(g.relation(2).name, "rev_0");
  EXPECT_EQ(g.relation(0).offsets, (V64{0, 1, 2, 2, 2, 2}));  // duplicate 0 0 3 kept once
  EXPECT_EQ(g.relation(0).dst, (V32{3, 3}));
  EXPECT_EQ(g.relation(1).offsets, (V64{0, 0, 0, 1, 2, 2}));
  EXPECT_EQ(g.relation(1).dst, (V32{4, 4}));
  EXPECT_EQ(g.relation(3).offsets, (V64{0, 0, 0, 0, 0, 2}));  // rev_1: 7 -> 2, 3
  EXPECT_EQ(g.relation(3).dst, (V32{2, 3}));
  // load_side_graph finds it beside the interactions.
  auto side = load_side_graph(dir_, ds);
  ASSERT_NE(side, nullptr);
  EXPECT_EQ(side->num_edges(), g.num_edges());
}

TEST_F(KgLoadersTest, KgatItemAbsentFromTheInteractionsIsAnEntity) {
  const TypedGraph g = load_kgat_kg(write("kg_final.txt", "5 0 1\n"), ids({"0", "1"}), false);
  EXPECT_EQ(g.num_nodes(0), 3);  // items 0, 1; entity 5
  EXPECT_EQ(g.relation(0).offsets, (V64{0, 0, 0, 1}));
  EXPECT_EQ(g.relation(0).dst, (V32{1}));
}

TEST_F(KgLoadersTest, KgatErrorsNameFileAndLine) {
  const IdMap items = ids({"0"});
  std::string msg = testing::error_of<DataError>(
      [&] { load_kgat_kg(write("kg_final.txt", "0 0 1\n\n0 1\n"), items, true); });
  EXPECT_NE(msg.find("kg_final.txt:3: expected 3 fields (head relation tail), got 2"), std::string::npos) << msg;
  msg = testing::error_of<DataError>(
      [&] { load_kgat_kg(write("kg_final.txt", "0 x 1\n"), items, true); });
  EXPECT_NE(msg.find("kg_final.txt:1: field 2 ('x') is not an integer"), std::string::npos) << msg;
  msg = testing::error_of<DataError>(
      [&] { load_kgat_kg(write("kg_final.txt", "0 0 -4\n"), items, true); });
  EXPECT_NE(msg.find("kg_final.txt:1: id -4 out of range"), std::string::npos) << msg;
  msg = testing::error_of<DataError>([&] { load_kgat_kg(write("kg_final.txt", "\n"), items, true); });
  EXPECT_NE(msg.find("kg_final.txt: no triples"), std::string::npos) << msg;
  msg = testing::error_of<DataError>([&] { load_kgat_kg(dir_ + "/missing.txt", items, true); });
  EXPECT_NE(msg.find("missing.txt: cannot open"), std::string::npos) << msg;
}

// --- KGCN ------------------------------------------------------------------

TEST_F(KgLoadersTest, KgcnKeepsLinkedArtistsAndNamesRelations) {
  write("user_artists.dat", "userID\tartistID\tweight\n2\t51\t10\n2\t52\t3\n7\t51\t1\n7\t99\t5\n");
  write("item_index2entity_id.txt", "51\t0\n52\t1\n60\t2\n");
  write("kg.txt", "0\tmusic.origin\t3\n1\tmusic.origin\t3\n2\tfilm.actor\t1\n1\tfilm.actor\t4\n");
  EXPECT_EQ(detect_format(dir_), "kgcn");
  const Dataset ds = load_dataset(dir_);
  EXPECT_EQ(ds.format, "kgcn");
  ASSERT_EQ(ds.num_items(), 2);  // artist 99 has no entity; 60 no interactions
  EXPECT_EQ(ds.items.raw(0), "51");
  EXPECT_EQ(ds.num_users(), 2);
  EXPECT_EQ(ds.train.size(), 3u);
  EXPECT_FALSE(ds.train.has_rating());
  const TypedGraph g = load_kgcn_kg(dir_, ds.items, true);
  // Entities: item 51 (entity 0), item 52 (entity 1), then KG entities 2, 3, 4.
  ASSERT_EQ(g.num_nodes(0), 5);
  EXPECT_EQ(g.ids(0).raw(1), "1");
  EXPECT_EQ(g.ids(0).raw(2), "2");
  ASSERT_EQ(g.num_forward(), 2);
  EXPECT_EQ(g.relation(0).name, "film.actor");  // lexicographic order
  EXPECT_EQ(g.relation(1).name, "music.origin");
  EXPECT_EQ(g.relation(1).offsets, (V64{0, 1, 2, 2, 2, 2}));
  EXPECT_EQ(g.relation(1).dst, (V32{3, 3}));
  EXPECT_EQ(g.relation(0).dst, (V32{4, 1}));  // 1 -> 4, 2 -> 1
  ASSERT_NE(load_side_graph(dir_, ds), nullptr);
}

TEST_F(KgLoadersTest, KgcnErrorsNameFileAndLine) {
  write("user_artists.dat", "userID\tartistID\tweight\n2\t51\t10\n2\n");
  write("item_index2entity_id.txt", "51\t0\n");
  std::string msg = testing::error_of<DataError>([&] { load_dataset(dir_); });
  EXPECT_NE(msg.find("user_artists.dat:3: expected 3 fields"), std::string::npos) << msg;
  write("user_artists.dat", "user\titem\n2\t51\n");
  msg = testing::error_of<DataError>([&] { load_dataset(dir_); });
  EXPECT_NE(msg.find("user_artists.dat:1: expected the header"), std::string::npos) << msg;
  write("item_index2entity_id.txt", "51\t0\nabc\n");
  msg = testing::error_of<DataError>([&] { load_kgcn_kg(dir_, ids({"51"}), true); });
  EXPECT_NE(msg.find("item_index2entity_id.txt:2: expected 2 fields (item entity), got 1"), std::string::npos) << msg;
  write("item_index2entity_id.txt", "51\t0\n");
  write("kg.txt", "0\tr\t1\n0\tr\n");
  msg = testing::error_of<DataError>([&] { load_kgcn_kg(dir_, ids({"51"}), true); });
  EXPECT_NE(msg.find("kg.txt:2: expected 3 fields (head relation tail), got 2"), std::string::npos) << msg;
  // Two items on one entity (the fuzzer's reproducer, fuzz/corpus/kgcn/
  // regression_two_items_one_entity), and an item listed twice.
  write("kg.txt", "0\t.parent\t5\n");
  write("item_index2entity_id.txt", "51\t0\n52\t0\n53\t5\n");
  msg = testing::error_of<DataError>([&] { load_kgcn_kg(dir_, ids({"51", "52", "53"}), true); });
  EXPECT_NE(msg.find("item_index2entity_id.txt:2: entity 0 is already the entity of the item on "
                     "line 1"),
            std::string::npos)
      << msg;
  write("item_index2entity_id.txt", "51\t0\n52\t1\n51\t2\n");
  msg = testing::error_of<DataError>([&] { load_kgcn_kg(dir_, ids({"51", "52"}), true); });
  EXPECT_NE(msg.find("item_index2entity_id.txt:3: item 51 is listed twice (first on line 1)"),
            std::string::npos)
      << msg;
  // The interactions loader reads the same file with the same checks, so
  // load_dataset stops there before any graph is built.
  write("user_artists.dat", "userID\tartistID\tweight\n2\t51\t10\n");
  msg = testing::error_of<DataError>([&] { load_kgcn_interactions(dir_); });
  EXPECT_NE(msg.find("item_index2entity_id.txt:3: item 51 is listed twice (first on line 1)"),
            std::string::npos)
      << msg;
  write("item_index2entity_id.txt", "51\t0\n52\t0\n");
  msg = testing::error_of<DataError>([&] { load_dataset(dir_); });
  EXPECT_NE(msg.find("item_index2entity_id.txt:2: entity 0 is already the entity"),
            std::string::npos)
      << msg;
}

// --- MovieLens 100K side information ------------------------------------------

TEST_F(KgLoadersTest, MovieLensSideInformationAsTypedNodes) {
  write("u.genre", "unknown|0\nAction|1\nComedy|2\n");
  write("u.user", "1|24|M|technician|85711\n2|53|F|other|94043\n3|17|M|writer|32067\n");
  write("u.item", "1|Toy Story (1995)|01-Jan-1995||http://x|0|0|1\n2|GoldenEye|01-Jan-1995||http://y|0|1|1\n");
  const TypedGraph g = load_movielens_side(dir_, ids({"1", "2"}), ids({"2", "1"}), true);
  const int32_t genre = g.find_type("genre");
  ASSERT_GE(genre, 0);
  EXPECT_EQ(g.num_nodes(genre), 3);
  EXPECT_EQ(g.ids(genre).raw(1), "Action");
  const RelationStore& hg = g.relation(g.find_relation("item-has-genre"));
  // Dense item 0 is raw "2" (Action, Comedy), dense item 1 is raw "1" (Comedy).
  EXPECT_EQ(hg.offsets, (V64{0, 2, 3}));
  EXPECT_EQ(hg.dst, (V32{1, 2, 2}));
  const RelationStore& age = g.relation(g.find_relation("user-has-age"));
  EXPECT_EQ(age.offsets, (V64{0, 1, 2}));  // user 3 is not in the map: skipped
  EXPECT_EQ(age.dst, (V32{1, 5}));         // 24 -> 18-24, 53 -> 50-55
  EXPECT_EQ(g.ids(g.find_type("age")).raw(5), "50");
  const RelationStore& occ = g.relation(g.find_relation("user-has-occupation"));
  EXPECT_EQ(g.num_nodes(g.find_type("occupation")), 2);  // other, technician
  EXPECT_EQ(occ.dst, (V32{1, 0}));
  EXPECT_GE(g.find_relation("rev_user-has-gender"), 0);
}

TEST_F(KgLoadersTest, MovieLensSideErrorsNameFileAndLine) {
  write("u.user", "1|24|M|technician|85711\n2|53|X|other|94043\n");
  write("u.item", "1|T|d||u|0|0\n");
  std::string msg = testing::error_of<DataError>(
      [&] { load_movielens_side(dir_, ids({"1"}), ids({"1"}), true); });
  EXPECT_NE(msg.find("u.user:2: gender 'X' is not M or F"), std::string::npos) << msg;
  write("u.user", "1|24|M|technician|85711\n");
  msg = testing::error_of<DataError>([&] { load_movielens_side(dir_, ids({"1"}), ids({"1"}), true); });
  EXPECT_NE(msg.find("u.item:1: expected 24 fields separated by '|', got 7"), std::string::npos) << msg;
}

// Found by fuzz/fuzz_ml100k (reproducer: fuzz/corpus/ml100k/regression_duplicate_genre):
// a genre named twice in u.genre merged two genre nodes, and the item-has-genre
// edge of the last flag then failed inside the typed graph builder with a
// message naming no file.
TEST_F(KgLoadersTest, MovieLensSideRepeatedGenreNamesTheLine) {
  write("u.genre", "Action|0\nAction|1\nComedy|2\n");
  write("u.user", "1|24|M|technician|85711\n");
  write("u.item", "1|T|d||u|0|0|1\n");
  const std::string msg = testing::error_of<DataError>(
      [&] { load_movielens_side(dir_, ids({"1"}), ids({"1"}), true); });
  EXPECT_NE(msg.find("u.genre:2: genre 'Action' is listed twice"), std::string::npos) << msg;
}

// --- the real data, when present ---------------------------------------------

TEST(KgLoadersShared, KgcnMusic) {
  const std::string dir = shared("kgcn-music");
  if (!fs::exists(dir + "/kg.txt")) GTEST_SKIP() << dir << " not present";
  const Dataset ds = load_dataset(dir);
  EXPECT_EQ(ds.num_items(), 3846);
  const TypedGraph g = load_kgcn_kg(dir, ds.items, true);
  EXPECT_EQ(g.num_nodes(0), 9366);
  EXPECT_EQ(g.num_forward(), 60);
  EXPECT_EQ(g.relation(0).num_edges() >= 0, true);
  int64_t forward = 0;
  for (int32_t r = 0; r < 60; ++r) forward += g.relation(r).num_edges();
  EXPECT_LE(forward, 15518);
  EXPECT_GT(forward, 15000);
}

TEST(KgLoadersShared, KgatLastFmScale) {
  const std::string path = shared("kgat-last-fm/kg_final.txt");
  if (!fs::exists(path)) GTEST_SKIP() << path << " not present";
  IdMap items;
  for (int i = 0; i < 48123; ++i) items.intern(std::to_string(i));
  const TypedGraph g = load_kgat_kg(path, items, true);
  EXPECT_EQ(g.num_nodes(0), 106389);
  EXPECT_EQ(g.num_forward(), 9);
  EXPECT_EQ(g.num_edges(), 2 * 464567);
}

TEST(KgLoadersShared, MovieLens100kSide) {
  const std::string dir = shared("ml-100k");
  if (!fs::exists(dir + "/u.user")) GTEST_SKIP() << dir << " not present";
  const Dataset ds = load_dataset(dir);
  auto g = load_side_graph(dir, ds);
  ASSERT_NE(g, nullptr);
  EXPECT_EQ(g->relation(g->find_relation("user-has-gender")).num_edges(), 943);
  EXPECT_EQ(g->num_nodes(g->find_type("occupation")), 21);
  EXPECT_EQ(g->num_nodes(g->find_type("genre")), 19);
}

}  // namespace
}  // namespace gnnrec
