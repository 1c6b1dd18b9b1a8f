"""A training epoch on a busy machine: idle against beside a competing job.

For each way of waiting (30,000 spins before sleeping; the `gnnrec` command's
default, OMP_WAIT_POLICY=PASSIVE, no spin; and libgomp's own default, 300,000
spins, given as GOMP_SPINCOUNT=300000), trains LightGCN for a few epochs with --threads 2
twice: on the idle machine, then while a competing job keeps both cores busy
(two busy-loop processes at the same priority, started and stopped here). The
competitor takes half the CPU, so 2x the idle epoch is the floor of the
ratio. Epoch seconds are the mean of the run's epochs (summary.json's
epoch_seconds); each figure is the median over --repeats runs.

    python bench/busy_machine.py [--dataset DIR] [--epochs N] [--repeats R] [--gnnrec-bin PATH]

Measure on an otherwise quiet machine (nothing else building or training):
the script says the load average it started with. Writes
bench/results/busy_machine_<dataset>.json.
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

ROOT = pathlib.Path(__file__).resolve().parents[1]
POLICIES = {
    "30,000 spins (GOMP_SPINCOUNT=30000)": {"GOMP_SPINCOUNT": "30000"},
    "passive (gnnrec's default)": {"OMP_WAIT_POLICY": "PASSIVE"},
    "libgomp's default (300,000 spins)": {"GOMP_SPINCOUNT": "300000"},
}


def epoch_seconds(binary, dataset, epochs, env_extra):
    """Mean epoch seconds of one `gnnrec train` run."""
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")}
    env.update({"GNNREC_NO_PLOT": "1", **env_extra})
    with tempfile.TemporaryDirectory() as tmp:
        out = pathlib.Path(tmp) / "run"
        subprocess.run([str(binary), "train", "--model", "lightgcn", "--dataset", dataset,
                        "--epochs", str(epochs), "--eval-every", str(10 * epochs), "--threads",
                        "2", "--quiet", "--out", str(out)],
                       check=True, env=env, stdout=subprocess.DEVNULL)
        return json.loads((out / "summary.json").read_text())["epoch_seconds"]


class Competitor:
    """Two busy-loop processes, one per core, for the duration of a `with`."""

    def __enter__(self):
        self.procs = [subprocess.Popen([sys.executable, "-c", "while True: pass"])
                      for _ in range(2)]
        return self

    def __exit__(self, *exc):
        for p in self.procs:
            p.kill()
            p.wait()


def median_of(repeats, measure):
    return statistics.median(measure() for _ in range(repeats))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dataset", default=str(ROOT.parent / "shared" / "data" / "ml-100k"))
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--gnnrec-bin", default=str(ROOT / "build" / "gnnrec"))
    args = ap.parse_args()
    load = os.getloadavg()
    results = []
    for name, env in POLICIES.items():
        run = lambda: epoch_seconds(args.gnnrec_bin, args.dataset, args.epochs, env)  # noqa: E731
        idle = median_of(args.repeats, run)
        with Competitor():
            busy = median_of(args.repeats, run)
        results.append({"policy": name, "env": env, "idle_epoch_seconds": idle,
                        "busy_epoch_seconds": busy, "ratio": busy / idle})
        print(f"{name:36s} idle {idle:8.3f} s  busy {busy:8.3f} s  ratio {busy / idle:5.2f}")
    name = pathlib.Path(args.dataset).name
    out = ROOT / "bench" / "results" / f"busy_machine_{name}.json"
    out.write_text(json.dumps({
        "command": " ".join(["python", "bench/busy_machine.py", *sys.argv[1:]]),
        "dataset": name, "model": "lightgcn", "threads": 2, "epochs": args.epochs,
        "repeats": args.repeats, "load_average_at_start": load, "cpu_count": os.cpu_count(),
        "machine": platform.processor() or platform.machine(),
        "competitor": "two busy-loop processes at the same priority (one per core)",
        "results": results}, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
