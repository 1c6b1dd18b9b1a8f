"""The gnnrec Python package: operators under opcheck and gradcheck, results
against dense float64 references built here from the edge_index, a compiled
LightGCN, and bad input.

Run with GNNREC_LIBRARY=build/libgnnrec.so PYTHONPATH=python (the Makefile's
test target sets both).
"""
import os
import pathlib
import subprocess
import sys

import pytest
import torch
from torch.library import opcheck

import gnnrec

OPS = torch.ops.gnnrec
DEVICES = ["cpu", pytest.param("cuda", marks=pytest.mark.skipif(
    not torch.cuda.is_available(), reason="no CUDA device"))]
NUM_SRC, NUM_DST = 7, 5


def random_edge_index(num_src, num_dst, seed, p=0.5):
    """Distinct random edges (src, dst) in shuffled order; target 0 and source 0 get none."""
    g = torch.Generator().manual_seed(seed)
    mask = torch.rand(num_dst, num_src, generator=g) < p
    mask[0, :] = False
    mask[:, 0] = False
    dst, src = mask.nonzero().t()
    order = torch.randperm(src.numel(), generator=g)
    return torch.stack([src, dst])[:, order]


def dense(edge_index, num_src, num_dst, weight=None):
    """Dense float64 [num_dst, num_src] matrix with A[dst, src] = weight (or 1)."""
    w = torch.ones(edge_index.size(1), dtype=torch.float64) if weight is None else weight
    a = torch.zeros(num_dst, num_src, dtype=torch.float64)
    return a.index_put_((edge_index[1], edge_index[0]), w.double().cpu(), accumulate=True)


@pytest.fixture(params=DEVICES)
def device(request):
    return torch.device(request.param)


@pytest.fixture
def graph(device):
    """(edge_index on the CPU, its SparseAdjacency on `device`)."""
    ei = random_edge_index(NUM_SRC, NUM_DST, seed=0)
    return ei, gnnrec.from_edge_index(ei.to(device), size=(NUM_SRC, NUM_DST))


def rand(*shape, device, seed, dtype=torch.float64, requires_grad=False):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(*shape, generator=g, dtype=dtype).to(device)
    return x.requires_grad_(requires_grad)


def in_edge_order(csr_values, adj):
    """Per-entry values in CSR order → edge_index order."""
    out = torch.empty_like(csr_values)
    out[adj.perm] = csr_values
    return out


# --- the adjacency ------------------------------------------------------------

def test_from_edge_index_layout(graph):
    ei, adj = graph
    assert (adj.num_rows, adj.num_cols, adj.nnz) == (NUM_DST, NUM_SRC, ei.size(1))
    assert adj.rowptr.dtype == adj.t_rowptr.dtype == adj.t_perm.dtype == torch.int64
    assert adj.col.dtype == adj.t_col.dtype == torch.int32
    # CSR of A[dst, src] and of its transpose, both equal to the dense matrix.
    a = dense(ei, NUM_SRC, NUM_DST)
    assert torch.equal(dense(adj.to_edge_index().cpu(), NUM_SRC, NUM_DST), a)
    t_rows = torch.repeat_interleave(torch.arange(NUM_SRC), (adj.t_rowptr[1:] - adj.t_rowptr[:-1]).cpu())
    at = torch.zeros(NUM_SRC, NUM_DST, dtype=torch.float64)
    at[t_rows, adj.t_col.long().cpu()] = 1
    assert torch.equal(at, a.t())
    # t_perm points each transposed entry at the same (row, col) of A.
    row, col = adj.row(), adj.col.long()
    assert torch.equal(row[adj.t_perm], adj.t_col.long())
    assert torch.equal(col[adj.t_perm].cpu(), t_rows)


def test_edge_index_round_trip(graph):
    ei, adj = graph
    back = adj.to_edge_index().cpu()
    assert torch.equal(back, ei[:, adj.perm.cpu()])
    # Same set of edges, and rebuilding from the CSR-ordered edges is a fixed point.
    assert sorted(map(tuple, back.t().tolist())) == sorted(map(tuple, ei.t().tolist()))
    again = gnnrec.from_edge_index(back, size=(NUM_SRC, NUM_DST))
    for name in ("rowptr", "col", "t_rowptr", "t_col", "t_perm"):
        assert torch.equal(getattr(again, name), getattr(adj, name).cpu()), name


