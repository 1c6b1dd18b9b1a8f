#include "models/graph_filter.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <vector>

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

namespace gnnrec {

NormalizedInteractions::NormalizedInteractions(const BipartiteGraph& g, at::ScalarType dtype,
                                               at::Device device)
    : device_(device) {
  const int64_t U = g.num_users(), I = g.num_items(), nnz = g.num_edges();
  user_rowptr_ = at::tensor(g.user_offsets(), at::kLong);
  user_col_ = nnz > 0 ? at::tensor(g.user_items(), at::kInt) : at::empty({0}, at::kInt);
  item_degree_ = at::empty({I}, at::kDouble);
  double* di = item_degree_.data_ptr<double>();
  for (int64_t i = 0; i < I; ++i) di[i] = static_cast<double>(g.item_degree(i));
  // R̃'s entries d_u^-1/2 d_i^-1/2, in CSR order.
  at::Tensor value = at::empty({nnz}, at::kDouble);
  double* vp = value.data_ptr<double>();
  const auto& off = g.user_offsets();
  const auto& items = g.user_items();
  for (int64_t u = 0; u < U; ++u) {
    const double du = static_cast<double>(off[u + 1] - off[u]);
    for (int64_t e = off[u]; e < off[u + 1]; ++e) vp[e] = 1.0 / std::sqrt(du * di[items[e]]);
  }
  r_.num_rows = U, r_.num_cols = I;
  r_.rowptr = user_rowptr_, r_.col = user_col_, r_.value = value;
  fill_transpose(r_);
  rt_.num_rows = I, rt_.num_cols = U;
  rt_.rowptr = r_.t_rowptr, rt_.col = r_.t_col, rt_.value = value.index_select(0, r_.t_perm);
  fill_transpose(rt_);
  r_ = r_.to(device, dtype);
  rt_ = rt_.to(device, dtype);
}

at::Tensor NormalizedInteractions::gram(const at::Tensor& x) const {
  return rt_.matmul(r_.matmul(x));
}

std::pair<at::Tensor, at::Tensor> NormalizedInteractions::user_entries(
    const at::Tensor& users_in) const {
  const at::Tensor users = users_in.to(at::kCPU, at::kLong).contiguous();
  const int64_t n = users.numel();
  const int64_t* up = users.data_ptr<int64_t>();
  const int64_t* rp = user_rowptr_.data_ptr<int64_t>();
  const int32_t* cp = user_col_.data_ptr<int32_t>();
  std::vector<int64_t> item, column;
  for (int64_t j = 0; j < n; ++j) {
    if (up[j] < 0 || up[j] >= num_users()) {
      throw std::invalid_argument("user_entries: user " + std::to_string(up[j]) + " outside [0, " +
                                  std::to_string(num_users()) + ")");
    }
    for (int64_t e = rp[up[j]]; e < rp[up[j] + 1]; ++e) item.push_back(cp[e]), column.push_back(j);
  }
  const auto as_tensor = [&](const std::vector<int64_t>& v) {
    return v.empty() ? at::empty({0}, at::TensorOptions(device_).dtype(at::kLong))
                     : at::tensor(v, at::kLong).to(device_);
  };
  return {as_tensor(item), as_tensor(column)};
}

at::Tensor NormalizedInteractions::user_columns(const at::Tensor& users,
                                                at::ScalarType dtype) const {
  const auto [item, column] = user_entries(users);
  at::Tensor x = at::zeros({num_items(), users.numel()}, at::TensorOptions(device_).dtype(dtype));
  x.index_put_({item, column}, at::ones({item.numel()}, x.options()));
  return x;
}

at::Tensor NormalizedInteractions::item_degree_power(double p) const {
  return at::where(item_degree_ > 0, item_degree_.pow(p), at::zeros_like(item_degree_));
}

namespace {

// G applications between two orthonormalisations.
constexpr int64_t kChebyshevDegree = 10;

// An orthonormal basis of x's columns (reduced QR).
at::Tensor orthonormal(const at::Tensor& x) { return std::get<0>(at::linalg_qr(x, "reduced")); }

// p(G) X with p(λ) = T_m((λ − c)/e) / T_m((top − c)/e), c = e = cut/2: the
// Chebyshev polynomial of degree m that is at most 1 in magnitude on
// [0, cut] and grows fastest above it, scaled to 1 at `top` (Zhou & Saad,
// 2007, Algorithm 3.2, mirrored to keep the largest eigenvalues). With
// s_j = T_j(x_top) / T_j+1(x_top): Y_1 = x(G) X / x_top and
// Y_j+1 = 2 s_j x(G) Y_j − s_j−1 s_j Y_j−1, x(G) Y = (G Y − c Y) / e.
at::Tensor chebyshev_filter(const NormalizedInteractions& r, const at::Tensor& x, double cut,
                            double top, int64_t m) {
  const double c = cut / 2, e = cut / 2, x_top = (top - c) / e;
  const auto xg = [&](const at::Tensor& y) { return (r.gram(y) - y * c) / e; };
  at::Tensor prev = x, y = xg(x) / x_top;
  double s_prev = 1 / x_top;
  for (int64_t j = 1; j < m; ++j) {
    const double s = 1 / (2 * x_top - s_prev);
    at::Tensor next = xg(y) * (2 * s) - prev * (s_prev * s);
    prev = y, y = next, s_prev = s;
  }
  return y;
}

}  // namespace

SingularVectors top_right_singular_vectors(const NormalizedInteractions& r, int64_t k,
                                           uint64_t seed, double tol, int64_t max_iterations,
                                           int64_t oversample) {
  const int64_t I = r.num_items();
  if (k < 1 || k > I) {
    throw std::invalid_argument("--svd-rank must be in [1, " + std::to_string(I) +
                                "] (the number of items), got " + std::to_string(k));
  }
  at::NoGradGuard no_grad;
  const int64_t p = oversample >= 0 ? oversample : std::max<int64_t>(16, k / 4);
  const int64_t l = std::min(I, k + p);
  auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  const at::Tensor start = at::empty({I, l}, at::kDouble).normal_(0.0, 1.0, gen);
  at::Tensor q = orthonormal(start.to(r.device()));
  SingularVectors out;
  for (int64_t it = 1;; ++it) {
    const at::Tensor z = r.gram(q);  // G Q
    // Rayleigh–Ritz: the eigenpairs of Qᵀ G Q, ascending.
    at::Tensor b = at::matmul(q.t(), z);
    b = (b + b.t()) * 0.5;
    const auto [w_all, v_all] = at::linalg_eigh(b);
    const at::Tensor order =
        at::arange(l - 1, l - 1 - k, -1, at::TensorOptions(w_all.device()).dtype(at::kLong));
    const at::Tensor w = w_all.index_select(0, order), v = v_all.index_select(1, order);
    const at::Tensor vectors = at::matmul(q, v);
    const at::Tensor residual = (at::matmul(z, v) - vectors * w).norm(2, {0});
    const double top = w_all[l - 1].item<double>(), cut = w_all[0].item<double>();
    out.residual = residual.max().item<double>() / std::max(top, 1e-300);
    out.iterations = it;
    if (out.residual <= tol || it >= max_iterations) {
      out.values = w.clamp_min(0).sqrt().cpu();
      out.vectors = vectors;
      return out;
    }
    // Damp what lies below the block's smallest Ritz value, amplify above.
    q = orthonormal(cut > 0 && top > cut * 1.000001
                        ? chebyshev_filter(r, at::matmul(q, v_all), cut, top, kChebyshevDegree)
                        : z);
  }
}

namespace {

// Users scored at once: [I, 512] float32 blocks (84 MB each on Gowalla).
constexpr int64_t kUsersPerBlock = 512;

}  // namespace

GraphFilterModel::GraphFilterModel(const ModelOptions& o, const PropagationGraph& g,
                                   at::Device device)
    : graph_(g.graph()), seed_(o.seed), rank_(o.svd_rank.value()), device_(device),
      r_(g.graph(), at::kFloat, device) {
  if (rank_ > graph_.num_items()) {
    throw std::invalid_argument("--svd-rank must not exceed the number of items (" +
                                std::to_string(graph_.num_items()) + "), got " +
                                std::to_string(rank_));
  }
  const auto f32 = at::TensorOptions(device).dtype(at::kFloat);
  vectors_ = at::zeros({graph_.num_items(), rank_}, f32);
  values_ = at::zeros({rank_}, f32);
  set_factors();
}

std::pair<at::Tensor, at::Tensor> GraphFilterModel::forward() {
  throw std::logic_error(name() + " has no embeddings: its scores are rows of an item-item " +
                         "filter (Model::ranking_rows)");
}

std::pair<at::Tensor, at::Tensor> GraphFilterModel::ego(const at::Tensor&, const at::Tensor&) {
  return forward();
}

std::vector<NamedTensor> GraphFilterModel::parameters() {
  return {{"singular_vectors", vectors_}, {"singular_values", values_}};
}

std::string GraphFilterModel::fit() {
  const NormalizedInteractions r64(graph_, at::kDouble, device_);
  const SingularVectors svd = top_right_singular_vectors(r64, rank_, seed_);
  at::NoGradGuard no_grad;
  vectors_.copy_(svd.vectors);
  values_.copy_(svd.values);
  set_factors();
  char line[160];
  std::snprintf(line, sizeof line,
                "%lld singular vectors: %lld iterations, relative residual %.1e, sigma %.4f .. "
                "%.4f",
                static_cast<long long>(rank_), static_cast<long long>(svd.iterations), svd.residual,
                svd.values[0].item<double>(), svd.values[rank_ - 1].item<double>());
  return line;
}

void GraphFilterModel::set_factors() {
  const at::Tensor d = r_.item_degree_power(0.5).to(device_, at::kFloat).unsqueeze(1);
  const at::Tensor d_inv = r_.item_degree_power(-0.5).to(device_, at::kFloat).unsqueeze(1);
  left_ = vectors_.detach() * d;
  right_ = vectors_.detach() * d_inv;
}

at::Tensor GraphFilterModel::ideal(const at::Tensor& users) const {
  const auto [item, column] = r_.user_entries(users);
  const at::Tensor inner = at::zeros({users.numel(), rank_}, right_.options())
                               .index_add_(0, column, right_.index_select(0, item));
  return at::matmul(left_, inner.t());
}

at::Tensor GraphFilterModel::ranking_rows(const at::Tensor& users) {
  at::NoGradGuard no_grad;
  set_factors();  // a loaded run's vectors were copied in after construction
  std::vector<at::Tensor> blocks;
  for (int64_t s = 0; s < users.numel(); s += kUsersPerBlock) {
    blocks.push_back(
        score_columns(users.narrow(0, s, std::min(kUsersPerBlock, users.numel() - s))).t());
  }
  if (blocks.empty()) return at::zeros({0, graph_.num_items()}, left_.options());
  return at::cat(blocks);
}

}  // namespace gnnrec
