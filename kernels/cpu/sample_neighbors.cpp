// CPU implementation of sample_neighbors. Seed j draws from its own
// SplitMix64 stream, keyed by (seed, seeds[j]), so its row of the result
// does not depend on the thread that computes it. Up to 64 picks it runs
// the per-row code its CUDA kernel runs (kernels/sampling_row.h).
#include <algorithm>
#include <atomic>
#include <unordered_set>

#include <ATen/ops/empty.h>
#include <torch/library.h>

#include "base/random.h"
#include "kernels/checks.h"
#include "kernels/cpu/cpu_common.h"
#include "kernels/sampling_row.h"

namespace gnnrec::ops::cpu {
namespace {

// Up to this fanout the picks so far are scanned linearly (the per-row code
// the CUDA kernel runs too); beyond it a hash set keeps Floyd's algorithm
// O(fanout). Both find the same repeats, so the draws are the same.
constexpr int64_t kScanLimit = 64;

// Fills eid[0, fanout) with CSR positions in [begin, begin + deg), deg > 0.
void sample_row(int64_t begin, int64_t deg, int64_t fanout, bool replace, SplitMix64& rng,
                int64_t* eid) {
  if (replace || deg < fanout || fanout <= kScanLimit) {
    sampling::sample_row(begin, deg, fanout, replace, rng, eid);
    return;
  }
  // Floyd's algorithm: a uniform fanout-subset of [0, deg) in fanout draws,
  // whatever deg is (a hub row is never walked or copied).
  std::unordered_set<int64_t> taken;
  int64_t n = 0;
  for (int64_t i = deg - fanout; i < deg; ++i) {
    int64_t t = static_cast<int64_t>(rng.below64(static_cast<uint64_t>(i + 1)));
    if (!taken.insert(t).second) {
      t = i;  // i cannot have been taken: earlier draws were below i
      taken.insert(t);
    }
    eid[n++] = begin + t;
  }
}

std::tuple<at::Tensor, at::Tensor> sample_neighbors_cpu(const at::Tensor& rowptr_in,
                                                        const at::Tensor& col_in,
                                                        const at::Tensor& seeds_in, int64_t fanout,
                                                        bool replace, int64_t seed) {
  check_sample_neighbors_args(rowptr_in, col_in, seeds_in, fanout);
  const at::Tensor rowptr = rowptr_in.contiguous(), col = col_in.contiguous();
  const at::Tensor seeds = seeds_in.contiguous();
  check_rowptr_values("sample_neighbors", rowptr, col.numel());
  const int64_t n = seeds.numel(), rows = rowptr.numel() - 1;
  at::Tensor nbr = at::empty({n, fanout}, seeds.options());
  at::Tensor eid = at::empty({n, fanout}, seeds.options());
  const int64_t* rp = rowptr.data_ptr<int64_t>();
  const int32_t* cp = col.data_ptr<int32_t>();
  const int64_t* sp = seeds.data_ptr<int64_t>();
  int64_t* np = nbr.data_ptr<int64_t>();
  int64_t* ep = eid.data_ptr<int64_t>();
  std::atomic<bool> bad_seed{false};
  // Seeds cost O(fanout) each, whatever their degree: equal-sized chunks.
  at::parallel_for(0, n, 256, [&](int64_t b, int64_t e) {
    for (int64_t j = b; j < e; ++j) {
      const int64_t node = sp[j];
      int64_t* row_eid = ep + j * fanout;
      int64_t* row_nbr = np + j * fanout;
      if (out_of_range(node, rows)) {
        bad_seed.store(true, std::memory_order_relaxed);
        continue;
      }
      const int64_t begin = rp[node], deg = rp[node + 1] - begin;
      if (deg == 0) {
        std::fill(row_eid, row_eid + fanout, -1);
        std::fill(row_nbr, row_nbr + fanout, -1);
        continue;
      }
      SplitMix64 rng(static_cast<uint64_t>(seed), static_cast<uint64_t>(node));
      sample_row(begin, deg, fanout, replace, rng, row_eid);
      for (int64_t i = 0; i < fanout; ++i) row_nbr[i] = cp[row_eid[i]];
    }
  });
  TORCH_CHECK(!bad_seed.load(), "sample_neighbors: seeds holds a node outside [0, ", rows, ")");
  return {nbr, eid};
}

}  // namespace

TORCH_LIBRARY_IMPL(gnnrec, CPU, m) { m.impl("sample_neighbors", &sample_neighbors_cpu); }

}  // namespace gnnrec::ops::cpu
