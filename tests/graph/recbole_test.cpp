// RecBole's atomic files (graph/recbole.h): NAME.inter through detection and
// load_dataset, NAME.kg + NAME.link as a knowledge graph, NAME.user +
// NAME.item as side information; hand-written files in a scratch folder,
// expected ids and edges worked out by hand, and every error message.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "graph/kg_loaders.h"
#include "graph/loaders.h"
#include "tests/testing/scratch.h"

namespace gnnrec {
namespace {

namespace fs = std::filesystem;
using V32 = std::vector<int32_t>;
using V64 = std::vector<int64_t>;
using Names = std::vector<std::string>;

class RecboleTest : public testing::ScratchDirTest {
 protected:
  RecboleTest() : ScratchDirTest("gnnrec_recbole") {}
  // dir_/ml/ml.<suffix>: the data set "ml".
  std::string put(const std::string& suffix, const std::string& text) {
    return write("ml/ml." + suffix, text);
  }
  std::string ml() const { return dir_ + "/ml"; }
  // The message of load_dataset(ml()) (a DataError expected).
  std::string load_error() {
    return testing::error_of<DataError>([&] { load_dataset(ml()); });
  }
};

// --- NAME.inter --------------------------------------------------------------

TEST_F(RecboleTest, InterReadsTokensRatingsAndTimestamps) {
  const std::string inter = put("inter",
                                "user_id:token\titem_id:token\trating:float\ttimestamp:float\t"
                                "review:token_seq\n"
                                "u2\tb\t4\t978300760\tgreat film\n"
                                "u1\ta\t3.5\t978300761.9\t\n"
                                "u2\ta\t1\t5e2\tok\n");
  EXPECT_EQ(detect_format(ml()), "recbole");
  EXPECT_EQ(dataset_source_files(ml()), (Names{(fs::path(ml()) / "ml.inter").string()}));
  const Dataset ds = load_dataset(ml() + "/");
  EXPECT_EQ(ds.format, "recbole");
  EXPECT_EQ(ds.name, "ml");
  // Tokens in canonical (here lexicographic) order: u1 u2, a b.
  EXPECT_EQ(ds.users.raw_ids(), (Names{"u1", "u2"}));
  EXPECT_EQ(ds.items.raw_ids(), (Names{"a", "b"}));
  EXPECT_EQ(ds.train.user, (V32{1, 0, 1}));
  EXPECT_EQ(ds.train.item, (V32{1, 0, 0}));
  EXPECT_EQ(ds.train.rating, (std::vector<float>{4.0f, 3.5f, 1.0f}));
  // Timestamps rounded down to whole seconds.
  EXPECT_EQ(ds.train.timestamp, (V64{978300760, 978300761, 500}));
  EXPECT_FALSE(ds.is_split());
  // Called directly, the loader names the data set after the folder.
  EXPECT_EQ(load_recbole(inter).name, "ml");
}

TEST_F(RecboleTest, TokensAreKeptAsWrittenAndRatingTimestampOptional) {
  // "007" and "7" are two users (tokens are strings); all-integer tokens
  // sort numerically, ties by the string. Columns in any order.
  put("inter", "item_id:token\tuser_id:token\n10\t7\n2\t007\n\"x y\"\t10\n");
  const Dataset ds = load_dataset(ml());
  EXPECT_EQ(ds.users.raw_ids(), (Names{"007", "7", "10"}));
  EXPECT_EQ(ds.items.raw_ids(), (Names{"10", "2", "x y"}));  // one non-integer: lexicographic
  EXPECT_EQ(ds.train.user, (V32{1, 0, 2}));
  EXPECT_EQ(ds.train.item, (V32{0, 1, 2}));
  EXPECT_FALSE(ds.train.has_rating());
  EXPECT_FALSE(ds.train.has_timestamp());
}

TEST_F(RecboleTest, ByteOrderMarkCrlfAndBlankLinesReadAlike) {
  put("inter",
      "\xEF\xBB\xBF"
      "\r\nuser_id:token\titem_id:token\trating:float\r\n\r\nu\ti\t5\r\nv\ti\t4");
  const Dataset ds = load_dataset(ml());
  EXPECT_EQ(ds.users.raw_ids(), (Names{"u", "v"}));
  EXPECT_EQ(ds.train.rating, (std::vector<float>{5.0f, 4.0f}));
  // Line numbers count the blank lines.
  put("inter", "\nuser_id:token\titem_id:token\n\nu\n");
  EXPECT_EQ(load_error(), ml() + "/ml.inter:4: expected 2 fields separated by tabs, got 1");
}

TEST_F(RecboleTest, DetectionOrderAndAmbiguity) {
  // A LightGCN folder with a stray .inter stays LightGCN; .inter wins over a
  // lone CSV file.
  write("a/train.txt", "0 1\n");
  write("a/x.inter", "user_id:token\titem_id:token\nu\ti\n");
  EXPECT_EQ(detect_format(dir_ + "/a"), "lightgcn");
  write("b/x.inter", "user_id:token\titem_id:token\nu\ti\n");
  write("b/y.csv", "user,item\n1,2\n");
  EXPECT_EQ(detect_format(dir_ + "/b"), "recbole");
  write("c/ml.inter", "user_id:token\titem_id:token\nu\ti\n");
  write("c/ml.train.inter", "user_id:token\titem_id:token\nu\ti\n");
  EXPECT_EQ(testing::error_of<DataError>([&] { detect_format(dir_ + "/c"); }),
            dir_ + "/c: found 2 *.inter files (ml.inter, ml.train.inter); expected exactly one");
  write("d/readme.md", "x");
  EXPECT_NE(
      testing::error_of<DataError>([&] { detect_format(dir_ + "/d"); }).find("one *.inter file"),
      std::string::npos);
}

TEST_F(RecboleTest, HeaderErrors) {
  const std::string f = ml() + "/ml.inter";
  const struct {
    const char* header;
    std::string message;
  } cases[] = {
      {"item_id:token\trating:float", "header has no user_id field (expected user_id:token)"},
      {"user_id:token\trating:float", "header has no item_id field (expected item_id:token)"},
      {"user_id:token\titem_id",
       "header field 2 ('item_id') has no ':type' (expected name:type, type token, token_seq, "
       "float or float_seq)"},
      {"user_id:token\titem_id:token\trating:int",
       "header field 3 ('rating:int') has an unknown type 'int' (expected token, token_seq, float "
       "or float_seq; fields are separated by tabs)"},
      {"user_id:token,item_id:token",
       "header field 1 ('user_id:token,item_id:token') has an unknown type "
       "'token,item_id:token' (expected token, token_seq, float or float_seq; fields are "
       "separated by tabs)"},
      {"user_id:token\t:token\titem_id:token", "header field 2 (':token') has an empty name"},
      {"user_id:token\titem_id:token\tuser_id:token",
       "header names field 'user_id' twice (fields 1 and 3)"},
      {"user_id:float\titem_id:token", "field 'user_id' has type float (expected user_id:token)"},
      {"user_id:token\titem_id:token_seq",
       "field 'item_id' has type token_seq (expected item_id:token)"},
      {"user_id:token\titem_id:token\trating:token",
       "field 'rating' has type token (expected rating:float)"},
      {"user_id:token\titem_id:token\ttimestamp:float_seq",
       "field 'timestamp' has type float_seq (expected timestamp:float)"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.header);
    put("inter", std::string(c.header) + "\nu\ti\t1\n");
    EXPECT_EQ(load_error(), f + ":1: " + c.message);
  }
}

TEST_F(RecboleTest, RowErrors) {
  const std::string f = ml() + "/ml.inter";
  const std::string header = "user_id:token\titem_id:token\trating:float\ttimestamp:float\n";
  const struct {
    const char* row;
    std::string message;
  } cases[] = {
      {"u\ti\t5", "expected 4 fields separated by tabs, got 3"},
      {"u\ti\t5\t1\t2", "expected 4 fields separated by tabs, got 5"},
      {"u i 5 1", "expected 4 fields separated by tabs, got 1"},
      {"u\ti\tfive\t1", "field 3 ('five') is not a finite number"},
      {"u\ti\tnan\t1", "field 3 ('nan') is not a finite number"},
      {"u\ti\t\t1", "field 3 ('') is not a finite number"},
      {"u\ti\t5\tsoon", "field 4 ('soon') is not a finite number"},
      {"u\ti\t5\tinf", "field 4 ('inf') is not a finite number"},
      {"u\ti\t5\t1e30", "field 4 ('1e30') does not fit a 64-bit integer"},
      {"\ti\t5\t1", "empty user_id (field 1)"},
      {"u\t\"\"\t5\t1", "empty item_id (field 2)"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.row);
    put("inter", header + "a\tb\t1\t2\n" + c.row + "\n");
    EXPECT_EQ(load_error(), f + ":3: " + c.message);
  }
  put("inter", "");
  EXPECT_EQ(load_error(), f + ": no interactions");
  put("inter", "\n" + header + "\n");
  EXPECT_EQ(load_error(), f + ": no interactions");
}

// --- NAME.kg + NAME.link -------------------------------------------------------

class RecboleKgTest : public RecboleTest {
 protected:
  void SetUp() override {
    RecboleTest::SetUp();
    // Items i1 i2 i3 (dense 0 1 2).
    put("inter", "user_id:token\titem_id:token\nu1\ti1\nu1\ti2\nu2\ti3\n");
    // i3 has no entity; i9 is not an item of the data set (skipped).
    put("link", "item_id:token\tentity_id:token\ni1\tm.a\ni2\tm.b\ni9\tm.z\n");
    put("kg",
        "head_id:token\trelation_id:token\ttail_id:token\n"
        "m.a\tfilm.genre\tg.x\nm.b\tfilm.genre\tg.x\nm.b\tfilm.actor\tp.1\n"
        "g.x\tgenre.parent\tm.z\nm.a\tfilm.genre\tg.x\n");
  }
  std::string kg_error() {
    return testing::error_of<DataError>([&] {
      load_recbole_kg(ml() + "/ml.kg", ml() + "/ml.link", load_dataset(ml()).items, true);
    });
  }
};

TEST_F(RecboleKgTest, ItemsAreTheFirstEntitiesThenTheOthersByName) {
  const Dataset ds = load_dataset(ml());
  const TypedGraph g = load_recbole_kg(ml() + "/ml.kg", ml() + "/ml.link", ds.items, true);
  ASSERT_EQ(g.num_node_types(), 1);
  EXPECT_EQ(g.type_name(0), "entity");
  // Items (m.a, m.b, unlinked i3), then g.x, m.z, p.1 in name order.
  EXPECT_EQ(g.ids(0).raw_ids(), (Names{"m.a", "m.b", "item:2", "g.x", "m.z", "p.1"}));
  ASSERT_EQ(g.num_forward(), 3);
  ASSERT_EQ(g.num_relations(), 6);
  EXPECT_EQ(g.relation(0).name, "film.actor");
  EXPECT_EQ(g.relation(1).name, "film.genre");
  EXPECT_EQ(g.relation(2).name, "genre.parent");
  EXPECT_EQ(g.relation(4).name, "rev_film.genre");
  EXPECT_EQ(g.relation(0).offsets, (V64{0, 0, 1, 1, 1, 1, 1}));  // m.b -> p.1
  EXPECT_EQ(g.relation(0).dst, (V32{5}));
  EXPECT_EQ(g.relation(1).offsets, (V64{0, 1, 2, 2, 2, 2, 2}));  // duplicate kept once
  EXPECT_EQ(g.relation(1).dst, (V32{3, 3}));
  EXPECT_EQ(g.relation(2).offsets, (V64{0, 0, 0, 0, 1, 1, 1}));  // g.x -> m.z
  EXPECT_EQ(g.relation(2).dst, (V32{4}));
  EXPECT_EQ(g.relation(4).offsets, (V64{0, 0, 0, 0, 2, 2, 2}));  // g.x -> m.a, m.b
  EXPECT_EQ(g.relation(4).dst, (V32{0, 1}));
  // load_side_graph finds it beside the interactions, also with a NAME.user
  // present (the KG wins).
  put("user", "user_id:token\tage:token\nu1\t20\n");
  const auto side = load_side_graph(ml(), ds);
  ASSERT_NE(side, nullptr);
  EXPECT_EQ(side->find_type("entity"), 0);
  EXPECT_EQ(side->num_edges(), g.num_edges());
}

TEST_F(RecboleKgTest, WithoutTheLinkThereIsNoKnowledgeGraph) {
  fs::remove(ml() + "/ml.link");
  EXPECT_EQ(load_side_graph(ml(), load_dataset(ml())), nullptr);
}

TEST_F(RecboleKgTest, KgErrors) {
  const std::string kg = ml() + "/ml.kg";
  const std::string head = "head_id:token\trelation_id:token\ttail_id:token\n";
  put("kg", "head_id:token\trelation_id:token\n");
  EXPECT_EQ(kg_error(), kg + ":1: header has no tail_id field (expected tail_id:token)");
  put("kg", "head_id:token\trelation_id:float\ttail_id:token\n");
  EXPECT_EQ(kg_error(), kg + ":1: field 'relation_id' has type float (expected relation_id:token)");
  put("kg", head + "m.a\tr\tg.x\nm.a\tr\n");
  EXPECT_EQ(kg_error(), kg + ":3: expected 3 fields separated by tabs, got 2");
  put("kg", head + "\tr\tg.x\n");
  EXPECT_EQ(kg_error(), kg + ":2: empty head_id (field 1)");
  put("kg", head + "m.a\t\tg.x\n");
  EXPECT_EQ(kg_error(), kg + ":2: empty relation_id (field 2)");
  put("kg", head);
  EXPECT_EQ(kg_error(), kg + ": no triples");
  put("kg", "");
  EXPECT_EQ(kg_error(), kg + ": no triples");
  // An entity named as gnnrec names the unlinked item i3.
  put("kg", head + "m.a\tr\titem:2\n");
  EXPECT_EQ(kg_error(), kg + ": entity 'item:2' has the name given to item 2 ('i3'), which ml.link "
                             "does not link to an entity");
}

TEST_F(RecboleKgTest, LinkErrors) {
  const std::string link = ml() + "/ml.link";
  const std::string head = "item_id:token\tentity_id:token\n";
  put("link", "item_id:token\tentity:token\n");
  EXPECT_EQ(kg_error(), link + ":1: header has no entity_id field (expected entity_id:token)");
  put("link", head + "i1\tm.a\ni1\tm.b\n");
  EXPECT_EQ(kg_error(), link + ":3: item 'i1' is listed twice (first on line 2)");
  put("link", head + "i1\tm.a\ni2\tm.a\n");
  EXPECT_EQ(kg_error(),
            link +
                ":3: entity 'm.a' is already the entity of the item on line 2 (each item "
                "needs its own entity)");
  put("link", head + "i1\n");
  EXPECT_EQ(kg_error(), link + ":2: expected 2 fields separated by tabs, got 1");
  put("link", head + "i1\t\n");
  EXPECT_EQ(kg_error(), link + ":2: empty entity_id (field 2)");
  put("link", head);
  EXPECT_EQ(kg_error(), link + ": no links");
  // Through load_side_graph too.
  EXPECT_EQ(testing::error_of<DataError>([&] { load_side_graph(ml(), load_dataset(ml())); }),
            link + ": no links");
}

// --- NAME.user + NAME.item -----------------------------------------------------

TEST_F(RecboleTest, UserAndItemTokenFieldsBecomeTypedNodes) {
  put("inter", "user_id:token\titem_id:token\nu1\ti1\nu1\ti2\nu2\ti3\n");
  // u2's second row is ignored (the first row of an id counts), u9 is not a
  // user; weight is a float field (ignored); u2's age is empty (no value).
  put("user",
      "user_id:token\tage:token\tgender:token\tweight:float\n"
      "u1\t25\tF\t60.5\nu2\t\tM\t70\nu2\t30\tF\t1\nu9\t40\tM\t1\n");
  // genre is a token_seq (space-separated); i3 has no value.
  put("item",
      "item_id:token\tgenre:token_seq\tyear:token\ni1\tAction Comedy\t1995\n"
      "i2\tComedy\t1995\ni3\t\t\n");
  const Dataset ds = load_dataset(ml());
  const auto side = load_side_graph(ml(), ds);
  ASSERT_NE(side, nullptr);
  const TypedGraph& g = *side;
  ASSERT_EQ(g.num_node_types(), 6);
  const Names types{"user", "item", "age", "gender", "genre", "year"};
  for (int32_t t = 0; t < 6; ++t) EXPECT_EQ(g.type_name(t), types[static_cast<size_t>(t)]);
  EXPECT_EQ(g.num_nodes(0), 2);
  EXPECT_EQ(g.num_nodes(1), 3);
  EXPECT_EQ(g.ids(2).raw_ids(), (Names{"25"}));
  EXPECT_EQ(g.ids(3).raw_ids(), (Names{"F", "M"}));
  EXPECT_EQ(g.ids(4).raw_ids(), (Names{"Action", "Comedy"}));
  EXPECT_EQ(g.ids(5).raw_ids(), (Names{"1995"}));
  ASSERT_EQ(g.num_forward(), 4);
  ASSERT_EQ(g.num_relations(), 8);
  const RelationStore& age = g.relation(g.find_relation("user-has-age"));
  EXPECT_EQ(age.offsets, (V64{0, 1, 1}));
  EXPECT_EQ(age.dst, (V32{0}));
  const RelationStore& gender = g.relation(g.find_relation("user-has-gender"));
  EXPECT_EQ(gender.offsets, (V64{0, 1, 2}));
  EXPECT_EQ(gender.dst, (V32{0, 1}));
  const RelationStore& genre = g.relation(g.find_relation("item-has-genre"));
  EXPECT_EQ(genre.offsets, (V64{0, 2, 3, 3}));
  EXPECT_EQ(genre.dst, (V32{0, 1, 1}));
  const RelationStore& year = g.relation(g.find_relation("item-has-year"));
  EXPECT_EQ(year.offsets, (V64{0, 1, 2, 2}));
  EXPECT_EQ(year.dst, (V32{0, 0}));
  const RelationStore& rev = g.relation(g.find_relation("rev_item-has-genre"));
  EXPECT_EQ(rev.offsets, (V64{0, 1, 3}));  // Action <- i1; Comedy <- i1, i2
  EXPECT_EQ(rev.dst, (V32{0, 0, 1}));
}

TEST_F(RecboleTest, AFieldOfBothFilesIsOneNodeTypeAndOnlyFloatsMeanNoGraph) {
  put("inter", "user_id:token\titem_id:token\nu1\ti1\nu2\ti2\n");
  put("user", "user_id:token\tcity:token\nu1\tParis\nu2\tRome\n");
  put("item", "item_id:token\tcity:token\ni1\tOslo\ni2\tParis\n");
  const Dataset ds = load_dataset(ml());
  auto g = load_side_graph(ml(), ds);
  ASSERT_NE(g, nullptr);
  ASSERT_EQ(g->num_node_types(), 3);
  EXPECT_EQ(g->ids(2).raw_ids(), (Names{"Oslo", "Paris", "Rome"}));
  EXPECT_EQ(g->relation(g->find_relation("user-has-city")).dst, (V32{1, 2}));
  EXPECT_EQ(g->relation(g->find_relation("item-has-city")).dst, (V32{0, 1}));
  // Only float fields (or none with a value): no side graph.
  put("user", "user_id:token\tweight:float\nu1\t1\n");
  put("item", "item_id:token\ttag:token\ni1\t\n");
  EXPECT_EQ(load_side_graph(ml(), ds), nullptr);
}

TEST_F(RecboleTest, UserAndItemFileErrors) {
  put("inter", "user_id:token\titem_id:token\nu1\ti1\n");
  const Dataset ds = load_dataset(ml());
  auto err = [&] { return testing::error_of<DataError>([&] { load_side_graph(ml(), ds); }); };
  put("user", "age:token\n20\n");
  EXPECT_EQ(err(), ml() + "/ml.user:1: header has no user_id field (expected user_id:token)");
  put("user", "user_id:token\titem:token\nu1\tx\n");
  EXPECT_EQ(err(), ml() + "/ml.user:1: field 'item' has the name of the user or item node type");
  put("user", "user_id:token\tage:token\nu1\t20\nu1\n");
  EXPECT_EQ(err(), ml() + "/ml.user:3: expected 2 fields separated by tabs, got 1");
  fs::remove(ml() + "/ml.user");
  put("item", "item_id:token\tgenre:tokens\n");
  EXPECT_EQ(err(), ml() +
                       "/ml.item:1: header field 2 ('genre:tokens') has an unknown type 'tokens' "
                       "(expected token, token_seq, float or float_seq; fields are separated by "
                       "tabs)");
  put("item", "item_id:token\tgenre:token\n\tx\n");
  EXPECT_EQ(err(), ml() + "/ml.item:2: empty item_id (field 1)");
}

}  // namespace
}  // namespace gnnrec
