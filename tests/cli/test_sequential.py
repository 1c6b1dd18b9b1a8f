"""`--model gru4rec` from the command line (the sequential model of issue 24):
trains on session-parallel mini-batches under the leave-one-out split,
learns more than popularity, evaluates, recommends, exports and resumes to
the uninterrupted run; data without timestamps and its bad options are
one-line errors. (The GRU step, the losses and the session-parallel batches
against references: tests/models/gru4rec_test.cpp.)"""
import json
import random

import pytest

from conftest import resumed_run_equals_uninterrupted, run

USERS, ITEMS = 200, 120
OPTIONS = ["--split", "loo", "--dim", "16", "--batch-size", "64", "--lr", "0.01",
           "--quiet", "--threads", "1", "--seed", "3"]
SMALL = ["--model", "gru4rec", "--dataset", "synthetic", "--split", "loo", "--dim", "16",
         "--quiet"]


def write_sequences(path, seed=1):
    """MovieLens' u.data with a planted order: each user's items follow
    i -> i + 7 (mod ITEMS) from a random start, one per second, so the item
    after a user's last one is certain for a sequential model and not for
    popularity."""
    rng = random.Random(seed)
    path.mkdir()
    with open(path / "u.data", "w") as f:
        for u in range(1, USERS + 1):
            start, length = rng.randrange(ITEMS), rng.randint(6, 16)
            for k in range(length):
                f.write(f"{u}\t{(start + 7 * k) % ITEMS + 1}\t5\t{1000 + k}\n")
    return path


@pytest.mark.parametrize("loss", ["bpr", "bce"])
def test_gru4rec_learns_and_resumes_to_the_uninterrupted_run(tmp_path, loss):
    data = write_sequences(tmp_path / "data")
    args = ["train", "--model", "gru4rec", "--dataset", data, *OPTIONS, "--loss", loss,
            "--dropout", "0", "--eval-every", "1"]
    full = resumed_run_equals_uninterrupted(args, tmp_path)
    assert len(full) == 4 and full[-1]["loss"] < full[0]["loss"]
    summary = json.loads((tmp_path / "full" / "summary.json").read_text())
    assert summary["model"] == "gru4rec"
    assert summary["best"]["recall@20"] > 0.9 > 0.5 > summary["popularity"]["recall@20"]
    ev = run("evaluate", "--run", tmp_path / "full", check=True).out
    row = next(l for l in ev.splitlines() if l.startswith("recall@20"))
    best_line = full[summary["best_epoch"] - 1]
    assert float(row.split()[1]) == pytest.approx(best_line["metrics"]["recall@20"], abs=1e-4)
    rec = run("recommend", "--run", tmp_path / "full", "--user", "3", "--k", "5", check=True).out
    assert len(rec.strip().splitlines()) == 6
    run("export", "--run", tmp_path / "full", "--out", tmp_path / "export", check=True)
    assert (tmp_path / "export" / "items.npy").exists()


def test_registered_optimisation_defaults_apply_unless_given(tmp_path):
    """gru4rec registers the paper's 50 parallel sessions and no L2; config.json
    records them resolved, a flag given wins, and another model keeps the
    general defaults (2048, 1e-3, 1e-4)."""
    data = write_sequences(tmp_path / "data")
    common = ["--dataset", data, "--split", "loo", "--dim", "8", "--quiet", "--threads", "1"]
    runs = {"gru4rec": ["--model", "gru4rec"],
            "given": ["--model", "gru4rec", "--batch-size", "64", "--reg", "0.001"],
            "mf": ["--model", "mf"]}
    recorded = {}
    for name, args in runs.items():
        run("train", *args, *common, "--epochs", "1", "--out", tmp_path / name, check=True)
        cfg = json.loads((tmp_path / name / "config.json").read_text())
        recorded[name] = (cfg["batch_size"], cfg["lr"], cfg["reg"])
    assert recorded == {"gru4rec": (50, 1e-3, 0.0), "given": (64, 1e-3, 1e-3),
                        "mf": (2048, 1e-3, 1e-4)}
    # A resume with the defaults resolved the same way is not a disagreement.
    run("train", "--resume", "--model", "gru4rec", *common, "--epochs", "2",
        "--out", tmp_path / "gru4rec", check=True)


def test_data_without_timestamps_is_a_one_line_error(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "train.txt").write_text("0 0 1 2\n1 1 2\n2 0 2\n")
    (data / "test.txt").write_text("0 3\n1 3\n2 3\n")
    r = run("train", "--model", "gru4rec", "--dataset", data, "--epochs", "1", "--quiet",
            "--out", tmp_path / "run")
    assert r.code == 1
    lines = r.err.strip().splitlines()
    assert len(lines) == 1 and "no timestamps" in lines[0], r.err


@pytest.mark.parametrize("args,message", [
    (["--batch-size", "1"], "--batch-size must be at least 2"),
    (["--loss", "mse"], "its own ranking loss"),
    (["--dropout", "1.5"], "--dropout"),
])
def test_bad_options_are_one_line_errors(tmp_path, args, message):
    r = run("train", *SMALL, *args, "--epochs", "1", "--out", tmp_path / "run")
    assert r.code == 1
    lines = r.err.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], r.err
