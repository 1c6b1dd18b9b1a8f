"""python -m gnnrec.plot RUN [RUN ...]: curves.png from metrics.jsonl, written
atomically, without the compiled library; a clear error for a run directory
without evaluations. What a plot drew is checked through the Drawing that
plot_run and plot_runs return, against the files the test wrote."""
import json
import os
import pathlib
import subprocess
import sys

import pytest

pytest.importorskip("matplotlib")

PYTHON_DIR = pathlib.Path(__file__).resolve().parents[2] / "python"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def write_metrics(run_dir, rating=False):
    run_dir.mkdir(parents=True, exist_ok=True)
    with open(run_dir / "metrics.jsonl", "w") as f:
        for epoch in (5, 10, 15):
            m = {"recall@20": 0.1 + epoch / 100, "ndcg@20": 0.05 + epoch / 200,
                 "recall@10": 0.05, "ndcg@10": 0.03}
            if rating:
                m.update(rmse=1.2 - epoch / 100, mae=0.9 - epoch / 100)
            f.write(json.dumps({"epoch": epoch, "loss": 0.7 - epoch / 100,
                                "train_seconds": 0.1, "eval_seconds": 0.01,
                                "metrics": m}) + "\n")


def run_plot(run_dir, **env):
    # No GNNREC_LIBRARY: the plotter must not need the compiled library.
    base = {k: v for k, v in os.environ.items() if k not in ("GNNREC_LIBRARY", "GNNREC_NO_LIBRARY")}
    base["PYTHONPATH"] = str(PYTHON_DIR)
    return subprocess.run([sys.executable, "-m", "gnnrec.plot", str(run_dir)],
                          capture_output=True, text=True, timeout=120, env={**base, **env})


def check_png(run_dir):
    png = run_dir / "curves.png"
    assert png.is_file()
    data = png.read_bytes()
    assert len(data) > 1000 and data.startswith(PNG_MAGIC)
    assert sorted(p.name for p in run_dir.iterdir()) == ["curves.png", "metrics.jsonl"]


@pytest.mark.parametrize("rating", [False, True])
def test_plot_writes_curves_png(tmp_path, rating):
    run_dir = tmp_path / "run"
    write_metrics(run_dir, rating)
    proc = run_plot(run_dir)
    assert proc.returncode == 0, proc.stderr
    check_png(run_dir)


def test_plot_in_process_picks_k20_and_rating_metrics(tmp_path, monkeypatch):
    monkeypatch.setenv("GNNREC_NO_LIBRARY", "1")
    sys.path.insert(0, str(PYTHON_DIR))
    try:
        from gnnrec import plot
    finally:
        sys.path.remove(str(PYTHON_DIR))
    run_dir = tmp_path / "run"
    write_metrics(run_dir, rating=True)
    assert plot._metric_keys(plot.load_metrics(run_dir)) == ["recall@20", "ndcg@20", "rmse", "mae"]
    assert plot.plot_run(run_dir).path == run_dir / "curves.png"
    check_png(run_dir)


def test_plot_with_no_library_env(tmp_path):
    run_dir = tmp_path / "run"
    write_metrics(run_dir)
    base = {k: v for k, v in os.environ.items() if k != "GNNREC_LIBRARY"}
    proc = subprocess.run([sys.executable, "-c",
                           "import sys; from gnnrec.plot import main; sys.exit(main([sys.argv[1]]))",
                           str(run_dir)], capture_output=True, text=True, timeout=120,
                          env={**base, "PYTHONPATH": str(PYTHON_DIR), "GNNREC_NO_LIBRARY": "1"})
    assert proc.returncode == 0, proc.stderr
    check_png(run_dir)


def test_plot_missing_metrics_is_one_line_error(tmp_path):
    proc = run_plot(tmp_path)
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("gnnrec.plot: error:") and "metrics.jsonl" in lines[0]
    assert not (tmp_path / "curves.png").exists()


def test_plot_empty_metrics_is_one_line_error(tmp_path):
    (tmp_path / "metrics.jsonl").write_text("")
    proc = run_plot(tmp_path)
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "empty" in lines[0], proc.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["metrics.jsonl"]


