"""Time to accuracy: Recall@20 against wall seconds for the models of issue 20
(gfcf, bspm, xsimgcl, simgcl, ultragcn) and LightGCN, on MovieLens 100K
(per-user 80/20 split, seed 2020) and Gowalla (LightGCN's split).

    python bench/time_to_accuracy.py --dataset ml-100k [--models gfcf,bspm,...]
                                     [--runs DIR] [--collect-only] [--gnnrec-bin PATH]
    python bench/time_to_accuracy.py --plot   # docs/time_to_accuracy.png from the JSON files

Each model trains once with the settings in SETTINGS below, one thread, under
`nice -n 19` (OMP_NUM_THREADS=1, --threads 1), evaluated after every epoch
(Gowalla: every --eval-every epochs) into RUN/<dataset>/<model>. The x axis is
the cumulative training seconds (the sum of metrics.jsonl's train_seconds;
a training-free model's fit), evaluation excluded; on a shared machine these
are upper bounds. Also recorded: the whole process's wall time and peak
resident memory (wait4's ru_maxrss). With --collect-only the runs are read
back, not trained (a Gowalla run trained in the background, or resumed).

Writes bench/results/time_to_accuracy_<dataset>.json: per model the command,
the curve [[seconds, epoch, recall@20, ndcg@20], ...], the best Recall@20 and
NDCG@20 with their epoch and seconds, and the seconds to first pass the
reference: LightGCN's paper figure on Gowalla (Recall@20 0.1830), LightGCN's
own best Recall@20 of this benchmark on MovieLens 100K.
"""
import argparse
import json
import os
import pathlib
import platform
import shlex
import subprocess
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
DATA = {"ml-100k": ROOT.parent / "shared" / "data" / "ml-100k",
        "gowalla": ROOT.parent / "shared" / "data" / "gowalla"}
LIGHTGCN_PAPER_GOWALLA = 0.1830
# One colour per model in both panels of the plot.
COLORS = {"bspm": "C0", "gfcf": "C1", "lightgcn": "C2", "simgcl": "C3", "ultragcn": "C4",
          "xsimgcl": "C5"}

# The settings of each model per data set: the paper defaults (registered
# with the model) plus the training settings named here; see docs/results.md
# for where each comes from.
SETTINGS = {
    "ml-100k": {
        "lightgcn": ["--epochs", "400"],
        "gfcf": [],
        "bspm": [],
        "xsimgcl": ["--layers", "2", "--epochs", "100"],
        "simgcl": ["--layers", "2", "--epochs", "100"],
        # UltraGCN's ML-1M configuration (the closest data set it publishes).
        "ultragcn": ["--lr", "1e-3", "--batch-size", "1024", "--negative-ratio", "200",
                     "--negative-weight", "200", "--ii-weight", "1e-3", "--epochs", "200"],
    },
    "gowalla": {
        "lightgcn": ["--epochs", "1000"],
        "gfcf": [],
        "bspm": [],
        # 10 epochs: XSimGCL passes LightGCN's paper figure by epoch 9 (docs/results.md).
        "xsimgcl": ["--layers", "2", "--epochs", "10"],
        "simgcl": ["--layers", "2", "--epochs", "100"],
        "ultragcn": ["--lr", "1e-4", "--batch-size", "512", "--epochs", "2000"],
    },
}


def command(args, model):
    return [str(pathlib.Path(args.gnnrec_bin)), "train", "--model", model, "--dataset",
            str(DATA[args.dataset]), *SETTINGS[args.dataset][model], "--eval-every",
            str(args.eval_every), "--threads", "1", "--patience", "0", "--quiet", "--out",
            str(run_dir(args, model))]


def recorded(cmd):
    """The command as the results record it: gnnrec, and paths relative to
    the repository root (the data as ../shared/data/NAME), so that the file
    names no machine's directories."""
    def rel(a):
        return os.path.relpath(a, ROOT) if os.path.isabs(a) else a
    return shlex.join(["gnnrec", *(rel(a) for a in cmd[1:])])


def run_dir(args, model):
    return pathlib.Path(args.runs) / args.dataset / model


def train(args, model):
    cmd = ["nice", "-n", "19", *command(args, model), "--overwrite"]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "GNNREC_NO_PLOT": "1"}
    start = time.time()
    proc = subprocess.Popen(cmd, env=env)
    _, status, usage = os.wait4(proc.pid, 0)
    if status != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({status})")
    return {"wall_seconds": time.time() - start, "peak_rss_mb": usage.ru_maxrss / 1024}


