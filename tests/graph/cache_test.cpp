// The binary data set cache: round trip, invalidation, corruption, timing.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "graph/cache.h"
#include "graph/loaders.h"
#include "tests/testing/scratch.h"

namespace gnnrec {
namespace {

namespace fs = std::filesystem;

class CacheTest : public testing::ScratchDirTest {
 protected:
  CacheTest() : ScratchDirTest("gnnrec_cache") {}
  void SetUp() override {
    ScratchDirTest::SetUp();
    root_ = dir_;
    cache_ = root_ + "/cache";
  }
  static std::string slurp(const std::string& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }

  std::string root_, cache_;
};

void expect_same(const Dataset& a, const Dataset& b) {
  EXPECT_EQ(a.name, b.name);
  EXPECT_EQ(a.format, b.format);
  EXPECT_EQ(a.users.raw_ids(), b.users.raw_ids());
  EXPECT_EQ(a.items.raw_ids(), b.items.raw_ids());
  for (int32_t k = 0; k < a.users.size() && k < b.users.size(); ++k) {
    ASSERT_EQ(b.users.find(a.users.raw(k)), k);  // lookup index rebuilt too
  }
  for (const auto& [x, y] : {std::make_pair(&a.train, &b.train), std::make_pair(&a.test, &b.test)}) {
    EXPECT_EQ(x->user, y->user);
    EXPECT_EQ(x->item, y->item);
    EXPECT_EQ(x->rating, y->rating);
    EXPECT_EQ(x->timestamp, y->timestamp);
  }
}

Dataset hand_dataset() {
  Dataset ds;
  ds.name = "hand";
  ds.format = "csv";
  for (const char* u : {"alice", "bob", "", "x y"}) ds.users.intern(u);
  for (const char* i : {"m1", "m2"}) ds.items.intern(i);
  ds.train.user = {0, 1, 3};
  ds.train.item = {1, 0, 1};
  ds.train.rating = {4.5f, 1, 3};
  ds.train.timestamp = {-1, 1LL << 40, 7};
  ds.test.user = {2};
  ds.test.item = {0};
  ds.test.rating = {2};
  ds.test.timestamp = {9};
  return ds;
}

TEST_F(CacheTest, RoundTripKeepsEveryField) {
  const Dataset ds = hand_dataset();
  const std::string path = cache_ + "/a/b.bin";  // parent folders are created
  save_dataset_binary(ds, path, "key-1");
  Dataset back;
  ASSERT_TRUE(load_dataset_binary(path, "key-1", &back));
  expect_same(ds, back);

  Dataset untouched;
  untouched.name = "untouched";
  EXPECT_FALSE(load_dataset_binary(path, "key-2", &untouched));  // other fingerprint
  EXPECT_FALSE(load_dataset_binary(path, "key-", &untouched));
  EXPECT_FALSE(load_dataset_binary(cache_ + "/missing.bin", "key-1", &untouched));
  EXPECT_EQ(untouched.name, "untouched");

  // No optional columns, no test part.
  Dataset plain;
  plain.name = "plain";
  plain.users.intern("1");
  plain.items.intern("2");
  plain.train.user = {0};
  plain.train.item = {0};
  save_dataset_binary(plain, path, "k");
  ASSERT_TRUE(load_dataset_binary(path, "k", &back));
  expect_same(plain, back);
}

TEST_F(CacheTest, CorruptFilesAreRejected) {
  const std::string path = cache_ + "/c.bin";
  save_dataset_binary(hand_dataset(), path, "key");
  const std::string good = slurp(path);
  Dataset out;
  auto rejected = [&](const std::string& bytes) {
    std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
    return !load_dataset_binary(path, "key", &out);
  };
  EXPECT_TRUE(rejected(""));
  EXPECT_TRUE(rejected("not a cache file at all, but long enough to hold a header......"));
  EXPECT_TRUE(rejected(good.substr(0, good.size() - 1)));  // truncated
  EXPECT_TRUE(rejected(good + "x"));                       // trailing garbage
  for (size_t at : {size_t{0}, size_t{8}, good.size() / 2, good.size() - 1}) {
    std::string bad = good;
    bad[at] = static_cast<char>(bad[at] ^ 0x5a);  // magic, version, payload, last byte
    EXPECT_TRUE(rejected(bad)) << "flipped byte " << at;
  }
  EXPECT_FALSE(rejected(good));
}

TEST_F(CacheTest, CachedLoadHitsAndInvalidates) {
  const std::string dir = root_ + "/lg";
  const std::string train = write("lg/train.txt", "0 1 2\n1 0\n");
  write("lg/test.txt", "0 0\n");
  const Dataset first = load_dataset_cached(dir, cache_);
  expect_same(first, load_dataset(dir));
  const std::string cache_file = dataset_cache_path(dir, cache_);
  ASSERT_TRUE(fs::exists(cache_file));

  // Prove the next call reads the cache: plant a marked data set under the
  // same fingerprint.
  Dataset marked = first;
  marked.name = "from-cache";
  save_dataset_binary(marked, cache_file, dataset_fingerprint(dir));
  EXPECT_EQ(load_dataset_cached(dir, cache_).name, "from-cache");

  // A size change invalidates it.
  write("lg/train.txt", "0 1 2\n1 0 2\n");
  Dataset d = load_dataset_cached(dir, cache_);
  EXPECT_EQ(d.name, "lg");
  EXPECT_EQ(d.train.size(), 4u);

  // Same size, new content, new mtime: invalidated too.
  marked = d;
  marked.name = "from-cache";
  save_dataset_binary(marked, cache_file, dataset_fingerprint(dir));
  const auto mtime = fs::last_write_time(train);
  write("lg/train.txt", "0 1 2\n1 0 1\n");
  fs::last_write_time(train, mtime + std::chrono::seconds(5));
  d = load_dataset_cached(dir, cache_);
  EXPECT_EQ(d.name, "lg");
  EXPECT_EQ(d.train.item, (std::vector<int32_t>{1, 2, 0, 1}));

  // Same size and mtime, new content (lines reordered, the timestamp put
  // back): the edit a size-and-mtime key missed is a miss.
  marked = d;
  marked.name = "from-cache";
  save_dataset_binary(marked, cache_file, dataset_fingerprint(dir));
  const auto kept = fs::last_write_time(train);
  write("lg/train.txt", "1 0 1\n0 1 2\n");
  fs::last_write_time(train, kept);
  d = load_dataset_cached(dir, cache_);
  EXPECT_EQ(d.name, "lg");
  EXPECT_EQ(d.train.user, (std::vector<int32_t>{1, 1, 0, 0}));

  // Only the mtime moves (a touch): the content decides, still a hit.
  marked = d;
  marked.name = "from-cache";
  save_dataset_binary(marked, cache_file, dataset_fingerprint(dir));
  fs::last_write_time(train, fs::last_write_time(train) + std::chrono::seconds(3));
  EXPECT_EQ(load_dataset_cached(dir, cache_).name, "from-cache");

  // Removing test.txt changes the file list.
  fs::remove(root_ + "/lg/test.txt");
  EXPECT_FALSE(load_dataset_cached(dir, cache_).is_split());
}

TEST_F(CacheTest, CorruptCacheIsReloadedAndRewritten) {
  const std::string dir = root_ + "/lg";
  write("lg/train.txt", "0 1 2\n1 0\n");
  const Dataset first = load_dataset_cached(dir, cache_);
  const std::string cache_file = dataset_cache_path(dir, cache_);
  const std::string good = slurp(cache_file);
  std::ofstream(cache_file, std::ios::binary | std::ios::trunc) << good.substr(0, good.size() / 2);
  expect_same(load_dataset_cached(dir, cache_), first);
  EXPECT_EQ(slurp(cache_file), good);  // rewritten whole
}

TEST_F(CacheTest, UnwritableCacheDoesNotFailTheLoad) {
  const std::string dir = root_ + "/lg";
  write("lg/train.txt", "0 1 2\n1 0\n");
  const std::string blocker = write("blocker", "a file where a folder should be");
  const Dataset ds = load_dataset_cached(dir, blocker + "/cache");
  EXPECT_EQ(ds.train.size(), 3u);
  EXPECT_THROW(save_dataset_binary(ds, blocker + "/cache/x.bin", "k"), DataError);
}

TEST_F(CacheTest, LoadErrorsPropagate) {
  EXPECT_THROW(load_dataset_cached(root_ + "/missing", cache_), DataError);
  write("bad/train.txt", "0 x\n");
  try {
    load_dataset_cached(root_ + "/bad", cache_);
    FAIL() << "expected DataError";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("train.txt:1:"), std::string::npos) << e.what();
  }
}

TEST_F(CacheTest, DefaultDirectoryFromEnvironment) {
  const char* old = std::getenv("GNNREC_CACHE");
  const std::string saved = old ? old : "";
  ::setenv("GNNREC_CACHE", (root_ + "/env").c_str(), 1);
  const std::string dir = root_ + "/lg";
  write("lg/train.txt", "0 1\n");
  load_dataset_cached(dir);
  if (old) {
    ::setenv("GNNREC_CACHE", saved.c_str(), 1);
  } else {
    ::unsetenv("GNNREC_CACHE");
  }
  EXPECT_TRUE(fs::exists(dataset_cache_path(dir, root_ + "/env/datasets")));
}

TEST_F(CacheTest, GowallaFromCacheTiming) {
  const std::string dir = std::string(GNNREC_SHARED_DATA) + "/gowalla";
  if (!fs::exists(dir)) GTEST_SKIP() << dir << " not present";
  using Clock = std::chrono::steady_clock;
  auto secs = [](Clock::time_point t0) {
    return std::chrono::duration<double>(Clock::now() - t0).count();
  };
  auto t0 = Clock::now();
  const Dataset parsed = load_dataset(dir);
  const double cold = secs(t0);
  t0 = Clock::now();
  const Dataset written = load_dataset_cached(dir, cache_);  // miss: parse + write
  const double miss = secs(t0);
  t0 = Clock::now();
  const Dataset cached = load_dataset_cached(dir, cache_);  // hit
  const double hit = secs(t0);
  std::printf("[ timing ] gowalla: parse %.3f s, cache miss (parse + write) %.3f s, "
              "cache hit %.3f s (%.1f MB cache file)\n",
              cold, miss, hit, static_cast<double>(fs::file_size(dataset_cache_path(dir, cache_))) / 1e6);
  expect_same(parsed, written);
  expect_same(parsed, cached);
}

}  // namespace
}  // namespace gnnrec
