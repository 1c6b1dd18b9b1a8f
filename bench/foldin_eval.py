"""Fold-in evaluated: users held out of training entirely, folded in from
their training interactions, against the same users trained normally.

On MovieLens 100K's split (the one `gnnrec train` uses: per-user 80/20, seed
2020, exported with `gnnrec data split`), a seeded 10 % of the users are
held out:

  trained normally   the model trains on every user's training part; the
                     held-out users' recommendations come from
                     `gnnrec recommend --users FILE` of that run
  folded in          the model trains without the held-out users (their
                     training and test lines removed); each is then folded in
                     from its training part with `gnnrec fold-in --new-users`
                     (MF: least squares; LightGCN: propagation,
                     docs/serving.md)

and both are scored by Recall@20 / NDCG@20 against the held-out users' test
items (their training items excluded, as in the evaluator). Items that only
held-out users interacted with are not in the reduced catalogue: they are
left out of the fold-in lists (they cannot be recommended, and count as
misses). A popularity ranking of the reduced training data is the floor.

    nice -n 19 python3 bench/foldin_eval.py [--gnnrec build/gnnrec] [--epochs 100]

Results go to bench/results/foldin_ml-100k.json.
"""
import argparse
import json
import math
import os
import pathlib
import platform
import random
import subprocess
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
FOLD_IN = {"mf": "least-squares", "lightgcn": "propagation"}


def gnnrec(binary, *args):
    env = {**os.environ, "OMP_NUM_THREADS": "1", "GNNREC_NO_PLOT": "1"}
    r = subprocess.run([binary, *map(str, args)], capture_output=True, text=True, env=env)
    if r.returncode != 0:
        raise SystemExit(f"gnnrec {' '.join(map(str, args))} failed:\n{r.stdout}\n{r.stderr}")
    return r.stdout


def read_lists(path, sep=None):
    """LightGCN text (`user item item ...`) or NAME<TAB>ID,ID lists: user -> items."""
    out = {}
    for line in pathlib.Path(path).read_text().splitlines():
        if not line.strip():
            continue
        if sep:
            name, _, rest = line.partition(sep)
            out[name] = [x for x in rest.split(",") if x]
        else:
            user, *items = line.split()
            out[user] = items
    return out


def write_lightgcn(path, lists):
    path.write_text("".join(f"{u} {' '.join(items)}\n" for u, items in lists.items() if items))


def scores(recs, test, k=20):
    """Mean Recall@k and NDCG@k over the users with test items (the evaluator's
    definitions: recall divides by the number of test items; NDCG's ideal
    ranking puts min(k, |test|) hits first)."""
    recall = ndcg = 0.0
    users = [u for u in test if test[u]]
    for u in users:
        truth = set(test[u])
        ranked = recs.get(u, [])[:k]
        hits = [1.0 if i in truth else 0.0 for i in ranked]
        recall += sum(hits) / len(truth)
        dcg = sum(h / math.log2(j + 2) for j, h in enumerate(hits))
        idcg = sum(1 / math.log2(j + 2) for j in range(min(k, len(truth))))
        ndcg += dcg / idcg
    return {"recall@20": recall / len(users), "ndcg@20": ndcg / len(users), "users": len(users)}


def popularity(train, held_train, k=20):
    count = {}
    for items in train.values():
        for i in items:
            count[i] = count.get(i, 0) + 1
    order = sorted(count, key=lambda i: (-count[i], int(i)))
    recs = {}
    for u, seen in held_train.items():
        seen = set(seen)
        recs[u] = [i for i in order if i not in seen][:k]
    return recs


