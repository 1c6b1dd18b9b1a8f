"""gnnrec.nn's GCNConv, SAGEConv and GATConv against PyG's modules of the same
names: PyG's random float64 weights loaded with load_state_dict, same random
graph (with isolated nodes, a self loop and a duplicate edge), same upstream
gradient; outputs and the gradients of x and of every parameter must agree.
Also the edge_index cache."""
import pytest
import torch

import gnnrec
from gnnrec import nn as gnn

pyg_nn = pytest.importorskip("torch_geometric.nn")

N = 20


def random_graph(seed, n=N, m=50):
    """Directed random edges on n nodes; nodes 0 and 1 have no edges at all,
    node 2 a self loop, and one edge is duplicated."""
    g = torch.Generator().manual_seed(seed)
    ei = torch.randint(3, n, (2, m), generator=g)
    ei = torch.cat([ei, ei[:, :1], torch.tensor([[2], [2]])], dim=1)
    return ei[:, torch.randperm(ei.size(1), generator=g)]


def compare(pyg_conv, ours, width, seed, graph_of=lambda ei: ei):
    gen = torch.Generator().manual_seed(seed)
    pyg_conv = pyg_conv.double()
    with torch.no_grad():  # non-zero biases so that they are tested too
        for p in pyg_conv.parameters():
            p.copy_(torch.randn(p.shape, generator=gen, dtype=torch.float64) * 0.5)
    ours = ours.double()
    ours.load_state_dict(pyg_conv.state_dict())
    ei = random_graph(seed)
    x = torch.randn(N, width, generator=gen, dtype=torch.float64)
    x_ref, x_ours = x.clone().requires_grad_(), x.clone().requires_grad_()
    ref = pyg_conv(x_ref, ei)
    out = ours(x_ours, graph_of(ei))
    gout = torch.randn(ref.shape, generator=gen, dtype=torch.float64)
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
def test_gcn_matches_pyg(width):
    compare(pyg_nn.GCNConv(width, 5), gnn.GCNConv(width, 5), width, seed=1)


def test_gcn_takes_sparse_adjacency():
    compare(pyg_nn.GCNConv(4, 3), gnn.GCNConv(4, 3), 4, seed=5,
            graph_of=lambda ei: gnnrec.from_edge_index(ei, num_nodes=N))


@pytest.mark.parametrize("aggregator", ["mean", "max", "pool"])
def test_sage_matches_pyg(aggregator):
    aggr, project = ("max", True) if aggregator == "pool" else (aggregator, False)
    compare(pyg_nn.SAGEConv(8, 6, aggr=aggr, project=project),
            gnn.SAGEConv(8, 6, aggr=aggr, project=project), 8, seed=2)


def test_sage_takes_sparse_adjacency():
    compare(pyg_nn.SAGEConv(8, 6, aggr="mean"), gnn.SAGEConv(8, 6, aggr="mean"), 8, seed=6,
            graph_of=lambda ei: gnnrec.from_edge_index(ei, num_nodes=N))


@pytest.mark.parametrize("heads,concat", [(1, True), (3, True), (3, False)])
def test_gat_matches_pyg(heads, concat):
    compare(pyg_nn.GATConv(8, 4, heads=heads, concat=concat, negative_slope=0.2, dropout=0.0),
            gnn.GATConv(8, 4, heads=heads, concat=concat, negative_slope=0.2, dropout=0.0),
            8, seed=3)


def test_gat_takes_sparse_adjacency():
    compare(pyg_nn.GATConv(8, 4, heads=2), gnn.GATConv(8, 4, heads=2), 8, seed=7,
            graph_of=lambda ei: gnnrec.from_edge_index(ei, num_nodes=N))


@pytest.mark.parametrize("make", [lambda: gnn.GCNConv(4, 3), lambda: gnn.SAGEConv(4, 3),
                                  lambda: gnn.GATConv(4, 3, heads=2)],
                         ids=["gcn", "sage", "gat"])
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
