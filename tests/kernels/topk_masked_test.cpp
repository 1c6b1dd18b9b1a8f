// topk_masked, _topk_masked_auc and _topk_masked_scores on every device
// (tests/kernels/sparse_test_utils.h: OnDevice) against a dense float64
// reference built here (the whole score matrix, masked by index_put with
// -inf, ranked by a stable descending sort, i.e. ties to the lower item id)
// and the AUC against its definition; ties (all-zero and small-integer
// embeddings, -0 and +0, NaN); k = I; users with every item but a few
// masked, or all of them; chunk sizes 1, 3 and n; bad input; inputs that
// require grad. Against the CPU (on the CPU instance: the operator itself):
// float32 and float64, item counts that straddle warp and block widths, a
// user with more than 10,000 masked items, the AUC, run-to-run determinism,
// and the Evaluator on the device against the Evaluator on the CPU.
// Embeddings for the float32 comparisons are small multiples of 1/4, so that
// every score is exact whatever the summation order (cuBLAS and the CPU's
// BLAS then give equal scores, and the rankings must be equal item for item).
// On the CPU only: the AUC bit for bit against train/metrics.h's user_auc,
// the checks of the mask's values, thread-count independence and the Meta
// shapes.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <tuple>
#include <vector>

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <gtest/gtest.h>

#include "base/random.h"
#include "graph/bipartite_graph.h"
#include "kernels/ops.h"
#include "tests/kernels/sparse_test_utils.h"
#include "train/evaluator.h"
#include "train/metrics.h"

namespace gnnrec {
namespace {

using testing::expect_error;
using testing::randn;
using Rows = std::vector<std::vector<int32_t>>;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// A CSR over all users from explicit rows: (rowptr int64, col int32).
std::pair<at::Tensor, at::Tensor> csr(const Rows& rows) {
  std::vector<int64_t> rowptr{0};
  std::vector<int32_t> col;
  for (const auto& r : rows) {
    col.insert(col.end(), r.begin(), r.end());
    rowptr.push_back(static_cast<int64_t>(col.size()));
  }
  return {at::tensor(rowptr, at::kLong),
          col.empty() ? at::empty({0}, at::kInt) : at::tensor(col, at::kInt)};
}

// One problem: embeddings, the users to rank, the mask and test rows.
struct Case {
  at::Tensor user_emb, item_emb, users;
  Rows mask, test;
  at::Tensor mask_rowptr, mask_col, test_rowptr, test_col;

  Case(at::Tensor u, at::Tensor i, const std::vector<int64_t>& ids, Rows m, Rows t)
      : user_emb(std::move(u)), item_emb(std::move(i)), users(at::tensor(ids, at::kLong)),
        mask(std::move(m)), test(std::move(t)) {
    std::tie(mask_rowptr, mask_col) = csr(mask);
    std::tie(test_rowptr, test_col) = csr(test);
  }
  int64_t items() const { return item_emb.size(0); }
  int64_t n() const { return users.numel(); }

  std::tuple<at::Tensor, at::Tensor> topk(int64_t k, int64_t chunk, at::Device device = at::kCPU,
                                          at::ScalarType dtype = at::kDouble) const {
    return ops::topk_masked(user_emb.to(device, dtype), item_emb.to(device, dtype),
                            users.to(device), mask_rowptr.to(device), mask_col.to(device), k,
                            chunk);
  }
  std::tuple<at::Tensor, at::Tensor, at::Tensor> topk_auc(int64_t k, int64_t chunk,
                                                          at::Device device = at::kCPU,
                                                          at::ScalarType dtype = at::kDouble) const {
    return ops::topk_masked_auc(user_emb.to(device, dtype), item_emb.to(device, dtype),
                                users.to(device), mask_rowptr.to(device), mask_col.to(device),
                                test_rowptr.to(device), test_col.to(device), k, chunk);
  }

