#include "samplers/negative_sampler.h"

#include <stdexcept>
#include <string>

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include "samplers/random.h"

namespace gnnrec {

at::Tensor sample_negatives(const BipartiteGraph& g, const at::Tensor& users_in, int64_t k,
                            uint64_t seed) {
  if (k <= 0) throw std::invalid_argument("sample_negatives: k must be positive, got " + std::to_string(k));
  const at::Tensor users = users_in.to(at::kLong).contiguous().cpu();
  const int64_t n = users.numel();
  const int64_t* up = users.data_ptr<int64_t>();
  const int64_t I = g.num_items();
  for (int64_t j = 0; j < n; ++j) {
    if (up[j] < 0 || up[j] >= g.num_users()) {
      throw std::invalid_argument("sample_negatives: user " + std::to_string(up[j]) +
                                  " is outside [0, " + std::to_string(g.num_users()) + ")");
    }
    if (g.user_degree(up[j]) >= I) {
      throw std::invalid_argument("sample_negatives: user " + std::to_string(up[j]) +
                                  " has interacted with every item; no negative exists");
    }
  }
  at::Tensor out = at::empty({n, k}, at::kLong);
  int64_t* op = out.data_ptr<int64_t>();
  const auto& offsets = g.user_offsets();
  const int32_t* items = g.user_items().data();
  at::parallel_for(0, n, 1024, [&](int64_t b, int64_t e) {
    for (int64_t j = b; j < e; ++j) {
      SplitMix64 rng(seed, static_cast<uint64_t>(j));
      const int32_t* row = items + offsets[up[j]];
      const int32_t* row_end = items + offsets[up[j] + 1];
      for (int64_t s = 0; s < k; ++s) {
        int32_t cand;
        do {
          cand = static_cast<int32_t>(rng.below(static_cast<uint32_t>(I)));
        } while (std::binary_search(row, row_end, cand));
        op[j * k + s] = cand;
      }
    }
  });
  return out;
}

}  // namespace gnnrec