def test_from_edge_index_num_nodes_and_duplicates():
    ei = torch.tensor([[0, 2, 2, 1], [1, 0, 0, 2]])
    adj = gnnrec.from_edge_index(ei)
    assert (adj.num_rows, adj.num_cols, adj.nnz) == (3, 3, 4)
    x = torch.eye(3, dtype=torch.float64)
    assert torch.equal(gnnrec.spmm(adj, x), dense(ei, 3, 3))


# --- results against dense references ------------------------------------------

def test_spmm_matches_dense(graph, device):
    ei, adj = graph
    x = rand(NUM_SRC, 4, device=device, seed=1)
    w = rand(ei.size(1), device=device, seed=2)
    torch.testing.assert_close(gnnrec.spmm(adj, x).cpu(), dense(ei, NUM_SRC, NUM_DST) @ x.cpu())
    torch.testing.assert_close(gnnrec.spmm(adj, x, adj.edge_values(w)).cpu(),
                               dense(ei, NUM_SRC, NUM_DST, w) @ x.cpu())


def test_spmm_float32(graph, device):
    ei, adj = graph
    x = rand(NUM_SRC, 4, device=device, seed=1, dtype=torch.float32)
    out = gnnrec.spmm(adj, x)
    assert out.dtype == torch.float32
    torch.testing.assert_close(out.cpu().double(), dense(ei, NUM_SRC, NUM_DST) @ x.cpu().double(),
                               rtol=1e-5, atol=1e-5)


def test_sddmm_matches_dense(graph, device):
    ei, adj = graph
    a, b = rand(NUM_DST, 3, device=device, seed=1), rand(NUM_SRC, 3, device=device, seed=2)
    ref = (a.cpu() @ b.cpu().t())[ei[1], ei[0]]
    torch.testing.assert_close(in_edge_order(gnnrec.sddmm(adj, a, b), adj).cpu(), ref)


@pytest.mark.parametrize("reduce", ["sum", "mean", "max"])
def test_spmm_reduce_matches_dense(graph, device, reduce):
    ei, adj = graph
    x = rand(NUM_SRC, 4, device=device, seed=3)
    mask = dense(ei, NUM_SRC, NUM_DST).bool()
    ref = torch.zeros(NUM_DST, 4, dtype=torch.float64)
    for r in range(NUM_DST):
        nbrs = x.cpu()[mask[r]]
        if len(nbrs):
            ref[r] = {"sum": nbrs.sum(0), "mean": nbrs.mean(0), "max": nbrs.max(0).values}[reduce]
    torch.testing.assert_close(gnnrec.spmm_reduce(adj, x, reduce).cpu(), ref)


@pytest.mark.parametrize("heads", [None, 2])
def test_sddmm_add_matches_dense(graph, device, heads):
    ei, adj = graph
    shape = () if heads is None else (heads,)
    a_row, a_col = rand(NUM_DST, *shape, device=device, seed=1), rand(NUM_SRC, *shape, device=device, seed=2)
    ref = (a_row.cpu().unsqueeze(1) + a_col.cpu().unsqueeze(0))[ei[1], ei[0]]
    torch.testing.assert_close(in_edge_order(gnnrec.sddmm_add(adj, a_row, a_col), adj).cpu(), ref)


@pytest.mark.parametrize("heads", [None, 3])
def test_edge_softmax_matches_dense(graph, device, heads):
    ei, adj = graph
    shape = () if heads is None else (heads,)
    score = rand(ei.size(1), *shape, device=device, seed=4)  # edge_index order
    logits = torch.full((NUM_DST, NUM_SRC, *shape), float("-inf"), dtype=torch.float64)
    logits[ei[1], ei[0]] = score.cpu()
    ref = torch.softmax(logits, dim=1).nan_to_num(0.0)[ei[1], ei[0]]  # empty rows: NaN → 0
    out = gnnrec.edge_softmax(adj, adj.edge_values(score))
    torch.testing.assert_close(in_edge_order(out, adj).cpu(), ref)


