"""Reference figures from RecBole 1.2.1 on gnnrec's own ML-100K split, beside gnnrec's.

Models: LightGCN, NGCF, ItemKNN, UserKNN (RecBole's ItemKNN with knn_method
user), NeuMF with its halves GMF and MLP (RecBole's
NeuMF with mlp_train / mf_train off), DMF, MultiVAE, MultiDAE, FM, WideDeep,
DCN, FFM and GRU4Rec (--protocol sequential). Each model is trained by RecBole
and then by `build/gnnrec train` with the same settings (model_spec below; the
BCE models: --negatives uniform negatives per positive, --batch-size positives
per batch), so both sides come from one run of the script.

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
        [--protocol full|sampled|sequential] [--threads T] [--no-gnnrec]

The feature models (FM, WideDeep, DCN, FFM) read ml100k.user (age group,
gender, occupation) and ml100k.item (genres as a token_seq), written from
u.user and u.item with the values gnnrec's loader gives its feature fields.
`--protocol sampled` exports the leave-one-out split by time instead
(`gnnrec data split --split loo`): RecBole's valid phase (the test part) then
ranks each test item among 99 sampled items (eval_args mode uni99), gnnrec
runs `--split loo --eval sampled --eval-negatives 99`, and both also report
full ranking.

`--protocol sequential` (GRU4Rec, which RecBole feeds from its own
sequential pipeline, not from a fixed split) defines the protocol on both
sides instead of sharing a split: RecBole reads ml100k.inter (user_id,
item_id, timestamp, u.data's rows in file order, gnnrec's dense ids) with
eval_args {split: {LS: valid_and_test}, order: TO, mode: full}: each user's
interactions sorted by time (a stable sort, so ties keep file order), the
last tested, the one before validated (the figures recorded every
--eval-every epochs), every item ranked, nothing masked; gnnrec runs
`--split loo`, whose test item is the latest by time, among equals the later
row of u.data, the same item (the script counts the users where they differ).
The script also ranks RecBole's model by gnnrec's protocol (every item, the
user's training items masked).

(`--no-deps`: RecBole 1.2.1 pins ray<=2.6.3, which only its hyper-parameter
tuning in recbole.quick_start imports; this script does not import it.
pandas < 3: RecBole fills NaNs with chained in-place fillna, a no-op under
pandas 3's copy-on-write.)

Without --split the script runs `build/gnnrec data split` itself. Results are
merged into bench/results/recbole_ml-100k.json under "<model>_<epochs>ep" (with
"_sampled" under --protocol sampled), gnnrec's figures under the run's "gnnrec".
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


def export_split(dataset, seed, split, out):
    cmd = [str(ROOT / "build" / "gnnrec"), "data", "split", "--dataset", str(dataset),
           "--seed", str(seed), "--split", split, "--out", str(out)]
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


def dense_ids(dataset):
    """gnnrec's dense ids of u.data's raw user and item ids: their sorted order."""
    users, items = set(), set()
    for line in open(pathlib.Path(dataset) / "u.data"):
        f = line.split()
        users.add(int(f[0]))
        items.add(int(f[1]))
    return ({raw: d for d, raw in enumerate(sorted(users))},
            {raw: d for d, raw in enumerate(sorted(items))})


def write_sequence_inter(dataset, path):
    """u.data as a RecBole atomic file with timestamps, rows in file order,
    gnnrec's dense ids; returns the number of users whose latest timestamp is
    shared by two or more of their rows (where the tie-break decides the test
    item)."""
    udense, idense = dense_ids(dataset)
    rows = [[int(v) for v in line.split()] for line in open(pathlib.Path(dataset) / "u.data")]
    # The timestamp written is its rank among the distinct ones: RecBole keeps
    # float fields as float32, which rounds 9-digit seconds to 64 s and so
    # would tie (and reorder) interactions that are not tied.
    rank = {t: r for r, t in enumerate(sorted({t for *_, t in rows}))}
    latest = {}
    with open(path, "w") as out:
        out.write("user_id:token\titem_id:token\ttimestamp:float\n")
        for u, i, _, t in rows:
            out.write(f"{udense[u]}\t{idense[i]}\t{rank[t]}\n")
            top, n = latest.get(u, (t, 0))
            latest[u] = (t, 1) if t > top else (top, n + (t == top))
    return sum(n > 1 for _, n in latest.values())


AGE_LOW = (1, 18, 25, 35, 45, 50, 56)  # MovieLens' age groups, as graph/kg_loaders.cpp


def write_features(dataset, out_dir):
    """ml100k.user (age group, gender, occupation) and ml100k.item (genres)
    from MovieLens 100K's u.user and u.item, keyed by gnnrec's dense ids (the
    sorted raw ids of u.data, as `gnnrec data split` writes them), the values
    gnnrec's loader gives its feature fields (models/feature_fields.h)."""
    dataset = pathlib.Path(dataset)
    udense, idense = dense_ids(dataset)
    with open(out_dir / "ml100k.user", "w") as out:
        out.write("user_id:token\tage:token\tgender:token\toccupation:token\n")
        for line in open(dataset / "u.user", encoding="latin-1"):
            uid, age, gender, occupation, _ = line.rstrip("\n").split("|")
            if int(uid) in udense:
                group = max(low for low in AGE_LOW if int(age) >= low)
                out.write(f"{udense[int(uid)]}\t{group}\t{gender}\t{occupation}\n")
    with open(out_dir / "ml100k.item", "w") as out:
        out.write("item_id:token\tgenre:token_seq\n")
        for line in open(dataset / "u.item", encoding="latin-1"):
            f = line.rstrip("\n").split("|")
            if int(f[0]) in idense:
                genres = " ".join(str(g) for g, flag in enumerate(f[5:]) if flag == "1")
                out.write(f"{idense[int(f[0])]}\t{genres}\n")


