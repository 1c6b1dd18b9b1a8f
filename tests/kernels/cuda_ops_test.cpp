// The gnnrec operators on CUDA against their CPU implementations (the
// reference semantics) and against dense float64 references: every
// operator, widths straddling the lane-group, warp and vector widths,
// float32 and float64, weighted and unweighted, hub rows (and hub columns,
// for the backward passes) above the block threshold and above 10,000
// entries, empty graphs, zero widths; gradients against the CPU's and
// finite differences on the GPU; bitwise run-to-run determinism; and
// sample_neighbors and sample_negatives equal to the CPU's exactly.
//
// Every test that needs a GPU starts with
//   if (!at::hasCUDA()) GTEST_SKIP() << "no CUDA device";
// Suite names start with "Cuda", so --gtest_filter='Cuda*:*/Cuda*' selects
// this file (scripts/gpu/run_checks.sh runs it under compute-sanitizer).
// The CudaHost* suites need no GPU: they check, on the host, the launch
// decisions and the sampling code that the kernels run.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <tuple>
#include <vector>

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <gtest/gtest.h>

#include "base/random.h"
#include "kernels/cuda/config.h"
#include "kernels/ops.h"
#include "kernels/sampling_row.h"
#include "kernels/sparse_adjacency.h"
#include "tests/kernels/sparse_test_utils.h"
#include "tests/testing/gradcheck.h"

