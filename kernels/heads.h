// Per-edge and per-node tensors of the attention operators (sddmm_add,
// edge_softmax, _segment_sum_csr): [n] for one head or [n, H], row-major,
// so an entry's H heads are contiguous.
#pragma once

#include <cstdint>

#include <ATen/core/Tensor.h>
#include <ATen/ops/empty.h>

namespace gnnrec::ops {

// Heads of a per-edge or per-node tensor ([n] counts as one head).
inline int64_t heads_of(const at::Tensor& t) { return t.dim() == 2 ? t.size(1) : 1; }

// An empty [n] or [n, heads] tensor with like's heads and options, sizes
// symbolic (for the meta implementations).
inline at::Tensor like_heads(const c10::SymInt& n, const at::Tensor& like) {
  return like.dim() == 2 ? at::empty_symint({n, like.sym_size(1)}, like.options())
                         : at::empty_symint({n}, like.options());
}

}  // namespace gnnrec::ops
