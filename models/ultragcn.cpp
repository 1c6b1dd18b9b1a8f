// UltraGCN (Mao et al., CIKM 2021, "UltraGCN: Ultra Simplification of Graph
// Convolutional Networks for Recommendation"): user and item embeddings
// scored by their dot product, trained by a loss that approximates an
// infinite-layer graph convolution through constraints, as the authors'
// code (github.com/xue-pai/UltraGCN, main.py) computes it. For a batch of
// training pairs (u, i) with negatives j (R per pair, --negative-ratio):
//   L_O = Σ_(u,i) [ ω_ui · softplus(−e_u·e_i)
//                  + W · mean_j ( ω_uj · softplus(e_u·e_j) ) ]
//         ω_ui = w1 + w2 · β_u β_i,  ω_uj = w3 + w4 · β_u β_j,
//         β_u = √(d_u + 1) / d_u,  β_i = 1 / √(d_i + 1)
//   L_I = Σ_(u,i) Σ_(j ∈ S(i)) −ω_ij · log σ(e_u·e_j)
//         S(i): the K items with the largest ω_ij = g_i^-1 √(g_i + 1) ·
//         (g_j + 1)^-1/2 · G_ij in the item–item co-occurrence matrix
//         G = RᵀR (diagonal kept, as the authors' default), g its row sums;
//         computed once, at construction (--ii-neighbors K)
//   loss = L_O + λ · L_I   (--ii-weight λ; W is --negative-weight)
// with w1 = w3 = 1e-6 and w2 = w4 = 1 (the authors' Gowalla setting), plus
// the trainer's --reg times ½ Σ‖p‖² over both tables (UltraGCN's γ and its
// norm loss). Embeddings start N(0, 1e-4²) (their initial_weight).
//
// The cost is the negatives: 1500 per pair on Gowalla in the paper, drawn
// independently for every pair (uniform over all items, positives not
// excluded, as the authors' sampling_sift_pos = no). Here each group of
// --negative-share consecutive pairs of a batch (shuffled) shares one draw
// of R negatives, so that the group's scores are one GEMM [P, d] x [d, R]
// and a batch gathers ⌈B/P⌉·R embedding rows instead of B·R. Each pair
// still sees R uniform negatives and the loss has the same expectation.
// What sharing changes is how the negatives' gradient reaches the items:
// with one draw per batch of 512 (P = 512) an item is a negative in 1 batch
// of 27 on Gowalla, with a gradient 27 times as large, and Adam's
// second moment, which sees those spikes, shrinks its steps about √27 ≈ 5
// times; with P = 8 (64 draws a batch) an item is drawn 2.3 times a batch
// (the paper's per-pair draws: 18.7 times), often enough for Adam to see a
// steady gradient. The draws come from Torch's global generator, which the
// trainer seeds per epoch (train/epoch.cpp), so --resume reproduces an
// uninterrupted run.
#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <vector>

#include "models/model.h"
#include "models/ultragcn.h"

namespace gnnrec {
namespace {

constexpr double kW1 = 1e-6, kW2 = 1.0, kW3 = 1e-6, kW4 = 1.0;
constexpr double kInitialWeight = 1e-4;

class UltraGcn : public Model {
 public:
  UltraGcn(const ModelOptions& o, const PropagationGraph& pg, at::Device device)
      : negatives_(o.negative_ratio.value()), share_(o.negative_share.value()),
        negative_weight_(o.negative_weight.value()), ii_weight_(o.ii_weight.value()),
        num_items_(pg.graph().num_items()),
        users_(normal_parameter(pg.graph().num_users(), o.dim, kInitialWeight, o.seed, 21, device)),
        items_(normal_parameter(num_items_, o.dim, kInitialWeight, o.seed, 22, device)) {
    const BipartiteGraph& g = pg.graph();
    const auto beta = [&](int64_t n, auto degree, bool user) {
      std::vector<float> b(static_cast<size_t>(n));
      for (int64_t x = 0; x < n; ++x) {
        const double d = static_cast<double>(degree(x));
        // A user without training items gets no constraint weight
        // (the authors' code divides by zero there).
        b[x] = user ? (d > 0 ? static_cast<float>(std::sqrt(d + 1) / d) : 0.0f)
                    : static_cast<float>(1 / std::sqrt(d + 1));
      }
      return at::tensor(b, at::kFloat).to(device);
    };
    beta_user_ = beta(
        g.num_users(), [&](int64_t u) { return g.user_degree(u); }, true);
    beta_item_ = beta(
        num_items_, [&](int64_t i) { return g.item_degree(i); }, false);
    auto [nbr, weight] = ultragcn_item_neighbors(g, o.ii_neighbors.value());
    ii_neighbor_ = nbr.to(device);
    ii_weight_of_ = weight.to(device);
  }

