// The training-free graph filters (models/graph_filter.h, GF-CF, BSPM)
// against dense float64 references built here from the interaction matrix:
// R̃ and its Gram operator; the randomized top-k right singular vectors
// against the exact SVD (at::linalg_svd), whose accuracy is printed; GF-CF's
// and BSPM's score rows against their formulas evaluated densely (BSPM's
// Runge–Kutta step against the degree-4 Taylor polynomial of exp(−hG),
// which every 4-stage 4th-order method equals on a linear ODE); the
// checkpointed tensors; and the errors.
#include <cmath>
#include <cstdio>
#include <memory>
#include <string>

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "base/random.h"
#include "models/graph_filter.h"
#include "models/model.h"

namespace gnnrec {
namespace {

// 40 users x 30 items, each pair with probability 0.2 and a planted block
// structure (users and items in 3 groups, in-group pairs 3x likelier), so
// that the spectrum has a few leading singular values; user 39 and item 29
// have no interactions.
std::shared_ptr<const BipartiteGraph> random_graph(uint64_t seed, int64_t U = 40, int64_t I = 30) {
  SplitMix64 rng(seed);
  Interactions x;
  for (int64_t u = 0; u < U - 1; ++u) {
    for (int64_t i = 0; i < I - 1; ++i) {
      const double p = (u % 3 == i % 3) ? 0.45 : 0.1;
      if (rng.uniform() < p) {
        x.user.push_back(static_cast<int32_t>(u));
        x.item.push_back(static_cast<int32_t>(i));
      }
    }
  }
  return std::make_shared<const BipartiteGraph>(BipartiteGraph::build(U, I, x));
}

// R (binary) and R̃ = D_u^-1/2 R D_i^-1/2, dense float64.
std::pair<at::Tensor, at::Tensor> dense_r(const BipartiteGraph& g) {
  at::Tensor r = at::zeros({g.num_users(), g.num_items()}, at::kDouble);
  for (int64_t u = 0; u < g.num_users(); ++u) {
    for (int64_t e = g.user_offsets()[u]; e < g.user_offsets()[u + 1]; ++e) {
      r[u][g.user_items()[e]] = 1.0;
    }
  }
  const at::Tensor du = r.sum(1), di = r.sum(0);
  const at::Tensor su = at::where(du > 0, du.rsqrt(), at::zeros_like(du));
  const at::Tensor si = at::where(di > 0, di.rsqrt(), at::zeros_like(di));
  return {r, su.unsqueeze(1) * r * si.unsqueeze(0)};
}

double max_abs(const at::Tensor& a) { return a.abs().max().item<double>(); }

TEST(GraphFilter, GramAndUserColumnsMatchTheDenseMatrix) {
  const auto g = random_graph(1);
  const auto [r, rt] = dense_r(*g);
  const NormalizedInteractions ni(*g, at::kDouble, at::kCPU);
  const at::Tensor x = at::randn({g->num_items(), 5}, at::kDouble);
  EXPECT_LT(max_abs(ni.gram(x) - at::matmul(rt.t(), at::matmul(rt, x))), 1e-12);
  const at::Tensor users = at::tensor(std::vector<int64_t>{3, 39, 0, 3}, at::kLong);
  EXPECT_TRUE(at::equal(ni.user_columns(users, at::kDouble), r.index_select(0, users).t()));
  EXPECT_THROW(ni.user_columns(at::tensor(std::vector<int64_t>{40}, at::kLong), at::kDouble),
               std::invalid_argument);
}

// The randomized subspace iteration against the exact SVD: singular values
// and the projector onto the top-k subspace. Printed for the record.
TEST(GraphFilter, TopSingularVectorsMatchTheExactSvd) {
  const auto g = random_graph(2, 120, 90);
  const auto [r, rt] = dense_r(*g);
  const auto [u_exact, s_exact, vh_exact] = at::linalg_svd(rt, /*full_matrices=*/false);
  const NormalizedInteractions ni(*g, at::kDouble, at::kCPU);
  for (const int64_t k : {int64_t{5}, int64_t{20}}) {
    const SingularVectors svd = top_right_singular_vectors(ni, k, /*seed=*/7, /*tol=*/1e-8);
    const at::Tensor v_exact = vh_exact.narrow(0, 0, k).t();
    const double value_error =
        max_abs(svd.values - s_exact.narrow(0, 0, k)) / s_exact[0].item<double>();
    const double projector_error =
        at::linalg_matrix_norm(
            at::matmul(svd.vectors, svd.vectors.t()) - at::matmul(v_exact, v_exact.t()), 2)
            .item<double>();
    const double gap = (s_exact[k - 1] - s_exact[k]).item<double>();
    std::printf(
        "[ info ] 120x90 R~, k %lld: %lld iterations, residual %.1e; singular values "
        "max relative error %.1e, |V V' - V* V*'|_2 %.1e (gap s_k - s_k+1 %.3f)\n",
        static_cast<long long>(k), static_cast<long long>(svd.iterations), svd.residual,
        value_error, projector_error, gap);
    EXPECT_LE(svd.residual, 1e-8);
    EXPECT_LT(value_error, 1e-10);
    EXPECT_LT(projector_error, 1e-6);
    EXPECT_LT(max_abs(at::matmul(svd.vectors.t(), svd.vectors) - at::eye(k, at::kDouble)), 1e-12);
  }
  const SingularVectors loose = top_right_singular_vectors(ni, 5, 7, 1e-3);
  EXPECT_LE(loose.residual, 1e-3);
  EXPECT_THROW(top_right_singular_vectors(ni, 0, 7), std::invalid_argument);
  EXPECT_THROW(top_right_singular_vectors(ni, 91, 7), std::invalid_argument);
}

struct Fitted {
  std::shared_ptr<const BipartiteGraph> graph;
  std::unique_ptr<PropagationGraph> pg;
  std::unique_ptr<Model> model;
};

Fitted fitted(const std::string& name, const ModelOptions& o, uint64_t seed) {
  Fitted f;
  f.graph = random_graph(seed);
  f.pg = std::make_unique<PropagationGraph>(f.graph);
  f.model = make_model(name, o, *f.pg, at::kCPU);
  EXPECT_TRUE(f.model->closed_form());
  EXPECT_TRUE(f.model->ranks_rows());
  f.model->fit();
  return f;
}

// D_i^-1/2 V Vᵀ D_i^1/2 for the exact top-k right singular vectors V.
at::Tensor dense_ideal(const at::Tensor& r, const at::Tensor& rt, int64_t k) {
  const at::Tensor v = std::get<2>(at::linalg_svd(rt, false)).narrow(0, 0, k).t();
  const at::Tensor di = r.sum(0);
  const at::Tensor d = at::where(di > 0, di.sqrt(), at::zeros_like(di));
  const at::Tensor d_inv = at::where(di > 0, di.rsqrt(), at::zeros_like(di));
  return d_inv.unsqueeze(1) * at::matmul(v, v.t()) * d.unsqueeze(0);
}

TEST(GraphFilter, GfcfScoresAreTheFilteredRows) {
  ModelOptions o;
  o.svd_rank = 6;
  o.ideal_weight = 0.3;
  const Fitted f = fitted("gfcf", o, 3);
  const auto [r, rt] = dense_r(*f.graph);
  const at::Tensor filter = at::matmul(rt.t(), rt) + 0.3 * dense_ideal(r, rt, 6);
  const at::Tensor users = at::arange(40, at::kLong);
  const at::Tensor got = f.model->ranking_rows(users);
  EXPECT_EQ(got.scalar_type(), at::kFloat);
  // fit() stops at a relative residual of 1e-4: the fitted subspace is
  // that close to the exact one, and the scores to the exact filter's.
  const at::Tensor expected = at::matmul(r, filter);
  EXPECT_LT(max_abs(got.to(at::kDouble) - expected), 1e-4 * max_abs(expected));
  // What the checkpoint holds: the vectors and values, none requiring grad.
  const auto params = f.model->parameters();
  ASSERT_EQ(params.size(), 2u);
  EXPECT_EQ(params[0].name, "singular_vectors");
  EXPECT_EQ(params[0].tensor.sizes(), (std::vector<int64_t>{30, 6}));
  for (const auto& p : params) EXPECT_FALSE(p.tensor.requires_grad()) << p.name;
  EXPECT_THROW(f.model->forward(), std::logic_error);
  // A model built afresh with the fitted tensors copied in (a loaded run)
  // scores the same without fitting again.
  auto loaded = make_model("gfcf", o, *f.pg, at::kCPU);
  for (size_t j = 0; j < params.size(); ++j) {
    loaded->parameters()[j].tensor.copy_(params[j].tensor);
  }
  EXPECT_TRUE(at::equal(loaded->ranking_rows(users), got));
}

TEST(GraphFilter, BspmScoresFollowTheSharpeningOde) {
  for (const char* solver : {"rk4", "euler"}) {
    ModelOptions o;
    o.svd_rank = 5;
    o.ideal_weight = 0.2;
    o.sharpen_time = 2.5;
    o.sharpen_steps = 2;
    o.sharpen_solver = solver;
    const Fitted f = fitted("bspm", o, 4);
    const auto [r, rt] = dense_r(*f.graph);
    const at::Tensor gram = at::matmul(rt.t(), rt);
    const at::Tensor eye = at::eye(30, at::kDouble);
    // One step of h = T_s / K_s on dy/dt = -y G.
    const at::Tensor hg = -1.25 * gram;
    const at::Tensor step = std::string(solver) == "euler"
                                ? eye + hg
                                : eye + hg + at::matmul(hg, hg) / 2 +
                                      at::matmul(at::matmul(hg, hg), hg) / 6 +
                                      at::matmul(at::matmul(hg, hg), at::matmul(hg, hg)) / 24;
    const at::Tensor y0 = at::matmul(r, gram + 0.2 * dense_ideal(r, rt, 5));
    const at::Tensor expected = at::matmul(at::matmul(y0, step), step);
    const at::Tensor got = f.model->ranking_rows(at::arange(40, at::kLong)).to(at::kDouble);
    EXPECT_LT(max_abs(got - expected), 1e-4 * max_abs(expected)) << solver;
  }
  ModelOptions bad;
  bad.svd_rank = 5;
  bad.sharpen_solver = "heun";
  const auto g = random_graph(5);
  const PropagationGraph pg(g);
  EXPECT_THROW(make_model("bspm", bad, pg, at::kCPU), std::invalid_argument);
  ModelOptions wide;
  wide.svd_rank = 31;
  EXPECT_THROW(make_model("gfcf", wide, pg, at::kCPU), std::invalid_argument);
}

}  // namespace
}  // namespace gnnrec
