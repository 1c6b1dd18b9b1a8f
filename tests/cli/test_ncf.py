"""NCF's gmf, mlp and neumf and DMF (issue 24) from the command line: they
train with BCE and sampled negatives, rank every item (neumf by rows, a
block of users at a time), resume to the uninterrupted run, and neumf starts
from a gmf and an mlp run with --pretrain; its errors are one line."""
import json

import pytest

from conftest import metrics_without_timings, resumed_run_equals_uninterrupted, run

SMALL = ["--dataset", "synthetic", "--synthetic-users", "300", "--synthetic-items", "200",
         "--dim", "16", "--batch-size", "512", "--lr", "0.01", "--quiet", "--threads", "1",
         "--seed", "5", "--loss", "bce", "--negatives", "4"]


@pytest.mark.parametrize("model", ["neumf", "dmf"])
def test_learns_and_resumes_to_the_uninterrupted_run(tmp_path, model):
    args = ["train", "--model", model, *SMALL, "--eval-every", "1"]
    full = resumed_run_equals_uninterrupted(args, tmp_path)
    assert len(full) == 4
    assert full[-1]["loss"] < full[0]["loss"]
    summary = json.loads((tmp_path / "full" / "summary.json").read_text())
    assert summary["best"]["recall@20"] > summary["popularity"]["recall@20"] * 0.5
    # --users all ranks the rows in chunks: user 3's line is `--user 3`'s list.
    one = run("recommend", "--run", tmp_path / "full", "--user", "3", "--k", "5", check=True).out
    everyone = run("recommend", "--run", tmp_path / "full", "--users", "all", "--k", "5",
                   check=True).out
    lines = dict(l.split("\t") for l in everyone.strip().splitlines())
    assert lines["3"].split(",") == [l.split("\t")[1] for l in one.strip().splitlines()[1:]]


def test_neumf_starts_from_its_pretrained_halves(tmp_path):
    for model in ("gmf", "mlp"):
        run("train", "--model", model, *SMALL, "--epochs", "3", "--out", tmp_path / model,
            check=True)
    halves = f"{tmp_path / 'gmf'},{tmp_path / 'mlp'}"
    out = tmp_path / "neumf"
    run("train", "--model", "neumf", *SMALL, "--epochs", "1", "--pretrain",
        halves, "--out", out, check=True)
    assert json.loads((out / "config.json").read_text())["pretrain"] == halves
    scratch = tmp_path / "scratch"
    run("train", "--model", "neumf", *SMALL, "--epochs", "1", "--out", scratch,
        check=True)
    # One epoch from the halves starts where they ended: a lower loss than
    # one epoch from scratch.
    assert metrics_without_timings(out)[0]["loss"] < metrics_without_timings(scratch)[0]["loss"]
    # Swapped halves, a missing run: one line each, nothing written.
    for bad, message in [(f"{tmp_path / 'mlp'},{tmp_path / 'gmf'}", "is a mlp run, not gmf"),
                         (f"{tmp_path / 'none'},{tmp_path / 'mlp'}", "config.json")]:
        r = run("train", "--model", "neumf", *SMALL, "--epochs", "1", "--pretrain", bad,
                "--out", tmp_path / "bad")
        assert r.code == 1 and len(r.err.strip().splitlines()) == 1, r.err
        assert message in r.err, r.err
        assert not (tmp_path / "bad" / "summary.json").exists()


@pytest.mark.parametrize("model", ["neumf", "dmf"])
def test_scores_pairs_under_the_ctr_protocol(tmp_path, model):
    out = tmp_path / "run"
    run("train", "--model", model, *SMALL, "--protocol", "ctr", "--epochs", "2", "--out", out,
        check=True)
    best = json.loads((out / "summary.json").read_text())["best"]
    assert 0.5 < best["auc"] <= 1 and best["logloss"] > 0