def score_all(model, dataset, users, test_data=None):
    """RecBole's scores of `users` (RecBole ids) against every item, as its
    trainer computes them: full_sort_predict, or predict over every (user,
    item) pair with the user's and the item's features joined; a sequential
    model's from its test batches (each user's sequence before its test item)."""
    from recbole.data.interaction import Interaction
    if test_data is not None:
        rows = torch.full((len(users), dataset.item_num), -float("inf"))
        where = {int(u): r for r, u in enumerate(users)}
        for inter, _, _, _ in test_data:
            at = torch.tensor([where[int(u)] for u in inter[dataset.uid_field]])
            rows[at] = model.full_sort_predict(inter).view(len(inter), dataset.item_num)
        return rows
    inter = dataset.join(Interaction({dataset.uid_field: users}))
    try:
        return model.full_sort_predict(inter).view(len(users), dataset.item_num)
    except NotImplementedError:
        items = dataset.get_item_feature()
        rows = []
        for start in range(0, len(users), 64):
            block = inter[start:start + 64]
            pairs = block.repeat_interleave(dataset.item_num)
            pairs.update(items.repeat(len(block)))
            rows.append(model.predict(pairs).view(len(block), dataset.item_num))
        return torch.cat(rows)


def our_full_ranking(model, dataset, train_pairs, test_pairs, test_data=None, k=20):
    """Recall@k / NDCG@k with gnnrec's protocol, on RecBole's trained model:
    all items ranked, the user's training items masked, averaged over users
    with at least one test item. An independent check of RecBole's figures."""
    uid = dataset.field2token_id[dataset.uid_field]
    iid = dataset.field2token_id[dataset.iid_field]
    users = sorted({u for u, _ in test_pairs})
    urow = {u: r for r, u in enumerate(users)}
    model.eval()
    with torch.no_grad():
        scores = score_all(model, dataset, torch.tensor([uid[str(u)] for u in users]),
                           test_data).clone()
    scores[:, 0] = -float("inf")  # RecBole's padding item
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


# How each model is trained: "pairwise" (BPR, 1 negative per positive),
# "pointwise" (BCE, --negatives per positive), "none" (the model's own loss
# over the batch's users, or no training).
GRAPH = {"LightGCN", "NGCF"}
POINTWISE = {"NeuMF", "GMF", "MLP", "DMF", "FM", "WideDeep", "DCN", "FFM"}
CONTEXT = {"FM", "WideDeep", "DCN", "FFM"}  # read the .user/.item features
KNN = {"ItemKNN", "UserKNN"}  # RecBole: ItemKNN with knn_method item / user
AUTOENCODERS = {"MultiVAE", "MultiDAE"}
SEQUENTIAL = {"GRU4Rec"}  # --protocol sequential only
MODELS = sorted(GRAPH | POINTWISE | KNN | AUTOENCODERS | SEQUENTIAL)


