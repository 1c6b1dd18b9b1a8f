"""KGAT epoch time: `gnnrec train --model kgat` against a plain-PyTorch KGAT.

DGL, the usual reference (the KGAT example of dgl), has no release for the
pinned torch (its last PyPI release, 2.1.0, is built against torch 2.1-2.2),
so the reference here is KGAT written for this benchmark in plain PyTorch
(torch.sparse CSR matmul, scatter softmax, torch.optim.Adam), the same
equations as models/kgat.cpp:
  attention  pi(h, r, t) = (W_r e_t)^T tanh(W_r e_h + e_r), softmax over each
             head's triples, recomputed without gradient at the start of
             each epoch
  layer      e_N = A e;  e' = LeakyReLU_0.2(W1 (e + e_N)) + LeakyReLU_0.2(W2 (e * e_N)),
             message dropout 0.1; output [e0; e1/|e1|; ...] (layers dim, dim/2, ...)
  CF phase   BPR over every training interaction once, one uniform negative
             (not a training item of the user) per pair, + reg * 1/2 |ego|^2 / batch,
             full propagation per batch, one Adam step per batch
  KG phase   TransR over every CKG triple once (interactions in both
             directions, KG triples and their inverses), one corrupted tail
             uniform over all nodes per triple, softplus(d(h,r,t) - d(h,r,t'))
             + 1e-5 * 1/2 |e_h, e_r, e_t, e_t'|^2 / batch, one Adam step per batch
Both sides read the same files: the data set's per-user 80/20 split from
`gnnrec data split` and its KG, written once into a KGAT-format folder
(train.txt, test.txt, kg_final.txt), so they see the same interactions,
triples, relations and node counts (checked and recorded in the JSON).

    python bench/kgat_vs_torch.py [--dataset DIR] [--epochs N] [--threads N]
                                  [--batch-size N] [--gnnrec-bin PATH]

--dataset is a KGCN-format folder (user_artists.dat, item_index2entity_id.txt,
kg.txt), by default ../shared/data/kgcn-music; when it is absent, a small
generated KGCN-format data set is used instead (recorded as "generated").
The epoch time is the median over --epochs epochs (training phases only, no
evaluation), side by side in one run, on the CPU with --threads threads.

Writes bench/results/kgat_vs_torch_cpu.json (--out to change).
"""
import argparse
import json
import pathlib
import platform
import random
import statistics
import struct
import subprocess
import sys
import tempfile
import time
import warnings

import torch
import torch.nn.functional as F

ROOT = pathlib.Path(__file__).resolve().parents[1]
LEAKY = 0.2
KG_REG = 1e-5


# --- data ------------------------------------------------------------------

def generate_kgcn_folder(path, users=300, artists=600, genres=12, seed=5):
    """A small KGCN-format data set: each user listens to 12 artists, mostly
    of one genre; each artist links to its genre and to a country."""
    rng = random.Random(seed)
    path.mkdir(parents=True)
    lines = ["userID\tartistID\tweight"]
    for u in range(users):
        g = u % genres
        mine = [a for a in range(artists) if a % genres == g]
        for a in dict.fromkeys(rng.sample(mine, 9) + rng.sample(range(artists), 3)):
            lines.append(f"{u}\t{1000 + a}\t{rng.randint(1, 500)}")
    (path / "user_artists.dat").write_text("\n".join(lines) + "\n")
    (path / "item_index2entity_id.txt").write_text(
        "".join(f"{1000 + a}\t{a}\n" for a in range(artists)))
    kg = []
    for a in range(artists):
        kg.append(f"{a}\tmusic.artist.genre\t{artists + a % genres}")
        kg.append(f"{a}\tmusic.artist.origin\t{artists + genres + a % 7}")
    (path / "kg.txt").write_text("\n".join(kg) + "\n")


