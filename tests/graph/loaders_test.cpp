// Loaders and format detection: hand-written files in a temporary folder
// (expected values worked out by hand), published figures of the real data
// sets, and every error message.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "graph/loaders.h"
#include "tests/testing/scratch.h"

namespace gnnrec {
namespace {

namespace fs = std::filesystem;

class LoadersTest : public testing::ScratchDirTest {
 protected:
  LoadersTest() : ScratchDirTest("gnnrec_loaders") {}
  std::string sub(const std::string& name) {
    std::string d = (fs::path(dir_) / name).string();
    fs::create_directories(d);
    return d;
  }
};

// Runs f, expects DataError, returns its message.
template <typename F>
std::string error_of(F&& f) {
  return testing::error_of<DataError>(std::forward<F>(f));
}

#define EXPECT_HAS(msg, part) \
  EXPECT_NE(std::string(msg).find(part), std::string::npos) << "message: " << (msg)

std::string shared_dir(const char* name) {
  return (fs::path(GNNREC_SHARED_DATA) / name).string();
}

// --- LightGCN ---------------------------------------------------------------

TEST_F(LoadersTest, LightGcnDensifiesInRawOrder) {
  const std::string d = sub("lg");
  write("lg/train.txt", "5 7 3\n2 3\n");
  write("lg/test.txt", "5 9\n");
  const Dataset ds = load_lightgcn(d);
  // users raw {2, 5} -> {0, 1}; items raw {3, 7, 9} -> {0, 1, 2}.
  EXPECT_EQ(ds.users.raw_ids(), (std::vector<std::string>{"2", "5"}));
  EXPECT_EQ(ds.items.raw_ids(), (std::vector<std::string>{"3", "7", "9"}));
  EXPECT_EQ(ds.train.user, (std::vector<int32_t>{1, 1, 0}));
  EXPECT_EQ(ds.train.item, (std::vector<int32_t>{1, 0, 0}));
  EXPECT_EQ(ds.test.user, (std::vector<int32_t>{1}));
  EXPECT_EQ(ds.test.item, (std::vector<int32_t>{2}));  // item seen only in test is fine
  EXPECT_FALSE(ds.train.has_rating());
  EXPECT_FALSE(ds.train.has_timestamp());
  EXPECT_EQ(ds.format, "lightgcn");
  EXPECT_EQ(ds.name, "lg");
  EXPECT_TRUE(ds.is_split());
}

// Sparse raw ids (far apart, up to the largest allowed) take densify's
// sort path, dense ones its lookup table; both give numeric order.
TEST_F(LoadersTest, LightGcnDensifiesSparseAndDenseIdsAlike) {
  const std::string d = sub("lg");
  write("lg/train.txt", "2147483647 16777216 3\n40000 3\n");
  write("lg/test.txt", "40000 999999\n");
  const Dataset ds = load_lightgcn(d);
  // users raw {40000, 2147483647} -> {0, 1}; items raw {3, 999999, 16777216}.
  EXPECT_EQ(ds.users.raw_ids(), (std::vector<std::string>{"40000", "2147483647"}));
  EXPECT_EQ(ds.items.raw_ids(), (std::vector<std::string>{"3", "999999", "16777216"}));
  EXPECT_EQ(ds.train.user, (std::vector<int32_t>{1, 1, 0}));
  EXPECT_EQ(ds.train.item, (std::vector<int32_t>{2, 0, 0}));
  EXPECT_EQ(ds.test.user, (std::vector<int32_t>{0}));
  EXPECT_EQ(ds.test.item, (std::vector<int32_t>{1}));

  // Ids 0..n-1 with gaps small enough for the table: raw order kept.
  std::string lines;
  for (int u = 0; u < 50; ++u) lines += std::to_string(3 * u) + " " + std::to_string(5 * u) + "\n";
  write("lg/train.txt", lines);
  fs::remove(fs::path(d) / "test.txt");
  const Dataset dense = load_lightgcn(d);
  ASSERT_EQ(dense.num_users(), 50);
  ASSERT_EQ(dense.num_items(), 50);
  for (int u = 0; u < 50; ++u) {
    EXPECT_EQ(dense.users.raw(u), std::to_string(3 * u));
    EXPECT_EQ(dense.items.raw(u), std::to_string(5 * u));
    EXPECT_EQ(dense.train.user[static_cast<size_t>(u)], u);
    EXPECT_EQ(dense.train.item[static_cast<size_t>(u)], u);
  }
}

TEST_F(LoadersTest, LightGcnToleratesCrlfTabsBlankLinesAndEmptyUsers) {
  const std::string d = sub("lg");
  // CRLF, tabs, runs of spaces, a blank line, a user without items (9),
  // trailing spaces and no final newline.
  write("lg/train.txt", "0\t1  2\r\n\r\n9\r\n1 0 \t\r\n2   2");
  const Dataset ds = load_lightgcn(d);
  EXPECT_EQ(ds.users.raw_ids(), (std::vector<std::string>{"0", "1", "2"}));  // no 9
  EXPECT_EQ(ds.train.user, (std::vector<int32_t>{0, 0, 1, 2}));
  EXPECT_EQ(ds.train.item, (std::vector<int32_t>{1, 2, 0, 2}));
  EXPECT_FALSE(ds.is_split());  // no test.txt
}

TEST_F(LoadersTest, LightGcnErrors) {
  const std::string d = sub("lg");
  write("lg/train.txt", "0 1 2\n1 x 3\n");
  std::string m = error_of([&] { load_lightgcn(d); });
  EXPECT_HAS(m, "train.txt:2: field 2 ('x') is not an integer");

  write("lg/train.txt", "0 1 2\n1 -5 3\n");
  m = error_of([&] { load_lightgcn(d); });
  EXPECT_HAS(m, "train.txt:2: id -5 out of range [0, 2147483647]");

  write("lg/train.txt", "0 1 2\n\n2147483648 3\n");
  m = error_of([&] { load_lightgcn(d); });
  EXPECT_HAS(m, "train.txt:3: id 2147483648 out of range [0, 2147483647]");

  write("lg/train.txt", "0 1 99999999999999999999\n");
  m = error_of([&] { load_lightgcn(d); });
  EXPECT_HAS(m, "train.txt:1: id 99999999999999999999 out of range");

  write("lg/train.txt", "0 1 2\n1 2 3\n");
  write("lg/test.txt", "0 3\n\n17 1\n");
  m = error_of([&] { load_lightgcn(d); });
  EXPECT_HAS(m, (fs::path(d) / "test.txt").string() + ":3: user 17 has no training interactions");

  write("lg/test.txt", "0 3\n17\n");  // a user line without items is not an error
  EXPECT_EQ(load_lightgcn(d).test.size(), 1u);

  write("lg/train.txt", "\n3\n\n");  // only a user without items
  m = error_of([&] { load_lightgcn(d); });
  EXPECT_EQ(m, (fs::path(d) / "train.txt").string() + ": no interactions");

  const std::string empty = sub("empty");
  m = error_of([&] { load_lightgcn(empty); });
  EXPECT_EQ(m, (fs::path(empty) / "train.txt").string() + ": cannot open: No such file or directory");
  EXPECT_EQ(m.find('\n'), std::string::npos);
}

// --- MovieLens ----------------------------------------------------------------

TEST_F(LoadersTest, MovieLens100kByHand) {
  const std::string p = write("u.data", "3\t20\t4\t881250949\r\n1\t10\t5\t874965758\n3\t10\t1.5\t-7\n");
  const Dataset ds = load_movielens_100k(p);
  EXPECT_EQ(ds.users.raw_ids(), (std::vector<std::string>{"1", "3"}));
  EXPECT_EQ(ds.items.raw_ids(), (std::vector<std::string>{"10", "20"}));
  EXPECT_EQ(ds.train.user, (std::vector<int32_t>{1, 0, 1}));
  EXPECT_EQ(ds.train.item, (std::vector<int32_t>{1, 0, 0}));
  EXPECT_EQ(ds.train.rating, (std::vector<float>{4, 5, 1.5f}));
  EXPECT_EQ(ds.train.timestamp, (std::vector<int64_t>{881250949, 874965758, -7}));
  EXPECT_EQ(ds.format, "ml-100k");
  EXPECT_FALSE(ds.is_split());
}

TEST_F(LoadersTest, MovieLens100kErrors) {
  std::string p = write("u.data", "1\t10\t5\t881250949\n2\t20\t4\n");
  EXPECT_HAS(error_of([&] { load_movielens_100k(p); }),
             "u.data:2: expected 4 fields separated by tabs, got 3");
  p = write("u.data", "1\t10\t5\t881250949\n2\t20\t4\t881250949\n3\tabc\t4\t1\n");
  EXPECT_HAS(error_of([&] { load_movielens_100k(p); }), "u.data:3: field 2 ('abc') is not an integer");
  p = write("u.data", "1\t10\tnan\t1\n");
  EXPECT_HAS(error_of([&] { load_movielens_100k(p); }), "u.data:1: field 3 ('nan') is not a finite number");
  p = write("u.data", "1\t10\tinf\t1\n");
  EXPECT_HAS(error_of([&] { load_movielens_100k(p); }), "u.data:1:");
  p = write("u.data", "1\t10\t4\t1x\n");
  EXPECT_HAS(error_of([&] { load_movielens_100k(p); }), "u.data:1: field 4 ('1x') is not an integer");
  p = write("u.data", "\r\n\r\n");
  EXPECT_EQ(error_of([&] { load_movielens_100k(p); }), p + ": no interactions");
  EXPECT_HAS(error_of([&] { load_movielens_100k(dir_ + "/nope.data"); }),
             "nope.data: cannot open: No such file or directory");
}

TEST_F(LoadersTest, MovieLens1mByHand) {
  const std::string p = write("ratings.dat", "1::1193::5::978300760\r\n1::661::3::978302109\r\n"
                                             "\r\n6040::1193::4::956703932\r\n");
  const Dataset ds = load_movielens_1m(p);
  EXPECT_EQ(ds.users.raw_ids(), (std::vector<std::string>{"1", "6040"}));
  EXPECT_EQ(ds.items.raw_ids(), (std::vector<std::string>{"661", "1193"}));
  EXPECT_EQ(ds.train.user, (std::vector<int32_t>{0, 0, 1}));
  EXPECT_EQ(ds.train.item, (std::vector<int32_t>{1, 0, 1}));
  EXPECT_EQ(ds.train.rating, (std::vector<float>{5, 3, 4}));
  EXPECT_EQ(ds.train.timestamp, (std::vector<int64_t>{978300760, 978302109, 956703932}));
  EXPECT_EQ(ds.format, "ml-1m");
}

TEST_F(LoadersTest, MovieLens1mErrors) {
  std::string p = write("ratings.dat", "1::10::5::978300760\n2::20::4\n");
  EXPECT_HAS(error_of([&] { load_movielens_1m(p); }),
             "ratings.dat:2: expected 4 fields separated by '::', got 3");
  p = write("ratings.dat", "1::10::5::978300760\n1::10::5::9::9\n");
  EXPECT_HAS(error_of([&] { load_movielens_1m(p); }),
             "ratings.dat:2: expected 4 fields separated by '::', got 5");
  p = write("ratings.dat", "1::10::5::978300760\n-5::10::5::978300760\n");
  EXPECT_HAS(error_of([&] { load_movielens_1m(p); }), "ratings.dat:2: id -5 out of range [0, 2147483647]");
  p = write("ratings.dat", "1::10::five::978300760\n");
  EXPECT_HAS(error_of([&] { load_movielens_1m(p); }), "ratings.dat:1: field 3 ('five') is not a finite number");
}

// --- delimited ----------------------------------------------------------------

TEST_F(LoadersTest, CsvWithStringIdsAndHeaderAliases) {
  const std::string p = write("r.csv",
                              "\xEF\xBB\xBFUserID, Movie_Id ,extra,Score,TS\r\n"
                              "bob,m2,x,4.5,100\r\n"
                              "alice,\"m,1\",y,3,200\r\n"
                              "\"bob\",m10,z,1,50\r\n");
  const Dataset ds = load_delimited(p);
  // Not all ids are integers: lexicographic order.
  EXPECT_EQ(ds.users.raw_ids(), (std::vector<std::string>{"alice", "bob"}));
  EXPECT_EQ(ds.items.raw_ids(), (std::vector<std::string>{"m,1", "m10", "m2"}));
  EXPECT_EQ(ds.train.user, (std::vector<int32_t>{1, 0, 1}));
  EXPECT_EQ(ds.train.item, (std::vector<int32_t>{2, 0, 1}));
  EXPECT_EQ(ds.train.rating, (std::vector<float>{4.5f, 3, 1}));
  EXPECT_EQ(ds.train.timestamp, (std::vector<int64_t>{100, 200, 50}));
  EXPECT_EQ(ds.format, "csv");
}

TEST_F(LoadersTest, DelimiterDetection) {
  for (const std::string delim : {"\t", ";", "|", ","}) {
    const std::string p = write("d.txt", "uid" + delim + "iid\n10" + delim + "2\n9" + delim + "2\n");
    const Dataset ds = load_delimited(p);
    EXPECT_EQ(ds.users.raw_ids(), (std::vector<std::string>{"9", "10"})) << delim;  // numeric
    EXPECT_EQ(ds.train.user, (std::vector<int32_t>{1, 0})) << delim;
    EXPECT_FALSE(ds.train.has_rating());
    EXPECT_FALSE(ds.train.has_timestamp());
  }
}

TEST_F(LoadersTest, DelimitedErrors) {
  std::string p = write("a.csv", "user,thing\n1,2\n");
  EXPECT_HAS(error_of([&] { load_delimited(p); }), "a.csv:1: header has no item column");
  p = write("a.csv", "customer,item\n1,2\n");
  EXPECT_HAS(error_of([&] { load_delimited(p); }), "a.csv:1: header has no user column");
  p = write("a.csv", "user item\n1 2\n");
  EXPECT_HAS(error_of([&] { load_delimited(p); }), "a.csv:1: header 'user item' has no delimiter");
  p = write("a.csv", "user,item,rating\n1,2,3\n\n1,2\n");
  EXPECT_HAS(error_of([&] { load_delimited(p); }), "a.csv:4: expected 3 fields separated by ',', got 2");
  p = write("a.tsv", "user\titem\trating\n1\t2\tgood\n");
  EXPECT_HAS(error_of([&] { load_delimited(p); }), "a.tsv:2: field 3 ('good') is not a finite number");
  p = write("a.tsv", "user\titem\ttime\n1\t2\tnoon\n");
  EXPECT_HAS(error_of([&] { load_delimited(p); }), "a.tsv:2: field 3 ('noon') is not an integer");
  p = write("a.csv", "user,item\n");
  EXPECT_EQ(error_of([&] { load_delimited(p); }), p + ": no interactions");
}

// --- detection and dispatch ---------------------------------------------------

TEST_F(LoadersTest, DetectsEachFormat) {
  write("a/train.txt", "0 1\n");
  write("b/u.data", "1\t1\t5\t1\n");
  write("c/ratings.dat", "1::1::5::1\n");
  write("d/x.csv", "user,item\nu,i\n");
  write("e/x.tsv", "user\titem\nu\ti\n");
  EXPECT_EQ(detect_format(dir_ + "/a"), "lightgcn");
  EXPECT_EQ(detect_format(dir_ + "/b"), "ml-100k");
  EXPECT_EQ(detect_format(dir_ + "/c"), "ml-1m");
  EXPECT_EQ(detect_format(dir_ + "/d"), "csv");
  EXPECT_EQ(detect_format(dir_ + "/e"), "csv");
  const char* formats[] = {"lightgcn", "ml-100k", "ml-1m", "csv", "csv"};
  const char* names[] = {"a", "b", "c", "d", "e"};
  for (int k = 0; k < 5; ++k) {
    const Dataset ds = load_dataset(dir_ + "/" + names[k] + "/");  // trailing slash too
    EXPECT_EQ(ds.format, formats[k]);
    EXPECT_EQ(ds.name, names[k]);
    EXPECT_EQ(ds.train.size(), 1u);
  }
  EXPECT_EQ(dataset_source_files(dir_ + "/a"),
            (std::vector<std::string>{(fs::path(dir_ + "/a") / "train.txt").string()}));
}

TEST_F(LoadersTest, DetectionErrors) {
  std::string m = error_of([&] { detect_format(dir_ + "/missing"); });
  EXPECT_HAS(m, dir_ + "/missing: cannot open: No such file or directory");
  sub("none");
  write("none/readme.md", "hello");
  m = error_of([&] { load_dataset(dir_ + "/none"); });
  EXPECT_HAS(m, dir_ + "/none: no data set found");
  EXPECT_HAS(m, "train.txt");
  EXPECT_HAS(m, "u.data");
  EXPECT_HAS(m, "ratings.dat");
  EXPECT_HAS(m, "*.csv");
  write("two/a.csv", "user,item\n1,2\n");
  write("two/b.tsv", "user\titem\n1\t2\n");
  m = error_of([&] { detect_format(dir_ + "/two"); });
  EXPECT_HAS(m, "found 2 *.csv/*.tsv files (a.csv, b.tsv)");
  const std::string f = write("file.txt", "x");
  EXPECT_HAS(error_of([&] { detect_format(f); }), "file.txt: not a directory");
}

// --- writer -------------------------------------------------------------------

TEST_F(LoadersTest, WriteLightGcnUsesDenseIdsAndRoundTrips) {
  Dataset ds;
  for (const char* u : {"a", "b", "c"}) ds.users.intern(u);
  for (const char* i : {"x", "y", "z"}) ds.items.intern(i);
  ds.train.user = {2, 0, 2, 0};
  ds.train.item = {1, 2, 0, 0};
  ds.test.user = {0};
  ds.test.item = {1};
  const std::string out = dir_ + "/out/nested";
  write_lightgcn(ds, out);
  auto slurp = [](const std::string& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  };
  // User 1 ("b") has no interactions: no line. Items in list order.
  EXPECT_EQ(slurp(out + "/train.txt"), "0 2 0\n2 1 0\n");
  EXPECT_EQ(slurp(out + "/test.txt"), "0 1\n");
  for (const auto& entry : fs::directory_iterator(out)) {
    EXPECT_EQ(entry.path().string().find(".tmp"), std::string::npos) << entry.path();
  }

  const Dataset back = load_dataset(out);
  EXPECT_EQ(back.train.user, (std::vector<int32_t>{0, 0, 1, 1}));  // dense 0, 2 -> 0, 1
  EXPECT_EQ(back.train.item, (std::vector<int32_t>{2, 0, 1, 0}));
  EXPECT_EQ(back.test.user, (std::vector<int32_t>{0}));
  EXPECT_EQ(back.test.item, (std::vector<int32_t>{1}));
}

// --- real data sets (published figures) ---------------------------------------

TEST(RealData, GowallaMatchesPublishedFigures) {
  const std::string d = shared_dir("gowalla");
  if (!fs::exists(d)) GTEST_SKIP() << d << " not present";
  const auto t0 = std::chrono::steady_clock::now();
  const Dataset ds = load_dataset(d);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("[ timing ] gowalla cold load (parse): %.3f s\n", secs);
  EXPECT_EQ(ds.format, "lightgcn");
  EXPECT_EQ(ds.name, "gowalla");
  EXPECT_EQ(ds.num_users(), 29858);
  EXPECT_EQ(ds.num_items(), 40981);
  EXPECT_EQ(ds.train.size(), 810128u);
  EXPECT_EQ(ds.test.size(), 217242u);
  // Ids are dense in the file, so canonical dense ids equal raw ids.
  for (int32_t k : {0, 1, 12345, 29857}) EXPECT_EQ(ds.users.raw(k), std::to_string(k));
  for (int32_t k : {0, 777, 40980}) EXPECT_EQ(ds.items.raw(k), std::to_string(k));
  // The first line, read independently, gives the first interactions in order.
  std::ifstream in(d + "/train.txt");
  std::string line;
  std::getline(in, line);
  std::istringstream tok(line);
  int32_t u, i;
  tok >> u;
  size_t e = 0;
  while (tok >> i) {
    ASSERT_LT(e, ds.train.size());
    EXPECT_EQ(ds.train.user[e], u);
    EXPECT_EQ(ds.train.item[e], i);
    ++e;
  }
  EXPECT_GT(e, 0u);
}

TEST(RealData, MovieLens100kMatchesPublishedFigures) {
  const std::string d = shared_dir("ml-100k");
  if (!fs::exists(d)) GTEST_SKIP() << d << " not present";
  const Dataset ds = load_dataset(d);
  EXPECT_EQ(ds.format, "ml-100k");
  EXPECT_EQ(ds.num_users(), 943);
  EXPECT_EQ(ds.num_items(), 1682);
  EXPECT_EQ(ds.train.size(), 100000u);
  std::map<float, int> hist;
  for (float r : ds.train.rating) ++hist[r];
  EXPECT_EQ(hist, (std::map<float, int>{{1, 6110}, {2, 11370}, {3, 27145}, {4, 34174}, {5, 21201}}));
  EXPECT_EQ(*std::min_element(ds.train.timestamp.begin(), ds.train.timestamp.end()), 874724710);
  EXPECT_EQ(*std::max_element(ds.train.timestamp.begin(), ds.train.timestamp.end()), 893286638);
  // Ids run 1..943 / 1..1682: dense id k is raw id k + 1.
  EXPECT_EQ(ds.users.raw(0), "1");
  EXPECT_EQ(ds.users.raw(942), "943");
  EXPECT_EQ(ds.items.raw(1681), "1682");
  // First line of u.data is "196 242 3 881250949".
  EXPECT_EQ(ds.users.raw(ds.train.user[0]), "196");
  EXPECT_EQ(ds.items.raw(ds.train.item[0]), "242");
  EXPECT_EQ(ds.train.rating[0], 3.0f);
  EXPECT_EQ(ds.train.timestamp[0], 881250949);
}

TEST(RealData, MovieLens1mSplitMatchesPublishedFigures) {
  const std::string d = shared_dir("ml-1m");
  if (!fs::exists(d)) GTEST_SKIP() << d << " not present";
  const Dataset ds = load_dataset(d);
  EXPECT_EQ(ds.format, "lightgcn");
  EXPECT_EQ(ds.num_users(), 6039);
  EXPECT_EQ(ds.num_items(), 3628);  // includes the 26 items seen only in test
  EXPECT_EQ(ds.train.size(), 671630u);
  EXPECT_EQ(ds.test.size(), 164848u);
}

}  // namespace
}  // namespace gnnrec
