// CPU implementation of sample_negatives. Row j draws from its own
// SplitMix64 stream, keyed by (seed, j), so it does not depend on the
// thread that computes it; it runs the per-row code that its CUDA kernel
// runs (kernels/sampling_row.h).
#include <ATen/Parallel.h>
#include <ATen/ops/empty.h>
#include <torch/library.h>

#include "kernels/checks.h"
#include "kernels/cpu/cpu_common.h"
#include "kernels/sampling_row.h"

namespace gnnrec::ops::cpu {
namespace {

at::Tensor sample_negatives_cpu(const at::Tensor& rowptr_in, const at::Tensor& col_in,
                                const at::Tensor& users_in, int64_t num_items, int64_t k,
                                int64_t seed) {
  check_sample_negatives_args(rowptr_in, col_in, users_in, num_items, k);
  const at::Tensor rowptr = rowptr_in.contiguous(), col = col_in.contiguous();
  const at::Tensor users = users_in.contiguous();
  check_rowptr_values("sample_negatives", rowptr, col.numel());
  const int64_t n = users.numel(), rows = rowptr.numel() - 1;
  const int64_t* rp = rowptr.data_ptr<int64_t>();
  const int32_t* cp = col.data_ptr<int32_t>();
  const int64_t* up = users.data_ptr<int64_t>();
  // Every user is checked before any sampling: a user with every item would
  // make rejection loop forever.
  for (int64_t j = 0; j < n; ++j) {
    const int64_t u = up[j];
    TORCH_CHECK(!out_of_range(u, rows), "sample_negatives: users[", j, "] = ", u,
                " is outside [0, ", rows, ")");
    const int64_t deg = rp[u + 1] - rp[u];
    TORCH_CHECK(deg < num_items, "sample_negatives: user ", u, " (users[", j, "]) has ", deg,
                " items of num_items ", num_items,
                ": it has interacted with every item; no negative exists");
  }
  at::Tensor out = at::empty({n, k}, users.options());
  int64_t* op = out.data_ptr<int64_t>();
  at::parallel_for(0, n, 1024, [&](int64_t b, int64_t e) {
    for (int64_t j = b; j < e; ++j) {
      const int64_t u = up[j];
      sampling::sample_negative_row(cp + rp[u], rp[u + 1] - rp[u], num_items, k,
                                    static_cast<uint64_t>(seed), static_cast<uint64_t>(j),
                                    op + j * k);
    }
  });
  return out;
}

}  // namespace

TORCH_LIBRARY_IMPL(gnnrec, CPU, m) { m.impl("sample_negatives", &sample_negatives_cpu); }

}  // namespace gnnrec::ops::cpu
