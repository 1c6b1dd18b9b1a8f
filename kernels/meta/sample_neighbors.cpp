// Meta (fake) implementation of sample_neighbors: shapes and dtypes only, with
// symbolic sizes, so the operator works under FakeTensor, torch.compile and
// opcheck.
#include <tuple>
#include <vector>

#include <ATen/ops/empty.h>
#include <torch/library.h>

#include "kernels/checks.h"

namespace gnnrec::ops::meta {
namespace {

std::tuple<at::Tensor, at::Tensor> sample_neighbors_meta(const at::Tensor& rowptr,
                                                         const at::Tensor& col,
                                                         const at::Tensor& seeds, int64_t fanout,
                                                         bool /*replace*/, int64_t /*seed*/) {
  check_sample_neighbors_args(rowptr, col, seeds, fanout);
  // The static [n, fanout] shape is why sample_neighbors pads with -1.
  const auto shape = std::vector<c10::SymInt>{seeds.sym_size(0), c10::SymInt(fanout)};
  return {at::empty_symint(shape, seeds.options()), at::empty_symint(shape, seeds.options())};
}

}  // namespace

TORCH_LIBRARY_IMPL(gnnrec, Meta, m) { m.impl("sample_neighbors", &sample_neighbors_meta); }

}  // namespace gnnrec::ops::meta
