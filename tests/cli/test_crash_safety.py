"""Crash safety of the run directory: SIGKILL at named points (during an
epoch, inside a checkpoint write, during evaluation, before the first
checkpoint) and at random times, then --resume; failing checkpoint writes
(disk full, unwritable); NaN losses. The named points come from the
test-only hook GNNREC_TEST_FAULT=ACTION@POINT:EPOCH (train/fault_injection.h).

The rule these tests check (docs/run_directory.md, "Crashes, full disks,
NaN"): an epoch is finished once its last.ckpt is written. metrics.jsonl
lines are appended and fsynced before that, so after a crash the file may
hold lines of epochs after the checkpoint's; --resume drops those (and a
torn last line) and writes them again when it re-runs the epochs, so the
resumed metrics.jsonl has each evaluated epoch once, equal to an
uninterrupted run's."""
import json
import os
import random
import re
import signal
import struct
import subprocess

import pytest

from conftest import GNNREC, run, TIMING_KEYS

ARGS = ["--model", "lightgcn", "--dataset", "synthetic", "--synthetic-users", "300",
        "--synthetic-items", "200", "--dim", "16", "--layers", "2", "--batch-size", "512",
        "--lr", "0.01", "--epochs", "12", "--eval-every", "2", "--threads", "1", "--quiet"]
# One thread: with two, about one process in 20-30 differs in the last digits
# (MKL's threaded GEMM; docs/run_directory.md, "Determinism"), and these
# tests compare a resumed run with an uninterrupted one byte for byte.
# Wall-clock fields of a metrics.jsonl line; everything else is deterministic.
KILLED = -signal.SIGKILL


def checksum64(data):
    # base/file_io.cpp: FNV-1a over 8-byte little-endian words, then the tail bytes.
    h, prime, mask = 0xcbf29ce484222325, 0x100000001b3, (1 << 64) - 1
    n = len(data) // 8 * 8
    for (w,) in struct.iter_unpack("<Q", data[:n]):
        h = ((h ^ w) * prime) & mask
    for b in data[n:]:
        h = ((h ^ b) * prime) & mask
    return h


def checkpoint_epoch(path):
    """The epoch in a checkpoint, after checking its magic and checksum (the
    format of train/checkpoint.h)."""
    data = path.read_bytes()
    assert data[:8] == b"GNNRECK1", path
    assert checksum64(data[:-8]) == struct.unpack("<Q", data[-8:])[0], f"{path}: bad checksum"
    (hlen,) = struct.unpack("<Q", data[8:16])
    return json.loads(data[16:16 + hlen])["meta"]["epoch"]


def metric_lines(run_dir):
    """The complete lines of metrics.jsonl (a torn last line, without its
    newline, is what a crash mid-append could leave; readers skip it)."""
    path = run_dir / "metrics.jsonl"
    if not path.exists():
        return []
    text = path.read_text()
    complete = text[:text.rfind("\n") + 1]
    return [json.loads(l) for l in complete.splitlines()]


def without_timing(lines):
    return [{k: v for k, v in l.items() if k not in TIMING_KEYS} for l in lines]


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    out = tmp_path_factory.mktemp("crash") / "reference"
    run("train", *ARGS, "--out", out, check=True)
    return without_timing(metric_lines(out)), json.loads((out / "summary.json").read_text())


def check_readable(run_dir, reference_lines):
    """The run directory after a crash: config.json parses, every complete
    metrics line parses and equals the uninterrupted run's, no finished
    epoch's line is missing, and last.ckpt (when written) is whole.
    Returns the checkpoint's epoch (0: none yet)."""
    json.loads((run_dir / "config.json").read_text())
    ckpt = run_dir / "checkpoints" / "last.ckpt"
    epoch = checkpoint_epoch(ckpt) if ckpt.exists() else 0
    lines = without_timing(metric_lines(run_dir))
    finished = [l for l in reference_lines if l["epoch"] <= epoch]
    assert lines[:len(finished)] == finished, "a finished epoch's metrics line was lost or changed"
    # Lines past the checkpoint (written before the crash) are the same too.
    assert lines == reference_lines[:len(lines)]
    if (run_dir / "checkpoints" / "best.ckpt").exists():
        checkpoint_epoch(run_dir / "checkpoints" / "best.ckpt")
    return epoch


def train(out, *extra, fault=None):
    return run("train", *extra, "--out", out, env={"GNNREC_TEST_FAULT": fault} if fault else None)


def check_finished(out, reference):
    lines, summary = reference
    assert without_timing(metric_lines(out)) == lines
    got = json.loads((out / "summary.json").read_text())
    assert got["best"] == summary["best"] and got["best_epoch"] == summary["best_epoch"]
    assert not list(out.rglob("*.tmp.*")), "temporary files left behind"


