// Knowledge-graph embedding objectives: TransE (Bordes et al., 2013) and
// TransR (Lin et al., 2015) distances, the margin ranking loss over
// corrupted triples, and the corruption itself. Plain ATen compositions
// (differentiable, any device, float32 or float64); models combine them
// with their own embedding tables.
//
// A triple (h, r, t) is plausible when its distance is small:
//   TransE  d(h, r, t) = ‖ĥ + r − t̂‖_p          ĥ = h / ‖h‖₂ (L2-normalised entities)
//   TransR  d(h, r, t) = ‖ĥ_r + r − t̂_r‖₂²      h_r = M_r h, ĥ_r = h_r / ‖h_r‖₂
// with p = 1 or 2 (TransE's L1 or L2 dissimilarity). The normalisation
// replaces the papers' projection of entities onto the unit ball after each
// step: it is part of the graph, so any optimiser keeps it. A zero vector
// normalises to zero (the norm is clamped at 1e-12).
#pragma once

#include <cstdint>
#include <utility>

#include <ATen/core/Tensor.h>

namespace gnnrec::kg {

// h, r, t: [n, d] rows of the triples' head, relation and tail embeddings.
// Returns [n] distances. Throws std::invalid_argument for p other than 1, 2.
at::Tensor transe_distance(const at::Tensor& h, const at::Tensor& r, const at::Tensor& t,
                           int64_t p = 2);

// h, t: [n, d] entity rows; r: [n, k] relation rows; m: [n, k, d] each
// triple's relation projection M_r (index_select of a [R, k, d] table).
// Returns [n] squared distances.
at::Tensor transr_distance(const at::Tensor& h, const at::Tensor& r, const at::Tensor& t,
                           const at::Tensor& m);

// The margin ranking loss mean(max(0, margin + d_pos − d_neg)) over aligned
// positive and corrupted distances ([n] each).
at::Tensor margin_ranking_loss(const at::Tensor& d_pos, const at::Tensor& d_neg, double margin);

// Corrupted copies of triples (heads, tails: int64 [n] on any device): for
// each triple either the head or the tail (probability ½ each) is replaced by
// an entity drawn uniformly from [0, num_entities), from a CPU generator
// seeded with `seed` (the same draws on every device). Returns (heads',
// tails') on the input's device. A draw may reproduce a true triple, as in
// the papers' uniform corruption.
std::pair<at::Tensor, at::Tensor> corrupt(const at::Tensor& heads, const at::Tensor& tails,
                                          int64_t num_entities, uint64_t seed);

}  // namespace gnnrec::kg
