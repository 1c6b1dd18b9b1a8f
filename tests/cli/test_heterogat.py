"""HeteroGAT from the command line: trains, evaluates and recommends on the
synthetic data (users and items only); the cold-user metrics
(--cold-fraction); --no-side-info; its errors; and MovieLens 100K with its
side information (skipped when ../shared/data is absent)."""
import json
import math

import pytest

from conftest import SHARED_DATA, run
from test_kg_models import write_category_kg

BASE = ["--dataset", "synthetic", "--synthetic-users", "200", "--synthetic-items", "150",
        "--dim", "16", "--layers", "2", "--batch-size", "1024", "--lr", "0.01", "--quiet",
        "--threads", "2"]
SMALL = [*BASE, "--heads", "2"]


def metric_lines(run_dir):
    return [json.loads(l) for l in (run_dir / "metrics.jsonl").read_text().splitlines() if l]


def test_heterogat_trains_evaluates_and_recommends(tmp_path):
    out = tmp_path / "run"
    run("train", "--model", "heterogat", *SMALL, "--epochs", "10", "--eval-every", "5",
        "--out", out, check=True)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["model"] == "heterogat"
    best, pop = summary["best"], summary["popularity"]
    assert best["recall@20"] > pop["recall@20"], (best, pop)
    # The best checkpoint loads back and gives the same numbers.
    ev = run("evaluate", "--run", out, check=True)
    row = next(l for l in ev.out.splitlines() if l.startswith("recall@20 "))
    assert float(row.split()[1]) == pytest.approx(best["recall@20"], abs=1e-4)
    rec = run("recommend", "--run", out, "--user", "0", "--k", "5", check=True)
    assert len(rec.out.strip().splitlines()) == 6  # header and five items
    # A resumed run continues from the checkpoint.
    run("train", "--resume", "--out", out, "--epochs", "12", "--quiet", check=True)
    assert [m["epoch"] for m in metric_lines(out)] == [5, 10, 12]


def test_cold_fraction_reports_the_coldest_users(tmp_path):
    out = tmp_path / "run"
    run("train", "--model", "heterogat", *SMALL, "--epochs", "2", "--eval-every", "1",
        "--cold-fraction", "0.2", "--out", out, check=True)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["cold_users"] == math.ceil(0.2 * summary["test_users"])
    assert summary["cold_max_train_degree"] >= 1
    for line in metric_lines(out):
        for key in ("cold/recall@20", "cold/ndcg@20", "recall@20"):
            assert 0.0 <= line["metrics"][key] <= 1.0
    assert "cold/recall@20" in summary["best"] and "cold/recall@20" in summary["popularity"]
    assert json.loads((out / "config.json").read_text())["cold_fraction"] == 0.2
    ev = run("evaluate", "--run", out, check=True)
    assert "cold/ndcg@20" in ev.out
    # Without the option, no cold keys.
    plain = tmp_path / "plain"
    run("train", "--model", "mf", *SMALL, "--epochs", "1", "--out", plain, check=True)
    assert not any(k.startswith("cold/") for k in metric_lines(plain)[0]["metrics"])


def test_heterogat_on_a_knowledge_graph_needs_no_side_info(tmp_path):
    data = tmp_path / "kg"
    write_category_kg(data)
    r = run("train", "--model", "heterogat", "--dataset", data, "--epochs", "1",
            "--out", tmp_path / "run")
    assert r.code != 0
    assert len(r.err.strip().splitlines()) == 1, r.err
    assert "knowledge graph" in r.err and "--no-side-info" in r.err
    assert not (tmp_path / "run").exists()
    run("train", "--model", "heterogat", "--dataset", data, "--no-side-info", "--dim", "8",
        "--heads", "2", "--epochs", "1", "--quiet", "--threads", "2", "--out", tmp_path / "run",
        check=True)
    assert json.loads((tmp_path / "run" / "config.json").read_text())["side_info"] is False


@pytest.mark.parametrize("args,message", [
    (["--heads", "3"], "--heads (3) must divide --dim (16)"),
    (["--aggregator", "max"], "--aggregator for heterogat must be sum or mean"),
    (["--attention-dropout", "1.5"], "--attention-dropout"),
    (["--cold-fraction", "1.5"], "--cold-fraction must be in [0, 1]"),
])
def test_bad_options_are_one_line_errors(tmp_path, args, message):
    r = run("train", "--model", "heterogat", *BASE, *args, "--epochs", "1",
            "--out", tmp_path / "run")
    assert r.code != 0
    lines = r.err.strip().splitlines()
    assert len(lines) == 1, r.err
    assert message in lines[0], r.err
    assert not (tmp_path / "run" / "summary.json").exists()


@pytest.mark.skipif(not (SHARED_DATA / "ml-100k" / "u.user").exists(), reason="shared data absent")
@pytest.mark.parametrize("side", [True, False], ids=["side-info", "no-side-info"])
def test_movielens_100k_with_and_without_side_information(tmp_path, side):
    out = tmp_path / "run"
    run("train", "--model", "heterogat", "--dataset", SHARED_DATA / "ml-100k", "--dim", "16",
        "--layers", "1", "--heads", "2", "--epochs", "1", "--cold-fraction", "0.2", "--quiet",
        "--threads", "2", "--out", out, *([] if side else ["--no-side-info"]), check=True)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["users"] == 943 and summary["items"] == 1682
    assert summary["cold_users"] == math.ceil(0.2 * summary["test_users"])
    # The side information adds the side types' parameters to the checkpoint.
    from_ckpt = (out / "checkpoints" / "last.ckpt").read_bytes()
    assert (b"embedding.occupation" in from_ckpt) == side
