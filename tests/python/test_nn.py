"""gnnrec.nn's GCNConv, SAGEConv (each aggregator) and GATConv against PyG's
modules of the same names: PyG's random float64 weights loaded with
load_state_dict, same random graph (with isolated nodes, a self loop and a
duplicate edge), same upstream gradient; outputs and the gradients of x and of
every parameter must agree, on the CPU and on CUDA when present. NGCFConv
(no PyG counterpart) against a dense float64 computation written here, and
gradcheck. Also the edge_index cache."""
import pytest
import torch

import gnnrec
from gnnrec import nn as gnn

pyg_nn = pytest.importorskip("torch_geometric.nn")

N = 20
DEVICES = ["cpu", pytest.param("cuda", marks=pytest.mark.skipif(
    not torch.cuda.is_available(), reason="no CUDA device"))]


@pytest.fixture(params=DEVICES)
def device(request):
    return torch.device(request.param)


def random_graph(seed, n=N, m=50):
    """Directed random edges on n nodes; nodes 0 and 1 have no edges at all,
    node 2 a self loop, and one edge is duplicated."""
    g = torch.Generator().manual_seed(seed)
    ei = torch.randint(3, n, (2, m), generator=g)
    ei = torch.cat([ei, ei[:, :1], torch.tensor([[2], [2]])], dim=1)
    return ei[:, torch.randperm(ei.size(1), generator=g)]


def compare(pyg_conv, ours, width, seed, device, graph_of=lambda ei: ei, pyg_edges=lambda ei: ei):
    """pyg_edges(ei) is the edge_index PyG gets (ours gets graph_of(ei))."""
    gen = torch.Generator().manual_seed(seed)
    pyg_conv = pyg_conv.double()
    with torch.no_grad():  # non-zero biases so that they are tested too
        for p in pyg_conv.parameters():
            p.copy_(torch.randn(p.shape, generator=gen, dtype=torch.float64) * 0.5)
    ours = ours.double()
    ours.load_state_dict(pyg_conv.state_dict())
    pyg_conv, ours = pyg_conv.to(device), ours.to(device)
    ei = random_graph(seed).to(device)
    x = torch.randn(N, width, generator=gen, dtype=torch.float64).to(device)
    x_ref, x_ours = x.clone().requires_grad_(), x.clone().requires_grad_()
    ref = pyg_conv(x_ref, pyg_edges(ei))
    out = ours(x_ours, graph_of(ei))
    gout = torch.randn(ref.shape, generator=gen, dtype=torch.float64).to(device)
    (ref * gout).sum().backward()
    (out * gout).sum().backward()
    tol = dict(rtol=1e-9, atol=1e-10)
    torch.testing.assert_close(out, ref, **tol)
    torch.testing.assert_close(x_ours.grad, x_ref.grad, **tol)
    ref_params = dict(pyg_conv.named_parameters())
    ours_params = dict(ours.named_parameters())
    assert ours_params.keys() == ref_params.keys()
    for name, p in ref_params.items():
        torch.testing.assert_close(ours_params[name].grad, p.grad, **tol, msg=name)


@pytest.mark.parametrize("width", [1, 16])
def test_gcn_matches_pyg(width, device):
    compare(pyg_nn.GCNConv(width, 5), gnn.GCNConv(width, 5), width, seed=1, device=device)


def test_gcn_takes_sparse_adjacency(device):
    compare(pyg_nn.GCNConv(4, 3), gnn.GCNConv(4, 3), 4, seed=5, device=device,
            graph_of=lambda ei: gnnrec.from_edge_index(ei, num_nodes=N))


@pytest.mark.parametrize("aggregator", ["mean", "max", "pool"])
def test_sage_matches_pyg(aggregator, device):
    aggr, project = ("max", True) if aggregator == "pool" else (aggregator, False)
    compare(pyg_nn.SAGEConv(8, 6, aggr=aggr, project=project),
            gnn.SAGEConv(8, 6, aggr=aggr, project=project), 8, seed=2, device=device)


def sorted_by_target(ei):
    """What PyG's LSTM aggregation needs: edges sorted by target, stably (each
    target's sources stay in their random order)."""
    return ei[:, torch.argsort(ei[1], stable=True)]


@pytest.mark.parametrize("project", [False, True])
def test_sage_lstm_matches_pyg(project, device):
    # PyG reads the sorted edge_index; ours the shuffled one (it keeps each
    # target's edge order, whatever the order across targets) and its adjacency.
    # Nodes without neighbours read only padding, in both.
    for graph_of in (lambda ei: ei, lambda ei: gnnrec.from_edge_index(ei, num_nodes=N)):
        compare(pyg_nn.SAGEConv(8, 6, aggr="lstm", project=project),
                gnn.SAGEConv(8, 6, aggr="lstm", project=project), 8, seed=4, device=device,
                graph_of=graph_of, pyg_edges=sorted_by_target)


