"""Runs examples/train_lightgcn.py: LightGCN trained from Python must beat popularity."""
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
