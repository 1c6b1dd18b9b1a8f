// GRU4Rec's pieces that tests check on their own: each user's items in time
// order, and the session-parallel mini-batches (Hidasi et al., ICLR 2016,
// section 3.1.1 and its Figure 2). The model itself is in gru4rec.cpp.
#pragma once

#include <cstdint>
#include <vector>

#include <ATen/core/Tensor.h>

#include "graph/bipartite_graph.h"

namespace gnnrec {

// Each user's training items ordered by timestamp (ties: the smaller item
// id first; a user's items are unique in the graph). Throws
// std::invalid_argument when the graph has no timestamps.
std::vector<std::vector<int32_t>> time_ordered_items(const BipartiteGraph& g);

// One step of session-parallel training: row r feeds item `position[r]` of
// session `session[r]` and predicts the item after it; its hidden state is
// slot `slot[r]`'s, reset to zero where `fresh[r]` (the session starts).
struct SessionStep {
  std::vector<int64_t> slot, session, position;
  std::vector<bool> fresh;
};

// The steps of one epoch over sessions of the given lengths, taken in
// `order` (sessions shorter than 2 have no next item and are skipped):
// `slots` sessions run side by side, one item per step; a slot whose
// session has no next item takes the next session of `order`, and when none
// is left it drops out, so the last steps have fewer rows and every
// (item, next item) pair is fed exactly once. (The reference code ends the
// epoch when the first slot finds no session left, dropping the others'
// tails.)
std::vector<SessionStep> session_parallel_steps(const std::vector<int64_t>& lengths,
                                                const std::vector<int64_t>& order, int64_t slots);

// The GRU step for items [n] (int64) and hidden states h [n, d], with the
// one-hot input's gate table item_gates [I, 3d] and hidden_gates [3d, d]
// (PyTorch's GRUCell equations, gates in the order r, z, n):
//   r = σ(x_r + h W_r + b), z = σ(x_z + h W_z + b), n = tanh(x_n + r ⊙ (h W_n + b_hn)),
//   h' = (1 − z) ⊙ n + z ⊙ h.
at::Tensor gru4rec_cell(const at::Tensor& items, const at::Tensor& h, const at::Tensor& item_gates,
                        const at::Tensor& hidden_gates, const at::Tensor& input_bias,
                        const at::Tensor& hidden_bias);

// The loss of one session-parallel step: row r's hidden state h [n, d]
// scores every row's target (target [n]) through the output table [I, d]
// and bias [I], s_rc = h_r·W_{t_c} + b_{t_c}; row r's own target is its
// positive, the others' its negatives (n >= 2). BPR: the mean of
// softplus(s_rc − s_rr) over the n(n − 1) pairs c ≠ r. Cross-entropy: the
// mean over rows of −log softmax over all I items of h_r·Wᵀ + b, at t_r
// (RecBole's GRU4Rec loss; the paper found its in-batch form unstable).
at::Tensor gru4rec_step_loss(const at::Tensor& h, const at::Tensor& target,
                             const at::Tensor& output, const at::Tensor& output_bias,
                             bool cross_entropy);

}  // namespace gnnrec
