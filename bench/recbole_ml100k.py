"""Reference figures from RecBole (LightGCN, NGCF) on gnnrec's own ML-100K split.

The split is the one `gnnrec train` uses (per-user 80/20, seed 2020), exported
with `gnnrec data split` and converted to RecBole atomic files:

    ml100k.train.inter   the training part
    ml100k.valid.inter   a copy of the test part (see below)
    ml100k.test.inter    the test part

and RecBole's `benchmark_filename: [train, valid, test]` keeps that split as it
is (no re-splitting, no filtering, no de-duplication). The valid part is the
test part: RecBole evaluates the valid part every `--eval-every` epochs, so
those evaluations are the test figures at those epochs (both are ranked over
all items with the user's training items masked: for the valid phase RecBole
masks train, for the test phase train+valid-test = train). Early stopping is
off (stopping_step is larger than the number of evaluations) and the model
that is tested at the end is the last one, not the best one.

RecBole needs a Python environment of its own (it is not in the project's):

    python3 -m venv ~/.cache/gnnrec/recbole-venv
    ~/.cache/gnnrec/recbole-venv/bin/pip install torch==2.11.0
    ~/.cache/gnnrec/recbole-venv/bin/pip install --no-deps recbole==1.2.1
    ~/.cache/gnnrec/recbole-venv/bin/pip install numpy scipy "pandas<3" tqdm \
        colorlog==4.7.2 colorama==0.4.4 scikit-learn pyyaml tensorboard \
        tabulate texttable psutil thop plotly
    OMP_NUM_THREADS=1 ~/.cache/gnnrec/recbole-venv/bin/python \
        bench/recbole_ml100k.py [--split DIR] [--epochs N] [--models LightGCN NGCF]

(`--no-deps`: RecBole 1.2.1 pins ray<=2.6.3, which only its hyper-parameter
tuning in recbole.quick_start imports; this script does not import it.
pandas < 3: RecBole fills NaNs with chained in-place fillna, a no-op under
pandas 3's copy-on-write.)

Without --split the script runs `build/gnnrec data split` itself. Results are
merged into bench/results/recbole_ml-100k.json under "<model>_<epochs>ep".
"""
import argparse
import json
import os
import pathlib
import platform
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]

# ---------------------------------------------------------------------------
# Compatibility shims, applied before RecBole is imported (site-packages is
# left untouched).
#
# numpy >= 2 removed np.float_, np.complex_ and np.unicode_; RecBole 1.2.1's
# Config.compatibility_settings() assigns np.float = np.float_ etc. and fails
# with AttributeError without them. Its metrics then use np.float / np.bool.
import numpy as np  # noqa: E402

SHIMS = []
for _name, _value in (("float_", np.float64), ("complex_", np.complex128), ("unicode_", np.str_)):
    if not hasattr(np, _name):
        setattr(np, _name, _value)
        SHIMS.append(f"numpy.{_name} = {_value.__name__} (removed in numpy 2; "
                     "RecBole Config.compatibility_settings reads it)")

# scipy >= 1.13 dropped dok_matrix's dict base class and with it the private
# dict method _update, which RecBole's LightGCN/NGCF call to fill the
# adjacency matrix; dok_matrix.update is the public (checked) equivalent.
import scipy.sparse as sp  # noqa: E402

if not hasattr(sp.dok_matrix, "_update"):
    sp.dok_matrix._update = sp.dok_matrix.update
    SHIMS.append("scipy.sparse.dok_matrix._update = dok_matrix.update (the private dict method "
                 "RecBole's LightGCN/NGCF call is gone in scipy >= 1.13)")

import torch  # noqa: E402


def export_split(dataset, seed, out):
    cmd = [str(ROOT / "build" / "gnnrec"), "data", "split", "--dataset", str(dataset),
           "--seed", str(seed), "--out", str(out)]
    subprocess.run(cmd, check=True)


