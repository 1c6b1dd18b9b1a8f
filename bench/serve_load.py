"""A bounded load test of `gnnrec serve`: the server on 127.0.0.1 (a port
the system picks) answers GET /recommend for a trained run, first by exact
scoring, then through the HNSW index, each for --seconds under
--client-threads concurrent clients (build/gnnrec_bench_serve_load, C++ on
keep-alive connections), and requests per second with p50/p90/p99 latency
are written to bench/results/serve_load_<data set>_<model>.json with the
machine's load average before and after.

    nice -n 19 python3 bench/serve_load.py --run runs/gowalla-lightgcn \\
        [--server-threads 2] [--client-threads 4] [--seconds 10] [--k 20]

The users asked for are a seeded sample of the run's users. Server and
clients share the machine's cores: the figures are those of both together.
"""
import argparse
import json
import os
import pathlib
import platform
import random
import select
import signal
import subprocess
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]


def start_server(binary, run, threads):
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    t0 = time.time()
    proc = subprocess.Popen([binary, "serve", "--run", str(run), "--port", "0", "--threads",
                             str(threads), "--index", "hnsw"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)
    ready, _, _ = select.select([proc.stdout], [], [], 600)
    line = proc.stdout.readline() if ready else ""
    if not line.startswith("listening on http://"):
        proc.kill()
        raise SystemExit(f"serve did not start: {line!r} {proc.stderr.read()}")
    return proc, int(line.rsplit(":", 1)[1]), time.time() - t0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--run", required=True)
    ap.add_argument("--gnnrec", default=str(ROOT / "build" / "gnnrec"))
    ap.add_argument("--load", default=str(ROOT / "build" / "gnnrec_bench_serve_load"))
    ap.add_argument("--server-threads", type=int, default=2)
    ap.add_argument("--client-threads", type=int, default=4)
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--k", type=int, default=20)
    ap.add_argument("--users", type=int, default=5000, help="distinct users asked for")
    ap.add_argument("--out")
    args = ap.parse_args()
    run = pathlib.Path(args.run)
    config = json.loads((run / "config.json").read_text())
    tag = f"{pathlib.Path(config['dataset']).name}_{config['model']}"
    result = {"benchmark": "gnnrec serve under load: GET /recommend, exact and hnsw",
              "run": f"{config['model']} on {pathlib.Path(config['dataset']).name}",
              "server_threads": args.server_threads, "client_threads": args.client_threads,
              "seconds_per_mode": args.seconds, "k": args.k,
              "machine": {"platform": platform.platform(), "cpus": os.cpu_count(),
                          "load_average_before": os.getloadavg()}}
    with tempfile.TemporaryDirectory(prefix="gnnrec-load-") as tmp:
        tmp = pathlib.Path(tmp)
        subprocess.run([args.gnnrec, "export", "--run", str(run), "--out", str(tmp / "e")],
                       check=True, capture_output=True)
        ids = (tmp / "e" / "user_ids.txt").read_text().split()
        sample = random.Random(2020).sample(ids, min(args.users, len(ids)))
        (tmp / "users.txt").write_text("\n".join(sample) + "\n")
        proc, port, startup = start_server(args.gnnrec, run, args.server_threads)
        result["server_start_seconds"] = round(startup, 2)
        try:
            for mode in ("exact", "hnsw"):
                cmd = [args.load, "--port", str(port), "--users", str(tmp / "users.txt"),
                       "--threads", str(args.client_threads), "--seconds", str(args.seconds),
                       "--k", str(args.k)] + (["--index", "hnsw"] if mode == "hnsw" else [])
                r = subprocess.run(cmd, check=True, capture_output=True, text=True)
                result[mode] = json.loads(r.stdout)
                print(mode, json.dumps(result[mode]), flush=True)
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.communicate(timeout=60)
        result["server_exit_status"] = proc.returncode
    result["machine"]["load_average_after"] = os.getloadavg()
    result["date"] = time.strftime("%Y-%m-%d")
    out = pathlib.Path(args.out or ROOT / "bench" / "results" / f"serve_load_{tag}.json")
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