def write_kgat_folder(kgcn_dir, split_dir):
    """kg_final.txt beside the split's train.txt/test.txt (dense ids): item
    entities as their dense item ids (items numbered in the numeric order of
    their raw artist ids, as gnnrec's loaders do), the other entities after
    them in numeric order, relations numbered in the sorted order of their
    names. Returns (number of items, number of KG triples)."""
    items = set()
    with open(kgcn_dir / "user_artists.dat") as f:
        next(f)
        for line in f:
            if line.strip():
                items.add(int(line.split()[1]))
    entity_of = {}
    for line in open(kgcn_dir / "item_index2entity_id.txt"):
        if line.strip():
            a, e = line.split()
            entity_of[int(a)] = int(e)
    kept = sorted(a for a in items if a in entity_of)  # dense item order
    dense = {entity_of[a]: i for i, a in enumerate(kept)}
    triples = [line.rstrip("\n").split("\t") for line in open(kgcn_dir / "kg.txt") if line.strip()]
    others = sorted({int(x) for h, _, t in triples for x in (h, t)} - dense.keys())
    for k, e in enumerate(others):
        dense[e] = len(kept) + k
    rel = {name: k for k, name in enumerate(sorted({r for _, r, _ in triples}))}
    (split_dir / "kg_final.txt").write_text(
        "".join(f"{dense[int(h)]} {rel[r]} {dense[int(t)]}\n" for h, r, t in triples))
    n_items_split = 1 + max(int(x) for name in ("train.txt", "test.txt")
                            for line in open(split_dir / name) for x in line.split()[1:])
    assert n_items_split == len(kept), (n_items_split, len(kept))
    return len(kept), len(triples)


def read_pairs(path):
    users, items = [], []
    for line in open(path):
        parts = line.split()
        for i in parts[1:]:
            users.append(int(parts[0]))
            items.append(int(i))
    return torch.tensor(users), torch.tensor(items)


# --- gnnrec ----------------------------------------------------------------

def runtime_env(binary):
    torch_lib = pathlib.Path(torch.__file__).parent / "lib"
    import os
    env = dict(os.environ)
    old = env.get("LD_LIBRARY_PATH", "")
    env["LD_LIBRARY_PATH"] = ":".join([str(binary.parent), str(torch_lib), *([old] if old else [])])
    env["GNNREC_NO_PLOT"] = "1"
    return env


def gnnrec(args, *argv):
    binary = pathlib.Path(args.gnnrec_bin).resolve()
    subprocess.run([str(binary), *map(str, argv)], check=True, stdout=subprocess.DEVNULL,
                   env=runtime_env(binary))


def epoch_times(run):
    """Seconds of each training epoch, from the meta of the run's last
    checkpoint ("GNNRECK1" | uint64 header length | header JSON | ...)."""
    with open(run / "checkpoints" / "last.ckpt", "rb") as f:
        assert f.read(8) == b"GNNRECK1", "not a gnnrec checkpoint"
        (n,) = struct.unpack("<Q", f.read(8))
        return json.loads(f.read(n))["meta"]["epoch_times"]


def train_ours(data, out, args):
    gnnrec(args, "train", "--model", "kgat", "--dataset", data, "--epochs", args.epochs,
           "--eval-every", args.epochs, "--patience", 0, "--dim", args.dim, "--layers",
           args.layers, "--batch-size", args.batch_size, "--lr", args.lr, "--reg", args.reg,
           "--message-dropout", 0.1, "--seed", args.seed, "--threads", args.threads,
           "--out", out, "--overwrite", "--quiet")
    summary = json.loads((out / "summary.json").read_text())
    last = [json.loads(l) for l in (out / "metrics.jsonl").read_text().splitlines() if l.strip()][-1]
    times = epoch_times(out)
    return {"epoch_seconds_median": statistics.median(times), "epoch_times": times,
            "last_epoch_cf_loss": last["loss"], "recall@20": last["metrics"]["recall@20"],
            "train_interactions": summary["train_interactions"], "users": summary["users"],
            "items": summary["items"]}


# --- plain PyTorch KGAT -----------------------------------------------------

