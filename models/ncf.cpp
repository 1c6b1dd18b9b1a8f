#include "models/ncf.h"

#include <algorithm>
#include <map>
#include <stdexcept>
#include <string>

#include <ATen/ATen.h>

#include "models/mlp_tower.h"

namespace gnnrec {
namespace {

// Pairs (user, item) whose MLP activations one step of ranking_rows holds,
// [users, items, width] floats at most this many.
constexpr int64_t kRankingBlock = int64_t{1} << 24;
constexpr double kEmbeddingStd = 0.01;

std::string shape_text(at::IntArrayRef s) {
  std::string out = "[";
  for (size_t k = 0; k < s.size(); ++k) out += (k ? ", " : "") + std::to_string(s[k]);
  return out + "]";
}

class Ncf : public Model {
 public:
  enum class Kind { kGmf, kMlp, kNeuMf };

  Ncf(Kind kind, const ModelOptions& o, const PropagationGraph& g, at::Device device)
      : kind_(kind), gmf_dim_(kind == Kind::kMlp ? 0 : o.dim),
        mlp_dim_(kind == Kind::kGmf ? 0 : o.dim) {
    const int64_t U = g.graph().num_users(), I = g.graph().num_items();
    const at::TensorOptions f32 = at::TensorOptions(device).dtype(at::kFloat);
    gmf_users_ = gmf_dim_ ? normal_parameter(U, gmf_dim_, kEmbeddingStd, o.seed, 1, device)
                          : at::empty({U, 0}, f32);
    gmf_items_ = gmf_dim_ ? normal_parameter(I, gmf_dim_, kEmbeddingStd, o.seed, 2, device)
                          : at::empty({I, 0}, f32);
    mlp_users_ = mlp_dim_ ? normal_parameter(U, mlp_dim_, kEmbeddingStd, o.seed, 3, device)
                          : at::empty({U, 0}, f32);
    mlp_items_ = mlp_dim_ ? normal_parameter(I, mlp_dim_, kEmbeddingStd, o.seed, 4, device)
                          : at::empty({I, 0}, f32);
    int64_t out_in = gmf_dim_;
    if (mlp_dim_) {
      const std::vector<int64_t> widths =
          o.hidden.empty() ? std::vector<int64_t>{2 * o.dim, o.dim} : o.hidden;
      tower_ = make_mlp_tower(2 * mlp_dim_, widths, o.dropout.value_or(0), o.seed, 10, device);
      out_in += widths.back();
    }
    output_ = layers::make_linear(out_in, 1, true, o.seed, 5, device);
  }

  std::string name() const override {
    return kind_ == Kind::kGmf ? "gmf" : kind_ == Kind::kMlp ? "mlp" : "neumf";
  }
  // Every user's and item's embeddings, GMF's then MLP's ([U, dg + dm],
  // [I, dg + dm]): what score() takes.
  std::pair<at::Tensor, at::Tensor> forward() override {
    return {at::cat({gmf_users_, mlp_users_}, 1), at::cat({gmf_items_, mlp_items_}, 1)};
  }
  std::pair<at::Tensor, at::Tensor> represent(const at::Tensor& u, const at::Tensor& i) override {
    return {at::cat({gmf_users_.index_select(0, u), mlp_users_.index_select(0, u)}, 1),
            at::cat({gmf_items_.index_select(0, i), mlp_items_.index_select(0, i)}, 1)};
  }
  std::pair<at::Tensor, at::Tensor> ego(const at::Tensor& u, const at::Tensor& i) override {
    return represent(u, i);
  }
  at::Tensor score(const at::Tensor& u, const at::Tensor& i) override {
    std::vector<at::Tensor> h;
    if (gmf_dim_) h.push_back(u.narrow(1, 0, gmf_dim_) * i.narrow(1, 0, gmf_dim_));
    if (mlp_dim_) {
      h.push_back(
          tower_(at::cat({u.narrow(1, gmf_dim_, mlp_dim_), i.narrow(1, gmf_dim_, mlp_dim_)}, 1),
                 training_));
    }
    return output_(at::cat(h, 1)).squeeze(-1);
  }
  std::pair<at::Tensor, at::Tensor> ranking() override {
    throw std::logic_error("--model " + name() +
                           " has no factors: its scores are ranked by rows (Model::ranking_rows)");
  }
  bool ranks_rows() const override { return true; }
  bool has_pair_scores() const override { return true; }
  at::Tensor ranking_rows(const at::Tensor& users) override;

  std::vector<NamedTensor> parameters() override {
    std::vector<NamedTensor> p;
    if (gmf_dim_) {
      p.push_back({"gmf.user_embedding", gmf_users_});
      p.push_back({"gmf.item_embedding", gmf_items_});
    }
    if (mlp_dim_) {
      p.push_back({"mlp.user_embedding", mlp_users_});
      p.push_back({"mlp.item_embedding", mlp_items_});
      tower_.add_parameters("mlp.tower", &p);
    }
    p.push_back({"output.weight", output_.weight});
    p.push_back({"output.bias", output_.bias});
    return p;
  }

