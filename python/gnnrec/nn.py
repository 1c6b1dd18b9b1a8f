"""``torch.nn`` modules over the gnnrec operators.

:class:`GCNConv`, :class:`SAGEConv` (mean, max, pool and LSTM aggregators)
and :class:`GATConv` compute what PyG's modules of the same names compute
(default settings), with parameters of the same names and shapes, so
``ours.load_state_dict(pyg.state_dict())`` works. :class:`NGCFConv` is the
layer of ``gnnrec train --model ngcf`` (PyG has none) and
:class:`LightGCNPropagation` LightGCN's weightless propagation. All five
take the graph as a :class:`~gnnrec.SparseAdjacency` or a PyG-style
``edge_index``; the latter is converted once with
:func:`gnnrec.from_edge_index` and cached on the module for the next call
with the same tensor and number of nodes (an in-place write to that tensor
is noticed through its version counter and causes a rebuild).
"""
from __future__ import annotations

from typing import Optional, Tuple, Union

import torch
from torch import Tensor

from .adjacency import SparseAdjacency, from_edge_index, sym_norm
from .ops import edge_softmax, sddmm_add, spmm, spmm_reduce


class LightGCNPropagation(torch.nn.Module):
    """LightGCN's propagation: the mean of ``x, Âx, Â²x, …, Â^K x``.

    ``forward(x, graph, value=None)``: x ``[num_nodes, d]``; graph a
    :class:`~gnnrec.SparseAdjacency` or a PyG-style ``edge_index`` over the
    users and items as one node set (both directions of each interaction,
    as LightGCN's graph is symmetric).

    - With a :class:`~gnnrec.SparseAdjacency`, Â has the entries ``value``
      (``[nnz]`` in CSR order; 1 when absent), usually
      :func:`gnnrec.sym_norm` of it.
    - With an ``edge_index``, Â is D^-1/2 A D^-1/2 (:func:`gnnrec.sym_norm`,
      target degree times source degree), built once and cached on the
      module; ``value`` must then be None. On a symmetric graph this is what
      PyG's ``LGConv`` computes (``LightGCN``'s layers), and the output
      equals PyG's ``LightGCN.get_embedding`` with its default weights.

    No weights: PyG's ``LGConv`` stacked ``num_layers`` times, with the
    layer mean of the LightGCN paper.
    """

    def __init__(self, num_layers: int = 3):
        super().__init__()
        if num_layers < 0:
            raise ValueError(f"LightGCNPropagation: num_layers must be >= 0, got {num_layers}")
        self.num_layers = num_layers
        self._cache = _AdjacencyCache()

    def forward(self, x: Tensor, graph: "Graph", value: Optional[Tensor] = None) -> Tensor:
        if isinstance(graph, SparseAdjacency):
            adj = graph
        else:
            if value is not None:
                raise ValueError("LightGCNPropagation: value is only for a SparseAdjacency; an "
                                 "edge_index is normalised as D^-1/2 A D^-1/2")
            n = x.size(0)

            def build(g):
                a = from_edge_index(g, num_nodes=n)
                return a, sym_norm(a, torch.float64)

            adj, norm = self._cache.get(graph, (n, n), build)
            value = norm.to(x.dtype)
        out, h = x, x
        for _ in range(self.num_layers):
            h = spmm(adj, h, value)
            out = out + h
        return out / (self.num_layers + 1)

    def extra_repr(self) -> str:
        return f"num_layers={self.num_layers}"


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


class _LSTMAggregation(torch.nn.Module):
    """Holds the LSTM of ``SAGEConv(aggr="lstm")`` under PyG's parameter names
    (``aggr_module.lstm.weight_ih_l0`` …)."""

    def __init__(self, channels: int):
        super().__init__()
        self.lstm = torch.nn.LSTM(channels, channels, batch_first=True)