class Ckg:
    """The collaborative KG as in models/kgat.cpp build_ckg: nodes are users
    then entities (items first); relation 0 user->item, 1 item->user, 2 + r
    the KG relations r, then their inverses; triples sorted by (h, r, t)."""

    def __init__(self, train_u, train_i, kg, num_users, num_entities, num_kg_relations):
        U = num_users
        h = [train_u, train_i + U]
        r = [torch.zeros_like(train_u), torch.ones_like(train_u)]
        t = [train_i + U, train_u]
        kh, kr, kt = kg
        h += [kh + U, kt + U]
        r += [kr + 2, kr + 2 + num_kg_relations]
        t += [kt + U, kh + U]
        h, r, t = torch.cat(h), torch.cat(r), torch.cat(t)
        n = U + num_entities
        order = torch.argsort((h * (2 + 2 * num_kg_relations) + r) * n + t)
        self.head, self.rel, self.tail = h[order], r[order], t[order]
        self.num_nodes, self.num_relations = n, 2 + 2 * num_kg_relations
        self.rowptr = torch.zeros(n + 1, dtype=torch.long)
        self.rowptr[1:] = torch.cumsum(torch.bincount(self.head, minlength=n), 0)
        self.groups = [(k, (self.rel == k).nonzero().view(-1)) for k in range(self.num_relations)]
        self.groups = [(k, idx) for k, idx in self.groups if idx.numel() > 0]

    @property
    def nnz(self):
        return self.head.numel()


class TorchKgat(torch.nn.Module):
    def __init__(self, ckg, num_users, num_items, dim, layers, dropout, seed):
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        self.ckg, self.U, self.I, self.dropout = ckg, num_users, num_items, dropout
        self.embedding = torch.nn.Parameter(torch.randn(ckg.num_nodes, dim, generator=g) * 0.1)
        self.relation = torch.nn.Parameter(torch.randn(ckg.num_relations, dim, generator=g) * 0.1)
        bound = (6.0 / (2 * dim)) ** 0.5
        self.w = torch.nn.Parameter(torch.empty(ckg.num_relations, dim, dim).uniform_(-bound, bound, generator=g))
        self.w1, self.w2 = torch.nn.ModuleList(), torch.nn.ModuleList()
        d_in = dim
        for l in range(layers):
            d_out = max(1, dim >> l)
            for lst in (self.w1, self.w2):
                lin = torch.nn.Linear(d_in, d_out)
                b = (6.0 / (d_in + d_out)) ** 0.5
                with torch.no_grad():
                    lin.weight.uniform_(-b, b, generator=g)
                    lin.bias.zero_()
                lst.append(lin)
            d_in = d_out
        self.adj = None

    @torch.no_grad()
    def refresh_attention(self):
        c, e = self.ckg, self.embedding
        logits = torch.empty(c.nnz)
        for k, idx in c.groups:
            wr = self.w[k].t()
            ph = e[c.head[idx]] @ wr
            pt = e[c.tail[idx]] @ wr
            logits[idx] = (pt * torch.tanh(ph + self.relation[k])).sum(-1)
        top = torch.full((c.num_nodes,), float("-inf")).scatter_reduce(0, c.head, logits, "amax")
        ex = torch.exp(logits - top[c.head])
        den = torch.zeros(c.num_nodes).index_add_(0, c.head, ex)
        self.adj = torch.sparse_csr_tensor(c.rowptr, c.tail, ex / den[c.head],
                                           size=(c.num_nodes, c.num_nodes))

    def forward(self):
        e = self.embedding
        outs = [e]
        for w1, w2 in zip(self.w1, self.w2):
            en = self.adj @ e
            e = F.leaky_relu(w1(e + en), LEAKY) + F.leaky_relu(w2(e * en), LEAKY)
            e = F.dropout(e, self.dropout, self.training)
            outs.append(F.normalize(e, dim=1))
        return torch.cat(outs, 1)

    def transr(self, rel, h, r, t, t_neg, mode):
        """TransR distances of (h, r, t) and (h, r, t_neg), projections
        L2-normalised. bmm: each triple's W_r gathered ([n, k, d]) and one
        batched matmul (the usual PyTorch KGAT); grouped: one matmul per
        relation of the batch (as models/kgat.cpp)."""
        if mode == "bmm":
            w = self.w[rel]  # [n, k, d]
            proj = lambda x: F.normalize(torch.bmm(w, x.unsqueeze(-1)).squeeze(-1), dim=-1)
            hp = proj(h) + r
            return (hp - proj(t)).pow(2).sum(-1), (hp - proj(t_neg)).pow(2).sum(-1)
        order = torch.argsort(rel, stable=True)
        rel, h, r, t, t_neg = rel[order], h[order], r[order], t[order], t_neg[order]
        values, counts = torch.unique_consecutive(rel, return_counts=True)
        pos, neg, start = [], [], 0
        for k, c in zip(values.tolist(), counts.tolist()):
            wt = self.w[k].t()
            s = slice(start, start + c)
            hp = F.normalize(h[s] @ wt, dim=-1) + r[s]
            pos.append((hp - F.normalize(t[s] @ wt, dim=-1)).pow(2).sum(-1))
            neg.append((hp - F.normalize(t_neg[s] @ wt, dim=-1)).pow(2).sum(-1))
            start += c
        return torch.cat(pos), torch.cat(neg)


