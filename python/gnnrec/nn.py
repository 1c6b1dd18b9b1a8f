"""``torch.nn`` modules over the gnnrec operators.

:class:`GCNConv`, :class:`SAGEConv` and :class:`GATConv` compute what PyG's
modules of the same names compute (default settings), with parameters of the
same names and shapes, so ``ours.load_state_dict(pyg.state_dict())`` works.
Each takes the graph as a :class:`~gnnrec.SparseAdjacency` or a PyG-style
``edge_index``; the latter is converted once with
:func:`gnnrec.from_edge_index` and cached on the module for the next call
with the same tensor and number of nodes (an in-place write to that tensor
is noticed through its version counter and causes a rebuild).
"""
from __future__ import annotations

from typing import Optional, Tuple, Union

import torch
from torch import Tensor

from .adjacency import SparseAdjacency, from_edge_index
from .ops import edge_softmax, sddmm_add, spmm, spmm_reduce


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


Graph = Union[SparseAdjacency, Tensor]
"""What the layers take as the graph: a :class:`SparseAdjacency` or a PyG-style
``edge_index`` (int ``[2, E]``, sources in row 0, targets in row 1)."""


def _with_self_loops(edge_index: Tensor, num_nodes: int) -> Tensor:
    """``edge_index`` without its self loops, plus one loop per node (PyG's
    ``remove_self_loops`` + ``add_self_loops``, which is also what GCNConv's
    ``add_remaining_self_loops`` gives without edge weights)."""
    edge_index = edge_index.long()
    keep = edge_index[0] != edge_index[1]
    loops = torch.arange(num_nodes, device=edge_index.device).expand(2, num_nodes)
    return torch.cat([edge_index[:, keep], loops], dim=1)


class _AdjacencyCache:
    """The last graph a layer was called with, converted once.

    An ``edge_index`` is keyed by ``(data_ptr, shape, device, version, size)``
    (``version`` is the tensor's in-place modification counter); a
    :class:`SparseAdjacency` by identity. The cache holds a reference to the
    key tensor, so its memory cannot be reused by another tensor while cached.
    ``builds`` counts the conversions (tests use it).
    """

    def __init__(self):
        self.key = None
        self.source = None  # keeps the keyed object alive
        self.value = None
        self.builds = 0

    def get(self, graph: Graph, size: Tuple[int, int], build):
        if isinstance(graph, SparseAdjacency):
            key = ("adj", id(graph), size)
        elif isinstance(graph, Tensor):
            key = ("edge_index", graph.data_ptr(), tuple(graph.shape), graph.device,
                   graph._version, size)
        else:
            raise TypeError(f"expected a gnnrec.SparseAdjacency or an edge_index tensor, "
                            f"got {type(graph)}")
        if key != self.key or self.source is None:
            self.value = build(graph)
            self.key, self.source = key, graph
            self.builds += 1
        return self.value


def _check_adj_size(adj: SparseAdjacency, size: Tuple[int, int], name: str) -> None:
    """size is (num_sources, num_targets)."""
    if (adj.num_cols, adj.num_rows) != tuple(size):
        raise ValueError(f"{name}: the adjacency is {adj.num_rows} x {adj.num_cols} (targets x "
                         f"sources) but x gives {size[1]} targets and {size[0]} sources")


def _to_edge_index(graph: Graph) -> Tensor:
    return graph.to_edge_index() if isinstance(graph, SparseAdjacency) else graph


class _SelfLoopConv(torch.nn.Module):
    """Shared by GCNConv and GATConv: a square graph with one self loop per node."""

    def __init__(self):
        super().__init__()
        self._cache = _AdjacencyCache()

    def _adjacency(self, graph: Graph, num_nodes: int) -> SparseAdjacency:
        name = type(self).__name__
        if isinstance(graph, SparseAdjacency) and graph.num_rows != graph.num_cols:
            raise ValueError(f"{name}: needs a square adjacency (self loops are added), got "
                             f"{graph.num_rows} x {graph.num_cols}")

        def build(g):
            if isinstance(g, SparseAdjacency):
                _check_adj_size(g, (num_nodes, num_nodes), name)
            return self._prepare(from_edge_index(
                _with_self_loops(_to_edge_index(g), num_nodes), num_nodes=num_nodes))

        return self._cache.get(graph, (num_nodes, num_nodes), build)

    def _prepare(self, adj: SparseAdjacency):
        return adj