  std::string name() const override { return "ultragcn"; }
  std::pair<at::Tensor, at::Tensor> forward() override { return {users_, items_}; }
  std::pair<at::Tensor, at::Tensor> ego(const at::Tensor& u, const at::Tensor& i) override {
    return {users_.index_select(0, u), items_.index_select(0, i)};
  }
  std::vector<NamedTensor> parameters() override {
    return {{"user_embedding", users_}, {"item_embedding", items_}};
  }

  bool has_own_loss() const override { return true; }
  at::Tensor own_loss(const at::Tensor& users, const at::Tensor& positives) override {
    const int64_t B = users.size(0), groups = (B + share_ - 1) / share_, d = items_.size(1);
    const at::Tensor negatives = at::randint(num_items_, {groups, negatives_},
                                             at::TensorOptions(users.device()).dtype(at::kLong));
    const at::Tensor nbr = ii_neighbor_.index_select(0, positives);  // [B, K]
    const int64_t K = nbr.size(1), R = groups * negatives_;
    // One gather of every item row the batch reads (positives, negatives,
    // neighbours), so that the backward pass scatters into one dense
    // gradient of the item table, not three.
    const at::Tensor rows =
        items_.index_select(0, at::cat({positives, negatives.reshape({-1}), nbr.reshape({-1})}));
    const at::Tensor neg = rows.narrow(0, B, R).view({groups, negatives_, d});
    const at::Tensor nbr_emb = rows.narrow(0, B + R, B * K).view({B, K, d});
    const at::Tensor u = users_.index_select(0, users);
    return ultragcn_constraint_loss(
               u, rows.narrow(0, 0, B), neg, beta_user_.index_select(0, users),
               beta_item_.index_select(0, positives),
               beta_item_.index_select(0, negatives.reshape({-1})).view_as(negatives),
               negative_weight_) +
           ultragcn_item_loss(u, nbr_emb, ii_weight_of_.index_select(0, positives)) * ii_weight_;
  }

