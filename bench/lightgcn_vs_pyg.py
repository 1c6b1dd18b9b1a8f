"""LightGCN epoch time and accuracy: gnnrec against PyTorch Geometric and
against the official LightGCN-PyTorch code's propagation (torch.sparse).

Both sides train on the same split (exported by `gnnrec data split`), with the
same hyper-parameters, the same loss (BPR + L2 on the batch's layer-0
embeddings, as in the LightGCN paper), the same initialisation (N(0, 0.1^2))
and uniform negatives that exclude the user's training items, and are
evaluated with the same full-ranking protocol (training items masked). The
PyG side uses torch_geometric.nn.models.LightGCN for propagation; the
"official" side the official code's: one coalesced torch.sparse COO matrix,
torch.sparse.mm per layer (its sampling, loss and optimiser are the PyG
side's, so only the propagation differs; the official code's per-sample
Python sampler would only add to its time).

    python bench/lightgcn_vs_pyg.py [--dataset DIR|synthetic] [--epochs N] [--eval-every N]
                                    [--device cpu|cuda] [--gnnrec-bin PATH]

--device cuda trains both sides on the GPU: `gnnrec train --device cuda`, and
the PyG model, its negatives and its loop on torch's CUDA device (timed with
torch.cuda.synchronize() around each epoch). Seconds per epoch are the mean
over all epochs and over all but the first (warm-up: allocator, kernels);
accuracy is reported at the best evaluation and after the last epoch.

--timed-batches N (for graphs where a plain-PyTorch epoch takes many
minutes, Gowalla: about 400 batches of a whole-graph propagation each): gnnrec
trains --epochs epochs as usual, but the PyG and official sides time only
batches 2 .. N+1 of their first epoch (the first is warm-up) and report
their epoch time as the mean batch time times the epoch's batch count
("epoch_seconds_estimated_from_batches"), with no accuracy; the speed-ups
are against gnnrec's mean epoch.
--gnnrec-bin picks the binary (default build/gnnrec; on the GPU machine
.gpu/build/gnnrec, whose torch libraries are found through python's torch,
added to LD_LIBRARY_PATH for the subprocess as scripts/gpu/run_checks.sh does).

Writes bench/results/lightgcn_vs_pyg_<dataset>_<device>.json.
"""
import argparse
import json
import math
import os
import pathlib
import platform
import struct
import subprocess
import sys
import tempfile
import time

import torch

ROOT = pathlib.Path(__file__).resolve().parents[1]


def runtime_env(binary):
    """The environment for the gnnrec binary: its own folder, python's torch
    libraries and the NVIDIA wheels' libraries on LD_LIBRARY_PATH (a build
    from another machine, e.g. .gpu/build, has no valid RPATH here)."""
    torch_lib = pathlib.Path(torch.__file__).parent / "lib"
    dirs = [binary.parent, torch_lib, *sorted(torch_lib.parent.parent.glob("nvidia/*/lib"))]
    env = dict(os.environ)
    old = env.get("LD_LIBRARY_PATH", "")
    env["LD_LIBRARY_PATH"] = ":".join([*map(str, dirs), *([old] if old else [])])
    env.setdefault("GNNREC_NO_PLOT", "1")
    return env


def gnnrec(args, *argv):
    binary = pathlib.Path(args.gnnrec_bin).resolve()
    cmd = [str(binary), *map(str, argv)]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, env=runtime_env(binary))


def epoch_times(run):
    """Seconds of each training epoch, from the meta of the run's last
    checkpoint ("GNNRECK1" | uint64 header length | header JSON | ...)."""
    with open(run / "checkpoints" / "last.ckpt", "rb") as f:
        assert f.read(8) == b"GNNRECK1", "not a gnnrec checkpoint"
        (n,) = struct.unpack("<Q", f.read(8))
        return json.loads(f.read(n))["meta"]["epoch_times"]


def timing(times):
    """Mean seconds per epoch, over all epochs and over all but the first."""
    steady = times[1:] if len(times) > 1 else times
    return {"epoch_seconds": sum(times) / len(times),
            "epoch_seconds_after_first": sum(steady) / len(steady),
            "epoch_times": times}


