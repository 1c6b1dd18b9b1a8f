#include "train/fold_in.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <unordered_map>

#include <ATen/ATen.h>

namespace gnnrec {
namespace {

// The nodes of the graph with a new node x joined to S (unified ids: users
// 0..U-1, items U..U+I-1, x = U+I): neighbours and degrees.
class JoinedGraph {
 public:
  JoinedGraph(const BipartiteGraph& g, bool new_user, const std::vector<int32_t>& neighbours)
      : g_(g), U_(g.num_users()), x_(g.num_users() + g.num_items()) {
    for (const int32_t id : neighbours) s_.push_back(new_user ? U_ + id : id);
    std::sort(s_.begin(), s_.end());
    s_.erase(std::unique(s_.begin(), s_.end()), s_.end());
  }
  int64_t x() const { return x_; }
  bool in_s(int64_t v) const { return std::binary_search(s_.begin(), s_.end(), v); }
  double degree(int64_t v) const {
    if (v == x_) return static_cast<double>(s_.size());
    const int64_t base = v < U_ ? g_.user_degree(v) : g_.item_degree(v - U_);
    return static_cast<double>(base + (in_s(v) ? 1 : 0));
  }
  template <typename F>
  void for_neighbours(int64_t v, F f) const {
    if (v == x_) {
      for (const int64_t w : s_) f(w);
      return;
    }
    if (v < U_) {
      for (int64_t e = g_.user_offsets()[v]; e < g_.user_offsets()[v + 1]; ++e) {
        f(U_ + g_.user_items()[e]);
      }
    } else {
      for (int64_t e = g_.item_offsets()[v - U_]; e < g_.item_offsets()[v - U_ + 1]; ++e) {
        f(static_cast<int64_t>(g_.item_users()[e]));
      }
    }
    if (in_s(v)) f(x_);
  }

 private:
  const BipartiteGraph& g_;
  int64_t U_, x_;
  std::vector<int64_t> s_;
};

// The nodes whose layer-k representation x's layer K needs, with their rows.
struct Layer {
  std::vector<int64_t> nodes;
  std::unordered_map<int64_t, int64_t> row;
  std::vector<double> values;  // nodes.size() x d
  void add(int64_t v) {
    if (row.emplace(v, static_cast<int64_t>(nodes.size())).second) nodes.push_back(v);
  }
};

void check_ids(const std::vector<int32_t>& ids, int64_t n, const char* what) {
  if (ids.empty()) throw std::invalid_argument(std::string("fold-in: no ") + what + " given");
  for (const int32_t id : ids) {
    if (id < 0 || id >= n) {
      throw std::invalid_argument(std::string("fold-in: ") + what + " id " + std::to_string(id) +
                                  " out of range [0, " + std::to_string(n) + ")");
    }
  }
}

class LeastSquares : public FoldIn {
 public:
  LeastSquares(const ServingRun& s, std::optional<double> l2)
      : s_(s), l2_(l2), item_sq_(mean_square(s.items)), user_sq_(mean_square(s.users)) {}
  std::string method() const override { return "least-squares"; }
  at::Tensor new_user(const std::vector<int32_t>& items) const override {
    const double lambda = l2_ ? *l2_ : static_cast<double>(items.size()) * item_sq_;
    return least_squares_fold_in(s_.items, items, lambda).to(at::kFloat);
  }
  at::Tensor new_item(const std::vector<int32_t>& users) const override {
    const double lambda = l2_ ? *l2_ : static_cast<double>(users.size()) * user_sq_;
    return least_squares_fold_in(s_.users, users, lambda).to(at::kFloat);
  }

 private:
  static double mean_square(const at::Tensor& f) { return default_fold_in_l2(f, 1); }
  const ServingRun& s_;
  std::optional<double> l2_;
  double item_sq_, user_sq_;
};

class Propagation : public FoldIn {
 public:
  Propagation(const ServingRun& s, at::Tensor ego, int64_t layers)
      : s_(s), ego_(ego.detach().to(at::kCPU, at::kDouble).contiguous()), layers_(layers) {}
  std::string method() const override { return "propagation"; }
  at::Tensor new_user(const std::vector<int32_t>& items) const override {
    return lightgcn_fold_in(s_.train(), ego_, layers_, true, items).to(at::kFloat);
  }
  at::Tensor new_item(const std::vector<int32_t>& users) const override {
    return lightgcn_fold_in(s_.train(), ego_, layers_, false, users).to(at::kFloat);
  }