def model_spec(name, args):
    """(RecBole model, its settings, gnnrec's --model, gnnrec's model flags),
    the same hyper-parameters on both sides."""
    d, rb, ours = args.dim, {}, []
    if name == "LightGCN":
        rb = {"n_layers": args.layers, "require_pow": args.require_pow}
        ours = ["--layers", str(args.layers)]
    elif name == "NGCF":
        rb = {"hidden_size_list": [d] * args.layers, "node_dropout": args.node_dropout,
              "message_dropout": args.message_dropout}
        ours = ["--layers", str(args.layers), "--node-dropout", str(args.node_dropout),
                "--message-dropout", str(args.message_dropout)]
    elif name in ("NeuMF", "GMF", "MLP"):
        rb = {"mf_embedding_size": d, "mlp_embedding_size": d, "mlp_hidden_size": [2 * d, d],
              "dropout_prob": 0.1, "mf_train": name != "MLP", "mlp_train": name != "GMF"}
        ours = ["--hidden", f"{2 * d},{d}"] + (["--dropout", "0.1"] if name != "GMF" else [])
    elif name == "DMF":
        rb = {"inter_matrix_type": "01", "user_embedding_size": d, "item_embedding_size": d,
              "user_hidden_size_list": [d, d], "item_hidden_size_list": [d, d]}
        ours = ["--hidden", f"{d},{d}"]
    elif name in ("ItemKNN", "UserKNN"):
        rb = {"k": 100, "shrink": 0.0, "knn_method": "item" if name == "ItemKNN" else "user"}
        ours = ["--knn-neighbors", "100", "--shrink", "0"]
    elif name in ("MultiVAE", "MultiDAE"):
        # RecBole's MultiVAE latent_dimension holds mu and log sigma^2: 128 is a 64-wide latent.
        rb = {"mlp_hidden_size": [600], "dropout_prob": 0.5,
              "latent_dimension": 128 if name == "MultiVAE" else 64}
        ours = ["--vae-hidden", "600", "--vae-latent", "64", "--dropout", "0.5"]
        if name == "MultiVAE":
            rb.update({"anneal_cap": 0.2, "total_anneal_steps": 200000})
            ours += ["--anneal-cap", "0.2", "--anneal-steps", "200000"]
    elif name == "FM" or name == "FFM":
        rb = {"embedding_size": d} if name == "FM" else {"embedding_size": d, "fields": None}
    elif name == "WideDeep":
        rb = {"embedding_size": d, "mlp_hidden_size": [32, 16, 8], "dropout_prob": 0.1}
        ours = ["--hidden", "32,16,8", "--dropout", "0.1"]
    elif name == "GRU4Rec":
        # RecBole's loss_type CE is the softmax cross-entropy over all items,
        # gnnrec's gru4rec --loss bce. RecBole drops out the input embeddings,
        # gnnrec the hidden state (the paper's place), both with p 0.5.
        # MAX_ITEM_LIST_LENGTH: RecBole's default, the last 50 items read.
        rb = {"embedding_size": d, "hidden_size": d, "num_layers": 1, "dropout_prob": 0.5,
              "loss_type": "CE", "MAX_ITEM_LIST_LENGTH": 50}
        ours = ["--dropout", "0.5"]
    elif name == "DCN":
        # reg_weight 0: RecBole's extra L2 on the cross weights, which gnnrec has not.
        rb = {"embedding_size": d, "mlp_hidden_size": [256, 256, 256], "cross_layer_num": 6,
              "reg_weight": 0.0, "dropout_prob": 0.2}
        ours = ["--hidden", "256,256,256", "--layers", "6", "--dropout", "0.2"]
    else:
        raise SystemExit(f"unsupported model {name} (supported: {' '.join(MODELS)})")
    recbole_model = {"GMF": "NeuMF", "MLP": "NeuMF", "UserKNN": "ItemKNN"}.get(name, name)
    gnnrec_model = {"LightGCN": "lightgcn", "NGCF": "ngcf", "NeuMF": "neumf", "GMF": "gmf",
                    "MLP": "mlp", "DMF": "dmf", "ItemKNN": "itemknn", "UserKNN": "userknn",
                    "MultiVAE": "multvae", "MultiDAE": "multdae", "FM": "fm", "FFM": "ffm",
                    "WideDeep": "widedeep", "DCN": "dcn", "GRU4Rec": "gru4rec"}[name]
    return recbole_model, rb, gnnrec_model, ours


