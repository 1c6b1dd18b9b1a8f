// The pieces of Mult-VAE's and Mult-DAE's objective (models/multvae.cpp,
// where the models are described), as functions of tensors of any floating
// dtype, so that tests check them in float64 (values and gradients).
#pragma once

#include <cstdint>

#include <ATen/core/Tensor.h>

namespace gnnrec {

// The multinomial negative log-likelihood of each row: logits [B, I] and
// the rows' interactions x [B, I] (binary) give
//   −Σ_i x_bi · log softmax(logits_b)_i          [B]
at::Tensor multinomial_nll(const at::Tensor& logits, const at::Tensor& x);

// KL(N(mu, diag(exp(logvar))) ‖ N(0, I)) of each row, mu and logvar [B, L]:
//   −½ Σ_l (1 + logvar_l − mu_l² − exp(logvar_l))  [B]
at::Tensor gaussian_kl(const at::Tensor& mu, const at::Tensor& logvar);

// The KL weight β after `step` updates: min(cap, step / total_steps), or
// cap when total_steps is 0 (the paper's and RecBole's annealing).
double kl_anneal(int64_t step, int64_t total_steps, double cap);

}  // namespace gnnrec
