#include "models/kg_embedding.h"

#include <stdexcept>
#include <string>

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

namespace gnnrec::kg {
namespace {

at::Tensor unit_rows(const at::Tensor& x) {
  return x / x.norm(2, {-1}, /*keepdim=*/true).clamp_min(1e-12);
}

}  // namespace

at::Tensor transe_distance(const at::Tensor& h, const at::Tensor& r, const at::Tensor& t,
                           int64_t p) {
  if (p != 1 && p != 2) {
    throw std::invalid_argument("transe_distance: p must be 1 or 2, got " + std::to_string(p));
  }
  const at::Tensor diff = unit_rows(h) + r - unit_rows(t);
  // The L2 norm through sqrt(sum of squares + tiny) keeps the gradient
  // finite for a perfect triple (norm's gradient at 0 is NaN).
  return p == 1 ? diff.abs().sum(-1) : (diff.pow(2).sum(-1) + 1e-12).sqrt();
}

at::Tensor transr_distance(const at::Tensor& h, const at::Tensor& r, const at::Tensor& t,
                           const at::Tensor& m) {
  const at::Tensor hr = unit_rows(at::bmm(m, h.unsqueeze(-1)).squeeze(-1));
  const at::Tensor tr = unit_rows(at::bmm(m, t.unsqueeze(-1)).squeeze(-1));
  return (hr + r - tr).pow(2).sum(-1);
}

at::Tensor margin_ranking_loss(const at::Tensor& d_pos, const at::Tensor& d_neg, double margin) {
  return at::relu(margin + d_pos - d_neg).mean();
}

std::pair<at::Tensor, at::Tensor> corrupt(const at::Tensor& heads, const at::Tensor& tails,
                                          int64_t num_entities, uint64_t seed) {
  if (num_entities < 1) throw std::invalid_argument("corrupt: no entities to draw from");
  auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  const int64_t n = heads.numel();
  const at::Tensor which = at::randint(2, {n}, gen, at::TensorOptions().dtype(at::kLong)).to(heads.device());
  const at::Tensor draw = at::randint(num_entities, {n}, gen, at::TensorOptions().dtype(at::kLong)).to(heads.device());
  const at::Tensor head_side = which.eq(0);
  return {at::where(head_side, draw, heads), at::where(head_side, tails, draw)};
}

}  // namespace gnnrec::kg
