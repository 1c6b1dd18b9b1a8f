// Autograd for topk_masked, _topk_masked_auc and _topk_masked_scores: none
// (they rank; their scores are computed below autograd, or given, so the
// outputs never require grad).
// The Autograd entries are fallthroughs, so a call goes straight to the
// device kernel whatever the inputs require.
#include <torch/library.h>

namespace gnnrec::ops::autograd {

TORCH_LIBRARY_IMPL(gnnrec, Autograd, m) {
  m.impl("topk_masked", torch::CppFunction::makeFallthrough());
  m.impl("_topk_masked_auc", torch::CppFunction::makeFallthrough());
  m.impl("_topk_masked_scores", torch::CppFunction::makeFallthrough());
}

}  // namespace gnnrec::ops::autograd