def read_lightgcn(path):
    """LightGCN text: `user item item ...` per line, dense ids from 0."""
    pairs = []
    for line in open(path):
        parts = line.split()
        if not parts:
            continue
        u = int(parts[0])
        pairs.extend((u, int(i)) for i in parts[1:])
    return pairs


def write_inter(path, pairs):
    with open(path, "w") as f:
        f.write("user_id:token\titem_id:token\n")
        for u, i in pairs:
            f.write(f"{u}\t{i}\n")


def our_full_ranking(model, dataset, train_pairs, test_pairs, k=20):
    """Recall@k / NDCG@k with gnnrec's protocol, on RecBole's trained model:
    all items ranked, the user's training items masked, averaged over users
    with at least one test item. An independent check of RecBole's figures."""
    uid = dataset.field2token_id[dataset.uid_field]
    iid = dataset.field2token_id[dataset.iid_field]
    n_items = dataset.item_num  # includes RecBole's padding item 0
    users = sorted({u for u, _ in test_pairs})
    urow = {u: r for r, u in enumerate(users)}
    inter = {dataset.uid_field: torch.tensor([uid[str(u)] for u in users])}
    from recbole.data.interaction import Interaction
    model.eval()
    with torch.no_grad():
        scores = model.full_sort_predict(Interaction(inter)).view(len(users), n_items).clone()
    scores[:, 0] = -float("inf")
    tu = torch.tensor([urow[u] for u, _ in train_pairs if u in urow])
    ti = torch.tensor([iid[str(i)] for u, i in train_pairs if u in urow])
    scores[tu, ti] = -float("inf")
    truth = torch.zeros_like(scores, dtype=torch.bool)
    truth[torch.tensor([urow[u] for u, _ in test_pairs]),
          torch.tensor([iid[str(i)] for _, i in test_pairs])] = True
    top = scores.topk(k, dim=1).indices
    hits = truth.gather(1, top).double()
    n_test = truth.sum(1)
    disc = 1.0 / torch.log2(torch.arange(2, k + 2, dtype=torch.double))
    dcg = (hits * disc).sum(1)
    idcg = torch.stack([disc[: min(int(n), k)].sum() for n in n_test])
    return {f"recall@{k}": (hits.sum(1) / n_test).mean().item(),
            f"ndcg@{k}": (dcg / idcg).mean().item(),
            "users": len(users)}