def test_sage_lstm_bipartite_and_no_edges():
    conv = gnn.SAGEConv(4, 3, aggr="lstm").double()
    ref = pyg_nn.SAGEConv(4, 3, aggr="lstm").double()
    ref.load_state_dict(conv.state_dict())
    x_src, x_dst = torch.randn(6, 4, dtype=torch.float64), torch.randn(3, 4, dtype=torch.float64)
    ei = sorted_by_target(torch.tensor([[0, 5, 2, 2, 4], [2, 0, 2, 0, 0]]))
    torch.testing.assert_close(conv((x_src, x_dst), ei), ref((x_src, x_dst), ei))
    empty = torch.empty(2, 0, dtype=torch.long)
    torch.testing.assert_close(conv((x_src, x_dst), empty), conv.lin_l.bias + conv.lin_r(x_dst))


def test_sage_takes_sparse_adjacency(device):
    compare(pyg_nn.SAGEConv(8, 6, aggr="mean"), gnn.SAGEConv(8, 6, aggr="mean"), 8, seed=6,
            device=device,
            graph_of=lambda ei: gnnrec.from_edge_index(ei, num_nodes=N))


@pytest.mark.parametrize("heads,concat", [(1, True), (3, True), (3, False)])
def test_gat_matches_pyg(heads, concat, device):
    compare(pyg_nn.GATConv(8, 4, heads=heads, concat=concat, negative_slope=0.2, dropout=0.0),
            gnn.GATConv(8, 4, heads=heads, concat=concat, negative_slope=0.2, dropout=0.0),
            8, seed=3, device=device)


def test_gat_takes_sparse_adjacency(device):
    compare(pyg_nn.GATConv(8, 4, heads=2), gnn.GATConv(8, 4, heads=2), 8, seed=7, device=device,
            graph_of=lambda ei: gnnrec.from_edge_index(ei, num_nodes=N))


@pytest.mark.parametrize("make", [lambda: gnn.GCNConv(4, 3), lambda: gnn.SAGEConv(4, 3),
                                  lambda: gnn.SAGEConv(4, 3, aggr="lstm"),
                                  lambda: gnn.GATConv(4, 3, heads=2), lambda: gnn.NGCFConv(4, 3)],
                         ids=["gcn", "sage", "sage-lstm", "gat", "ngcf"])
def test_edge_index_cache(make):
    conv = make().double()
    x = torch.randn(N, 4, dtype=torch.float64)
    ei = random_graph(11)
    first = conv(x, ei)
    assert conv._cache.builds == 1
    torch.testing.assert_close(conv(x, ei), first)  # same tensor: no rebuild
    assert conv._cache.builds == 1
    conv(x, ei.clone())  # same values, other tensor: rebuilt
    assert conv._cache.builds == 2
    other = random_graph(12)
    out_other = conv(x, other)  # another graph: rebuilt, and its own result
    assert conv._cache.builds == 3
    assert not torch.allclose(out_other, first)
    sub = other[:, (other < N - 1).all(0)]
    conv(x, sub)
    assert conv._cache.builds == 4
    conv(x[:N - 1], sub)  # same tensor, fewer nodes: rebuilt
    assert conv._cache.builds == 5
    ei2 = random_graph(13)
    conv(x, ei2)
    ei2[:, 0] = torch.tensor([5, 6])  # in-place write: noticed, rebuilt
    conv(x, ei2)
    assert conv._cache.builds == 7


# --- NGCFConv: no PyG layer, so a dense float64 computation -------------------------

def ngcf_dense(x, ei, w1, b1, w2, b2, slope=0.2):
    """NGCF's layer from its definition: L = D_r^-1/2 A D_c^-1/2 with A[dst, src]
    counting edges (duplicates add up), then
    LeakyReLU((L + I) x W1ᵀ + b1 + (L x ⊙ x) W2ᵀ + b2)."""
    n = x.size(0)
    a = torch.zeros(n, n, dtype=torch.float64, device=x.device)
    a.index_put_((ei[1], ei[0]), torch.ones(ei.size(1), dtype=torch.float64, device=x.device),
                 accumulate=True)
    d_r, d_c = a.sum(1), a.sum(0)
    inv_r = torch.where(d_r > 0, d_r.rsqrt(), torch.zeros_like(d_r))
    inv_c = torch.where(d_c > 0, d_c.rsqrt(), torch.zeros_like(d_c))
    lx = (inv_r[:, None] * a * inv_c[None, :]) @ x
    eye = torch.eye(n, dtype=torch.float64, device=x.device)
    pre = ((eye @ x + lx) @ w1.t() + b1) + ((lx * x) @ w2.t() + b2)
    return torch.where(pre > 0, pre, slope * pre)