def test_kills_at_named_points_then_resume(tmp_path, reference):
    out = tmp_path / "run"
    # Each kill is resumed with the next fault armed: one run survives four crashes.
    first = True
    for fault, ckpt_epoch in [("kill@batch:3", 2), ("kill@last.ckpt:5", 4),
                              ("kill@eval:8", 7), ("kill@best.ckpt:10", 9)]:
        r = train(out, *ARGS, fault=fault) if first else train(out, "--resume", "--quiet", fault=fault)
        first = False
        assert r.code == KILLED, f"{fault}: expected SIGKILL, got {r.code}\n{r.err}"
        assert check_readable(out, reference[0]) == ckpt_epoch, fault
    # The checkpoint loads through the real loader too.
    ev = run("evaluate", "--run", out, "--checkpoint", "last", check=True).out
    assert "epoch 9" in ev
    # The write killed inside best.ckpt left its temporary file; resuming removes it.
    assert list((out / "checkpoints").glob("best.ckpt.tmp.*"))
    run("train", "--resume", "--out", out, "--quiet", check=True)
    check_finished(out, reference)


def test_kill_before_the_first_checkpoint(tmp_path, reference):
    out = tmp_path / "run"
    r = train(out, *ARGS, fault="kill@last.ckpt:1")
    assert r.code == KILLED
    assert check_readable(out, reference[0]) == 0
    run("train", "--resume", "--out", out, "--quiet", check=True)
    check_finished(out, reference)


def test_torn_metrics_line_is_dropped_on_resume(tmp_path, reference):
    out = tmp_path / "run"
    assert train(out, *ARGS, fault="kill@last.ckpt:6").code == KILLED
    assert check_readable(out, reference[0]) == 5
    # What a power cut mid-append could leave: half a line, no newline.
    with open(out / "metrics.jsonl", "a") as f:
        f.write('{"epoch":6,"loss":0.3')
    assert check_readable(out, reference[0]) == 5
    run("train", "--resume", "--out", out, "--quiet", check=True)
    check_finished(out, reference)


def test_kills_at_random_times_then_resume(tmp_path, reference):
    # SIGKILL from outside after a random (seeded) delay: wherever it lands
    # (start-up, an epoch, a write), the directory stays readable and the run
    # finishes equal to the uninterrupted one.
    rng = random.Random(7)
    out = tmp_path / "run"

    def args():  # resume once config.json exists; before, nothing was written
        return ["--resume", "--quiet"] if (out / "config.json").exists() else ARGS

    env = {**os.environ, "OMP_NUM_THREADS": "2", "GNNREC_NO_PLOT": "1"}
    for _ in range(5):  # a run of ARGS takes about half a second
        proc = subprocess.Popen([str(GNNREC), "train", *args(), "--out", str(out)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        try:
            proc.wait(timeout=rng.uniform(0.05, 0.5))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if (out / "config.json").exists():
            check_readable(out, reference[0])
    run("train", *args(), "--out", out, check=True)
    check_finished(out, reference)


@pytest.mark.parametrize("fault,reason", [("enospc@last.ckpt:3", "No space left on device"),
                                          ("eacces@best.ckpt:4", "Permission denied")])
def test_failed_checkpoint_write_keeps_the_previous_one(tmp_path, reference, fault, reason):
    out = tmp_path / "run"
    which = fault.split("@")[1].split(":")[0]
    r = train(out, *ARGS, fault=fault)
    assert r.code == 1
    err = [l for l in r.err.splitlines() if l.strip()]
    assert len(err) == 1, r.err
    path = str(out / "checkpoints" / which)
    assert re.search(r"epoch \d+: could not save checkpoint: " + re.escape(path) +
                     ": cannot write: " + reason, err[0]), err[0]
    assert "is intact" in err[0]
    epoch = check_readable(out, reference[0])
    assert epoch == (2 if which == "last.ckpt" else 3)
    assert checkpoint_epoch(out / "checkpoints" / "best.ckpt") == 2
    assert not list(out.rglob("*.tmp.*"))


def test_nan_loss_stops_and_keeps_the_last_checkpoint(tmp_path, reference):
    out = tmp_path / "run"
    r = train(out, *ARGS, fault="nan@batch:3")
    assert r.code == 1
    assert re.fullmatch(r"gnnrec: error: epoch 3 batch 2: loss is -?nan; stopping \(the last good "
                        r"checkpoint is " + re.escape(str(out / "checkpoints" / "last.ckpt")) +
                        r", epoch 2\)", r.err.strip()), r.err
    assert check_readable(out, reference[0]) == 2
    ev = run("evaluate", "--run", out, "--checkpoint", "last", check=True).out
    assert "epoch 2" in ev


def test_absurd_learning_rate_stops_on_the_first_non_finite_loss(tmp_path):
    out = tmp_path / "run"
    args = list(ARGS)
    args[args.index("--lr") + 1] = "1e30"
    r = run("train", *args, "--out", out)
    assert r.code == 1
    assert re.fullmatch(r"gnnrec: error: epoch 1 batch \d+: loss is -?(nan|inf); stopping "
                        r"\(no checkpoint was written yet\)", r.err.strip()), r.err
    assert not (out / "checkpoints" / "last.ckpt").exists()


def test_malformed_fault_spec_is_an_error(tmp_path):
    r = train(tmp_path / "run", *ARGS, fault="explode")
    assert r.code == 1 and "GNNREC_TEST_FAULT='explode'" in r.err
