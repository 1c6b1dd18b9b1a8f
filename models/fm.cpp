// Factorization Machine (Rendle, ICDM 2010), `--model fm`, over the users'
// and items' categorical fields (models/feature_fields.h), as RecBole
// 1.2.1's FM: with v_f the (pooled) embedding and w_f the (pooled) weight of
// field f,
//   ŷ = w0 + Σ_f w_f + ½ Σ_k [(Σ_f v_f,k)² − Σ_f v_f,k²],
// a logit trained by BCE with sampled negatives (--loss bce) or under
// --protocol ctr. Splitting the fields into the user's (U) and the item's
// (I), with S_u = Σ_{f∈U} v_f and S_i likewise,
//   ŷ = S_u · S_i + a_u + b_i,
//   a_u = Σ_{f∈U} w_f + ½(‖S_u‖² − Σ_{f∈U} ‖v_f‖²),  b_i likewise + w0,
// a dot product of the factors [S_u; a_u; 1] and [S_i; 1; b_i]: FM ranks
// and exports as a factor model.
#include <ATen/ATen.h>

#include "models/feature_fields.h"
#include "models/model.h"

namespace gnnrec {
namespace {

constexpr double kInitStd = 0.01;

class FactorizationMachine : public Model {
 public:
  FactorizationMachine(const ModelOptions& o, const PropagationGraph& g, at::Device device)
      : fields_(feature_fields(g, "fm", /*require_side=*/true, device)),
        bias_(at::zeros({1}, at::TensorOptions(device).dtype(at::kFloat)).requires_grad_()) {
    uint64_t stream = 1;
    for (const auto* side : {&fields_.user, &fields_.item}) {
      for (const FeatureField& f : *side) {
        embedding_.push_back(
            normal_parameter(f.vocabulary, o.dim, kInitStd, o.seed, stream++, device));
        linear_.push_back(normal_parameter(f.vocabulary, 1, kInitStd, o.seed, stream++, device));
      }
    }
  }

  std::string name() const override { return "fm"; }
  std::pair<at::Tensor, at::Tensor> forward() override {
    const auto [su, au] = half(fields_.user, 0);
    const auto [si, bi] = half(fields_.item, fields_.user.size());
    const at::Tensor ones_u = at::ones_like(au), ones_i = at::ones_like(bi);
    return {at::cat({su, au, ones_u}, 1), at::cat({si, ones_i, bi + bias_}, 1)};
  }
  // The id fields' embedding rows.
  std::pair<at::Tensor, at::Tensor> ego(const at::Tensor& u, const at::Tensor& i) override {
    return {embedding_.front().index_select(0, u),
            embedding_[fields_.user.size()].index_select(0, i)};
  }
  std::vector<NamedTensor> parameters() override {
    std::vector<NamedTensor> p = field_parameters(fields_, embedding_, linear_);
    p.push_back({"bias", bias_});
    return p;
  }

 private:
  // S [n, d] and a [n, 1] of the fields side[k], tables from `first` on.
  std::pair<at::Tensor, at::Tensor> half(const std::vector<FeatureField>& side,
                                         size_t first) const {
    at::Tensor s, squares, linear;
    for (size_t k = 0; k < side.size(); ++k) {
      const at::Tensor v = field_embedding(side[k], embedding_[first + k]);
      const at::Tensor w = field_embedding(side[k], linear_[first + k]);
      s = k == 0 ? v : s + v;
      squares = k == 0 ? v.pow(2).sum(1, true) : squares + v.pow(2).sum(1, true);
      linear = k == 0 ? w : linear + w;
    }
    return {s, linear + 0.5 * (s.pow(2).sum(1, true) - squares)};
  }

  FeatureFields fields_;
  std::vector<at::Tensor> embedding_, linear_;  // user fields, then item fields
  at::Tensor bias_;
};

const ModelRegistrar kRegister("fm", factory_of<FactorizationMachine>());

}  // namespace
}  // namespace gnnrec
