// Graph layers shared by the models, written on the gnnrec operators. Each
// follows the formula of its paper in the form PyTorch Geometric uses, so
// that a layer here and its PyG counterpart give the same numbers for the
// same weights (tests/pyg checks this):
//   GCN   (GCNConv):  y = Â x Wᵀ + b,  Â = D^-1/2 (A+I) D^-1/2
//   SAGE  (SAGEConv): y = W_l · agg_{j∈N(i)} h_j + b_l + W_r · x_i,
//                     h_j = x_j (mean, max, lstm) or ReLU(W_p x_j + b_p) (pool)
//   GAT   (GATConv):  α_ij = softmax_j LeakyReLU(a_dstᵀ W x_i + a_srcᵀ W x_j),
//                     y_i = ∥ or mean over heads of Σ_j α_ij W x_j, + b
//   NGCF  (Wang et al. 2019): y = LeakyReLU(W1 (x + L x) + b1 + W2 (L x ⊙ x) + b2)
//
// Sparse inputs are SparseAdjacency CSR matrices whose row r is the
// destination node aggregating over its columns (the sources).
#pragma once

#include <string>
#include <vector>

#include <ATen/core/Tensor.h>

#include "kernels/sparse_adjacency.h"
#include "models/propagation_graph.h"

namespace gnnrec::layers {

// y = x Wᵀ + b; weight [out, in], bias [out] or undefined.
struct Linear {
  at::Tensor weight;
  at::Tensor bias;
  at::Tensor operator()(const at::Tensor& x) const;
};

// A Linear with Glorot-uniform weights (as PyG's Linear) and zero bias, leaf
// tensors with requires_grad, drawn from a generator seeded by (seed, stream).
Linear make_linear(int64_t in, int64_t out, bool bias, uint64_t seed, uint64_t stream,
                   at::Device device);

// GCNConv: adj is the symmetric-normalised adjacency with self loops (the
// whole matrix, or a rank's rows of it: x then holds that rank's rows).
at::Tensor gcn_conv(const AdjacencyProduct& adj, const at::Tensor& x, const Linear& lin);

// One LSTM (batch first, one layer, hidden width = input width) as in
// torch.nn.LSTM: w_ih [4d, d], w_hh [4d, d], b_ih [4d], b_hh [4d].
struct Lstm {
  at::Tensor w_ih, w_hh, b_ih, b_hh;
};

struct SageLayer {
  std::string aggregator;  // mean | max | pool | lstm
  Linear lin_l;            // applied to the aggregated neighbours (with bias)
  Linear lin_r;            // applied to the node itself (no bias)
  Linear proj;             // pool only: ReLU(proj(x_j)) before the max
  Lstm lstm;               // lstm only
};

// The known SAGE aggregators; throws std::invalid_argument naming the value.
void check_sage_aggregator(const std::string& aggregator);

// SAGEConv over a block: adj has one row per destination node and one
// column per source node; x_src [cols, in], x_dst [rows, in]. For lstm every
// non-empty row must have the same number of entries (a sampled block with
// a fixed fanout): the neighbours are read as the sequence in row order, or
// in a random permutation per row when shuffle is set (GraphSAGE's training
// rule), and the last hidden state is the aggregate (PyG's LSTMAggregation
// on equal-length sequences). Rows without neighbours aggregate to 0.
at::Tensor sage_conv(const SparseAdjacency& adj, const at::Tensor& x_src, const at::Tensor& x_dst,
                     const SageLayer& layer, bool shuffle = false);

struct GatLayer {
  Linear lin;          // [heads * channels, in], no bias
  at::Tensor att_src;  // [heads, channels]
  at::Tensor att_dst;  // [heads, channels]
  at::Tensor bias;     // [heads * channels] if concat else [channels]
  int64_t heads = 1;
  bool concat = true;
  double negative_slope = 0.2;
};

// GATConv: adj must hold every edge once plus one self loop per node
// (PyG's add_self_loops); its values, if any, are ignored. Attention
// dropout (probability attention_dropout) applies while training.
at::Tensor gat_conv(const SparseAdjacency& adj, const at::Tensor& x, const GatLayer& layer,
                    double attention_dropout, bool training);

struct NgcfLayer {
  Linear w1;  // sum path: applied to x + L x
  Linear w2;  // bi-interaction path: applied to L x ⊙ x
};

// One NGCF propagation: adj is L = D^-1/2 A D^-1/2 without self loops (the
// whole matrix, or a rank's rows of it: x then holds that rank's rows).
at::Tensor ngcf_conv(const AdjacencyProduct& adj, const at::Tensor& x, const NgcfLayer& layer);

}  // namespace gnnrec::layers
