"""The plot hook of `gnnrec train`: after a successful run (GNNREC_NO_PLOT
unset) it runs `python -m gnnrec.plot RUN_DIR`; a missing interpreter is a
warning, never a failure."""
from conftest import run

SMALL = ["--dataset", "synthetic", "--synthetic-users", "200", "--synthetic-items", "150",
         "--model", "mf", "--dim", "8", "--batch-size", "512", "--epochs", "2",
         "--eval-every", "1", "--quiet", "--threads", "2"]
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_train_writes_curves_png(tmp_path):
    out = tmp_path / "run"
    r = run("train", *SMALL, "--out", out, env={"GNNREC_NO_PLOT": ""}, check=True)
    assert "warning" not in r.err, r.err
    png = out / "curves.png"
    assert png.is_file() and png.read_bytes().startswith(PNG_MAGIC)
    assert not [p.name for p in out.iterdir() if p.name.endswith(".tmp")]


def test_missing_python_is_a_warning(tmp_path):
    out = tmp_path / "run"
    r = run("train", *SMALL, "--out", out, env={"GNNREC_NO_PLOT": "0",
                                                "GNNREC_PYTHON": "/nonexistent"})
    assert r.code == 0, r.err
    warnings = [l for l in r.err.splitlines() if l.startswith("gnnrec: warning: could not plot")]
    assert len(warnings) == 1 and "/nonexistent" in warnings[0], r.err
    assert (out / "summary.json").is_file()
    assert not (out / "curves.png").exists()


def test_no_plot_skips_the_hook(tmp_path):
    out = tmp_path / "run"
    r = run("train", *SMALL, "--out", out, env={"GNNREC_PYTHON": "/nonexistent"}, check=True)
    assert "warning" not in r.err
    assert not (out / "curves.png").exists()
