"""``torch.nn`` modules over the gnnrec operators."""
from __future__ import annotations

from typing import Optional

import torch
from torch import Tensor

from .adjacency import SparseAdjacency
from .ops import spmm


class LightGCNPropagation(torch.nn.Module):
    """LightGCN's propagation: the mean of ``x, Âx, Â²x, …, Â^K x``.

    Â is the adjacency with the values given to :meth:`forward`, usually
    :func:`gnnrec.sym_norm` (D^-1/2 A D^-1/2) of the user–item graph with
    users and items as one node set. No weights: PyG's ``LGConv`` stacked
    ``num_layers`` times, with the layer mean of the LightGCN paper.
    """

    def __init__(self, num_layers: int = 3):
        super().__init__()
        if num_layers < 0:
            raise ValueError(f"LightGCNPropagation: num_layers must be >= 0, got {num_layers}")
        self.num_layers = num_layers

    def forward(self, x: Tensor, adj: SparseAdjacency, value: Optional[Tensor] = None) -> Tensor:
        """x: ``[num_nodes, d]``; value: ``[nnz]`` in CSR order (1 when absent)."""
        out, h = x, x
        for _ in range(self.num_layers):
            h = spmm(adj, h, value)
            out = out + h
        return out / (self.num_layers + 1)