namespace gnnrec {
namespace {

using testing::csr_of;
using testing::dense_of;
using testing::random_csr;
using testing::randn;

const char* dtype_name(at::ScalarType t) { return t == at::kFloat ? "float32" : "float64"; }

// Tolerance of a float32 / float64 result summed in another order: short
// rows, and rows or columns of thousands of entries (hub_graph).
double tol_of(at::ScalarType t) { return t == at::kFloat ? 2e-5 : 1e-11; }
double hub_tol(at::ScalarType t) { return t == at::kFloat ? 1e-3 : 1e-10; }

// got (on CUDA) has expected's shape and dtype and is close to it (on the
// CPU, any dtype: compared in float64).
void expect_close(const at::Tensor& got, const at::Tensor& expected, double rtol, double atol,
                  const std::string& what) {
  ASSERT_TRUE(got.is_cuda()) << what;
  ASSERT_EQ(got.sizes(), expected.sizes()) << what;
  const at::Tensor g = got.cpu().to(at::kDouble), e = expected.cpu().to(at::kDouble);
  EXPECT_TRUE(at::allclose(g, e, rtol, atol, /*equal_nan=*/true))
      << what << ": max |diff| " << (g - e).abs().max().item<double>();
}

// got (on CUDA) equals expected (on the CPU) bit for bit (NaN == NaN).
void expect_equal(const at::Tensor& got, const at::Tensor& expected, const std::string& what) {
  ASSERT_TRUE(got.is_cuda()) << what;
  ASSERT_EQ(got.sizes(), expected.sizes()) << what;
  ASSERT_EQ(got.scalar_type(), expected.scalar_type()) << what;
  const at::Tensor g = got.cpu();
  if (at::isFloatingType(g.scalar_type())) {
    EXPECT_TRUE(at::equal(g.isnan(), expected.isnan())) << what;
    EXPECT_TRUE(at::equal(g.nan_to_num(0, 0, 0), expected.nan_to_num(0, 0, 0)))
        << what << ": max |diff| "
        << (g.nan_to_num(0, 0, 0).to(at::kDouble) - expected.nan_to_num(0, 0, 0).to(at::kDouble))
               .abs()
               .max()
               .item<double>();
  } else {
    EXPECT_TRUE(at::equal(g, expected)) << what;
  }
}

at::Tensor cuda(const at::Tensor& t) { return t.defined() ? t.to(at::kCUDA) : t; }

// A fresh leaf copy of t on `device` that requires grad (never t itself,
// so repeated backward passes do not accumulate into one gradient).
at::Tensor leaf(const at::Tensor& t, at::Device device) {
  return t.to(device).detach().clone().requires_grad_(true);
}

// A graph with hub rows of 10,400, 3,000, 1,500 and kBigHubDegree + 1 entries
// (the big-hub blocks), kBigHubDegree and kHubDegree + 1 entries (the kBlock
// hub blocks), a row of exactly kHubDegree entries (the group path),
// and 3,000 small rows that all hold column 5 and half of them column 7, so
// the transpose has hub rows too (the backward passes). Columns ascending,
// no duplicates.
SparseAdjacency hub_graph(bool weighted, uint64_t seed = 3) {
  const int64_t cols = 12000;
  const auto hub = static_cast<int32_t>(ops::cuda::kHubDegree);
  const auto big = static_cast<int32_t>(ops::cuda::kBigHubDegree);
  std::vector<std::vector<int32_t>> rows;
  for (const int32_t deg : {10400, 3000, 1500, big + 1, big, hub + 1, hub}) {
    std::vector<int32_t> r;
    for (int32_t c = 0; c < deg; ++c) r.push_back(static_cast<int32_t>((c * 7 + deg) % cols));
    std::sort(r.begin(), r.end());
    r.erase(std::unique(r.begin(), r.end()), r.end());
    rows.push_back(r);
  }
  SplitMix64 rng(seed);
  for (int64_t i = 0; i < 3000; ++i) {
    std::vector<int32_t> r{5};
    if (i % 2 == 0) r.push_back(7);
    const int64_t extra = rng.below(8);  // 0..7 more, some rows stay tiny
    for (int64_t e = 0; e < extra; ++e) r.push_back(static_cast<int32_t>(8 + rng.below(cols - 8)));
    if (i % 11 == 0) r.clear();  // empty rows too
    std::sort(r.begin(), r.end());
    r.erase(std::unique(r.begin(), r.end()), r.end());
    rows.push_back(r);
  }
  SparseAdjacency a = csr_of(cols, rows);
  if (weighted) {
    auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
    a.value = at::rand({a.nnz()}, gen, at::TensorOptions().dtype(at::kDouble)) + 0.5;
  }
  return a;
}

// ---------------------------------------------------------------------------
// Host-side checks (no GPU needed).

TEST(CudaHostConfig, RowConfigCoversEveryWidth) {
  for (const int vec_width : {4, 2}) {
    for (const bool aligned : {true, false}) {
      for (int64_t d = 1; d <= 1100; ++d) {
        const ops::cuda::RowConfig c = ops::cuda::row_config(d, vec_width, aligned);
        ASSERT_TRUE(c.vec == 1 || c.vec == vec_width) << d;
        if (c.vec > 1) {
          ASSERT_TRUE(aligned) << d;
          ASSERT_EQ(d % c.vec, 0) << d;
        }
        ASSERT_TRUE(c.group == 4 || c.group == 8 || c.group == 16 || c.group == 32) << d;
        ASSERT_TRUE(c.per_lane == 1 || c.per_lane == 2 || c.per_lane == 4) << d;
        ASSERT_TRUE(c.per_lane == 1 || c.group == 32) << d;  // the instantiated shapes
        // Lanes are not left idle needlessly: a smaller group would not do.
        const int64_t vectors = d / c.vec;
        if (c.group > 4) {
          ASSERT_GT(vectors * 2, c.group) << d;
        }
      }
    }
  }
  // The tuned widths: one 16-byte load per lane and slot, one pass.
  for (const int64_t d : {32, 64, 128, 256}) {
    const ops::cuda::RowConfig f = ops::cuda::row_config(d, 4, true);
    EXPECT_EQ(f.vec, 4);
    EXPECT_GE(static_cast<int64_t>(f.group) * f.per_lane * f.vec, d) << d;
    const ops::cuda::RowConfig g = ops::cuda::row_config(d, 2, true);
    EXPECT_EQ(g.vec, 2);
    EXPECT_GE(static_cast<int64_t>(g.group) * g.per_lane * g.vec, d) << d;
  }
  EXPECT_EQ(ops::cuda::row_config(64, 4, true).group, 16);  // two rows per warp
  EXPECT_EQ(ops::cuda::row_config(32, 4, true).group, 8);   // four rows per warp
}

TEST(CudaHostConfig, HubScratchHoldsEveryPossibleHub) {
  EXPECT_EQ(ops::cuda::hub_scratch_len(0), 0);
  EXPECT_EQ(ops::cuda::hub_scratch_len(ops::cuda::kHubDegree), 0);
  EXPECT_EQ(ops::cuda::hub_scratch_len(ops::cuda::kHubDegree + 1), 2);  // counter + one row
  for (const int64_t nnz : {int64_t{1025}, int64_t{5000}, int64_t{1620256}, int64_t{1} << 33}) {
    const int64_t capacity = ops::cuda::hub_scratch_len(nnz) - 1;
    // More than `capacity` rows of > kHubDegree entries would need more
    // than nnz entries.
    EXPECT_LE(capacity * (ops::cuda::kHubDegree + 1), nnz);
    EXPECT_GT((capacity + 1) * (ops::cuda::kHubDegree + 1), nnz);
  }
}

// The code the CUDA kernel runs, run on the host, gives the CPU operator's
// output exactly (the GPU test then compares the GPU with the CPU too).
void expect_rows_match_cpu(const SparseAdjacency& a, const at::Tensor& seeds, int64_t fanout,
                           bool replace, int64_t seed) {
  const auto [nbr, eid] = ops::sample_neighbors(a.rowptr, a.col, seeds, fanout, replace, seed);
  const int64_t n = seeds.numel();
  std::vector<int64_t> host_nbr(n * fanout), host_eid(n * fanout);
  const int64_t* sp = seeds.data_ptr<int64_t>();
  for (int64_t j = 0; j < n; ++j) {
    sampling::sample_seed(a.rowptr.data_ptr<int64_t>(), a.col.data_ptr<int32_t>(), a.num_rows,
                          a.nnz(), sp[j], fanout, replace, static_cast<uint64_t>(seed),
                          host_nbr.data() + j * fanout, host_eid.data() + j * fanout);
  }
  EXPECT_TRUE(at::equal(at::tensor(host_eid, at::kLong).view({n, fanout}), eid));
  EXPECT_TRUE(at::equal(at::tensor(host_nbr, at::kLong).view({n, fanout}), nbr));
}

TEST(CudaHostSampling, DeviceCodeMatchesCpuOperatorOnTheHost) {
  const SparseAdjacency a = random_csr(300, 1500, 0.01, 1500, 4, false);
  const at::Tensor seeds = at::cat({at::arange(300, at::kLong), at::arange(40, at::kLong)});
  for (const bool replace : {true, false}) {
    for (const int64_t fanout : {1, 3, 10, 25, 64, 65, 100}) {  // 65, 100: the CPU's hash set
      SCOPED_TRACE(::testing::Message() << "replace " << replace << ", fanout " << fanout);
      expect_rows_match_cpu(a, seeds, fanout, replace, 99);
    }
  }
  const SparseAdjacency hub = random_csr(24, 13000, 0.0005, 13000, 5, false);
  expect_rows_match_cpu(hub, at::tensor(std::vector<int64_t>{0, 3, 1, 0}), 5000, false, 1);
  expect_rows_match_cpu(hub, at::tensor(std::vector<int64_t>{0, 2}), 300, true, -7);
}

// ---------------------------------------------------------------------------
// spmm

struct SpmmCase {
  int64_t width;
  at::ScalarType dtype;
  bool weighted;
};

std::string spmm_case_name(const ::testing::TestParamInfo<SpmmCase>& info) {
  return "d" + std::to_string(info.param.width) + "_" + dtype_name(info.param.dtype) +
         (info.param.weighted ? "_weighted" : "_unweighted");
}

std::vector<SpmmCase> spmm_cases() {
  std::vector<SpmmCase> cases;
  for (const int64_t w : {1, 4, 31, 32, 33, 64, 127, 128, 256}) {
    for (const auto t : {at::kFloat, at::kDouble}) {
      for (const bool weighted : {true, false}) cases.push_back({w, t, weighted});
    }
  }
  return cases;
}

class CudaSpmmCases : public ::testing::TestWithParam<SpmmCase> {};

// Forward and both gradients of spmm, on `a` (CPU) at `dtype`, on the CPU
// and on CUDA from the same inputs: {out, grad_x, grad_value}.
std::tuple<at::Tensor, at::Tensor, at::Tensor> spmm_with_grads(const SparseAdjacency& a,
                                                               const at::Tensor& x_in,
                                                               const at::Tensor& w_in,
                                                               at::Device device) {
  const SparseAdjacency g = a.to(device, x_in.scalar_type());
  const at::Tensor x = leaf(x_in, device);
  const at::Tensor w = w_in.to(device);
  at::Tensor v;
  if (g.value.defined()) v = g.value.clone().requires_grad_(true);
  const at::Tensor out = ops::spmm(g.rowptr, g.col, v.defined() ? std::optional<at::Tensor>(v) : std::nullopt,
                                   g.t_rowptr, g.t_col, g.t_perm, x);
  (out * w).sum().backward();
  return {out.detach(), x.grad(), v.defined() ? v.grad() : at::Tensor()};
}

TEST_P(CudaSpmmCases, MatchesCpuAndDenseWithGradients) {
  if (!at::hasCUDA()) GTEST_SKIP() << "no CUDA device";
  const SpmmCase c = GetParam();
  const SparseAdjacency a = random_csr(200, 150, 0.05, 0, 7 + c.width, c.weighted);
  const at::Tensor x = randn({150, c.width}, 11, c.dtype);
  const at::Tensor w = randn({200, c.width}, 12, c.dtype);
  const double tol = tol_of(c.dtype);

  const auto [out, gx, gv] = spmm_with_grads(a, x, w, at::kCUDA);
  const auto [out_cpu, gx_cpu, gv_cpu] = spmm_with_grads(a, x, w, at::kCPU);
  EXPECT_EQ(out.scalar_type(), c.dtype);
  expect_close(out, out_cpu, tol, tol, "forward vs CPU");
  expect_close(out, at::mm(dense_of(a), x.to(at::kDouble)), tol, tol, "forward vs dense float64");
  expect_close(gx, gx_cpu, tol, tol, "grad x vs CPU");
  if (c.weighted) expect_close(gv, gv_cpu, tol, tol, "grad value vs CPU");
}

INSTANTIATE_TEST_SUITE_P(Widths, CudaSpmmCases, ::testing::ValuesIn(spmm_cases()),
                         spmm_case_name);

TEST(CudaSpmm, HubRowsAndColumnsMatchCpu) {
  if (!at::hasCUDA()) GTEST_SKIP() << "no CUDA device";
  const SparseAdjacency a = hub_graph(true);
  ASSERT_GT(a.rowptr[1].item<int64_t>(), 10000);
  // Widths: scalar and vector paths, one and several passes (600 floats =
  // 150 vectors: two passes of 32 lanes x 4 slots; 300 doubles likewise).
  for (const int64_t d : {1, 4, 32, 33, 64, 256, 300, 600}) {
    for (const auto dtype : {at::kFloat, at::kDouble}) {
      SCOPED_TRACE(::testing::Message() << "d " << d << ", " << dtype_name(dtype));
      const at::Tensor x = randn({a.num_cols, d}, 20 + d, dtype);
      const at::Tensor w = randn({a.num_rows, d}, 30 + d, dtype);
      // Reference: the CPU in float64 (hub sums are split differently on the
      // GPU, so float32 is compared with a tolerance scaled to the sums).
      const auto [out, gx, gv] = spmm_with_grads(a, x, w, at::kCUDA);
      const auto [out_ref, gx_ref, gv_ref] =
          spmm_with_grads(a, x.to(at::kDouble), w.to(at::kDouble), at::kCPU);
      const double tol = hub_tol(dtype);
      expect_close(out, out_ref, 1e-4, tol, "forward");
      expect_close(gx, gx_ref, 1e-4, tol, "grad x");
      expect_close(gv, gv_ref, 1e-4, tol * 10, "grad value");
    }
  }
  // The unweighted matrix too (no value pointer).
  const SparseAdjacency u = hub_graph(false);
  const at::Tensor x = randn({u.num_cols, 64}, 5);
  expect_close(u.to(at::kCUDA, at::kDouble).matmul(cuda(x)), u.matmul(x), 1e-12, 1e-10,
               "unweighted forward");
}

TEST(CudaSpmm, MisalignedOperandsUseTheScalarPath) {
  if (!at::hasCUDA()) GTEST_SKIP() << "no CUDA device";
  const SparseAdjacency a = random_csr(120, 90, 0.1, 60, 9, true);
  for (const auto dtype : {at::kFloat, at::kDouble}) {
    SCOPED_TRACE(dtype_name(dtype));
    const int64_t d = 64;
    const at::Tensor x = randn({90, d}, 3, dtype);
    // A contiguous view starting one element into its storage: not 16-byte
    // aligned, so the kernel must not use vector loads.
    const at::Tensor storage = at::empty({90 * d + 1}, x.options().device(at::kCUDA));
    const at::Tensor shifted = storage.narrow(0, 1, 90 * d).view({90, d});
    shifted.copy_(cuda(x));
    ASSERT_TRUE(shifted.is_contiguous());
    ASSERT_NE(reinterpret_cast<uintptr_t>(shifted.data_ptr()) % 16, 0u);
    const SparseAdjacency g = a.to(at::kCUDA, dtype);
    expect_close(g.matmul(shifted), a.to(at::kCPU, dtype).matmul(x), tol_of(dtype), tol_of(dtype),
                 "misaligned x");
    // Non-contiguous x (a transposed view) is made contiguous first.
    const at::Tensor xt = cuda(randn({d, 90}, 4, dtype)).t();
    expect_close(g.matmul(xt), a.to(at::kCPU, dtype).matmul(xt.cpu()), tol_of(dtype),
                 tol_of(dtype), "transposed x");
  }
}

TEST(CudaSpmm, EmptyGraphAndZeroWidth) {
  if (!at::hasCUDA()) GTEST_SKIP() << "no CUDA device";
  const SparseAdjacency a = csr_of(3, {{}, {}, {}, {}}).to(at::kCUDA, at::kDouble);
  const at::Tensor out = a.matmul(cuda(randn({3, 6}, 1)));
  EXPECT_TRUE(out.is_cuda());
  EXPECT_EQ(out.sizes(), (std::vector<int64_t>{4, 6}));
  EXPECT_EQ(out.abs().sum().item<double>(), 0.0);
  const at::Tensor zero_width = a.matmul(at::empty({3, 0}, at::TensorOptions().dtype(at::kDouble).device(at::kCUDA)));
  EXPECT_EQ(zero_width.sizes(), (std::vector<int64_t>{4, 0}));
  const SparseAdjacency none = csr_of(3, {}).to(at::kCUDA, at::kFloat);  // no rows at all
  EXPECT_EQ(none.matmul(cuda(randn({3, 5}, 1, at::kFloat))).sizes(), (std::vector<int64_t>{0, 5}));
  // Gradients through an empty graph are zeros.
  const at::Tensor x = cuda(randn({3, 6}, 2)).requires_grad_(true);
  a.matmul(x).sum().backward();
  EXPECT_EQ(x.grad().abs().sum().item<double>(), 0.0);
}

TEST(CudaSpmm, BitwiseDeterministicForwardAndBackward) {
  if (!at::hasCUDA()) GTEST_SKIP() << "no CUDA device";
  const SparseAdjacency a = hub_graph(true).to(at::kCUDA, at::kFloat);
  for (const int64_t d : {33, 64, 256}) {
    SCOPED_TRACE(d);
    const at::Tensor x0 = cuda(randn({a.num_cols, d}, 8, at::kFloat));
    std::vector<at::Tensor> outs, grads_x, grads_v;
    for (int run = 0; run < 3; ++run) {
      const at::Tensor x = x0.clone().requires_grad_(true);
      const at::Tensor v = a.value.clone().requires_grad_(true);
      const at::Tensor out = ops::spmm(a.rowptr, a.col, v, a.t_rowptr, a.t_col, a.t_perm, x);
      (out * out).sum().backward();
      outs.push_back(out.detach());
      grads_x.push_back(x.grad());
      grads_v.push_back(v.grad());
    }
    for (int run = 1; run < 3; ++run) {
      EXPECT_TRUE(at::equal(outs[0], outs[run]));
      EXPECT_TRUE(at::equal(grads_x[0], grads_x[run]));
      EXPECT_TRUE(at::equal(grads_v[0], grads_v[run]));
    }
  }
}

TEST(CudaSpmm, GradcheckInXAndValue) {
  if (!at::hasCUDA()) GTEST_SKIP() << "no CUDA device";
  const SparseAdjacency a = random_csr(9, 7, 0.4, 0, 21, true).to(at::kCUDA, at::kDouble);
  testing::gradcheck(
      [&](const std::vector<at::Tensor>& in) {
        return ops::spmm(a.rowptr, a.col, in[1], a.t_rowptr, a.t_col, a.t_perm, in[0]);
      },
      {cuda(randn({7, 3}, 2)), a.value});
  testing::gradcheck(
      [&](const std::vector<at::Tensor>& in) {
        return ops::spmm(a.rowptr, a.col, std::nullopt, a.t_rowptr, a.t_col, std::nullopt, in[0]);
      },
      {cuda(randn({7, 8}, 3))});
}

// ---------------------------------------------------------------------------
// sddmm

TEST(CudaSddmm, MatchesCpuWithGradients) {
  if (!at::hasCUDA()) GTEST_SKIP() << "no CUDA device";
  const SparseAdjacency a = random_csr(60, 50, 0.1, 40, 8, false);
  for (const int64_t d : {1, 4, 31, 32, 33, 64, 127, 128, 256}) {
    for (const auto dtype : {at::kFloat, at::kDouble}) {
      SCOPED_TRACE(::testing::Message() << "d " << d << ", " << dtype_name(dtype));
      const double tol = tol_of(dtype);
      const at::Tensor p = randn({60, d}, 1 + d, dtype), q = randn({50, d}, 2 + d, dtype);
      const at::Tensor w = randn({a.nnz()}, 3, dtype);
      auto run = [&](at::Device device) {
        const SparseAdjacency g = a.to(device, dtype);
        const at::Tensor pa = leaf(p, device);
        const at::Tensor qa = leaf(q, device);
        const at::Tensor out = ops::sddmm(g.rowptr, g.col, g.t_rowptr, g.t_col, g.t_perm, pa, qa);
        (out * w.to(device)).sum().backward();
        return std::make_tuple(out.detach(), pa.grad(), qa.grad());
      };
      const auto [out, gp, gq] = run(at::kCUDA);
      const auto [out_cpu, gp_cpu, gq_cpu] = run(at::kCPU);
      expect_close(out, out_cpu, tol, tol, "forward");
      expect_close(gp, gp_cpu, tol, tol, "grad a");
      expect_close(gq, gq_cpu, tol, tol, "grad b");
      // Dense reference of the forward.
      const at::Tensor full = at::mm(p.to(at::kDouble), q.to(at::kDouble).t());
      expect_close(out, full.index({testing::row_of_entries(a), a.col.to(at::kLong)}), tol, tol,
                   "forward vs dense");
    }
  }
}

TEST(CudaSddmm, HubRowsEmptyGraphAndGradcheck) {
  if (!at::hasCUDA()) GTEST_SKIP() << "no CUDA device";
  const SparseAdjacency a = hub_graph(false);
  const at::Tensor p = randn({a.num_rows, 64}, 1), q = randn({a.num_cols, 64}, 2);
  const SparseAdjacency g = a.to(at::kCUDA, at::kDouble);
  expect_close(ops::sddmm(g.rowptr, g.col, g.t_rowptr, g.t_col, g.t_perm, cuda(p), cuda(q)),
               ops::sddmm(a.rowptr, a.col, a.t_rowptr, a.t_col, a.t_perm, p, q), 1e-12, 1e-12,
               "hub graph");
  const SparseAdjacency e = csr_of(3, {{}, {}}).to(at::kCUDA, at::kFloat);
  const at::Tensor none = ops::sddmm(e.rowptr, e.col, e.t_rowptr, e.t_col, e.t_perm,
                                     cuda(randn({2, 4}, 1, at::kFloat)), cuda(randn({3, 4}, 1, at::kFloat)));
  EXPECT_EQ(none.numel(), 0);
  const SparseAdjacency small = random_csr(6, 5, 0.5, 0, 9, false).to(at::kCUDA, at::kDouble);
  testing::gradcheck(
      [&](const std::vector<at::Tensor>& in) {
        return ops::sddmm(small.rowptr, small.col, small.t_rowptr, small.t_col, small.t_perm,
                          in[0], in[1]);
      },
      {cuda(randn({6, 3}, 4)), cuda(randn({5, 3}, 5))});
}

// ---------------------------------------------------------------------------
// spmm_reduce and its max backward

std::tuple<at::Tensor, at::Tensor> reduce_rows(const SparseAdjacency& a, const at::Tensor& x,
                                               const std::string& how) {
  return ops::spmm_reduce(a.rowptr, a.col, a.t_rowptr, a.t_col, a.t_perm, x, how);
}

// {out, arg, grad_x} of spmm_reduce on `device` (a and x on the CPU).
std::tuple<at::Tensor, at::Tensor, at::Tensor> reduce_with_grad(const SparseAdjacency& a,
                                                                const at::Tensor& x_in,
                                                                const at::Tensor& w,
                                                                const std::string& how,
                                                                at::Device device) {
  const SparseAdjacency g = a.to(device, x_in.scalar_type());
  const at::Tensor x = leaf(x_in, device);
  auto [out, arg] = reduce_rows(g, x, how);
  (out * w.to(device)).sum().backward();
  return {out.detach(), arg, x.grad()};
}

void expect_reduce_matches_cpu(const SparseAdjacency& a, const at::Tensor& x,
                               const at::Tensor& w, double tol) {
  for (const char* how : {"sum", "mean", "max"}) {
    SCOPED_TRACE(how);
    const auto [out, arg, gx] = reduce_with_grad(a, x, w, how, at::kCUDA);
    const auto [out_cpu, arg_cpu, gx_cpu] = reduce_with_grad(a, x, w, how, at::kCPU);
    if (std::string(how) == "max") {
      // The max is exact and its ties are broken the same way: bit for bit.
      expect_equal(out, out_cpu, "max");
      expect_equal(arg, arg_cpu, "argmax");
    } else {
      expect_close(out, out_cpu, tol, tol, how);
      EXPECT_EQ(arg.numel(), 0);
      EXPECT_TRUE(arg.is_cuda());
    }
    expect_close(gx, gx_cpu, tol, tol, std::string("grad x, ") + how);
  }
}

TEST(CudaSpmmReduce, MatchesCpuAtEveryWidth) {
  if (!at::hasCUDA()) GTEST_SKIP() << "no CUDA device";
  const SparseAdjacency a = random_csr(80, 60, 0.1, 0, 13, false);
  for (const int64_t d : {1, 4, 31, 32, 33, 64, 127, 128, 256}) {
    for (const auto dtype : {at::kFloat, at::kDouble}) {
      SCOPED_TRACE(::testing::Message() << "d " << d << ", " << dtype_name(dtype));
      expect_reduce_matches_cpu(a, randn({60, d}, 17 + d, dtype), randn({80, d}, 18, dtype),
                                tol_of(dtype));
    }
  }
}

TEST(CudaSpmmReduce, HubRowsTiesNaNAndInfinities) {
  if (!at::hasCUDA()) GTEST_SKIP() << "no CUDA device";
  const SparseAdjacency a = hub_graph(false);
  for (const int64_t d : {1, 4, 33, 64, 256}) {
    for (const auto dtype : {at::kFloat, at::kDouble}) {
      SCOPED_TRACE(::testing::Message() << "d " << d << ", " << dtype_name(dtype));
      // Few distinct values: many ties, decided by CSR position (across the
      // hub rows' segments too).
      const at::Tensor x = (randn({a.num_cols, d}, 40 + d) * 2).round().to(dtype);
      expect_reduce_matches_cpu(a, x, randn({a.num_rows, d}, 41, dtype), hub_tol(dtype));
    }
  }
  // NaN, +inf and -inf in the rows (forward only: the CPU's too).
  const double inf = std::numeric_limits<double>::infinity();
  at::Tensor x = randn({a.num_cols, 8}, 50);
  x.index_put_({at::arange(0, a.num_cols, 97, at::kLong)}, std::numeric_limits<double>::quiet_NaN());
  x.index_put_({at::arange(3, a.num_cols, 89, at::kLong)}, inf);
  x.index_put_({at::arange(5, a.num_cols, 2, at::kLong)}, -inf);
  for (const auto dtype : {at::kFloat, at::kDouble}) {
    const auto [out, arg] = reduce_rows(a.to(at::kCUDA, dtype), cuda(x.to(dtype)), "max");
    const auto [out_cpu, arg_cpu] = reduce_rows(a, x.to(dtype), "max");
    expect_equal(out, out_cpu, "max with NaN and infinities");
    expect_equal(arg, arg_cpu, "argmax with NaN and infinities");
  }
}

TEST(CudaSpmmReduce, MaxBackwardOperatorMatchesCpu) {
  if (!at::hasCUDA()) GTEST_SKIP() << "no CUDA device";
  const SparseAdjacency a = hub_graph(false);
  for (const int64_t d : {1, 4, 33, 64}) {
    for (const auto dtype : {at::kFloat, at::kDouble}) {
      SCOPED_TRACE(::testing::Message() << "d " << d << ", " << dtype_name(dtype));
      const at::Tensor x = (randn({a.num_cols, d}, 60 + d) * 2).round().to(dtype);
      const at::Tensor arg = std::get<1>(reduce_rows(a, x, "max"));
      const at::Tensor grad = randn({a.num_rows, d}, 61, dtype);
      const SparseAdjacency g = a.to(at::kCUDA, dtype);
      const at::Tensor got =
          ops::spmm_reduce_max_backward(g.t_rowptr, g.t_col, g.t_perm, cuda(arg), cuda(grad));
      const at::Tensor expected = ops::spmm_reduce_max_backward(a.t_rowptr, a.t_col, a.t_perm, arg, grad);
      expect_close(got, expected, hub_tol(dtype), hub_tol(dtype), "max backward");
    }
  }
}

TEST(CudaSpmmReduce, EmptyGraphZeroWidthAndGradcheck) {
  if (!at::hasCUDA()) GTEST_SKIP() << "no CUDA device";
  const SparseAdjacency e = csr_of(3, {{}, {}, {}, {}}).to(at::kCUDA, at::kDouble);
  for (const char* how : {"sum", "mean", "max"}) {
    SCOPED_TRACE(how);
    auto [out, arg] = reduce_rows(e, cuda(randn({3, 6}, 1)), how);
    EXPECT_EQ(out.sizes(), (std::vector<int64_t>{4, 6}));
    EXPECT_EQ(out.abs().sum().item<double>(), 0.0);
    if (std::string(how) == "max") {
      EXPECT_TRUE(arg.eq(-1).all().item<bool>());
    }
    const at::Tensor zero = at::empty({3, 0}, at::TensorOptions().dtype(at::kDouble).device(at::kCUDA));
    EXPECT_EQ(std::get<0>(reduce_rows(e, zero, how)).sizes(), (std::vector<int64_t>{4, 0}));
  }
  const SparseAdjacency a = random_csr(9, 7, 0.4, 0, 21, false).to(at::kCUDA, at::kDouble);
  for (const char* how : {"sum", "mean", "max"}) {
    SCOPED_TRACE(how);
    testing::gradcheck(
        [&](const std::vector<at::Tensor>& in) { return std::get<0>(reduce_rows(a, in[0], how)); },
        {cuda(randn({7, 3}, 2))});
  }
}

// ---------------------------------------------------------------------------
// _segment_sum_csr, sddmm_add, edge_softmax

at::Tensor per_node(int64_t n, int64_t heads, uint64_t seed, at::ScalarType dtype) {
  return heads == 0 ? randn({n}, seed, dtype) : randn({n, heads}, seed, dtype);
}

TEST(CudaSegmentSum, MatchesCpuWithAndWithoutPerm) {
  if (!at::hasCUDA()) GTEST_SKIP() << "no CUDA device";
  const SparseAdjacency a = hub_graph(false);
  for (const int64_t heads : {0, 1, 4, 33}) {
    for (const auto dtype : {at::kFloat, at::kDouble}) {
      SCOPED_TRACE(::testing::Message() << "heads " << heads << ", " << dtype_name(dtype));
      const at::Tensor src = per_node(a.nnz(), heads, 70 + heads, dtype);
      const double tol = hub_tol(dtype);
      expect_close(ops::segment_sum_csr(cuda(a.rowptr), cuda(src), std::nullopt),
                   ops::segment_sum_csr(a.rowptr, src.to(at::kDouble), std::nullopt), 1e-4, tol,
                   "rows");
      expect_close(ops::segment_sum_csr(cuda(a.t_rowptr), cuda(src), cuda(a.t_perm)),
                   ops::segment_sum_csr(a.t_rowptr, src.to(at::kDouble), a.t_perm), 1e-4, tol,
                   "columns through t_perm");
    }
  }
}

TEST(CudaEdgeOps, SddmmAddAndSoftmaxMatchCpu) {
  if (!at::hasCUDA()) GTEST_SKIP() << "no CUDA device";
  for (const bool hub : {false, true}) {
    const SparseAdjacency a = hub ? hub_graph(false) : random_csr(40, 30, 0.1, 0, 41, false);
    for (const int64_t heads : {0, 1, 4, 33}) {
      for (const auto dtype : {at::kFloat, at::kDouble}) {
        SCOPED_TRACE(::testing::Message() << "hub " << hub << ", heads " << heads << ", "
                                          << dtype_name(dtype));
        const double tol = hub ? hub_tol(dtype) : tol_of(dtype);
        const at::Tensor a_row = per_node(a.num_rows, heads, 1, dtype);
        const at::Tensor a_col = per_node(a.num_cols, heads, 2, dtype);
        const at::Tensor g = per_node(a.nnz(), heads, 3, dtype);
        auto run = [&](at::Device device) {
          const SparseAdjacency d = a.to(device, dtype);
          const at::Tensor r = leaf(a_row, device);
          const at::Tensor c = leaf(a_col, device);
          const at::Tensor logits =
              ops::sddmm_add(d.rowptr, d.col, d.t_rowptr, d.t_col, d.t_perm, r, c);
          const at::Tensor y = ops::edge_softmax(d.rowptr, logits * 3);
          (y * g.to(device)).sum().backward();
          return std::make_tuple(logits.detach(), y.detach(), r.grad(), c.grad());
        };
        const auto [logits, y, gr, gc] = run(at::kCUDA);
        const auto [logits_cpu, y_cpu, gr_cpu, gc_cpu] = run(at::kCPU);
        expect_equal(logits, logits_cpu, "sddmm_add (one addition: exact)");
        expect_close(y, y_cpu, tol, tol, "edge_softmax");
        expect_close(gr, gr_cpu, tol * 10, tol * 10, "grad a_row");
        expect_close(gc, gc_cpu, tol * 10, tol * 10, "grad a_col");
        if (hub) {
          // Rows still sum to one per head (row 0 has > 10,000 entries).
          const at::Tensor sums = ops::segment_sum_csr(cuda(a.rowptr), y, std::nullopt);
          expect_close(sums.select(0, 0), at::ones(heads == 0 ? std::vector<int64_t>{}
                                                              : std::vector<int64_t>{heads}),
                       tol * 10, tol * 10, "hub row sums");
        }
      }
    }
  }
}

TEST(CudaEdgeOps, SoftmaxExtremesAndBackwardOperator) {
  if (!at::hasCUDA()) GTEST_SKIP() << "no CUDA device";
  const double inf = std::numeric_limits<double>::infinity();
  // Rows: [0, ln 3] | [-inf, 0] | [-inf, -inf] | empty | [huge, huge, -huge].
  const SparseAdjacency a = csr_of(3, {{0, 1}, {0, 1}, {0, 1}, {}, {0, 1, 2}});
  const double big = std::numeric_limits<double>::max();
  const at::Tensor s =
      at::tensor(std::vector<double>{0, std::log(3.0), -inf, 0, -inf, -inf, big, big, -big});
  const at::Tensor y = ops::edge_softmax(cuda(a.rowptr), cuda(s));
  expect_close(y, at::tensor(std::vector<double>{0.25, 0.75, 0, 1, 0, 0, 0.5, 0.5, 0}), 1e-15,
               1e-15, "extremes");
  const at::Tensor bad = at::tensor(std::vector<double>{std::nan(""), 1, inf, 1});
  EXPECT_TRUE(ops::edge_softmax(cuda(a.rowptr.narrow(0, 0, 3)), cuda(bad)).isnan().all().item<bool>());
  const float fbig = std::numeric_limits<float>::max();
  const float finf = std::numeric_limits<float>::infinity();
  const at::Tensor s32 = at::tensor(std::vector<float>{fbig, -finf, fbig, -finf}).view({2, 2});
  expect_equal(ops::edge_softmax(cuda(a.rowptr.narrow(0, 0, 2)), cuda(s32)),
               at::tensor(std::vector<float>{0.5, 0, 0.5, 0}).view({2, 2}), "float32 extremes");

  const SparseAdjacency h = hub_graph(false);
  for (const int64_t heads : {0, 4}) {
    const at::Tensor yy = ops::edge_softmax(h.rowptr, per_node(h.nnz(), heads, 5, at::kDouble));
    const at::Tensor gg = per_node(h.nnz(), heads, 6, at::kDouble);
    expect_close(ops::edge_softmax_backward(cuda(h.rowptr), cuda(yy), cuda(gg)),
                 ops::edge_softmax_backward(h.rowptr, yy, gg), 1e-12, 1e-12, "backward operator");
  }
}

TEST(CudaEdgeOps, Gradcheck) {
  if (!at::hasCUDA()) GTEST_SKIP() << "no CUDA device";
  const SparseAdjacency a = random_csr(7, 6, 0.5, 0, 11, false).to(at::kCUDA, at::kDouble);
  for (const int64_t heads : {0, 1, 4}) {
    SCOPED_TRACE(heads);
    testing::gradcheck(
        [&](const std::vector<at::Tensor>& in) {
          return ops::sddmm_add(a.rowptr, a.col, a.t_rowptr, a.t_col, a.t_perm, in[0], in[1]);
        },
        {cuda(per_node(7, heads, 3, at::kDouble)), cuda(per_node(6, heads, 4, at::kDouble))});
    testing::gradcheck(
        [&](const std::vector<at::Tensor>& in) { return ops::edge_softmax(a.rowptr, in[0]); },
        {cuda(per_node(a.nnz(), heads, 5, at::kDouble))});
  }
}

// ---------------------------------------------------------------------------
// sample_neighbors

TEST(CudaSampleNeighbors, EqualsCpuExactly) {
  if (!at::hasCUDA()) GTEST_SKIP() << "no CUDA device";
  const SparseAdjacency a = random_csr(300, 1500, 0.01, 1500, 4, false);
  const at::Tensor seeds = at::cat({at::arange(300, at::kLong), at::arange(50, at::kLong) * 3});
  for (const bool replace : {true, false}) {
    for (const int64_t fanout : {1, 3, 10, 25, 100}) {
      SCOPED_TRACE(::testing::Message() << "replace " << replace << ", fanout " << fanout);
      const auto [nbr, eid] =
          ops::sample_neighbors(cuda(a.rowptr), cuda(a.col), cuda(seeds), fanout, replace, 99);
      const auto [nbr_cpu, eid_cpu] = ops::sample_neighbors(a.rowptr, a.col, seeds, fanout, replace, 99);
      expect_equal(nbr, nbr_cpu, "nbr");
      expect_equal(eid, eid_cpu, "eid");
    }
  }
  const SparseAdjacency hub = random_csr(24, 13000, 0.0005, 13000, 5, false);
  const at::Tensor hub_seeds = at::tensor(std::vector<int64_t>{0, 3, 1, 0});
  for (const int64_t fanout : {10, 100, 5000}) {
    SCOPED_TRACE(fanout);
    const auto [nbr, eid] =
        ops::sample_neighbors(cuda(hub.rowptr), cuda(hub.col), cuda(hub_seeds), fanout, false, 1);
    const auto [nbr_cpu, eid_cpu] = ops::sample_neighbors(hub.rowptr, hub.col, hub_seeds, fanout, false, 1);
    expect_equal(eid, eid_cpu, "hub eid");
    expect_equal(nbr, nbr_cpu, "hub nbr");
  }
  const auto [none_nbr, none_eid] =
      ops::sample_neighbors(cuda(a.rowptr), cuda(a.col), cuda(at::empty({0}, at::kLong)), 4, true, 1);
  EXPECT_EQ(none_nbr.sizes(), (std::vector<int64_t>{0, 4}));
}

// ---------------------------------------------------------------------------
// sample_negatives

// The CPU and CUDA draws of sample_negatives over the user -> item CSR `a`
// (a.num_cols items) are equal.
void expect_negatives_equal_cpu(const SparseAdjacency& a, const at::Tensor& users, int64_t k,
                                int64_t seed) {
  const at::Tensor got =
      ops::sample_negatives(cuda(a.rowptr), cuda(a.col), cuda(users), a.num_cols, k, seed);
  const at::Tensor expected = ops::sample_negatives(a.rowptr, a.col, users, a.num_cols, k, seed);
  expect_equal(got, expected, "negatives");
}

TEST(CudaSampleNegatives, EqualsCpuExactly) {
  if (!at::hasCUDA()) GTEST_SKIP() << "no CUDA device";
  // Empty rows (every 7th), a hub row of 1,200 items, items nobody has.
  const SparseAdjacency a = random_csr(300, 1500, 0.01, 1500, 4, false);
  for (const int64_t n : {1, 31, 32, 33, 255, 256, 257, 1023, 1025, 100000}) {
    const at::Tensor users = (at::arange(n, at::kLong) * 7919) % 300;
    for (const int64_t k : {1, 4}) {
      for (const int64_t seed : {int64_t{99}, int64_t{-3}}) {
        SCOPED_TRACE(::testing::Message() << "n " << n << ", k " << k << ", seed " << seed);
        expect_negatives_equal_cpu(a, users, k, seed);
      }
    }
  }
  // Hub users: 12,800 of 16,000 items; and 11,999 of 12,000 (every draw but
  // one rejected), three missing items, no items, one item.
  const SparseAdjacency hub = random_csr(40, 16000, 0.001, 16000, 6, false);
  expect_negatives_equal_cpu(hub, at::tensor(std::vector<int64_t>{0, 1, 0, 39, 0}), 50, 5);
  std::vector<int32_t> all_but_one, all_but_three;
  for (int32_t i = 0; i < 12000; ++i) {
    if (i != 4321) all_but_one.push_back(i);
    if (i != 0 && i != 6000 && i != 11999) all_but_three.push_back(i);
  }
  const SparseAdjacency nearly_full = csr_of(12000, {all_but_one, all_but_three, {}, {17}});
  const at::Tensor users = at::arange(2000, at::kLong) % 4;
  expect_negatives_equal_cpu(nearly_full, users, 3, 11);
  const at::Tensor neg = ops::sample_negatives(cuda(nearly_full.rowptr), cuda(nearly_full.col),
                                               cuda(users), 12000, 3, 11);
  EXPECT_TRUE(neg.index({cuda(users) == 0}).eq(4321).all().item<bool>());
  const at::Tensor none = ops::sample_negatives(cuda(a.rowptr), cuda(a.col),
                                                cuda(at::empty({0}, at::kLong)), 1500, 2, 1);
  EXPECT_TRUE(none.is_cuda());
  EXPECT_EQ(none.sizes(), (std::vector<int64_t>{0, 2}));
}

TEST(CudaSampleNegatives, ChecksValuesBeforeLaunching) {
  if (!at::hasCUDA()) GTEST_SKIP() << "no CUDA device";
  // User 1 has every item: rejection would spin forever, so the binding
  // finds it first (one synchronisation) and raises the CPU's message.
  const SparseAdjacency a = csr_of(4, {{0, 1}, {0, 1, 2, 3}, {}});
  const at::Tensor rp = cuda(a.rowptr), cp = cuda(a.col);
  for (const auto device : {at::Device(at::kCPU), at::Device(at::kCUDA)}) {
    SCOPED_TRACE(device.str());
    const auto call = [&](const std::vector<int64_t>& users, int64_t num_items) {
      ops::sample_negatives(a.rowptr.to(device), a.col.to(device),
                            at::tensor(users, at::kLong).to(device), num_items, 1, 1);
    };
    testing::expect_error([&] { call({0, 2, 1, 1}, 4); },
                          "sample_negatives: user 1 (users[2]) has 4 items of num_items 4: it has "
                          "interacted with every item; no negative exists");
    testing::expect_error([&] { call({0, 3}, 4); }, "sample_negatives: users[1] = 3 is outside [0, 3)");
    testing::expect_error([&] { call({-2, 1}, 4); }, "sample_negatives: users[0] = -2 is outside [0, 3)");
  }
  testing::expect_error([&] { ops::sample_negatives(a.rowptr, cp, cuda(at::zeros({2}, at::kLong)), 4, 1, 1); },
                        "sample_negatives: rowptr must be on cuda");
  testing::expect_error([&] { ops::sample_negatives(rp, cp, cuda(at::zeros({2}, at::kLong)), 4, 0, 1); },
                        "sample_negatives: k must be positive");
  testing::expect_error([&] { ops::sample_negatives(rp, cp, cuda(at::zeros({2}, at::kInt)), 4, 1, 1); },
                        "sample_negatives: users must be 1-D int64");
  // The device is healthy afterwards.
  const at::Tensor ok = ops::sample_negatives(rp, cp, cuda(at::zeros({5}, at::kLong)), 4, 2, 1);
  EXPECT_TRUE(ok.ge(2).all().item<bool>());
}

// ---------------------------------------------------------------------------
// Errors and malformed input

TEST(CudaOps, ArgumentChecksRunOnCuda) {
  if (!at::hasCUDA()) GTEST_SKIP() << "no CUDA device";
  const SparseAdjacency a = random_csr(6, 5, 0.5, 0, 2, true);
  const SparseAdjacency g = a.to(at::kCUDA, at::kDouble);
  const at::Tensor x = cuda(randn({5, 3}, 1));
  testing::expect_error([&] { ops::spmm(a.rowptr, g.col, g.value, g.t_rowptr, g.t_col, g.t_perm, x); },
                        "spmm: rowptr must be on cuda");
  testing::expect_error([&] { ops::spmm(g.rowptr, g.col, g.value, g.t_rowptr, g.t_col, g.t_perm, x.to(at::kInt)); },
                        "spmm: x must be float32 or float64");
  testing::expect_error([&] { ops::edge_softmax(g.rowptr, x.view({-1}).to(at::kLong)); },
                        "edge_softmax: score must be float32 or float64");
  testing::expect_error([&] { ops::sample_neighbors(g.rowptr, g.col, cuda(at::zeros({2}, at::kLong)), 0, true, 1); },
                        "sample_neighbors: fanout must be positive");
}

// Indices out of range must not make a kernel touch memory outside its
// buffers (checked under compute-sanitizer memcheck); the values are
// unspecified, and no error is raised on the GPU (the CPU raises).
TEST(CudaOps, MalformedIndicesStayInBounds) {
  if (!at::hasCUDA()) GTEST_SKIP() << "no CUDA device";
  const SparseAdjacency a = random_csr(40, 30, 0.2, 0, 2, true).to(at::kCUDA, at::kFloat);
  at::Tensor bad_col = a.col.clone();
  bad_col[0] = 1 << 30;
  bad_col[1] = -5;
  at::Tensor bad_rowptr = a.rowptr.clone();
  bad_rowptr[5] = a.nnz() + 1000;
  bad_rowptr[7] = -1000;
  const at::Tensor x = cuda(randn({30, 64}, 1, at::kFloat));
  for (const auto& rp : {a.rowptr, bad_rowptr}) {
    for (const auto& cp : {a.col, bad_col}) {
      ops::spmm(rp, cp, a.value, a.t_rowptr, a.t_col, a.t_perm, x);
      for (const char* how : {"sum", "max"}) {
        ops::spmm_reduce(rp, cp, a.t_rowptr, a.t_col, a.t_perm, x, how);
      }
      ops::sddmm(rp, cp, a.t_rowptr, a.t_col, a.t_perm, cuda(randn({40, 64}, 2, at::kFloat)), x);
      ops::sddmm_add(rp, cp, a.t_rowptr, a.t_col, a.t_perm, cuda(randn({40, 2}, 3, at::kFloat)),
                     cuda(randn({30, 2}, 4, at::kFloat)));
      ops::edge_softmax(rp, cuda(randn({a.nnz(), 2}, 5, at::kFloat)));
      ops::sample_neighbors(rp, cp, cuda(at::tensor(std::vector<int64_t>{0, 5, 7, 39})), 4, false, 1);
      try {  // a clamped row may hold num_items entries: then it raises, never spins
        ops::sample_negatives(rp, cp, cuda(at::tensor(std::vector<int64_t>{0, 5, 7, 39})), 30, 2, 1);
      } catch (const c10::Error&) {
      }
    }
  }
  // A seed outside [0, rows) gets -1 on the GPU.
  const auto [nbr, eid] = ops::sample_neighbors(a.rowptr, a.col,
                                                cuda(at::tensor(std::vector<int64_t>{-1, 40, 1000})),
                                                3, true, 1);
  EXPECT_TRUE(nbr.eq(-1).all().item<bool>());
  EXPECT_TRUE(eid.eq(-1).all().item<bool>());
  at::Tensor bad_perm = a.t_perm.clone();
  bad_perm[0] = 1 << 20;
  ops::segment_sum_csr(a.t_rowptr, cuda(randn({a.nnz()}, 6, at::kFloat)), bad_perm);
  EXPECT_TRUE(x.isfinite().all().item<bool>());  // synchronises: any kernel fault surfaces here
}

}  // namespace
}  // namespace gnnrec
