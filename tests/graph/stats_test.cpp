// Data set statistics on a hand-worked example.
#include <gtest/gtest.h>

#include <filesystem>

#include "graph/loaders.h"
#include "graph/stats.h"

namespace gnnrec {
namespace {

TEST(Stats, HandExample) {
  Dataset ds;
  for (const char* u : {"a", "b", "c"}) ds.users.intern(u);  // c has no interactions
  for (const char* i : {"w", "x", "y", "z"}) ds.items.intern(i);
  ds.train.user = {0, 0, 0, 1};
  ds.train.item = {0, 1, 2, 0};
  ds.train.rating = {1, 2, 3, 4};
  ds.test.user = {1};
  ds.test.item = {3};
  ds.test.rating = {5};
  const DatasetStats s = compute_stats(ds);
  EXPECT_EQ(s.users, 3);
  EXPECT_EQ(s.items, 4);
  EXPECT_EQ(s.interactions, 5);
  EXPECT_EQ(s.train, 4);
  EXPECT_EQ(s.test, 1);
  EXPECT_DOUBLE_EQ(s.density, 5.0 / 12.0);
  EXPECT_TRUE(s.has_rating);
  EXPECT_FALSE(s.has_timestamp);
  // User degrees {3, 2, 0} -> sorted 0, 2, 3; position p/100 * 2.
  EXPECT_DOUBLE_EQ(s.user_degree.min, 0);
  EXPECT_DOUBLE_EQ(s.user_degree.p25, 1.0);   // 0 + 0.5 * (2 - 0)
  EXPECT_DOUBLE_EQ(s.user_degree.p50, 2.0);
  EXPECT_DOUBLE_EQ(s.user_degree.p75, 2.5);
  EXPECT_DOUBLE_EQ(s.user_degree.p90, 2.8);
  EXPECT_DOUBLE_EQ(s.user_degree.p99, 2.98);
  EXPECT_DOUBLE_EQ(s.user_degree.max, 3);
  EXPECT_DOUBLE_EQ(s.user_degree.mean, 5.0 / 3.0);
  // Item degrees {2, 1, 1, 1} -> sorted 1, 1, 1, 2; position p/100 * 3.
  EXPECT_DOUBLE_EQ(s.item_degree.min, 1);
  EXPECT_DOUBLE_EQ(s.item_degree.p25, 1);
  EXPECT_DOUBLE_EQ(s.item_degree.p50, 1);
  EXPECT_DOUBLE_EQ(s.item_degree.p75, 1.25);
  EXPECT_DOUBLE_EQ(s.item_degree.p90, 1.7);
  EXPECT_DOUBLE_EQ(s.item_degree.p99, 1.97);
  EXPECT_DOUBLE_EQ(s.item_degree.max, 2);
  EXPECT_DOUBLE_EQ(s.item_degree.mean, 1.25);

  const std::string text = format_stats(s, "hand");
  EXPECT_NE(text.find("hand"), std::string::npos) << text;
  EXPECT_NE(text.find("5 (train 4, test 1)"), std::string::npos) << text;
  EXPECT_NE(text.find("41.6667 %"), std::string::npos) << text;
  EXPECT_EQ(text.back(), '\n');
}

TEST(Stats, EmptyDataset) {
  const DatasetStats s = compute_stats(Dataset{});
  EXPECT_EQ(s.interactions, 0);
  EXPECT_EQ(s.density, 0.0);
  EXPECT_EQ(s.user_degree.max, 0.0);
}

TEST(Stats, GowallaPublishedFigures) {
  const std::string d = std::string(GNNREC_SHARED_DATA) + "/gowalla";
  if (!std::filesystem::exists(d)) GTEST_SKIP() << d << " not present";
  const DatasetStats s = compute_stats(load_dataset(d));
  EXPECT_EQ(s.interactions, 1027370);
  EXPECT_NEAR(100 * s.density, 0.0840, 0.00005);  // docs/datasets.md: density 0.0840 %
  EXPECT_GE(s.user_degree.min, 1);
  const std::string text = format_stats(s, "gowalla");
  std::printf("%s", text.c_str());
  EXPECT_NE(text.find("1,027,370 (train 810,128, test 217,242)"), std::string::npos) << text;
  EXPECT_NE(text.find("29,858"), std::string::npos) << text;
  EXPECT_NE(text.find("40,981"), std::string::npos) << text;
}

}  // namespace
}  // namespace gnnrec
