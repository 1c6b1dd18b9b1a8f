// ItemKNN and UserKNN: the memory-based neighbourhood recommenders (item-
// based: Sarwar et al., WWW 2001; Deshpande & Karypis, TOIS 2004), as
// RecBole 1.2.1's ItemKNN computes them (its defaults k 100, shrink 0;
// UserKNN is the same on users, RecBole's compute_users_similarity).
// Training-free (Model::closed_form): fit() computes the top `--knn-neighbors`
// cosine neighbours of every item (user) over the binary training matrix R
// (models/knn.h) into the parameters "neighbors" (int64 [n, k]) and
// "similarities" (float32 [n, k]); the scores are rows (Model::ranks_rows):
//   itemknn: s(u, i) = Σ_{j ∈ R_u} W_ji,  W_ji = sim(i, j) for j among i's
//            k neighbours, else 0      (RecBole: pred = R · W)
//   userknn: s(u, i) = Σ_v W_uv R_vi,   W_uv = sim(u, v) for v among u's
//            k neighbours, else 0      (pred = W · R)
// both computed for a block of users as a product of two sparse matrices,
// one user row at a time on the CPU: itemknn R[users] · Nᵀ, userknn
// N[users] · R, N the neighbour lists (O(nnz(R) · k) for all users, where
// the sparse-dense N X, X the users' rows as columns, costs nnz(N) per
// user: itemknn's whole Gowalla evaluation took 54 s that way, 16 s this
// way, 2 threads; userknn's Rᵀ Y took 18 s, this 21 s).
#include "models/knn.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <stdexcept>
#include <string>

#include "kernels/sparse_adjacency.h"
#include "models/model.h"

