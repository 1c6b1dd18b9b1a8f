// Splits, rating filter, k-core and dedupe against hand-worked examples.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <tuple>

#include "graph/splits.h"
#include "tests/testing/scratch.h"

namespace gnnrec {
namespace {

template <typename F>
std::string error_of(F&& f) {
  return testing::error_of<DataError>(std::forward<F>(f));
}

// Users 0..3 with 1, 2, 5 and 10 interactions. Timestamps are unique, so a
// timestamp identifies a row; within a user they are deliberately not in
// list order. Items differ per row so (user, item) pairs are distinct too.
Dataset hand_dataset(bool with_timestamps = true) {
  Dataset ds;
  ds.name = "hand";
  for (int u = 0; u < 4; ++u) ds.users.intern(std::to_string(u));
  for (int i = 0; i < 20; ++i) ds.items.intern(std::to_string(i));
  auto add = [&](int32_t u, int32_t i, int64_t t) {
    ds.train.user.push_back(u);
    ds.train.item.push_back(i);
    ds.train.rating.push_back(static_cast<float>(1 + (i % 5)));
    if (with_timestamps) ds.train.timestamp.push_back(t);
  };
  add(0, 0, 500);
  add(1, 1, 20);
  add(2, 2, 40);  // user 2's first row is its latest
  add(1, 3, 10);
  for (int k = 0; k < 4; ++k) add(2, 4 + k, 30 + k);
  // 3k % 10 runs through 0..9 in a scrambled order: 100, 121, 142, 163, ...
  for (int k = 0; k < 10; ++k) add(3, 8 + k, 100 + 7 * ((k * 3) % 10));
  return ds;
}

using Row = std::tuple<int32_t, int32_t, float, int64_t>;

std::multiset<Row> rows(const Interactions& x) {
  std::multiset<Row> out;
  for (size_t e = 0; e < x.size(); ++e) {
    out.emplace(x.user[e], x.item[e], x.has_rating() ? x.rating[e] : 0.f,
                x.has_timestamp() ? x.timestamp[e] : 0);
  }
  return out;
}

std::map<int32_t, int> per_user(const Interactions& x) {
  std::map<int32_t, int> n;
  for (int32_t u : x.user) ++n[u];
  return n;
}

// Union equals the original, no row in both, and each part keeps the
// original relative order (rows are identified by their unique item here).
void expect_partition(const Dataset& original, const Dataset& s) {
  std::multiset<Row> all = rows(s.train);
  for (const Row& r : rows(s.test)) all.insert(r);
  EXPECT_EQ(all, rows(original.train));
  std::set<std::pair<int32_t, int32_t>> train_pairs;
  for (size_t e = 0; e < s.train.size(); ++e) train_pairs.emplace(s.train.user[e], s.train.item[e]);
  for (size_t e = 0; e < s.test.size(); ++e) {
    EXPECT_EQ(train_pairs.count({s.test.user[e], s.test.item[e]}), 0u);
  }
  std::map<int32_t, size_t> position;  // item -> original row
  for (size_t e = 0; e < original.train.size(); ++e) position[original.train.item[e]] = e;
  for (const Interactions* x : {&s.train, &s.test}) {
    for (size_t e = 1; e < x->size(); ++e) {
      EXPECT_LT(position[x->item[e - 1]], position[x->item[e]]);
    }
  }
}

TEST(Split, ParseKind) {
  EXPECT_EQ(parse_split_kind("random"), SplitKind::kRandom);
  EXPECT_EQ(parse_split_kind("per-user"), SplitKind::kPerUser);
  EXPECT_EQ(parse_split_kind("temporal"), SplitKind::kTemporal);
  EXPECT_EQ(parse_split_kind("loo"), SplitKind::kLeaveOneOut);
  const std::string m = error_of([] { parse_split_kind("by-item"); });
  EXPECT_NE(m.find("'by-item'"), std::string::npos) << m;
  EXPECT_NE(m.find("random, per-user, temporal, loo"), std::string::npos) << m;
  for (SplitKind k : {SplitKind::kRandom, SplitKind::kPerUser, SplitKind::kTemporal,
                      SplitKind::kLeaveOneOut}) {
    EXPECT_EQ(parse_split_kind(split_kind_name(k)), k);
  }
}

TEST(Split, PerUserSizesByHand) {
  const Dataset original = hand_dataset();
  Dataset ds = original;
  split(ds, SplitKind::kPerUser, 0.8, 7);
  // round(n_u * 0.2): 1 -> 0 (kept), 2 -> 0, 5 -> 1, 10 -> 2.
  EXPECT_EQ(per_user(ds.test), (std::map<int32_t, int>{{2, 1}, {3, 2}}));
  EXPECT_EQ(per_user(ds.train), (std::map<int32_t, int>{{0, 1}, {1, 2}, {2, 4}, {3, 8}}));
  expect_partition(original, ds);

  // 0.5: 1 -> 0, 2 -> 1, 5 -> round(2.5) = 3, 10 -> 5.
  ds = original;
  split(ds, SplitKind::kPerUser, 0.5, 7);
  EXPECT_EQ(per_user(ds.test), (std::map<int32_t, int>{{1, 1}, {2, 3}, {3, 5}}));
  // 0.1: 2 -> round(1.8) = 2 but one must stay in train.
  ds = original;
  split(ds, SplitKind::kPerUser, 0.1, 7);
  EXPECT_EQ(per_user(ds.test), (std::map<int32_t, int>{{1, 1}, {2, 4}, {3, 9}}));
  expect_partition(original, ds);
}

TEST(Split, TemporalTakesTheLatestByHand) {
  const Dataset original = hand_dataset();
  Dataset ds = original;
  split(ds, SplitKind::kTemporal, 0.6, 1);
  // round(n_u * 0.4): 1 -> 0, 2 -> 1, 5 -> 2, 10 -> 4.
  // User 1: timestamps 20 (item 1), 10 (item 3): latest is item 1.
  // User 2: 40 (item 2), 30..33 (items 4..7): latest two are items 2 and 7.
  // User 3: item 8+k at 100 + 7*((3k) % 10): the four latest (3k % 10 in
  // 9, 8, 7, 6) are k = 3, 6, 9, 2 -> items 11, 14, 17, 10.
  std::set<std::pair<int32_t, int32_t>> test;
  for (size_t e = 0; e < ds.test.size(); ++e) test.emplace(ds.test.user[e], ds.test.item[e]);
  EXPECT_EQ(test, (std::set<std::pair<int32_t, int32_t>>{
                      {1, 1}, {2, 2}, {2, 7}, {3, 10}, {3, 11}, {3, 14}, {3, 17}}));
  expect_partition(original, ds);

  // Deterministic by construction: the seed does not matter.
  Dataset again = original;
  split(again, SplitKind::kTemporal, 0.6, 99);
  EXPECT_EQ(again.test.item, ds.test.item);
}

TEST(Split, LeaveOneOutByHand) {
  const Dataset original = hand_dataset();
  Dataset ds = original;
  split(ds, SplitKind::kLeaveOneOut, 0.8, 3);  // the ratio does not matter for LOO
  // Latest per user with >= 2: user 1 item 1 (t=20), user 2 item 2 (t=40),
  // user 3 item 11 (k=3, t=163). User 0 has one interaction: stays.
  EXPECT_EQ(ds.test.user, (std::vector<int32_t>{1, 2, 3}));
  EXPECT_EQ(ds.test.item, (std::vector<int32_t>{1, 2, 11}));
  expect_partition(original, ds);

  // Without timestamps: one random interaction per user with >= 2.
  const Dataset plain = hand_dataset(false);
  Dataset a = plain, b = plain;
  split(a, SplitKind::kLeaveOneOut, 0.8, 3);
  split(b, SplitKind::kLeaveOneOut, 0.8, 3);
  EXPECT_EQ(per_user(a.test), (std::map<int32_t, int>{{1, 1}, {2, 1}, {3, 1}}));
  EXPECT_EQ(a.test.item, b.test.item);
  expect_partition(plain, a);
}

// A larger data set where seeds are told apart with certainty.
Dataset grid(int users, int per_user_n) {
  Dataset ds;
  ds.name = "grid";
  for (int u = 0; u < users; ++u) ds.users.intern(std::to_string(u));
  for (int i = 0; i < users * per_user_n; ++i) ds.items.intern(std::to_string(i));
  for (int u = 0; u < users; ++u) {
    for (int k = 0; k < per_user_n; ++k) {
      ds.train.user.push_back(u);
      ds.train.item.push_back(u * per_user_n + k);
    }
  }
  return ds;
}

TEST(Split, RandomExactSizeDeterministicAndSeeded) {
  const Dataset original = grid(50, 20);  // 1000 interactions
  Dataset a = original, b = original, c = original;
  split(a, SplitKind::kRandom, 0.8, 42);
  split(b, SplitKind::kRandom, 0.8, 42);
  split(c, SplitKind::kRandom, 0.8, 43);
  EXPECT_EQ(a.test.size(), 200u);
  EXPECT_EQ(a.train.size(), 800u);
  EXPECT_EQ(a.test.item, b.test.item);
  EXPECT_EQ(a.train.item, b.train.item);
  EXPECT_NE(a.test.item, c.test.item);
  expect_partition(original, a);
  expect_partition(original, c);

  Dataset p = original, q = original, r = original;
  split(p, SplitKind::kPerUser, 0.75, 42);
  split(q, SplitKind::kPerUser, 0.75, 42);
  split(r, SplitKind::kPerUser, 0.75, 5);
  for (const auto& [u, n] : per_user(p.test)) EXPECT_EQ(n, 5) << "user " << u;
  EXPECT_EQ(p.test.item, q.test.item);
  EXPECT_NE(p.test.item, r.test.item);
  expect_partition(original, p);
}

TEST(Split, Errors) {
  Dataset ds = hand_dataset();
  EXPECT_EQ(error_of([&] { split(ds, SplitKind::kRandom, 1.5, 1); }),
            "split: train ratio must be in (0, 1), got 1.5");
  EXPECT_THROW(split(ds, SplitKind::kRandom, 0.0, 1), DataError);
  EXPECT_THROW(split(ds, SplitKind::kRandom, 1.0, 1), DataError);
  EXPECT_THROW(split(ds, SplitKind::kRandom, std::nan(""), 1), DataError);
  Dataset plain = hand_dataset(false);
  const std::string m = error_of([&] { split(plain, SplitKind::kTemporal, 0.8, 1); });
  EXPECT_NE(m.find("timestamps"), std::string::npos) << m;
  split(ds, SplitKind::kRandom, 0.8, 1);
  EXPECT_NE(error_of([&] { split(ds, SplitKind::kRandom, 0.8, 1); }).find("already split"),
            std::string::npos);
}

TEST(Filter, MinRatingKeepsAtLeastThresholdAndCompacts) {
  Dataset ds;
  ds.name = "r";
  for (const char* u : {"1", "2", "3"}) ds.users.intern(u);
  for (const char* i : {"10", "20", "30"}) ds.items.intern(i);
  ds.train.user = {0, 0, 1, 2, 2};
  ds.train.item = {0, 1, 1, 2, 0};
  ds.train.rating = {5, 3, 4, 1, 4.5f};
  ds.train.timestamp = {1, 2, 3, 4, 5};
  filter_min_rating(ds, 4.0f);
  // Kept: (1,10,5), (2,20,4), (3,10,4.5). Item 30 has nothing left: dropped.
  EXPECT_EQ(ds.items.raw_ids(), (std::vector<std::string>{"10", "20"}));
  EXPECT_EQ(ds.users.raw_ids(), (std::vector<std::string>{"1", "2", "3"}));
  EXPECT_EQ(ds.train.user, (std::vector<int32_t>{0, 1, 2}));
  EXPECT_EQ(ds.train.item, (std::vector<int32_t>{0, 1, 0}));
  EXPECT_EQ(ds.train.rating, (std::vector<float>{5, 4, 4.5f}));
  EXPECT_EQ(ds.train.timestamp, (std::vector<int64_t>{1, 3, 5}));

  Dataset implicit = grid(2, 2);
  EXPECT_NE(error_of([&] { filter_min_rating(implicit, 4); }).find("no ratings"), std::string::npos);
}

TEST(Filter, KCoreByHand) {
  // Users A=10 B=20 C=30 D=40, items x=100 y=200 z=300 w=400.
  // A-x A-y B-x C-x C-z D-w in train, B-y in test. k = 2:
  // D (1) and z, w (1) go; then C has 1 left and goes; x keeps A, B.
  Dataset ds;
  for (const char* u : {"10", "20", "30", "40"}) ds.users.intern(u);
  for (const char* i : {"100", "200", "300", "400"}) ds.items.intern(i);
  ds.train.user = {0, 0, 1, 2, 2, 3};
  ds.train.item = {0, 1, 0, 0, 2, 3};
  ds.test.user = {1};
  ds.test.item = {1};
  Dataset same = ds;
  k_core(same, 1);  // no-op
  EXPECT_EQ(same.train.user, ds.train.user);
  EXPECT_EQ(same.num_users(), 4);

  k_core(ds, 2);
  EXPECT_EQ(ds.users.raw_ids(), (std::vector<std::string>{"10", "20"}));
  EXPECT_EQ(ds.items.raw_ids(), (std::vector<std::string>{"100", "200"}));
  EXPECT_EQ(ds.train.user, (std::vector<int32_t>{0, 0, 1}));
  EXPECT_EQ(ds.train.item, (std::vector<int32_t>{0, 1, 0}));
  EXPECT_EQ(ds.test.user, (std::vector<int32_t>{1}));  // counted with train: B-y survives
  EXPECT_EQ(ds.test.item, (std::vector<int32_t>{1}));

  k_core(ds, 3);  // nobody has 3: everything goes
  EXPECT_TRUE(ds.train.empty());
  EXPECT_EQ(ds.num_users(), 0);
}

TEST(Filter, DedupeKeepsFirstOccurrence) {
  Interactions x;
  x.user = {1, 0, 1, 1, 0};
  x.item = {2, 2, 2, 3, 2};
  x.rating = {5, 4, 1, 3, 2};
  EXPECT_EQ(dedupe(x), 2u);
  EXPECT_EQ(x.user, (std::vector<int32_t>{1, 0, 1}));
  EXPECT_EQ(x.item, (std::vector<int32_t>{2, 2, 3}));
  EXPECT_EQ(x.rating, (std::vector<float>{5, 4, 3}));
  EXPECT_EQ(dedupe(x), 0u);
}

}  // namespace
}  // namespace gnnrec