@pytest.mark.parametrize("replace", [False, True])
def test_sample_neighbors(graph, device, replace):
    ei, adj = graph
    mask = dense(ei, NUM_SRC, NUM_DST).bool()
    seeds = torch.arange(NUM_DST, device=device)
    nbr, eid = gnnrec.sample_neighbors(adj, seeds, fanout=2, replace=replace, seed=7)
    assert nbr.shape == eid.shape == (NUM_DST, 2)
    nbr2, eid2 = gnnrec.sample_neighbors(adj, seeds, fanout=2, replace=replace, seed=7)
    assert torch.equal(nbr, nbr2) and torch.equal(eid, eid2)
    nbr, eid = nbr.cpu(), eid.cpu()
    for r in range(NUM_DST):
        deg = int(mask[r].sum())
        if deg == 0:
            assert (nbr[r] == -1).all() and (eid[r] == -1).all()
            continue
        assert mask[r, nbr[r]].all()
        assert torch.equal(adj.col.long().cpu()[eid[r]], nbr[r])
        assert ((eid[r] >= adj.rowptr[r].item()) & (eid[r] < adj.rowptr[r + 1].item())).all()
        if not replace and deg >= 2:
            assert eid[r, 0] != eid[r, 1]


def test_topk_masked_matches_dense(device):
    """gnnrec.topk_masked against a dense float64 ranking (masked by index_put, stable
    descending sort: ties to the lower item id), on small-integer scores full of ties."""
    g = torch.Generator().manual_seed(11)
    n_users, n_items = 9, 40
    user_emb = torch.randint(-1, 2, (n_users, 2), generator=g).double()
    item_emb = torch.randint(-1, 2, (n_items, 2), generator=g).double()
    ei = torch.stack([torch.randint(0, n_users, (60,), generator=g),
                      torch.randint(0, n_items, (60,), generator=g)])  # repeats allowed
    dense = user_emb @ item_emb.t()
    dense[ei[0], ei[1]] = -float("inf")
    ref_v, ref_i = torch.sort(dense, dim=1, descending=True, stable=True)
    users = torch.tensor([3, 0, 8, 3])
    for dtype in (torch.float32, torch.float64):
        u, i = user_emb.to(device, dtype), item_emb.to(device, dtype)
        for k, chunk in ((1, 1), (7, 3), (n_items, 1024)):
            v, idx = gnnrec.topk_masked(u, i, k, users.to(device), exclude=ei.to(device), chunk=chunk)
            assert idx.dtype == torch.int64 and v.dtype == dtype and v.device.type == device.type
            assert torch.equal(idx.cpu(), ref_i[users, :k])
            assert torch.equal(v.cpu().double(), ref_v[users, :k])
        v, idx = gnnrec.topk_masked(u, i, 5)  # every user, nothing masked
        assert torch.equal(idx.cpu(), torch.sort(user_emb @ item_emb.t(), dim=1, descending=True,
                                                 stable=True)[1][:, :5])
    with pytest.raises(RuntimeError, match="topk_masked: k"):
        gnnrec.topk_masked(user_emb.to(device), item_emb.to(device), n_items + 1)


# --- opcheck: schemas, fake (Meta) implementations, autograd registration -------

def public_op_cases(adj, device):
    """(operator, args) for every public operator, on small random inputs."""
    x = rand(NUM_SRC, 3, device=device, seed=1, requires_grad=True)
    a = rand(NUM_DST, 3, device=device, seed=2, requires_grad=True)
    v = rand(adj.nnz, device=device, seed=3, requires_grad=True)
    h_row = rand(NUM_DST, 2, device=device, seed=4, requires_grad=True)
    h_col = rand(NUM_SRC, 2, device=device, seed=5, requires_grad=True)
    score = rand(adj.nnz, 2, device=device, seed=6, requires_grad=True)
    x32 = rand(NUM_SRC, 3, device=device, seed=7, dtype=torch.float32, requires_grad=True)
    csr = (adj.rowptr, adj.col)
    t = (adj.t_rowptr, adj.t_col, adj.t_perm)
    seeds = torch.tensor([0, 3, 1, 3], device=device)
    return [
        ("spmm", (*csr, None, adj.t_rowptr, adj.t_col, None, x)),
        ("spmm", (*csr, v, *t, x)),
        ("spmm", (*csr, None, *t, x32)),
        ("sddmm", (*csr, *t, a, x)),
        *[("spmm_reduce", (*csr, *t, x, r)) for r in ("sum", "mean", "max")],
        ("sddmm_add", (*csr, *t, h_row, h_col)),
        ("sddmm_add", (*csr, *t, h_row[:, 0], h_col[:, 0])),
        ("edge_softmax", (adj.rowptr, score)),
        ("edge_softmax", (adj.rowptr, v)),
        ("sample_neighbors", (*csr, seeds, 3, False, 1)),
        ("sample_neighbors", (*csr, seeds, 2, True, 5)),
        # Users are A's rows (NUM_DST), items its columns; A masks.
        ("topk_masked", (a, x, seeds, *csr, 3, 2)),
        ("topk_masked", (a.detach().float(), x32, seeds, *csr, NUM_SRC, 4)),
    ]


