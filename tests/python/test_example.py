"""Runs examples/train_lightgcn.py (LightGCN trained from Python must beat
popularity) and examples/ddp_lightgcn.py (DistributedDataParallel over
gnnrec.nn with 2 Gloo processes equals 1 process up to rounding)."""
import os
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_train_lightgcn_example_beats_popularity():
    proc = subprocess.run([sys.executable, str(ROOT / "examples" / "train_lightgcn.py")],
                          capture_output=True, text=True, timeout=120,
                          env=dict(os.environ, OMP_NUM_THREADS="2"))
    assert proc.returncode == 0, proc.stderr
    line = next(l for l in proc.stdout.splitlines() if l.startswith("recall@20"))
    model, popularity = map(float, line.split()[1:])
    assert model > popularity > 0, proc.stdout


def ddp_losses(procs):
    torchrun = pathlib.Path(sys.executable).with_name("torchrun")
    if not torchrun.exists():
        pytest.skip("torchrun is not installed beside this Python")
    proc = subprocess.run([str(torchrun), "--standalone", "--nproc-per-node", str(procs),
                           str(ROOT / "examples" / "ddp_lightgcn.py"), "--epochs", "3",
                           "--users", "200", "--items", "150", "--batch-size", "512"],
                          capture_output=True, text=True, timeout=300,
                          env=dict(os.environ, OMP_NUM_THREADS="1"))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[-1].endswith(f"({procs} processes)"), proc.stdout
    return [float(l.split()[-1]) for l in lines if l.startswith("epoch")], \
        float(lines[-1].split()[1])


def test_ddp_example_two_processes_equal_one():
    (one, recall_one), (two, recall_two) = ddp_losses(1), ddp_losses(2)
    assert len(one) == len(two) == 3
    assert two == pytest.approx(one, rel=1e-5)
    assert recall_two == pytest.approx(recall_one, abs=1e-3)
