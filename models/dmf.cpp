// Deep Matrix Factorization (Xue et al., IJCAI 2017), `--model dmf`, as
// RecBole 1.2.1's DMF builds it (its 0/1 interaction matrix Y):
//   user u:  p_u = tower_U(W_U Y[u, :]ᵀ),   W_U [dim, I], no bias
//   item i:  q_i = tower_I(W_I Y[:, i]),    W_I [dim, U], no bias
//   towers:  --hidden layers of linear -> ReLU (default dim, dim: RecBole's
//            64, 64)
//   ŷ_ui = max(cos(p_u, q_i), 1e-6), trained by the paper's normalised
//            cross-entropy, which for 0/1 targets is BCE on ŷ with sampled
//            negatives (--loss bce).
// score() returns logit(ŷ) (ŷ also clamped below 1 − 1e-6), so that the
// trainer's BCE with logits is BCE on ŷ. The first layers are one product
// over the unified user–item adjacency (gnnrec::spmm): row u of A·X sums
// X's item rows of u's items, row U + i sums X's user rows of i's users,
// with X = [W_Iᵀ; W_Uᵀ]. Ranking is by cosine, a dot product of the
// normalised tower outputs (ranking()), equal in order to ŷ's except that
// ŷ ties every item below 1e-6.
#include <ATen/ATen.h>

#include "models/mlp_tower.h"
#include "models/model.h"

namespace gnnrec {
namespace {

constexpr double kFloor = 1e-6;

class Dmf : public Model {
 public:
  Dmf(const ModelOptions& o, const PropagationGraph& g, at::Device device)
      : num_users_(g.graph().num_users()),
        adj_(g.adjacency(Normalization::kNone, /*self_loops=*/false, at::kFloat, device)),
        user_linear_(xavier_parameter({o.dim, g.graph().num_items()}, g.graph().num_items(), o.dim,
                                      o.seed, 1, device)),
        item_linear_(xavier_parameter({o.dim, num_users_}, num_users_, o.dim, o.seed, 2, device)) {
    const std::vector<int64_t> widths =
        o.hidden.empty() ? std::vector<int64_t>{o.dim, o.dim} : o.hidden;
    user_tower_ = make_mlp_tower(o.dim, widths, 0, o.seed, 10, device);
    item_tower_ = make_mlp_tower(o.dim, widths, 0, o.seed, 20, device);
  }

  std::string name() const override { return "dmf"; }
  // The towers' outputs p [U, d'] and q [I, d'] (not normalised).
  std::pair<at::Tensor, at::Tensor> forward() override {
    const at::Tensor first = adj_.matmul(at::cat({item_linear_.t(), user_linear_.t()}, 0));
    return {user_tower_(first.narrow(0, 0, num_users_), training_),
            item_tower_(first.narrow(0, num_users_, first.size(0) - num_users_), training_)};
  }
  // A user's ego row is its column of W_I, an item's its column of W_U: the
  // rows of X.
  std::pair<at::Tensor, at::Tensor> ego(const at::Tensor& u, const at::Tensor& i) override {
    return {item_linear_.t().index_select(0, u), user_linear_.t().index_select(0, i)};
  }
  at::Tensor score(const at::Tensor& u, const at::Tensor& i) override {
    const at::Tensor y = at::cosine_similarity(u, i, 1, 1e-8).clamp(kFloor, 1 - kFloor);
    return at::log(y) - at::log1p(-y);
  }
  std::pair<at::Tensor, at::Tensor> ranking() override {
    auto [p, q] = forward();
    const auto unit = [](const at::Tensor& x) { return x / x.norm(2, {1}, true).clamp_min(1e-12); };
    return {unit(p), unit(q)};
  }
  std::vector<NamedTensor> parameters() override {
    std::vector<NamedTensor> p{{"user_linear.weight", user_linear_},
                               {"item_linear.weight", item_linear_}};
    user_tower_.add_parameters("user_tower", &p);
    item_tower_.add_parameters("item_tower", &p);
    return p;
  }

 private:
  int64_t num_users_;
  SparseAdjacency adj_;
  at::Tensor user_linear_, item_linear_;
  MlpTower user_tower_, item_tower_;
};

const ModelRegistrar kRegister("dmf", factory_of<Dmf>());

}  // namespace
}  // namespace gnnrec
