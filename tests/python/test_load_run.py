"""gnnrec.load_run: a run's ranking factors and id maps as tensors. The
factors are those the trainer evaluated (the run's own best metrics come
back from them through gnnrec.metrics), and those `gnnrec export` writes."""
import os
import pathlib
import subprocess

import numpy as np
import pytest
import torch

import gnnrec

DATA = {"dataset": "synthetic", "synthetic_users": 150, "synthetic_items": 120, "seed": 3}


@pytest.fixture(scope="module")
def mf_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("load_run") / "mf"
    summary = gnnrec.train({**DATA, "model": "mf", "epochs": 3, "dim": 8, "lr": 0.05,
                            "topk": [10, 20], "threads": 1, "out": str(out)})
    return out, summary


def test_load_run_gives_the_factors_the_run_was_evaluated_with(mf_run):
    out, summary = mf_run
    run = gnnrec.load_run(out)
    data = gnnrec.data.load(**DATA)
    assert run.users.shape == (150, 8) and run.items.shape == (120, 8)
    assert run.users.dtype == torch.float32
    assert run.user_ids == data.user_ids and run.item_ids == data.item_ids
    assert run.card["model"] == "mf" and run.card["epoch"] == summary["best_epoch"]
    assert run.card["score"] == "dot" and run.card["dimension"] == 8
    metrics = gnnrec.metrics.full_ranking(run.users, run.items, data.train, data.test,
                                          ks=(10, 20))
    for key in ("recall@20", "ndcg@20", "precision@10"):
        assert metrics[key] == pytest.approx(summary["best"][key], abs=1e-6), key


def test_load_run_equals_the_export(mf_run, tmp_path):
    out, _ = mf_run
    binary = os.environ.get("GNNREC_BIN")
    if not binary:
        pytest.skip("GNNREC_BIN (the gnnrec binary) not set")
    subprocess.run([binary, "export", "--run", str(out), "--out", str(tmp_path / "e"),
                    "--checkpoint", "last"], check=True, capture_output=True)
    run = gnnrec.load_run(pathlib.Path(out), checkpoint="last")
    assert torch.equal(run.users, torch.from_numpy(np.load(tmp_path / "e" / "users.npy")))
    assert torch.equal(run.items, torch.from_numpy(np.load(tmp_path / "e" / "items.npy")))
    assert run.item_ids == (tmp_path / "e" / "item_ids.txt").read_text().splitlines()


def test_load_run_errors(tmp_path, mf_run):
    with pytest.raises(ValueError, match="config.json: cannot open"):
        gnnrec.load_run(tmp_path / "nothing")
    with pytest.raises(ValueError, match="checkpoint must be 'best' or 'last'"):
        gnnrec.load_run(mf_run[0], checkpoint="middle")