def read_lightgcn(path):
    users, items = [], []
    for line in open(path):
        parts = line.split()
        for it in parts[1:]:
            users.append(int(parts[0]))
            items.append(int(it))
    return torch.tensor(users), torch.tensor(items)


def full_ranking(user_emb, item_emb, train_u, train_i, test_u, test_i, k=20):
    """Recall@k and NDCG@k, LightGCN definitions, averaged over test users
    (on the embeddings' device)."""
    scores = user_emb @ item_emb.T
    scores[train_u, train_i] = -math.inf
    top = scores.topk(k, dim=1).indices
    truth = torch.zeros_like(scores, dtype=torch.bool)
    truth[test_u, test_i] = True
    hits = truth.gather(1, top).double()
    n_test = truth.sum(1)
    users = n_test > 0
    discount = 1.0 / torch.log2(torch.arange(2, k + 2, dtype=torch.double, device=scores.device))
    dcg = (hits * discount).sum(1)
    # The ideal DCG of n test items: the first min(n, k) discounts summed.
    ideal = torch.cat([discount.new_zeros(1), discount.cumsum(0)])
    idcg = ideal[n_test.clamp(max=k)]
    recall = hits.sum(1) / n_test.clamp(min=1)
    return {f"recall@{k}": recall[users].mean().item(),
            f"ndcg@{k}": (dcg[users] / idcg[users]).mean().item()}


def official_propagation(train_u, train_i, U, I, args, device):
    """LightGCN-PyTorch's way (gusye1234/LightGCN-PyTorch, model.py
    computer() and dataloader.py getSparseGraph()): the normalised adjacency
    D^-1/2 A D^-1/2 as one coalesced torch.sparse COO matrix, each layer one
    torch.sparse.mm, the representation the mean of the layers. Returns
    (weight, propagate)."""
    rows = torch.cat([train_u, train_i + U])
    cols = torch.cat([train_i + U, train_u])
    deg = torch.bincount(rows, minlength=U + I).double()
    inv = deg.pow(-0.5)
    inv[deg == 0] = 0
    values = (inv[rows] * inv[cols]).float()
    graph = torch.sparse_coo_tensor(torch.stack([rows, cols]), values, (U + I, U + I),
                                    check_invariants=True).coalesce()
    weight = torch.nn.Parameter(torch.empty(U + I, args.dim, device=device))

    def propagate():
        layers, x = [weight], weight
        for _ in range(args.layers):
            x = torch.sparse.mm(graph, x)
            layers.append(x)
        return torch.stack(layers, dim=1).mean(dim=1)
    return weight, propagate


