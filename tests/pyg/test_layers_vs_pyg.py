"""Our GCN, SAGE (mean, max, pool, lstm) and GAT layers against PyG's GCNConv,
SAGEConv and GATConv: same random bipartite graph, same float64 weights, same
upstream gradient; outputs and every gradient must agree.

The C++ layers run in build/tests/gnnrec_layer_probe (models/layers.h),
which reads the inputs this test writes and writes its results back."""
import json
import os
import pathlib
import subprocess

import numpy as np
import pytest
import torch

pyg_nn = pytest.importorskip("torch_geometric.nn")

ROOT = pathlib.Path(__file__).resolve().parents[2]
BIN = pathlib.Path(os.environ.get("GNNREC_BIN", ROOT / "build" / "gnnrec")).resolve()
PROBE = BIN.parent / "tests" / "gnnrec_layer_probe"


def random_pairs(users, items, m, gen):
    """Distinct user-item pairs; some users and items left isolated."""
    flat = torch.randperm(users * items, generator=gen)[:m]
    return torch.stack([flat // items, flat % items], 1)


def regular_pairs(n, k):
    """Every user has k items and every item k users (equal-length LSTM sequences)."""
    return torch.tensor([[u, (u + j) % n] for u in range(n) for j in range(k)])


def edge_index_of(pairs, users):
    """Both directions of every pair on the unified node set, sorted by
    (target, source) as our CSR rows are (LSTM order depends on it)."""
    u, i = pairs[:, 0], pairs[:, 1] + users
    src = torch.cat([u, i])
    dst = torch.cat([i, u])
    order = torch.argsort(dst * (src.max() + 1) + src)
    return torch.stack([src[order], dst[order]])


def run_probe(tmp_path, layer, users, items, pairs, x, params, gout, **extra):
    spec = {"layer": layer, "users": users, "items": items, "in": x.shape[1],
            "params": {n: list(t.shape) for n, t in params.items()}, **extra}
    (tmp_path / "spec.json").write_text(json.dumps(spec))
    pairs.to(torch.int64).numpy().tofile(tmp_path / "pairs.bin")
    x.detach().numpy().tofile(tmp_path / "x.bin")
    gout.numpy().tofile(tmp_path / "gout.bin")
    for n, t in params.items():
        t.detach().numpy().tofile(tmp_path / f"{n}.bin")
    proc = subprocess.run([str(PROBE), str(tmp_path)], capture_output=True, text=True,
                          env=dict(os.environ, OMP_NUM_THREADS="2"))
    assert proc.returncode == 0, proc.stderr

    def read(name, shape):
        return torch.from_numpy(np.fromfile(tmp_path / f"{name}.bin", dtype=np.float64)).view(shape)

    grads = {n: read(f"grad_{n}", t.shape) for n, t in params.items()}
    return read("out", gout.shape), read("grad_x", x.shape), grads


def compare(conv, tmp_path, layer, users, items, pairs, width, **extra):
    gen = torch.Generator().manual_seed(7)
    conv = conv.double()
    with torch.no_grad():  # non-zero biases so that they are tested too
        for p in conv.parameters():
            p.copy_(torch.randn(p.shape, generator=gen, dtype=torch.float64) * 0.5)
    x = torch.randn(users + items, width, generator=gen, dtype=torch.float64, requires_grad=True)
    out = conv(x, edge_index_of(pairs, users))
    gout = torch.randn(out.shape, generator=gen, dtype=torch.float64)
    (out * gout).sum().backward()
    params = {n: p for n, p in conv.named_parameters()}
    ours, ours_gx, ours_grads = run_probe(tmp_path, layer, users, items, pairs, x, params, gout,
                                          **extra)
    torch.testing.assert_close(ours, out.detach(), rtol=1e-9, atol=1e-10)
    torch.testing.assert_close(ours_gx, x.grad, rtol=1e-9, atol=1e-10)
    for n, p in params.items():
        torch.testing.assert_close(ours_grads[n], p.grad, rtol=1e-9, atol=1e-10, msg=n)


@pytest.fixture(scope="module", autouse=True)
def _probe_exists():
    if not PROBE.exists():
        pytest.fail(f"{PROBE} is missing: run 'make build' first")


@pytest.mark.parametrize("width", [1, 16, 33])
def test_gcn_matches_gcnconv(tmp_path, width):
    gen = torch.Generator().manual_seed(1)
    pairs = random_pairs(12, 9, 40, gen)
    conv = pyg_nn.GCNConv(width, 5)
    compare(conv, tmp_path, "gcn", 12, 9, pairs, width)


@pytest.mark.parametrize("aggregator", ["mean", "max", "pool"])
def test_sage_matches_sageconv(tmp_path, aggregator):
    gen = torch.Generator().manual_seed(2)
    pairs = random_pairs(15, 11, 50, gen)
    conv = pyg_nn.SAGEConv(8, 6, aggr="max" if aggregator == "pool" else aggregator,
                           project=aggregator == "pool")
    compare(conv, tmp_path, "sage", 15, 11, pairs, 8, aggregator=aggregator)


def test_sage_lstm_matches_sageconv(tmp_path):
    pairs = regular_pairs(10, 3)
    conv = pyg_nn.SAGEConv(8, 6, aggr="lstm")
    compare(conv, tmp_path, "sage", 10, 10, pairs, 8, aggregator="lstm")


@pytest.mark.parametrize("heads,concat", [(1, True), (3, True), (3, False)])
def test_gat_matches_gatconv(tmp_path, heads, concat):
    gen = torch.Generator().manual_seed(3)
    pairs = random_pairs(14, 10, 45, gen)
    conv = pyg_nn.GATConv(8, 4, heads=heads, concat=concat, negative_slope=0.2, dropout=0.0)
    compare(conv, tmp_path, "gat", 14, 10, pairs, 8, heads=heads, concat=concat)
