// Adam: the reference update against a hand computation, the fused update
// (at::_fused_adam_, which the trainer uses on every device) against the reference
// (on the CPU here: ATen has a CPU kernel too; on CUDA in CudaAdam), and
// --resume's set_steps.
#include <cmath>
#include <vector>

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <gtest/gtest.h>

#include "train/adam.h"

namespace gnnrec {
namespace {

at::Tensor randn(at::IntArrayRef shape, uint64_t seed) {
  auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  return at::randn(shape, gen, at::TensorOptions().dtype(at::kFloat));
}

struct AdamState {
  std::vector<at::Tensor> params, exp_avg, exp_avg_sq;
};

// `steps` updates of two parameters (the second gets no gradient on every
// third step) from fixed pseudo-random gradients, on `device`.
AdamState run_adam(Adam::Mode mode, at::Device device, int steps, bool* fused = nullptr) {
  std::vector<at::Tensor> params{randn({300, 16}, 1).to(device).requires_grad_(true),
                                 randn({7}, 2).to(device).requires_grad_(true)};
  Adam adam(params, 0.01, 0.9, 0.999, 1e-8, mode);
  if (fused != nullptr) *fused = adam.fused();
  for (int s = 0; s < steps; ++s) {
    at::Tensor loss = (params[0] * randn({300, 16}, 10 + s).to(device)).sum();
    if (s % 3 != 2) loss = loss + (params[1].pow(2) * randn({7}, 100 + s).to(device)).sum();
    loss.backward();
    adam.step();
    for (const auto& p : params) EXPECT_FALSE(p.grad().defined());
  }
  AdamState r;
  for (size_t i = 0; i < params.size(); ++i) {
    r.params.push_back(params[i].detach().cpu());
    r.exp_avg.push_back(adam.exp_avg()[i].cpu());
    r.exp_avg_sq.push_back(adam.exp_avg_sq()[i].cpu());
  }
  return r;
}

void expect_close(const AdamState& got, const AdamState& expected) {
  for (size_t i = 0; i < expected.params.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_TRUE(at::allclose(got.params[i], expected.params[i], 1e-5, 1e-6))
        << (got.params[i] - expected.params[i]).abs().max().item<double>();
    EXPECT_TRUE(at::allclose(got.exp_avg[i], expected.exp_avg[i], 1e-5, 1e-7));
    EXPECT_TRUE(at::allclose(got.exp_avg_sq[i], expected.exp_avg_sq[i], 1e-5, 1e-9));
  }
}

TEST(Adam, ReferenceStepMatchesTheFormula) {
  const at::Tensor p0 = randn({5}, 3);
  at::Tensor p = p0.clone().requires_grad_(true);
  Adam adam({p}, 0.1, 0.9, 0.999, 1e-8, Adam::Mode::kReference);
  EXPECT_FALSE(adam.fused());
  const at::Tensor g = randn({5}, 4);
  for (int s = 1; s <= 2; ++s) {
    (p * g).sum().backward();
    adam.step();
  }
  // The same gradient twice: m = (1 - 0.9^2) g, v = (1 - 0.999^2) g², so
  // m̂ = g and v̂ = g² after two steps, and each step moved p by lr·sign(g)
  // (up to eps).
  const at::Tensor expected = p0 - 2 * 0.1 * g.sign();
  EXPECT_TRUE(at::allclose(p.detach(), expected, 1e-5, 1e-6));
  EXPECT_EQ(adam.steps(), 2);
}

TEST(Adam, FusedEqualsTheReferenceUpToRounding) {
  bool fused = false, reference_fused = true;
  const AdamState ref = run_adam(Adam::Mode::kReference, at::kCPU, 25, &reference_fused);
  const AdamState got = run_adam(Adam::Mode::kAuto, at::kCPU, 25, &fused);
  EXPECT_TRUE(fused);  // kAuto fuses on the CPU too
  EXPECT_FALSE(reference_fused);
  expect_close(got, ref);
}

TEST(Adam, FusedResumesFromSetSteps) {
  // Two optimisers over copies of the same parameter: one steps 3 times;
  // the other is given the first's state after 2 steps (as --resume does)
  // and steps once.
  const at::Tensor start = randn({40}, 5);
  at::Tensor a = start.clone().requires_grad_(true);
  Adam full({a}, 0.05, 0.9, 0.999, 1e-8, Adam::Mode::kFused);
  at::Tensor saved_p, saved_m, saved_v;
  for (int s = 0; s < 3; ++s) {
    if (s == 2) {
      saved_p = a.detach().clone();
      saved_m = full.exp_avg()[0].clone();
      saved_v = full.exp_avg_sq()[0].clone();
    }
    (a * randn({40}, 20 + s)).sum().backward();
    full.step();
  }
  at::Tensor b = saved_p.clone().requires_grad_(true);
  Adam resumed({b}, 0.05, 0.9, 0.999, 1e-8, Adam::Mode::kFused);
  resumed.exp_avg()[0].copy_(saved_m);
  resumed.exp_avg_sq()[0].copy_(saved_v);
  resumed.set_steps(2);
  (b * randn({40}, 22)).sum().backward();
  resumed.step();
  EXPECT_TRUE(at::equal(a.detach(), b.detach()));
}

TEST(CudaAdam, FusedOnCudaEqualsTheCpuReferenceUpToRounding) {
  if (!at::hasCUDA()) GTEST_SKIP() << "no CUDA device";
  bool fused = false;
  const AdamState got = run_adam(Adam::Mode::kAuto, at::kCUDA, 25, &fused);
  EXPECT_TRUE(fused);  // kAuto fuses on CUDA
  expect_close(got, run_adam(Adam::Mode::kReference, at::kCPU, 25));
  expect_close(run_adam(Adam::Mode::kReference, at::kCUDA, 25),
               run_adam(Adam::Mode::kReference, at::kCPU, 25));
}

}  // namespace
}  // namespace gnnrec
