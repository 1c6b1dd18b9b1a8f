#include "samplers/neighbor_blocks.h"

#include <algorithm>
#include <vector>

#include <ATen/ATen.h>

#include "base/random.h"
#include "kernels/ops.h"

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
    const at::Tensor picked = nbr.masked_select(valid);
    const int64_t n_dst = dst.numel();
    // Sources: the destinations themselves first (for the self term), then
    // every newly reached node in sample order; block columns index them.
    at::Tensor src, local, dst_pos;
    if (dst.device().is_cpu()) {
      // One pass with a node -> column table: no sort.
      std::vector<int64_t> column(static_cast<size_t>(std::max(adj.num_rows, adj.num_cols)), -1);
      std::vector<int64_t> order;
      order.reserve(static_cast<size_t>(n_dst + picked.numel()));
      const at::Tensor all = at::cat({dst, picked}).contiguous();
      const int64_t* a = all.data_ptr<int64_t>();
      local = at::empty({picked.numel()}, at::kInt);
      int32_t* lp = local.data_ptr<int32_t>();
      for (int64_t j = 0; j < all.numel(); ++j) {
        int64_t& c = column[static_cast<size_t>(a[j])];
        if (c < 0) {
          c = static_cast<int64_t>(order.size());
          order.push_back(a[j]);
        }
        if (j >= n_dst) lp[j - n_dst] = static_cast<int32_t>(c);
      }
      src = at::tensor(order);
      dst_pos = at::arange(n_dst, dst.options());
    } else {
      auto [uniq, inverse, unused] = at::_unique2(at::cat({dst, picked}), true, true);
      (void)unused;
      src = uniq;
      local = inverse.narrow(0, n_dst, picked.numel()).to(at::kInt);
      dst_pos = inverse.narrow(0, 0, n_dst);
    }
    SampledBlock b;
    b.adj.num_rows = n_dst;
    b.adj.num_cols = src.numel();
    b.adj.rowptr = at::cat({at::zeros({1}, counts.options()), counts.cumsum(0)});
    b.adj.col = local;
    fill_transpose(b.adj);
    b.adj = b.adj.to(adj.rowptr.device(), at::kFloat);
    b.dst_pos = dst_pos;
    g.blocks.push_back(std::move(b));
    g.nodes.push_back(src);
  }
  return g;
}

}  // namespace gnnrec
