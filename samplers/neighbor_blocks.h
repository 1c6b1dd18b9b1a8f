// Mini-batch computation graphs for sampled message passing (GraphSAGE):
// from a set of target nodes, hop k samples fanouts[k] neighbours of every
// node reached so far, and each hop becomes a block, a CSR matrix whose rows
// are that hop's destination nodes and whose columns are its source nodes.
#pragma once

#include <cstdint>
#include <vector>

#include <ATen/core/Tensor.h>

#include "kernels/sparse_adjacency.h"

namespace gnnrec {

struct SampledBlock {
  SparseAdjacency adj;  // [dst nodes, src nodes], unweighted; transpose filled
  at::Tensor dst_pos;   // int64 [dst nodes]: each destination's column among the sources
};

struct SampledSubgraph {
  // nodes[0]: the targets; nodes[k+1]: the sources of hop k (unique global
  // ids): on the CPU nodes[k] first, then the newly reached nodes in sample
  // order; on other devices sorted.
  std::vector<at::Tensor> nodes;
  // blocks[k] maps features of nodes[k+1] to nodes[k]. A model with L layers
  // applies blocks[L-1] first and blocks[0] last.
  std::vector<SampledBlock> blocks;
};

// targets: unique int64 node ids of adj (any order). Sampling uses
// gnnrec::sample_neighbors without replacement (with replacement for nodes
// with fewer neighbours than the fanout), hop k seeded by (seed, k), so the
// result depends only on the arguments. Blocks live on adj's device.
SampledSubgraph sample_blocks(const SparseAdjacency& adj, const at::Tensor& targets,
                              const std::vector<int64_t>& fanouts, uint64_t seed);

}  // namespace gnnrec
