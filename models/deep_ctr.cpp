// The click-through-rate networks over the users' and items' categorical
// fields (models/feature_fields.h), as RecBole 1.2.1 builds them, with
// x0 = [v_1; …; v_F] the concatenated (pooled) field embeddings of a pair,
// user fields first:
//   `--model widedeep` (Cheng et al., DLRS 2016):
//       ŷ = w0 + Σ_f w_f + hᵀ MLP(x0) + b,
//       MLP = --hidden layers of dropout -> linear -> ReLU (32, 16, 8)
//   `--model dcn` (Wang et al., ADKDD 2017):
//       cross x_{l+1} = x0 (x_lᵀ w_l) + b_l + x_l, --layers of them (RecBole 6),
//       ŷ = hᵀ [x_L; MLP(x0)] + b,  MLP --hidden (256, 256, 256)
// logits trained by BCE with sampled negatives (--loss bce) or under
// --protocol ctr. A pair's network is not a dot product: they rank rows
// (Model::ranking_rows), the pairs of a block of users with every item.
// represent() returns [x0's user part; Σ_{f∈U} w_f] and [x0's item part;
// Σ_{f∈I} w_f] (the wide sums only in widedeep).
#include <algorithm>

#include <ATen/ATen.h>

#include "models/feature_fields.h"
#include "models/mlp_tower.h"
#include "models/model.h"

namespace gnnrec {
namespace {

constexpr int64_t kRankingBlock = int64_t{1} << 22;  // pairs per step of ranking_rows

class DeepCtr : public Model {
 public:
  enum class Kind { kWideDeep, kDcn };

  DeepCtr(Kind kind, const ModelOptions& o, const PropagationGraph& g, at::Device device)
      : kind_(kind), fields_(feature_fields(g, kind == Kind::kDcn ? "dcn" : "widedeep",
                                            /*require_side=*/true, device)),
        dim_(o.dim) {
    const at::TensorOptions f32 = at::TensorOptions(device).dtype(at::kFloat);
    uint64_t stream = 1;
    for (const auto* side : {&fields_.user, &fields_.item}) {
      for (const FeatureField& f : *side) {
        embedding_.push_back(normal_parameter(f.vocabulary, o.dim, 0.01, o.seed, stream++, device));
        if (kind_ == Kind::kWideDeep) {
          linear_.push_back(normal_parameter(f.vocabulary, 1, 0.01, o.seed, stream++, device));
        }
      }
    }
    const int64_t width = o.dim * static_cast<int64_t>(fields_.user.size() + fields_.item.size());
    const std::vector<int64_t> widths = !o.hidden.empty() ? o.hidden
                                        : kind_ == Kind::kWideDeep
                                            ? std::vector<int64_t>{32, 16, 8}
                                            : std::vector<int64_t>{256, 256, 256};
    deep_ = make_mlp_tower(width, widths, o.dropout.value_or(0), o.seed, 100, device);
    int64_t out_in = widths.back();
    if (kind_ == Kind::kDcn) {
      for (int64_t l = 0; l < o.layers; ++l) {
        cross_w_.push_back(xavier_parameter({width}, width, 1, o.seed, 200 + l, device));
        cross_b_.push_back(at::zeros({width}, f32).requires_grad_());
      }
      out_in += width;
    } else {
      bias_ = at::zeros({1}, f32).requires_grad_();
    }
    output_ = layers::make_linear(out_in, 1, true, o.seed, 300, device);
  }

  std::string name() const override { return kind_ == Kind::kDcn ? "dcn" : "widedeep"; }
  std::pair<at::Tensor, at::Tensor> forward() override {
    return {half(fields_.user, 0), half(fields_.item, fields_.user.size())};
  }
  std::pair<at::Tensor, at::Tensor> ego(const at::Tensor& u, const at::Tensor& i) override {
    return {embedding_.front().index_select(0, u),
            embedding_[fields_.user.size()].index_select(0, i)};
  }
  at::Tensor score(const at::Tensor& u, const at::Tensor& i) override;
  bool ranks_rows() const override { return true; }
  bool has_pair_scores() const override { return true; }
  at::Tensor ranking_rows(const at::Tensor& users) override {
    at::NoGradGuard no_grad;
    auto [U, I] = forward();
    const at::Tensor u = U.index_select(0, users.to(U.device()));
    const int64_t n = u.size(0), items = I.size(0);
    const int64_t step = std::max<int64_t>(1, kRankingBlock / std::max<int64_t>(items, 1));
    std::vector<at::Tensor> rows;
    for (int64_t r = 0; r < n; r += step) {
      const int64_t len = std::min(step, n - r);
      const at::Tensor pu = u.narrow(0, r, len).repeat_interleave(items, 0);
      rows.push_back(score(pu, I.repeat({len, 1})).reshape({len, items}));
    }
    return at::cat(rows, 0);
  }
  std::vector<NamedTensor> parameters() override;

