"""`gnnrec train --eval-initial` (an evaluation of the untrained model as
epoch 0), metrics.jsonl's train_seconds_total, the line under the results
table, and `gnnrec plot RUN ... --out FILE` on real runs."""
import json
import pathlib
import sys

import pytest

from conftest import ROOT, run, TIMING_KEYS

pytest.importorskip("matplotlib")

DATA = ["--dataset", "synthetic", "--synthetic-users", "200", "--synthetic-items", "150"]
TRAIN = [*DATA, "--dim", "8", "--batch-size", "512", "--threads", "2", "--lr", "0.01"]
SMALL = [*TRAIN, "--eval-every", "1", "--quiet"]
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def lines_of(run_dir):
    return [json.loads(l) for l in (run_dir / "metrics.jsonl").read_text().splitlines()]


def without_timings(run_dir):
    return [{k: v for k, v in l.items() if k not in TIMING_KEYS} for l in lines_of(run_dir)]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    base = tmp_path_factory.mktemp("runs")
    for model in ("mf", "lightgcn"):
        run("train", *SMALL, "--model", model, "--epochs", "3", "--eval-initial",
            "--out", base / model, check=True)
    return base


def test_epoch_zero_is_the_untrained_model(runs, tmp_path):
    lines = lines_of(runs / "mf")
    assert [l["epoch"] for l in lines] == [0, 1, 2, 3]
    assert lines[0]["loss"] is None and lines[0]["train_seconds_total"] == 0
    assert json.loads((runs / "mf" / "summary.json").read_text())["best_epoch"] >= 1
    # MF's untrained scores are dot products of random embeddings: a random
    # ranking, whose expected recall@20 for a user is 20 / (items not in
    # their training set). Expectation over the test users, from the split
    # `data split` writes (the one train uses).
    split = tmp_path / "split"
    run("data", "split", *DATA, "--out", split, check=True)
    train = {l.split()[0]: len(l.split()) - 1
             for l in (split / "train.txt").read_text().splitlines() if l.strip()}
    test_users = [l.split()[0] for l in (split / "test.txt").read_text().splitlines()
                  if len(l.split()) > 1]
    expected = sum(min(1.0, 20 / (150 - train.get(u, 0))) for u in test_users) / len(test_users)
    assert lines[0]["metrics"]["recall@20"] == pytest.approx(expected, abs=0.05)


def test_train_seconds_total_sums_the_epochs(runs):
    lines = lines_of(runs / "lightgcn")
    total = 0.0
    for l in lines[1:]:
        total += l["train_seconds"]
        assert l["train_seconds_total"] == pytest.approx(total, rel=1e-9)


def test_eval_initial_resumes_exactly(runs, tmp_path):
    part = tmp_path / "part"
    args = [*SMALL, "--model", "lightgcn", "--eval-initial", "--out", part]
    run("train", *args, "--epochs", "1", check=True)
    run("train", *args, "--epochs", "3", "--resume", check=True)
    assert without_timings(part) == without_timings(runs / "lightgcn")
    # The other cadence evaluates the same untrained model.
    other = tmp_path / "other"
    run("train", *TRAIN, "--quiet", "--model", "lightgcn", "--eval-initial", "--eval-every", "2",
        "--epochs", "3", "--out", other, check=True)
    assert without_timings(other)[0] == without_timings(runs / "lightgcn")[0]


def test_results_line_says_what_the_numbers_mean(tmp_path):
    out = tmp_path / "run"
    r = run("train", *TRAIN, "--model", "mf", "--epochs", "2", "--out", out, check=True)
    summary = json.loads((out / "summary.json").read_text())
    m, b = summary["best"]["recall@20"], summary["popularity"]["recall@20"]
    assert r.out.rstrip().splitlines()[-1] == (
        f"mf finds {m / b:.1f}x as many of each user's held-out items in its top 20 as "
        f"popularity does (recall@20 {m:.3f} against {b:.3f})")


def test_results_line_in_rating_mode(tmp_path):
    out = tmp_path / "run"
    r = run("train", *TRAIN, "--model", "mf", "--loss", "mse", "--epochs", "2", "--out", out,
            check=True)
    summary = json.loads((out / "summary.json").read_text())
    m, b = summary["best"]["rmse"], summary["global_mean"]["rmse"]
    lower = 100 * (b - m) / b
    assert r.out.rstrip().splitlines()[-1] == (
        f"mf predicts the held-out ratings with an rmse of {m:.3f} stars, against {b:.3f} for "
        f"the global mean ({abs(lower):.0f}% {'lower' if lower >= 0 else 'higher'})")


def test_plot_command_overlays_runs(runs, tmp_path):
    out = tmp_path / "compare.png"
    r = run("plot", runs / "mf", runs / "lightgcn", "--out", out, check=True)
    assert r.out.strip() == f"wrote {out}"
    assert out.read_bytes().startswith(PNG_MAGIC)
    # What it drew, through the function the command runs.
    sys.path.insert(0, str(ROOT / "python"))
    try:
        from gnnrec import plot
    finally:
        sys.path.remove(str(ROOT / "python"))
    d = plot.plot_runs([runs / "mf", runs / "lightgcn"], tmp_path / "again.png")
    recall = [p for p in d.panels if p.metric == "recall@20"]
    assert [p.xlabel.split()[0] for p in recall] == ["epoch", "training"]
    assert [s.label for s in recall[0].series] == ["mf dim 8 lr 0.01", "lightgcn dim 8 lr 0.01"]
    for s, model in zip(recall[1].series, ("mf", "lightgcn")):
        lines = lines_of(runs / model)
        assert s.x == [l["train_seconds_total"] for l in lines]
        assert s.y == [l["metrics"]["recall@20"] for l in lines]
    popularity = json.loads((runs / "mf" / "summary.json").read_text())["popularity"]
    assert recall[0].baselines == {"popularity": popularity["recall@20"]}


def test_plot_command_one_run_and_errors(runs, tmp_path):
    out = tmp_path / "one.png"
    run("plot", runs / "mf", "--out", out, check=True)
    assert out.read_bytes().startswith(PNG_MAGIC)
    for args, message in [
        ([tmp_path / "nothing", "--out", tmp_path / "x.png"], "metrics.jsonl: no such file"),
        ([runs / "mf", "--out", tmp_path / "x.txt"], "must end in .png"),
        ([runs / "mf"], "--out is required"),
    ]:
        r = run("plot", *args)
        assert r.code == 1
        lines = r.err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("gnnrec: error:"), r.err
        assert message in lines[0], r.err
