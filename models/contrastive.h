// The two pieces of SimGCL and XSimGCL (Yu et al., SIGIR 2022 and TKDE
// 2023) beside LightGCN's propagation, as their authors' code
// (github.com/Coder-Yu/SELFRec, util/loss_torch.py and model/graph/
// XSimGCL.py) computes them.
#pragma once

#include <ATen/core/Tensor.h>

namespace gnnrec {

// The noise added to every node's representation after each propagation:
// e + eps · sign(e) ⊙ u / ‖u‖₂ row by row, u uniform in [0, 1)^d. Each
// row's noise has norm eps and lies in e's orthant (sign(0) = 0 adds
// none). perturb() takes u; add_uniform_noise() draws it by at::rand_like
// from Torch's global generator (the trainer seeds it per epoch: a resumed
// run draws the same noise).
at::Tensor perturb(const at::Tensor& e, const at::Tensor& u, double eps);
at::Tensor add_uniform_noise(const at::Tensor& e, double eps);

// InfoNCE between two views a and b [n, d] of the same n nodes (row j of a
// and row j of b are the positive pair, the other rows of b the
// negatives), with cosine similarity and temperature τ:
//   −(1/n) Σ_j log( exp(cos(a_j, b_j)/τ) / Σ_k exp(cos(a_j, b_k)/τ) ).
// Differentiable in a and b.
at::Tensor info_nce(const at::Tensor& a, const at::Tensor& b, double temperature);

}  // namespace gnnrec