def test_opcheck_public_ops(graph, device):
    _, adj = graph
    cases = public_op_cases(adj, device)
    assert {name for name, _ in cases} == {
        "spmm", "sddmm", "spmm_reduce", "sddmm_add", "edge_softmax", "sample_neighbors",
        "topk_masked"}
    for name, args in cases:
        opcheck(getattr(OPS, name).default, args)


def test_opcheck_internal_ops(graph, device):
    _, adj = graph
    x = rand(NUM_SRC, 3, device=device, seed=1)
    g = rand(NUM_DST, 3, device=device, seed=2)
    _, arg = OPS.spmm_reduce(adj.rowptr, adj.col, adj.t_rowptr, adj.t_col, adj.t_perm, x, "max")
    opcheck(OPS._spmm_reduce_max_backward.default, (adj.t_rowptr, adj.t_col, adj.t_perm, arg, g))
    for src in (rand(adj.nnz, device=device, seed=3), rand(adj.nnz, 2, device=device, seed=4)):
        opcheck(OPS._segment_sum_csr.default, (adj.rowptr, src, None))
        opcheck(OPS._segment_sum_csr.default, (adj.t_rowptr, src, adj.t_perm))
        y = gnnrec.edge_softmax(adj, src)
        opcheck(OPS._edge_softmax_backward.default, (adj.rowptr, y, torch.randn_like(src)))
    # The evaluator's pass: mask and test rows sorted; every user has a test
    # item and a negative (a NaN AUC would not compare equal).
    def csr(rowptr, col):
        return torch.tensor(rowptr, device=device), torch.tensor(col, device=device, dtype=torch.int32)

    mask, test = csr([0, 1, 2, 2, 4, 5], [1, 2, 0, 4, 6]), csr([0, 2, 3, 4, 6, 7], [0, 2, 1, 3, 4, 5, 0])
    users = torch.tensor([0, 3, 1, 3, 4], device=device)
    opcheck(OPS._topk_masked_auc.default, (g, x, users, *mask, *test, 3, 2))
    scores = g[users] @ x.T
    opcheck(OPS._topk_masked_scores.default, (scores, users, *mask, *test, 3))
    opcheck(OPS._topk_masked_scores.default, (scores, users, *mask, None, None, 3))


# --- gradcheck in float64 ----------------------------------------------------------

def test_gradcheck_spmm(graph, device):
    _, adj = graph
    x = rand(NUM_SRC, 3, device=device, seed=1, requires_grad=True)
    v = rand(adj.nnz, device=device, seed=2, requires_grad=True)
    assert torch.autograd.gradcheck(lambda x, v: gnnrec.spmm(adj, x, v), (x, v))
    assert torch.autograd.gradcheck(lambda x: gnnrec.spmm(adj, x), (x,))


def test_gradcheck_sddmm(graph, device):
    _, adj = graph
    a = rand(NUM_DST, 3, device=device, seed=1, requires_grad=True)
    b = rand(NUM_SRC, 3, device=device, seed=2, requires_grad=True)
    assert torch.autograd.gradcheck(lambda a, b: gnnrec.sddmm(adj, a, b), (a, b))


@pytest.mark.parametrize("reduce", ["sum", "mean", "max"])
def test_gradcheck_spmm_reduce(graph, device, reduce):
    _, adj = graph
    # Distinct random values: no ties in max, and gaps far above gradcheck's eps.
    x = rand(NUM_SRC, 3, device=device, seed=5, requires_grad=True)
    assert torch.autograd.gradcheck(lambda x: gnnrec.spmm_reduce(adj, x, reduce), (x,))