def sample_negatives(users, num_items, train_keys, gen):
    """One uniform item per user that is not a training item of the user."""
    neg = torch.randint(num_items, users.shape, generator=gen)
    while True:
        keys = users * num_items + neg
        pos = torch.searchsorted(train_keys, keys).clamp_max(train_keys.numel() - 1)
        bad = train_keys[pos] == keys
        if not bad.any():
            return neg
        neg[bad] = torch.randint(num_items, (int(bad.sum()),), generator=gen)


def train_torch(model, train_u, train_i, args, kg_mode):
    ckg, U, I = model.ckg, model.U, model.I
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    train_keys = torch.sort(train_u * I + train_i).values
    gen = torch.Generator().manual_seed(args.seed)
    m, bs = train_u.numel(), args.batch_size
    times, cf_losses = [], []
    for epoch in range(args.epochs):
        t0 = time.perf_counter()
        model.train()
        model.refresh_attention()
        # CF phase: every interaction once.
        perm = torch.randperm(m, generator=gen)
        users, pos = train_u[perm], train_i[perm]
        neg = sample_negatives(users, I, train_keys, gen)
        total = 0.0
        for s in range(0, m, bs):
            bu, bp, bn = users[s:s + bs], pos[s:s + bs], neg[s:s + bs]
            allrep = model()
            u, ip, jn = allrep[bu], allrep[U + bp], allrep[U + bn]
            loss = F.softplus((u * jn).sum(-1) - (u * ip).sum(-1)).mean()
            ego = model.embedding
            l2 = (ego[bu].pow(2).sum() + ego[U + bp].pow(2).sum() + ego[U + bn].pow(2).sum()) * (0.5 / bu.numel())
            loss = loss + args.reg * l2
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item()
        cf_losses.append(total / ((m + bs - 1) // bs))
        # KG phase: every CKG triple once, one corrupted tail each.
        n = ckg.nnz
        perm = torch.randperm(n, generator=gen)
        tneg = torch.randint(ckg.num_nodes, (n,), generator=gen)
        for s in range(0, n, bs):
            idx = perm[s:s + bs]
            rel = ckg.rel[idx]
            e = model.embedding
            h, t, tn, r = e[ckg.head[idx]], e[ckg.tail[idx]], e[tneg[s:s + bs]], model.relation[rel]
            dp, dn = model.transr(rel, h, r, t, tn, kg_mode)
            l2 = (h.pow(2).sum() + r.pow(2).sum() + t.pow(2).sum() + tn.pow(2).sum()) * (0.5 / idx.numel())
            loss = F.softplus(dp - dn).mean() + KG_REG * l2
            opt.zero_grad()
            loss.backward()
            opt.step()
        times.append(time.perf_counter() - t0)
    return {"epoch_seconds_median": statistics.median(times), "epoch_times": times,
            "last_epoch_cf_loss": cf_losses[-1]}


# --- main ------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dataset", default=str(ROOT.parent / "shared" / "data" / "kgcn-music"),
                    help="KGCN-format folder; a generated one when absent")
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--batch-size", type=int, default=1024, help="CF and KG batch size (both sides)")
    ap.add_argument("--dim", type=int, default=64)
    ap.add_argument("--layers", type=int, default=3, help="layer widths dim, dim/2, ...: 64-32-16")
    ap.add_argument("--lr", type=float, default=1e-4)
    ap.add_argument("--reg", type=float, default=1e-5)
    ap.add_argument("--seed", type=int, default=2020)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--kg-modes", default="bmm,grouped",
                    help="TransR variants of the torch side to time (bmm, grouped)")
    ap.add_argument("--gnnrec-bin", default=str(ROOT / "build" / "gnnrec"))
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "kgat_vs_torch_cpu.json"))
    args = ap.parse_args()
    if not pathlib.Path(args.gnnrec_bin).is_file():
        print(f"kgat_vs_torch: no gnnrec binary at {args.gnnrec_bin} (--gnnrec-bin)", file=sys.stderr)
        return 1
    torch.set_num_threads(args.threads)
    warnings.filterwarnings("ignore", message="Sparse (CSR tensor support|invariant checks)")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = pathlib.Path(tmp)
        source = pathlib.Path(args.dataset)
        name = source.name
        if not (source / "kg.txt").is_file():
            print(f"kgat_vs_torch: {source} not found; using a generated KGCN-format data set")
            source, name = tmp / "generated", "generated"
            generate_kgcn_folder(source)
        data = tmp / "kgat"
        gnnrec(args, "data", "split", "--dataset", source, "--split", "per-user",
               "--train-ratio", 0.8, "--seed", args.seed, "--out", data)
        num_items, kg_triples = write_kgat_folder(source, data)

        t = time.perf_counter()
        ours = train_ours(data, tmp / "run", args)
        ours["wall_seconds"] = time.perf_counter() - t

        train_u, train_i = read_pairs(data / "train.txt")
        kg = torch.tensor([[int(x) for x in line.split()] for line in open(data / "kg_final.txt")])
        kh, kr, kt = kg[:, 0] - 0, kg[:, 1], kg[:, 2]
        num_users = ours["users"]
        num_entities = max(num_items, int(torch.cat([kh, kt]).max()) + 1)
        num_kg_rel = int(kr.max()) + 1
        ckg = Ckg(train_u, train_i, (kh, kr, kt), num_users, num_entities, num_kg_rel)
        # The same work on both sides.
        assert train_u.numel() == ours["train_interactions"], (train_u.numel(), ours)
        assert num_items == ours["items"]
        torch_runs = {}
        for mode in args.kg_modes.split(","):
            model = TorchKgat(ckg, num_users, num_items, args.dim, args.layers, 0.1, args.seed)
            torch_runs[mode] = train_torch(model, train_u, train_i, args, mode)
        fastest = min(torch_runs, key=lambda k: torch_runs[k]["epoch_seconds_median"])

    per_epoch = {"cf_pairs": int(train_u.numel()),
                 "cf_batches": (train_u.numel() + args.batch_size - 1) // args.batch_size,
                 "ckg_triples": ckg.nnz,
                 "kg_batches": (ckg.nnz + args.batch_size - 1) // args.batch_size}
    result = {
        "benchmark": "KGAT epoch time (CF phase + KG phase, no evaluation): gnnrec train "
                     "--model kgat vs a plain-PyTorch KGAT of the same equations",
        "dataset": name,
        "split": f"per-user 80/20, seed {args.seed} (gnnrec data split)",
        "graph": {"users": num_users, "items": num_items, "entities": num_entities,
                  "nodes": ckg.num_nodes, "kg_triples": kg_triples,
                  "relations": ckg.num_relations, "train_interactions": int(train_u.numel())},
        "per_epoch": per_epoch,
        "settings": {"epochs": args.epochs, "batch_size": args.batch_size, "dim": args.dim,
                     "layers": [max(1, args.dim >> l) for l in range(args.layers)],
                     "lr": args.lr, "reg": args.reg, "message_dropout": 0.1, "seed": args.seed,
                     "threads": args.threads},
        "device": f"cpu: {platform.processor() or platform.machine()}, {args.threads} threads",
        "torch_version": torch.__version__,
        "dgl": "not installable for this torch (last PyPI release 2.1.0 targets torch 2.1-2.2)",
        "gnnrec": {k: v for k, v in ours.items() if k not in ("users", "items", "train_interactions")},
        "torch": torch_runs,
        "torch_fastest": fastest,
        "speedup_vs_torch": torch_runs[fastest]["epoch_seconds_median"] / ours["epoch_seconds_median"],
    }
    out = pathlib.Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
