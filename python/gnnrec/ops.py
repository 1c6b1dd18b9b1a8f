"""Thin wrappers over the ``torch.ops.gnnrec`` operators.

Each takes a :class:`~gnnrec.SparseAdjacency` ``adj`` (A, with its transpose)
in place of the operator's index tensors and calls the operator; argument
checks, device dispatch and autograd are the operator's (bad input raises a
``RuntimeError`` naming the operator and the argument). Per-edge tensors
(``value``, sddmm's output, scores) are in A's CSR order: use
``adj.edge_values(w)`` to reorder values given in ``edge_index`` order.
"""
from __future__ import annotations

from typing import Optional, Tuple, Union

import torch
from torch import Tensor

from .adjacency import SparseAdjacency

_ops = torch.ops.gnnrec


def spmm(adj: SparseAdjacency, x: Tensor, value: Optional[Tensor] = None) -> Tensor:
    """Sparse × dense: ``out[r] = Σ_k value[k] · x[col[k]]`` over row r of A.

    Args:
        adj: A, ``num_rows x num_cols``.
        x: float32/float64 ``[num_cols, d]``.
        value: optional ``[nnz]`` edge values of x's dtype, in CSR order
            (1 when absent).

    Returns ``[num_rows, d]``; differentiable in ``x`` and ``value``.
    Deterministic on CPU and CUDA (no atomics).
    """
    return _ops.spmm(adj.rowptr, adj.col, value, adj.t_rowptr, adj.t_col, adj.t_perm, x)


def sddmm(adj: SparseAdjacency, a: Tensor, b: Tensor) -> Tensor:
    """Sampled dense-dense product: ``out[k] = dot(a[row k], b[col k])`` per entry of A.

    Args:
        a: ``[num_rows, d]``; b: ``[num_cols, d]``, same dtype (float32/float64).

    Returns ``[nnz]`` in CSR order; differentiable in ``a`` and ``b``.
    """
    return _ops.sddmm(adj.rowptr, adj.col, adj.t_rowptr, adj.t_col, adj.t_perm, a, b)


def spmm_reduce(adj: SparseAdjacency, x: Tensor, reduce: str = "sum") -> Tensor:
    """Neighbourhood reduction: row r of the output reduces ``x[col[k]]`` over row r of A.

    Args:
        x: float32/float64 ``[num_cols, d]``.
        reduce: ``"sum"``, ``"mean"`` or ``"max"`` (max per column; a NaN wins,
            ties go to the first entry).

    Returns ``[num_rows, d]``; an empty row gives 0. Differentiable in ``x``
    (max sends each gradient to the winning entry only). The operator
    ``torch.ops.gnnrec.spmm_reduce`` also returns max's argmax.
    """
    out, _ = _ops.spmm_reduce(adj.rowptr, adj.col, adj.t_rowptr, adj.t_col, adj.t_perm, x,
                              reduce)
    return out


def sddmm_add(adj: SparseAdjacency, a_row: Tensor, a_col: Tensor) -> Tensor:
    """Per-entry sums ``out[k] = a_row[row k] + a_col[col k]`` (GAT attention logits).

    Args:
        a_row: ``[num_rows, H]`` (or ``[num_rows]``); a_col: ``[num_cols, H]``
            (or ``[num_cols]``), same dtype.

    Returns ``[nnz, H]`` (or ``[nnz]``) in CSR order; differentiable in both.
    """
    return _ops.sddmm_add(adj.rowptr, adj.col, adj.t_rowptr, adj.t_col, adj.t_perm, a_row,
                          a_col)


def edge_softmax(adj: SparseAdjacency, score: Tensor) -> Tensor:
    """Softmax over the entries of each row of A, per head.

    Args:
        score: float32/float64 ``[nnz]`` or ``[nnz, H]`` in CSR order.

    Returns the same shape. Numerically stable; a row whose scores are all
    ``-inf`` gives 0 (where ``torch.softmax`` gives NaN). Differentiable.
    """
    return _ops.edge_softmax(adj.rowptr, score)


