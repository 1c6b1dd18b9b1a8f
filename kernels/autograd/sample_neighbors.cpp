// Autograd for sample_neighbors: none (it samples indices). The Autograd
// entry is a fallthrough, so a call goes straight to the device kernel
// whatever the inputs require.
#include <torch/library.h>

namespace gnnrec::ops::autograd {

TORCH_LIBRARY_IMPL(gnnrec, Autograd, m) {
  m.impl("sample_neighbors", torch::CppFunction::makeFallthrough());
}

}  // namespace gnnrec::ops::autograd
