// Helpers shared by the operator tests: random CSR matrices with the awkward
// cases built in, dense references, random inputs, error expectations, and
// the fixtures that run a test on every device.
//
// Device-parametrised tests: a TEST_P of a fixture derived from OnDevice (or
// OnDeviceCases<Case>) runs once per device, instantiated by
// GNNREC_ON_DEVICES / GNNREC_CASES_ON_DEVICES as "Cpu/..." and "Cuda/...".
// The CUDA instances skip themselves with "no CUDA device" where there is
// no GPU (scripts/gpu/run_checks.sh selects them with --gtest_filter=Cuda*
// and fails if they skipped). A test compares the device's result with a
// reference: dense float64 ATen, hand-worked values, finite differences, or,
// for the checks of agreement between devices, the CPU operator (which on
// the CPU instance is the operator itself).
#pragma once

#include <algorithm>
#include <functional>
#include <string>
#include <tuple>
#include <vector>

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Parallel.h>
#include <gtest/gtest.h>

#include "base/random.h"
#include "kernels/cuda/config.h"
#include "kernels/sparse_adjacency.h"
#include "tests/testing/scratch.h"

namespace gnnrec::testing {

// A random CSR matrix with empty rows (every 7th), empty (isolated) columns
// (every 5th) and, when hub_degree > 0, row 0 as a hub with an entry in each
// non-isolated column below hub_degree. No duplicate entries. Values in
// (0.5, 1.5) when weighted.
inline SparseAdjacency random_csr(int64_t rows, int64_t cols, double density, int64_t hub_degree,
                                  uint64_t seed, bool weighted) {
  SplitMix64 rng(seed);
  std::vector<int64_t> rowptr{0};
  std::vector<int32_t> col;
  for (int64_t r = 0; r < rows; ++r) {
    if (r % 7 == 3) {
      rowptr.push_back(static_cast<int64_t>(col.size()));
      continue;
    }
    for (int64_t c = 0; c < cols; ++c) {
      if (c % 5 == 2) continue;
      const bool hub = (r == 0 && hub_degree > 0 && c < hub_degree);
      if (hub || rng.uniform() < density) col.push_back(static_cast<int32_t>(c));
    }
    rowptr.push_back(static_cast<int64_t>(col.size()));
  }
  SparseAdjacency a;
  a.num_rows = rows;
  a.num_cols = cols;
  a.rowptr = at::tensor(rowptr, at::kLong);
  a.col = at::tensor(col, at::kInt);
  if (weighted) {
    auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
    a.value = at::rand({static_cast<int64_t>(col.size())}, gen,
                       at::TensorOptions().dtype(at::kDouble)) +
              0.5;
  }
  fill_transpose(a);
  return a;
}

// A CSR matrix from explicit rows of column indices.
inline SparseAdjacency csr_of(int64_t cols, const std::vector<std::vector<int32_t>>& rows) {
  std::vector<int64_t> rowptr{0};
  std::vector<int32_t> col;
  for (const auto& row : rows) {
    col.insert(col.end(), row.begin(), row.end());
    rowptr.push_back(static_cast<int64_t>(col.size()));
  }
  SparseAdjacency a;
  a.num_rows = static_cast<int64_t>(rows.size());
  a.num_cols = cols;
  a.rowptr = at::tensor(rowptr, at::kLong);
  a.col = col.empty() ? at::empty({0}, at::kInt) : at::tensor(col, at::kInt);
  fill_transpose(a);
  return a;
}

// The dense float64 matrix (1 where there is an unweighted entry).
inline at::Tensor dense_of(const SparseAdjacency& a) {
  at::Tensor d = at::zeros({a.num_rows, a.num_cols}, at::kDouble);
  const auto rp = a.rowptr.accessor<int64_t, 1>();
  const auto cp = a.col.accessor<int32_t, 1>();
  for (int64_t r = 0; r < a.num_rows; ++r) {
    for (int64_t k = rp[r]; k < rp[r + 1]; ++k) {
      d[r][cp[k]] = a.value.defined() ? a.value[k].item<double>() : 1.0;
    }
  }
  return d;
}

// The row of every stored entry, int64 [nnz].
inline at::Tensor row_of_entries(const SparseAdjacency& a) {
  const at::Tensor deg = a.rowptr.narrow(0, 1, a.num_rows) - a.rowptr.narrow(0, 0, a.num_rows);
  return at::repeat_interleave(at::arange(a.num_rows, at::kLong), deg);
}

inline at::Tensor randn(at::IntArrayRef shape, uint64_t seed, at::ScalarType dtype = at::kDouble) {
  auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  return at::randn(shape, gen, at::TensorOptions().dtype(dtype));
}

// f must throw a c10::Error whose message contains `fragment`.
inline void expect_error(const std::function<void()>& f, const std::string& fragment) {
  const std::string message = error_of<c10::Error>(f);
  EXPECT_NE(message.find(fragment), std::string::npos)
      << "expected \"" << fragment << "\" in: " << message;
}

// Runs f once with 1 thread and once with 2; restores the thread count.
template <typename F>
auto with_one_and_two_threads(F&& f) {
  const int saved = at::get_num_threads();
  at::set_num_threads(1);
  auto one = f();
  at::set_num_threads(2);
  auto two = f();
  at::set_num_threads(saved);
  return std::make_pair(one, two);
}

// Per-node or per-edge values: [n] (heads 0) or [n, heads].
inline at::Tensor per_node(int64_t n, int64_t heads, uint64_t seed,
                           at::ScalarType dtype = at::kDouble) {
  return heads == 0 ? randn({n}, seed, dtype) : randn({n, heads}, seed, dtype);
}

inline const char* dtype_name(at::ScalarType t) { return t == at::kFloat ? "float32" : "float64"; }

// The widths of the width sweeps, straddling the CUDA lane-group, warp and
// vector widths, in both dtypes.
struct Width {
  int64_t width;
  at::ScalarType dtype;
};
inline std::vector<Width> straddling_widths() {
  std::vector<Width> cases;
  for (const int64_t d : {1, 4, 31, 32, 33, 64, 127, 128, 256}) {
    for (const auto dtype : {at::kFloat, at::kDouble}) cases.push_back({d, dtype});
  }
  return cases;
}
inline std::string width_name(const Width& c) {
  return "d" + std::to_string(c.width) + "_" + dtype_name(c.dtype);
}

// The graph shapes of the attention operators' tests (sddmm_add,
// edge_softmax): heads 0 means 1-D per-edge and per-node tensors; the hub
// row holds 1,200 entries.
struct HeadsShape {
  int64_t rows, cols, heads, hub;
};
inline const std::vector<HeadsShape>& heads_shapes() {
  static const std::vector<HeadsShape> shapes{{40, 30, 0, 0},  {40, 30, 1, 0},      {40, 30, 4, 0},
                                              {40, 30, 33, 0}, {20, 2000, 4, 1500}, {1, 1, 4, 0}};
  return shapes;
}
inline std::string heads_shape_name(const HeadsShape& c) {
  return std::to_string(c.rows) + "x" + std::to_string(c.cols) + "_heads" +
         std::to_string(c.heads) + (c.hub ? "_hub" : "");
}
// [n] → [n, 1]; [n, H] as is.
inline at::Tensor as_matrix(const at::Tensor& t) { return t.dim() == 1 ? t.unsqueeze(1) : t; }

// Tolerance of a float32 / float64 result summed in another order: short
// rows, and rows or columns of thousands of entries (hub_graph).
inline double tol_of(at::ScalarType t) { return t == at::kFloat ? 2e-5 : 1e-11; }
inline double hub_tol(at::ScalarType t) { return t == at::kFloat ? 1e-3 : 1e-10; }

// A graph with hub rows of 10,400, 3,000, 1,500 and kBigHubDegree + 1 entries
// (the CUDA big-hub blocks), kBigHubDegree and kHubDegree + 1 entries (the
// kBlock hub blocks), a row of exactly kHubDegree entries (the group path),
// and 3,000 small rows that all hold column 5 and half of them column 7, so
// the transpose has hub rows too (the backward passes). Columns ascending,
// no duplicates.
inline SparseAdjacency hub_graph(bool weighted, uint64_t seed = 3) {
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

// The device a parametrised test runs on, and what it needs of it.
class DeviceHelpers {
 public:
  at::Device device() const { return device_; }
  bool on_cpu() const { return device_.is_cpu(); }
  // t (or a) on the test's device; undefined stays undefined.
  at::Tensor on(const at::Tensor& t) const { return t.defined() ? t.to(device_) : t; }
  SparseAdjacency on(const SparseAdjacency& a, at::ScalarType dtype = at::kDouble) const {
    return a.to(device_, dtype);
  }
  // A fresh leaf copy of t on the device that requires grad (never t
  // itself, so repeated backward passes do not accumulate into one gradient).
  at::Tensor leaf(const at::Tensor& t) const {
    return t.to(device_).detach().clone().requires_grad_(true);
  }

  // got is on the test's device, has expected's shape and is close to it
  // (any dtypes and devices: compared in float64 on the CPU, NaN == NaN).
  void expect_close(const at::Tensor& got, const at::Tensor& expected, double rtol, double atol,
                    const std::string& what) const {
    ASSERT_EQ(got.device().type(), device_.type()) << what;
    ASSERT_EQ(got.sizes(), expected.sizes()) << what;
    const at::Tensor g = got.cpu().to(at::kDouble), e = expected.cpu().to(at::kDouble);
    EXPECT_TRUE(at::allclose(g, e, rtol, atol, /*equal_nan=*/true))
        << what << ": max |diff| " << (g - e).abs().max().item<double>();
  }
  // got is on the test's device and equals expected (on the CPU) bit for
  // bit, dtype included (NaN == NaN).
  void expect_equal(const at::Tensor& got, const at::Tensor& expected,
                    const std::string& what) const {
    ASSERT_EQ(got.device().type(), device_.type()) << what;
    ASSERT_EQ(got.sizes(), expected.sizes()) << what;
    ASSERT_EQ(got.scalar_type(), expected.scalar_type()) << what;
    const at::Tensor g = got.cpu(), e = expected.cpu();
    if (at::isFloatingType(g.scalar_type())) {
      EXPECT_TRUE(at::equal(g.isnan(), e.isnan())) << what;
      EXPECT_TRUE(at::equal(g.nan_to_num(0, 0, 0), e.nan_to_num(0, 0, 0)))
          << what << ": max |diff| "
          << (g.nan_to_num(0, 0, 0).to(at::kDouble) - e.nan_to_num(0, 0, 0).to(at::kDouble))
                 .abs()
                 .max()
                 .item<double>();
    } else {
      EXPECT_TRUE(at::equal(g, e)) << what;
    }
  }

 protected:
  // Selects the device; false when the test must skip (CUDA without a GPU).
  bool use(at::Device device) {
    device_ = device;
    return !device.is_cuda() || at::hasCUDA();
  }

 private:
  at::Device device_ = at::kCPU;
};

// A test run once per device (GNNREC_ON_DEVICES).
class OnDevice : public ::testing::TestWithParam<at::Device>, public DeviceHelpers {
 protected:
  void SetUp() override {
    if (!use(GetParam())) GTEST_SKIP() << "no CUDA device";
  }
};

// A test run once per device and case (GNNREC_CASES_ON_DEVICES).
template <typename Case>
class OnDeviceCases : public ::testing::TestWithParam<std::tuple<at::Device, Case>>,
                      public DeviceHelpers {
 protected:
  void SetUp() override {
    if (!use(std::get<0>(this->GetParam()))) GTEST_SKIP() << "no CUDA device";
  }
  const Case& param() const { return std::get<1>(this->GetParam()); }
};

// The inputs of the malformed-index tests: a 40 x 30 weighted CSR (float32
// values) on the test's device, and copies of its col with indices 2^30 and
// -5 and of its rowptr with entries past nnz and below 0. On CUDA an
// operator given them must stay inside its buffers (compute-sanitizer
// memcheck); the values are unspecified.
struct MalformedCsr {
  SparseAdjacency a;
  at::Tensor bad_col, bad_rowptr;

  explicit MalformedCsr(const DeviceHelpers& on_device)
      : a(on_device.on(random_csr(40, 30, 0.2, 0, 2, true), at::kFloat)), bad_col(a.col.clone()),
        bad_rowptr(a.rowptr.clone()) {
    bad_col[0] = 1 << 30;
    bad_col[1] = -5;
    bad_rowptr[5] = a.nnz() + 1000;
    bad_rowptr[7] = -1000;
  }
  // f(rowptr, col) for the four pairs of good and malformed ones.
  template <typename F>
  void each(const F& f) const {
    for (const at::Tensor& rp : {a.rowptr, bad_rowptr}) {
      for (const at::Tensor& cp : {a.col, bad_col}) f(rp, cp);
    }
  }
};

inline std::string device_name(const ::testing::TestParamInfo<at::Device>& info) {
  return info.param.is_cpu() ? "cpu" : "cuda";
}

}  // namespace gnnrec::testing

// Instantiates the TEST_Ps of an OnDevice fixture on the CPU and on CUDA.
#define GNNREC_ON_DEVICES(Fixture)                                                  \
  INSTANTIATE_TEST_SUITE_P(Cpu, Fixture, ::testing::Values(at::Device(at::kCPU)),   \
                           ::gnnrec::testing::device_name);                         \
  INSTANTIATE_TEST_SUITE_P(Cuda, Fixture, ::testing::Values(at::Device(at::kCUDA)), \
                           ::gnnrec::testing::device_name)

// Instantiates the TEST_Ps of an OnDeviceCases<Case> fixture for every case
// of `cases` (a std::vector<Case>) on the CPU and on CUDA; name(case) names
// a case.
#define GNNREC_CASES_ON_DEVICES(Fixture, cases, name)                                           \
  INSTANTIATE_TEST_SUITE_P(                                                                     \
      Cpu, Fixture,                                                                             \
      ::testing::Combine(::testing::Values(at::Device(at::kCPU)), ::testing::ValuesIn(cases)),  \
      [](const auto& info) { return name(std::get<1>(info.param)); });                          \
  INSTANTIATE_TEST_SUITE_P(                                                                     \
      Cuda, Fixture,                                                                            \
      ::testing::Combine(::testing::Values(at::Device(at::kCUDA)), ::testing::ValuesIn(cases)), \
      [](const auto& info) { return name(std::get<1>(info.param)); })
