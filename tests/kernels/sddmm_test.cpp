// gnnrec::sddmm on every device (tests/kernels/sparse_test_utils.h:
// OnDevice) against dense float64 ATen references and finite-difference
// gradients; widths straddling the CUDA lane-group, warp and vector widths
// in both dtypes, with gradients against the CPU's; hub rows; an empty
// graph; malformed indices (the CPU raises, CUDA stays inside its buffers).
// On the CPU only: the meta implementation.
#include <cstdint>
#include <string>
#include <tuple>
#include <vector>

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "kernels/ops.h"
#include "kernels/sparse_adjacency.h"
#include "tests/kernels/sparse_test_utils.h"
#include "tests/testing/gradcheck.h"

namespace gnnrec {
namespace {

using testing::csr_of;
using testing::expect_error;
using testing::hub_graph;
using testing::randn;
using testing::random_csr;
using testing::row_of_entries;
using testing::tol_of;

class SddmmTest : public testing::OnDevice {};
GNNREC_ON_DEVICES(SddmmTest);

at::Tensor sddmm(const SparseAdjacency& a, const at::Tensor& x, const at::Tensor& y) {
  return ops::sddmm(a.rowptr, a.col, a.t_rowptr, a.t_col, a.t_perm, x, y);
}

// The dense float64 product x · yᵀ read at a's entries.
at::Tensor dense_sddmm(const SparseAdjacency& a, const at::Tensor& x, const at::Tensor& y) {
  const at::Tensor full = at::mm(x.to(at::kDouble), y.to(at::kDouble).t());
  return full.index({row_of_entries(a), a.col.to(at::kLong)});
}

TEST_P(SddmmTest, MatchesDenseAndGradchecks) {
  const SparseAdjacency a = random_csr(30, 20, 0.2, 0, 8, false);
  const at::Tensor x = randn({30, 5}, 1), y = randn({20, 5}, 2);
  expect_close(sddmm(on(a), on(x), on(y)), dense_sddmm(a, x, y), 1e-12, 1e-12, "forward");
  const SparseAdjacency small = on(random_csr(6, 5, 0.5, 0, 9, false));
  testing::gradcheck([&](const std::vector<at::Tensor>& in) { return sddmm(small, in[0], in[1]); },
                     {on(randn({6, 3}, 4)), on(randn({5, 3}, 5))});
}

class SddmmWidths : public testing::OnDeviceCases<testing::Width> {};
GNNREC_CASES_ON_DEVICES(SddmmWidths, testing::straddling_widths(), testing::width_name);

// {out, grad a, grad b} of sddmm on `device` (inputs on the CPU).
std::tuple<at::Tensor, at::Tensor, at::Tensor> sddmm_with_grads(const SparseAdjacency& a,
                                                                const at::Tensor& p,
                                                                const at::Tensor& q,
                                                                const at::Tensor& w,
                                                                at::Device device) {
  const SparseAdjacency g = a.to(device, p.scalar_type());
  const at::Tensor pa = p.to(device).detach().clone().requires_grad_(true);
  const at::Tensor qa = q.to(device).detach().clone().requires_grad_(true);
  const at::Tensor out = sddmm(g, pa, qa);
  (out * w.to(device)).sum().backward();
  return {out.detach(), pa.grad(), qa.grad()};
}

TEST_P(SddmmWidths, MatchesDenseAndTheCpuWithGradients) {
  const testing::Width c = param();
  const SparseAdjacency a = random_csr(60, 50, 0.1, 40, 8, false);
  const double tol = tol_of(c.dtype);
  const at::Tensor p = randn({60, c.width}, 1 + c.width, c.dtype);
  const at::Tensor q = randn({50, c.width}, 2 + c.width, c.dtype);
  const at::Tensor w = randn({a.nnz()}, 3, c.dtype);
  const auto [out, gp, gq] = sddmm_with_grads(a, p, q, w, device());
  expect_close(out, dense_sddmm(a, p, q), tol, tol, "forward vs dense");
  if (on_cpu()) return;
  const auto [out_cpu, gp_cpu, gq_cpu] = sddmm_with_grads(a, p, q, w, at::kCPU);
  expect_close(out, out_cpu, tol, tol, "forward");
  expect_close(gp, gp_cpu, tol, tol, "grad a");
  expect_close(gq, gq_cpu, tol, tol, "grad b");
}

TEST_P(SddmmTest, HubRowsEmptyGraphAndGradcheck) {
  const SparseAdjacency a = hub_graph(false);
  const at::Tensor p = randn({a.num_rows, 64}, 1), q = randn({a.num_cols, 64}, 2);
  expect_close(sddmm(on(a), on(p), on(q)), sddmm(a, p, q), 1e-12, 1e-12, "hub graph vs CPU");
  const SparseAdjacency e = on(csr_of(3, {{}, {}}), at::kFloat);
  const at::Tensor none =
      sddmm(e, on(randn({2, 4}, 1, at::kFloat)), on(randn({3, 4}, 1, at::kFloat)));
  EXPECT_EQ(none.numel(), 0);
  const SparseAdjacency small = on(random_csr(6, 5, 0.5, 0, 9, false));
  testing::gradcheck([&](const std::vector<at::Tensor>& in) { return sddmm(small, in[0], in[1]); },
                     {on(randn({6, 3}, 4)), on(randn({5, 3}, 5))});
}

TEST_P(SddmmTest, ClearErrors) {
  const SparseAdjacency a = on(random_csr(6, 5, 0.5, 0, 2, false));
  const at::Tensor p = on(randn({6, 3}, 1)), q = on(randn({5, 3}, 2));
  expect_error(
      [&] {
        sddmm(a, on(randn({7, 3}, 1)), q);
      },
      "sddmm: a must have one row per row of A (6), got 7");
  expect_error(
      [&] {
        sddmm(a, p, on(randn({5, 4}, 2)));
      },
      "sddmm: a and b must have the same width, got 3 and 4");
  expect_error([&] { sddmm(a, p, q.to(at::kFloat)); }, "sddmm: b must have dtype Double");
  if (!on_cpu()) {
    expect_error([&] { sddmm(a, p, q.cpu()); }, "sddmm: b must be on cuda");
  }
}

// Indices out of range: the CPU raises; CUDA must not touch memory outside
// its buffers (compute-sanitizer memcheck), values unspecified, no error.
TEST_P(SddmmTest, MalformedIndices) {
  if (on_cpu()) {
    const SparseAdjacency a = random_csr(6, 5, 0.5, 0, 2, false);
    at::Tensor bad_col = a.col.clone();
    bad_col[0] = 99;
    expect_error(
        [&] {
          ops::sddmm(a.rowptr, bad_col, a.t_rowptr, a.t_col, a.t_perm, randn({6, 3}, 1),
                     randn({5, 3}, 2));
        },
        "sddmm: col holds an index outside [0, 5)");
    return;
  }
  const testing::MalformedCsr m(*this);
  const SparseAdjacency& a = m.a;
  const at::Tensor x = on(randn({30, 64}, 1, at::kFloat));
  m.each([&](const at::Tensor& rp, const at::Tensor& cp) {
    ops::sddmm(rp, cp, a.t_rowptr, a.t_col, a.t_perm, on(randn({40, 64}, 2, at::kFloat)), x);
  });
  EXPECT_TRUE(x.isfinite().all().item<bool>());  // synchronises: any kernel fault surfaces here
}

TEST(Sddmm, MetaImplementationGivesShapes) {
  const SparseAdjacency a = random_csr(10, 8, 0.3, 0, 1, true);
  const auto meta = at::TensorOptions().device(at::kMeta);
  const at::Tensor e = ops::sddmm(
      a.rowptr.to(at::kMeta), a.col.to(at::kMeta), a.t_rowptr.to(at::kMeta), a.t_col.to(at::kMeta),
      a.t_perm.to(at::kMeta), at::empty({10, 5}, meta.dtype(at::kFloat)),
      at::empty({8, 5}, meta.dtype(at::kFloat)));
  EXPECT_TRUE(e.is_meta());
  EXPECT_EQ(e.sizes(), (std::vector<int64_t>{a.nnz()}));
}

}  // namespace
}  // namespace gnnrec
