// The one place where the gnnrec operator schemas are declared. Every
// operator OP is implemented in the same set of files (kernels/CMakeLists.txt
// lists the operators):
//   cpu/OP.cpp       CPU (OpenMP)
//   cuda/OP.cpp      CUDA binding: checks, allocates, calls the launcher
//   cuda/OP.cu       CUDA kernels and their raw-pointer launcher
//                    (declared in cuda/launchers.h; no Torch headers)
//   meta/OP.cpp      fake implementation (shapes, dtypes)
//   autograd/OP.cpp  its Autograd entry: the backward, or a fallthrough
//                    when it has no gradient
//   tests/kernels/OP_test.cpp, parametrised by device
// beside the shared entry points (ops.h), argument checks (checks.h) and
// the CSR-with-transpose struct the operators take (sparse_adjacency.h).
// Names with a leading underscore are internal: the backward passes of the
// public operators, registered as operators so that they dispatch by device
// and living in their operator's files (_segment_sum_csr, the backward of
// sddmm_add, has a file set of its own, without autograd), the evaluator's
// _topk_masked_auc and _topk_masked_scores (in topk_masked's files), and the Python package's entry
// points into the trainer and evaluator (implemented in train/python_ops.cpp).
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
  // The same ranking of score rows given by the caller (a model whose scores
  // are not a dot product of factors: models/model.h, ranking_rows): row j
  // of scores [n, I] belongs to users[j]; the AUC [n] only with a test CSR
  // (else an empty tensor).
  m.def(
      "_topk_masked_scores(Tensor scores, Tensor users, Tensor mask_rowptr, Tensor mask_col, "
      "Tensor? test_rowptr, Tensor? test_col, int k) -> (Tensor, Tensor, Tensor)");

  // gnnrec.metrics and gnnrec.train (train/python_ops.cpp): the C++
  // evaluator, training loop and data loading.
  m.def(
      "_evaluate_ranking(Tensor user_emb, Tensor item_emb, Tensor train_rowptr, Tensor train_col, "
      "Tensor test_rowptr, Tensor test_col, int[] ks) -> (str[], Tensor)");
  m.def("_train(str config_json, bool resume=False, bool overwrite=False) -> str");
  m.def(
      "_load_dataset(str config_json) -> (Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, str[], "
      "str[])");
  // gnnrec.load_run: a run's ranking factors, raw ids and model card.
  m.def("_load_run(str run_dir, str which) -> (Tensor, Tensor, str[], str[], str)");
}
