"""LightGCN epoch time and accuracy: gnnrec against PyTorch Geometric.

Both sides train on the same split (exported by `gnnrec data split`), with the
same hyper-parameters, the same loss (BPR + L2 on the batch's layer-0
embeddings, as in the LightGCN paper), the same initialisation (N(0, 0.1^2))
and uniform negatives that exclude the user's training items, and are
evaluated with the same full-ranking protocol (training items masked). The
PyG side uses torch_geometric.nn.models.LightGCN for propagation.

    python bench/lightgcn_vs_pyg.py [--dataset DIR] [--epochs N] [--eval-every N]

Writes bench/results/lightgcn_vs_pyg_<dataset>.json.
"""
import argparse
import json
import math
import os
import pathlib
import platform
import subprocess
import sys
import tempfile
import time

import torch

ROOT = pathlib.Path(__file__).resolve().parents[1]


def gnnrec(*args):
    cmd = [str(ROOT / "build" / "gnnrec"), *map(str, args)]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)


def read_lightgcn(path):
    users, items = [], []
    for line in open(path):
        parts = line.split()
        for it in parts[1:]:
            users.append(int(parts[0]))
            items.append(int(it))
    return torch.tensor(users), torch.tensor(items)


def full_ranking(user_emb, item_emb, train_u, train_i, test_u, test_i, k=20):
    """Recall@k and NDCG@k, LightGCN definitions, averaged over test users."""
    num_items = item_emb.shape[0]
    scores = user_emb @ item_emb.T
    scores[train_u, train_i] = -math.inf
    top = scores.topk(k, dim=1).indices
    truth = torch.zeros_like(scores, dtype=torch.bool)
    truth[test_u, test_i] = True
    hits = truth.gather(1, top).double()
    n_test = truth.sum(1)
    users = n_test > 0
    discount = 1.0 / torch.log2(torch.arange(2, k + 2, dtype=torch.double))
    dcg = (hits * discount).sum(1)
    idcg = torch.stack([discount[: min(int(n), k)].sum() for n in n_test])
    recall = hits.sum(1) / n_test.clamp(min=1)
    return {f"recall@{k}": recall[users].mean().item(),
            f"ndcg@{k}": (dcg[users] / idcg[users]).mean().item()}


def train_pyg(split, args):
    from torch_geometric.nn.models import LightGCN

    torch.manual_seed(args.seed)
    train_u, train_i = read_lightgcn(split / "train.txt")
    test_u, test_i = read_lightgcn(split / "test.txt")
    U = int(max(train_u.max(), test_u.max())) + 1
    I = int(max(train_i.max(), test_i.max())) + 1
    edge_index = torch.stack([torch.cat([train_u, train_i + U]), torch.cat([train_i + U, train_u])])
    model = LightGCN(U + I, embedding_dim=args.dim, num_layers=args.layers)
    torch.nn.init.normal_(model.embedding.weight, std=0.1)
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    positive = torch.zeros(U, I, dtype=torch.bool)
    positive[train_u, train_i] = True
    m = train_u.numel()
    epoch_times, history, best = [], [], None
    for epoch in range(1, args.epochs + 1):
        t0 = time.perf_counter()
        perm = torch.randperm(m)
        users, pos = train_u[perm], train_i[perm]
        neg = torch.randint(0, I, (m,))
        bad = positive[users, neg]
        while bad.any():  # reject the user's training items
            neg[bad] = torch.randint(0, I, (int(bad.sum()),))
            bad = positive[users, neg]
        for s in range(0, m, args.batch_size):
            u, p, n = users[s:s + args.batch_size], pos[s:s + args.batch_size], neg[s:s + args.batch_size]
            emb = model.get_embedding(edge_index)
            eu, ep, en = emb[u], emb[U + p], emb[U + n]
            bpr = torch.nn.functional.softplus((eu * en).sum(1) - (eu * ep).sum(1)).mean()
            e0 = model.embedding.weight
            l2 = 0.5 * (e0[u].pow(2).sum() + e0[U + p].pow(2).sum() + e0[U + n].pow(2).sum()) / u.numel()
            loss = bpr + args.reg * l2
            opt.zero_grad()
            loss.backward()
            opt.step()
        epoch_times.append(time.perf_counter() - t0)
        if epoch % args.eval_every == 0 or epoch == args.epochs:
            with torch.no_grad():
                emb = model.get_embedding(edge_index)
                metrics = full_ranking(emb[:U], emb[U:], train_u, train_i, test_u, test_i)
            history.append({"epoch": epoch, **metrics})
            if best is None or metrics["recall@20"] > best["recall@20"]:
                best = {"epoch": epoch, **metrics}
            print(f"  pyg epoch {epoch}: {metrics}", file=sys.stderr)
    return {"epoch_seconds": sum(epoch_times) / len(epoch_times), "best": best, "history": history}