def test_ngcf_matches_dense(device):
    gen = torch.Generator().manual_seed(8)
    conv = gnn.NGCFConv(6, 5).double().to(device)
    with torch.no_grad():  # non-zero biases
        for p in conv.parameters():
            p.copy_(torch.randn(p.shape, generator=gen, dtype=torch.float64) * 0.5)
    assert sorted(n for n, _ in conv.named_parameters()) == [
        "w1.bias", "w1.weight", "w2.bias", "w2.weight"]
    ei = random_graph(8).to(device)
    x = torch.randn(N, 6, generator=gen, dtype=torch.float64).to(device)
    x_ours, x_ref = x.clone().requires_grad_(), x.clone().requires_grad_()
    ref_params = [p.detach().clone().requires_grad_() for p in
                  (conv.w1.weight, conv.w1.bias, conv.w2.weight, conv.w2.bias)]
    ref = ngcf_dense(x_ref, ei, *ref_params)
    gout = torch.randn(ref.shape, generator=gen, dtype=torch.float64).to(device)
    tol = dict(rtol=1e-9, atol=1e-10)
    for graph in (ei, gnnrec.from_edge_index(ei, num_nodes=N)):
        x_ours.grad = None
        conv.zero_grad()
        out = conv(x_ours, graph)
        torch.testing.assert_close(out, ref, **tol)
        (out * gout).sum().backward()
        if x_ref.grad is None:
            (ref * gout).sum().backward()
        torch.testing.assert_close(x_ours.grad, x_ref.grad, **tol)
        for p, r in zip((conv.w1.weight, conv.w1.bias, conv.w2.weight, conv.w2.bias), ref_params):
            torch.testing.assert_close(p.grad, r.grad, **tol)


def test_ngcf_gradcheck(device):
    conv = gnn.NGCFConv(3, 2).double().to(device)
    ei = random_graph(9, n=8, m=16).to(device)
    adj = gnnrec.from_edge_index(ei, num_nodes=8)
    gen = torch.Generator().manual_seed(9)
    x = torch.randn(8, 3, generator=gen, dtype=torch.float64).to(device).requires_grad_()
    value = gnnrec.sym_norm(adj, torch.float64).requires_grad_()
    names = [n for n, _ in conv.named_parameters()]

    def f(x, value, *params):
        return torch.func.functional_call(conv, dict(zip(names, params)), (x, adj, value))

    params = [p.detach().clone().requires_grad_() for p in conv.parameters()]
    assert torch.autograd.gradcheck(f, (x, value, *params))
    # value defaults to sym_norm of the graph.
    torch.testing.assert_close(conv(x, adj, value), conv(x, ei))


def test_ngcf_rejects_non_square_adjacency():
    adj = gnnrec.from_edge_index(torch.tensor([[0, 1], [1, 0]]), size=(3, 2))
    with pytest.raises(ValueError, match="NGCFConv"):
        gnn.NGCFConv(2, 2)(torch.randn(3, 2), adj)


# --- LightGCNPropagation ---------------------------------------------------------

def symmetric_graph(seed, n=N, m=40):
    """Both directions of m random edges on n nodes (no self loops), as
    LightGCN's user–item graph; nodes 0 and 1 isolated."""
    g = torch.Generator().manual_seed(seed)
    ei = torch.randint(2, n, (2, m), generator=g)
    ei = ei[:, ei[0] != ei[1]]
    return torch.cat([ei, ei.flip(0)], 1).unique(dim=1)


@pytest.mark.parametrize("layers", [0, 1, 3])
def test_lightgcn_propagation_edge_index_equals_pyg_lightgcn(device, layers):
    ei = symmetric_graph(5).to(device)
    pyg = pytest.importorskip("torch_geometric.nn.models").LightGCN(N, 8, layers).double().to(device)
    x = pyg.embedding.weight
    ref = pyg.get_embedding(ei)  # alpha = 1 / (layers + 1) per layer, LGConv normalised
    prop = gnn.LightGCNPropagation(layers)
    x_ours = x.detach().clone().requires_grad_()
    out = prop(x_ours, ei)
    gout = torch.randn(ref.shape, dtype=torch.float64, device=device)
    (ref * gout).sum().backward()
    (out * gout).sum().backward()
    torch.testing.assert_close(out, ref, rtol=1e-9, atol=1e-10)
    torch.testing.assert_close(x_ours.grad, x.grad, rtol=1e-9, atol=1e-10)
    # The same through a SparseAdjacency and its sym_norm values; the
    # edge_index was converted once.
    adj = gnnrec.from_edge_index(ei, num_nodes=N)
    torch.testing.assert_close(prop(x.detach(), adj, gnnrec.sym_norm(adj, torch.float64)),
                               ref.detach(), rtol=1e-9, atol=1e-10)
    prop(x.detach(), ei)
    assert prop._cache.builds == 1


def test_lightgcn_propagation_rejects_values_with_an_edge_index():
    ei = symmetric_graph(6)
    with pytest.raises(ValueError, match="value is only for a SparseAdjacency"):
        gnn.LightGCNPropagation(2)(torch.randn(N, 4), ei, torch.ones(ei.size(1)))
