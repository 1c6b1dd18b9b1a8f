// GRU4Rec (models/gru4rec.h) against references written out here: each
// user's items in time order and the session-parallel steps on hand-worked
// examples; the GRU step and the step losses against scalar float64 loops,
// with gradcheck; the model's ranking states against the GRU run over each
// user's sequence by the same loops, and its first training step's loss
// against the reference loss over every session's first item.
#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "models/gru4rec.h"
#include "models/model.h"
#include "tests/testing/gradcheck.h"

namespace gnnrec {
namespace {

double sigmoid(double x) { return 1 / (1 + std::exp(-x)); }

// h' for one row by loops: x = the item's gate row, W [3d, d].
std::vector<double> cell_reference(const at::Tensor& x, const std::vector<double>& h,
                                   const at::Tensor& w, const at::Tensor& bi,
                                   const at::Tensor& bh) {
  const auto d = static_cast<int64_t>(h.size());
  auto gate = [&](int64_t row) {  // (input part, hidden part) of gate row `row`
    double hid = bh[row].item<double>();
    for (int64_t k = 0; k < d; ++k) hid += w[row][k].item<double>() * h[static_cast<size_t>(k)];
    return std::make_pair(x[row].item<double>() + bi[row].item<double>(), hid);
  };
  std::vector<double> out(static_cast<size_t>(d));
  for (int64_t j = 0; j < d; ++j) {
    const auto [ir, hr] = gate(j);
    const auto [iz, hz] = gate(d + j);
    const auto [in, hn] = gate(2 * d + j);
    const double r = sigmoid(ir + hr), z = sigmoid(iz + hz);
    const double n = std::tanh(in + r * hn);
    out[static_cast<size_t>(j)] = (1 - z) * n + z * h[static_cast<size_t>(j)];
  }
  return out;
}

double step_loss_reference(const std::vector<std::vector<double>>& h,
                           const std::vector<int64_t>& target, const at::Tensor& out,
                           const at::Tensor& bias, bool cross_entropy) {
  const auto n = h.size();
  auto item_score = [&](size_t r, int64_t i) {
    double s = bias[i].item<double>();
    for (size_t k = 0; k < h[r].size(); ++k) {
      s += h[r][k] * out[i][static_cast<int64_t>(k)].item<double>();
    }
    return s;
  };
  auto score = [&](size_t r, size_t c) { return item_score(r, target[c]); };
  double total = 0;
  for (size_t r = 0; r < n; ++r) {
    if (cross_entropy) {  // over every item
      double z = 0;
      for (int64_t i = 0; i < out.size(0); ++i) z += std::exp(item_score(r, i));
      total += std::log(z) - score(r, r);
    } else {
      for (size_t c = 0; c < n; ++c) {
        if (c != r) total += std::log1p(std::exp(score(r, c) - score(r, r)));
      }
    }
  }
  return total / static_cast<double>(cross_entropy ? n : n * (n - 1));
}

std::vector<double> row_of(const at::Tensor& t) {
  const at::Tensor c = t.to(at::kDouble).contiguous();
  return {c.data_ptr<double>(), c.data_ptr<double>() + c.numel()};
}

TEST(Gru4Rec, ItemsInTimeOrderTiesByItem) {
  Interactions x;
  x.user = {0, 0, 0, 1, 1};
  x.item = {5, 2, 7, 3, 1};
  x.timestamp = {30, 10, 20, 5, 5};
  const auto seq = time_ordered_items(BipartiteGraph::build(3, 8, x));
  EXPECT_EQ(seq, (std::vector<std::vector<int32_t>>{{2, 7, 5}, {1, 3}, {}}));
  x.timestamp.clear();
  EXPECT_THROW(time_ordered_items(BipartiteGraph::build(3, 8, x)), std::invalid_argument);
}

TEST(Gru4Rec, SessionParallelStepsByHand) {
  // Sessions 0..3 of lengths 3, 1, 2, 4 in the order 3, 1, 0, 2 over two
  // slots: session 1 has no next item; slot 1 runs session 0 then 2.
  const auto steps = session_parallel_steps({3, 1, 2, 4}, {3, 1, 0, 2}, 2);
  ASSERT_EQ(steps.size(), 3u);
  EXPECT_EQ(steps[0].slot, (std::vector<int64_t>{0, 1}));
  EXPECT_EQ(steps[0].session, (std::vector<int64_t>{3, 0}));
  EXPECT_EQ(steps[0].position, (std::vector<int64_t>{0, 0}));
  EXPECT_EQ(steps[0].fresh, (std::vector<bool>{true, true}));
  EXPECT_EQ(steps[1].session, (std::vector<int64_t>{3, 0}));
  EXPECT_EQ(steps[1].position, (std::vector<int64_t>{1, 1}));
  EXPECT_EQ(steps[1].fresh, (std::vector<bool>{false, false}));
  EXPECT_EQ(steps[2].slot, (std::vector<int64_t>{0, 1}));
  EXPECT_EQ(steps[2].session, (std::vector<int64_t>{3, 2}));
  EXPECT_EQ(steps[2].position, (std::vector<int64_t>{2, 0}));
  EXPECT_EQ(steps[2].fresh, (std::vector<bool>{false, true}));
  // Every (item, next item) pair once: 2 + 0 + 1 + 3 rows.
  size_t rows = 0;
  for (const auto& s : session_parallel_steps({5, 2, 7, 1, 3}, {4, 3, 2, 1, 0}, 3)) {
    rows += s.slot.size();
  }
  EXPECT_EQ(rows, 4u + 1 + 6 + 0 + 2);
}

TEST(Gru4Rec, CellAndStepLossesAreTheirLoopsAndGradcheck) {
  const int64_t d = 3, items = 6;
  const at::Tensor gates = at::randn({items, 3 * d}, at::kDouble);
  const at::Tensor w = at::randn({3 * d, d}, at::kDouble) * 0.5;
  const at::Tensor bi = at::randn({3 * d}, at::kDouble), bh = at::randn({3 * d}, at::kDouble);
  const at::Tensor h = at::randn({4, d}, at::kDouble);
  const at::Tensor idx = at::tensor(std::vector<int64_t>{2, 0, 5, 2}, at::kLong);
  const at::Tensor next = gru4rec_cell(idx, h, gates, w, bi, bh);
  for (int64_t r = 0; r < 4; ++r) {
    const auto ref = cell_reference(gates[idx[r].item<int64_t>()], row_of(h[r]), w, bi, bh);
    for (int64_t j = 0; j < d; ++j) EXPECT_NEAR(next[r][j].item<double>(), ref[j], 1e-12);
  }
  const at::Tensor out = at::randn({items, d}, at::kDouble), bias = at::randn({items}, at::kDouble);
  const std::vector<int64_t> target{1, 4, 3, 0};
  const at::Tensor t = at::tensor(target, at::kLong);
  std::vector<std::vector<double>> hs;
  for (int64_t r = 0; r < 4; ++r) hs.push_back(row_of(h[r]));
  for (bool ce : {false, true}) {
    EXPECT_NEAR(gru4rec_step_loss(h, t, out, bias, ce).item<double>(),
                step_loss_reference(hs, target, out, bias, ce), 1e-12);
    testing::gradcheck(
        [&](const std::vector<at::Tensor>& p) {
          return gru4rec_step_loss(gru4rec_cell(idx, p[0], p[1], p[2], p[3], p[4]), t, p[5], p[6],
                                   ce);
        },
        {h, gates, w, bi, bh, out, bias});
  }
}

// A tiny data set with timestamps: user u's items in the order of `seq`.
std::shared_ptr<const BipartiteGraph> sequences_graph(const std::vector<std::vector<int32_t>>& seq,
                                                      int64_t items) {
  Interactions x;
  for (size_t u = 0; u < seq.size(); ++u) {
    for (size_t k = 0; k < seq[u].size(); ++k) {
      x.user.push_back(static_cast<int32_t>(u));
      x.item.push_back(seq[u][k]);
      x.timestamp.push_back(static_cast<int64_t>(100 - 10 * k));  // written newest first
    }
  }
  return std::make_shared<const BipartiteGraph>(
      BipartiteGraph::build(static_cast<int64_t>(seq.size()), items, x));
}

TEST(Gru4Rec, ModelRanksByStatesAfterEachSequenceAndTrainsOnItsSteps) {
  // Timestamps decrease along each list, so time order is the list reversed.
  const std::vector<std::vector<int32_t>> written{{4, 1, 0}, {2, 3}, {}, {5, 0, 2, 1}};
  const PropagationGraph pg(sequences_graph(written, 6));
  ModelOptions o;
  o.dim = 4;
  o.dropout = 0.0;
  auto model = make_model("gru4rec", o, pg, at::kCPU);
  std::map<std::string, at::Tensor> p;
  for (const auto& t : model->parameters()) p[t.name] = t.tensor.detach().to(at::kDouble);
  auto [P, Q] = model->ranking();
  ASSERT_EQ(P.sizes(), (at::IntArrayRef{4, 5}));
  const at::Tensor scores = at::mm(P, Q.t());
  for (size_t u = 0; u < written.size(); ++u) {
    std::vector<double> h(4, 0.0);
    for (auto it = written[u].rbegin(); it != written[u].rend(); ++it) {
      h = cell_reference(p["item_gates"][*it], h, p["hidden_gates"], p["input_bias"],
                         p["hidden_bias"]);
    }
    for (int64_t i = 0; i < 6; ++i) {
      double s = p["output_bias"][i].item<double>();
      for (int64_t k = 0; k < 4; ++k) s += h[k] * p["output"][i][k].item<double>();
      EXPECT_NEAR(scores[static_cast<int64_t>(u)][i].item<double>(), s, 1e-5) << u << " " << i;
    }
  }
  // The first step of an epoch with every session in its own slot feeds each
  // session's first item from a zero state: its loss (invariant to the
  // rows' order) is the reference over the three sessions.
  std::vector<std::vector<double>> hs;
  std::vector<int64_t> target;
  for (const auto& s : written) {
    if (s.size() < 2) continue;
    hs.push_back(cell_reference(p["item_gates"][s.back()], std::vector<double>(4, 0.0),
                                p["hidden_gates"], p["input_bias"], p["hidden_bias"]));
    target.push_back(s[s.size() - 2]);
  }
  for (bool ce : {false, true}) {
    std::vector<double> losses;
    model->own_epoch(7, 8, ce, [&](const at::Tensor& loss) {
      losses.push_back(loss.item<double>());
      return losses.back();
    });
    // Rows per step 3, 2 and 1 (skipped: nothing to contrast): two steps.
    ASSERT_EQ(losses.size(), 2u);
    EXPECT_NEAR(losses[0], step_loss_reference(hs, target, p["output"], p["output_bias"], ce),
                1e-5);
  }
  EXPECT_THROW(model->own_epoch(7, 1, false, [](const at::Tensor&) { return 0.0; }),
               std::invalid_argument);
}

}  // namespace
}  // namespace gnnrec
