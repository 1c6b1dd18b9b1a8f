#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <gtest/gtest.h>

#include "samplers/negative_sampler.h"

namespace gnnrec {
namespace {

// User 0 has items 0..9 of 50; user 1 has item 49; user 2 has every item.
BipartiteGraph graph() {
  Interactions x;
  for (int i = 0; i < 10; ++i) { x.user.push_back(0); x.item.push_back(i); }
  x.user.push_back(1);
  x.item.push_back(49);
  for (int i = 0; i < 50; ++i) { x.user.push_back(2); x.item.push_back(i); }
  return BipartiteGraph::build(3, 50, x);
}

TEST(NegativeSampler, NeverReturnsAPositiveAndIsUniform) {
  const BipartiteGraph g = graph();
  const int64_t n = 200000;
  const at::Tensor users = at::zeros({n}, at::kLong);
  const at::Tensor neg = sample_negatives(g, users, 1, 12345);
  ASSERT_EQ(neg.sizes(), (std::vector<int64_t>{n, 1}));
  const at::Tensor counts = at::bincount(neg.view({-1}), {}, 50);
  EXPECT_EQ(counts.narrow(0, 0, 10).sum().item<int64_t>(), 0) << "a positive item was sampled";
  // Chi-square over the 40 allowed items, expected n/40 each. The 0.999
  // quantile of chi-square with 39 degrees of freedom is 72.05.
  const double expected = static_cast<double>(n) / 40;
  const at::Tensor c = counts.narrow(0, 10, 40).to(at::kDouble);
  const double chi2 = ((c - expected).pow(2) / expected).sum().item<double>();
  EXPECT_LT(chi2, 72.05);
  EXPECT_GT(chi2, 1.0);  // not suspiciously even either
}

TEST(NegativeSampler, DeterministicAndThreadIndependent) {
  const BipartiteGraph g = graph();
  const at::Tensor users = at::arange(50000, at::kLong) % 2;
  const int saved = at::get_num_threads();
  at::set_num_threads(1);
  const at::Tensor a = sample_negatives(g, users, 3, 7);
  at::set_num_threads(2);
  const at::Tensor b = sample_negatives(g, users, 3, 7);
  at::set_num_threads(saved);
  EXPECT_TRUE(at::equal(a, b));
  EXPECT_FALSE(at::equal(a, sample_negatives(g, users, 3, 8)));
  // User 1 never gets item 49.
  EXPECT_EQ(a.index({users == 1}).eq(49).sum().item<int64_t>(), 0);
}

TEST(NegativeSampler, ClearErrors) {
  const BipartiteGraph g = graph();
  EXPECT_THROW(sample_negatives(g, at::tensor(std::vector<int64_t>{2}), 1, 1), std::invalid_argument);
  try {
    sample_negatives(g, at::tensor(std::vector<int64_t>{2}), 1, 1);
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("user 2 has interacted with every item"), std::string::npos);
  }
  EXPECT_THROW(sample_negatives(g, at::tensor(std::vector<int64_t>{0}), 0, 1), std::invalid_argument);
  EXPECT_THROW(sample_negatives(g, at::tensor(std::vector<int64_t>{3}), 1, 1), std::invalid_argument);
}

}  // namespace
}  // namespace gnnrec
