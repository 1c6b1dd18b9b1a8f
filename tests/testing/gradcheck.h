// A float64 finite-difference gradient check for C++ tests, in the spirit of
// torch.autograd.gradcheck: for a scalar-valued f, compares the autograd
// gradient of every input with central differences, element by element.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <ATen/core/grad_mode.h>
#include <gtest/gtest.h>

namespace gnnrec::testing {

// f maps the inputs (float64 leaves, on any device) to any tensor; the check uses the
// projection <f(inputs), w> with a fixed random w so that every output
// element contributes.
inline void gradcheck(const std::function<at::Tensor(const std::vector<at::Tensor>&)>& f,
                      std::vector<at::Tensor> inputs, double eps = 1e-6, double atol = 1e-7,
                      double rtol = 1e-5) {
  for (auto& x : inputs) x = x.detach().to(at::kDouble).clone().requires_grad_(true);
  at::Tensor out = f(inputs);
  // w is drawn on the CPU (the same w whatever the device) and moved to
  // the output's device, so the check also runs on CUDA.
  auto gen = at::make_generator<at::CPUGeneratorImpl>(1234);
  const at::Tensor w =
      at::randn(out.sizes(), gen, at::TensorOptions().dtype(at::kDouble)).to(out.device());
  (out * w).sum().backward();
  for (size_t i = 0; i < inputs.size(); ++i) {
    const at::Tensor analytic = inputs[i].grad().defined() ? inputs[i].grad().clone()
                                                           : at::zeros_like(inputs[i]);
    at::Tensor numeric = at::zeros_like(inputs[i]).detach();
    at::NoGradGuard no_grad;
    std::vector<at::Tensor> probe;
    for (auto& x : inputs) probe.push_back(x.detach().clone());
    auto flat = probe[i].view({-1});
    auto num_flat = numeric.view({-1});
    for (int64_t k = 0; k < flat.numel(); ++k) {
      const double orig = flat[k].item<double>();
      flat[k] = orig + eps;
      const double plus = (f(probe) * w).sum().item<double>();
      flat[k] = orig - eps;
      const double minus = (f(probe) * w).sum().item<double>();
      flat[k] = orig;
      num_flat[k] = (plus - minus) / (2 * eps);
    }
    EXPECT_TRUE(at::allclose(analytic, numeric, rtol, atol))
        << "gradient of input " << i << " differs from finite differences; max |diff| = "
        << (analytic - numeric).abs().max().item<double>();
  }
}

}  // namespace gnnrec::testing
