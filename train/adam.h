// Adam (Kingma & Ba, 2015) over a list of dense parameters, with its state
// exposed so checkpoints can save and restore it exactly.
#pragma once

#include <vector>

#include <ATen/core/Tensor.h>

namespace gnnrec {

class Adam {
 public:
  Adam(std::vector<at::Tensor> params, double lr, double beta1 = 0.9, double beta2 = 0.999,
       double eps = 1e-8);
  // Applies one update from the parameters' .grad(), then clears them.
  void step();
  void zero_grad();
  int64_t steps() const { return step_; }
  // exp_avg and exp_avg_sq per parameter, in parameter order.
  std::vector<at::Tensor>& exp_avg() { return m_; }
  std::vector<at::Tensor>& exp_avg_sq() { return v_; }
  void set_steps(int64_t s) { step_ = s; }

 private:
  std::vector<at::Tensor> params_, m_, v_;
  double lr_, beta1_, beta2_, eps_;
  int64_t step_ = 0;
};

}  // namespace gnnrec