def train_pyg(split, args, side="pyg"):
    """LightGCN trained by plain PyTorch: propagation by PyG's LightGCN
    (side "pyg") or by torch.sparse as the official code does ("official");
    the same sampling, loss and optimiser either way."""
    device = torch.device(args.device)
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    torch.manual_seed(args.seed)
    train_u, train_i = read_lightgcn(split / "train.txt")
    test_u, test_i = read_lightgcn(split / "test.txt")
    U = int(max(train_u.max(), test_u.max())) + 1
    I = int(max(train_i.max(), test_i.max())) + 1
    train_u, train_i, test_u, test_i = (t.to(device) for t in (train_u, train_i, test_u, test_i))
    edge_index = torch.stack([torch.cat([train_u, train_i + U]), torch.cat([train_i + U, train_u])])
    if side == "pyg":
        from torch_geometric.nn.models import LightGCN
        model = LightGCN(U + I, embedding_dim=args.dim, num_layers=args.layers).to(device)
        weight = model.embedding.weight
        propagate = lambda: model.get_embedding(edge_index)  # noqa: E731
    else:
        weight, propagate = official_propagation(train_u, train_i, U, I, args, device)
    torch.nn.init.normal_(weight, std=0.1)
    opt = torch.optim.Adam([weight], lr=args.lr)
    positive = torch.zeros(U, I, dtype=torch.bool, device=device)
    positive[train_u, train_i] = True
    m = train_u.numel()
    epoch_times, history, best = [], [], None
    batch_times = []
    for epoch in range(1, args.epochs + 1):
        sync()
        t0 = time.perf_counter()
        perm = torch.randperm(m, device=device)
        users, pos = train_u[perm], train_i[perm]
        neg = torch.randint(0, I, (m,), device=device)
        bad = positive[users, neg]
        while bad.any():  # reject the user's training items
            neg[bad] = torch.randint(0, I, (int(bad.sum()),), device=device)
            bad = positive[users, neg]
        for s in range(0, m, args.batch_size):
            if args.timed_batches and len(batch_times) == args.timed_batches + 1:
                batches = math.ceil(m / args.batch_size)
                mean = sum(batch_times[1:]) / args.timed_batches
                return {"batch_seconds": batch_times[1:], "batches_per_epoch": batches,
                        "epoch_seconds_estimated_from_batches": mean * batches}
            sync()
            tb = time.perf_counter()
            u, p, n = users[s:s + args.batch_size], pos[s:s + args.batch_size], neg[s:s + args.batch_size]
            emb = propagate()
            eu, ep, en = emb[u], emb[U + p], emb[U + n]
            bpr = torch.nn.functional.softplus((eu * en).sum(1) - (eu * ep).sum(1)).mean()
            e0 = weight
            l2 = 0.5 * (e0[u].pow(2).sum() + e0[U + p].pow(2).sum() + e0[U + n].pow(2).sum()) / u.numel()
            loss = bpr + args.reg * l2
            opt.zero_grad()
            loss.backward()
            opt.step()
            sync()
            batch_times.append(time.perf_counter() - tb)
        sync()
        epoch_times.append(time.perf_counter() - t0)
        if epoch % args.eval_every == 0 or epoch == args.epochs:
            with torch.no_grad():
                emb = propagate()
                metrics = full_ranking(emb[:U], emb[U:], train_u, train_i, test_u, test_i)
            history.append({"epoch": epoch, **metrics})
            if best is None or metrics["recall@20"] > best["recall@20"]:
                best = {"epoch": epoch, **metrics}
            print(f"  {side} epoch {epoch}: {metrics}", file=sys.stderr)
    return {**timing(epoch_times), "best": best, "final": history[-1], "history": history}


def train_ours(split, model, out, args):
    gnnrec(args, "train", "--model", model, "--dataset", split, "--epochs", args.epochs,
           "--eval-every", args.eval_every, "--lr", args.lr, "--batch-size", args.batch_size,
           "--reg", args.reg, "--dim", args.dim, "--layers", args.layers, "--seed", args.seed,
           "--threads", args.threads, "--device", args.device, "--patience", 0, "--out", out,
           "--overwrite", "--quiet")
    summary = json.loads((out / "summary.json").read_text())
    lines = [json.loads(l) for l in (out / "metrics.jsonl").read_text().splitlines() if l.strip()]
    final = lines[-1]
    summary["final"] = {"epoch": final["epoch"], "recall@20": final["metrics"]["recall@20"],
                        "ndcg@20": final["metrics"]["ndcg@20"]}
    summary["timing"] = timing(epoch_times(out))
    return summary


def device_name(args):
    if args.device == "cuda":
        return f"cuda: {torch.cuda.get_device_name(0)} (CUDA {torch.version.cuda})"
    return f"cpu: {platform.processor() or platform.machine()}, {args.threads} threads"