def import_plot(monkeypatch):
    monkeypatch.setenv("GNNREC_NO_LIBRARY", "1")
    sys.path.insert(0, str(PYTHON_DIR))
    try:
        from gnnrec import plot
    finally:
        sys.path.remove(str(PYTHON_DIR))
    return plot


def write_run(run_dir, model="lightgcn", lr=0.001, curve=(0.02, 0.20, 0.30, 0.35), seconds=0.5,
              rating=False):
    """A run as `gnnrec train --eval-initial --eval-every 5` writes it: epoch 0
    (loss null), then every 5 epochs; summary.json's baseline and best epoch;
    config.json."""
    run_dir.mkdir(parents=True, exist_ok=True)
    lines = []
    for i, value in enumerate(curve):
        epoch = 5 * i
        m = {"rmse": 1.5 - value, "mae": 1.2 - value} if rating else \
            {"recall@20": value, "ndcg@20": value / 2, "recall@10": value / 3}
        lines.append({"epoch": epoch, "loss": None if epoch == 0 else 0.7 - value,
                      "train_seconds": seconds, "train_seconds_total": seconds * epoch,
                      "eval_seconds": 0.01, "metrics": m})
    (run_dir / "metrics.jsonl").write_text("".join(json.dumps(l) + "\n" for l in lines))
    best = lines[-1]
    baseline = "global_mean" if rating else "popularity"
    base = {"rmse": 1.4, "mae": 1.1} if rating else {"recall@20": 0.1, "ndcg@20": 0.05,
                                                     "recall@10": 0.04}
    (run_dir / "summary.json").write_text(json.dumps(
        {"best_epoch": best["epoch"], "best": best["metrics"], "baseline": baseline,
         baseline: base, "epochs_run": best["epoch"]}))
    (run_dir / "config.json").write_text(json.dumps(
        {"model": model, "dataset": "/somewhere/ml-100k", "lr": lr, "dim": 64, "layers": 3,
         "out": str(run_dir), "threads": 2, "epochs": best["epoch"]}))
    return lines


def panel(drawing, metric, xlabel="epoch"):
    found = [p for p in drawing.panels if p.metric == metric and p.xlabel.startswith(xlabel)]
    assert len(found) == 1, [(p.metric, p.xlabel) for p in drawing.panels]
    return found[0]


def test_one_run_draws_its_baseline_best_epoch_and_axes_from_zero(tmp_path, monkeypatch):
    plot = import_plot(monkeypatch)
    lines = write_run(tmp_path / "run")
    d = plot.plot_run(tmp_path / "run")
    assert d.path == tmp_path / "run" / "curves.png"
    check_png_file(d.path)
    assert [p.metric for p in d.panels] == ["training loss", "recall@20", "ndcg@20"]
    assert d.title == "lightgcn on ml-100k: best epoch 15 of 15"
    recall = panel(d, "recall@20")
    (s,) = recall.series
    # Epoch 0, the untrained model, starts the curve.
    assert s.x == [0, 5, 10, 15] and s.y == [l["metrics"]["recall@20"] for l in lines]
    assert recall.baselines == {"popularity": 0.1}
    assert recall.best_epoch == 15 and s.best == (15, 0.35)
    # From 0 to just above the largest value drawn.
    assert recall.ylim == (0.0, pytest.approx(0.35 * plot.Y_HEADROOM))
    loss = panel(d, "training loss")
    assert loss.series[0].x == [5, 10, 15]  # no loss before training
    assert loss.baselines == {} and loss.ylim[0] == 0.0


def test_rating_run_draws_the_global_mean(tmp_path, monkeypatch):
    plot = import_plot(monkeypatch)
    write_run(tmp_path / "run", rating=True)
    d = plot.plot_run(tmp_path / "run", out=tmp_path / "elsewhere.png")
    assert d.path == tmp_path / "elsewhere.png" and not (tmp_path / "run" / "curves.png").exists()
    check_png_file(d.path)
    assert [p.metric for p in d.panels] == ["training loss", "rmse", "mae"]
    assert panel(d, "rmse").baselines == {"global mean": 1.4}
    assert panel(d, "mae").baselines == {"global mean": 1.1}