def train_ours(split, model, out, args):
    gnnrec("train", "--model", model, "--dataset", split, "--epochs", args.epochs,
           "--eval-every", args.eval_every, "--lr", args.lr, "--batch-size", args.batch_size,
           "--reg", args.reg, "--dim", args.dim, "--layers", args.layers, "--seed", args.seed,
           "--threads", args.threads, "--patience", 0, "--out", out, "--overwrite", "--quiet")
    return json.loads((out / "summary.json").read_text())


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dataset", default=str(ROOT.parent / "shared" / "data" / "ml-100k"))
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
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    dataset = pathlib.Path(args.dataset)
    if not dataset.exists():
        print(f"lightgcn_vs_pyg: {dataset} not found; skipped")
        return 0
    torch.set_num_threads(args.threads)
    name = dataset.name
    with tempfile.TemporaryDirectory() as tmp:
        tmp = pathlib.Path(tmp)
        split = tmp / "split"
        gnnrec("data", "split", "--dataset", dataset, "--split", "per-user", "--train-ratio", 0.8,
               "--seed", args.seed, "--out", split)
        t = time.perf_counter()
        ours = train_ours(split, "lightgcn", tmp / "lightgcn", args)
        ours_wall = time.perf_counter() - t
        mf = train_ours(split, "mf", tmp / "mf", args)
        result = {
            "benchmark": "LightGCN training, gnnrec vs PyTorch Geometric, same split and settings",
            "dataset": name,
            "split": f"per-user 80/20, seed {args.seed} (gnnrec data split)",
            "settings": {k: v for k, v in vars(args).items() if k not in ("out", "dataset")},
            "device": f"cpu: {platform.processor() or platform.machine()}, {args.threads} threads",
            "torch_version": torch.__version__,
            "gnnrec": {"epoch_seconds": ours["epoch_seconds"], "best_epoch": ours["best_epoch"],
                       "recall@20": ours["best"]["recall@20"], "ndcg@20": ours["best"]["ndcg@20"],
                       "wall_seconds": ours_wall},
            "gnnrec_mf": {"epoch_seconds": mf["epoch_seconds"], "best_epoch": mf["best_epoch"],
                          "recall@20": mf["best"]["recall@20"], "ndcg@20": mf["best"]["ndcg@20"]},
            "popularity": {"recall@20": ours["popularity"]["recall@20"],
                           "ndcg@20": ours["popularity"]["ndcg@20"]},
        }
        if not args.skip_pyg:
            import torch_geometric
            pyg = train_pyg(split, args)
            result["pyg_version"] = torch_geometric.__version__
            result["pyg"] = {"epoch_seconds": pyg["epoch_seconds"], "best_epoch": pyg["best"]["epoch"],
                             "recall@20": pyg["best"]["recall@20"], "ndcg@20": pyg["best"]["ndcg@20"]}
            result["epoch_speedup_vs_pyg"] = pyg["epoch_seconds"] / ours["epoch_seconds"]
    out = pathlib.Path(args.out) if args.out else ROOT / "bench" / "results" / f"lightgcn_vs_pyg_{name}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
