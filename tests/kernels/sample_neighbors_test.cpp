// gnnrec::sample_neighbors on every device (tests/kernels/sparse_test_utils.h:
// OnDevice): every draw is in the seed's row, distinctness without
// replacement, isolated seeds, hub rows, determinism per seed and per-row
// streams, uniformity (chi-square with fixed seeds), equality with the CPU
// draw for draw, errors, and seeds or indices out of range (the CPU raises,
// CUDA gives -1 and stays inside its buffers). On the CPU only:
// thread-count independence, the meta implementation, and the per-row code
// the CUDA kernel runs (kernels/sampling_row.h) run on the host against the
// CPU operator.
#include <set>
#include <vector>

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <ATen/core/grad_mode.h>
#include <gtest/gtest.h>

#include "kernels/ops.h"
#include "kernels/sampling_row.h"
#include "kernels/sparse_adjacency.h"
#include "tests/kernels/sparse_test_utils.h"

namespace gnnrec {
namespace {

using testing::csr_of;
using testing::expect_error;
using testing::random_csr;

std::tuple<at::Tensor, at::Tensor> sample(const SparseAdjacency& a, const at::Tensor& seeds,
                                          int64_t fanout, bool replace, int64_t seed) {
  return ops::sample_neighbors(a.rowptr, a.col, seeds, fanout, replace, seed);
}

class SampleNeighborsTest : public testing::OnDevice {
 protected:
  // sample() on the test's device (a and seeds on the CPU); the results,
  // which must be on the device, come back to the CPU.
  std::tuple<at::Tensor, at::Tensor> draw(const SparseAdjacency& a, const at::Tensor& seeds,
                                          int64_t fanout, bool replace, int64_t seed) const {
    const auto [nbr, eid] =
        ops::sample_neighbors(on(a.rowptr), on(a.col), on(seeds), fanout, replace, seed);
    EXPECT_EQ(nbr.device().type(), device().type());
    EXPECT_EQ(eid.device().type(), device().type());
    return {nbr.cpu(), eid.cpu()};
  }
};
GNNREC_ON_DEVICES(SampleNeighborsTest);

// Checks every row of (nbr, eid) against the CSR: -1 for isolated seeds,
// otherwise in-row positions with nbr = col[eid], distinct when drawn
// without replacement from a row with at least fanout entries.
void expect_valid(const SparseAdjacency& a, const at::Tensor& seeds, const at::Tensor& nbr,
                  const at::Tensor& eid, int64_t fanout, bool replace) {
  ASSERT_EQ(nbr.sizes(), (std::vector<int64_t>{seeds.numel(), fanout}));
  ASSERT_EQ(eid.sizes(), nbr.sizes());
  ASSERT_EQ(nbr.scalar_type(), at::kLong);
  ASSERT_EQ(eid.scalar_type(), at::kLong);
  const auto rp = a.rowptr.accessor<int64_t, 1>();
  const auto cp = a.col.accessor<int32_t, 1>();
  const auto sp = seeds.accessor<int64_t, 1>();
  const auto np = nbr.accessor<int64_t, 2>();
  const auto ep = eid.accessor<int64_t, 2>();
  int64_t isolated = 0, distinct_rows = 0;
  for (int64_t j = 0; j < seeds.numel(); ++j) {
    const int64_t begin = rp[sp[j]], deg = rp[sp[j] + 1] - begin;
    std::set<int64_t> seen;
    for (int64_t i = 0; i < fanout; ++i) {
      if (deg == 0) {
        ASSERT_EQ(ep[j][i], -1);
        ASSERT_EQ(np[j][i], -1);
        continue;
      }
      ASSERT_GE(ep[j][i], begin) << "seed " << sp[j];
      ASSERT_LT(ep[j][i], begin + deg) << "seed " << sp[j];
      ASSERT_EQ(np[j][i], cp[ep[j][i]]);
      seen.insert(ep[j][i]);
    }
    if (deg == 0) ++isolated;
    if (!replace && deg >= fanout) {
      ASSERT_EQ(static_cast<int64_t>(seen.size()), fanout) << "repeated neighbour, seed " << sp[j];
      ++distinct_rows;
    }
  }
  // The graphs used below have both kinds of rows.
  EXPECT_GT(isolated, 0);
  if (!replace) {
    EXPECT_GT(distinct_rows, 0);
  }
}

TEST_P(SampleNeighborsTest, DrawsAreInTheSeedsRow) {
  // Rows of degree 0 (every 7th) up to a hub of 1200; some below each fanout.
  const SparseAdjacency a = random_csr(300, 1500, 0.01, 1500, 4, false);
  const at::Tensor seeds = at::arange(300, at::kLong);
  for (const bool replace : {true, false}) {
    for (const int64_t fanout : {1, 3, 10, 25, 100}) {
      SCOPED_TRACE(::testing::Message() << "replace " << replace << ", fanout " << fanout);
      const auto [nbr, eid] = draw(a, seeds, fanout, replace, 99);
      expect_valid(a, seeds, nbr, eid, fanout, replace);
    }
  }
}

TEST_P(SampleNeighborsTest, HubRowAboveTenThousand) {
  const SparseAdjacency a = random_csr(24, 13000, 0.0005, 13000, 5, false);
  ASSERT_GT(a.rowptr[1].item<int64_t>(), 10000);
  const at::Tensor seeds = at::tensor(std::vector<int64_t>{0, 3, 1, 0});
  for (const int64_t fanout : {10, 100, 5000}) {  // the last two use the hash set
    SCOPED_TRACE(fanout);
    const auto [nbr, eid] = draw(a, seeds, fanout, false, 1);
    expect_valid(a, seeds, nbr, eid, fanout, false);
    // The same node twice gets the same sample.
    EXPECT_TRUE(at::equal(eid[0], eid[3]));
  }
}

TEST_P(SampleNeighborsTest, IsolatedSeedsGetMinusOne) {
  const SparseAdjacency a = csr_of(3, {{}, {0, 1, 2}, {}});
  for (const bool replace : {true, false}) {
    const auto [nbr, eid] = draw(a, at::tensor(std::vector<int64_t>{0, 2, 0}), 4, replace, 3);
    EXPECT_TRUE(nbr.eq(-1).all().item<bool>());
    EXPECT_TRUE(eid.eq(-1).all().item<bool>());
  }
}

TEST_P(SampleNeighborsTest, SmallRowWithoutReplacementFallsBackToReplacement) {
  // deg 3 < fanout 5: every slot filled, so some neighbour repeats.
  const SparseAdjacency a = csr_of(9, {{4, 7, 8}});
  const auto [nbr, eid] = draw(a, at::zeros({1}, at::kLong), 5, false, 3);
  for (int64_t i = 0; i < 5; ++i) {
    const int64_t n = nbr[0][i].item<int64_t>();
    EXPECT_TRUE(n == 4 || n == 7 || n == 8) << n;
  }
  EXPECT_LT(std::get<0>(at::_unique(eid)).numel(), 5);
}

TEST_P(SampleNeighborsTest, DeterministicPerSeed) {
  const SparseAdjacency a = random_csr(2000, 500, 0.02, 0, 8, false);
  const at::Tensor seeds = at::arange(50000, at::kLong) % 2000;
  for (const bool replace : {true, false}) {
    SCOPED_TRACE(replace);
    const at::Tensor one = std::get<1>(draw(a, seeds, 7, replace, 42));
    EXPECT_TRUE(at::equal(one, std::get<1>(draw(a, seeds, 7, replace, 42))));
    EXPECT_FALSE(at::equal(one, std::get<1>(draw(a, seeds, 7, replace, 43))));
    // Row j depends only on (seed, seeds[j]): a permuted or partial batch
    // gets the same rows.
    const at::Tensor perm = at::randperm(2000, at::kLong);
    EXPECT_TRUE(at::equal(std::get<1>(draw(a, perm, 7, replace, 42)),
                          one.narrow(0, 0, 2000).index_select(0, perm)));
  }
}

TEST(SampleNeighbors, IndependentOfTheThreadCount) {
  const SparseAdjacency a = random_csr(2000, 500, 0.02, 0, 8, false);
  const at::Tensor seeds = at::arange(50000, at::kLong) % 2000;
  for (const bool replace : {true, false}) {
    SCOPED_TRACE(replace);
    const auto [one, two] = testing::with_one_and_two_threads(
        [&] { return std::get<1>(sample(a, seeds, 7, replace, 42)); });
    EXPECT_TRUE(at::equal(one, two));
  }
}

// The CUDA operator equals the CPU's draw for draw (on the CPU instance the
// operator is compared with itself).
TEST_P(SampleNeighborsTest, EqualsTheCpuExactly) {
  const SparseAdjacency a = random_csr(300, 1500, 0.01, 1500, 4, false);
  const at::Tensor seeds = at::cat({at::arange(300, at::kLong), at::arange(50, at::kLong) * 3});
  for (const bool replace : {true, false}) {
    for (const int64_t fanout : {1, 3, 10, 25, 100}) {
      SCOPED_TRACE(::testing::Message() << "replace " << replace << ", fanout " << fanout);
      const auto [nbr, eid] =
          ops::sample_neighbors(on(a.rowptr), on(a.col), on(seeds), fanout, replace, 99);
      const auto [nbr_cpu, eid_cpu] = sample(a, seeds, fanout, replace, 99);
      expect_equal(nbr, nbr_cpu, "nbr");
      expect_equal(eid, eid_cpu, "eid");
    }
  }
  const SparseAdjacency hub = random_csr(24, 13000, 0.0005, 13000, 5, false);
  const at::Tensor hub_seeds = at::tensor(std::vector<int64_t>{0, 3, 1, 0});
  for (const int64_t fanout : {10, 100, 5000}) {
    SCOPED_TRACE(fanout);
    const auto [nbr, eid] =
        ops::sample_neighbors(on(hub.rowptr), on(hub.col), on(hub_seeds), fanout, false, 1);
    const auto [nbr_cpu, eid_cpu] = sample(hub, hub_seeds, fanout, false, 1);
    expect_equal(eid, eid_cpu, "hub eid");
    expect_equal(nbr, nbr_cpu, "hub nbr");
  }
  const auto [none_nbr, none_eid] =
      ops::sample_neighbors(on(a.rowptr), on(a.col), on(at::empty({0}, at::kLong)), 4, true, 1);
  EXPECT_EQ(none_nbr.sizes(), (std::vector<int64_t>{0, 4}));
}

// The code the CUDA kernel runs (kernels/sampling_row.h), run on the host,
// gives the CPU operator's output exactly (EqualsTheCpuExactly then
// compares the GPU with the CPU too).
void expect_rows_match_cpu(const SparseAdjacency& a, const at::Tensor& seeds, int64_t fanout,
                           bool replace, int64_t seed) {
  const auto [nbr, eid] = sample(a, seeds, fanout, replace, seed);
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

TEST(SampleNeighbors, DeviceCodeMatchesTheCpuOperatorOnTheHost) {
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

// Chi-square statistic of counts against equal expected frequencies.
double chi_square(const at::Tensor& counts) {
  const at::Tensor c = counts.to(at::kDouble);
  const double expected = c.sum().item<double>() / static_cast<double>(c.numel());
  return ((c - expected).pow(2) / expected).sum().item<double>();
}

// n nodes that all have the same `deg` neighbours 0..deg-1: each node draws
// from its own stream, so one call gives n independent samples of one row.
SparseAdjacency identical_rows(int64_t n, int32_t deg) {
  std::vector<int32_t> row(deg);
  for (int32_t i = 0; i < deg; ++i) row[i] = i;
  return csr_of(deg, std::vector<std::vector<int32_t>>(n, row));
}

TEST_P(SampleNeighborsTest, DrawsAreUniform) {
  struct Setting {
    int64_t n;
    int32_t deg;
    int64_t fanout;
    bool replace;
    double chi2_999;  // 0.999 quantile of chi-square with deg - 1 degrees of freedom
  };
  // With replacement; without (Floyd, scanned and hashed); deg < fanout.
  for (const Setting s : {Setting{10000, 20, 5, true, 43.82}, Setting{10000, 20, 5, false, 43.82},
                          Setting{2000, 100, 70, false, 148.23},
                          Setting{10000, 3, 5, false, 13.82}}) {
    SCOPED_TRACE(::testing::Message() << "deg " << s.deg << ", fanout " << s.fanout);
    const SparseAdjacency a = identical_rows(s.n, s.deg);
    const auto [nbr, eid] = draw(a, at::arange(s.n, at::kLong), s.fanout, s.replace, 12345);
    const at::Tensor counts = at::bincount(nbr.view({-1}), {}, s.deg);
    ASSERT_EQ(counts.sum().item<int64_t>(), s.n * s.fanout);
    const double chi2 = chi_square(counts);
    EXPECT_LT(chi2, s.chi2_999);
    EXPECT_GT(chi2, 1.0);  // not suspiciously even either
  }
}

TEST_P(SampleNeighborsTest, WorksWithGradModeOn) {
  const SparseAdjacency a = random_csr(10, 10, 0.3, 0, 1, false);
  c10::AutoGradMode grad_mode(true);
  const auto [nbr, eid] = draw(a, at::arange(10, at::kLong), 4, false, 1);
  EXPECT_FALSE(nbr.requires_grad());
  expect_valid(a, at::arange(10, at::kLong), nbr, eid, 4, false);
}

TEST(SampleNeighbors, MetaImplementationGivesShapes) {
  const SparseAdjacency a = random_csr(10, 10, 0.3, 0, 1, false);
  const SparseAdjacency m = a.to(at::kMeta, at::kDouble);
  const auto [nbr, eid] =
      sample(m, at::empty({6}, at::TensorOptions().device(at::kMeta).dtype(at::kLong)), 4, true, 1);
  EXPECT_TRUE(nbr.is_meta());
  EXPECT_EQ(nbr.sizes(), (std::vector<int64_t>{6, 4}));
  EXPECT_EQ(eid.sizes(), (std::vector<int64_t>{6, 4}));
  EXPECT_EQ(eid.scalar_type(), at::kLong);
}

TEST_P(SampleNeighborsTest, ClearErrors) {
  const SparseAdjacency a = on(random_csr(6, 6, 0.5, 0, 2, false));
  const at::Tensor seeds = on(at::tensor(std::vector<int64_t>{0, 5}));
  expect_error([&] { sample(a, seeds, 0, true, 1); },
               "sample_neighbors: fanout must be positive, got 0");
  expect_error([&] { sample(a, seeds, -3, false, 1); },
               "sample_neighbors: fanout must be positive, got -3");
  expect_error([&] { sample(a, seeds.to(at::kInt), 2, true, 1); },
               "sample_neighbors: seeds must be 1-D int64");
  expect_error([&] { sample(a, seeds.view({1, 2}), 2, true, 1); },
               "sample_neighbors: seeds must be 1-D int64, got 2-D");
  expect_error([&] { ops::sample_neighbors(a.rowptr, a.col.to(at::kLong), seeds, 2, true, 1); },
               "sample_neighbors: col must be int32");
}

// Seeds outside [0, rows): the CPU raises; CUDA gives -1 in their rows.
// Malformed CSR input on CUDA must not make the kernel touch memory outside
// its buffers (compute-sanitizer memcheck).
TEST_P(SampleNeighborsTest, SeedsAndIndicesOutOfRange) {
  if (on_cpu()) {
    const SparseAdjacency a = random_csr(6, 6, 0.5, 0, 2, false);
    expect_error(
        [&] {
          sample(a, at::tensor(std::vector<int64_t>{0, 6}), 2, true, 1);
        },
        "sample_neighbors: seeds holds a node outside [0, 6)");
    expect_error([&] { sample(a, at::tensor(std::vector<int64_t>{-1}), 2, false, 1); },
                 "sample_neighbors: seeds holds a node outside [0, 6)");
    return;
  }
  const testing::MalformedCsr m(*this);
  const auto [nbr, eid] =
      sample(m.a, on(at::tensor(std::vector<int64_t>{-1, 40, 1000})), 3, true, 1);
  EXPECT_TRUE(nbr.eq(-1).all().item<bool>());
  EXPECT_TRUE(eid.eq(-1).all().item<bool>());
  const at::Tensor seeds = on(at::tensor(std::vector<int64_t>{0, 5, 7, 39}));
  m.each([&](const at::Tensor& rp, const at::Tensor& cp) {
    ops::sample_neighbors(rp, cp, seeds, 4, false, 1);
  });
  EXPECT_TRUE(seeds.ge(0).all().item<bool>());  // synchronises: any kernel fault surfaces here
}

}  // namespace
}  // namespace gnnrec
