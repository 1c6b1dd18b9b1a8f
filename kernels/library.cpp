// The one place where the gnnrec operator schemas are declared. Device
// implementations register under cpu/, cuda/, meta/; autograd under autograd/.
// Names with a leading underscore are internal: the backward passes of the
// public operators, registered as operators so that they dispatch by device,
// and the evaluator's _topk_masked_auc.
#include <torch/library.h>

TORCH_LIBRARY(gnnrec, m) {
  m.def(
      "spmm(Tensor rowptr, Tensor col, Tensor? value, Tensor t_rowptr, Tensor t_col, "
      "Tensor? t_perm, Tensor x) -> Tensor");
  m.def(
      "sddmm(Tensor rowptr, Tensor col, Tensor t_rowptr, Tensor t_col, Tensor t_perm, "
      "Tensor a, Tensor b) -> Tensor");
  m.def(
      "spmm_reduce(Tensor rowptr, Tensor col, Tensor t_rowptr, Tensor t_col, Tensor t_perm, "
      "Tensor x, str reduce) -> (Tensor, Tensor)");
  m.def(
      "sddmm_add(Tensor rowptr, Tensor col, Tensor t_rowptr, Tensor t_col, Tensor t_perm, "
      "Tensor a_row, Tensor a_col) -> Tensor");
  m.def("edge_softmax(Tensor rowptr, Tensor score) -> Tensor");
  m.def(
      "sample_neighbors(Tensor rowptr, Tensor col, Tensor seeds, int fanout, bool replace, "
      "int seed) -> (Tensor, Tensor)");
  m.def(
      "sample_negatives(Tensor rowptr, Tensor col, Tensor users, int num_items, int k, int seed) "
      "-> Tensor");
  m.def(
      "topk_masked(Tensor user_emb, Tensor item_emb, Tensor users, Tensor mask_rowptr, "
      "Tensor mask_col, int k, int chunk) -> (Tensor, Tensor)");

  m.def(
      "_spmm_reduce_max_backward(Tensor t_rowptr, Tensor t_col, Tensor t_perm, Tensor arg, "
      "Tensor grad) -> Tensor");
  m.def("_segment_sum_csr(Tensor rowptr, Tensor src, Tensor? perm) -> Tensor");
  m.def("_edge_softmax_backward(Tensor rowptr, Tensor y, Tensor grad) -> Tensor");
  // topk_masked plus each user's AUC from the same score chunks (the
  // evaluator's pass: the scores are computed once for both).
  m.def(
      "_topk_masked_auc(Tensor user_emb, Tensor item_emb, Tensor users, Tensor mask_rowptr, "
      "Tensor mask_col, Tensor test_rowptr, Tensor test_col, int k, int chunk) "
      "-> (Tensor, Tensor, Tensor)");
}