 private:
  // [n, F·d (+1)]: the side's field embeddings, then (widedeep) Σ w_f.
  at::Tensor half(const std::vector<FeatureField>& side, size_t first) const {
    std::vector<at::Tensor> x;
    at::Tensor wide;
    for (size_t k = 0; k < side.size(); ++k) {
      x.push_back(field_embedding(side[k], embedding_[first + k]));
      if (kind_ == Kind::kWideDeep) {
        const at::Tensor w = field_embedding(side[k], linear_[first + k]);
        wide = k == 0 ? w : wide + w;
      }
    }
    if (wide.defined()) x.push_back(wide);
    return at::cat(x, 1);
  }

  Kind kind_;
  FeatureFields fields_;
  int64_t dim_;
  std::vector<at::Tensor> embedding_, linear_;  // user fields, then item fields
  MlpTower deep_;
  std::vector<at::Tensor> cross_w_, cross_b_;
  layers::Linear output_;
  at::Tensor bias_;
};

at::Tensor DeepCtr::score(const at::Tensor& u, const at::Tensor& i) {
  const bool wide = kind_ == Kind::kWideDeep;
  const int64_t wu = dim_ * static_cast<int64_t>(fields_.user.size());
  const int64_t wi = dim_ * static_cast<int64_t>(fields_.item.size());
  const at::Tensor x0 = at::cat({u.narrow(1, 0, wu), i.narrow(1, 0, wi)}, 1);
  const at::Tensor deep = deep_(x0, training_);
  if (wide) {
    return output_(deep).squeeze(-1) + u.select(1, wu) + i.select(1, wi) + bias_;
  }
  at::Tensor x = x0;
  for (size_t l = 0; l < cross_w_.size(); ++l) {
    x = x0 * at::matmul(x, cross_w_[l]).unsqueeze(1) + cross_b_[l] + x;
  }
  return output_(at::cat({x, deep}, 1)).squeeze(-1);
}

std::vector<NamedTensor> DeepCtr::parameters() {
  std::vector<NamedTensor> p = field_parameters(
      fields_, embedding_, kind_ == Kind::kWideDeep ? linear_ : std::vector<at::Tensor>{});
  deep_.add_parameters("deep", &p);
  for (size_t l = 0; l < cross_w_.size(); ++l) {
    p.push_back({"cross." + std::to_string(l) + ".weight", cross_w_[l]});
    p.push_back({"cross." + std::to_string(l) + ".bias", cross_b_[l]});
  }
  p.push_back({"output.weight", output_.weight});
  p.push_back({"output.bias", output_.bias});
  if (bias_.defined()) p.push_back({"bias", bias_});
  return p;
}

std::unique_ptr<Model> make(DeepCtr::Kind kind, const ModelOptions& o, const PropagationGraph& g,
                            at::Device d) {
  return std::make_unique<DeepCtr>(kind, o, g, d);
}

const ModelRegistrar kWideDeep(
    "widedeep",
    [](const ModelOptions& o, const PropagationGraph& g, at::Device d) {
      return make(DeepCtr::Kind::kWideDeep, o, g, d);
    },
    ModelDefaults().dropout(0.1));
const ModelRegistrar kDcn(
    "dcn",
    [](const ModelOptions& o, const PropagationGraph& g, at::Device d) {
      return make(DeepCtr::Kind::kDcn, o, g, d);
    },
    ModelDefaults().dropout(0.2));

}  // namespace
}  // namespace gnnrec
