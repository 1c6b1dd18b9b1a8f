#include "samplers/neighbor_blocks.h"

#include <ATen/ATen.h>

#include "kernels/ops.h"
#include "samplers/random.h"

namespace gnnrec {

SampledSubgraph sample_blocks(const SparseAdjacency& adj, const at::Tensor& targets,
                              const std::vector<int64_t>& fanouts, uint64_t seed) {
  SampledSubgraph g;
  g.nodes.push_back(targets.to(at::kLong));
  for (size_t k = 0; k < fanouts.size(); ++k) {
    const at::Tensor& dst = g.nodes.back();
    const int64_t hop_seed =
        static_cast<int64_t>(SplitMix64(seed, k).next() >> 1);  // non-negative int64
    auto [nbr, eid] = ops::sample_neighbors(adj.rowptr, adj.col, dst, fanouts[k],
                                            /*replace=*/false, hop_seed);
    const at::Tensor valid = nbr.ge(0);
    const at::Tensor counts = valid.sum(1);
    // Sources: the destinations themselves (for the self term) and every
    // sampled neighbour; inverse gives each one's column in the block.
    const at::Tensor all = at::cat({dst, nbr.masked_select(valid)});
    auto [src, inverse, unused] = at::_unique2(all, /*sorted=*/true, /*return_inverse=*/true);
    (void)unused;
    const int64_t n_dst = dst.numel();
    SampledBlock b;
    b.adj.num_rows = n_dst;
    b.adj.num_cols = src.numel();
    b.adj.rowptr = at::cat({at::zeros({1}, counts.options()), counts.cumsum(0)});
    b.adj.col = inverse.narrow(0, n_dst, inverse.numel() - n_dst).to(at::kInt);
    fill_transpose(b.adj);
    b.adj = b.adj.to(adj.rowptr.device(), at::kFloat);
    b.dst_pos = inverse.narrow(0, 0, n_dst);
    g.blocks.push_back(std::move(b));
    g.nodes.push_back(src);
  }
  return g;
}

}  // namespace gnnrec