def training(name, args):
    """The training settings both sides share: (negatives, loss, reg)."""
    if name in GRAPH:
        return 1, "bpr", args.reg if args.reg is not None else 1e-4
    if name in POINTWISE:
        return args.negatives, "bce", args.reg if args.reg is not None else 0.0
    if name in SEQUENTIAL:  # no L2: gru4rec's registered --reg, RecBole's weight_decay default
        return 0, "bce", args.reg if args.reg is not None else 0.0
    return 0, None, args.reg if args.reg is not None else 0.0


def same_test_items(dataset, test_data, test_pairs):
    """Users whose test item in RecBole's leave-one-out (its test batches)
    is gnnrec's (`gnnrec data split --split loo`), and the users compared."""
    ours = dict(test_pairs)
    same = users = 0
    for inter, _, _, _ in test_data:
        for u, i in zip(dataset.id2token(dataset.uid_field, inter[dataset.uid_field]),
                        dataset.id2token(dataset.iid_field, inter[dataset.iid_field])):
            users += 1
            same += ours.get(int(u)) == int(i)
    return same, users


def recbole_config(args, model_name, data_dir, workdir, train_pairs):
    """RecBole's config_dict for the model: the split as it is, the shared
    training settings, the protocol, and the model's own settings."""
    _, model_cfg, _, _ = model_spec(model_name, args)
    negatives, loss, reg = training(model_name, args)
    epochs = 1 if model_name in KNN else args.epochs
    n_evals = max(1, epochs // args.eval_every)
    sampled = args.protocol == "sampled"
    sequential = args.protocol == "sequential"
    load_col = {"inter": ["user_id", "item_id"] + (["timestamp"] if sequential else [])}
    if model_name in CONTEXT:
        load_col.update({"user": ["user_id", "age", "gender", "occupation"],
                         "item": ["item_id", "genre"]})
    cfg = {
        "data_path": str(data_dir),
        "benchmark_filename": ["train", "valid", "test"],
        "USER_ID_FIELD": "user_id",
        "ITEM_ID_FIELD": "item_id",
        "load_col": load_col,
        "use_gpu": False,
        "device": "cpu",
        "worker": 0,
        "seed": args.seed,
        "reproducibility": True,
        "checkpoint_dir": str(workdir / "saved"),
        "show_progress": False,
        "state": "INFO",
        "epochs": epochs,
        # A batch of --batch-size positives, each with its negatives (RecBole
        # counts the negatives in train_batch_size, gnnrec does not).
        "train_batch_size": args.batch_size * (1 + negatives if loss == "bce" else 1),
        "learner": "adam",
        "learning_rate": args.lr,
        "train_neg_sample_args": ({"distribution": "uniform", "sample_num": negatives,
                                   "alpha": 1.0, "dynamic": False, "candidate_num": 0}
                                  if negatives else None),
        "eval_step": args.eval_every,
        "stopping_step": n_evals + 10,  # never stop early
        "weight_decay": reg if sequential else 0.0,
        # Under the sampled protocol the valid phase (a copy of the test part)
        # ranks each test item among --eval-negatives sampled ones, and the
        # test phase is full ranking.
        # Under --protocol sequential RecBole makes the leave-one-out by time.
        "eval_args": {"split": {"LS": "valid_and_test"} if sequential else None,
                      "group_by": "user", "order": "TO" if sequential else "RO",
                      "mode": ({"valid": f"uni{args.eval_negatives}", "test": "full"} if sampled
                               else "full")},
        "metrics": ["Recall", "NDCG", "Precision", "Hit"],
        "topk": [10, 20],
        "valid_metric": "Hit@10" if sampled else "Recall@20",
        "metric_decimal_place": 6,
        "eval_batch_size": 4096,
        "embedding_size": args.dim,
        "reg_weight": reg,
    }
    cfg.update(model_cfg)
    if sequential:
        del cfg["benchmark_filename"]  # ml100k.inter, split by RecBole
        cfg["TIME_FIELD"] = "timestamp"
    if model_name in AUTOENCODERS:
        # RecBole trains these on batches of users (an epoch: each user once),
        # gnnrec on batches of pairs that bring their users: as many users per
        # batch as give both the same number of updates per epoch.
        updates = -(-len(train_pairs) // args.batch_size)
        cfg["train_batch_size"] = -(-len({u for u, _ in train_pairs}) // updates)
    return cfg


def run_model(args, model_name, data_dir, workdir, train_pairs, test_pairs):
    from recbole.config import Config
    from recbole.data import create_dataset, data_preparation
    from recbole.utils import get_model, get_trainer, init_logger, init_seed

    recbole_model, model_cfg, _, _ = model_spec(model_name, args)
    negatives, loss, reg = training(model_name, args)
    sampled = args.protocol == "sampled"
    # Under --protocol sequential the figures every --eval-every epochs are
    # the validation item's, the test item's only at the end.
    prefix = {"sampled": "sampled/", "sequential": "valid/"}.get(args.protocol, "")
    cfg = recbole_config(args, model_name, data_dir, workdir, train_pairs)
    epochs = cfg["epochs"]
    config = Config(model=recbole_model, dataset="ml100k", config_dict=cfg)
    init_seed(config["seed"], config["reproducibility"])
    init_logger(config)
    torch.set_num_threads(args.threads)
    dataset = create_dataset(config)
    train_data, valid_data, test_data = data_preparation(config, dataset)
    init_seed(config["seed"] + config["local_rank"], config["reproducibility"])
    t0 = time.perf_counter()
    model = get_model(config["model"])(config, train_data._dataset).to(config["device"])
    init_seconds = time.perf_counter() - t0  # ItemKNN computes its neighbours here
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
        row.update({prefix + k: float(v) for k, v in result.items()})
        evals.append(row)
        shown = [prefix + m for m in (["hit@10", "ndcg@10"] if sampled else ["recall@20", "ndcg@20"])]
        print(f"[{model_name}] epoch {row['epoch']:4d}  " +
              "  ".join(f"{k} {row[k]:.4f}" for k in shown), flush=True)
        return score, result

    trainer._train_epoch, trainer._valid_epoch = timed_train, recorded_valid
    t0 = time.perf_counter()
    trainer.fit(train_data, valid_data, saved=False, show_progress=False)
    wall = time.perf_counter() - t0
    test_result = {k: float(v) for k, v in
                   trainer.evaluate(test_data, load_best_model=False, show_progress=False).items()}
    if sampled and evals:
        test_result.update({k: v for k, v in evals[-1].items() if k.startswith("sampled/")})
    sequential = test_data if args.protocol == "sequential" else None
    check = our_full_ranking(model, dataset, train_pairs, test_pairs, sequential)
    if sequential:
        check["same_test_item_users"], check["test_users"] = same_test_items(
            dataset, test_data, test_pairs)

    n_params = sum(p.numel() for p in model.parameters())
    return {
        "model": model_name,
        "recbole_model": recbole_model,
        "settings": {
            "epochs": epochs, "eval_every": args.eval_every, "lr": args.lr,
            "batch_size": args.batch_size, "train_batch_size": cfg["train_batch_size"],
            "reg_weight": reg, "dim": args.dim, "seed": args.seed, "threads": args.threads,
            "protocol": args.protocol, **model_cfg,
            "loss": loss or "the model's own",
            "negatives": (f"{negatives} uniform per positive, the user's training items rejected"
                          if negatives else "none"),
        },
        "users": int(dataset.user_num - 1), "items": int(dataset.item_num - 1),
        "train_interactions": len(train_pairs), "test_interactions": len(test_pairs),
        "parameters": n_params,
        "init_seconds": init_seconds,
        "epoch_seconds": sum(epoch_seconds) / len(epoch_seconds),
        "epoch_seconds_median": float(np.median(epoch_seconds)),
        "wall_seconds": wall,
        "evaluations": evals,
        "final_test": test_result,
        "check_gnnrec_protocol": check,
    }


def run_gnnrec(args, model_name, workdir):
    """gnnrec's run of the same model with the same settings: `gnnrec train`
    on the data set itself (its split is the exported one), the figures of
    its last evaluation and its mean seconds per epoch."""
    _, _, ours, flags = model_spec(model_name, args)
    negatives, loss, reg = training(model_name, args)
    epochs = 1 if model_name in KNN else args.epochs
    out = workdir / f"gnnrec-{model_name}-{args.protocol}"
    cmd = [str(args.gnnrec), "train", "--model", ours, "--dataset", str(args.dataset),
           "--seed", str(args.seed), "--epochs", str(epochs),
           "--eval-every", str(min(args.eval_every, epochs)), "--lr", str(args.lr),
           "--batch-size", str(args.batch_size), "--dim", str(args.dim), "--reg", str(reg),
           "--threads", str(args.threads), "--out", str(out), "--overwrite", "--quiet"] + flags
    if loss:
        cmd += ["--loss", loss] + (["--negatives", str(negatives)] if negatives else [])
    if args.protocol == "sequential":
        cmd += ["--split", "loo"]
    if args.protocol == "sampled":
        cmd += ["--split", "loo", "--eval", "sampled", "--eval-negatives", str(args.eval_negatives)]
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL,
                   env={**os.environ, "GNNREC_NO_PLOT": "1"})
    wall = time.perf_counter() - t0
    summary = json.loads((out / "summary.json").read_text())
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    return {
        "command": " ".join(["build/gnnrec"] + cmd[1:]).replace(str(out), "RUN"),
        "epoch_seconds": summary["epoch_seconds"],
        "eval_seconds": summary["eval_seconds"],
        "wall_seconds": wall,
        "threads": summary["threads"],
        "evaluations": rows,
        "final_test": rows[-1]["metrics"],
    }


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--split", help="directory with train.txt/test.txt from `gnnrec data split`; "
                    "exported afresh when omitted")
    ap.add_argument("--dataset", default=str(ROOT.parent / "shared" / "data" / "ml-100k"))
    ap.add_argument("--models", nargs="+", default=["LightGCN", "NGCF"], choices=MODELS)
    ap.add_argument("--protocol", choices=["full", "sampled", "sequential"], default="full",
                    help="full: the per-user 80/20 split, full ranking; sampled: NCF's protocol, "
                    "the leave-one-out split by time, each test item ranked among "
                    "--eval-negatives sampled ones (HR@10, NDCG@10), beside full ranking; "
                    "sequential (GRU4Rec only): leave-one-out by time made by each side, "
                    "the item before the test item validated, full ranking")
    ap.add_argument("--eval-negatives", type=int, default=99)
    ap.add_argument("--epochs", type=int, default=100)
    ap.add_argument("--eval-every", type=int, default=25)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--batch-size", type=int, default=2048, help="positive pairs per batch")
    ap.add_argument("--negatives", type=int, default=4,
                    help="negatives per positive of the BCE models (NeuMF, DMF, FM, ...)")
    ap.add_argument("--reg", type=float, default=None,
                    help="L2 weight (default: 1e-4 for LightGCN and NGCF, 0 for the others, "
                    "RecBole's defaults)")
    ap.add_argument("--dim", type=int, default=64)
    ap.add_argument("--layers", type=int, default=3)
    ap.add_argument("--node-dropout", type=float, default=0.1)
    ap.add_argument("--message-dropout", type=float, default=0.1)
    ap.add_argument("--require-pow", type=lambda s: s.lower() in ("1", "true", "yes"), default=True,
                    help="LightGCN L2 term as sum of squared norms / (2 batch), as gnnrec's loss "
                    "(RecBole's default False uses the plain Frobenius norm / batch)")
    ap.add_argument("--seed", type=int, default=2020)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--no-gnnrec", action="store_true",
                    help="RecBole's side only (by default each model is also trained by "
                    "build/gnnrec with the same settings)")
    ap.add_argument("--workdir", help="scratch directory for atomic files and RecBole logs "
                    "(a temporary one when omitted)")
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "recbole_ml-100k.json"))
    return ap.parse_args()