def train(binary, model, dataset, out, epochs):
    gnnrec(binary, "train", "--model", model, "--dataset", dataset, "--epochs", epochs,
           "--eval-every", 25, "--threads", 1, "--quiet", "--overwrite", "--out", out)
    return json.loads((out / "summary.json").read_text())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--gnnrec", default=str(ROOT / "build" / "gnnrec"))
    ap.add_argument("--dataset", default=str(ROOT.parent / "shared" / "data" / "ml-100k"))
    ap.add_argument("--fraction", type=float, default=0.1)
    ap.add_argument("--seed", type=int, default=2020)
    ap.add_argument("--epochs", type=int, default=100)
    ap.add_argument("--models", default="mf,lightgcn")
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "foldin_ml-100k.json"))
    ap.add_argument("--work", help="keep the splits, runs and lists in this folder")
    args = ap.parse_args()
    load_before = os.getloadavg()
    t0 = time.time()
    with tempfile.TemporaryDirectory(prefix="gnnrec-foldin-") as tmp:
        work = pathlib.Path(args.work or tmp)
        work.mkdir(parents=True, exist_ok=True)
        full, reduced = work / "full", work / "reduced"
        reduced.mkdir(exist_ok=True)
        gnnrec(args.gnnrec, "data", "split", "--dataset", args.dataset, "--out", full)
        train_lists, test_lists = read_lists(full / "train.txt"), read_lists(full / "test.txt")
        users = sorted(train_lists, key=int)
        held = sorted(random.Random(args.seed).sample(users, round(args.fraction * len(users))),
                      key=int)
        kept_train = {u: v for u, v in train_lists.items() if u not in set(held)}
        write_lightgcn(reduced / "train.txt", kept_train)
        write_lightgcn(reduced / "test.txt",
                       {u: v for u, v in test_lists.items() if u not in set(held)})
        catalogue = {i for items in kept_train.values() for i in items}
        held_train = {u: train_lists[u] for u in held}
        held_test = {u: test_lists.get(u, []) for u in held}
        (work / "held.txt").write_text("".join(f"{u}\n" for u in held))
        dropped = sum(1 for u in held for i in held_train[u] if i not in catalogue)
        (work / "new_users.tsv").write_text("".join(
            f"{u}\t{','.join(i for i in held_train[u] if i in catalogue)}\n" for u in held))
        result = {
            "benchmark": "fold-in of users held out of training vs the same users trained normally",
            "dataset": "ml-100k (gnnrec's split: per-user 80/20, seed 2020)",
            "held_out_users": len(held),
            "held_out_fraction": args.fraction,
            "held_out_seed": args.seed,
            "held_out_training_interactions": sum(len(v) for v in held_train.values()),
            "held_out_training_items_not_in_reduced_catalogue": dropped,
            "held_out_test_items_not_in_reduced_catalogue":
                sum(1 for u in held for i in held_test[u] if i not in catalogue),
            "epochs": args.epochs,
            "settings": "gnnrec train defaults: d 64, 3 layers, lr 1e-3, batch 2048, reg 1e-4",
            "popularity_of_reduced_training_data": scores(popularity(kept_train, held_train),
                                                          held_test),
            "models": {},
        }
        for model in args.models.split(","):
            run_full, run_reduced = work / f"{model}-full", work / f"{model}-reduced"
            summary = train(args.gnnrec, model, full, run_full, args.epochs)
            train(args.gnnrec, model, reduced, run_reduced, args.epochs)
            gnnrec(args.gnnrec, "recommend", "--run", run_full, "--users", work / "held.txt",
                   "--k", 20, "--threads", 1, "--out", work / f"{model}-normal.tsv")
            t = time.time()
            gnnrec(args.gnnrec, "fold-in", "--run", run_reduced, "--new-users",
                   work / "new_users.tsv", "--k", 20, "--out", work / f"{model}-foldin.tsv")
            fold_seconds = time.time() - t
            extra = {}
            if FOLD_IN[model] == "least-squares":
                # The ridge weight: the default, the training L2 (--reg), and
                # one large enough that p is the mean of the items' vectors.
                for name, l2 in (("training_l2_1e-4", 1e-4), ("l2_1e6", 1e6)):
                    gnnrec(args.gnnrec, "fold-in", "--run", run_reduced, "--new-users",
                           work / "new_users.tsv", "--k", 20, "--l2", l2, "--out",
                           work / f"{model}-foldin-{name}.tsv")
                    extra[f"folded_in_{name}"] = scores(
                        read_lists(work / f"{model}-foldin-{name}.tsv", "\t"), held_test)
            result["models"][model] = {
                "fold_in": FOLD_IN[model],
                "trained_normally": scores(read_lists(work / f"{model}-normal.tsv", "\t"),
                                           held_test),
                "folded_in": scores(read_lists(work / f"{model}-foldin.tsv", "\t"), held_test),
                **extra,
                "all_test_users_trained_normally": {
                    k: summary["best"][k] for k in ("recall@20", "ndcg@20")},
                "best_epoch_trained_normally": summary["best_epoch"],
                "fold_in_command_seconds": round(fold_seconds, 2),
            }
            print(model, json.dumps(result["models"][model]), flush=True)
    result["seconds"] = round(time.time() - t0, 1)
    result["machine"] = {"platform": platform.platform(), "cpus": os.cpu_count(),
                         "threads": 1, "load_average_before": load_before,
                         "load_average_after": os.getloadavg()}
    result["date"] = time.strftime("%Y-%m-%d")
    pathlib.Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