def ours_json(s, wall=None):
    out = {"epoch_seconds": s["epoch_seconds"],
           "epoch_seconds_after_first": s["timing"]["epoch_seconds_after_first"],
           "epoch_times": s["timing"]["epoch_times"],
           "best_epoch": s["best_epoch"],
           "recall@20": s["best"]["recall@20"], "ndcg@20": s["best"]["ndcg@20"],
           "final": s["final"], "device": s["device"]}
    if wall is not None:
        out["wall_seconds"] = wall
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dataset", default=str(ROOT.parent / "shared" / "data" / "ml-100k"),
                    help="data set directory, or 'synthetic' (the built-in generator)")
    ap.add_argument("--epochs", type=int, default=300)
    ap.add_argument("--eval-every", type=int, default=20)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--batch-size", type=int, default=2048)
    ap.add_argument("--reg", type=float, default=1e-4)
    ap.add_argument("--dim", type=int, default=64)
    ap.add_argument("--layers", type=int, default=3)
    ap.add_argument("--seed", type=int, default=2020)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--skip-pyg", action="store_true", help="only gnnrec (LightGCN, MF)")
    ap.add_argument("--skip-mf", action="store_true", help="no gnnrec MF run")
    ap.add_argument("--skip-official", action="store_true",
                    help="no run of the official code's torch.sparse propagation")
    ap.add_argument("--device", choices=("cpu", "cuda"), default="cpu",
                    help="where both sides train (default cpu)")
    ap.add_argument("--gnnrec-bin", default=str(ROOT / "build" / "gnnrec"),
                    help="the gnnrec binary (default build/gnnrec; .gpu/build/gnnrec on the GPU machine)")
    ap.add_argument("--timed-batches", type=int, default=0,
                    help="time only this many batches of the PyG and official sides (after one "
                         "warm-up batch) and estimate their epoch from them; no accuracy for them")
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    dataset = pathlib.Path(args.dataset)
    if args.dataset != "synthetic" and not dataset.exists():
        print(f"lightgcn_vs_pyg: {dataset} not found; skipped")
        return 0
    if args.device == "cuda" and not torch.cuda.is_available():
        print("lightgcn_vs_pyg: --device cuda, but torch sees no CUDA device", file=sys.stderr)
        return 1
    if not pathlib.Path(args.gnnrec_bin).is_file():
        print(f"lightgcn_vs_pyg: no gnnrec binary at {args.gnnrec_bin} (--gnnrec-bin)", file=sys.stderr)
        return 1
    torch.set_num_threads(args.threads)
    name = dataset.name
    with tempfile.TemporaryDirectory() as tmp:
        tmp = pathlib.Path(tmp)
        split = tmp / "split"
        gnnrec(args, "data", "split", "--dataset", args.dataset, "--split", "per-user",
               "--train-ratio", 0.8, "--seed", args.seed, "--out", split)
        t = time.perf_counter()
        ours = train_ours(split, "lightgcn", tmp / "lightgcn", args)
        ours_wall = time.perf_counter() - t
        result = {
            "benchmark": "LightGCN training, gnnrec vs PyTorch Geometric, same split and settings",
            "dataset": name,
            "split": f"per-user 80/20, seed {args.seed} (gnnrec data split; a shipped split is kept)",
            "settings": {k: v for k, v in vars(args).items() if k not in ("out", "dataset", "gnnrec_bin")},
            "device": device_name(args),
            "torch_version": torch.__version__,
            "gnnrec": ours_json(ours, ours_wall),
            "popularity": {"recall@20": ours["popularity"]["recall@20"],
                           "ndcg@20": ours["popularity"]["ndcg@20"]},
        }
        if not args.skip_mf:
            result["gnnrec_mf"] = ours_json(train_ours(split, "mf", tmp / "mf", args))
        sides = [s for s, skip in (("pyg", args.skip_pyg), ("official", args.skip_official))
                 if not skip]
        for side in sides:
            if side == "pyg":
                import torch_geometric
                result["pyg_version"] = torch_geometric.__version__
            r = train_pyg(split, args, side)
            if args.timed_batches:
                result[side] = r
                result[f"epoch_speedup_vs_{side}"] = (
                    r["epoch_seconds_estimated_from_batches"] / ours["epoch_seconds"])
                continue
            result[side] = {"epoch_seconds": r["epoch_seconds"],
                            "epoch_seconds_after_first": r["epoch_seconds_after_first"],
                            "epoch_times": r["epoch_times"],
                            "best_epoch": r["best"]["epoch"],
                            "recall@20": r["best"]["recall@20"], "ndcg@20": r["best"]["ndcg@20"],
                            "final": r["final"]}
            result[f"epoch_speedup_vs_{side}"] = r["epoch_seconds"] / ours["epoch_seconds"]
            result[f"epoch_speedup_vs_{side}_after_first"] = (
                r["epoch_seconds_after_first"] / ours["timing"]["epoch_seconds_after_first"])
    out = (pathlib.Path(args.out) if args.out
           else ROOT / "bench" / "results" / f"lightgcn_vs_pyg_{name}_{args.device}.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
