// BSPM (Choi, Hong, Park & Cho, SIGIR 2023, "Blurring-Sharpening Process
// Models for Collaborative Filtering"), its early-merge variant BSPM-EM, the
// paper's best on Gowalla: training-free, like GF-CF (models/gfcf.cpp), with
// the same R̃, linear filter G = R̃ᵀR̃ and ideal low-pass filter
// P = D_i^-1/2 U_k U_kᵀ D_i^1/2 (models/graph_filter.h). For the binary row
// r of a user:
//   blurring:   dr/dt = r G − r       from r(0) = r to T_b = 1, one Euler
//               step: r G
//   ideal:      dr/dt = r P − r       likewise: r P
//   early merge: y(0) = r G + β r P
//   sharpening: dy/dt = −y G          from 0 to T_s, K_s steps of the
//               `--sharpen-solver` (rk4: the 3/8 rule, torchdiffeq's
//               "rk4"; or euler)
// and the scores are y(T_s). Defaults: the authors' Gowalla command
// (README of github.com/jeongwhanchoi/BSPM): k 448, β 0.2, T_s 2.5, K_s 1,
// rk4; T_b, K_b and the ideal filter's solver are their code's defaults
// (1, 1, Euler), fixed here. Without t_point_combination (their Gowalla
// setting), so the scores are the last point only.
#include <ATen/ATen.h>

#include <stdexcept>

#include "models/graph_filter.h"

namespace gnnrec {
namespace {

class Bspm : public GraphFilterModel {
 public:
  Bspm(const ModelOptions& o, const PropagationGraph& g, at::Device device)
      : GraphFilterModel(o, g, device), beta_(o.ideal_weight.value()),
        time_(o.sharpen_time.value()), steps_(o.sharpen_steps.value()),
        rk4_(o.sharpen_solver.value() == "rk4") {
    if (!rk4_ && *o.sharpen_solver != "euler") {
      throw std::invalid_argument("--sharpen-solver must be euler or rk4, got '" +
                                  *o.sharpen_solver + "'");
    }
  }

  std::string name() const override { return "bspm"; }

 protected:
  at::Tensor score_columns(const at::Tensor& users) override {
    at::Tensor y = gram(columns(users));  // blurred: one Euler step to T_b = 1
    if (beta_ > 0) y.add_(ideal(users), beta_);
    const double h = time_ / static_cast<double>(steps_);
    // f(y) = -G y, the sharpening's right-hand side.
    const auto f = [&](const at::Tensor& x) { return gram(x).neg_(); };
    for (int64_t s = 0; s < steps_; ++s) {
      if (!rk4_) {
        y.add_(f(y), h);
        continue;
      }
      // torchdiffeq's rk4_alt_step_func (Kutta's 3/8 rule).
      const at::Tensor k1 = f(y);
      const at::Tensor k2 = f(y + k1 * (h / 3));
      const at::Tensor k3 = f(y + (k2 - k1 / 3) * h);
      const at::Tensor k4 = f(y + (k1 - k2 + k3) * h);
      y.add_((k1 + (k2 + k3) * 3 + k4), h * 0.125);
    }
    return y;
  }

 private:
  double beta_, time_;
  int64_t steps_;
  bool rk4_;
};

const ModelRegistrar kRegister("bspm", factory_of<Bspm>(),
                               ModelDefaults()
                                   .svd_rank(448)
                                   .ideal_weight(0.2)
                                   .sharpen_time(2.5)
                                   .sharpen_steps(1)
                                   .sharpen_solver("rk4"));

}  // namespace
}  // namespace gnnrec
