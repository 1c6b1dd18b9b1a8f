"""python -m gnnrec.plot RUN_DIR: curves.png from metrics.jsonl, written
atomically, without the compiled library; a clear error for a run directory
without evaluations."""
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
    assert plot.plot_run(run_dir) == run_dir / "curves.png"
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