 private:
  int64_t negatives_, share_;
  double negative_weight_, ii_weight_;
  int64_t num_items_;
  at::Tensor users_, items_;
  at::Tensor beta_user_, beta_item_;       // float32 [U], [I]
  at::Tensor ii_neighbor_, ii_weight_of_;  // int64 [I, K], float32 [I, K]
};

const ModelRegistrar kRegister("ultragcn", factory_of<UltraGcn>(),
                               ModelDefaults()
                                   .negative_ratio(1500)
                                   .negative_share(8)
                                   .negative_weight(300)
                                   .ii_neighbors(10)
                                   .ii_weight(5e-4));

}  // namespace

at::Tensor ultragcn_constraint_loss(const at::Tensor& u, const at::Tensor& pos,
                                    const at::Tensor& neg, const at::Tensor& beta_u,
                                    const at::Tensor& beta_pos, const at::Tensor& beta_neg,
                                    double negative_weight) {
  const int64_t B = u.size(0), G = neg.size(0), R = neg.size(1);
  const int64_t P = (B + G - 1) / std::max<int64_t>(G, 1);
  if (G < 1 || (G - 1) * P >= B) {
    throw std::invalid_argument("ultragcn: " + std::to_string(G) + " groups of negatives for " +
                                std::to_string(B) + " pairs leave a group empty");
  }
  // The users padded to G·P rows, one GEMM [P, d] x [d, R] per group; the
  // padding's scores are dropped.
  const at::Tensor up = G * P == B ? u : at::constant_pad_nd(u, {0, 0, 0, G * P - B});
  const at::Tensor neg_scores =
      at::bmm(up.view({G, P, -1}), neg.transpose(1, 2)).view({G * P, R}).narrow(0, 0, B);
  const at::Tensor beta_pair_neg = beta_neg.repeat_interleave(P, 0).narrow(0, 0, B);  // [B, R]
  const at::Tensor pos_w = kW1 + kW2 * beta_u * beta_pos;
  const at::Tensor neg_w = kW3 + kW4 * beta_u.unsqueeze(1) * beta_pair_neg;  // [B, R]
  return (pos_w * at::softplus(-(u * pos).sum(1))).sum() +
         (neg_w * at::softplus(neg_scores)).mean(1).sum() * negative_weight;
}

at::Tensor ultragcn_item_loss(const at::Tensor& u, const at::Tensor& nbr, const at::Tensor& w) {
  const at::Tensor s = at::matmul(nbr, u.unsqueeze(2)).squeeze(2);  // [B, K]
  return -(w * at::log_sigmoid(s)).sum();
}

std::pair<at::Tensor, at::Tensor> ultragcn_item_neighbors(const BipartiteGraph& g, int64_t k) {
  const int64_t I = g.num_items();
  if (k < 1 || k > I) {
    throw std::invalid_argument("--ii-neighbors must be in [1, " + std::to_string(I) +
                                "] (the number of items), got " + std::to_string(k));
  }
  const auto& io = g.item_offsets();
  const auto& iu = g.item_users();
  const auto& uo = g.user_offsets();
  const auto& ui = g.user_items();
  // g_i = Σ_j G_ij = Σ_{u ∋ i} d_u.
  std::vector<double> rowsum(static_cast<size_t>(I), 0.0);
  for (int64_t i = 0; i < I; ++i) {
    for (int64_t e = io[i]; e < io[i + 1]; ++e) {
      rowsum[i] += static_cast<double>(uo[iu[e] + 1] - uo[iu[e]]);
    }
  }
  at::Tensor nbr = at::empty({I, k}, at::kLong);
  at::Tensor weight = at::zeros({I, k}, at::kFloat);
  int64_t* np = nbr.data_ptr<int64_t>();
  float* wp = weight.data_ptr<float>();
  std::vector<int64_t> count(static_cast<size_t>(I), 0);
  std::vector<int32_t> touched;
  std::vector<std::pair<double, int32_t>> row;
  for (int64_t i = 0; i < I; ++i) {
    // Row i of G, sparse: the co-occurrence counts of i with every item.
    touched.clear();
    for (int64_t e = io[i]; e < io[i + 1]; ++e) {
      const int32_t u = iu[e];
      for (int64_t f = uo[u]; f < uo[u + 1]; ++f) {
        if (count[ui[f]]++ == 0) touched.push_back(ui[f]);
      }
    }
    row.clear();
    const double left = rowsum[i] > 0 ? std::sqrt(rowsum[i] + 1) / rowsum[i] : 0.0;
    for (const int32_t j : touched) {
      row.emplace_back(left / std::sqrt(rowsum[j] + 1) * static_cast<double>(count[j]), j);
      count[j] = 0;
    }
    // The k largest, ties to the lower item id; rows with fewer than k
    // co-occurring items are padded with item i at weight 0.
    const auto n = std::min<int64_t>(k, static_cast<int64_t>(row.size()));
    std::partial_sort(row.begin(), row.begin() + n, row.end(), [](const auto& a, const auto& b) {
      return a.first != b.first ? a.first > b.first : a.second < b.second;
    });
    for (int64_t s = 0; s < k; ++s) {
      np[i * k + s] = s < n ? row[s].second : i;
      wp[i * k + s] = s < n ? static_cast<float>(row[s].first) : 0.0f;
    }
  }
  return {nbr, weight};
}

}  // namespace gnnrec
