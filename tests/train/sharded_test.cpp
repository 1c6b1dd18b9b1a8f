// Sharded embeddings (train/sharded.h): which rows a rank asks of whom
// (plan_rows) against hand-worked examples, and one step of the sharded
// tables in one process against the same step on the whole tables (float64).
#include <vector>

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "train/adam.h"
#include "train/config.h"
#include "train/loss.h"
#include "train/sharded.h"

namespace gnnrec {
namespace {

std::vector<int64_t> values(const at::Tensor& t) {
  const at::Tensor c = t.contiguous();
  return {c.data_ptr<int64_t>(), c.data_ptr<int64_t>() + c.numel()};
}

TEST(PlanRows, HandWorkedThreeRanks) {
  // 10 rows over 3 ranks: [0, 3), [3, 6), [6, 10).
  const at::Tensor ids = at::tensor({7, 2, 7, 9, 3, 0}, at::kLong).view({3, 2});
  const RowRequests r = plan_rows(ids, 10, 3);
  EXPECT_EQ(values(r.rows), (std::vector<int64_t>{0, 2, 3, 7, 9}));
  EXPECT_EQ(values(r.inverse), (std::vector<int64_t>{3, 1, 3, 4, 2, 0}));
  EXPECT_EQ(r.counts, (std::vector<int64_t>{2, 1, 2}));
}

TEST(PlanRows, EmptySharesOwnNothing) {
  // 2 rows over 4 ranks: [0, 0), [0, 1), [1, 1), [1, 2).
  const RowRequests r = plan_rows(at::tensor({1, 0, 1}, at::kLong), 2, 4);
  EXPECT_EQ(values(r.rows), (std::vector<int64_t>{0, 1}));
  EXPECT_EQ(values(r.inverse), (std::vector<int64_t>{1, 0, 1}));
  EXPECT_EQ(r.counts, (std::vector<int64_t>{0, 1, 0, 1}));
}

TEST(PlanRows, NoIdsAskNothing) {
  const RowRequests r = plan_rows(at::empty({0}, at::kLong), 5, 2);
  EXPECT_EQ(r.rows.numel(), 0);
  EXPECT_EQ(r.counts, (std::vector<int64_t>{0, 0}));
}

// MF over two given tables (the whole-table reference).
class TablesModel : public Model {
 public:
  TablesModel(at::Tensor u, at::Tensor i) : u_(std::move(u)), i_(std::move(i)) {}
  std::string name() const override { return "mf"; }
  std::pair<at::Tensor, at::Tensor> forward() override { return {u_, i_}; }
  std::pair<at::Tensor, at::Tensor> ego(const at::Tensor& u, const at::Tensor& i) override {
    return {u_.index_select(0, u), i_.index_select(0, i)};
  }
  std::vector<NamedTensor> parameters() override {
    return {{"user_embedding", u_}, {"item_embedding", i_}};
  }

 private:
  at::Tensor u_, i_;
};

TEST(ShardedEmbeddings, OneShardStepEqualsTheWholeTablesStep) {
  at::manual_seed(7);
  const at::Tensor users0 = at::randn({5, 3}, at::kDouble), items0 = at::randn({6, 3}, at::kDouble);
  TrainConfig cfg;
  cfg.reg = 0.1;
  Batch batch;
  batch.users = at::tensor({0, 3, 3, 1}, at::kLong);
  batch.positives = at::tensor({2, 5, 2, 0}, at::kLong);
  batch.negatives = at::tensor({1, 4, 2, 3}, at::kLong).view({4, 1});

  // Reference: BPR + batch L2 on the whole tables, one Adam step.
  TablesModel whole(users0.clone().requires_grad_(true), items0.clone().requires_grad_(true));
  auto whole_params = whole.parameters();
  const Objective objective(cfg, whole);
  Adam whole_adam({whole_params[0].tensor, whole_params[1].tensor}, 0.01);
  const at::Tensor expected_loss = objective(whole, whole_params, batch);
  expected_loss.backward();
  whole_adam.step();

  // Sharded, one shard: rows fetched, their gradients given back.
  TablesModel model(users0.clone().requires_grad_(true), items0.clone().requires_grad_(true));
  auto params = model.parameters();
  Adam adam({params[0].tensor, params[1].tensor}, 0.01);
  ShardedEmbeddings sharded(params, adam, 0.01, nullptr);
  sharded.release();
  EXPECT_EQ(params[0].tensor.numel(), 0);
  const at::Tensor loss = sharded.local_loss(objective, batch, 0, 4, "test");
  loss.backward();
  EXPECT_DOUBLE_EQ(sharded.return_gradients(loss, "test").item<double>(),
                   expected_loss.item<double>());
  sharded.step();
  sharded.gather();
  EXPECT_TRUE(at::allclose(params[0].tensor, whole_params[0].tensor, 0, 1e-15));
  EXPECT_TRUE(at::allclose(params[1].tensor, whole_params[1].tensor, 0, 1e-15));
  EXPECT_TRUE(at::allclose(adam.exp_avg()[0], whole_adam.exp_avg()[0], 0, 1e-15));
  EXPECT_TRUE(at::allclose(adam.exp_avg_sq()[1], whole_adam.exp_avg_sq()[1], 0, 1e-15));
  EXPECT_EQ(adam.steps(), 1);
  // 11 rows x 3 float64 values, with two moments each.
  EXPECT_EQ(sharded.bytes_per_rank(), 3 * 11 * 3 * 8);
  EXPECT_EQ(sharded.bytes_replicated(), sharded.bytes_per_rank());
}

}  // namespace
}  // namespace gnnrec
