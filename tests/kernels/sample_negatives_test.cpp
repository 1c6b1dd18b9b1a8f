// gnnrec::sample_negatives on every device (tests/kernels/sparse_test_utils.h:
// OnDevice): equal to the sampler gnnrec has always used (re-implemented here
// from base/random.h as the reference), never a training item, uniform over
// the allowed items (chi-square with fixed seeds), row streams keyed by
// (seed, j), equal to the CPU draw for draw at batch sizes straddling the
// CUDA warp and block widths, the value checks every device makes before
// sampling, and malformed CSR input (an error or a result, never a hang).
// On the CPU only: thread-count independence, samplers::sample_negatives
// and NegativeSampler over the operator, and the meta implementation.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "base/random.h"
#include "kernels/ops.h"
#include "kernels/sparse_adjacency.h"
#include "samplers/negative_sampler.h"
#include "tests/kernels/sparse_test_utils.h"

namespace gnnrec {
namespace {

using testing::csr_of;
using testing::expect_error;
using testing::random_csr;

// The rejection sampler exactly as samplers/negative_sampler.cpp wrote it
// before the operator existed: row j from SplitMix64(seed, j), candidates
// from below(num_items), rejected by std::binary_search in the user's row.
at::Tensor reference_negatives(const at::Tensor& rowptr, const at::Tensor& col,
                               const at::Tensor& users, int64_t num_items, int64_t k,
                               uint64_t seed) {
  const int64_t n = users.numel();
  const int64_t* rp = rowptr.data_ptr<int64_t>();
  const int32_t* items = col.data_ptr<int32_t>();
  const int64_t* up = users.data_ptr<int64_t>();
  at::Tensor out = at::empty({n, k}, at::kLong);
  int64_t* op = out.data_ptr<int64_t>();
  for (int64_t j = 0; j < n; ++j) {
    SplitMix64 rng(seed, static_cast<uint64_t>(j));
    const int32_t* row = items + rp[up[j]];
    const int32_t* row_end = items + rp[up[j] + 1];
    for (int64_t s = 0; s < k; ++s) {
      int32_t cand;
      do {
        cand = static_cast<int32_t>(rng.below(static_cast<uint32_t>(num_items)));
      } while (std::binary_search(row, row_end, cand));
      op[j * k + s] = cand;
    }
  }
  return out;
}

at::Tensor sample(const SparseAdjacency& a, const at::Tensor& users, int64_t k, int64_t seed) {
  return ops::sample_negatives(a.rowptr, a.col, users, a.num_cols, k, seed);
}

class SampleNegativesTest : public testing::OnDevice {
 protected:
  // sample() on the test's device (a and users on the CPU); the result,
  // which must be on the device, comes back to the CPU.
  at::Tensor draw(const SparseAdjacency& a, const at::Tensor& users, int64_t k,
                  int64_t seed) const {
    const at::Tensor out =
        ops::sample_negatives(on(a.rowptr), on(a.col), on(users), a.num_cols, k, seed);
    EXPECT_EQ(out.device().type(), device().type());
    return out.cpu();
  }
};
GNNREC_ON_DEVICES(SampleNegativesTest);

// Every user with at least one missing item, in a scrambled order with
// repeats.
at::Tensor users_of(const SparseAdjacency& a, int64_t n, uint64_t seed) {
  std::vector<int64_t> allowed;
  const auto rp = a.rowptr.accessor<int64_t, 1>();
  for (int64_t u = 0; u < a.num_rows; ++u) {
    if (rp[u + 1] - rp[u] < a.num_cols) allowed.push_back(u);
  }
  SplitMix64 rng(seed);
  std::vector<int64_t> users(n);
  for (auto& u : users) u = allowed[rng.below(static_cast<uint32_t>(allowed.size()))];
  return at::tensor(users, at::kLong);
}

// Every draw is an item in [0, num_items) that the row's user has no entry for.
void expect_negatives(const SparseAdjacency& a, const at::Tensor& users, const at::Tensor& neg) {
  ASSERT_EQ(neg.dim(), 2);
  ASSERT_EQ(neg.size(0), users.numel());
  ASSERT_EQ(neg.scalar_type(), at::kLong);
  const auto rp = a.rowptr.accessor<int64_t, 1>();
  const int32_t* cp = a.col.data_ptr<int32_t>();
  const auto up = users.accessor<int64_t, 1>();
  const auto np = neg.accessor<int64_t, 2>();
  for (int64_t j = 0; j < neg.size(0); ++j) {
    for (int64_t s = 0; s < neg.size(1); ++s) {
      const int64_t item = np[j][s];
      ASSERT_GE(item, 0);
      ASSERT_LT(item, a.num_cols);
      ASSERT_FALSE(std::binary_search(cp + rp[up[j]], cp + rp[up[j] + 1], item))
          << "user " << up[j] << " has item " << item;
    }
  }
}

// The q-quantile of chi-square with df degrees of freedom (Wilson–Hilferty;
// z is the standard normal quantile of q).
double chi2_quantile(int64_t df, double z) {
  const double h = 2.0 / (9.0 * static_cast<double>(df));
  return static_cast<double>(df) * std::pow(1.0 - h + z * std::sqrt(h), 3);
}

TEST_P(SampleNegativesTest, EqualsTheSamplerGnnrecHasAlwaysUsed) {
  struct Case {
    int64_t users, items;
    double density;
    int64_t hub;
  };
  for (const Case c : {Case{1, 2, 0.5, 0}, Case{40, 33, 0.3, 20}, Case{300, 1500, 0.01, 1500},
                       Case{64, 5000, 0.2, 4000}}) {
    const SparseAdjacency a = random_csr(c.users, c.items, c.density, c.hub, 5, false);
    const at::Tensor users = users_of(a, 2049, 9);
    for (const int64_t k : {1, 3, 4}) {
      for (const uint64_t seed : {uint64_t{0}, uint64_t{2020}, ~uint64_t{0} - 17}) {
        SCOPED_TRACE(::testing::Message() << "graph " << c.users << "x" << c.items << ", k "
                                          << k << ", seed " << seed);
        const at::Tensor got = draw(a, users, k, static_cast<int64_t>(seed));
        ASSERT_TRUE(at::equal(got, reference_negatives(a.rowptr, a.col, users, c.items, k, seed)));
        expect_negatives(a, users, got);
      }
    }
  }
}

TEST(SampleNegatives, GraphSamplerIsTheOperator) {
  Interactions x;
  SplitMix64 rng(4);
  for (int32_t u = 0; u < 50; ++u) {
    for (int e = 0; e < 1 + u % 13; ++e) {
      x.user.push_back(u);
      x.item.push_back(static_cast<int32_t>(rng.below(70)));
    }
  }
  const BipartiteGraph g = BipartiteGraph::build(50, 70, x);
  const at::Tensor rowptr = at::tensor(g.user_offsets(), at::kLong);
  const at::Tensor col = at::tensor(g.user_items(), at::kInt);
  const at::Tensor users = at::arange(5000, at::kLong) % 50;
  for (const uint64_t seed : {uint64_t{7}, ~uint64_t{0}}) {
    const at::Tensor expected = reference_negatives(rowptr, col, users, 70, 2, seed);
    EXPECT_TRUE(at::equal(sample_negatives(g, users, 2, seed), expected));
    EXPECT_TRUE(at::equal(sample_negatives(g, users.to(at::kInt), 2, seed), expected));
    EXPECT_TRUE(at::equal(NegativeSampler(g, at::kCPU)(users, 2, seed), expected));
    EXPECT_TRUE(at::equal(ops::sample_negatives(rowptr, col, users, 70, 2,
                                                static_cast<int64_t>(seed)),
                          expected));
  }
}

TEST_P(SampleNegativesTest, NeverATrainingItemEvenForNearlyFullUsers) {
  // User 0 lacks only item 4321 of 12,000 (a hub of 11,999 entries), user 1
  // lacks three items, user 2 has nothing, user 3 has one item.
  const int64_t items = 12000;
  std::vector<int32_t> hub, three;
  for (int32_t i = 0; i < items; ++i) {
    if (i != 4321) hub.push_back(i);
    if (i != 0 && i != 6000 && i != items - 1) three.push_back(i);
  }
  const SparseAdjacency a = csr_of(items, {hub, three, {}, {17}});
  const at::Tensor users = at::tensor(std::vector<int64_t>{0, 1, 2, 3, 0, 1}, at::kLong);
  const at::Tensor neg = draw(a, users, 8, 3);
  expect_negatives(a, users, neg);
  EXPECT_TRUE(neg[0].eq(4321).all().item<bool>());
  EXPECT_TRUE(neg[4].eq(4321).all().item<bool>());
  for (const int64_t row : {1, 5}) {
    for (int64_t s = 0; s < 8; ++s) {
      const int64_t v = neg[row][s].item<int64_t>();
      EXPECT_TRUE(v == 0 || v == 6000 || v == items - 1) << v;
    }
  }
  EXPECT_TRUE(at::equal(neg, reference_negatives(a.rowptr, a.col, users, items, 8, 3)));
}

TEST_P(SampleNegativesTest, UniformOverEachUsersMissingItems) {
  // 50 items. User 0 has items 0..9 (40 allowed), user 1 every odd item (25),
  // user 2 none (50), user 3 all but 7, 23, 49 (3).
  std::vector<int32_t> first_ten, odd, all_but_three;
  for (int32_t i = 0; i < 50; ++i) {
    if (i < 10) first_ten.push_back(i);
    if (i % 2 == 1) odd.push_back(i);
    if (i != 7 && i != 23 && i != 49) all_but_three.push_back(i);
  }
  const SparseAdjacency a = csr_of(50, {first_ten, odd, {}, all_but_three});
  const int64_t per_user = 30000, k = 2;
  const at::Tensor users = at::arange(4 * per_user, at::kLong) % 4;
  const at::Tensor neg = draw(a, users, k, 12345);
  expect_negatives(a, users, neg);
  const double z999 = 3.0902;
  for (int64_t u = 0; u < 4; ++u) {
    SCOPED_TRACE(u);
    const at::Tensor counts = at::bincount(neg.index({users == u}).reshape({-1}), {}, 50);
    const at::Tensor allowed = counts.gt(0);
    const int64_t cells = allowed.sum().item<int64_t>();
    const int64_t expected_cells[] = {40, 25, 50, 3};
    EXPECT_EQ(cells, expected_cells[u]);
    const double expected = static_cast<double>(per_user * k) / static_cast<double>(cells);
    const at::Tensor c = counts.index({allowed}).to(at::kDouble);
    const double chi2 = ((c - expected).pow(2) / expected).sum().item<double>();
    EXPECT_LT(chi2, chi2_quantile(cells - 1, z999));
    EXPECT_GT(chi2, cells - 1 >= 3 ? chi2_quantile(cells - 1, -z999) : 0.0);  // not too even
  }
}

TEST(SampleNegatives, IndependentOfTheThreadCount) {
  const SparseAdjacency a = random_csr(500, 2000, 0.02, 1900, 8, false);
  const at::Tensor users = users_of(a, 60000, 2);
  const auto [one, two] = testing::with_one_and_two_threads([&] { return sample(a, users, 3, 77); });
  EXPECT_TRUE(at::equal(one, two));
}

TEST_P(SampleNegativesTest, RowsDependOnTheSeedAndTheRowOnly) {
  const SparseAdjacency a = random_csr(500, 2000, 0.02, 1900, 8, false);
  const at::Tensor users = users_of(a, 60000, 2);
  const at::Tensor one = draw(a, users, 3, 77);
  EXPECT_FALSE(at::equal(one, draw(a, users, 3, 78)));
  // Row j depends on (seed, j), not on the user: repeats of a user differ.
  const at::Tensor same_user = at::zeros({64}, at::kLong);
  const at::Tensor rows = draw(a, same_user, 4, 1);
  EXPECT_FALSE(at::equal(rows[0], rows[1]));
  // And on nothing else: a prefix of users gives a prefix of the rows.
  EXPECT_TRUE(at::equal(draw(a, users.narrow(0, 0, 1000), 3, 77), one.narrow(0, 0, 1000)));
}

// The CUDA operator equals the CPU's draw for draw (on the CPU instance the
// operator is compared with itself): batch sizes straddling the warp and
// block widths, empty rows, hub users, users missing only a few items.
TEST_P(SampleNegativesTest, EqualsTheCpuExactly) {
  const auto expect_equal_cpu = [&](const SparseAdjacency& a, const at::Tensor& users, int64_t k,
                                    int64_t seed) {
    expect_equal(ops::sample_negatives(on(a.rowptr), on(a.col), on(users), a.num_cols, k, seed),
                 sample(a, users, k, seed), "negatives");
  };
  // Empty rows (every 7th), a hub row of 1,200 items, items nobody has.
  const SparseAdjacency a = random_csr(300, 1500, 0.01, 1500, 4, false);
  for (const int64_t n : {1, 31, 32, 33, 255, 256, 257, 1023, 1025, 100000}) {
    const at::Tensor users = (at::arange(n, at::kLong) * 7919) % 300;
    for (const int64_t k : {1, 4}) {
      for (const int64_t seed : {int64_t{99}, int64_t{-3}}) {
        SCOPED_TRACE(::testing::Message() << "n " << n << ", k " << k << ", seed " << seed);
        expect_equal_cpu(a, users, k, seed);
      }
    }
  }
  // Hub users: 12,800 of 16,000 items; and 11,999 of 12,000 (every draw but
  // one rejected), three missing items, no items, one item.
  const SparseAdjacency hub = random_csr(40, 16000, 0.001, 16000, 6, false);
  expect_equal_cpu(hub, at::tensor(std::vector<int64_t>{0, 1, 0, 39, 0}), 50, 5);
  std::vector<int32_t> all_but_one, all_but_three;
  for (int32_t i = 0; i < 12000; ++i) {
    if (i != 4321) all_but_one.push_back(i);
    if (i != 0 && i != 6000 && i != 11999) all_but_three.push_back(i);
  }
  const SparseAdjacency nearly_full = csr_of(12000, {all_but_one, all_but_three, {}, {17}});
  const at::Tensor users = at::arange(2000, at::kLong) % 4;
  expect_equal_cpu(nearly_full, users, 3, 11);
  const at::Tensor neg = draw(nearly_full, users, 3, 11);
  EXPECT_TRUE(neg.index({users == 0}).eq(4321).all().item<bool>());
}

TEST_P(SampleNegativesTest, EmptyUsers) {
  const SparseAdjacency a = random_csr(10, 20, 0.3, 0, 1, false);
  const at::Tensor none = draw(a, at::empty({0}, at::kLong), 3, 1);
  EXPECT_EQ(none.sizes(), (std::vector<int64_t>{0, 3}));
  EXPECT_EQ(none.scalar_type(), at::kLong);
}

TEST(SampleNegatives, MetaImplementationGivesShapes) {
  const SparseAdjacency a = random_csr(10, 20, 0.3, 0, 1, false);
  const auto meta = [](const at::Tensor& t) { return at::empty(t.sizes(), t.options().device(at::kMeta)); };
  const at::Tensor out =
      ops::sample_negatives(meta(a.rowptr), meta(a.col), meta(at::zeros({7}, at::kLong)), 20, 4, 1);
  EXPECT_EQ(out.device().type(), at::kMeta);
  EXPECT_EQ(out.sizes(), (std::vector<int64_t>{7, 4}));
  EXPECT_EQ(out.scalar_type(), at::kLong);
  expect_error([&] { ops::sample_negatives(meta(a.rowptr), meta(a.col), meta(at::zeros({7}, at::kLong)), 20, 0, 1); },
               "sample_negatives: k must be positive");
}

// Every check is made on every device before any sampling (on CUDA: one
// synchronisation), with the CPU's messages.
TEST_P(SampleNegativesTest, ClearErrors) {
  const SparseAdjacency a = on(csr_of(4, {{0, 1}, {0, 1, 2, 3}, {}}));
  const at::Tensor ok = on(at::tensor(std::vector<int64_t>{0, 2}, at::kLong));
  const auto users = [&](const std::vector<int64_t>& ids) { return on(at::tensor(ids)); };
  expect_error([&] { ops::sample_negatives(a.rowptr, a.col, ok, 4, 0, 1); },
               "sample_negatives: k must be positive, got 0");
  expect_error([&] { ops::sample_negatives(a.rowptr, a.col, ok, 0, 1, 1); },
               "sample_negatives: num_items must be in [1, 2^31]");
  expect_error([&] { ops::sample_negatives(a.rowptr, a.col, ok, (int64_t{1} << 31) + 1, 1, 1); },
               "sample_negatives: num_items must be in [1, 2^31]");
  expect_error([&] { ops::sample_negatives(a.rowptr, a.col, ok.to(at::kInt), 4, 1, 1); },
               "sample_negatives: users must be 1-D int64");
  expect_error([&] { ops::sample_negatives(a.rowptr, a.col, ok.view({1, 2}), 4, 1, 1); },
               "sample_negatives: users must be 1-D int64");
  expect_error([&] { ops::sample_negatives(a.rowptr, a.col.to(at::kLong), ok, 4, 1, 1); },
               "sample_negatives: col must be int32");
  expect_error([&] { ops::sample_negatives(a.rowptr.to(at::kInt), a.col, ok, 4, 1, 1); },
               "sample_negatives: rowptr must be int64");
  expect_error(
      [&] {
        ops::sample_negatives(a.rowptr, a.col, users({0, 3}), 4, 1, 1);
      },
      "sample_negatives: users[1] = 3 is outside [0, 3)");
  expect_error([&] { ops::sample_negatives(a.rowptr, a.col, users({-1}), 4, 1, 1); },
               "sample_negatives: users[0] = -1 is outside [0, 3)");
  // User 1 has every item: no negative exists (rejection would never end).
  expect_error(
      [&] {
        ops::sample_negatives(a.rowptr, a.col, users({0, 2, 1}), 4, 1, 1);
      },
      "sample_negatives: user 1 (users[2]) has 4 items of num_items 4: it has interacted with "
      "every item; no negative exists");
  // A row longer than num_items is the same error.
  expect_error([&] { ops::sample_negatives(a.rowptr, a.col, ok, 2, 1, 1); },
               "sample_negatives: user 0 (users[0]) has 2 items of num_items 2");
  expect_error(
      [&] {
        ops::sample_negatives(a.rowptr, a.col, users({-2, 1}), 4, 1, 1);
      },
      "sample_negatives: users[0] = -2 is outside [0, 3)");
  if (!on_cpu()) {
    expect_error([&] { ops::sample_negatives(a.rowptr.cpu(), a.col, ok, 4, 1, 1); },
                 "sample_negatives: rowptr must be on cuda");
  }
  // The device is healthy afterwards.
  const at::Tensor fine =
      ops::sample_negatives(a.rowptr, a.col, on(at::zeros({5}, at::kLong)), 4, 2, 1);
  EXPECT_TRUE(fine.ge(2).all().item<bool>());
}

// Malformed CSR input: the CPU checks rowptr; on CUDA a malformed CSR gives
// unspecified draws (never reads outside the buffers: compute-sanitizer
// memcheck) or, where a clamped row holds num_items entries, the error;
// on no device an endless loop.
TEST_P(SampleNegativesTest, MalformedCsr) {
  if (on_cpu()) {
    const SparseAdjacency a = csr_of(4, {{0, 1}, {0, 1, 2, 3}, {}});
    at::Tensor bad_rowptr = a.rowptr.clone();
    bad_rowptr[1] = 7;
    expect_error(
        [&] {
          ops::sample_negatives(bad_rowptr, a.col, at::tensor(std::vector<int64_t>{0, 2}), 4, 1, 1);
        },
        "sample_negatives: rowptr must be non-decreasing");
  }
  const testing::MalformedCsr m(*this);
  const at::Tensor users = on(at::tensor(std::vector<int64_t>{0, 5, 7, 39}));
  m.each([&](const at::Tensor& rp, const at::Tensor& cp) {
    try {  // a clamped row may hold num_items entries: then it raises, never spins
      ops::sample_negatives(rp, cp, users, 30, 2, 1);
    } catch (const c10::Error&) {
    }
  });
  EXPECT_TRUE(users.ge(0).all().item<bool>());  // synchronises: any kernel fault surfaces here
}

}  // namespace
}  // namespace gnnrec