namespace gnnrec {

std::pair<at::Tensor, at::Tensor> cosine_neighbors(const std::vector<int64_t>& offsets,
                                                   const std::vector<int32_t>& columns,
                                                   const std::vector<int64_t>& t_offsets,
                                                   const std::vector<int32_t>& t_rows, int64_t k,
                                                   double shrink) {
  if (k < 1)
    throw std::invalid_argument("--knn-neighbors must be at least 1, got " + std::to_string(k));
  if (!(shrink >= 0))
    throw std::invalid_argument("--shrink must be >= 0, got " + std::to_string(shrink));
  const auto n = static_cast<int64_t>(offsets.size()) - 1;
  k = std::min(k, std::max<int64_t>(n, 1));
  std::vector<double> norm(static_cast<size_t>(std::max<int64_t>(n, 0)));
  for (int64_t a = 0; a < n; ++a)
    norm[a] = std::sqrt(static_cast<double>(offsets[a + 1] - offsets[a]));
  at::Tensor index = at::empty({n, k}, at::kLong);
  at::Tensor weight = at::zeros({n, k}, at::kFloat);
  int64_t* ip = index.data_ptr<int64_t>();
  float* wp = weight.data_ptr<float>();
  at::parallel_for(0, n, 64, [&](int64_t begin, int64_t end) {
    std::vector<int64_t> count(static_cast<size_t>(n), 0);
    std::vector<int32_t> touched;
    std::vector<std::pair<double, int32_t>> row;
    for (int64_t a = begin; a < end; ++a) {
      // Row a of A Aᵀ, sparse: the co-occurrence counts of a with every row.
      touched.clear();
      for (int64_t e = offsets[a]; e < offsets[a + 1]; ++e) {
        const int32_t c = columns[e];
        for (int64_t f = t_offsets[c]; f < t_offsets[c + 1]; ++f) {
          if (count[t_rows[f]]++ == 0) touched.push_back(t_rows[f]);
        }
      }
      row.clear();
      for (const int32_t b : touched) {
        if (b != a) {
          row.emplace_back(static_cast<double>(count[b]) / (norm[a] * norm[b] + shrink + 1e-6), b);
        }
        count[b] = 0;
      }
      const auto m = std::min<int64_t>(k, static_cast<int64_t>(row.size()));
      std::partial_sort(row.begin(), row.begin() + m, row.end(), [](const auto& x, const auto& y) {
        return x.first != y.first ? x.first > y.first : x.second < y.second;
      });
      for (int64_t s = 0; s < k; ++s) {
        ip[a * k + s] = s < m ? row[s].second : a;
        wp[a * k + s] = s < m ? static_cast<float>(row[s].first) : 0.0f;
      }
    }
  });
  return {index, weight};
}

namespace {

// Users scored at once: [512, I] float32 blocks (84 MB on Gowalla).
constexpr int64_t kUsersPerBlock = 512;

// A CSR matrix on the CPU: int64 rowptr [n+1], int32 col [nnz], float32
// value [nnz] (undefined: every entry 1).
struct Csr {
  at::Tensor rowptr, col, value;
};

Csr csr_of(const std::vector<int64_t>& offsets, const std::vector<int32_t>& columns) {
  return {at::tensor(offsets, at::kLong),
          columns.empty() ? at::empty({0}, at::kInt) : at::tensor(columns, at::kInt),
          {}};
}

// The rows `users` of A · B, dense [n, cols] float32 on the CPU: row u is
// Σ_{(m, a) ∈ A_u} a · B_m, one sparse row at a time (O(Σ_u Σ_{m ∈ A_u}
// |B_m|), where the dense-operand product N X costs nnz(N) per column).
at::Tensor product_rows(const Csr& a, const Csr& b, const at::Tensor& users, int64_t cols) {
  const int64_t n = users.numel();
  at::Tensor out = at::zeros({n, cols}, at::kFloat);
  const int64_t* up = users.data_ptr<int64_t>();
  const int64_t *arp = a.rowptr.data_ptr<int64_t>(), *brp = b.rowptr.data_ptr<int64_t>();
  const int32_t *acol = a.col.data_ptr<int32_t>(), *bcol = b.col.data_ptr<int32_t>();
  const float* aval = a.value.defined() ? a.value.data_ptr<float>() : nullptr;
  const float* bval = b.value.defined() ? b.value.data_ptr<float>() : nullptr;
  float* op = out.data_ptr<float>();
  at::parallel_for(0, n, 16, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      float* row = op + r * cols;
      for (int64_t ea = arp[up[r]]; ea < arp[up[r] + 1]; ++ea) {
        const int32_t m = acol[ea];
        const float w = aval ? aval[ea] : 1.0f;
        for (int64_t eb = brp[m]; eb < brp[m + 1]; ++eb)
          row[bcol[eb]] += w * (bval ? bval[eb] : 1.0f);
      }
    }
  });
  return out;
}

class KnnModel : public Model {
 public:
  KnnModel(const ModelOptions& o, const PropagationGraph& pg, at::Device device, bool by_item)
      : graph_(pg.graph()), by_item_(by_item), k_(o.knn_neighbors.value()),
        shrink_(o.shrink.value()), device_(device),
        r_(csr_of(graph_.user_offsets(), graph_.user_items())) {
    if (k_ < 1) {
      throw std::invalid_argument("--knn-neighbors must be at least 1, got " + std::to_string(k_));
    }
    const int64_t n = by_item ? graph_.num_items() : graph_.num_users();
    const int64_t k = std::min(k_, std::max<int64_t>(n, 1));
    index_ = at::zeros({n, k}, at::TensorOptions(device).dtype(at::kLong));
    weight_ = at::zeros({n, k}, at::TensorOptions(device).dtype(at::kFloat));
  }

  std::string name() const override { return by_item_ ? "itemknn" : "userknn"; }
  std::pair<at::Tensor, at::Tensor> forward() override {
    throw std::logic_error(name() + " has no embeddings: its scores are rows of a neighbourhood " +
                           "model (Model::ranking_rows)");
  }
  std::pair<at::Tensor, at::Tensor> ego(const at::Tensor&, const at::Tensor&) override {
    return forward();
  }
  std::vector<NamedTensor> parameters() override {
    return {{"neighbors", index_}, {"similarities", weight_}};
  }
  bool closed_form() const override { return true; }
  bool ranks_rows() const override { return true; }

