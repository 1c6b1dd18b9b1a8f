#include "models/contrastive.h"

#include <ATen/ATen.h>

namespace gnnrec {
namespace {

// x / max(‖x‖₂, 1e-12) row by row (torch.nn.functional.normalize).
at::Tensor normalize_rows(const at::Tensor& x) {
  return x / x.norm(2, {1}, /*keepdim=*/true).clamp_min(1e-12);
}

}  // namespace

at::Tensor perturb(const at::Tensor& e, const at::Tensor& u, double eps) {
  return e + at::sign(e) * normalize_rows(u) * eps;
}

at::Tensor add_uniform_noise(const at::Tensor& e, double eps) {
  return perturb(e, at::rand_like(e), eps);
}

at::Tensor info_nce(const at::Tensor& a, const at::Tensor& b, double temperature) {
  const at::Tensor logits = at::matmul(normalize_rows(a), normalize_rows(b).t()) / temperature;
  return -at::log_softmax(logits, 1).diagonal().mean();
}

}  // namespace gnnrec
