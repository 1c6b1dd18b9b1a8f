"""gnnrec from Python: the gnnrec sparse operators as ``torch.ops.gnnrec.*``.

Importing this package loads the compiled library (``libgnnrec.so``), which
registers every operator with the Torch dispatcher together with its CPU,
CUDA (when built with CUDA), Meta (fake) and Autograd implementations, so the
operators work under ``torch.library.opcheck`` and ``torch.compile``.

The functions below are thin wrappers over those operators that take a
:class:`SparseAdjacency` (a CSR matrix with its precomputed transpose) in
place of the operators' five index tensors::

    import gnnrec
    adj = gnnrec.from_edge_index(edge_index, num_nodes=n)   # convert once
    out = gnnrec.spmm(adj, x)                                 # out[dst] = Σ x[src]

``gnnrec.plot`` (``python -m gnnrec.plot RUN_DIR``) needs only matplotlib: with
``GNNREC_NO_LIBRARY=1``, or when run as ``python -m gnnrec.plot``, importing
the package skips loading the library (and torch).
"""
import os as _os
import sys as _sys


def _skip_library() -> bool:
    """True when the compiled library must not be loaded: the environment sets
    ``GNNREC_NO_LIBRARY=1``, or this import is the one ``python -m gnnrec.plot``
    makes before running the plotter (which needs matplotlib only)."""
    if _os.environ.get("GNNREC_NO_LIBRARY") == "1":
        return True
    argv = list(getattr(_sys, "orig_argv", []))
    return "-m" in argv[:-1] and argv[argv.index("-m") + 1] == "gnnrec.plot"


# Threads that wait passively between parallel regions keep a busy machine
# usable (the `gnnrec` command does the same: docs/cli.md, "Threads on a
# busy machine"). libgomp reads the variable when torch loads it, so this
# takes effect only when gnnrec is imported before torch; afterwards, set it
# in the environment that starts Python.
if "torch" not in _sys.modules and "GOMP_SPINCOUNT" not in _os.environ:
    _os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

if not _skip_library():
    from ._library import LIBRARY_PATH
    from .adjacency import SparseAdjacency, from_edge_index, sym_norm
    from .ops import (edge_softmax, sample_neighbors, sddmm, sddmm_add, spmm, spmm_reduce,
                      topk_masked)
    from . import data, metrics, nn
    from .training import Trainer, train
    from .serving import Run, load_run

__all__ = [
    "LIBRARY_PATH",
    "SparseAdjacency",
    "from_edge_index",
    "sym_norm",
    "spmm",
    "sddmm",
    "spmm_reduce",
    "sddmm_add",
    "edge_softmax",
    "sample_neighbors",
    "topk_masked",
    "nn",
    "metrics",
    "data",
    "train",
    "Trainer",
    "load_run",
    "Run",
]
