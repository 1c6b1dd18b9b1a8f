#include "train/loss.h"

#include <stdexcept>
#include <string>

#include <ATen/ATen.h>

namespace gnnrec {
namespace {

// Whether the model computes its data loss itself (UltraGCN's, GRU4Rec's).
bool owns_loss(const Model& model) { return model.has_own_loss() || model.own_batches(); }

}  // namespace

Objective::Objective(const TrainConfig& cfg, const Model& model)
    : kind_(cfg.ctr()                ? Kind::kCtr
            : cfg.loss == Loss::kBpr ? Kind::kBpr
            : cfg.loss == Loss::kBce ? Kind::kBce
                                     : Kind::kMse),
      negatives_(owns_loss(model)      ? 0
                 : kind_ == Kind::kBpr ? 1
                 : kind_ == Kind::kBce ? cfg.negatives
                                       : 0),
      reg_(cfg.reg.value()), full_l2_(cfg.reg_scope == RegScope::kFull || owns_loss(model)),
      own_loss_(model.has_own_loss()) {
  if (owns_loss(model) && (kind_ == Kind::kMse || kind_ == Kind::kCtr)) {
    throw std::invalid_argument("--model " + model.name() +
                                " trains by its own ranking loss: it takes neither --loss mse "
                                "nor --protocol ctr");
  }
}

at::Tensor Objective::operator()(Model& model, const std::vector<NamedTensor>& params,
                                 const Batch& batch) const {
  if (own_loss_) {
    const at::Tensor loss = model.own_loss(batch.users, batch.positives);
    return loss + reg_ * l2(model, params, batch.positives, batch, loss.options());
  }
  // The batch's items: its positives, then each pair's negatives in pair order.
  const at::Tensor items =
      negatives_ > 0 ? at::cat({batch.positives, batch.negatives.reshape({-1})}) : batch.positives;
  auto [u, i] = model.represent(batch.users, items);
  at::Tensor loss = data_loss(model, u, i, batch);
  if (const at::Tensor term = model.batch_loss_term(batch.users, batch.positives); term.defined()) {
    loss = loss + term;
  }
  return loss + reg_ * l2(model, params, items, batch, loss.options());
}

at::Tensor Objective::own_batch_loss(const std::vector<NamedTensor>& params,
                                     const at::Tensor& data_loss) const {
  return data_loss + reg_ * full_l2(params, data_loss.options());
}

at::Tensor Objective::data_loss(Model& model, const at::Tensor& u, const at::Tensor& i,
                                const Batch& batch) const {
  const int64_t n = batch.size();
  const at::Tensor pos = model.score(u, i.narrow(0, 0, n));
  switch (kind_) {
    case Kind::kMse: return at::mse_loss(pos, batch.targets);
    case Kind::kCtr: return at::binary_cross_entropy_with_logits(pos, batch.targets);
    case Kind::kBpr:
    case Kind::kBce: break;
  }
  // Each user's representation repeated for its negatives, aligned with
  // them (BPR's single negative takes u as it is).
  const at::Tensor u_neg = negatives_ == 1 ? u : u.repeat_interleave(negatives_, 0);
  const at::Tensor neg = model.score(u_neg, i.narrow(0, n, n * negatives_));
  if (kind_ == Kind::kBpr) return at::softplus(neg - pos).mean();
  const at::Tensor logits = at::cat({pos, neg});
  const at::Tensor labels = at::cat({at::ones_like(pos), at::zeros_like(neg)});
  return at::binary_cross_entropy_with_logits(logits, labels);
}

at::Tensor Objective::l2(Model& model, const std::vector<NamedTensor>& params,
                         const at::Tensor& items, const Batch& batch,
                         const at::TensorOptions& options) const {
  if (full_l2_) return full_l2(params, options);
  auto [eu, ei] = model.ego(batch.users, items);
  return (eu.pow(2).sum() + ei.pow(2).sum()) * (0.5 / static_cast<double>(batch.size()));
}

at::Tensor Objective::full_l2(const std::vector<NamedTensor>& params,
                              const at::TensorOptions& options) {
  at::Tensor l2 = at::zeros({}, options);
  for (const auto& p : params) {
    // State kept as a parameter for the checkpoint (Mult-VAE's update count) is not trained.
    if (p.tensor.requires_grad()) l2 = l2 + p.tensor.pow(2).sum() * 0.5;
  }
  return l2;
}

}  // namespace gnnrec