 private:
  // The MLP half's contribution hᵀ_MLP φ' for users × every item, [n, I].
  at::Tensor mlp_rows(const at::Tensor& users) const;

  Kind kind_;
  int64_t gmf_dim_, mlp_dim_;
  at::Tensor gmf_users_, gmf_items_, mlp_users_, mlp_items_;
  MlpTower tower_;
  layers::Linear output_;
};

at::Tensor Ncf::ranking_rows(const at::Tensor& users) {
  const at::Tensor u = users.to(gmf_users_.device());
  const at::Tensor h = output_.weight[0];  // [dg + h_last]
  at::Tensor scores = output_.bias.expand({u.size(0), gmf_items_.size(0)}).clone();
  if (gmf_dim_) {
    scores += at::matmul(gmf_users_.index_select(0, u) * h.narrow(0, 0, gmf_dim_), gmf_items_.t());
  }
  if (mlp_dim_) scores += mlp_rows(u);
  return scores;
}

at::Tensor Ncf::mlp_rows(const at::Tensor& users) const {
  const layers::Linear& first = tower_.layers.front();
  const int64_t n = users.size(0), I = mlp_items_.size(0), width = first.weight.size(0);
  // W [p'; q'] + b = (W_u p' + b) + W_i q'.
  const at::Tensor a = at::linear(mlp_users_.index_select(0, users),
                                  first.weight.narrow(1, 0, mlp_dim_), first.bias);  // [n, w]
  const at::Tensor b = at::linear(mlp_items_, first.weight.narrow(1, mlp_dim_, mlp_dim_));
  const at::Tensor h = output_.weight[0].narrow(0, gmf_dim_, output_.weight.size(1) - gmf_dim_);
  MlpTower rest = tower_;
  rest.layers.erase(rest.layers.begin());
  const int64_t step = std::max<int64_t>(1, kRankingBlock / std::max<int64_t>(1, I * width));
  std::vector<at::Tensor> rows;
  for (int64_t r = 0; r < n; r += step) {
    const int64_t len = std::min(step, n - r);
    const at::Tensor x = at::relu(a.narrow(0, r, len).unsqueeze(1) + b.unsqueeze(0));
    rows.push_back(at::matmul(rest(x.reshape({len * I, width}), false), h).reshape({len, I}));
  }
  return at::cat(rows, 0);
}

const ModelRegistrar kGmf("gmf",
                          [](const ModelOptions& o, const PropagationGraph& g,
                             at::Device d) -> std::unique_ptr<Model> {
                            return std::make_unique<Ncf>(Ncf::Kind::kGmf, o, g, d);
                          });
const ModelRegistrar kMlp(
    "mlp",
    [](const ModelOptions& o, const PropagationGraph& g, at::Device d) -> std::unique_ptr<Model> {
      return std::make_unique<Ncf>(Ncf::Kind::kMlp, o, g, d);
    },
    ModelDefaults().dropout(0.1));
const ModelRegistrar kNeuMf(
    "neumf",
    [](const ModelOptions& o, const PropagationGraph& g, at::Device d) -> std::unique_ptr<Model> {
      return std::make_unique<Ncf>(Ncf::Kind::kNeuMf, o, g, d);
    },
    ModelDefaults().dropout(0.1));

}  // namespace

namespace ncf {

void load_pretrained(Model& neumf, const std::vector<NamedTensor>& gmf,
                     const std::vector<NamedTensor>& mlp, double alpha) {
  const auto find = [](const std::vector<NamedTensor>& from, const std::string& what,
                       const std::string& name) {
    for (const auto& t : from) {
      if (t.name == name) return t.tensor;
    }
    throw std::invalid_argument("--pretrain: the " + what + " run has no tensor " + name +
                                " (is it a " + what + " run?)");
  };
  at::NoGradGuard no_grad;
  const std::vector<NamedTensor> params = neumf.parameters();
  std::map<std::string, at::Tensor> value;
  for (const auto& p : params) {
    if (p.name.rfind("gmf.", 0) == 0) value[p.name] = find(gmf, "gmf", p.name);
    if (p.name.rfind("mlp.", 0) == 0) value[p.name] = find(mlp, "mlp", p.name);
  }
  const at::Tensor hg = find(gmf, "gmf", "output.weight"), hm = find(mlp, "mlp", "output.weight");
  value["output.weight"] = at::cat({alpha * hg, (1 - alpha) * hm}, 1);
  value["output.bias"] =
      alpha * find(gmf, "gmf", "output.bias") + (1 - alpha) * find(mlp, "mlp", "output.bias");
  for (const auto& p : params) {
    const at::Tensor& v = value.at(p.name);
    if (v.sizes() != p.tensor.sizes()) {
      throw std::invalid_argument("--pretrain: " + p.name + " is " + shape_text(v.sizes()) +
                                  " in the pre-trained runs, " + shape_text(p.tensor.sizes()) +
                                  " in neumf (same --dim, --hidden and data needed)");
    }
    p.tensor.copy_(v);
  }
}

}  // namespace ncf
}  // namespace gnnrec