 private:
  const ServingRun& s_;
  at::Tensor ego_;
  int64_t layers_;
};

at::Tensor parameter(const ServingRun& s, const std::string& name) {
  for (const NamedTensor& p : s.run.model->parameters()) {
    if (p.name == name) return p.tensor;
  }
  throw std::invalid_argument("fold-in: model " + s.run.config.model + " has no parameter " + name);
}

}  // namespace

double default_fold_in_l2(const at::Tensor& factors, size_t rows) {
  const at::Tensor f = factors.detach().to(at::kCPU, at::kDouble);
  const double mean_sq = f.numel() == 0 ? 0.0 : (f * f).sum(1).mean().item<double>();
  return static_cast<double>(rows) * mean_sq;
}

at::Tensor least_squares_fold_in(const at::Tensor& factors, const std::vector<int32_t>& rows,
                                 double lambda) {
  check_ids(rows, factors.size(0), "interaction");
  const std::vector<int64_t> idx(rows.begin(), rows.end());
  const at::Tensor F =
      factors.detach().to(at::kCPU, at::kDouble).index_select(0, at::tensor(idx, at::kLong));
  const int64_t n = F.size(0), d = F.size(1);
  // [F; sqrt(λ) I] p = [1; 0] in the least-squares sense is the ridge
  // problem; gelsd takes its minimum-norm solution when λ = 0 leaves it
  // under-determined (fewer interactions than dimensions).
  const at::Tensor A = at::cat({F, std::sqrt(lambda) * at::eye(d, at::kDouble)});
  const at::Tensor b = at::cat({at::ones({n, 1}, at::kDouble), at::zeros({d, 1}, at::kDouble)});
  return std::get<0>(at::linalg_lstsq(A, b, std::nullopt, "gelsd")).reshape({d});
}

at::Tensor lightgcn_fold_in(const BipartiteGraph& g, const at::Tensor& ego_in, int64_t layers,
                            bool new_user, const std::vector<int32_t>& neighbours) {
  check_ids(neighbours, new_user ? g.num_items() : g.num_users(), new_user ? "item" : "user");
  const at::Tensor ego = ego_in.detach().to(at::kCPU, at::kDouble).contiguous();
  const int64_t d = ego.size(1);
  const double* e0 = ego.data_ptr<double>();
  const JoinedGraph j(g, new_user, neighbours);
  const int64_t x = j.x();
  std::vector<Layer> L(static_cast<size_t>(layers) + 1);
  // Layer K needs x; layer k < K needs x and the neighbours of layer k+1's
  // nodes. Layer 0 is read from the ego embeddings (x's is zero).
  if (layers > 0) L[static_cast<size_t>(layers)].add(x);
  for (int64_t k = layers - 1; k >= 1; --k) {
    Layer& here = L[static_cast<size_t>(k)];
    here.add(x);
    for (const int64_t v : L[static_cast<size_t>(k) + 1].nodes) {
      j.for_neighbours(v, [&](int64_t w) { here.add(w); });
    }
  }
  const std::vector<double> zero(static_cast<size_t>(d), 0.0);
  const auto value = [&](int64_t k, int64_t w) -> const double* {
    if (k == 0) return w == x ? zero.data() : e0 + w * d;
    const Layer& l = L[static_cast<size_t>(k)];
    return l.values.data() + l.row.at(w) * d;
  };
  at::Tensor out = at::zeros({d}, at::kDouble);
  double* o = out.data_ptr<double>();
  for (int64_t k = 1; k <= layers; ++k) {
    Layer& l = L[static_cast<size_t>(k)];
    l.values.assign(l.nodes.size() * static_cast<size_t>(d), 0.0);
    for (size_t r = 0; r < l.nodes.size(); ++r) {
      const int64_t v = l.nodes[r];
      const double dv = j.degree(v);
      double* dst = l.values.data() + static_cast<int64_t>(r) * d;
      j.for_neighbours(v, [&](int64_t w) {
        const double c = 1.0 / std::sqrt(dv * j.degree(w));
        const double* src = value(k - 1, w);
        for (int64_t t = 0; t < d; ++t) dst[t] += c * src[t];
      });
    }
    const double* xk = value(k, x);
    for (int64_t t = 0; t < d; ++t) o[t] += xk[t];
  }
  return out / static_cast<double>(layers + 1);
}

std::unique_ptr<FoldIn> make_fold_in(const ServingRun& s, std::optional<double> l2) {
  const std::string& model = s.run.config.model;
  if (l2 && !(*l2 >= 0 && std::isfinite(*l2))) {
    throw std::invalid_argument("fold-in: the L2 weight must be a finite number >= 0, got " +
                                std::to_string(*l2));
  }
  if (model == "mf" || model == "transe" || model == "transr" ||
      (model == "lightgcn" && s.run.config.layers == 0)) {
    return std::make_unique<LeastSquares>(s, l2);
  }
  if (model == "lightgcn") {
    return std::make_unique<Propagation>(s, parameter(s, "embedding"), s.run.config.layers);
  }
  if (model == "kgcn") {
    throw std::invalid_argument(
        "fold-in: kgcn has none: its ranking is a per-user score matrix, not vectors "
        "(docs/serving.md)");
  }
  throw std::invalid_argument(
      "fold-in: " + model +
      " has none: it computes a node's representation with learned non-linear layers over "
      "its neighbourhood, which would have to run for the new node; supported: mf, transe, "
      "transr (least squares) and lightgcn (propagation) (docs/serving.md)");
}

}  // namespace gnnrec
