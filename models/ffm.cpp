// Field-aware Factorization Machine (Juan et al., RecSys 2016), `--model
// ffm`, over the same fields as `fm` (models/feature_fields.h), as RecBole
// 1.2.1's FFM with each feature its own field: every value of field f has
// one latent vector v_{f,g} per field g (a table [vocabulary, F·d], slice g
// for g), and with w_f the (pooled) weight of field f
//   ŷ = w0 + Σ_f w_f + Σ_{f<g} v_{f,g} · v_{g,f},
// a logit trained by BCE with sampled negatives (--loss bce) or under
// --protocol ctr. Splitting the fields into the user's (U) and the item's
// (I), the cross pairs are one dot product,
//   ŷ = [v_{f,g}(u)]_{f∈U,g∈I} · [v_{g,f}(i)]_{f∈U,g∈I} + a_u + b_i,
//   a_u = Σ_{f∈U} w_f + Σ_{f<g∈U} v_{f,g}(u) · v_{g,f}(u),  b_i likewise + w0,
// so FFM, like FM, ranks and exports as a factor model, [cross; a_u; 1] and
// [cross; 1; b_i], |U|·|I|·d + 2 wide.
#include <ATen/ATen.h>

#include "models/feature_fields.h"
#include "models/model.h"

namespace gnnrec {
namespace {

constexpr double kInitStd = 0.01;

class FieldAwareFm : public Model {
 public:
  FieldAwareFm(const ModelOptions& o, const PropagationGraph& g, at::Device device)
      : fields_(feature_fields(g, "ffm", /*require_side=*/true, device)), dim_(o.dim),
        bias_(at::zeros({1}, at::TensorOptions(device).dtype(at::kFloat)).requires_grad_()) {
    const int64_t num_fields = static_cast<int64_t>(fields_.user.size() + fields_.item.size());
    uint64_t stream = 1;
    for (const auto* side : {&fields_.user, &fields_.item}) {
      for (const FeatureField& f : *side) {
        embedding_.push_back(
            normal_parameter(f.vocabulary, num_fields * o.dim, kInitStd, o.seed, stream++, device));
        linear_.push_back(normal_parameter(f.vocabulary, 1, kInitStd, o.seed, stream++, device));
      }
    }
  }

  std::string name() const override { return "ffm"; }
  std::pair<at::Tensor, at::Tensor> forward() override {
    const size_t nu = fields_.user.size();
    const std::vector<at::Tensor> vu = pooled(fields_.user, 0), vi = pooled(fields_.item, nu);
    std::vector<at::Tensor> cu, ci;
    for (size_t f = 0; f < nu; ++f) {
      for (size_t g = 0; g < vi.size(); ++g) {
        cu.push_back(slice(vu[f], nu + g));  // v_{f,g}(u)
        ci.push_back(slice(vi[g], f));       // v_{g,f}(i)
      }
    }
    const at::Tensor au = inner(fields_.user, vu, 0), bi = inner(fields_.item, vi, nu) + bias_;
    return {at::cat({at::cat(cu, 1), au, at::ones_like(au)}, 1),
            at::cat({at::cat(ci, 1), at::ones_like(bi), bi}, 1)};
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
  // Field g's d columns of the pooled [n, F·d] rows x.
  at::Tensor slice(const at::Tensor& x, size_t g) const {
    const int64_t begin = static_cast<int64_t>(g) * dim_;
    return x.slice(1, begin, begin + dim_);
  }
  // The pooled rows [n, F·d] of the fields side[k], tables from `first` on.
  std::vector<at::Tensor> pooled(const std::vector<FeatureField>& side, size_t first) const {
    std::vector<at::Tensor> v;
    for (size_t k = 0; k < side.size(); ++k) {
      v.push_back(field_embedding(side[k], embedding_[first + k]));
    }
    return v;
  }
  // [n, 1]: Σ_f w_f + Σ_{f<g} v_{f,g} · v_{g,f} within one side, whose
  // fields are the global fields first, first + 1, ...
  at::Tensor inner(const std::vector<FeatureField>& side, const std::vector<at::Tensor>& v,
                   size_t first) const {
    at::Tensor y = field_embedding(side[0], linear_[first]);
    for (size_t f = 0; f < side.size(); ++f) {
      if (f > 0) y = y + field_embedding(side[f], linear_[first + f]);
      for (size_t g = f + 1; g < side.size(); ++g) {
        y = y + (slice(v[f], first + g) * slice(v[g], first + f)).sum(1, true);
      }
    }
    return y;
  }

  FeatureFields fields_;
  int64_t dim_;
  std::vector<at::Tensor> embedding_, linear_;  // user fields, then item fields
  at::Tensor bias_;
};

const ModelRegistrar kRegister("ffm", factory_of<FieldAwareFm>());

}  // namespace
}  // namespace gnnrec
