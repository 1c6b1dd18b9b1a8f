"""GAT layer and GraphSAGE mini-batch step: gnnrec against PyTorch Geometric.

Both sides use the same graph (the unified user+item graph of the training
part of DIR, both edge directions), float32, the same thread count, in one
run:
  - GAT: one layer, HEADS heads of DIM/HEADS channels concatenated, forward
    and forward+backward over every node (PyG: GATConv, which adds self loops
    as ours does).
  - SAGE: one training step from BATCH random seed nodes: sampling FANOUTS
    neighbours per hop, building the per-hop subgraphs, two mean layers,
    forward and backward. PyG's NeighborLoader needs pyg-lib or torch-sparse,
    which have no wheels for this torch; the PyG side therefore samples with
    a vectorised plain-PyTorch sampler (with replacement, which is cheaper
    than ours without) and runs SAGEConv on the sampled bipartite hops.

    python bench/layers_vs_pyg.py [--dataset DIR] [--threads N] [--repeats N]

Writes bench/results/layers_vs_pyg_<dataset>.json.
"""
import argparse
import json
import os
import pathlib
import platform
import statistics
import subprocess
import sys
import tempfile
import time

import torch

ROOT = pathlib.Path(__file__).resolve().parents[1]


def median_ms(f, repeats):
    for _ in range(2):
        f()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        f()
        times.append((time.perf_counter() - t) * 1e3)
    return statistics.median(times)


def read_train(path):
    users, items = [], []
    for line in open(path):
        parts = line.split()
        users += [int(parts[0])] * (len(parts) - 1)
        items += [int(i) for i in parts[1:]]
    return torch.tensor(users), torch.tensor(items)


def pyg_side(edge_index, n, args):
    from torch_geometric.nn import GATConv, SAGEConv

    torch.manual_seed(1)
    x = torch.randn(n, args.dim, requires_grad=True)
    gat = GATConv(args.dim, args.dim // args.heads, heads=args.heads)
    gout = torch.randn(n, args.dim)

    def gat_forward():
        with torch.no_grad():
            gat(x, edge_index)

    def gat_step():
        gat(x, edge_index).backward(gout)

    # CSR of the graph (rows = destinations) for the plain-PyTorch sampler.
    order = torch.argsort(edge_index[1] * n + edge_index[0])
    col = edge_index[0][order]
    rowptr = torch.zeros(n + 1, dtype=torch.long)
    rowptr[1:] = torch.cumsum(torch.bincount(edge_index[1], minlength=n), 0)
    convs = [SAGEConv(args.dim, args.dim, aggr="mean") for _ in args.fanouts]

    def sage_step():
        nodes = torch.unique(torch.randint(n, (args.batch,)))
        hops = []
        for fanout in args.fanouts:
            deg = rowptr[nodes + 1] - rowptr[nodes]
            keep = deg > 0
            dst = nodes[keep].repeat_interleave(fanout)
            draw = (torch.rand(int(keep.sum()), fanout) * deg[keep].unsqueeze(1)).long()
            src = col[(rowptr[nodes[keep]].unsqueeze(1) + draw).flatten()]
            src_nodes, inverse = torch.unique(torch.cat([nodes, src]), return_inverse=True)
            local_dst = torch.searchsorted(nodes, dst)
            hops.append((src_nodes, inverse[: nodes.numel()],
                         torch.stack([inverse[nodes.numel():], local_dst])))
            nodes = src_nodes
        h = x[nodes]
        for l, conv in enumerate(convs):
            src_nodes, dst_pos, ei = hops[len(hops) - 1 - l]
            h = conv((h, h[dst_pos]), ei, size=(h.shape[0], dst_pos.numel()))
            if l + 1 < len(convs):
                h = h.relu()
        h.sum().backward()

    return {
        "gat_forward_ms": median_ms(gat_forward, args.repeats),
        "gat_forward_backward_ms": median_ms(gat_step, args.repeats),
        "sage_step_ms": median_ms(sage_step, args.repeats),
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dataset", default=str(ROOT.parent / "shared" / "data" / "ml-100k"))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=10)
    ap.add_argument("--dim", type=int, default=64)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--batch", type=int, default=2048)
    ap.add_argument("--fanouts", default="10,10")
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    args.fanouts = [int(f) for f in args.fanouts.split(",")]
    dataset = pathlib.Path(args.dataset)
    if not dataset.exists():
        print(f"layers bench: {dataset} not found; skipped")
        return 0
    torch.set_num_threads(args.threads)
    build = pathlib.Path(os.environ.get("GNNREC_BIN", ROOT / "build" / "gnnrec")).parent
    with tempfile.TemporaryDirectory() as tmp:
        split = pathlib.Path(tmp) / "split"
        subprocess.run([str(build / "gnnrec"), "data", "split", "--dataset", str(dataset),
                        "--seed", "2020", "--out", str(split)], check=True,
                       stdout=subprocess.DEVNULL)
        ours = json.loads(subprocess.run(
            [str(build / "gnnrec_bench_layers"), "--dataset", str(split), "--threads",
             str(args.threads), "--repeats", str(args.repeats), "--dim", str(args.dim),
             "--heads", str(args.heads), "--batch", str(args.batch), "--fanouts",
             ",".join(map(str, args.fanouts))],
            check=True, capture_output=True, text=True,
            env=dict(os.environ, GNNREC_CACHE=tmp)).stdout)
        u, i = read_train(split / "train.txt")
    users = int(u.max()) + 1
    n = ours["nodes"]
    edge_index = torch.stack([torch.cat([u, i + users]), torch.cat([i + users, u])])
    pyg = pyg_side(edge_index, n, args)
    rows = []
    for key in ("gat_forward_ms", "gat_forward_backward_ms", "sage_step_ms"):
        rows.append({"measure": key, "gnnrec": ours[key], "pyg": pyg[key],
                     "speedup": pyg[key] / ours[key]})
        print(f"{key:26s} gnnrec {ours[key]:9.2f}  pyg {pyg[key]:9.2f}  x{pyg[key] / ours[key]:.2f}")
    import torch_geometric
    doc = {
        "benchmark": "GAT layer and GraphSAGE mini-batch step, gnnrec vs PyTorch Geometric",
        "dataset": dataset.name,
        "graph": {"nodes": n, "edges_with_self_loops": ours["edges"]},
        "settings": {"dim": args.dim, "heads": args.heads, "batch": args.batch,
                     "fanouts": args.fanouts, "threads": args.threads,
                     "repeats": args.repeats, "dtype": "float32"},
        "device": "cpu: " + ours["cpu"],
        "statistic": "median milliseconds",
        "versions": {"torch": torch.__version__, "torch_geometric": torch_geometric.__version__,
                     "python": platform.python_version()},
        "pyg_sampler": "plain PyTorch, with replacement (NeighborLoader needs pyg-lib or "
                       "torch-sparse, not installable for this torch)",
        "results": rows,
    }
    out = pathlib.Path(args.out or ROOT / "bench" / "results" / f"layers_vs_pyg_{dataset.name}.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(doc, indent=2) + "\n")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
