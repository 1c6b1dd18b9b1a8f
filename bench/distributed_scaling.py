"""Data-parallel training on one machine: 1 process against 2 (Gloo, loopback).

For each model, trains `--epochs` epochs three ways on the same data and seed:
one process with --threads 2 (the machine's two cores), two ranks with
--threads 1 each (the same cores, split), one process with --threads 1 (a
rank's compute alone), and for the models --shard-embeddings takes (MF,
LightGCN, NGCF, GCN) also two ranks with --shard-embeddings. The ranks are
started here with torchrun's variables
(RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT), as `torchrun --standalone
--nproc-per-node 2 --no-python` would. Reported per way: seconds per epoch
(the mean of the epochs' train_seconds), training pairs per second, the
per-phase seconds of the last epoch (sample, forward, backward, allreduce,
step; halo for a sharded graph model), and for the ranks the bytes a rank puts into the gradients'
collectives per step (summary.json's gradient_bytes_per_step). These are the measured constants of
docs/distributed.md's cost model.

    python bench/distributed_scaling.py [--dataset DIR|synthetic] [--models mf lightgcn]
        [--epochs N] [--gnnrec-bin PATH]

Measure on an otherwise quiet machine. Writes
bench/results/distributed_scaling_<dataset>.json (models run before and not now are kept).
"""
import argparse
import json
import os
import pathlib
import platform
import socket
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parents[1]
# The models --shard-embeddings takes (train/sharded.cpp: sharded_models()):
# also run as 2 sharded ranks.
SHARDED = {"mf", "lightgcn", "ngcf", "gcn"}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def train(binary, args, ranks, threads, out):
    """One `gnnrec train` over `ranks` processes; returns summary.json and metrics.jsonl."""
    env = {**os.environ, "GNNREC_NO_PLOT": "1"}
    cmd = [str(binary), "train", *args, "--threads", str(threads), "--quiet", "--out", str(out)]
    if ranks == 1:
        subprocess.run(cmd, check=True, env=env, stdout=subprocess.DEVNULL)
    else:
        port = free_port()
        procs = [subprocess.Popen(cmd, env={**env, "RANK": str(r), "LOCAL_RANK": str(r),
                                            "WORLD_SIZE": str(ranks), "MASTER_ADDR": "127.0.0.1",
                                            "MASTER_PORT": str(port)},
                                  stdout=subprocess.DEVNULL)
                 for r in range(ranks)]
        codes = [p.wait() for p in procs]
        if any(codes):
            sys.exit(f"{ranks} ranks exited with {codes}: {' '.join(cmd)}")
    summary = json.loads((out / "summary.json").read_text())
    lines = [json.loads(l) for l in (out / "metrics.jsonl").read_text().splitlines()]
    return summary, lines


def measure(binary, model, data_args, epochs, ranks, threads, tmp, sharded=False):
    out = pathlib.Path(tmp) / f"{model}-{ranks}x{threads}{'-sharded' if sharded else ''}"
    args = ["--model", model, *data_args, "--epochs", str(epochs), "--eval-every", str(epochs),
            *(["--shard-embeddings"] if sharded else [])]
    summary, lines = train(binary, args, ranks, threads, out)
    trained = [l for l in lines if l.get("loss") is not None]
    seconds = sum(l["train_seconds"] for l in trained) / len(trained)
    row = {"ranks": ranks, "threads_per_rank": threads, "sharded": sharded,
           "epoch_seconds": round(seconds, 4),
           "pairs_per_second": round(summary["train_interactions"] / seconds, 1),
           "phase_seconds_last_epoch": {k: round(v, 4)
                                        for k, v in trained[-1]["phase_seconds"].items()},
           "eval_seconds": round(lines[-1]["eval_seconds"], 4),
           "recall@20": lines[-1]["metrics"]["recall@20"]}
    if ranks > 1:
        row["gradient_bytes_per_step"] = summary["gradient_bytes_per_step"]
        for key in ("embedding_bytes_per_rank", "embedding_bytes_replicated",
                    "halo_rows_per_layer"):
            if key in summary:
                row[key] = summary[key]
        batch = json.loads((out / "config.json").read_text())["batch_size"]
        steps = -(-summary["train_interactions"] // batch)
        row["steps_per_epoch"] = steps
        row["allreduce_seconds_per_step"] = round(
            trained[-1]["phase_seconds"]["allreduce"] / steps, 6)
    return row


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dataset", default=str(ROOT.parent / "shared" / "data" / "ml-100k"))
    ap.add_argument("--models", nargs="+", default=["mf", "lightgcn"])
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--gnnrec-bin", default=str(ROOT / "build" / "gnnrec"))
    ap.add_argument("--out")
    args = ap.parse_args()
    if args.dataset != "synthetic" and not pathlib.Path(args.dataset).exists():
        sys.exit(f"{args.dataset}: no such data set")
    name = pathlib.Path(args.dataset).name
    data_args = ["--dataset", args.dataset]
    result = {"benchmark": "data-parallel training, 1 process against 2 Gloo ranks on loopback",
              "dataset": name, "epochs": args.epochs, "machine": platform.processor() or
              platform.machine(), "cpus": os.cpu_count(),
              "load_average_at_start": os.getloadavg()[0], "models": {}}
    with tempfile.TemporaryDirectory() as tmp:
        for model in args.models:
            rows = [measure(args.gnnrec_bin, model, data_args, args.epochs, r, t, tmp)
                    for r, t in ((1, 2), (2, 1), (1, 1))]
            if model in SHARDED:
                rows.append(measure(args.gnnrec_bin, model, data_args, args.epochs, 2, 1, tmp,
                                    sharded=True))
            one, two = rows[0], rows[1]
            result["models"][model] = {
                "runs": rows,
                "speedup_2_ranks_vs_1_process_2_threads":
                    round(one["epoch_seconds"] / two["epoch_seconds"], 3),
                "speedup_2_ranks_vs_1_process_1_thread":
                    round(rows[2]["epoch_seconds"] / two["epoch_seconds"], 3)}
            print(model, json.dumps(result["models"][model]), flush=True)
    out = pathlib.Path(args.out or ROOT / "bench" / "results" / f"distributed_scaling_{name}.json")
    if out.exists():  # the models not run this time are kept
        result["models"] = {**json.loads(out.read_text())["models"], **result["models"]}
    out.write_text(json.dumps(result, indent=1) + "\n")
    print("wrote", out)


if __name__ == "__main__":
    main()