def test_several_runs_overlaid_against_epochs_and_seconds(tmp_path, monkeypatch):
    plot = import_plot(monkeypatch)
    a = write_run(tmp_path / "a", model="lightgcn", lr=0.001, seconds=0.5)
    b = write_run(tmp_path / "b", model="mf", lr=0.01, curve=(0.01, 0.1, 0.15, 0.16),
                  seconds=0.1)
    d = plot.plot_runs([tmp_path / "a", tmp_path / "b"], tmp_path / "cmp.png")
    check_png_file(tmp_path / "cmp.png")
    assert [(p.metric, p.xlabel.split()[0]) for p in d.panels] == [
        (m, x) for m in ("training loss", "recall@20", "ndcg@20") for x in ("epoch", "training")]
    by_epoch, by_seconds = panel(d, "recall@20"), panel(d, "recall@20", "training seconds")
    # Labelled by model and the setting in which the runs differ.
    assert [s.label for s in by_epoch.series] == ["lightgcn lr 0.001", "mf lr 0.01"]
    assert len({s.color for s in by_epoch.series}) == 2
    assert [s.color for s in by_seconds.series] == [s.color for s in by_epoch.series]
    assert by_seconds.series[0].x == [l["train_seconds_total"] for l in a]
    assert by_seconds.series[1].x == [l["train_seconds_total"] for l in b]
    assert by_seconds.series[1].y == [l["metrics"]["recall@20"] for l in b]
    assert [s.best for s in by_epoch.series] == [(15, 0.35), (15, 0.16)]
    assert by_epoch.baselines == {"popularity": 0.1}  # one data set: one line
    assert by_epoch.ylim[0] == 0.0


def test_identical_settings_are_told_apart_by_directory(tmp_path, monkeypatch):
    plot = import_plot(monkeypatch)
    write_run(tmp_path / "first")
    write_run(tmp_path / "second")
    d = plot.plot_runs([tmp_path / "first", tmp_path / "second"], tmp_path / "cmp.png")
    assert [s.label for s in d.panels[0].series] == ["lightgcn dim 64 lr 0.001 (first)",
                                                     "lightgcn dim 64 lr 0.001 (second)"]


def test_seconds_of_an_older_run_are_estimated(tmp_path, monkeypatch):
    # Written before train_seconds_total: evaluated epochs' train_seconds
    # times the epochs since the previous evaluation.
    plot = import_plot(monkeypatch)
    write_metrics(tmp_path / "old")  # epochs 5, 10, 15 at 0.1 s each
    write_metrics(tmp_path / "old2")
    d = plot.plot_runs([tmp_path / "old", tmp_path / "old2"], tmp_path / "cmp.png")
    assert panel(d, "recall@20", "training seconds").series[0].x == pytest.approx([0.5, 1.0, 1.5])


def check_png_file(path):
    data = path.read_bytes()
    assert len(data) > 1000 and data.startswith(PNG_MAGIC)
    assert not [p.name for p in path.parent.iterdir() if p.name.endswith(".tmp")]


@pytest.mark.parametrize("args, message", [
    (["A", "B"], "several runs need --out FILE.png"),
    (["A", "--out", "x.txt"], "must end in .png"),
    (["A", "--out"], "--out needs a FILE.png"),
    (["A", "--bogus"], "unknown option --bogus"),
    ([], "no run directory given"),
])
def test_bad_arguments_are_one_line_errors(tmp_path, args, message):
    write_metrics(tmp_path / "A")
    base = {k: v for k, v in os.environ.items() if k != "GNNREC_LIBRARY"}
    proc = subprocess.run([sys.executable, "-m", "gnnrec.plot", *args], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120,
                          env={**base, "PYTHONPATH": str(PYTHON_DIR)})
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("gnnrec.plot: error:"), proc.stderr
    assert message in lines[0]
    assert sorted(p.name for p in (tmp_path / "A").iterdir()) == ["metrics.jsonl"]
