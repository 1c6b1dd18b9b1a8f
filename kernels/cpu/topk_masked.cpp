// CPU implementation of topk_masked, _topk_masked_auc and
// _topk_masked_scores. For each chunk of users: the scores by one BLAS GEMM
// into a reused buffer (_topk_masked_scores takes them as given), then every
// row by one thread: its masked items set to -inf, its top k by one pass with
// a heap of the k best so far, and (for the AUC) the counts of items scoring
// below and equal to each test item. Each row is produced by exactly one thread, so results do
// not depend on the thread count.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>
#include <optional>
#include <tuple>
#include <vector>

#include <ATen/Dispatch.h>
#include <ATen/Parallel.h>
#include <ATen/core/LegacyTypeDispatch.h>
#include <ATen/ops/clone.h>
#include <ATen/ops/empty.h>
#include <ATen/ops/index_select.h>
#include <ATen/ops/mm.h>
#include <torch/library.h>

#include "base/count_below.h"
#include "kernels/checks.h"
#include "kernels/cpu/cpu_common.h"

namespace gnnrec::ops::cpu {
namespace {

// The ranking order of topk_masked (kernels/ops.h): a before b when a's
// score is larger, NaN above every number, and among equal scores (or two
// NaNs) the lower item id first. -0 and +0 are equal.
template <typename T>
inline bool ranks_before(T va, int64_t ia, T vb, int64_t ib) {
  const bool na = std::isnan(va), nb = std::isnan(vb);
  if (na != nb) return na;
  if (!na && va != vb) return va > vb;
  return ia < ib;
}

template <typename T>
struct Ranked {
  T value;
  int64_t item;
};

// The top k of row[0, n) in the order above, best first. A heap holds the k
// best items so far with the one that ranks last on top. Items come in id
// order, so a later item ties-loses to every kept one: it enters only with a
// strictly better score, !(v <= worst) (which a NaN v passes), and nothing
// enters once the worst kept score is NaN. Blocks of 16 scores that cannot
// enter are skipped with one vectorised test.
template <typename T>
void row_topk(const T* row, int64_t n, int64_t k, std::vector<Ranked<T>>& heap, T* out_value,
              int64_t* out_item) {
  if (k == 0) return;
  const auto before = [](const Ranked<T>& a, const Ranked<T>& b) {
    return ranks_before(a.value, a.item, b.value, b.item);
  };
  heap.resize(static_cast<size_t>(k));
  for (int64_t j = 0; j < k; ++j) heap[j] = {row[j], j};
  std::make_heap(heap.begin(), heap.end(), before);
  constexpr int64_t kSkip = 16;
  T worst = heap.front().value;
  int64_t j = k;
  while (j < n && !std::isnan(worst)) {
    if (j + kSkip <= n) {
      int any = 0;
      for (int64_t b = 0; b < kSkip; ++b) any |= !(row[j + b] <= worst);
      if (!any) {
        j += kSkip;
        continue;
      }
    }
    for (const int64_t end = std::min(n, j + kSkip); j < end && !std::isnan(worst); ++j) {
      const T v = row[j];
      if (v <= worst) continue;
      std::pop_heap(heap.begin(), heap.end(), before);
      heap.back() = {v, j};
      std::push_heap(heap.begin(), heap.end(), before);
      worst = heap.front().value;
    }
  }
  std::sort_heap(heap.begin(), heap.end(), before);
  for (int64_t i = 0; i < k; ++i) out_value[i] = heap[i].value, out_item[i] = heap[i].item;
}

// The AUC of one user (kernels/ops.h) from its masked score row: count
// against the whole row, then take the excluded items back out. The masked
// ones all hold -inf; the unmasked test items hold their own scores.
// mask and test: the user's rows, sorted ascending, without duplicates.
// Counts are integers and halves, so the sum is exact in any order.
template <typename T>
double row_auc(const T* row, int64_t n, const int32_t* test, int64_t n_test,
               const int32_t* mask, int64_t n_mask, std::vector<T>& free_test) {
  if (n_test == 0) return std::numeric_limits<double>::quiet_NaN();
  free_test.clear();
  int64_t both = 0;
  for (int64_t q = 0, p = 0; q < n_test; ++q) {
    while (p < n_mask && mask[p] < test[q]) ++p;
    if (p < n_mask && mask[p] == test[q]) {
      ++both;
    } else {
      free_test.push_back(row[test[q]]);
    }
  }
  const int64_t negatives = n - (n_mask + n_test - both);
  if (negatives <= 0) return std::numeric_limits<double>::quiet_NaN();
  constexpr T kNegInf = -std::numeric_limits<T>::infinity();
  double ordered = 0;
  for (int64_t t0 = 0; t0 < n_test; t0 += 4) {
    // A short last block repeats its last item and ignores the copies.
    const int64_t block = std::min<int64_t>(4, n_test - t0);
    T s[4];
    for (int64_t b = 0; b < 4; ++b) s[b] = row[test[t0 + std::min(b, block - 1)]];
    int64_t below[4], equal[4];
    count_below_equal4(row, n, s, below, equal);
    for (int64_t b = 0; b < block; ++b) {
      below[b] -= n_mask * (kNegInf < s[b]);
      equal[b] -= n_mask * (kNegInf == s[b]);
      for (const T x : free_test) {
        below[b] -= x < s[b];
        equal[b] -= x == s[b];
      }
      ordered += static_cast<double>(below[b]) + 0.5 * static_cast<double>(equal[b]);
    }
  }
  return ordered / (static_cast<double>(n_test) * static_cast<double>(negatives));
}

// Every value of ids (contiguous int64 or int32) in [0, n).
template <typename I>
void check_ids(const char* op, const char* name, const at::Tensor& ids, int64_t n,
               const char* what) {
  const I* p = ids.data_ptr<I>();
  for (int64_t i = 0; i < ids.numel(); ++i) {
    TORCH_CHECK(!out_of_range(p[i], n), op, ": ", name, " holds ", what, " ", p[i],
                " outside [0, ", n, ")");
  }
}

// Each row of a CSR (rowptr values already checked) sorted ascending and
// free of duplicates.
void check_rows_sorted(const char* op, const char* prefix, const at::Tensor& rowptr,
                       const at::Tensor& col) {
  const int64_t* rp = rowptr.data_ptr<int64_t>();
  const int32_t* cp = col.data_ptr<int32_t>();
  for (int64_t r = 0; r + 1 < rowptr.numel(); ++r) {
    for (int64_t k = rp[r] + 1; k < rp[r + 1]; ++k) {
      TORCH_CHECK(cp[k - 1] < cp[k], op, ": ", prefix,
                  "col must be sorted ascending without duplicates within each row (the AUC "
                  "counts each item once), but row ",
                  r, " holds ", cp[k - 1], " before ", cp[k]);
    }
  }
}

// The checked, contiguous CSR inputs of the three operators; test undefined
// without an AUC.
struct RankInputs {
  at::Tensor users, mask_rowptr, mask_col, test_rowptr, test_col;
  bool with_auc() const { return test_rowptr.defined(); }
};

RankInputs check_rank_inputs(const char* op, const at::Tensor& users_in, int64_t num_users,
                             int64_t items, const at::Tensor& mask_rowptr_in,
                             const at::Tensor& mask_col_in, const at::Tensor& test_rowptr_in,
                             const at::Tensor& test_col_in) {
  RankInputs in{
      users_in.contiguous(), mask_rowptr_in.contiguous(), mask_col_in.contiguous(), {}, {}};
  check_rowptr_values(op, in.mask_rowptr, in.mask_col.numel(), "mask_rowptr");
  check_ids<int64_t>(op, "users", in.users, num_users, "user");
  check_ids<int32_t>(op, "mask_col", in.mask_col, items, "item");
  if (test_rowptr_in.defined()) {
    in.test_rowptr = test_rowptr_in.contiguous(), in.test_col = test_col_in.contiguous();
    check_rowptr_values(op, in.test_rowptr, in.test_col.numel(), "test_rowptr");
    check_ids<int32_t>(op, "test_col", in.test_col, items, "item");
    check_rows_sorted(op, "mask_", in.mask_rowptr, in.mask_col);
    check_rows_sorted(op, "test_", in.test_rowptr, in.test_col);
  }
  return in;
}

// Ranks rows [begin, end) of the operator's output, whose scores are the
// contiguous [end - begin, items] block `sp` (overwritten: masked items set
// to -inf): row j belongs to user users[j]; its top k go to values/indices
// row j and, with a test CSR, its AUC to auc[j]. Each row by one thread.
template <typename scalar_t>
void rank_rows(const RankInputs& in, scalar_t* sp, int64_t begin, int64_t end, int64_t items,
               int64_t k, scalar_t* vp, int64_t* ip, double* ap) {
  constexpr scalar_t kNegInf = -std::numeric_limits<scalar_t>::infinity();
  const int64_t* up = in.users.data_ptr<int64_t>();
  const int64_t* mrp = in.mask_rowptr.data_ptr<int64_t>();
  const int32_t* mcp = in.mask_col.data_ptr<int32_t>();
  const int64_t* trp = in.with_auc() ? in.test_rowptr.data_ptr<int64_t>() : nullptr;
  const int32_t* tcp = in.with_auc() ? in.test_col.data_ptr<int32_t>() : nullptr;
  at::parallel_for(0, end - begin, 1, [&](int64_t rb, int64_t re) {
    std::vector<Ranked<scalar_t>> heap;
    std::vector<scalar_t> free_test;
    for (int64_t r = rb; r < re; ++r) {
      const int64_t j = begin + r, u = up[j];
      scalar_t* row = sp + r * items;
      for (int64_t e = mrp[u]; e < mrp[u + 1]; ++e) row[mcp[e]] = kNegInf;
      row_topk(row, items, k, heap, vp + j * k, ip + j * k);
      if (ap != nullptr) {
        ap[j] = row_auc(row, items, tcp + trp[u], trp[u + 1] - trp[u], mcp + mrp[u],
                        mrp[u + 1] - mrp[u], free_test);
      }
    }
  });
}

// topk_masked and _topk_masked_auc: test_rowptr/test_col undefined for
// topk_masked (no AUC).
std::tuple<at::Tensor, at::Tensor, at::Tensor> rank_users_cpu(
    const char* op, const at::Tensor& user_emb, const at::Tensor& item_emb,
    const at::Tensor& users_in, const at::Tensor& mask_rowptr_in, const at::Tensor& mask_col_in,
    const at::Tensor& test_rowptr_in, const at::Tensor& test_col_in, int64_t k, int64_t chunk) {
  // The scores are a temporary of this operator: they never join an
  // autograd graph, whatever the inputs require (it is not differentiable).
  at::AutoDispatchBelowADInplaceOrView below_autograd;
  const int64_t items = item_emb.size(0);
  const RankInputs in = check_rank_inputs(op, users_in, user_emb.size(0), items, mask_rowptr_in,
                                          mask_col_in, test_rowptr_in, test_col_in);
  const int64_t n = in.users.numel();
  at::Tensor values = at::empty({n, k}, user_emb.options());
  at::Tensor indices = at::empty({n, k}, in.users.options());
  at::Tensor auc =
      in.with_auc() ? at::empty({n}, user_emb.options().dtype(at::kDouble)) : at::Tensor();
  if (n == 0) return {values, indices, auc};
  AT_DISPATCH_FLOATING_TYPES(user_emb.scalar_type(), "topk_masked_cpu", [&] {
    // One score buffer for every chunk: a fresh one per chunk (168 MB for
    // 1,024 Gowalla users) was mapped and faulted in page by page each time,
    // a quarter of an evaluation's time.
    at::Tensor buffer = at::empty({std::min(n, chunk), items}, user_emb.options());
    for (int64_t begin = 0; begin < n; begin += chunk) {
      const int64_t end = std::min(n, begin + chunk);
      // The embeddings as given (any strides): the same product (one BLAS
      // GEMM) as the evaluator's former CPU path, bit for bit.
      at::Tensor scores = buffer.narrow(0, 0, end - begin);
      at::mm_out(scores, user_emb.index_select(0, in.users.slice(0, begin, end)), item_emb.t());
      rank_rows<scalar_t>(in, scores.data_ptr<scalar_t>(), begin, end, items, k,
                          values.data_ptr<scalar_t>(), indices.data_ptr<int64_t>(),
                          in.with_auc() ? auc.data_ptr<double>() : nullptr);
    }
  });
  return {values, indices, auc};
}

std::tuple<at::Tensor, at::Tensor> topk_masked_cpu(const at::Tensor& user_emb,
                                                   const at::Tensor& item_emb,
                                                   const at::Tensor& users,
                                                   const at::Tensor& mask_rowptr,
                                                   const at::Tensor& mask_col, int64_t k,
                                                   int64_t chunk) {
  check_topk_masked_args(user_emb, item_emb, users, mask_rowptr, mask_col, k, chunk);
  auto [values, indices, auc] = rank_users_cpu("topk_masked", user_emb, item_emb, users,
                                               mask_rowptr, mask_col, at::Tensor(), at::Tensor(),
                                               k, chunk);
  return {values, indices};
}

std::tuple<at::Tensor, at::Tensor, at::Tensor> topk_masked_auc_cpu(
    const at::Tensor& user_emb, const at::Tensor& item_emb, const at::Tensor& users,
    const at::Tensor& mask_rowptr, const at::Tensor& mask_col, const at::Tensor& test_rowptr,
    const at::Tensor& test_col, int64_t k, int64_t chunk) {
  check_topk_masked_auc_args(user_emb, item_emb, users, mask_rowptr, mask_col, test_rowptr,
                             test_col, k, chunk);
  return rank_users_cpu("_topk_masked_auc", user_emb, item_emb, users, mask_rowptr, mask_col,
                        test_rowptr, test_col, k, chunk);
}

std::tuple<at::Tensor, at::Tensor, at::Tensor> topk_masked_scores_cpu(
    const at::Tensor& scores_in, const at::Tensor& users, const at::Tensor& mask_rowptr,
    const at::Tensor& mask_col, const std::optional<at::Tensor>& test_rowptr,
    const std::optional<at::Tensor>& test_col, int64_t k) {
  const char* op = "_topk_masked_scores";
  check_topk_masked_scores_args(scores_in, users, mask_rowptr, mask_col, test_rowptr, test_col, k);
  at::AutoDispatchBelowADInplaceOrView below_autograd;
  const int64_t n = scores_in.size(0), items = scores_in.size(1);
  const RankInputs in =
      check_rank_inputs(op, users, mask_rowptr.numel() - 1, items, mask_rowptr, mask_col,
                        test_rowptr.value_or(at::Tensor()), test_col.value_or(at::Tensor()));
  at::Tensor values = at::empty({n, k}, scores_in.options());
  at::Tensor indices = at::empty({n, k}, users.options());
  at::Tensor auc = at::empty({in.with_auc() ? n : 0}, scores_in.options().dtype(at::kDouble));
  if (n == 0) return {values, indices, auc};
  // A copy: masking writes -inf into the rows, and the caller's scores stay as they were.
  at::Tensor scores = scores_in.clone(at::MemoryFormat::Contiguous);
  AT_DISPATCH_FLOATING_TYPES(scores.scalar_type(), "topk_masked_scores_cpu", [&] {
    rank_rows<scalar_t>(in, scores.data_ptr<scalar_t>(), 0, n, items, k,
                        values.data_ptr<scalar_t>(), indices.data_ptr<int64_t>(),
                        in.with_auc() ? auc.data_ptr<double>() : nullptr);
  });
  return {values, indices, auc};
}

}  // namespace

TORCH_LIBRARY_IMPL(gnnrec, CPU, m) {
  m.impl("topk_masked", &topk_masked_cpu);
  m.impl("_topk_masked_auc", &topk_masked_auc_cpu);
  m.impl("_topk_masked_scores", &topk_masked_scores_cpu);
}

}  // namespace gnnrec::ops::cpu
