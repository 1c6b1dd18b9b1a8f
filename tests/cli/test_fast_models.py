"""The models that pass LightGCN's paper on a CPU (issue 20) from the command
line: the training-free filters (gfcf, bspm) fit once and write a run
directory that `evaluate` and `recommend` read back without fitting again;
the trained ones (xsimgcl, simgcl, ultragcn) train, evaluate, recommend and
resume to the uninterrupted run; their options are documented with their
defaults and checked."""
import json
import re

import pytest

from conftest import resumed_run_equals_uninterrupted, run

SMALL = ["--dataset", "synthetic", "--synthetic-users", "300", "--synthetic-items", "200",
         "--dim", "16", "--batch-size", "512", "--lr", "0.01", "--quiet", "--threads", "1",
         "--seed", "5"]
TIMING = re.compile(rb'"(train_seconds|train_seconds_total|eval_seconds)":[-+0-9.eE]+,?')


def lines_of(run_dir):
    return [json.loads(l) for l in (run_dir / "metrics.jsonl").read_text().splitlines()]


@pytest.mark.parametrize("model", [["gfcf", "--svd-rank", "32"], ["bspm", "--svd-rank", "48"]],
                         ids=lambda m: m[0])
def test_filters_fit_once_and_load_back(tmp_path, model):
    out = tmp_path / "run"
    r = run("train", "--model", *model, *SMALL, "--epochs", "50", "--out", out, check=True)
    lines = lines_of(out)
    assert len(lines) == 1 and lines[0]["epoch"] == 1 and lines[0]["loss"] is None
    summary = json.loads((out / "summary.json").read_text())
    assert summary["best_epoch"] == 1 and summary["epochs_run"] == 1 and summary["loss"] is None
    assert summary["best"]["recall@20"] > summary["popularity"]["recall@20"]
    assert (out / "checkpoints" / "best.ckpt").exists()
    # evaluate reads the fitted vectors back: the same metrics, to the printed digits.
    ev = run("evaluate", "--run", out, check=True).out
    row = next(l for l in ev.splitlines() if l.startswith("recall@20"))
    assert float(row.split()[1]) == pytest.approx(summary["best"]["recall@20"], abs=1e-4)
    rec = run("recommend", "--run", out, "--user", "3", "--k", "5", check=True).out
    assert len(rec.strip().splitlines()) == 6  # header and 5 items
    # --users all ranks the same rows, a chunk of users at a time: user 3's
    # line lists the same items.
    everyone = run("recommend", "--run", out, "--users", "all", "--k", "5", check=True).out
    lines = dict(l.split("\t") for l in everyone.strip().splitlines())
    assert lines["3"].split(",") == [l.split("\t")[1] for l in rec.strip().splitlines()[1:]]
    # No factors to serve: export says so in one line.
    r = run("export", "--run", out, "--out", tmp_path / "export")
    assert r.code == 1 and "nothing to export" in r.err and len(r.err.strip().splitlines()) == 1
    # A resumed run that has fitted has nothing left to do.
    run("train", "--resume", "--out", out, "--quiet", check=True)
    assert len(lines_of(out)) == 1


TRAINED = [["xsimgcl", "--layers", "2"], ["simgcl", "--layers", "2"],
           ["ultragcn", "--negative-ratio", "50", "--negative-share", "3", "--negative-weight", "10"]]




@pytest.mark.parametrize("model", TRAINED, ids=lambda m: m[0])
def test_trained_models_learn_and_resume_to_the_uninterrupted_run(tmp_path, model):
    args = ["train", "--model", *model, *SMALL, "--eval-every", "1"]
    full = resumed_run_equals_uninterrupted(args, tmp_path)
    assert len(full) == 4 and all(l["loss"] is not None for l in full)
    summary = json.loads((tmp_path / "full" / "summary.json").read_text())
    assert summary["model"] == model[0]
    assert 0 < summary["best"]["recall@20"] <= 1
    assert full[-1]["loss"] < full[0]["loss"]
    ev = run("evaluate", "--run", tmp_path / "full", check=True).out
    assert "recall@20" in ev
    rec = run("recommend", "--run", tmp_path / "full", "--user", "3", "--k", "5", check=True).out
    assert len(rec.strip().splitlines()) == 6


def test_help_lists_the_new_options_with_their_defaults():
    text = run("train", "--help", check=True).out
    for default in ("gfcf 256", "bspm 448", "bspm 0.2, gfcf 0.3", "bspm 2.5", "bspm rk4",
                    "simgcl 0.1, xsimgcl 0.2", "simgcl 0.2, twotower 0.05, xsimgcl 0.15", "ultragcn 1500",
                    "ultragcn 8", "ultragcn 300", "ultragcn 10", "ultragcn 0.0005"):
        assert default in text, default
    for model in ("gfcf", "bspm", "xsimgcl", "simgcl", "ultragcn"):
        assert model in text
