// The pieces of UltraGCN's objective (models/ultragcn.cpp, where the model
// and the formulas are described), as functions of tensors of any floating
// dtype, so that tests check them in float64 (values and gradients).
#pragma once

#include <cstdint>
#include <utility>

#include <ATen/core/Tensor.h>

#include "graph/bipartite_graph.h"

namespace gnnrec {

// L_O of a batch of B pairs in G groups of P = ⌈B/G⌉ consecutive pairs (the
// last may be short), the pairs of a group sharing its R negatives: u and
// pos [B, d] the users' and positives' embeddings, neg [G, R, d] the
// negatives'; beta_u, beta_pos [B] and beta_neg [G, R] their β; W the
// negatives' weight. With g(b) = ⌊b/P⌋ the group of pair b:
//   Σ_b [ ω_b softplus(−u_b·pos_b) + W · (1/R) Σ_r ω_br softplus(u_b·neg_g(b),r) ]
// with ω_b = w1 + w2 β_u β_pos and ω_br = w3 + w4 β_u β_neg
// (w1 = w3 = 1e-6, w2 = w4 = 1). G = B is the paper's (every pair its own
// negatives), G = 1 one GEMM for the batch. Throws std::invalid_argument
// for a G that leaves a group empty.
at::Tensor ultragcn_constraint_loss(const at::Tensor& u, const at::Tensor& pos,
                                    const at::Tensor& neg, const at::Tensor& beta_u,
                                    const at::Tensor& beta_pos, const at::Tensor& beta_neg,
                                    double negative_weight);

// L_I of a batch: u [B, d], the embeddings of each pair's positive's
// neighbours nbr [B, K, d] and their weights w [B, K]:
//   −Σ_b Σ_k w_bk log σ(u_b · nbr_bk).
at::Tensor ultragcn_item_loss(const at::Tensor& u, const at::Tensor& nbr, const at::Tensor& w);

// The K item–item neighbours of every item and their weights (int64 [I, K],
// float32 [I, K]): the K largest ω_ij = √(g_i + 1)/g_i · (g_j + 1)^-1/2 ·
// G_ij over j (diagonal included), G = RᵀR and g_i = Σ_j G_ij, the larger
// weight first, ties to the lower item id; a row with fewer than K
// co-occurring items is padded with the item itself at weight 0. Throws
// std::invalid_argument for K outside [1, I].
std::pair<at::Tensor, at::Tensor> ultragcn_item_neighbors(const BipartiteGraph& g, int64_t k);

}  // namespace gnnrec