def run_model(args, model_name, data_dir, workdir, train_pairs, test_pairs):
    from recbole.config import Config
    from recbole.data import create_dataset, data_preparation
    from recbole.utils import get_model, get_trainer, init_logger, init_seed

    n_evals = max(1, args.epochs // args.eval_every)
    cfg = {
        "data_path": str(data_dir),
        "benchmark_filename": ["train", "valid", "test"],
        "USER_ID_FIELD": "user_id",
        "ITEM_ID_FIELD": "item_id",
        "load_col": {"inter": ["user_id", "item_id"]},
        "use_gpu": False,
        "device": "cpu",
        "worker": 0,
        "seed": args.seed,
        "reproducibility": True,
        "checkpoint_dir": str(workdir / "saved"),
        "show_progress": False,
        "state": "INFO",
        "epochs": args.epochs,
        "train_batch_size": args.batch_size,
        "learner": "adam",
        "learning_rate": args.lr,
        "train_neg_sample_args": {"distribution": "uniform", "sample_num": 1,
                                  "alpha": 1.0, "dynamic": False, "candidate_num": 0},
        "eval_step": args.eval_every,
        "stopping_step": n_evals + 10,  # never stop early
        "weight_decay": 0.0,
        "eval_args": {"split": None, "group_by": "user", "order": "RO", "mode": "full"},
        "metrics": ["Recall", "NDCG", "Precision", "Hit"],
        "topk": [10, 20],
        "valid_metric": "Recall@20",
        "metric_decimal_place": 6,
        "eval_batch_size": 4096,
        "embedding_size": args.dim,
        "reg_weight": args.reg,
    }
    if model_name == "LightGCN":
        cfg.update({"n_layers": args.layers, "require_pow": args.require_pow})
    elif model_name == "NGCF":
        cfg.update({"hidden_size_list": [args.dim] * args.layers,
                    "node_dropout": args.node_dropout,
                    "message_dropout": args.message_dropout})
    else:
        raise SystemExit(f"unsupported model {model_name}")

    config = Config(model=model_name, dataset="ml100k", config_dict=cfg)
    init_seed(config["seed"], config["reproducibility"])
    init_logger(config)
    torch.set_num_threads(args.threads)
    dataset = create_dataset(config)
    train_data, valid_data, test_data = data_preparation(config, dataset)
    init_seed(config["seed"] + config["local_rank"], config["reproducibility"])
    model = get_model(config["model"])(config, train_data._dataset).to(config["device"])
    trainer = get_trainer(config["MODEL_TYPE"], config["model"])(config, model)

    epoch_seconds, evals = [], []
    state = {"epoch": 0}
    orig_train, orig_valid = trainer._train_epoch, trainer._valid_epoch

    def timed_train(train_data, epoch_idx, *a, **kw):
        t0 = time.perf_counter()
        out = orig_train(train_data, epoch_idx, *a, **kw)
        epoch_seconds.append(time.perf_counter() - t0)
        state["epoch"] = epoch_idx + 1
        return out

    def recorded_valid(valid_data, *a, **kw):
        t0 = time.perf_counter()
        score, result = orig_valid(valid_data, *a, **kw)
        row = {"epoch": state["epoch"], "eval_seconds": time.perf_counter() - t0}
        row.update({k: float(v) for k, v in result.items()})
        evals.append(row)
        print(f"[{model_name}] epoch {row['epoch']:4d}  recall@20 {row['recall@20']:.4f}  "
              f"ndcg@20 {row['ndcg@20']:.4f}  precision@20 {row['precision@20']:.4f}  "
              f"hit@20 {row['hit@20']:.4f}", flush=True)
        return score, result

    trainer._train_epoch, trainer._valid_epoch = timed_train, recorded_valid
    t0 = time.perf_counter()
    trainer.fit(train_data, valid_data, saved=False, show_progress=False)
    wall = time.perf_counter() - t0
    test_result = {k: float(v) for k, v in
                   trainer.evaluate(test_data, load_best_model=False, show_progress=False).items()}
    check = our_full_ranking(model, dataset, train_pairs, test_pairs)

    n_params = sum(p.numel() for p in model.parameters())
    return {
        "model": model_name,
        "settings": {
            "epochs": args.epochs, "eval_every": args.eval_every, "lr": args.lr,
            "batch_size": args.batch_size, "reg_weight": args.reg, "dim": args.dim,
            "layers": args.layers, "seed": args.seed, "threads": args.threads,
            **({"require_pow": args.require_pow} if model_name == "LightGCN" else
               {"hidden_size_list": cfg["hidden_size_list"], "node_dropout": args.node_dropout,
                "message_dropout": args.message_dropout}),
            "negatives": "1 uniform per positive, the user's training items rejected",
        },
        "users": int(dataset.user_num - 1), "items": int(dataset.item_num - 1),
        "train_interactions": len(train_pairs), "test_interactions": len(test_pairs),
        "parameters": n_params,
        "epoch_seconds": sum(epoch_seconds) / len(epoch_seconds),
        "epoch_seconds_median": float(np.median(epoch_seconds)),
        "wall_seconds": wall,
        "evaluations": evals,
        "final_test": test_result,
        "check_gnnrec_protocol": check,
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--split", help="directory with train.txt/test.txt from `gnnrec data split`; "
                    "exported afresh when omitted")
    ap.add_argument("--dataset", default=str(ROOT.parent / "shared" / "data" / "ml-100k"))
    ap.add_argument("--models", nargs="+", default=["LightGCN", "NGCF"])
    ap.add_argument("--epochs", type=int, default=100)
    ap.add_argument("--eval-every", type=int, default=25)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--batch-size", type=int, default=2048)
    ap.add_argument("--reg", type=float, default=1e-4)
    ap.add_argument("--dim", type=int, default=64)
    ap.add_argument("--layers", type=int, default=3)
    ap.add_argument("--node-dropout", type=float, default=0.1)
    ap.add_argument("--message-dropout", type=float, default=0.1)
    ap.add_argument("--require-pow", type=lambda s: s.lower() in ("1", "true", "yes"), default=True,
                    help="LightGCN L2 term as sum of squared norms / (2 batch), as gnnrec's loss "
                    "(RecBole's default False uses the plain Frobenius norm / batch)")
    ap.add_argument("--seed", type=int, default=2020)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--workdir", help="scratch directory for atomic files and RecBole logs "
                    "(a temporary one when omitted)")
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "recbole_ml-100k.json"))
    args = ap.parse_args()

    os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))
    torch.set_num_threads(args.threads)
    workdir = pathlib.Path(args.workdir or tempfile.mkdtemp(prefix="recbole-ml100k-"))
    workdir.mkdir(parents=True, exist_ok=True)
    split = pathlib.Path(args.split) if args.split else workdir / "split"
    if not args.split:
        export_split(args.dataset, args.seed, split)

    train_pairs = read_lightgcn(split / "train.txt")
    test_pairs = read_lightgcn(split / "test.txt")
    data_dir = workdir / "atomic"
    (data_dir / "ml100k").mkdir(parents=True, exist_ok=True)
    write_inter(data_dir / "ml100k" / "ml100k.train.inter", train_pairs)
    write_inter(data_dir / "ml100k" / "ml100k.test.inter", test_pairs)
    shutil.copyfile(data_dir / "ml100k" / "ml100k.test.inter", data_dir / "ml100k" / "ml100k.valid.inter")
    print(f"atomic files in {data_dir / 'ml100k'}: {len(train_pairs)} train, {len(test_pairs)} test "
          "(valid = test)", flush=True)

    sys.argv = sys.argv[:1]  # RecBole's Config reads --key=value from the command line
    os.chdir(workdir)  # RecBole writes log/ and log_tensorboard/ under the working directory
    import recbole

    out = pathlib.Path(args.out)
    report = json.loads(out.read_text()) if out.exists() else {}
    report.update({
        "benchmark": "RecBole reference figures on gnnrec's ML-100K split",
        "dataset": "ml-100k",
        "split": "per-user 80/20, seed 2020 (gnnrec data split); RecBole benchmark_filename "
                 "[train, valid, test] with valid = a copy of test",
        "protocol": "RecBole full-sort evaluation: every item ranked, the user's training items "
                    "and RecBole's padding item masked; Recall@K = hits / test items of the user; "
                    "NDCG@K with ideal DCG over min(test items, K); averaged over the users with "
                    "at least one test item",
        "recbole_version": recbole.__version__,
        "torch_version": torch.__version__,
        "numpy_version": np.__version__,
        "python": platform.python_version(),
        "device": f"cpu: {platform.machine()}, {args.threads} thread(s)",
        "shims": SHIMS,
    })
    report.setdefault("runs", {})
    for name in args.models:
        res = run_model(args, name, data_dir, workdir, train_pairs, test_pairs)
        report["runs"][f"{name}_{args.epochs}ep"] = res
        last = res["evaluations"][-1] if res["evaluations"] else res["final_test"]
        print(f"== {name} ({args.epochs} epochs): recall@20 {res['final_test']['recall@20']:.4f}  "
              f"ndcg@20 {res['final_test']['ndcg@20']:.4f}  "
              f"{res['epoch_seconds']:.3f} s/epoch (train only)  "
              f"[gnnrec-protocol check: recall@20 {res['check_gnnrec_protocol']['recall@20']:.4f} "
              f"ndcg@20 {res['check_gnnrec_protocol']['ndcg@20']:.4f}]", flush=True)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    sys.exit(main())
