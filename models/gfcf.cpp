// GF-CF (Shen et al., CIKM 2021, "How Powerful is Graph Convolution for
// Recommendation?"): a training-free graph filter. With R the binary
// training matrix and R̃ = D_u^-1/2 R D_i^-1/2 (models/graph_filter.h), the
// scores of user u are
//   s_u = r_u R̃ᵀR̃ + α · r_u D_i^-1/2 U_k U_kᵀ D_i^1/2
// the linear low-pass filter plus α times the ideal low-pass filter of the
// k top right singular vectors U_k of R̃ (paper and authors' code: k 256,
// α 0.3; `--svd-rank`, `--ideal-weight`). r_u is the user's raw binary
// row, as in the authors' code. fit() and the row scoring are
// GraphFilterModel's; a block of users is scored as columns,
// R̃ᵀ(R̃ X) + α D^1/2 U_k (U_kᵀ D^-1/2 X), X the users' rows transposed.
#include <ATen/ATen.h>

#include "models/graph_filter.h"

namespace gnnrec {
namespace {

class GfCf : public GraphFilterModel {
 public:
  GfCf(const ModelOptions& o, const PropagationGraph& g, at::Device device)
      : GraphFilterModel(o, g, device), alpha_(o.ideal_weight.value()) {}

  std::string name() const override { return "gfcf"; }

 protected:
  at::Tensor score_columns(const at::Tensor& users) override {
    at::Tensor scores = gram(columns(users));
    if (alpha_ > 0) scores.add_(ideal(users), alpha_);
    return scores;
  }

 private:
  double alpha_;
};

const ModelRegistrar kRegister("gfcf", factory_of<GfCf>(),
                               ModelDefaults().svd_rank(256).ideal_weight(0.3));

}  // namespace
}  // namespace gnnrec