  std::string fit() override {
    const auto [index, weight] =
        by_item_ ? cosine_neighbors(graph_.item_offsets(), graph_.item_users(),
                                    graph_.user_offsets(), graph_.user_items(), k_, shrink_)
                 : cosine_neighbors(graph_.user_offsets(), graph_.user_items(),
                                    graph_.item_offsets(), graph_.item_users(), k_, shrink_);
    index_.copy_(index);
    weight_.copy_(weight);
    char line[160];
    std::snprintf(line, sizeof line, "%lld neighbours per %s, %lld non-zero similarities",
                  static_cast<long long>(index.size(1)), by_item_ ? "item" : "user",
                  static_cast<long long>((weight > 0).sum().item<int64_t>()));
    return line;
  }

  // itemknn: R[users] · Nᵀ (Nᵀ_j lists the items i that keep j, with
  // sim(i, j)); userknn: N[users] · R. Computed on the CPU.
  at::Tensor ranking_rows(const at::Tensor& users_in) override {
    at::NoGradGuard no_grad;
    const at::Tensor users = users_in.to(at::kCPU, at::kLong).contiguous();
    refresh_neighbors();
    const Csr& a = by_item_ ? r_ : neighbors_;
    const Csr& b = by_item_ ? neighbors_ : r_;
    std::vector<at::Tensor> blocks;
    for (int64_t s = 0; s < users.numel(); s += kUsersPerBlock) {
      const at::Tensor block = users.narrow(0, s, std::min(kUsersPerBlock, users.numel() - s));
      blocks.push_back(product_rows(a, b, block, graph_.num_items()).to(device_));
    }
    if (blocks.empty()) return at::zeros({0, graph_.num_items()}, weight_.options());
    return at::cat(blocks);
  }

 private:
  // The neighbour lists as a CSR on the CPU (userknn: N, row u its
  // neighbours; itemknn: Nᵀ), rebuilt when the parameters changed (fit(), or
  // a loaded run's copy).
  void refresh_neighbors() {
    const int64_t version = index_._version() + weight_._version();
    if (neighbors_.rowptr.defined() && version == neighbors_version_) return;
    const int64_t n = index_.size(0), k = index_.size(1);
    SparseAdjacency a;
    a.num_rows = n, a.num_cols = n;
    a.rowptr = at::arange(0, n * k + 1, k, at::kLong);
    a.col = index_.cpu().to(at::kInt).reshape({-1});
    a.value = weight_.cpu().reshape({-1}).contiguous();
    if (by_item_) {
      fill_transpose(a);
      neighbors_ = {a.t_rowptr, a.t_col, a.value.index_select(0, a.t_perm)};
    } else {
      neighbors_ = {a.rowptr, a.col, a.value};
    }
    neighbors_version_ = version;
  }

  const BipartiteGraph& graph_;
  bool by_item_;
  int64_t k_;
  double shrink_;
  at::Device device_;
  Csr r_;                      // R, binary [U, I]
  at::Tensor index_, weight_;  // the fitted parameters
  Csr neighbors_;              // N (userknn) or Nᵀ (itemknn)
  int64_t neighbors_version_ = -1;
};

const ModelRegistrar kItemKnn(
    "itemknn",
    [](const ModelOptions& o, const PropagationGraph& g, at::Device d) -> std::unique_ptr<Model> {
      return std::make_unique<KnnModel>(o, g, d, true);
    },
    ModelDefaults().knn_neighbors(100).shrink(0.0));
const ModelRegistrar kUserKnn(
    "userknn",
    [](const ModelOptions& o, const PropagationGraph& g, at::Device d) -> std::unique_ptr<Model> {
      return std::make_unique<KnnModel>(o, g, d, false);
    },
    ModelDefaults().knn_neighbors(100).shrink(0.0));

}  // namespace
}  // namespace gnnrec
