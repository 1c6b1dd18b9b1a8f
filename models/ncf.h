// Neural Collaborative Filtering (He et al., WWW 2017): `--model gmf`,
// `--model mlp` and `--model neumf`, as RecBole 1.2.1's NeuMF builds them.
//
// For user u and item i, with embeddings p_u, q_i (GMF's) and p'_u, q'_i
// (MLP's), each --dim wide (N(0, 0.01²) as the paper and RecBole):
//   GMF     φ = p_u ⊙ q_i
//   MLP     φ' = tower([p'_u; q'_i]), tower = --hidden layers of
//           dropout (--dropout) -> linear -> ReLU (default 2·dim, dim:
//           RecBole's 128, 64 for dim 64)
//   score   ŷ = hᵀ φ + b (gmf), hᵀ φ' + b (mlp), hᵀ [φ; φ'] + b (neumf): a
//           logit, trained by BCE with sampled negatives (--loss bce
//           --negatives 4: the paper's).
// The score is not a dot product of factors, so the models rank rows
// (Model::ranks_rows): a block of users against every item, the MLP's first
// layer split into its user and item halves (W [p'; q'] = W_u p' + W_i q'),
// computed once per user and per item, so that only the ReLU and the layers
// above it run per pair.
//
// Parameter names (shared by the three, so that NeuMF loads its halves by
// name): gmf.user_embedding, gmf.item_embedding, mlp.user_embedding,
// mlp.item_embedding, mlp.tower.K.weight / .bias, output.weight [1, w],
// output.bias [1].
#pragma once

#include <vector>

#include "models/model.h"

namespace gnnrec::ncf {

// NeuMF's pre-training (§3.4.1): copies the gmf.* parameters of a trained
// GMF and the mlp.* ones of a trained MLP (NamedTensors of their
// checkpoints) into `neumf`'s, and sets its output layer to
// h = [α h_GMF; (1 − α) h_MLP], b = α b_GMF + (1 − α) b_MLP (the paper's
// α = 0.5; RecBole's rule for the bias). Throws std::invalid_argument naming
// the tensor when one is missing or of another shape (another --dim,
// --hidden or data set).
void load_pretrained(Model& neumf, const std::vector<NamedTensor>& gmf,
                     const std::vector<NamedTensor>& mlp, double alpha = 0.5);

}  // namespace gnnrec::ncf
