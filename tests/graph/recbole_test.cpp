// RecBole's atomic files (graph/recbole.h): NAME.inter through detection and
// load_dataset; hand-written files in a scratch folder, expected ids worked
// out by hand, and every error message.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

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

}  // namespace
}  // namespace gnnrec
