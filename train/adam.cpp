#include "train/adam.h"

#include <cmath>

#include <ATen/ATen.h>

namespace gnnrec {

Adam::Adam(std::vector<at::Tensor> params, double lr, double beta1, double beta2, double eps)
    : params_(std::move(params)), lr_(lr), beta1_(beta1), beta2_(beta2), eps_(eps) {
  for (const auto& p : params_) {
    m_.push_back(at::zeros_like(p).detach());
    v_.push_back(at::zeros_like(p).detach());
  }
}

void Adam::zero_grad() {
  for (auto& p : params_) {
    if (p.grad().defined()) p.mutable_grad() = at::Tensor();
  }
}

void Adam::step() {
  at::NoGradGuard no_grad;
  ++step_;
  const double bc1 = 1.0 - std::pow(beta1_, static_cast<double>(step_));
  const double bc2 = 1.0 - std::pow(beta2_, static_cast<double>(step_));
  for (size_t i = 0; i < params_.size(); ++i) {
    const at::Tensor& g = params_[i].grad();
    if (!g.defined()) continue;
    m_[i].mul_(beta1_).add_(g, 1.0 - beta1_);
    v_[i].mul_(beta2_).addcmul_(g, g, 1.0 - beta2_);
    // p -= lr * m̂ / (sqrt(v̂) + eps), as in torch.optim.Adam.
    const at::Tensor denom = (v_[i].sqrt() / std::sqrt(bc2)).add_(eps_);
    params_[i].detach().addcdiv_(m_[i], denom, -lr_ / bc1);
  }
  zero_grad();
}

}  // namespace gnnrec
