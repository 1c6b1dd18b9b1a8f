// The one place where the gnnrec operator schemas are declared. Device
// implementations register under cpu/, cuda/, meta/; autograd under autograd/.
#include <torch/library.h>

TORCH_LIBRARY(gnnrec, m) {
  m.def(
      "spmm(Tensor rowptr, Tensor col, Tensor? value, Tensor t_rowptr, Tensor t_col, "
      "Tensor? t_perm, Tensor x) -> Tensor");
  m.def(
      "sddmm(Tensor rowptr, Tensor col, Tensor t_rowptr, Tensor t_col, Tensor t_perm, "
      "Tensor a, Tensor b) -> Tensor");
}