class GCNConv(_SelfLoopConv):
    """Graph convolution (Kipf & Welling): ``out = Â x Wᵀ + b``.

    ``Â = D^-1/2 (A + I) D^-1/2``: existing self loops are replaced by one loop
    per node and D counts each node's incoming edges (loop included), as PyG's
    ``GCNConv`` with its default settings (``add_self_loops=True``,
    ``normalize=True``, no edge weights). Parameters ``lin.weight``
    ``[out, in]`` and ``bias`` ``[out]`` are named and shaped as PyG's, so
    ``load_state_dict`` of a PyG ``GCNConv`` works.

    Args:
        in_channels, out_channels: feature widths.
        bias: learn an additive bias.

    ``forward(x, graph)``: x ``[num_nodes, in]``; graph an ``edge_index``
    ``[2, E]`` or a square :class:`SparseAdjacency` (self loops are added to
    either). The converted graph and its normalisation are cached for the next
    call with the same graph. Returns ``[num_nodes, out]``.
    """

    def __init__(self, in_channels: int, out_channels: int, bias: bool = True):
        super().__init__()
        self.in_channels, self.out_channels = in_channels, out_channels
        self.lin = torch.nn.Linear(in_channels, out_channels, bias=False)
        self.bias = torch.nn.Parameter(torch.empty(out_channels)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        torch.nn.init.xavier_uniform_(self.lin.weight)
        if self.bias is not None:
            torch.nn.init.zeros_(self.bias)

    def _prepare(self, adj: SparseAdjacency):
        # PyG's gcn_norm: deg over targets, value = deg^-1/2[dst] * deg^-1/2[src].
        dinv = (adj.rowptr[1:] - adj.rowptr[:-1]).double().rsqrt()
        value = dinv.index_select(0, adj.row()) * dinv.index_select(0, adj.col.long())
        return adj, value

    def forward(self, x: Tensor, graph: Graph) -> Tensor:
        adj, value = self._adjacency(graph, x.size(0))
        out = spmm(adj, self.lin(x).contiguous(), value.to(x.dtype))
        return out if self.bias is None else out + self.bias

    def extra_repr(self) -> str:
        return f"{self.in_channels}, {self.out_channels}, bias={self.bias is not None}"


class SAGEConv(torch.nn.Module):
    """GraphSAGE: ``out_i = lin_l(aggr_{j→i} x_j) + lin_r(x_i)``, as PyG's ``SAGEConv``.

    The neighbourhood reduction is :func:`gnnrec.spmm_reduce` (a node without
    incoming edges aggregates 0). With ``project=True`` the neighbours' features
    are first ``x_j = ReLU(lin(x_j))`` (the "pool" aggregator of the paper
    with ``aggr="max"``). ``lin_r`` has no bias. Parameters (``lin_l.weight``,
    ``lin_l.bias``, ``lin_r.weight``, and ``lin.weight``/``lin.bias`` when
    projecting) are named and shaped as PyG's.

    Args:
        in_channels, out_channels: feature widths.
        aggr: ``"mean"`` or ``"max"`` (``"sum"`` also works).
        project: apply ``ReLU(lin(·))`` to the neighbours first.

    ``forward(x, graph)``: x ``[num_nodes, in]``, or a pair ``(x_src, x_dst)``
    for a bipartite graph; graph an ``edge_index`` or a :class:`SparseAdjacency`
    (``num_targets x num_sources``), used as is (no self loops). An
    ``edge_index`` is converted once and cached. Returns ``[num_targets, out]``.
    """

    def __init__(self, in_channels: int, out_channels: int, aggr: str = "mean",
                 project: bool = False):
        super().__init__()
        if aggr not in ("mean", "max", "sum"):
            raise ValueError(f"SAGEConv: aggr must be 'mean', 'max' or 'sum', got {aggr!r}")
        self.in_channels, self.out_channels = in_channels, out_channels
        self.aggr, self.project = aggr, project
        if project:
            self.lin = torch.nn.Linear(in_channels, in_channels, bias=True)
        self.lin_l = torch.nn.Linear(in_channels, out_channels, bias=True)
        self.lin_r = torch.nn.Linear(in_channels, out_channels, bias=False)
        self._cache = _AdjacencyCache()

    def reset_parameters(self) -> None:
        for lin in ([self.lin] if self.project else []) + [self.lin_l, self.lin_r]:
            lin.reset_parameters()

    def forward(self, x: Union[Tensor, Tuple[Tensor, Tensor]], graph: Graph) -> Tensor:
        x_src, x_dst = x if isinstance(x, (tuple, list)) else (x, x)
        size = (x_src.size(0), x_dst.size(0))

        def build(g):
            if isinstance(g, SparseAdjacency):
                _check_adj_size(g, size, "SAGEConv")
                return g
            return from_edge_index(g, size=size)

        adj = self._cache.get(graph, size, build)
        if self.project:
            x_src = torch.relu(self.lin(x_src))
        out = self.lin_l(spmm_reduce(adj, x_src.contiguous(), self.aggr))
        return out + self.lin_r(x_dst)

    def extra_repr(self) -> str:
        return (f"{self.in_channels}, {self.out_channels}, aggr={self.aggr!r}, "
                f"project={self.project}")


class GATConv(_SelfLoopConv):
    """Graph attention (Veličković et al.), as PyG's ``GATConv`` with self loops.

    Per head h: ``x' = lin(x)`` split into H heads of C channels;
    ``e_ij = LeakyReLU(<att_src_h, x'_j> + <att_dst_h, x'_i>)`` over the
    incoming edges j→i of i (one self loop per node added, existing ones
    dropped), ``α = softmax_j(e_ij)`` (then dropout), ``out_i = Σ_j α_ij x'_j``.
    Heads are concatenated (``[N, H*C]``) or averaged (``[N, C]``), then
    ``bias`` is added. Built from :func:`gnnrec.sddmm_add`,
    :func:`gnnrec.edge_softmax` and one :func:`gnnrec.spmm` per head.
    Parameters ``lin.weight`` ``[H*C, in]``, ``att_src`` and ``att_dst``
    ``[1, H, C]``, ``bias`` are named and shaped as PyG's.

    Args:
        in_channels: input width; out_channels: C, per head.
        heads: H.
        concat: concatenate the heads (else average them).
        negative_slope: of the LeakyReLU.
        dropout: dropout probability on the attention weights (training only).
        bias: learn an additive bias.

    ``forward(x, graph)``: x ``[num_nodes, in]``; graph an ``edge_index`` or a
    square :class:`SparseAdjacency` (self loops are added to either), converted
    once and cached.
    """

    def __init__(self, in_channels: int, out_channels: int, heads: int = 1, concat: bool = True,
                 negative_slope: float = 0.2, dropout: float = 0.0, bias: bool = True):
        super().__init__()
        self.in_channels, self.out_channels, self.heads = in_channels, out_channels, heads
        self.concat, self.negative_slope, self.dropout = concat, negative_slope, dropout
        self.lin = torch.nn.Linear(in_channels, heads * out_channels, bias=False)
        self.att_src = torch.nn.Parameter(torch.empty(1, heads, out_channels))
        self.att_dst = torch.nn.Parameter(torch.empty(1, heads, out_channels))
        width = heads * out_channels if concat else out_channels
        self.bias = torch.nn.Parameter(torch.empty(width)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        torch.nn.init.xavier_uniform_(self.lin.weight)
        torch.nn.init.xavier_uniform_(self.att_src)
        torch.nn.init.xavier_uniform_(self.att_dst)
        if self.bias is not None:
            torch.nn.init.zeros_(self.bias)

    def forward(self, x: Tensor, graph: Graph) -> Tensor:
        adj = self._adjacency(graph, x.size(0))
        H, C = self.heads, self.out_channels
        h = self.lin(x).view(-1, H, C)
        a_src = (h * self.att_src).sum(-1)  # [N, H]
        a_dst = (h * self.att_dst).sum(-1)
        score = torch.nn.functional.leaky_relu(
            sddmm_add(adj, a_dst.contiguous(), a_src.contiguous()), self.negative_slope)
        alpha = edge_softmax(adj, score)  # [nnz, H], CSR order
        alpha = torch.nn.functional.dropout(alpha, self.dropout, self.training)
        out = torch.stack([spmm(adj, h[:, k].contiguous(), alpha[:, k].contiguous())
                           for k in range(H)], dim=1)  # [N, H, C]
        out = out.reshape(-1, H * C) if self.concat else out.mean(dim=1)
        return out if self.bias is None else out + self.bias

    def extra_repr(self) -> str:
        return (f"{self.in_channels}, {self.out_channels}, heads={self.heads}, "
                f"concat={self.concat}")