def _lstm_layout(adj: SparseAdjacency) -> Tuple[Tensor, int]:
    """Where each neighbour goes in the LSTM's ``[num_rows, max_degree]`` batch.

    Returns ``(index, max_degree)``: ``index`` int64 ``[num_rows * max_degree]``
    holds, for row r and step s, the source node of r's s-th incoming edge,
    or ``num_cols`` (a zero row appended to the features) past r's degree.
    A row's edges come in the order of the ``edge_index`` they were built
    from (``adj.perm``), as PyG's ``to_dense_batch`` reads an ``edge_index``
    sorted by target.
    """
    row = adj.row()
    order = torch.argsort(adj.perm)  # CSR positions in edge order
    order = order.index_select(0, torch.argsort(row.index_select(0, order), stable=True))
    deg = adj.rowptr[1:] - adj.rowptr[:-1]
    max_degree = int(deg.max()) if adj.num_rows else 0
    step = torch.arange(adj.nnz, device=adj.device) - adj.rowptr.index_select(0, row)
    index = torch.full((adj.num_rows * max_degree,), adj.num_cols, dtype=torch.long,
                       device=adj.device)
    index[row * max_degree + step] = adj.col.long().index_select(0, order)
    return index, max_degree


class SAGEConv(torch.nn.Module):
    """GraphSAGE: ``out_i = lin_l(aggr_{j→i} x_j) + lin_r(x_i)``, as PyG's ``SAGEConv``.

    The mean, max and sum reductions are :func:`gnnrec.spmm_reduce` (a node
    without incoming edges aggregates 0). With ``project=True`` the
    neighbours' features are first ``x_j = ReLU(lin(x_j))`` (the "pool"
    aggregator of the paper with ``aggr="max"``). ``lin_r`` has no bias.

    ``aggr="lstm"`` reads each node's neighbours as a sequence, as PyG's
    ``LSTMAggregation``: every target gets a sequence of the largest in-degree
    of the graph, its neighbours in ``edge_index`` order followed by zero
    vectors (a node without neighbours reads only zeros, so its aggregate is
    the LSTM's response to them, not 0), and the aggregate is the output of
    ``torch.nn.LSTM(in, in, batch_first=True)`` at the last step (0 for every
    node of a graph without edges, where PyG raises). PyG needs
    the ``edge_index`` sorted by target and gives the same result then; here
    any order works and each target's neighbours keep their relative order.
    The batch is ``[num_targets, max_in_degree, in]``: memory grows with the
    largest degree (sample a fixed fanout for power-law graphs).

    Parameters (``lin_l.weight``, ``lin_l.bias``, ``lin_r.weight``,
    ``lin.weight``/``lin.bias`` when projecting, ``aggr_module.lstm.*`` for
    the LSTM) are named and shaped as PyG's.

    Args:
        in_channels, out_channels: feature widths.
        aggr: ``"mean"``, ``"max"``, ``"lstm"`` (``"sum"`` also works).
        project: apply ``ReLU(lin(·))`` to the neighbours first.

    ``forward(x, graph)``: x ``[num_nodes, in]``, or a pair ``(x_src, x_dst)``
    for a bipartite graph; graph an ``edge_index`` or a :class:`SparseAdjacency`
    (``num_targets x num_sources``), used as is (no self loops). An
    ``edge_index`` is converted once and cached (with the LSTM's layout).
    Returns ``[num_targets, out]``.
    """

    def __init__(self, in_channels: int, out_channels: int, aggr: str = "mean",
                 project: bool = False):
        super().__init__()
        if aggr not in ("mean", "max", "sum", "lstm"):
            raise ValueError(f"SAGEConv: aggr must be 'mean', 'max', 'lstm' or 'sum', got {aggr!r}")
        self.in_channels, self.out_channels = in_channels, out_channels
        self.aggr, self.project = aggr, project
        if aggr == "lstm":
            self.aggr_module = _LSTMAggregation(in_channels)
        if project:
            self.lin = torch.nn.Linear(in_channels, in_channels, bias=True)
        self.lin_l = torch.nn.Linear(in_channels, out_channels, bias=True)
        self.lin_r = torch.nn.Linear(in_channels, out_channels, bias=False)
        self._cache = _AdjacencyCache()

    def reset_parameters(self) -> None:
        if self.aggr == "lstm":
            self.aggr_module.lstm.reset_parameters()
        for lin in ([self.lin] if self.project else []) + [self.lin_l, self.lin_r]:
            lin.reset_parameters()

    def forward(self, x: Union[Tensor, Tuple[Tensor, Tensor]], graph: Graph) -> Tensor:
        x_src, x_dst = x if isinstance(x, (tuple, list)) else (x, x)
        size = (x_src.size(0), x_dst.size(0))

        def build(g):
            if isinstance(g, SparseAdjacency):
                _check_adj_size(g, size, "SAGEConv")
            else:
                g = from_edge_index(g, size=size)
            return (g, _lstm_layout(g)) if self.aggr == "lstm" else (g, None)

        adj, layout = self._cache.get(graph, size, build)
        if self.project:
            x_src = torch.relu(self.lin(x_src))
        if self.aggr == "lstm":
            agg = self._lstm(x_src, adj, *layout)
        else:
            agg = spmm_reduce(adj, x_src.contiguous(), self.aggr)
        return self.lin_l(agg) + self.lin_r(x_dst)

    def _lstm(self, x_src: Tensor, adj: SparseAdjacency, index: Tensor, max_degree: int) -> Tensor:
        if max_degree == 0:  # no edges: PyG's LSTM would read empty sequences
            return x_src.new_zeros(adj.num_rows, x_src.size(1))
        padded = torch.cat([x_src, x_src.new_zeros(1, x_src.size(1))])
        seq = padded.index_select(0, index).view(adj.num_rows, max_degree, -1)
        return self.aggr_module.lstm(seq)[0][:, -1]

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


