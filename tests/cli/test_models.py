"""Every model of the zoo from the command line: trains with BPR and BCE,
evaluates, recommends and resumes from its run directory; and the model
hyper-parameters' errors."""
import json

import pytest

from conftest import run

SMALL = ["--dataset", "synthetic", "--synthetic-users", "200", "--synthetic-items", "150",
         "--dim", "16", "--layers", "2", "--batch-size", "1024", "--lr", "0.01", "--quiet",
         "--threads", "2"]

MODELS = [
    ["--model", "gcn"],
    ["--model", "ngcf"],
    ["--model", "gat", "--heads", "2"],
    ["--model", "sage", "--aggregator", "mean", "--fanouts", "5,3"],
    ["--model", "sage", "--aggregator", "max", "--fanouts", "5,3"],
    ["--model", "sage", "--aggregator", "pool", "--fanouts", "5,3"],
    ["--model", "sage", "--aggregator", "lstm", "--fanouts", "4,4"],
    ["--model", "gmf"],
    ["--model", "mlp", "--hidden", "32,16"],
    ["--model", "neumf"],
    ["--model", "dmf"],
]


@pytest.mark.parametrize("model", MODELS, ids=lambda m: "-".join(m[1::2]))
@pytest.mark.parametrize("loss", ["bpr", "bce"])
def test_model_trains_evaluates_and_recommends(tmp_path, model, loss):
    out = tmp_path / "run"
    run("train", *model, *SMALL, "--loss", loss, "--epochs", "3", "--eval-every", "3",
        "--out", out, check=True)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["model"] == model[1]
    assert summary["best_epoch"] == 3
    for key in ("recall@20", "ndcg@20"):
        assert 0.0 <= summary["best"][key] <= 1.0
    config = json.loads((out / "config.json").read_text())
    assert config["loss"] == loss
    # The saved model loads back: evaluate reproduces the best metrics.
    ev = run("evaluate", "--run", out, check=True)
    assert "recall@20" in ev.out
    rec = run("recommend", "--run", out, "--user", "0", "--k", "5", check=True)
    assert len([l for l in rec.out.splitlines() if l.strip()]) >= 5


@pytest.mark.parametrize("args,message", [
    (["--model", "sage", "--fanouts", "0,5"], "--fanouts"),
    (["--model", "sage", "--fanouts", "5"], "--fanouts has 1 values but --layers is 2"),
    (["--model", "sage", "--aggregator", "median"], "--aggregator must be one of"),
    (["--model", "gat", "--heads", "3"], "--heads (3) must divide --dim (16)"),
    (["--model", "gat", "--heads", "0"], "--heads"),
    (["--model", "gcn", "--dropout", "1.5"], "--dropout"),
    (["--model", "ngcf", "--node-dropout", "-0.1"], "--node-dropout"),
    (["--model", "gfcf", "--svd-rank", "500"], "--svd-rank must not exceed the number of items"),
    (["--model", "bspm", "--svd-rank", "8", "--sharpen-solver", "heun"],
     "--sharpen-solver must be euler or rk4"),
    (["--model", "gfcf", "--svd-rank", "8", "--loss", "mse"], "no pair scores"),
    (["--model", "gfcf", "--svd-rank", "8", "--eval-initial"], "is training-free"),
    (["--model", "xsimgcl", "--cl-layer", "3"], "--cl-layer (3) must not exceed --layers (2)"),
    (["--model", "simgcl", "--cl-temperature", "0"], "--cl-temperature"),
    (["--model", "ultragcn", "--loss", "mse"], "its own ranking loss"),
    (["--model", "ultragcn", "--ii-neighbors", "500"], "--ii-neighbors must be in"),
    (["--model", "ultragcn", "--negative-share", "0"], "--negative-share"),
    (["--model", "mlp", "--hidden", "16,0"], "--hidden must all be in [1, 65536], got 0"),
    (["--model", "gmf", "--pretrain", "a,b"], "--pretrain initialises --model neumf only"),
    (["--model", "neumf", "--pretrain", "a"], "--pretrain takes GMF_RUN,MLP_RUN"),
    (["--model", "neumf", "--pretrain", "a,b,c"], "--pretrain takes GMF_RUN,MLP_RUN"),
    (["--model", "gat", "--shard-embeddings"],
     "--shard-embeddings: --model gat does not shard its tables; the models that do: mf, "
     "lightgcn, ngcf, gcn"),
    (["--model", "mf", "--shard-embeddings", "--reg-scope", "full"],
     "--shard-embeddings: --reg-scope full"),
])
def test_bad_model_hyper_parameters_are_one_line_errors(tmp_path, args, message):
    r = run("train", *SMALL, *args, "--epochs", "1", "--out", tmp_path / "run")
    assert r.code != 0
    lines = r.err.strip().splitlines()
    assert len(lines) == 1, r.err
    assert message in lines[0], r.err
    assert not (tmp_path / "run" / "summary.json").exists()