@pytest.mark.parametrize("heads", [None, 2])
def test_gradcheck_sddmm_add(graph, device, heads):
    _, adj = graph
    shape = () if heads is None else (heads,)
    a_row = rand(NUM_DST, *shape, device=device, seed=1, requires_grad=True)
    a_col = rand(NUM_SRC, *shape, device=device, seed=2, requires_grad=True)
    assert torch.autograd.gradcheck(lambda r, c: gnnrec.sddmm_add(adj, r, c), (a_row, a_col))


@pytest.mark.parametrize("heads", [None, 2])
def test_gradcheck_edge_softmax(graph, device, heads):
    _, adj = graph
    shape = () if heads is None else (heads,)
    score = rand(adj.nnz, *shape, device=device, seed=3, requires_grad=True)
    assert torch.autograd.gradcheck(lambda s: gnnrec.edge_softmax(adj, s), (score,))


# --- torch.compile ------------------------------------------------------------------

@pytest.mark.slow
def test_compiled_lightgcn_matches_eager_and_dense(device):
    n = 12
    ei = random_edge_index(n, n, seed=9, p=0.3)
    ei = torch.cat([ei, ei.flip(0)], 1).unique(dim=1)  # symmetric, as LightGCN's graph
    adj = gnnrec.from_edge_index(ei.to(device), num_nodes=n)
    value = gnnrec.sym_norm(adj, torch.float64)
    prop = gnnrec.nn.LightGCNPropagation(num_layers=3)
    x = rand(n, 4, device=device, seed=1, requires_grad=True)

    torch._dynamo.reset()
    compiled = torch.compile(prop, fullgraph=True)
    out = compiled(x, adj, value)
    eager = prop(x, adj, value)
    torch.testing.assert_close(out, eager)
    # Independent reference: dense D^-1/2 A D^-1/2 from the edge_index.
    a = dense(ei, n, n)
    deg = a.sum(1)
    inv = torch.where(deg > 0, deg.rsqrt(), torch.zeros_like(deg))
    norm = inv[:, None] * a * inv[None, :]
    h, ref = x.detach().cpu(), x.detach().cpu().clone()
    for _ in range(3):
        h = norm @ h
        ref += h
    torch.testing.assert_close(eager.detach().cpu(), ref / 4)
    # Gradients flow through the compiled graph as in eager mode.
    (gc,) = torch.autograd.grad(out.square().sum(), x)
    (ge,) = torch.autograd.grad(eager.square().sum(), x)
    torch.testing.assert_close(gc, ge)


# --- bad input: a Python exception naming the operator and the argument --------------