class NGCFConv(torch.nn.Module):
    """One propagation layer of NGCF (Wang et al., SIGIR 2019), as ``gnnrec train --model ngcf``.

    ``out = LeakyReLU(w1(x + L x) + w2(L x ⊙ x))`` with slope 0.2, where
    ``L = D_r^-1/2 A D_c^-1/2`` is the graph's symmetric normalisation
    (:func:`gnnrec.sym_norm`, degrees counted over its entries) and
    ``w1``, ``w2`` are linear maps with biases: ``(L + I) x W1ᵀ + b1 +
    (L x ⊙ x) W2ᵀ + b2`` before the activation, the sum and bi-interaction
    messages of the paper. No self loops are added (the ``I`` is the ``x``
    term); NGCF's user–item graph has none. This is ``ngcf_conv`` of
    ``models/layers.h``: parameters ``w1.weight``, ``w1.bias``, ``w2.weight``,
    ``w2.bias`` (``[out, in]`` and ``[out]``) initialised as there (Glorot
    uniform weights, zero biases). The model around it (node dropout on L's
    values, message dropout and L2 normalisation of each layer's output, the
    concatenation of the layers) is the caller's.

    Args:
        in_channels, out_channels: feature widths.
        negative_slope: of the LeakyReLU (0.2 in NGCF).
        bias: learn ``b1`` and ``b2``.

    ``forward(x, graph, value=None)``: x ``[num_nodes, in]``; graph an
    ``edge_index`` or a square :class:`SparseAdjacency`, converted once and
    cached with its normalisation; ``value`` replaces L's values (``[nnz]``
    in the adjacency's CSR order, e.g. sym_norm with entries dropped).
    Returns ``[num_nodes, out]``.
    """

    def __init__(self, in_channels: int, out_channels: int, negative_slope: float = 0.2,
                 bias: bool = True):
        super().__init__()
        self.in_channels, self.out_channels = in_channels, out_channels
        self.negative_slope = negative_slope
        self.w1 = torch.nn.Linear(in_channels, out_channels, bias=bias)
        self.w2 = torch.nn.Linear(in_channels, out_channels, bias=bias)
        self._cache = _AdjacencyCache()
        self.reset_parameters()

    def reset_parameters(self) -> None:
        for lin in (self.w1, self.w2):
            torch.nn.init.xavier_uniform_(lin.weight)
            if lin.bias is not None:
                torch.nn.init.zeros_(lin.bias)

    def forward(self, x: Tensor, graph: Graph, value: Optional[Tensor] = None) -> Tensor:
        n = x.size(0)

        def build(g):
            if isinstance(g, SparseAdjacency):
                _check_adj_size(g, (n, n), "NGCFConv")
            else:
                g = from_edge_index(g, num_nodes=n)
            return g, sym_norm(g, torch.float64)

        adj, norm = self._cache.get(graph, (n, n), build)
        side = spmm(adj, x.contiguous(), norm.to(x.dtype) if value is None else value)
        return torch.nn.functional.leaky_relu(self.w1(x + side) + self.w2(side * x),
                                              self.negative_slope)

    def extra_repr(self) -> str:
        return f"{self.in_channels}, {self.out_channels}, bias={self.w1.bias is not None}"