def sample_neighbors(adj: SparseAdjacency, seeds: Tensor, fanout: int, replace: bool = False,
                     seed: int = 0) -> Tuple[Tensor, Tensor]:
    """Samples up to ``fanout`` neighbours (columns of A) of each seed row.

    Args:
        seeds: int64 ``[n]`` row ids.
        fanout: samples per seed (> 0).
        replace: draw with replacement; without it, distinct entries when the
            row has at least ``fanout`` of them, else with replacement.
        seed: the random seed; the sample of a row depends only on
            ``(seed, row)``.

    Returns ``(nbr, eid)``, int64 ``[n, fanout]``: neighbour ids and their CSR
    positions (``adj.perm[eid]`` gives the edge ids where ``eid >= 0``). A seed without
    neighbours gets -1 in every slot. Not differentiable.
    """
    return _ops.sample_neighbors(adj.rowptr, adj.col, seeds, fanout, replace, seed)


def topk_masked(user_emb: Tensor, item_emb: Tensor, k: int, users: Optional[Tensor] = None,
                exclude: Optional[Union[Tensor, Tuple[Tensor, Tensor]]] = None,
                chunk: int = 1024) -> Tuple[Tensor, Tensor]:
    """Top-``k`` items per user by ``user_emb[u] · item_emb[i]``, excluded items masked.

    Full ranking, as in evaluation: every item is scored for each user in
    ``users``, the user's items in ``exclude`` (e.g. its training items) get
    ``-inf``, and the ``k`` best are returned, best first. Ties go to the
    lower item id (NaN ranks above every number), the same on CPU and CUDA.
    Scores are computed ``chunk`` users at a time: the ``[n, num_items]``
    score matrix never exists whole. Calls ``torch.ops.gnnrec.topk_masked``.

    Args:
        user_emb: float32/float64 ``[num_users, d]``.
        item_emb: ``[num_items, d]``, same dtype and device.
        k: items per user, ``0 <= k <= num_items``.
        users: int64 ``[n]`` user ids (default: every user, in order).
        exclude: the (user, item) pairs to mask: a ``[2, E]`` tensor (users in
            row 0, items in row 1; any order, repeats allowed), or a user → item
            CSR ``(rowptr int64 [num_users + 1], col int32 [E])``; default none.
        chunk: users scored at once.

    Returns ``(values, indices)``: ``[n, k]`` scores in ``user_emb``'s dtype and
    int64 item ids. A user with fewer than ``k`` unmasked items gets masked ones
    last (value ``-inf``, lowest ids first). Not differentiable.
    """
    device = user_emb.device
    num_users = user_emb.shape[0]
    if users is None:
        users = torch.arange(num_users, device=device)
    if exclude is None:
        rowptr = torch.zeros(num_users + 1, dtype=torch.long, device=device)
        col = torch.empty(0, dtype=torch.int32, device=device)
    elif isinstance(exclude, (tuple, list)):
        rowptr, col = exclude
    else:
        if exclude.dim() != 2 or exclude.shape[0] != 2:
            raise ValueError("exclude: expected a [2, E] tensor of (user, item) pairs or a "
                             f"(rowptr, col) CSR, got shape {tuple(exclude.shape)}")
        pair_users = exclude[0].long()
        if pair_users.numel() and (pair_users.min() < 0 or pair_users.max() >= num_users):
            raise ValueError(f"exclude: user ids must be in [0, {num_users})")
        order = torch.argsort(pair_users, stable=True)
        col = exclude[1][order].to(torch.int32)
        rowptr = torch.zeros(num_users + 1, dtype=torch.long, device=exclude.device)
        rowptr[1:] = torch.cumsum(torch.bincount(pair_users, minlength=num_users), 0)
    return _ops.topk_masked(user_emb, item_emb, users, rowptr.to(device), col.to(device), k,
                            chunk)
