"""Sparse adjacency matrices in the layout the gnnrec operators take.

The operators take a CSR matrix A (``rowptr`` int64, ``col`` int32) together
with the CSR of its transpose (``t_rowptr``, ``t_col``) and ``t_perm``, which
maps each transposed entry to its position in A; the backward passes run over
the transpose, so it is built once, here, rather than at every call.
"""
from __future__ import annotations

import dataclasses
from typing import Optional, Tuple

import torch
from torch import Tensor


@dataclasses.dataclass(frozen=True)
class SparseAdjacency:
    """A CSR matrix with its transpose, ready for :func:`gnnrec.spmm` and the others.

    Built from a PyG-style ``edge_index`` by :func:`from_edge_index`: edge
    ``(src, dst)`` becomes entry ``A[dst, src]``, so ``spmm(adj, x)[dst]``
    aggregates ``x[src]`` over the incoming edges of ``dst``, as PyG's message
    passing does.

    Attributes:
        num_rows: rows of A (target nodes).
        num_cols: columns of A (source nodes).
        rowptr: int64 ``[num_rows + 1]``, row r's entries are ``rowptr[r]:rowptr[r+1]``.
        col: int32 ``[nnz]``, the column (source node) of each entry.
        t_rowptr: int64 ``[num_cols + 1]``, CSR of Aᵀ.
        t_col: int32 ``[nnz]``, the row of A of each transposed entry.
        t_perm: int64 ``[nnz]``, transposed entry k is entry ``t_perm[k]`` of A.
        perm: int64 ``[nnz]``, entry k of A is edge ``perm[k]`` of the
            ``edge_index`` it was built from (see :meth:`edge_values`).
    """

    num_rows: int
    num_cols: int
    rowptr: Tensor
    col: Tensor
    t_rowptr: Tensor
    t_col: Tensor
    t_perm: Tensor
    perm: Tensor

    @property
    def nnz(self) -> int:
        """The number of stored entries (edges)."""
        return self.col.numel()

    @property
    def device(self) -> torch.device:
        return self.rowptr.device

    def row(self) -> Tensor:
        """int64 ``[nnz]``: the row (target node) of each entry, in CSR order."""
        deg = self.rowptr[1:] - self.rowptr[:-1]
        return torch.repeat_interleave(
            torch.arange(self.num_rows, device=self.device), deg, output_size=self.nnz)

    def edge_values(self, edge_values: Tensor) -> Tensor:
        """Reorders per-edge values given in ``edge_index`` order into CSR order."""
        if edge_values.size(0) != self.nnz:
            raise ValueError(f"edge_values: expected {self.nnz} values (one per edge), "
                             f"got shape {tuple(edge_values.shape)}")
        return edge_values.index_select(0, self.perm)

    def to_edge_index(self) -> Tensor:
        """int64 ``[2, nnz]`` (source row 0, target row 1), in CSR order.

        ``adj.to_edge_index()`` equals ``edge_index[:, adj.perm]``.
        """
        return torch.stack([self.col.long(), self.row()])

    def to(self, device) -> "SparseAdjacency":
        """A copy with every tensor on ``device``."""
        return dataclasses.replace(self, **{
            f.name: getattr(self, f.name).to(device)
            for f in dataclasses.fields(self) if isinstance(getattr(self, f.name), Tensor)})


def _csr_rowptr(index: Tensor, n: int) -> Tensor:
    """rowptr of a CSR whose sorted row indices are ``index``."""
    counts = torch.bincount(index, minlength=n)
    return torch.cat([counts.new_zeros(1), torch.cumsum(counts, 0)])


def from_edge_index(edge_index: Tensor, num_nodes: Optional[int] = None,
                    size: Optional[Tuple[int, int]] = None) -> SparseAdjacency:
    """Builds a :class:`SparseAdjacency` from a PyG-style ``edge_index``.

    Args:
        edge_index: integer ``[2, E]``, sources in row 0 and targets in row 1.
            Duplicate edges are kept (each is one entry). Stays on its device.
        num_nodes: the number of nodes of a graph whose sources and targets
            are the same node set (default: the largest id + 1).
        size: ``(num_sources, num_targets)`` for a bipartite graph, as PyG's
            ``size``; A is then ``num_targets x num_sources``. Exclusive with
            ``num_nodes``.

    Entries are sorted by target, then source (ties keep their edge order),
    so the result does not depend on the order of the edges.

    Raises:
        ValueError: if ``edge_index`` is not ``[2, E]`` integer or has an id
            out of range.
    """
    name = "from_edge_index"
    if not isinstance(edge_index, Tensor):
        raise TypeError(f"{name}: edge_index must be a torch.Tensor, got {type(edge_index)}")
    if edge_index.dim() != 2 or edge_index.size(0) != 2:
        raise ValueError(f"{name}: edge_index must have shape [2, E], got {tuple(edge_index.shape)}")
    if edge_index.dtype.is_floating_point or edge_index.dtype.is_complex or \
            edge_index.dtype == torch.bool:
        raise ValueError(f"{name}: edge_index must be an integer tensor, got {edge_index.dtype}")
    if num_nodes is not None and size is not None:
        raise ValueError(f"{name}: give num_nodes or size, not both")
    src, dst = edge_index.long()
    if size is not None:
        num_cols, num_rows = (int(s) for s in size)
    else:
        if num_nodes is None:
            num_nodes = int(edge_index.max()) + 1 if edge_index.numel() else 0
        num_cols = num_rows = int(num_nodes)
    if num_cols >= 2**31:
        raise ValueError(f"{name}: at most 2^31 - 1 source nodes (col is int32), got {num_cols}")
    for ids, n, what in ((src, num_cols, "sources (row 0)"), (dst, num_rows, "targets (row 1)")):
        if ids.numel() and (int(ids.min()) < 0 or int(ids.max()) >= n):
            raise ValueError(f"{name}: edge_index {what} must be in [0, {n}), got ids in "
                             f"[{int(ids.min())}, {int(ids.max())}]")

    # Sort by (dst, src) with two stable sorts: no overflowing combined key.
    by_src = torch.argsort(src, stable=True)
    perm = by_src.index_select(0, torch.argsort(dst.index_select(0, by_src), stable=True))
    row, col = dst.index_select(0, perm), src.index_select(0, perm)
    # The transpose: A's positions sorted by column; rows stay ascending.
    t_perm = torch.argsort(col, stable=True)
    return SparseAdjacency(
        num_rows=num_rows, num_cols=num_cols,
        rowptr=_csr_rowptr(row, num_rows), col=col.int(),
        t_rowptr=_csr_rowptr(col, num_cols), t_col=row.index_select(0, t_perm).int(),
        t_perm=t_perm, perm=perm)


def sym_norm(adj: SparseAdjacency, dtype: torch.dtype = torch.float32) -> Tensor:
    """Values of D_r^-1/2 A D_c^-1/2 in CSR order (LightGCN's and GCN's normalisation).

    ``value[k] = 1 / sqrt(deg_row(row k) * deg_col(col k))`` with degrees
    counted over the entries of A; pass it as ``value`` to :func:`gnnrec.spmm`.
    """
    deg_row = (adj.rowptr[1:] - adj.rowptr[:-1]).to(dtype)
    deg_col = (adj.t_rowptr[1:] - adj.t_rowptr[:-1]).to(dtype)
    return (deg_row.rsqrt().index_select(0, adj.row()) *
            deg_col.rsqrt().index_select(0, adj.col.long()))
