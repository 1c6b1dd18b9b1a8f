// The synthetic generator: determinism, invariants and planted structure.
#include <gtest/gtest.h>
#include <omp.h>

#include <chrono>
#include <set>

#include "graph/synthetic.h"

namespace gnnrec {
namespace {

bool same(const Dataset& a, const Dataset& b) {
  return a.users.raw_ids() == b.users.raw_ids() && a.items.raw_ids() == b.items.raw_ids() &&
         a.train.user == b.train.user && a.train.item == b.train.item &&
         a.train.rating == b.train.rating && a.train.timestamp == b.train.timestamp;
}

TEST(Synthetic, DefaultIsFastAndWellFormed) {
  const SyntheticOptions o;
  const auto t0 = std::chrono::steady_clock::now();
  const Dataset ds = make_synthetic(o);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("[ timing ] synthetic default (%zu interactions): %.3f s\n", ds.train.size(), secs);

  EXPECT_EQ(ds.name, "synthetic");
  EXPECT_EQ(ds.format, "synthetic");
  EXPECT_FALSE(ds.is_split());
  EXPECT_EQ(ds.num_users(), o.num_users);
  EXPECT_EQ(ds.num_items(), o.num_items);
  EXPECT_EQ(ds.users.raw(0), "0");
  EXPECT_EQ(ds.users.raw(2999), "2999");
  EXPECT_EQ(ds.items.raw(1999), "1999");
  ASSERT_EQ(ds.train.rating.size(), ds.train.size());
  ASSERT_EQ(ds.train.timestamp.size(), ds.train.size());

  std::vector<int64_t> degree(static_cast<size_t>(o.num_users), 0);
  std::set<std::pair<int32_t, int32_t>> pairs;
  for (size_t e = 0; e < ds.train.size(); ++e) {
    const int32_t u = ds.train.user[e];
    ASSERT_GE(u, 0);
    ASSERT_LT(u, o.num_users);
    ASSERT_GE(ds.train.item[e], 0);
    ASSERT_LT(ds.train.item[e], o.num_items);
    ++degree[static_cast<size_t>(u)];
    EXPECT_TRUE(pairs.emplace(u, ds.train.item[e]).second) << "duplicate pair at row " << e;
    EXPECT_GE(ds.train.rating[e], 1.0f);
    EXPECT_LE(ds.train.rating[e], 5.0f);
    if (e > 0 && ds.train.user[e - 1] == u) {
      EXPECT_GT(ds.train.timestamp[e], ds.train.timestamp[e - 1]);  // increasing per user
    } else if (e > 0) {
      EXPECT_EQ(ds.train.user[e - 1], u - 1);  // grouped by user, ascending
    }
  }
  const int64_t min_degree = *std::min_element(degree.begin(), degree.end());
  const int64_t max_degree = *std::max_element(degree.begin(), degree.end());
  const double mean = static_cast<double>(ds.train.size()) / static_cast<double>(o.num_users);
  EXPECT_GE(min_degree, 5);
  EXPECT_GT(mean, 0.8 * o.mean_degree);
  EXPECT_LT(mean, 1.3 * o.mean_degree);
  EXPECT_GT(static_cast<double>(max_degree), 4 * mean);  // heavy tail
}

TEST(Synthetic, DeterministicForASeedAndAcrossThreadCounts) {
  SyntheticOptions o;
  o.num_users = 800;
  o.num_items = 500;
  const Dataset a = make_synthetic(o);
  const int threads = omp_get_max_threads();
  omp_set_num_threads(1);
  const Dataset b = make_synthetic(o);
  omp_set_num_threads(3);
  const Dataset c = make_synthetic(o);
  omp_set_num_threads(threads);
  EXPECT_TRUE(same(a, b));
  EXPECT_TRUE(same(a, c));
  o.seed = 43;
  EXPECT_FALSE(same(a, make_synthetic(o)));
}

// Community of user u is u % C, of item i is i % C. With affinity a, a draw
// is in-community with probability a + (1 - a) * s, s being the global
// popularity mass of the user's community (about 1 / C). Slightly less in
// practice: a global draw that hits an in-community item the user already
// has is redrawn, and that redraw is more likely outside; hence the 0.04.
double in_community_fraction(const Dataset& ds, int communities) {
  int64_t in = 0;
  for (size_t e = 0; e < ds.train.size(); ++e) {
    in += ds.train.user[e] % communities == ds.train.item[e] % communities;
  }
  return static_cast<double>(in) / static_cast<double>(ds.train.size());
}

TEST(Synthetic, CommunityStructureFollowsAffinity) {
  for (double affinity : {0.8, 0.5, 0.0}) {
    SyntheticOptions o;
    o.community_affinity = affinity;
    const Dataset ds = make_synthetic(o);
    const double expected = affinity + (1 - affinity) / o.num_communities;
    EXPECT_NEAR(in_community_fraction(ds, o.num_communities), expected, 0.04)
        << "affinity " << affinity;
  }
  // Ratings carry the structure: in-community interactions rate higher.
  const Dataset ds = make_synthetic(SyntheticOptions{});
  double in_sum = 0, out_sum = 0;
  int64_t in_n = 0, out_n = 0;
  for (size_t e = 0; e < ds.train.size(); ++e) {
    if (ds.train.user[e] % 10 == ds.train.item[e] % 10) {
      in_sum += ds.train.rating[e];
      ++in_n;
    } else {
      out_sum += ds.train.rating[e];
      ++out_n;
    }
  }
  EXPECT_GT(in_sum / static_cast<double>(in_n), out_sum / static_cast<double>(out_n) + 1.5);
}

TEST(Synthetic, SmallAndInvalidOptions) {
  SyntheticOptions o;
  o.num_users = 100;
  o.num_items = 50;  // as the CLI tests use it
  const Dataset ds = make_synthetic(o);
  EXPECT_EQ(ds.num_items(), 50);
  EXPECT_GE(ds.train.size(), 500u);

  SyntheticOptions tiny;
  tiny.num_users = 3;
  tiny.num_items = 5;
  tiny.num_communities = 5;
  EXPECT_EQ(make_synthetic(tiny).train.size(), 15u);  // exactly 5 each: all items

  for (auto bad : {+[](SyntheticOptions& x) { x.num_items = 4; },
                   +[](SyntheticOptions& x) { x.num_users = 0; },
                   +[](SyntheticOptions& x) { x.num_communities = 0; },
                   +[](SyntheticOptions& x) { x.community_affinity = 1.5; },
                   +[](SyntheticOptions& x) { x.mean_degree = 2; }}) {
    SyntheticOptions x;
    bad(x);
    EXPECT_THROW(make_synthetic(x), DataError);
  }
}

}  // namespace
}  // namespace gnnrec