def curve(run):
    lines = [json.loads(l) for l in (run / "metrics.jsonl").read_text().splitlines() if l]
    seconds, out, epoch = 0.0, [], 0
    for line in lines:
        # train_seconds is the evaluated epoch's; with evaluations every N
        # epochs the epochs between count at that epoch's time.
        seconds += line["train_seconds"] * (line["epoch"] - epoch)
        epoch = line["epoch"]
        m = line["metrics"]
        out.append([round(seconds, 3), epoch, m["recall@20"], m["ndcg@20"]])
    return out


def first_pass(points, target):
    return next((p[0] for p in points if p[2] >= target), None)


def collect(args, models, measured):
    results = {}
    for model in models:
        points = curve(run_dir(args, model))
        best = max(points, key=lambda p: p[2])
        results[model] = {
            "command": recorded(command(args, model)),
            "curve": points,
            "best": {"recall@20": best[2], "ndcg@20": best[3], "epoch": best[1],
                     "seconds": best[0]},
            **measured.get(model, {}),
        }
    if args.dataset == "gowalla":
        reference, what = LIGHTGCN_PAPER_GOWALLA, "LightGCN paper, Recall@20 0.1830"
    else:
        reference = results["lightgcn"]["best"]["recall@20"] if "lightgcn" in results else None
        what = "LightGCN's best Recall@20 in this benchmark"
    for r in results.values():
        r["seconds_to_reference"] = first_pass(r["curve"], reference) if reference else None
    return {"dataset": args.dataset, "reference": {"recall@20": reference, "what": what},
            "split": "LightGCN's train.txt/test.txt" if args.dataset == "gowalla"
            else "per-user 80/20, seed 2020",
            "protocol": "full ranking over all items, training items masked",
            "threads": 1, "machine": platform.processor() or platform.machine(),
            "x_axis": "cumulative training seconds (evaluation excluded), niced on a shared "
                      "2-core machine: upper bounds",
            "date": time.strftime("%Y-%m-%d"), "models": results}


def plot(out_png):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    files = [ROOT / "bench" / "results" / f"time_to_accuracy_{d}.json" for d in DATA]
    files = [f for f in files if f.exists()]
    fig, axes = plt.subplots(1, len(files), figsize=(6 * len(files), 4.2), squeeze=False)
    for ax, f in zip(axes[0], files):
        data = json.loads(f.read_text())
        for model, r in sorted(data["models"].items()):
            xs = [max(p[0], 1e-2) for p in r["curve"]]
            ys = [p[2] for p in r["curve"]]
            style = "o" if len(xs) == 1 else "-"
            ax.plot(xs, ys, style, label=model, markersize=6, color=COLORS.get(model))
        if data["reference"]["recall@20"]:
            ax.axhline(data["reference"]["recall@20"], color="grey", linestyle="--", linewidth=1,
                       label=data["reference"]["what"])
        ax.set_xscale("log")
        ax.set_xlabel("training seconds (1 thread, niced; evaluation excluded)")
        ax.set_ylabel("Recall@20")
        ax.set_title(f"{data['dataset']} ({data['split']})")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out_png, dpi=110)
    print(f"wrote {out_png}")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--dataset", choices=sorted(DATA))
    p.add_argument("--models", default="lightgcn,gfcf,bspm,xsimgcl,simgcl,ultragcn")
    p.add_argument("--runs", default=str(ROOT / "runs" / "time_to_accuracy"))
    p.add_argument("--eval-every", type=int, default=1)
    p.add_argument("--collect-only", action="store_true")
    p.add_argument("--gnnrec-bin", default=str(ROOT / "build" / "gnnrec"))
    p.add_argument("--plot", action="store_true")
    args = p.parse_args()
    if args.plot:
        plot(ROOT / "docs" / "time_to_accuracy.png")
        return
    if args.dataset is None:
        p.error("--dataset is required unless --plot")
    models = args.models.split(",")
    out = ROOT / "bench" / "results" / f"time_to_accuracy_{args.dataset}.json"
    previous = json.loads(out.read_text())["models"] if out.exists() else {}
    measured = {m: {k: v for k, v in previous.get(m, {}).items()
                    if k in ("wall_seconds", "peak_rss_mb")} for m in models}
    if not args.collect_only:
        for model in models:
            measured[model] = train(args, model)
    result = collect(args, models, measured)
    if out.exists():  # keep the models of an earlier call not run in this one
        kept = json.loads(out.read_text())["models"]
        result["models"] = {**{m: r for m, r in kept.items() if m not in models},
                            **result["models"]}
    out.write_text(json.dumps(result, indent=1) + "\n")
    print(f"wrote {out}")
    for model, r in result["models"].items():
        print(f"{model:10s} best recall@20 {r['best']['recall@20']:.4f} ndcg@20 "
              f"{r['best']['ndcg@20']:.4f} at {r['best']['seconds']:.1f} s (epoch "
              f"{r['best']['epoch']}); reference passed at {r['seconds_to_reference']}")


if __name__ == "__main__":
    main()