def bad_input_cases(adj, device):
    x = rand(NUM_SRC, 3, device=device, seed=1)
    a = rand(NUM_DST, 3, device=device, seed=2)
    csr, t = (adj.rowptr, adj.col), (adj.t_rowptr, adj.t_col, adj.t_perm)
    cases = [
        # wrong dtype
        ("spmm", lambda: gnnrec.spmm(adj, x.int()), "x"),
        ("spmm", lambda: gnnrec.spmm(adj, x, torch.ones(adj.nnz, device=device)), "value"),
        ("spmm", lambda: OPS.spmm(adj.rowptr, adj.col.long(), None, *t, x), "col"),
        ("sddmm", lambda: gnnrec.sddmm(adj, a, x.float()), "b"),
        ("sample_neighbors", lambda: gnnrec.sample_neighbors(adj, torch.zeros(2, device=device), 2), "seeds"),
        ("edge_softmax", lambda: gnnrec.edge_softmax(adj, torch.ones(adj.nnz, dtype=torch.int64, device=device)), "score"),
        # mismatched sizes
        ("spmm", lambda: gnnrec.spmm(adj, x[:-1]), "x"),
        ("spmm", lambda: gnnrec.spmm(adj, x, torch.ones(adj.nnz + 1, dtype=x.dtype, device=device)), "value"),
        ("sddmm", lambda: gnnrec.sddmm(adj, a[:, :2], x), "a and b"),
        ("sddmm", lambda: OPS.sddmm(*csr, adj.t_rowptr, adj.t_col, adj.t_perm[:-1], a, x), "t_perm"),
        ("spmm_reduce", lambda: gnnrec.spmm_reduce(adj, x[:2]), "x"),
        ("spmm_reduce", lambda: gnnrec.spmm_reduce(adj, x, "min"), "reduce"),
        ("sddmm_add", lambda: gnnrec.sddmm_add(adj, a[:, :2], x), "a_row and a_col"),
        ("sddmm_add", lambda: gnnrec.sddmm_add(adj, a, x[:3]), "a_col"),
        ("sample_neighbors", lambda: gnnrec.sample_neighbors(adj, torch.zeros(2, dtype=torch.long, device=device), 0), "fanout"),
        ("_edge_softmax_backward", lambda: OPS._edge_softmax_backward(adj.rowptr, a, a[:1]), "grad"),
        ("_segment_sum_csr", lambda: OPS._segment_sum_csr(adj.rowptr, x[:, 0], adj.t_perm), "perm"),
    ]
    if device.type == "cuda":
        cases += [
            ("spmm", lambda: gnnrec.spmm(adj, x.cpu()), "rowptr"),
            ("sddmm", lambda: gnnrec.sddmm(adj, a, x.cpu()), "b"),
            ("spmm", lambda: gnnrec.spmm(adj, x, torch.ones(adj.nnz, dtype=x.dtype)), "value"),
        ]
    else:
        # Value checks the CPU kernels make (not made on CUDA, see kernels/ops.h).
        bad_col = adj.col.clone()
        bad_col[0] = NUM_SRC + 5
        cases += [
            ("spmm", lambda: OPS.spmm(adj.rowptr, bad_col, None, *t, x), "col"),
            ("sample_neighbors", lambda: gnnrec.sample_neighbors(adj, torch.tensor([NUM_DST]), 2), "seeds"),
        ]
    return cases


def test_bad_input_raises_naming_operator_and_argument(graph, device):
    _, adj = graph
    for op, call, arg in bad_input_cases(adj, device):
        with pytest.raises(RuntimeError) as info:
            call()
        message = str(info.value).splitlines()[0]
        assert message.startswith(op + ":"), (op, message)
        assert arg in message, (op, arg, message)


def test_non_contiguous_input(graph, device):
    """The operators accept strided dense operands (they make them contiguous)."""
    ei, adj = graph
    xt = rand(4, NUM_SRC, device=device, seed=1).t()
    assert not xt.is_contiguous()
    torch.testing.assert_close(gnnrec.spmm(adj, xt).cpu(), dense(ei, NUM_SRC, NUM_DST) @ xt.cpu())


@pytest.mark.parametrize("edge_index, kwargs, message", [
    (torch.tensor([[0, 1], [1, 3]]), {"num_nodes": 3}, "targets (row 1) must be in [0, 3)"),
    (torch.tensor([[0, -1], [1, 2]]), {"num_nodes": 3}, "sources (row 0) must be in [0, 3)"),
    (torch.tensor([[0, 4], [1, 1]]), {"size": (4, 2)}, "sources (row 0) must be in [0, 4)"),
    (torch.tensor([0, 1, 2]), {}, "shape [2, E]"),
    (torch.tensor([[0.0, 1.0], [1.0, 0.0]]), {}, "integer"),
])
def test_from_edge_index_bad_input(edge_index, kwargs, message):
    with pytest.raises(ValueError, match="from_edge_index: edge_index") as info:
        gnnrec.from_edge_index(edge_index, **kwargs)
    assert message in str(info.value)


def test_missing_library_is_a_clear_import_error(tmp_path):
    if gnnrec.LIBRARY_PATH.parent == pathlib.Path(gnnrec.__file__).resolve().parent:
        pytest.skip("gnnrec is installed with its library, which is found first")
    env = dict(os.environ, GNNREC_LIBRARY=str(tmp_path / "nope.so"))
    proc = subprocess.run([sys.executable, "-c", "import gnnrec"], env=env, capture_output=True,
                          text=True)
    assert proc.returncode != 0
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("ImportError: gnnrec: cannot find the compiled library libgnnrec.so")
    assert "installed package" in last and "GNNREC_LIBRARY" in last and "nope.so" in last
