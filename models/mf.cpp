// BPR-MF (Rendle et al., 2009): a user and an item embedding table; the
// score is their dot product.
#include <ATen/ATen.h>

#include "models/model.h"

namespace gnnrec {
namespace {

class MatrixFactorization : public Model {
 public:
  MatrixFactorization(const ModelOptions& o, const PropagationGraph& g, at::Device device)
      : users_(normal_parameter(g.graph().num_users(), o.dim, o.init_std, o.seed, 1, device)),
        items_(normal_parameter(g.graph().num_items(), o.dim, o.init_std, o.seed, 2, device)) {}

  std::string name() const override { return "mf"; }
  Sharding sharding() const override { return {Sharding::Kind::kTables}; }
  std::pair<at::Tensor, at::Tensor> forward() override { return {users_, items_}; }
  std::pair<at::Tensor, at::Tensor> ego(const at::Tensor& u, const at::Tensor& i) override {
    return {users_.index_select(0, u), items_.index_select(0, i)};
  }
  std::vector<NamedTensor> parameters() override {
    return {{"user_embedding", users_}, {"item_embedding", items_}};
  }

 private:
  at::Tensor users_, items_;
};

const ModelRegistrar kRegister("mf", factory_of<MatrixFactorization>());

}  // namespace
}  // namespace gnnrec
