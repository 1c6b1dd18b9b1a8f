// The HNSW index (train/ann_index.h): maximum inner product, in either
// space, finds the largest-norm item where it is the best; recall against
// exact top-k; a saved index answers as the built one.
#include <algorithm>
#include <set>
#include <vector>

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "tests/testing/scratch.h"
#include "train/ann_index.h"

namespace gnnrec {
namespace {

// The k rows of largest q·x, by a float64 product and a full sort.
std::vector<int32_t> exact_top(const at::Tensor& items, const at::Tensor& q, int64_t k) {
  const at::Tensor s = at::mv(items.to(at::kDouble), q.to(at::kDouble));
  const at::Tensor top =
      at::argsort(s, /*stable=*/true, /*dim=*/0, /*descending=*/true).narrow(0, 0, k).to(at::kInt);
  return std::vector<int32_t>(top.data_ptr<int32_t>(), top.data_ptr<int32_t>() + k);
}

// Clustered items of varied norm, as trained factors are: 40 centres, noise,
// norms from 0.5 to 4.
at::Tensor clustered(int64_t n, int64_t d, uint64_t seed) {
  at::manual_seed(seed);
  const at::Tensor centres = at::randn({40, d});
  const at::Tensor which = at::randint(40, {n}, at::kLong);
  const at::Tensor x = centres.index_select(0, which) + 0.5 * at::randn({n, d});
  const at::Tensor scale = 0.5 + 3.5 * at::rand({n, 1});
  return (x / x.norm(2, 1, true) * scale).contiguous();
}

TEST(AnnIndex, FindsTheLargestNormItemWhereItIsTheBest) {
  const int64_t n = 3000, d = 16;
  at::Tensor items = clustered(n, d, 1);
  // Item 1234 gets the largest norm of all; queries near its direction have
  // it as their exact top-1, far ahead of the items of smaller norm.
  items[1234] = items[1234] / items[1234].norm() * 10.0;
  for (const AnnSpace space : {AnnSpace::kInnerProduct, AnnSpace::kL2Augmented}) {
    AnnParams p;
    p.space = space;
    const auto index = AnnIndex::build(items, p);
    EXPECT_NEAR(index->max_norm(), 10.0, 1e-5);
    at::manual_seed(7);
    int found = 0;
    for (int t = 0; t < 50; ++t) {
      const at::Tensor q = (items[1234] / 10.0 + 0.1 * at::randn({d})).contiguous();
      ASSERT_EQ(exact_top(items, q, 1)[0], 1234);
      found += index->search(q.data_ptr<float>(), 1)[0] == 1234;
    }
    EXPECT_EQ(found, 50) << name_of(space);
  }
}

TEST(AnnIndex, RecallAtTenAgainstExactTopK) {
  const int64_t n = 5000, d = 16, k = 10;
  const at::Tensor items = clustered(n, d, 2);
  const auto index = AnnIndex::build(items, AnnParams{});
  at::manual_seed(9);
  const at::Tensor queries = at::randn({200, d});
  int64_t hits = 0;
  for (int64_t t = 0; t < queries.size(0); ++t) {
    const at::Tensor q = queries[t].contiguous();
    const auto want = exact_top(items, q, k);
    const auto got = index->search(q.data_ptr<float>(), k);
    ASSERT_EQ(got.size(), static_cast<size_t>(k));
    const std::set<int32_t> truth(want.begin(), want.end());
    for (const int32_t i : got) hits += truth.count(i);
  }
  EXPECT_GE(static_cast<double>(hits) / (200.0 * k), 0.95);
}

TEST(AnnIndex, SavedIndexAnswersAsTheBuiltOne) {
  const at::Tensor items = clustered(800, 8, 3);
  AnnParams p;
  p.ef_search = 50;
  const auto built = AnnIndex::build(items, p);
  const std::string path = testing::fresh_dir("gnnrec_ann") + "/hnsw.bin";
  built->save(path);
  const auto loaded = AnnIndex::load(path, 8, built->max_norm(), p);
  EXPECT_EQ(loaded->size(), 800);
  at::manual_seed(4);
  for (int t = 0; t < 20; ++t) {
    const at::Tensor q = at::randn({8});
    EXPECT_EQ(loaded->search(q.data_ptr<float>(), 5), built->search(q.data_ptr<float>(), 5));
  }
  EXPECT_THROW(AnnIndex::build(at::zeros({0, 8}), p), std::invalid_argument);
  EXPECT_THROW(AnnIndex::build(at::full({3, 2}, NAN), p), std::invalid_argument);
}

}  // namespace
}  // namespace gnnrec
