// The pieces of the training-free graph-filter models (GF-CF, BSPM): the
// normalised interaction matrix, its item–item Gram operator, its top right
// singular vectors, the rows of users' interactions they filter, and the
// Model both derive from.
//
//   R̃ = D_u^-1/2 R D_i^-1/2   (R the binary user–item training matrix,
//                               D_u, D_i user and item degrees; a user or
//                               item without interactions has a zero row or
//                               column)
//   G = R̃ᵀ R̃                  the linear low-pass filter (item–item, I x I)
//
// G is never formed: on Gowalla it would be 41k x 41k, 6.7 GB dense in
// float32 and ~10^8 entries sparse. It is applied to a block of columns
// X [I, c] as R̃ᵀ (R̃ X), two sparse-dense products (gnnrec::spmm), at a
// cost of 4 · nnz(R) · c.
#pragma once

#include <cstdint>
#include <utility>

#include <ATen/core/Tensor.h>

#include "graph/bipartite_graph.h"
#include "kernels/sparse_adjacency.h"
#include "models/model.h"

namespace gnnrec {

class NormalizedInteractions {
 public:
  // R̃ of g's training interactions in `dtype` (float32 or float64) on `device`.
  NormalizedInteractions(const BipartiteGraph& g, at::ScalarType dtype, at::Device device);

  int64_t num_users() const { return r_.num_rows; }
  int64_t num_items() const { return r_.num_cols; }
  at::Device device() const { return device_; }
  // G X = R̃ᵀ (R̃ X) for X [I, c] of the matrix's dtype and device.
  at::Tensor gram(const at::Tensor& x) const;
  // The entries of R in the rows of `users` (int64 [n], any device): (item,
  // j) for every item of user users[j], as two int64 tensors on the
  // matrix's device, j ascending.
  std::pair<at::Tensor, at::Tensor> user_entries(const at::Tensor& users) const;
  // The binary rows of `users` (int64 [n], any device), transposed:
  // [I, n], column j holding 1 at the items user users[j] interacted with,
  // in `dtype` on the matrix's device. The column layout is what gram()
  // takes.
  at::Tensor user_columns(const at::Tensor& users, at::ScalarType dtype) const;
  // d_i^p for every item (float64 [I], on the CPU), 0 where d_i = 0.
  at::Tensor item_degree_power(double p) const;

 private:
  SparseAdjacency r_;                  // R̃ [U, I]
  SparseAdjacency rt_;                 // R̃ᵀ [I, U]
  at::Tensor user_rowptr_, user_col_;  // R's CSR on the CPU (int64, int32)
  at::Tensor item_degree_;             // float64 [I]
  at::Device device_;
};

// The k right singular vectors of R̃ with the largest singular values, by
// Chebyshev-filtered subspace iteration on G (a randomized start as in
// Halko, Martinsson & Tropp, 2011; the filter of Zhou & Saad, 2007) in
// float64: a Gaussian block of l = k + oversample columns (seeded,
// orthonormalised), then per iteration a Rayleigh–Ritz step (the
// eigenpairs of Qᵀ G Q) and, until every one of the top k Ritz pairs
// (λ, v) has a residual ‖G v − λ v‖ ≤ tol · λ_max (or max_iterations),
// Q ← orth(p(G) Q) with p the degree-10 Chebyshev polynomial that damps
// [0, the block's smallest Ritz value]. On Gowalla (k 256) that is about 5
// iterations where plain subspace iteration (Q ← orth(G Q)) took 77.
// Deterministic for a seed and thread count (the BLAS may round
// differently with more threads).
struct SingularVectors {
  at::Tensor values;   // float64 [k], descending: σ_j of R̃
  at::Tensor vectors;  // float64 [I, k], orthonormal columns
  int64_t iterations = 0;
  double residual = 0;  // the largest relative residual reached
};
SingularVectors top_right_singular_vectors(const NormalizedInteractions& r, int64_t k,
                                           uint64_t seed, double tol = 1e-4,
                                           int64_t max_iterations = 200, int64_t oversample = -1);

// The base of GF-CF and BSPM: a training-free model (Model::closed_form)
// whose fit() computes the top `--svd-rank` right singular vectors U_k of
// R̃ into its parameters "singular_vectors" (float32 [I, k]) and
// "singular_values" ([k]), none of which requires grad, and whose scores are
// rows (Model::ranks_rows): ranking_rows() scores blocks of users as
// columns through score_columns(). The seed of the SVD's start is --seed.
class GraphFilterModel : public Model {
 public:
  GraphFilterModel(const ModelOptions& o, const PropagationGraph& g, at::Device device);

  std::pair<at::Tensor, at::Tensor> forward() override;  // throws: no factors
  std::pair<at::Tensor, at::Tensor> ego(const at::Tensor&, const at::Tensor&) override;
  std::vector<NamedTensor> parameters() override;
  bool closed_form() const override { return true; }
  // "256 singular vectors: 41 iterations, relative residual 9.1e-05".
  std::string fit() override;
  bool ranks_rows() const override { return true; }
  at::Tensor ranking_rows(const at::Tensor& users) override;

 protected:
  // The scores of `users` as columns [I, c] (float32), c at most 512.
  virtual at::Tensor score_columns(const at::Tensor& users) = 0;
  // The users' binary rows as columns X [I, c] (float32).
  at::Tensor columns(const at::Tensor& users) const { return r_.user_columns(users, at::kFloat); }
  // G X = R̃ᵀ R̃ X.
  at::Tensor gram(const at::Tensor& x) const { return r_.gram(x); }
  // The ideal low-pass filter of the users' columns X:
  // D_i^1/2 U_k U_kᵀ D_i^-1/2 X [I, c], the inner product summed from the
  // users' items only.
  at::Tensor ideal(const at::Tensor& users) const;

 private:
  void set_factors();

  const BipartiteGraph& graph_;
  uint64_t seed_;
  int64_t rank_;
  at::Device device_;
  NormalizedInteractions r_;
  at::Tensor vectors_, values_;  // the fitted parameters
  at::Tensor left_, right_;      // D^1/2 U_k, D^-1/2 U_k
};

}  // namespace gnnrec
