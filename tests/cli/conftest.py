import json
import os
import pathlib
import select
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
# The Makefile passes the binary of the build folder it tested (BUILD=...).
GNNREC = pathlib.Path(os.environ.get("GNNREC_BIN", ROOT / "build" / "gnnrec")).resolve()
SHARED_DATA = ROOT.parent / "shared" / "data"


class Result:
    def __init__(self, proc):
        self.code = proc.returncode
        self.out = proc.stdout
        self.err = proc.stderr


# The command sets OMP_WAIT_POLICY=PASSIVE itself by starting again when it
# is unset (train/cli/thread_wait.h); setting it here saves the tests that
# second start. tests/cli/test_cli.py::test_threads_wait_passively checks the
# restart.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


# The fields of a metrics.jsonl line that measure time: two runs of the same
# training differ only in them.
TIMING_KEYS = ("train_seconds", "train_seconds_total", "eval_seconds", "phase_seconds")


def metrics_without_timings(run_dir):
    """metrics.jsonl's lines without their TIMING_KEYS."""
    return [{k: v for k, v in json.loads(l).items() if k not in TIMING_KEYS}
            for l in (pathlib.Path(run_dir) / "metrics.jsonl").read_text().splitlines()]


def resumed_run_equals_uninterrupted(args, tmp_path, epochs=4):
    """Trains `args` (a `train` command without --epochs and --out) for
    `epochs` epochs into tmp_path/full, and for half of them into
    tmp_path/part, which --resume then takes to `epochs`; asserts the two
    runs' metrics.jsonl are equal but for timings, and returns the full run's
    lines."""
    run(*args, "--epochs", str(epochs), "--out", tmp_path / "full", check=True)
    run(*args, "--epochs", str(epochs // 2), "--out", tmp_path / "part", check=True)
    run("train", "--resume", "--out", tmp_path / "part", "--epochs", str(epochs), "--quiet",
        check=True)
    full = metrics_without_timings(tmp_path / "full")
    assert metrics_without_timings(tmp_path / "part") == full
    return full


def run(*args, check=False, timeout=600, env=None, cwd=None):
    # GNNREC_NO_PLOT=1 by default: the tests stay fast (no curves.png);
    # tests/cli/test_plot_hook.py passes env= to exercise the plot hook.
    env = {**os.environ, "OMP_NUM_THREADS": "2", "GNNREC_NO_PLOT": "1", **(env or {})}
    proc = subprocess.run([str(GNNREC), *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, env=env, cwd=cwd)
    if check and proc.returncode != 0:
        raise AssertionError(f"gnnrec {' '.join(map(str, args))} failed ({proc.returncode}):\n"
                             f"{proc.stdout}\n{proc.stderr}")
    return Result(proc)


def start_server(args, timeout):
    """`gnnrec serve ARGS` (with `--port 0` among them) in the background:
    (process, port) once it says where it listens; AssertionError with its
    first line and stderr when it does not within `timeout` seconds."""
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen([str(GNNREC), *map(str, args)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)
    ready, _, _ = select.select([proc.stdout], [], [], timeout)
    line = proc.stdout.readline() if ready else ""
    if not line.startswith("listening on http://127.0.0.1:"):
        proc.kill()
        raise AssertionError(f"serve did not start: {line!r} {proc.stderr.read()}")
    return proc, line.rsplit(":", 1)[1].strip()


@pytest.fixture(scope="session", autouse=True)
def _binary_exists():
    if not GNNREC.exists():
        pytest.fail(f"{GNNREC} is missing: run 'make build' first")


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path, monkeypatch):
    # Each test gets its own binary-cache directory.
    monkeypatch.setenv("GNNREC_CACHE", str(tmp_path / "cache"))


# --- serving (tests/cli/test_serving.py, test_serve.py) ----------------------

SERVING_USERS = [str(100 + u) for u in range(60)]
SERVING_ITEMS = [str(700 + i) for i in range(40)]


def serving_data(folder):
    """A small LightGCN-text data set whose raw ids are not the dense ones
    (users 100..159, items 700..739): 8 training and 2 test items per user,
    drawn with a fixed seed. Returns {user: [training items]}."""
    import random
    rng = random.Random(7)
    folder.mkdir(parents=True, exist_ok=True)
    train, test = {}, {}
    for u in SERVING_USERS:
        items = rng.sample(SERVING_ITEMS, 10)
        train[u], test[u] = items[:8], items[8:]
    (folder / "train.txt").write_text("".join(f"{u} {' '.join(v)}\n" for u, v in train.items()))
    (folder / "test.txt").write_text("".join(f"{u} {' '.join(v)}\n" for u, v in test.items()))
    return train


@pytest.fixture(scope="session")
def serving_runs(tmp_path_factory):
    """Runs of lightgcn, mf and ngcf on serving_data, trained once: a dict
    with their folders under the model names, "data" (the data set folder)
    and "train" (the training items by user)."""
    root = tmp_path_factory.mktemp("serving")
    out = {"data": root / "data"}
    out["train"] = serving_data(out["data"])
    for model in ("lightgcn", "mf", "ngcf"):
        out[model] = root / model
        run("train", "--model", model, "--dataset", out["data"], "--epochs", "3", "--dim", "8",
            "--layers", "2", "--lr", "0.05", "--batch-size", "128", "--threads", "1", "--quiet",
            "--out", out[model], check=True)
    return out
