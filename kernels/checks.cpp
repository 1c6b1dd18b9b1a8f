#include "kernels/checks.h"

#include <c10/util/Exception.h>

namespace gnnrec::ops {
namespace {

// Per-edge (or per-node) values: [n] or [n, heads], float32/float64.
void check_vector_or_matrix(const char* op, const char* name, const at::Tensor& x,
                            const at::Tensor& like) {
  TORCH_CHECK(x.dim() == 1 || x.dim() == 2, op, ": ", name, " must be 1-D or 2-D, got ", x.dim(),
              "-D");
  check_float(op, name, x, like);
}

void check_perm_len(const char* op, const char* name, const at::Tensor& perm,
                    const c10::SymInt& n, const at::Tensor& like) {
  TORCH_CHECK(perm.dim() == 1 && perm.sym_numel() == n && perm.scalar_type() == at::kLong, op,
              ": ", name, " must be 1-D int64 with nnz (", n, ") entries, got ",
              perm.scalar_type(), " of shape ", perm.sym_sizes());
  TORCH_CHECK(perm.device() == like.device(), op, ": ", name, " must be on ", like.device(),
              ", got ", perm.device());
}

}  // namespace

void check_rowptr(const char* op, const char* prefix, const at::Tensor& rowptr,
                  const at::Tensor& like) {
  TORCH_CHECK(rowptr.dim() == 1, op, ": ", prefix, "rowptr must be 1-D, got ", rowptr.dim(), "-D");
  TORCH_CHECK(rowptr.scalar_type() == at::kLong, op, ": ", prefix, "rowptr must be int64, got ",
              rowptr.scalar_type());
  TORCH_CHECK(rowptr.sym_numel() >= 1, op, ": ", prefix, "rowptr must have at least one entry");
  TORCH_CHECK(rowptr.device() == like.device(), op, ": ", prefix, "rowptr must be on ",
              like.device(), ", got ", rowptr.device());
}

void check_csr(const char* op, const char* prefix, const at::Tensor& rowptr,
               const at::Tensor& col, const std::optional<at::Tensor>& value,
               const at::Tensor& like) {
  check_rowptr(op, prefix, rowptr, like);
  TORCH_CHECK(col.dim() == 1, op, ": ", prefix, "col must be 1-D, got ", col.dim(), "-D");
  TORCH_CHECK(col.scalar_type() == at::kInt, op, ": ", prefix, "col must be int32, got ",
              col.scalar_type());
  TORCH_CHECK(col.device() == like.device(), op, ": ", prefix, "col must be on ", like.device(),
              ", got ", col.device());
  if (value.has_value() && value->defined()) {
    TORCH_CHECK(value->dim() == 1 && value->sym_numel() == col.sym_numel(), op, ": ", prefix,
                "value must be 1-D with one entry per stored element (", col.sym_numel(),
                "), got shape ", value->sym_sizes());
    TORCH_CHECK(value->scalar_type() == like.scalar_type(), op, ": ", prefix,
                "value must have the dtype of the dense operand (", like.scalar_type(), "), got ",
                value->scalar_type());
    TORCH_CHECK(value->device() == like.device(), op, ": ", prefix, "value must be on ",
                like.device(), ", got ", value->device());
  }
}

void check_transpose(const char* op, const at::Tensor& col, const at::Tensor& t_rowptr,
                     const at::Tensor& t_col, const at::Tensor& like) {
  check_csr(op, "t_", t_rowptr, t_col, std::nullopt, like);
  TORCH_CHECK(t_col.sym_numel() == col.sym_numel(), op, ": t_col must have nnz (",
              col.sym_numel(), ") entries, got ", t_col.sym_numel());
}

void check_perm(const char* op, const char* name, const at::Tensor& perm, const at::Tensor& col,
                const at::Tensor& like) {
  check_perm_len(op, name, perm, col.sym_numel(), like);
}

void check_float(const char* op, const char* name, const at::Tensor& x, const at::Tensor& like) {
  TORCH_CHECK(x.scalar_type() == at::kFloat || x.scalar_type() == at::kDouble, op, ": ", name,
              " must be float32 or float64, got ", x.scalar_type());
  TORCH_CHECK(x.scalar_type() == like.scalar_type(), op, ": ", name, " must have dtype ",
              like.scalar_type(), ", got ", x.scalar_type());
  TORCH_CHECK(x.device() == like.device(), op, ": ", name, " must be on ", like.device(),
              ", got ", x.device());
}

void check_dense(const char* op, const char* name, const at::Tensor& x, const at::Tensor& like) {
  TORCH_CHECK(x.dim() == 2, op, ": ", name, " must be 2-D, got ", x.dim(), "-D");
  check_float(op, name, x, like);
}

void check_spmm_args(const at::Tensor& rowptr, const at::Tensor& col,
                     const std::optional<at::Tensor>& value, const at::Tensor& t_rowptr,
                     const at::Tensor& t_col, const at::Tensor& x) {
  check_dense("spmm", "x", x, x);
  check_csr("spmm", "", rowptr, col, value, x);
  check_transpose("spmm", col, t_rowptr, t_col, x);
  TORCH_CHECK(t_rowptr.sym_numel() - 1 == x.sym_size(0),
              "spmm: x must have one row per column of A (", t_rowptr.sym_numel() - 1, "), got ",
              x.sym_size(0));
}

void check_sddmm_args(const at::Tensor& rowptr, const at::Tensor& col, const at::Tensor& t_rowptr,
                      const at::Tensor& t_col, const at::Tensor& t_perm, const at::Tensor& a,
                      const at::Tensor& b) {
  check_dense("sddmm", "a", a, a);
  check_dense("sddmm", "b", b, a);
  check_csr("sddmm", "", rowptr, col, std::nullopt, a);
  check_transpose("sddmm", col, t_rowptr, t_col, a);
  check_perm("sddmm", "t_perm", t_perm, col, a);
  TORCH_CHECK(a.sym_size(0) == rowptr.sym_numel() - 1, "sddmm: a must have one row per row of A (",
              rowptr.sym_numel() - 1, "), got ", a.sym_size(0));
  TORCH_CHECK(b.sym_size(0) == t_rowptr.sym_numel() - 1,
              "sddmm: b must have one row per column of A (", t_rowptr.sym_numel() - 1, "), got ",
              b.sym_size(0));
  TORCH_CHECK(a.sym_size(1) == b.sym_size(1), "sddmm: a and b must have the same width, got ",
              a.sym_size(1), " and ", b.sym_size(1));
}

Reduce check_spmm_reduce_args(const at::Tensor& rowptr, const at::Tensor& col,
                              const at::Tensor& t_rowptr, const at::Tensor& t_col,
                              const at::Tensor& t_perm, const at::Tensor& x,
                              std::string_view reduce) {
  Reduce r{};
  if (reduce == "sum") {
    r = Reduce::kSum;
  } else if (reduce == "mean") {
    r = Reduce::kMean;
  } else if (reduce == "max") {
    r = Reduce::kMax;
  } else {
    TORCH_CHECK(false, "spmm_reduce: reduce must be \"sum\", \"mean\" or \"max\", got \"",
                reduce, "\"");
  }
  check_dense("spmm_reduce", "x", x, x);
  check_csr("spmm_reduce", "", rowptr, col, std::nullopt, x);
  check_transpose("spmm_reduce", col, t_rowptr, t_col, x);
  check_perm("spmm_reduce", "t_perm", t_perm, col, x);
  TORCH_CHECK(t_rowptr.sym_numel() - 1 == x.sym_size(0),
              "spmm_reduce: x must have one row per column of A (", t_rowptr.sym_numel() - 1,
              "), got ", x.sym_size(0));
  return r;
}

void check_spmm_reduce_max_backward_args(const at::Tensor& t_rowptr, const at::Tensor& t_col,
                                         const at::Tensor& t_perm, const at::Tensor& arg,
                                         const at::Tensor& grad) {
  const char* op = "_spmm_reduce_max_backward";
  check_dense(op, "grad", grad, grad);
  check_csr(op, "t_", t_rowptr, t_col, std::nullopt, grad);
  check_perm(op, "t_perm", t_perm, t_col, grad);
  TORCH_CHECK(arg.scalar_type() == at::kLong && arg.sym_sizes() == grad.sym_sizes(), op,
              ": arg must be int64 with grad's shape ", grad.sym_sizes(), ", got ",
              arg.scalar_type(), " of shape ", arg.sym_sizes());
  TORCH_CHECK(arg.device() == grad.device(), op, ": arg must be on ", grad.device(), ", got ",
              arg.device());
}

void check_sddmm_add_args(const at::Tensor& rowptr, const at::Tensor& col,
                          const at::Tensor& t_rowptr, const at::Tensor& t_col,
                          const at::Tensor& t_perm, const at::Tensor& a_row,
                          const at::Tensor& a_col) {
  const char* op = "sddmm_add";
  check_vector_or_matrix(op, "a_row", a_row, a_row);
  check_vector_or_matrix(op, "a_col", a_col, a_row);
  check_csr(op, "", rowptr, col, std::nullopt, a_row);
  check_transpose(op, col, t_rowptr, t_col, a_row);
  check_perm(op, "t_perm", t_perm, col, a_row);
  TORCH_CHECK(a_row.dim() == a_col.dim(), op, ": a_row and a_col must have the same number of "
              "dims, got ", a_row.dim(), "-D and ", a_col.dim(), "-D");
  TORCH_CHECK(a_row.sym_size(0) == rowptr.sym_numel() - 1, op,
              ": a_row must have one row per row of A (", rowptr.sym_numel() - 1, "), got ",
              a_row.sym_size(0));
  TORCH_CHECK(a_col.sym_size(0) == t_rowptr.sym_numel() - 1, op,
              ": a_col must have one row per column of A (", t_rowptr.sym_numel() - 1, "), got ",
              a_col.sym_size(0));
  if (a_row.dim() == 2) {
    TORCH_CHECK(a_row.sym_size(1) == a_col.sym_size(1), op,
                ": a_row and a_col must have the same number of heads, got ", a_row.sym_size(1),
                " and ", a_col.sym_size(1));
  }
}

void check_segment_sum_args(const at::Tensor& rowptr, const at::Tensor& src,
                            const std::optional<at::Tensor>& perm) {
  const char* op = "_segment_sum_csr";
  check_vector_or_matrix(op, "src", src, src);
  check_rowptr(op, "", rowptr, src);
  if (perm.has_value() && perm->defined()) check_perm_len(op, "perm", *perm, src.sym_size(0), src);
}

void check_edge_softmax_args(const at::Tensor& rowptr, const at::Tensor& score) {
  check_vector_or_matrix("edge_softmax", "score", score, score);
  check_rowptr("edge_softmax", "", rowptr, score);
}

void check_edge_softmax_backward_args(const at::Tensor& rowptr, const at::Tensor& y,
                                      const at::Tensor& grad) {
  const char* op = "_edge_softmax_backward";
  check_vector_or_matrix(op, "y", y, y);
  check_float(op, "grad", grad, y);
  TORCH_CHECK(grad.sym_sizes() == y.sym_sizes(), op, ": grad must have y's shape ",
              y.sym_sizes(), ", got ", grad.sym_sizes());
  check_rowptr(op, "", rowptr, y);
}

void check_sample_neighbors_args(const at::Tensor& rowptr, const at::Tensor& col,
                                 const at::Tensor& seeds, int64_t fanout) {
  const char* op = "sample_neighbors";
  TORCH_CHECK(seeds.dim() == 1 && seeds.scalar_type() == at::kLong, op,
              ": seeds must be 1-D int64, got ", seeds.dim(), "-D ", seeds.scalar_type());
  check_csr(op, "", rowptr, col, std::nullopt, seeds);
  TORCH_CHECK(fanout > 0, op, ": fanout must be positive, got ", fanout);
}

void check_sample_negatives_args(const at::Tensor& rowptr, const at::Tensor& col,
                                 const at::Tensor& users, int64_t num_items, int64_t k) {
  const char* op = "sample_negatives";
  TORCH_CHECK(users.dim() == 1 && users.scalar_type() == at::kLong, op,
              ": users must be 1-D int64, got ", users.dim(), "-D ", users.scalar_type());
  check_csr(op, "", rowptr, col, std::nullopt, users);
  TORCH_CHECK(num_items >= 1 && num_items <= (int64_t{1} << 31), op,
              ": num_items must be in [1, 2^31] (items are int32 ids), got ", num_items);
  TORCH_CHECK(k > 0, op, ": k must be positive, got ", k);
}

namespace {

void check_topk_masked_common(const char* op, const at::Tensor& user_emb,
                              const at::Tensor& item_emb, const at::Tensor& users,
                              const at::Tensor& mask_rowptr, const at::Tensor& mask_col,
                              int64_t k, int64_t chunk) {
  check_dense(op, "user_emb", user_emb, user_emb);
  check_dense(op, "item_emb", item_emb, user_emb);
  TORCH_CHECK(user_emb.sym_size(1) == item_emb.sym_size(1), op,
              ": user_emb and item_emb must have the same width, got ", user_emb.sym_size(1),
              " and ", item_emb.sym_size(1));
  TORCH_CHECK(users.dim() == 1 && users.scalar_type() == at::kLong, op,
              ": users must be 1-D int64, got ", users.dim(), "-D ", users.scalar_type());
  TORCH_CHECK(users.device() == user_emb.device(), op, ": users must be on ", user_emb.device(),
              ", got ", users.device());
  check_csr(op, "mask_", mask_rowptr, mask_col, std::nullopt, user_emb);
  TORCH_CHECK(mask_rowptr.sym_numel() - 1 == user_emb.sym_size(0), op,
              ": mask_rowptr must have one entry per user plus one (", user_emb.sym_size(0) + 1,
              "), got ", mask_rowptr.sym_numel());
  TORCH_CHECK(k >= 0, op, ": k must be non-negative, got ", k);
  TORCH_CHECK(item_emb.sym_size(0) >= k, op, ": k (", k,
              ") must not exceed the number of items (", item_emb.sym_size(0), ")");
  TORCH_CHECK(chunk > 0, op, ": chunk must be positive, got ", chunk);
}

}  // namespace

void check_topk_masked_args(const at::Tensor& user_emb, const at::Tensor& item_emb,
                            const at::Tensor& users, const at::Tensor& mask_rowptr,
                            const at::Tensor& mask_col, int64_t k, int64_t chunk) {
  check_topk_masked_common("topk_masked", user_emb, item_emb, users, mask_rowptr, mask_col, k,
                           chunk);
}

void check_topk_masked_auc_args(const at::Tensor& user_emb, const at::Tensor& item_emb,
                                const at::Tensor& users, const at::Tensor& mask_rowptr,
                                const at::Tensor& mask_col, const at::Tensor& test_rowptr,
                                const at::Tensor& test_col, int64_t k, int64_t chunk) {
  const char* op = "_topk_masked_auc";
  check_topk_masked_common(op, user_emb, item_emb, users, mask_rowptr, mask_col, k, chunk);
  check_csr(op, "test_", test_rowptr, test_col, std::nullopt, user_emb);
  TORCH_CHECK(test_rowptr.sym_numel() - 1 == user_emb.sym_size(0), op,
              ": test_rowptr must have one entry per user plus one (", user_emb.sym_size(0) + 1,
              "), got ", test_rowptr.sym_numel());
}

void check_topk_masked_scores_args(const at::Tensor& scores, const at::Tensor& users,
                                   const at::Tensor& mask_rowptr, const at::Tensor& mask_col,
                                   const std::optional<at::Tensor>& test_rowptr,
                                   const std::optional<at::Tensor>& test_col, int64_t k) {
  const char* op = "_topk_masked_scores";
  check_dense(op, "scores", scores, scores);
  TORCH_CHECK(users.dim() == 1 && users.scalar_type() == at::kLong, op,
              ": users must be 1-D int64, got ", users.dim(), "-D ", users.scalar_type());
  TORCH_CHECK(users.device() == scores.device(), op, ": users must be on ", scores.device(),
              ", got ", users.device());
  TORCH_CHECK(users.sym_numel() == scores.sym_size(0), op,
              ": users must name the user of each score row (", scores.sym_size(0), "), got ",
              users.sym_numel());
  check_csr(op, "mask_", mask_rowptr, mask_col, std::nullopt, scores);
  TORCH_CHECK(test_rowptr.has_value() == test_col.has_value(), op,
              ": test_rowptr and test_col go together");
  if (test_rowptr) {
    check_csr(op, "test_", *test_rowptr, *test_col, std::nullopt, scores);
    TORCH_CHECK(test_rowptr->sym_numel() == mask_rowptr.sym_numel(), op,
                ": test_rowptr must have one entry per user plus one (", mask_rowptr.sym_numel(),
                "), got ", test_rowptr->sym_numel());
  }
  TORCH_CHECK(k >= 0, op, ": k must be non-negative, got ", k);
  TORCH_CHECK(scores.sym_size(1) >= k, op, ": k (", k, ") must not exceed the number of items (",
              scores.sym_size(1), ")");
}

}  // namespace gnnrec::ops
