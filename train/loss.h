// The training objective, chosen once per run from the configuration: the
// data loss of a batch of training pairs (u, i), with s = model.score():
//   --protocol ctr: mean binary cross-entropy with logits of the batch's
//        labelled training records (their own negatives, none sampled);
//   bpr: mean softplus(s(u, j) − s(u, i)), one uniform negative j per pair;
//   bce: mean binary cross-entropy with logits over the pairs (label 1) and
//        cfg.negatives uniform negatives per pair (label 0);
//   mse: mean (s(u, i) − rating)² over the pairs (rating mode, no negatives);
// plus cfg.reg times the L2 term of --reg-scope:
//   batch: ½ ‖ego embeddings of the batch's users and items‖² / batch size
//          (LightGCN's and NGCF's code);
//   full:  ½ ‖p‖² of every trained parameter tensor whole (KGCN's code).
// A model's batch_loss_term() (SimGCL's InfoNCE) is added to it. A model
// with a loss of its own (Model::has_own_loss, UltraGCN) replaces the data
// loss: own_loss() + cfg.reg · ½ ‖p‖² of every parameter whole, no
// negatives drawn; it takes neither --loss mse nor --protocol ctr. So does
// a model that makes its own batches (Model::own_batches, GRU4Rec): the
// trainer adds own_batch_loss()'s L2 to each of its batch losses.
#pragma once

#include <cstdint>
#include <vector>

#include <ATen/core/Tensor.h>

#include "models/model.h"
#include "train/config.h"

namespace gnnrec {

// One batch of training pairs, on the model's device: users and positives
// [n] int64; negatives [n, k] int64 (k = Objective::negatives()) or
// undefined when k is 0; targets [n] float32 (ratings in rating mode, labels
// under --protocol ctr) or undefined.
struct Batch {
  at::Tensor users, positives, negatives, targets;
  int64_t size() const { return users.size(0); }
};

class Objective {
 public:
  // Throws std::invalid_argument when `model` has its own loss and cfg asks
  // for rating mode or --protocol ctr.
  Objective(const TrainConfig& cfg, const Model& model);
  // Negatives to draw per training pair: BPR pairs each with one, BCE with
  // cfg.negatives; rating mode fits the ratings of the pairs themselves and
  // --protocol ctr's records carry their negatives: none is drawn.
  int64_t negatives() const { return negatives_; }
  // Whether batches carry targets (rating mode, --protocol ctr).
  bool uses_targets() const { return kind_ == Kind::kMse || kind_ == Kind::kCtr; }
  // The batch's loss, a differentiable scalar: data loss + reg · L2.
  at::Tensor operator()(Model& model, const std::vector<NamedTensor>& params,
                        const Batch& batch) const;
  // The loss of a batch a model made itself (Model::own_batches): its data
  // loss + reg · ½ ‖p‖² of every parameter whole.
  at::Tensor own_batch_loss(const std::vector<NamedTensor>& params,
                            const at::Tensor& data_loss) const;
  // Whether the data loss is BCE (a model's own batches: softmax
  // cross-entropy) rather than BPR.
  bool cross_entropy() const { return kind_ == Kind::kBce; }

 private:
  enum class Kind { kBpr, kBce, kMse, kCtr };
  // u and i: the representations of the batch's users and of its items
  // (positives, then negatives).
  at::Tensor data_loss(Model& model, const at::Tensor& u, const at::Tensor& i,
                       const Batch& batch) const;
  static at::Tensor full_l2(const std::vector<NamedTensor>& params,
                            const at::TensorOptions& options);
  at::Tensor l2(Model& model, const std::vector<NamedTensor>& params, const at::Tensor& items,
                const Batch& batch, const at::TensorOptions& options) const;

  Kind kind_;
  int64_t negatives_;
  double reg_;
  bool full_l2_;
  bool own_loss_;
};

}  // namespace gnnrec
