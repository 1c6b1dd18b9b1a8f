// Two-Tower retrieval (Yi et al., RecSys 2019), `--model twotower`: a user
// tower and an item tower, each an MLP over the concatenated embeddings of
// its fields (models/feature_fields.h: the id, then the data set's side
// features; ids alone on data without features), --hidden layers (default
// 2·dim, dim; ReLU between them, the last linear), outputs L2-normalised:
// u = ‖f(x_u)‖⁻¹ f(x_u), v = ‖g(x_i)‖⁻¹ g(x_i). Trained by its own loss:
// the batch's pairs (u_k, i_k) as in-batch negatives of each other, with
// the log-Q correction of the sampling bias,
//   s_kj = u_k · v_j / τ − log Q(i_j),   Q(i) = count of i in training / pairs,
//   L    = mean_k −log softmax_j(s_kj)[k],
// τ = --cl-temperature (default 0.05, the paper's). The score is u · v:
// ranking() returns the towers' outputs, which `export` and `serve` take.
#include <algorithm>
#include <cmath>

#include <ATen/ATen.h>

#include "models/feature_fields.h"
#include "models/mlp_tower.h"
#include "models/model.h"

namespace gnnrec {
namespace {

class TwoTower : public Model {
 public:
  TwoTower(const ModelOptions& o, const PropagationGraph& g, at::Device device)
      : fields_(feature_fields(g, "twotower", /*require_side=*/false, device)),
        temperature_(o.cl_temperature.value_or(0.05)) {
    uint64_t stream = 1;
    for (const auto* side : {&fields_.user, &fields_.item}) {
      for (const FeatureField& f : *side) {
        embedding_.push_back(normal_parameter(f.vocabulary, o.dim, 0.01, o.seed, stream++, device));
      }
    }
    const std::vector<int64_t> widths =
        o.hidden.empty() ? std::vector<int64_t>{2 * o.dim, o.dim} : o.hidden;
    const double dropout = o.dropout.value_or(0);
    user_tower_ = make_mlp_tower(o.dim * static_cast<int64_t>(fields_.user.size()), widths, dropout,
                                 o.seed, 100, device);
    item_tower_ = make_mlp_tower(o.dim * static_cast<int64_t>(fields_.item.size()), widths, dropout,
                                 o.seed, 200, device);
    user_tower_.relu_last = item_tower_.relu_last = false;
    // log Q(i): an item's share of the training pairs (1 for one never seen:
    // it is never a batch's positive).
    const BipartiteGraph& bg = g.graph();
    std::vector<double> log_q(static_cast<size_t>(bg.num_items()));
    for (int64_t i = 0; i < bg.num_items(); ++i) {
      const double count = static_cast<double>(std::max<int64_t>(bg.item_degree(i), 1));
      log_q[static_cast<size_t>(i)] = std::log(count / static_cast<double>(bg.num_edges()));
    }
    log_q_ = at::tensor(log_q, at::kDouble).to(device, at::kFloat);
  }

  std::string name() const override { return "twotower"; }
  std::pair<at::Tensor, at::Tensor> forward() override {
    return {tower(fields_.user, 0, user_tower_),
            tower(fields_.item, fields_.user.size(), item_tower_)};
  }
  std::pair<at::Tensor, at::Tensor> ego(const at::Tensor& u, const at::Tensor& i) override {
    return {embedding_.front().index_select(0, u),
            embedding_[fields_.user.size()].index_select(0, i)};
  }
  bool has_own_loss() const override { return true; }
  at::Tensor own_loss(const at::Tensor& users, const at::Tensor& positives) override {
    auto [u, v] = represent(users, positives);
    return twotower_loss(u, v, log_q_.index_select(0, positives), temperature_);
  }
  std::vector<NamedTensor> parameters() override {
    std::vector<NamedTensor> p;
    size_t k = 0;
    for (const auto* side : {&fields_.user, &fields_.item}) {
      for (const FeatureField& f : *side) {
        p.push_back({std::string(side == &fields_.user ? "user." : "item.") + f.name + ".embedding",
                     embedding_[k++]});
      }
    }
    user_tower_.add_parameters("user_tower", &p);
    item_tower_.add_parameters("item_tower", &p);
    return p;
  }

  // The batch's in-batch softmax loss with the log-Q correction (above):
  // u, v [n, d] the pairs' tower outputs, log_q [n] of their items.
  static at::Tensor twotower_loss(const at::Tensor& u, const at::Tensor& v, const at::Tensor& log_q,
                                  double temperature) {
    const at::Tensor logits = at::matmul(u, v.t()) / temperature - log_q.unsqueeze(0);
    return at::cross_entropy_loss(logits, at::arange(u.size(0), u.options().dtype(at::kLong)));
  }

 private:
  at::Tensor tower(const std::vector<FeatureField>& side, size_t first, const MlpTower& t) const {
    std::vector<at::Tensor> x;
    for (size_t k = 0; k < side.size(); ++k)
      x.push_back(field_embedding(side[k], embedding_[first + k]));
    const at::Tensor y = t(at::cat(x, 1), training_);
    return y / y.norm(2, {1}, true).clamp_min(1e-12);
  }

  FeatureFields fields_;
  double temperature_;
  std::vector<at::Tensor> embedding_;  // user fields, then item fields
  MlpTower user_tower_, item_tower_;
  at::Tensor log_q_;
};

const ModelRegistrar kRegister("twotower", factory_of<TwoTower>(),
                               ModelDefaults().cl_temperature(0.05));

}  // namespace
}  // namespace gnnrec