  // The masked score rows of `users` in float64, computed densely.
  at::Tensor reference_scores() const {
    at::Tensor s = at::matmul(user_emb.to(at::kDouble).index_select(0, users),
                              item_emb.to(at::kDouble).t());
    std::vector<int64_t> rows, cols;
    const auto ids = users.accessor<int64_t, 1>();
    for (int64_t j = 0; j < n(); ++j) {
      for (const int32_t i : mask[ids[j]]) rows.push_back(j), cols.push_back(i);
    }
    if (!rows.empty()) {
      s.index_put_({at::tensor(rows, at::kLong), at::tensor(cols, at::kLong)},
                   -std::numeric_limits<double>::infinity());
    }
    return s;
  }
  // The reference top k: a stable descending sort keeps item order on ties.
  std::pair<at::Tensor, at::Tensor> reference_topk(int64_t k) const {
    const auto [v, i] = at::sort(reference_scores(), /*stable=*/true, 1, /*descending=*/true);
    return {v.narrow(1, 0, k), i.narrow(1, 0, k)};
  }
  // The AUC by its definition (kernels/ops.h), pair by pair.
  std::vector<double> reference_auc() const {
    const at::Tensor s = reference_scores();
    const auto sa = s.accessor<double, 2>();
    const auto ids = users.accessor<int64_t, 1>();
    std::vector<double> out;
    for (int64_t j = 0; j < n(); ++j) {
      const auto& t = test[ids[j]];
      std::vector<char> excluded(items(), 0);
      for (const int32_t i : mask[ids[j]]) excluded[i] = 1;
      for (const int32_t i : t) excluded[i] = 1;
      const int64_t negatives = items() - std::count(excluded.begin(), excluded.end(), 1);
      if (t.empty() || negatives == 0) {
        out.push_back(kNaN);
        continue;
      }
      double sum = 0;
      for (const int32_t ti : t) {
        for (int64_t i = 0; i < items(); ++i) {
          if (excluded[i]) continue;
          sum += (sa[j][ti] > sa[j][i]) + 0.5 * (sa[j][ti] == sa[j][i]);
        }
      }
      out.push_back(sum / (static_cast<double>(t.size()) * static_cast<double>(negatives)));
    }
    return out;
  }
};

// Random sorted, duplicate-free rows over `items` items: user 0 has none,
// user 1 all but 2, user 2 all items; every 5th user none; the others
// each item with probability `density`.
Rows random_rows(int64_t num_users, int64_t items, double density, uint64_t seed) {
  SplitMix64 rng(seed);
  Rows rows(num_users);
  for (int64_t u = 0; u < num_users; ++u) {
    for (int32_t i = 0; i < items; ++i) {
      const bool in = u == 1 ? (i != 3 && i != items - 1)
                    : u == 2 ? true
                    : (u == 0 || u % 5 == 0) ? false
                    : rng.uniform() < density;
      if (in) rows[u].push_back(i);
    }
  }
  return rows;
}

// Test rows: random (overlapping the mask, as the AUC allows); user 4 gets
// every unmasked item (no negatives left); every 7th user none.
Rows random_test_rows(const Rows& mask, int64_t items, uint64_t seed) {
  SplitMix64 rng(seed);
  Rows rows(mask.size());
  for (size_t u = 0; u < mask.size(); ++u) {
    if (u % 7 == 3) continue;
    for (int32_t i = 0; i < items; ++i) {
      const bool masked = std::binary_search(mask[u].begin(), mask[u].end(), i);
      if ((u == 4 && !masked) || rng.uniform() < 0.15) rows[u].push_back(i);
    }
  }
  return rows;
}

// Every user once, in a shuffled order, plus a repeat.
std::vector<int64_t> user_list(int64_t num_users, uint64_t seed) {
  std::vector<int64_t> ids(num_users);
  for (int64_t u = 0; u < num_users; ++u) ids[u] = u;
  SplitMix64 rng(seed);
  for (int64_t i = num_users - 1; i > 0; --i) std::swap(ids[i], ids[rng.below(i + 1)]);
  ids.push_back(ids[0]);
  return ids;
}

// Values k/4 for k in [-range, range]: every dot product of a few of them
// is exact in float32, whatever the order of the sum.
at::Tensor dyadic(at::IntArrayRef shape, int64_t range, uint64_t seed) {
  auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  return at::randint(-range, range + 1, shape, gen, at::TensorOptions().dtype(at::kDouble)) / 4.0;
}

Case random_case(int64_t num_users, int64_t items, int64_t d, uint64_t seed, bool exact) {
  const at::Tensor u = exact ? dyadic({num_users, d}, 4, seed) : randn({num_users, d}, seed);
  const at::Tensor i = exact ? dyadic({items, d}, 4, seed + 1) : randn({items, d}, seed + 1);
  Rows mask = random_rows(num_users, items, 0.3, seed + 2);
  Rows test = random_test_rows(mask, items, seed + 3);
  return Case(u, i, user_list(num_users, seed + 4), std::move(mask), std::move(test));
}

// a and b (any devices) hold equal values (-0 == +0, NaN == NaN), or
// values within tol.
bool same_values(const at::Tensor& a, const at::Tensor& b, double tol) {
  const at::Tensor x = a.cpu().to(at::kDouble), y = b.cpu().to(at::kDouble);
  if (x.sizes() != y.sizes() || !at::equal(x.isnan(), y.isnan())) return false;
  const at::Tensor both_inf = x.isinf() & (x == y);
  return at::all(((x - y).abs() <= tol) | both_inf | x.isnan()).item<bool>();
}

void expect_same_auc(const at::Tensor& got, const std::vector<double>& expected, double tol,
                     const std::string& what) {
  ASSERT_EQ(got.numel(), static_cast<int64_t>(expected.size())) << what;
  const at::Tensor g = got.cpu().contiguous();
  for (size_t j = 0; j < expected.size(); ++j) {
    const double v = g.data_ptr<double>()[j];
    if (std::isnan(expected[j])) {
      EXPECT_TRUE(std::isnan(v)) << what << " row " << j << ": " << v;
    } else {
      EXPECT_NEAR(v, expected[j], tol) << what << " row " << j;
    }
  }
}

class TopkMaskedTest : public testing::OnDevice {};
GNNREC_ON_DEVICES(TopkMaskedTest);

// ---------------------------------------------------------------------------
// Against the references

TEST_P(TopkMaskedTest, MatchesDenseReference) {
  for (const bool exact : {false, true}) {
    const Case c = random_case(23, 37, 5, exact ? 11 : 7, exact);
    for (const int64_t k : {int64_t{1}, int64_t{5}, int64_t{36}, c.items()}) {
      const auto [ref_v, ref_i] = c.reference_topk(k);
      for (const int64_t chunk : {int64_t{1}, int64_t{3}, c.n()}) {
        const std::string what = "exact " + std::to_string(exact) + " k " + std::to_string(k) +
                                 " chunk " + std::to_string(chunk);
        const auto [v, i] = c.topk(k, chunk, device());
        ASSERT_EQ(v.sizes(), (std::vector<int64_t>{c.n(), k})) << what;
        EXPECT_EQ(v.scalar_type(), at::kDouble) << what;
        EXPECT_EQ(i.scalar_type(), at::kLong) << what;
        expect_equal(i, ref_i, what);
        expect_close(v, ref_v, 1e-12, 1e-12, what);
      }
    }
  }
}

TEST_P(TopkMaskedTest, MostlyMaskedUsersEndWithMaskedItemsInIdOrder) {
  const Case c = random_case(8, 12, 3, 5, false);
  // User 1: all but items 3 and 11 masked; user 2: everything masked.
  const auto [v_d, i_d] = c.topk(c.items(), 2, device());
  const at::Tensor v = v_d.cpu(), i = i_d.cpu();
  const auto ids = c.users.accessor<int64_t, 1>();
  for (int64_t j = 0; j < c.n(); ++j) {
    if (ids[j] == 1) {
      std::vector<int64_t> top{i[j][0].item<int64_t>(), i[j][1].item<int64_t>()};
      std::sort(top.begin(), top.end());
      EXPECT_EQ(top, (std::vector<int64_t>{3, 11}));
      EXPECT_TRUE(std::isfinite(v[j][1].item<double>()));
      for (int64_t r = 2; r < c.items(); ++r) {
        EXPECT_EQ(v[j][r].item<double>(), -std::numeric_limits<double>::infinity());
      }
      // The masked tail in item order, skipping 3 and 11.
      EXPECT_EQ(i[j][2].item<int64_t>(), 0);
      EXPECT_EQ(i[j][4].item<int64_t>(), 2);
      EXPECT_EQ(i[j][5].item<int64_t>(), 4);
    }
    if (ids[j] == 2) {
      EXPECT_TRUE(at::equal(i[j], at::arange(c.items(), at::kLong)));
    }
  }
}

TEST_P(TopkMaskedTest, TiesGoToTheLowerItemId) {
  // All-zero embeddings: every unmasked score is 0, so the ranking is the
  // unmasked items in id order, then the masked ones.
  Case zero(at::zeros({3, 4}, at::kDouble), at::zeros({9, 4}, at::kDouble), {0, 1, 2},
            Rows{{}, {0, 2, 7}, {8}}, Rows{{1}, {1}, {1}});
  for (const at::ScalarType dtype : {at::kFloat, at::kDouble}) {
    const auto [v_d, i_d] = zero.topk(9, 2, device(), dtype);
    const at::Tensor v = v_d.cpu(), i = i_d.cpu();
    EXPECT_TRUE(at::equal(i[0], at::arange(9, at::kLong)));
    EXPECT_TRUE(at::equal(i[1], at::tensor(std::vector<int64_t>{1, 3, 4, 5, 6, 8, 0, 2, 7})));
    EXPECT_TRUE(at::equal(i[2], at::arange(9, at::kLong)));
    EXPECT_EQ(v[1][5].item<double>(), 0.0);
    EXPECT_EQ(v[1][6].item<double>(), -std::numeric_limits<double>::infinity());
  }
  // -0 and +0 tie; NaN ranks first (NaNs in id order), -inf scores tie with
  // masked items.
  const double inf = std::numeric_limits<double>::infinity();
  Case signed_zero(at::tensor(std::vector<double>{-1, 1}).view({2, 1}),
                   at::tensor(std::vector<double>{0.0, -0.0, 2.0, kNaN, inf, kNaN, -inf})
                       .view({7, 1}),
                   {0, 1}, Rows{{2}, {}}, Rows{{}, {}});
  for (const at::ScalarType dtype : {at::kFloat, at::kDouble}) {
    const at::Tensor i = std::get<1>(signed_zero.topk(7, 1, device(), dtype)).cpu();
    // User 0 (-1): NaN 3, NaN 5, then 0 (item 0: -0, item 1: +0), then
    // -inf (item 2 masked, item 4 = -inf): ids 2 before 4; item 6 is +inf.
    EXPECT_TRUE(at::equal(i[0], at::tensor(std::vector<int64_t>{3, 5, 6, 0, 1, 2, 4})))
        << i[0];
    // User 1: NaN 3, NaN 5, +inf 4, 2, 0 and -0 tie (0, 1), -inf 6.
    EXPECT_TRUE(at::equal(i[1], at::tensor(std::vector<int64_t>{3, 5, 4, 2, 0, 1, 6}))) << i[1];
  }
}

TEST_P(TopkMaskedTest, SmallIntegerScoresTieOftenAndMatchTheReference) {
  auto gen = at::make_generator<at::CPUGeneratorImpl>(3);
  const auto opts = at::TensorOptions().dtype(at::kDouble);
  const at::Tensor u = at::randint(-1, 2, {30, 2}, gen, opts);
  const at::Tensor it = at::randint(-1, 2, {70, 2}, gen, opts);
  Rows mask = random_rows(30, 70, 0.2, 4);
  Rows test = random_test_rows(mask, 70, 5);
  const Case c(u, it, user_list(30, 6), std::move(mask), std::move(test));
  for (const at::ScalarType dtype : {at::kFloat, at::kDouble}) {
    for (const int64_t k : {int64_t{1}, int64_t{10}, int64_t{70}}) {
      const auto [ref_v, ref_i] = c.reference_topk(k);
      const auto [v, i] = c.topk(k, 4, device(), dtype);
      expect_equal(i, ref_i, "k " + std::to_string(k));
      EXPECT_TRUE(same_values(v, ref_v, 0)) << k;
    }
  }
}

TEST_P(TopkMaskedTest, AucMatchesItsDefinition) {
  for (const bool exact : {false, true}) {
    const Case c = random_case(23, 37, 5, exact ? 21 : 17, exact);
    const std::vector<double> ref = c.reference_auc();
    for (const int64_t chunk : {int64_t{1}, int64_t{3}, c.n()}) {
      const auto [v, i, auc] = c.topk_auc(6, chunk, device());
      expect_same_auc(auc, ref, 1e-12, "float64 chunk " + std::to_string(chunk));
      // The same top k as topk_masked.
      const auto [v2, i2] = c.topk(6, chunk, device());
      EXPECT_TRUE(at::equal(i, i2));
      EXPECT_TRUE(at::equal(v, v2));
    }
  }
}

TEST(TopkMasked, AucEqualsUserAucBitForBit) {
  for (const bool exact : {false, true}) {
    const Case c = random_case(23, 37, 5, exact ? 21 : 17, exact);
    // float32: equal bit for bit to user_auc on the same masked float rows
    // (one chunk: the operator's product is this product).
    const at::Tensor u32 = c.user_emb.to(at::kFloat), i32 = c.item_emb.to(at::kFloat);
    at::Tensor rows = at::matmul(u32.index_select(0, c.users), i32.t()).contiguous();
    const auto ids = c.users.accessor<int64_t, 1>();
    std::vector<double> expected;
    for (int64_t j = 0; j < c.n(); ++j) {
      float* row = rows.data_ptr<float>() + j * c.items();
      const auto& m = c.mask[ids[j]];
      const auto& t = c.test[ids[j]];
      for (const int32_t x : m) row[x] = -std::numeric_limits<float>::infinity();
      expected.push_back(user_auc(row, c.items(), t.data(), static_cast<int64_t>(t.size()),
                                  m.data(), static_cast<int64_t>(m.size())));
    }
    const auto [v, i, auc] = c.topk_auc(6, c.n(), at::kCPU, at::kFloat);
    const at::Tensor a = auc.contiguous();
    for (int64_t j = 0; j < c.n(); ++j) {
      const double got = a.data_ptr<double>()[j];
      if (std::isnan(expected[j])) {
        EXPECT_TRUE(std::isnan(got)) << j;
      } else {
        EXPECT_EQ(got, expected[j]) << j;  // bit for bit
      }
    }
  }
}

TEST_P(TopkMaskedTest, AucWithTiesCountsHalf) {
  // User 0: scores [2, 1, 1, 1, 0]; item 0 masked, test {2}: negatives
  // {1, 3, 4} with scores 1, 1, 0 -> (½ + ½ + 1) / 3. User 1: test {0, 4}
  // (item 0 masked, so its score is -inf): negatives {1, 2, 3};
  // item 0 beats nothing, item 4 (score 0) loses to all -> 0.
  Case c(at::tensor(std::vector<double>{1, 1}).view({2, 1}),
         at::tensor(std::vector<double>{2, 1, 1, 1, 0}).view({5, 1}), {0, 1}, Rows{{0}, {0}},
         Rows{{2}, {0, 4}});
  const at::Tensor auc = std::get<2>(c.topk_auc(2, 8, device())).cpu();
  EXPECT_DOUBLE_EQ(auc[0].item<double>(), 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(auc[1].item<double>(), 0.0);
  expect_same_auc(auc, c.reference_auc(), 1e-15, "ties");
}

TEST(TopkMasked, IndependentOfTheThreadCount) {
  const Case c = random_case(40, 300, 8, 31, false);
  const auto [one, two] = testing::with_one_and_two_threads([&] { return c.topk_auc(20, 7); });
  EXPECT_TRUE(at::equal(std::get<0>(one), std::get<0>(two)));
  EXPECT_TRUE(at::equal(std::get<1>(one), std::get<1>(two)));
  EXPECT_TRUE(at::equal(std::get<2>(one).nan_to_num(-1), std::get<2>(two).nan_to_num(-1)));
}

TEST_P(TopkMaskedTest, EmptyUsersZeroKAndGradInputs) {
  const Case c = random_case(6, 10, 3, 41, false);
  const auto [v, i] =
      ops::topk_masked(on(c.user_emb), on(c.item_emb), on(at::empty({0}, at::kLong)),
                       on(c.mask_rowptr), on(c.mask_col), 4, 2);
  EXPECT_EQ(v.sizes(), (std::vector<int64_t>{0, 4}));
  EXPECT_EQ(i.sizes(), (std::vector<int64_t>{0, 4}));
  const auto [v0, i0] = c.topk(0, 2, device());
  EXPECT_EQ(v0.sizes(), (std::vector<int64_t>{c.n(), 0}));
  // Not differentiable: inputs that require grad are fine, outputs never do.
  const at::Tensor u = leaf(c.user_emb);
  const at::Tensor it = leaf(c.item_emb);
  const auto [vg, ig] =
      ops::topk_masked(u, it, on(c.users), on(c.mask_rowptr), on(c.mask_col), 3, 2);
  EXPECT_FALSE(vg.requires_grad());
  const auto [ref_v, ref_i] = c.reference_topk(3);
  expect_equal(ig, ref_i, "top 3");
  const auto [va, ia, aa] =
      ops::topk_masked_auc(u, it, on(c.users), on(c.mask_rowptr), on(c.mask_col), on(c.test_rowptr),
                           on(c.test_col), 3, 2);
  EXPECT_FALSE(va.requires_grad());
  EXPECT_FALSE(aa.requires_grad());
}

TEST(TopkMasked, MetaImplementationGivesShapes) {
  const Case c = random_case(6, 10, 3, 43, false);
  const auto meta = [](const at::Tensor& t) {
    return at::empty(t.sizes(), t.options().device(at::kMeta));
  };
  const auto [v, i] = ops::topk_masked(meta(c.user_emb.to(at::kFloat)),
                                       meta(c.item_emb.to(at::kFloat)), meta(c.users),
                                       meta(c.mask_rowptr), meta(c.mask_col), 4, 2);
  EXPECT_EQ(v.device().type(), at::kMeta);
  EXPECT_EQ(v.sizes(), (std::vector<int64_t>{c.n(), 4}));
  EXPECT_EQ(v.scalar_type(), at::kFloat);
  EXPECT_EQ(i.sizes(), (std::vector<int64_t>{c.n(), 4}));
  EXPECT_EQ(i.scalar_type(), at::kLong);
  const auto [va, ia, auc] = ops::topk_masked_auc(
      meta(c.user_emb), meta(c.item_emb), meta(c.users), meta(c.mask_rowptr), meta(c.mask_col),
      meta(c.test_rowptr), meta(c.test_col), 10, 3);
  EXPECT_EQ(ia.sizes(), (std::vector<int64_t>{c.n(), 10}));
  EXPECT_EQ(auc.sizes(), (std::vector<int64_t>{c.n()}));
  EXPECT_EQ(auc.scalar_type(), at::kDouble);
  expect_error([&] {
    ops::topk_masked(meta(c.user_emb), meta(c.item_emb), meta(c.users), meta(c.mask_rowptr),
                     meta(c.mask_col), 11, 2);
  }, "topk_masked: k (11) must not exceed the number of items (10)");
}

TEST_P(TopkMaskedTest, BadInputNamesOperatorAndArgument) {
  const Case c = random_case(8, 12, 3, 51, false);
  const auto call = [&](const at::Tensor& u, const at::Tensor& i, const at::Tensor& users,
                        const at::Tensor& rowptr, const at::Tensor& col, int64_t k,
                        int64_t chunk) { ops::topk_masked(u, i, users, rowptr, col, k, chunk); };
  const at::Tensor u = on(c.user_emb);
  const at::Tensor it = on(c.item_emb);
  const at::Tensor rp = on(c.mask_rowptr);
  const at::Tensor col = on(c.mask_col);
  const at::Tensor users = on(c.users);
  expect_error([&] { call(u.to(at::kInt), it, users, rp, col, 2, 4); },
               "topk_masked: user_emb must be float32 or float64, got Int");
  expect_error([&] { call(u, it.to(at::kFloat), users, rp, col, 2, 4); },
               "topk_masked: item_emb must have dtype Double, got Float");
  expect_error([&] { call(u, it.view({-1}), users, rp, col, 2, 4); },
               "topk_masked: item_emb must be 2-D, got 1-D");
  expect_error([&] { call(u, it.narrow(1, 0, 2), users, rp, col, 2, 4); },
               "topk_masked: user_emb and item_emb must have the same width, got 3 and 2");
  expect_error([&] { call(u, it, users.to(at::kInt), rp, col, 2, 4); },
               "topk_masked: users must be 1-D int64, got 1-D Int");
  expect_error(
      [&] {
        call(u, it, on(at::tensor(std::vector<int64_t>{0, 8})), rp, col, 2, 4);
      },
      "topk_masked: users holds user 8 outside [0, 8)");
  expect_error([&] { call(u, it, on(at::tensor(std::vector<int64_t>{-1})), rp, col, 2, 4); },
               "topk_masked: users holds user -1 outside [0, 8)");
  expect_error([&] { call(u, it, users, rp.narrow(0, 0, 8), col, 2, 4); },
               "topk_masked: mask_rowptr must have one entry per user plus one (9), got 8");
  expect_error([&] { call(u, it, users, rp.to(at::kInt), col, 2, 4); },
               "topk_masked: mask_rowptr must be int64, got Int");
  expect_error([&] { call(u, it, users, rp, col.to(at::kLong), 2, 4); },
               "topk_masked: mask_col must be int32, got Long");
  expect_error([&] { call(u, it, users, rp, col, 13, 4); },
               "topk_masked: k (13) must not exceed the number of items (12)");
  expect_error([&] { call(u, it, users, rp, col, -1, 4); },
               "topk_masked: k must be non-negative, got -1");
  expect_error([&] { call(u, it, users, rp, col, 2, 0); },
               "topk_masked: chunk must be positive, got 0");
  // The AUC variant: its own name, the test CSR.
  expect_error(
      [&] {
        ops::topk_masked_auc(u, it, users, rp, col, on(c.test_rowptr.narrow(0, 0, 3)),
                             on(c.test_col), 2, 4);
      },
      "_topk_masked_auc: test_rowptr must have one entry per user plus one (9), got 3");
  if (!on_cpu()) {
    expect_error([&] { ops::topk_masked(u, c.item_emb, users, rp, col, 2, 4); },
                 "topk_masked: item_emb must be on cuda:0, got cpu");
    expect_error([&] { ops::topk_masked(u, it, c.users, rp, col, 2, 4); },
                 "topk_masked: users must be on cuda:0, got cpu");
    expect_error([&] { ops::topk_masked(u, it, users, c.mask_rowptr, col, 2, 4); },
                 "topk_masked: mask_rowptr must be on cuda:0, got cpu");
  }
  // The device is still usable after the errors.
  const auto [v, i] = ops::topk_masked(u, it, users, rp, col, 2, 4);
  expect_equal(i, std::get<1>(c.topk(2, 4)), "top 2 after the errors");
}

// The values of the mask and test CSRs are checked on the CPU only (CUDA
// skips such entries, never reading or writing outside the buffers).
TEST(TopkMasked, BadMaskValuesNameOperatorAndArgument) {
  const Case c = random_case(8, 12, 3, 51, false);
  const auto call = [&](const at::Tensor& rowptr, const at::Tensor& col) {
    ops::topk_masked(c.user_emb, c.item_emb, c.users, rowptr, col, 2, 4);
  };
  const at::Tensor& u = c.user_emb;
  const at::Tensor& it = c.item_emb;
  const at::Tensor& rp = c.mask_rowptr;
  const at::Tensor& col = c.mask_col;
  const at::Tensor& users = c.users;
  at::Tensor bad_col = col.clone();
  bad_col[0] = 12;
  expect_error([&] { call(rp, bad_col); }, "topk_masked: mask_col holds item 12 outside [0, 12)");
  at::Tensor bad_rp = rp.clone();
  bad_rp[8] = bad_rp[8].item<int64_t>() - 1;
  expect_error([&] { call(bad_rp, col); },
               "topk_masked: mask_rowptr must start at 0 and end at nnz");
  // The AUC variant: sorted rows.
  // Plain variables, not structured bindings: lambdas capture those only
  // from C++20 on (g++ allows it in C++17, clang does not).
  at::Tensor rp2, col2, rp3, col3;
  std::tie(rp2, col2) = csr(Rows{{}, {}, {}, {5, 4}, {}, {}, {}, {}});
  expect_error([&] { ops::topk_masked_auc(u, it, users, rp, col, rp2, col2, 2, 4); },
               "_topk_masked_auc: test_col must be sorted ascending without duplicates");
  std::tie(rp3, col3) = csr(Rows{{}, {}, {}, {4, 4}, {}, {}, {}, {}});
  expect_error([&] { ops::topk_masked_auc(u, it, users, rp3, col3, rp2, col2, 2, 4); },
               "_topk_masked_auc: mask_col must be sorted ascending without duplicates");
}

// ---------------------------------------------------------------------------
// Against the CPU (on the CPU instance: the operator run again)

// On `device` as on the CPU. tol 0: the scores are exact on both devices
// (equal values and AUCs); otherwise they may differ by rounding, far below
// the gaps between scores.
void expect_matches_cpu(at::Device device, const Case& c, int64_t k, int64_t chunk,
                        at::ScalarType dtype, const std::string& what, double tol = 0) {
  const auto [cv, ci, ca] = c.topk_auc(k, chunk, at::kCPU, dtype);
  const auto [gv, gi, ga] = c.topk_auc(k, chunk, device, dtype);
  ASSERT_EQ(gi.device().type(), device.type()) << what;
  EXPECT_TRUE(at::equal(gi.cpu(), ci)) << what;
  EXPECT_TRUE(same_values(gv, cv, tol)) << what;
  EXPECT_TRUE(same_values(ga, ca, tol)) << what;
  // topk_masked gives the same top k.
  const auto [tv, ti] = c.topk(k, chunk, device, dtype);
  EXPECT_TRUE(at::equal(ti.cpu(), ci)) << what;
}

TEST_P(TopkMaskedTest, MatchesTheCpuOnExactScores) {
  uint64_t seed = 100;
  for (const int64_t items : {31, 32, 33, 255, 256, 257, 1023, 1025}) {
    const Case c = random_case(40, items, 6, ++seed, /*exact=*/true);
    for (const at::ScalarType dtype : {at::kFloat, at::kDouble}) {
      for (const int64_t k : {int64_t{1}, int64_t{20}, items}) {
        for (const int64_t chunk : {int64_t{1}, int64_t{7}, c.n()}) {
          expect_matches_cpu(device(), c, k, chunk, dtype,
                             std::string(dtype == at::kFloat ? "float32" : "float64") + " items " +
                                 std::to_string(items) + " k " + std::to_string(k) + " chunk " +
                                 std::to_string(chunk));
        }
      }
    }
  }
}

TEST_P(TopkMaskedTest, TiesNaNAndSignedZerosAsOnTheCpu) {
  const double inf = std::numeric_limits<double>::infinity();
  Case zero(at::zeros({3, 4}, at::kDouble), at::zeros({300, 4}, at::kDouble), {0, 1, 2},
            Rows{{}, {0, 2, 7, 299}, {8}}, Rows{{1}, {1}, {1}});
  Case special(at::tensor(std::vector<double>{-1, 1}).view({2, 1}),
               at::tensor(std::vector<double>{0.0, -0.0, 2.0, kNaN, inf, kNaN, -inf}).view({7, 1}),
               {0, 1}, Rows{{2}, {}}, Rows{{}, {0}});
  for (const at::ScalarType dtype : {at::kFloat, at::kDouble}) {
    for (const int64_t k : {int64_t{1}, int64_t{5}, int64_t{7}}) {
      const auto [cv, ci] = special.topk(k, 1, at::kCPU, dtype);
      const auto [gv, gi] = special.topk(k, 1, device(), dtype);
      EXPECT_TRUE(at::equal(gi.cpu(), ci)) << k << gi << ci;
    }
    for (const int64_t k : {int64_t{1}, int64_t{20}, int64_t{300}}) {
      expect_matches_cpu(device(), zero, k, 2, dtype, "all-zero k " + std::to_string(k));
    }
  }
}

TEST_P(TopkMaskedTest, RandomScoresCloseToTheCpu) {
  const Case c = random_case(50, 2000, 16, 7, /*exact=*/false);
  // float64: rounding differences are far below the gaps between scores.
  expect_matches_cpu(device(), c, 20, 16, at::kDouble, "float64 random", 1e-12);
  // float32: near-ties may swap between devices; the sorted values agree,
  // and a per-user AUC moves by 1/(|T|·|N|) ≈ 2e-6 per flipped pair.
  const auto [cv, ci, ca] = c.topk_auc(20, 16, at::kCPU, at::kFloat);
  const auto [gv, gi, ga] = c.topk_auc(20, 16, device(), at::kFloat);
  EXPECT_TRUE(same_values(gv, cv, 1e-4));
  EXPECT_TRUE(same_values(ga, ca, 1e-4));
}

TEST_P(TopkMaskedTest, UserWithMoreThanTenThousandMaskedItems) {
  const int64_t items = 12000;
  Rows mask(4), test(4);
  for (int32_t i = 0; i < items; ++i) {
    if (i % 1000 != 7) mask[1].push_back(i);  // 11,988 masked, 12 left
    if (i % 3 == 0) mask[2].push_back(i);
    if (i % 500 == 1) test[1].push_back(i);  // masked test items
    if (i % 97 == 5) test[2].push_back(i);
  }
  for (int32_t i = 7; i < items; i += 2000) test[1].push_back(i);  // unmasked ones
  std::sort(test[1].begin(), test[1].end());
  const Case c(dyadic({4, 8}, 4, 1), dyadic({items, 8}, 4, 2), {1, 2, 0, 3, 1}, mask, test);
  for (const at::ScalarType dtype : {at::kFloat, at::kDouble}) {
    for (const int64_t k : {int64_t{20}, int64_t{2000}}) {
      expect_matches_cpu(device(), c, k, 2, dtype, "hub k " + std::to_string(k));
    }
  }
  expect_same_auc(std::get<2>(c.topk_auc(20, 5, device())), c.reference_auc(), 1e-12, "hub auc");
}

TEST_P(TopkMaskedTest, DeterministicRunToRunAndNoGrad) {
  const Case c = random_case(64, 3000, 32, 9, /*exact=*/false);
  const auto a = c.topk_auc(50, 16, device(), at::kFloat);
  const auto b = c.topk_auc(50, 16, device(), at::kFloat);
  EXPECT_TRUE(at::equal(std::get<0>(a), std::get<0>(b)));
  EXPECT_TRUE(at::equal(std::get<1>(a), std::get<1>(b)));
  EXPECT_TRUE(at::equal(std::get<2>(a).nan_to_num(-1), std::get<2>(b).nan_to_num(-1)));
  const at::Tensor u = leaf(c.user_emb);
  const at::Tensor it = leaf(c.item_emb);
  const auto [v, i] = ops::topk_masked(u, it, on(c.users), on(c.mask_rowptr), on(c.mask_col), 5, 8);
  EXPECT_FALSE(v.requires_grad());
  EXPECT_EQ(v.device().type(), device().type());
}

// The Evaluator on the device against the Evaluator on the CPU, on exact
// scores (every metric equal) and on float64 random scores (within 1e-6).
TEST_P(TopkMaskedTest, EvaluatorMatchesTheCpu) {
  const int64_t num_users = 300, items = 500;
  const Rows mask = random_rows(num_users, items, 0.05, 3);
  const Rows test = random_test_rows(mask, items, 4);
  Interactions tr, te;
  for (int64_t u = 0; u < num_users; ++u) {
    for (const int32_t i : mask[u]) tr.user.push_back(static_cast<int32_t>(u)), tr.item.push_back(i);
    for (const int32_t i : test[u]) te.user.push_back(static_cast<int32_t>(u)), te.item.push_back(i);
  }
  const BipartiteGraph train = BipartiteGraph::build(num_users, items, tr);
  const BipartiteGraph testg = BipartiteGraph::build(num_users, items, te);
  for (const bool exact : {true, false}) {
    const at::ScalarType dtype = exact ? at::kFloat : at::kDouble;
    const at::Tensor u = (exact ? dyadic({num_users, 8}, 4, 5) : randn({num_users, 8}, 5)).to(dtype);
    const at::Tensor i = (exact ? dyadic({items, 8}, 4, 6) : randn({items, 8}, 6)).to(dtype);
    for (const int64_t chunk : {int64_t{7}, int64_t{1024}}) {
      Evaluator ev(train, testg, {1, 10, 20}, chunk);
      const EvalResult cpu = ev.evaluate(u, i);
      const EvalResult gpu = ev.evaluate(on(u), on(i));
      EXPECT_EQ(cpu.users, gpu.users);
      ASSERT_EQ(cpu.metrics.size(), gpu.metrics.size());
      for (const auto& [name, value] : cpu.metrics) {
        EXPECT_NEAR(gpu.metrics.at(name), value, exact ? 0.0 : 1e-6)
            << name << " exact " << exact << " chunk " << chunk;
      }
      const auto [top_cpu, s_cpu] = ev.top_items(u, i, {0, 5, 299}, 15);
      const auto [top_gpu, s_gpu] = ev.top_items(on(u), on(i), {0, 5, 299}, 15);
      EXPECT_TRUE(top_gpu.device().is_cpu());
      EXPECT_TRUE(at::equal(top_gpu, top_cpu));
    }
  }
}

// ---------------------------------------------------------------------------
// _topk_masked_scores: the same ranking of score rows given by the caller

// On score rows computed outside (float64, and float32 from exact dyadic
// embeddings), equal to the dense reference and bit for bit to
// _topk_masked_auc; without a test CSR, an empty AUC; the caller's scores
// are left as they were.
TEST_P(TopkMaskedTest, ScoresGivenRankAsTheReference) {
  for (const bool exact : {false, true}) {
    const Case c = random_case(23, 37, 5, exact ? 61 : 67, exact);
    const at::ScalarType dtype = exact ? at::kFloat : at::kDouble;
    const at::Tensor rows = at::matmul(c.user_emb.index_select(0, c.users), c.item_emb.t());
    const at::Tensor scores = on(rows.to(dtype));
    const at::Tensor before = scores.clone();
    const auto [v, i, auc] =
        ops::topk_masked_scores(scores, on(c.users), on(c.mask_rowptr), on(c.mask_col),
                                on(c.test_rowptr), on(c.test_col), 6);
    EXPECT_TRUE(at::equal(scores, before));
    const auto [ref_v, ref_i] = c.reference_topk(6);
    expect_equal(i, ref_i, exact ? "exact" : "float64");
    expect_same_auc(auc, c.reference_auc(), 1e-12, "scores given");
    const auto [v2, i2, auc2] = c.topk_auc(6, c.n(), device(), dtype);
    EXPECT_TRUE(at::equal(i.cpu(), i2.cpu()));
    EXPECT_TRUE(same_values(v, v2, 0));
    EXPECT_TRUE(at::equal(auc.cpu().nan_to_num(-1), auc2.cpu().nan_to_num(-1)));
    const auto [vn, in, none] = ops::topk_masked_scores(
        scores, on(c.users), on(c.mask_rowptr), on(c.mask_col), std::nullopt, std::nullopt, 6);
    EXPECT_TRUE(at::equal(in.cpu(), i.cpu()));
    EXPECT_EQ(none.numel(), 0);
  }
}

TEST_P(TopkMaskedTest, ScoresGivenBadInputAndMetaShapes) {
  const Case c = random_case(8, 12, 3, 71, false);
  const at::Tensor scores = on(at::zeros({c.n(), 12}, at::kDouble));
  expect_error(
      [&] {
        ops::topk_masked_scores(scores, on(c.users.narrow(0, 0, 2)), on(c.mask_rowptr),
                                on(c.mask_col), std::nullopt, std::nullopt, 3);
      },
      "_topk_masked_scores: users must name the user of each score row");
  expect_error(
      [&] {
        ops::topk_masked_scores(scores, on(c.users), on(c.mask_rowptr), on(c.mask_col),
                                on(c.test_rowptr), std::nullopt, 3);
      },
      "_topk_masked_scores: test_rowptr and test_col go together");
  expect_error(
      [&] {
        ops::topk_masked_scores(scores, on(c.users), on(c.mask_rowptr), on(c.mask_col),
                                std::nullopt, std::nullopt, 13);
      },
      "_topk_masked_scores: k (13) must not exceed the number of items (12)");
  expect_error(
      [&] {
        ops::topk_masked_scores(scores, on(c.users + 100), on(c.mask_rowptr), on(c.mask_col),
                                std::nullopt, std::nullopt, 3);
      },
      "_topk_masked_scores: users holds user");
  const auto meta = [](const at::Tensor& t) {
    return at::empty(t.sizes(), t.options().device(at::kMeta));
  };
  const auto [v, i, auc] =
      ops::topk_masked_scores(meta(scores.cpu()), meta(c.users), meta(c.mask_rowptr),
                              meta(c.mask_col), meta(c.test_rowptr), meta(c.test_col), 4);
  EXPECT_EQ(v.sizes(), (std::vector<int64_t>{c.n(), 4}));
  EXPECT_EQ(i.scalar_type(), at::kLong);
  EXPECT_EQ(auc.sizes(), (std::vector<int64_t>{c.n()}));
}

}  // namespace
}  // namespace gnnrec