def main():
    args = parse_args()
    if (args.protocol == "sequential") != all(m in SEQUENTIAL for m in args.models):
        raise SystemExit(f"--protocol sequential is for {' '.join(sorted(SEQUENTIAL))} and "
                         "those models run only under it")
    args.gnnrec = ROOT / "build" / "gnnrec"
    args.dataset = str(pathlib.Path(args.dataset).resolve())

    os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))
    torch.set_num_threads(args.threads)
    workdir = pathlib.Path(args.workdir or tempfile.mkdtemp(prefix="recbole-ml100k-")).resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    split = pathlib.Path(args.split) if args.split else workdir / f"split-{args.protocol}"
    if not args.split:
        export_split(args.dataset, args.seed, "per-user" if args.protocol == "full" else "loo", split)

    train_pairs = read_lightgcn(split / "train.txt")
    test_pairs = read_lightgcn(split / "test.txt")
    data_dir = workdir / f"atomic-{args.protocol}"
    (data_dir / "ml100k").mkdir(parents=True, exist_ok=True)
    tied = None
    if args.protocol == "sequential":
        tied = write_sequence_inter(args.dataset, data_dir / "ml100k" / "ml100k.inter")
        print(f"{data_dir / 'ml100k' / 'ml100k.inter'}: u.data with timestamps; {tied} users' "
              "latest timestamp is tied", flush=True)
    else:
        write_inter(data_dir / "ml100k" / "ml100k.train.inter", train_pairs)
        write_inter(data_dir / "ml100k" / "ml100k.test.inter", test_pairs)
        shutil.copyfile(data_dir / "ml100k" / "ml100k.test.inter",
                        data_dir / "ml100k" / "ml100k.valid.inter")
        print(f"atomic files in {data_dir / 'ml100k'}: {len(train_pairs)} train, "
              f"{len(test_pairs)} test (valid = test)", flush=True)
    if CONTEXT & set(args.models):
        write_features(args.dataset, data_dir / "ml100k")

    sys.argv = sys.argv[:1]  # RecBole's Config reads --key=value from the command line
    os.chdir(workdir)  # RecBole writes log/ and log_tensorboard/ under the working directory
    import recbole

    out = pathlib.Path(args.out)
    report = json.loads(out.read_text()) if out.exists() else {}
    report.update({
        "benchmark": "RecBole reference figures on gnnrec's ML-100K split",
        "dataset": "ml-100k",
        "split": "per-user 80/20, seed 2020 (gnnrec data split); RecBole benchmark_filename "
                 "[train, valid, test] with valid = a copy of test. Runs keyed ..._sampled: "
                 "leave-one-out by time (gnnrec data split --split loo). Runs keyed "
                 "..._sequential: leave-one-out by time made by each side (RecBole eval_args "
                 "split LS valid_and_test, order TO, on u.data with timestamps; gnnrec --split "
                 "loo), RecBole's evaluations before the last on the validation item",
        "protocol": "RecBole full-sort evaluation: every item ranked, the user's training items "
                    "and RecBole's padding item masked; Recall@K = hits / test items of the user; "
                    "NDCG@K with ideal DCG over min(test items, K); averaged over the users with "
                    "at least one test item. Runs keyed ..._sampled also rank each test item "
                    "among 99 sampled items the user has not interacted with (RecBole "
                    "eval_args mode uni99 on the valid phase; gnnrec --eval sampled). Runs keyed "
                    "..._sequential: RecBole masks nothing (its sequential evaluation), "
                    "check_gnnrec_protocol masks the training items",
        "recbole_version": recbole.__version__,
        "torch_version": torch.__version__,
        "numpy_version": np.__version__,
        "python": platform.python_version(),
        "device": f"cpu: {platform.machine()}, {args.threads} thread(s)",
        "shims": SHIMS,
    })
    report.setdefault("runs", {})
    shown = (["sampled/hit@10", "sampled/ndcg@10"] if args.protocol == "sampled" else []) + \
        ["recall@20", "ndcg@20"] + (["hit@10", "ndcg@10"] if args.protocol == "sequential" else [])
    def save(name, res):
        key = f"{name}_{res['settings']['epochs']}ep" + \
            ("" if args.protocol == "full" else "_" + args.protocol)
        report["runs"][key] = res
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(report, indent=2) + "\n")

    for name in args.models:
        res = run_model(args, name, data_dir, workdir, train_pairs, test_pairs)
        if tied is not None:
            res["users_with_tied_latest_timestamp"] = tied
        save(name, res)
        print(f"== {name} ({res['settings']['epochs']} epochs) RecBole: " +
              "  ".join(f"{k} {res['final_test'][k]:.4f}" for k in shown) +
              f"  {res['epoch_seconds']:.3f} s/epoch (train only)  [gnnrec-protocol check: "
              f"recall@20 {res['check_gnnrec_protocol']['recall@20']:.4f} "
              f"ndcg@20 {res['check_gnnrec_protocol']['ndcg@20']:.4f}]", flush=True)
        if not args.no_gnnrec:
            ours = run_gnnrec(args, name, workdir)
            ours["command"] = ours["command"].replace(args.dataset, "../shared/data/ml-100k")
            res["gnnrec"] = ours
            save(name, res)
            print(f"== {name} ({res['settings']['epochs']} epochs) gnnrec:  " +
                  "  ".join(f"{k} {ours['final_test'][k]:.4f}" for k in shown) +
                  f"  {ours['epoch_seconds']:.3f} s/epoch (train only)", flush=True)
    print(f"wrote {out}")


if __name__ == "__main__":
    sys.exit(main())
