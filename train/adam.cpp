#include "train/adam.h"

#include <cmath>

#include <ATen/ATen.h>

namespace gnnrec {

Adam::Adam(std::vector<at::Tensor> params, double lr, double beta1, double beta2, double eps,
           Mode mode)
    : params_(std::move(params)), lr_(lr), beta1_(beta1), beta2_(beta2), eps_(eps) {
  for (const auto& p : params_) {
    m_.push_back(at::zeros_like(p).detach());
    v_.push_back(at::zeros_like(p).detach());
  }
  fused_ = mode == Mode::kFused || mode == Mode::kAuto;
  if (fused_ && !params_.empty()) {
    // The step count the fused kernel reads (torch.optim.Adam keeps it as a
    // float32 tensor on the parameters' device, as here).
    step_count_ = at::zeros({}, params_[0].options().dtype(at::kFloat)).detach();
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
  if (fused_) {
    fused_step();
  } else {
    reference_step();
  }
  zero_grad();
}

void Adam::reference_step() {
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
}

void Adam::fused_step() {
  std::vector<at::Tensor> p, g, m, v;
  for (size_t i = 0; i < params_.size(); ++i) {
    const at::Tensor& grad = params_[i].grad();
    if (!grad.defined()) continue;
    p.push_back(params_[i].detach());
    g.push_back(grad.contiguous());
    m.push_back(m_[i]);
    v.push_back(v_[i]);
  }
  if (p.empty()) return;
  // The count is written, not incremented, so --resume (set_steps) needs
  // nothing else; filling a scalar is one small kernel, no synchronisation.
  step_count_.fill_(static_cast<double>(step_));
  const std::vector<at::Tensor> steps(p.size(), step_count_);
  at::_fused_adam_(p, g, m, v, /*max_exp_avg_sqs=*/{}, steps, lr_, beta1_, beta2_,
                   /*weight_decay=*/0.0, eps_, /*amsgrad=*/false, /*maximize=*/false);
}

}  // namespace gnnrec
