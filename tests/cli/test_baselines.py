"""The classic baselines of issue 24 from the command line: the
neighbourhood models (itemknn, userknn) fit once and load back; Mult-VAE
and Mult-DAE train, evaluate, recommend and resume to the uninterrupted run
(the KL annealing's update count included); --eval sampled reports NCF's
HR/NDCG beside full ranking, the same for the same seed."""
import json

import pytest

from conftest import SHARED_DATA, metrics_without_timings, resumed_run_equals_uninterrupted, run

SMALL = ["--dataset", "synthetic", "--synthetic-users", "300", "--synthetic-items", "200",
         "--batch-size", "512", "--lr", "0.01", "--quiet", "--threads", "1", "--seed", "5"]


def lines_of(run_dir):
    return [json.loads(l) for l in (run_dir / "metrics.jsonl").read_text().splitlines()]


@pytest.mark.parametrize("model", [["itemknn", "--knn-neighbors", "50"],
                                   ["userknn", "--knn-neighbors", "30", "--shrink", "2"]],
                         ids=lambda m: m[0])
def test_knn_fits_once_and_loads_back(tmp_path, model):
    out = tmp_path / "run"
    run("train", "--model", *model, *SMALL, "--out", out, check=True)
    lines = lines_of(out)
    assert len(lines) == 1 and lines[0]["epoch"] == 1 and lines[0]["loss"] is None
    summary = json.loads((out / "summary.json").read_text())
    assert summary["best"]["recall@20"] > summary["popularity"]["recall@20"]
    ev = run("evaluate", "--run", out, check=True).out
    row = next(l for l in ev.splitlines() if l.startswith("recall@20"))
    assert float(row.split()[1]) == pytest.approx(summary["best"]["recall@20"], abs=1e-4)
    rec = run("recommend", "--run", out, "--user", "3", "--k", "5", check=True).out
    assert len(rec.strip().splitlines()) == 6  # header and 5 items


@pytest.mark.parametrize("model", [["multvae", "--anneal-steps", "20"], ["multdae"]],
                         ids=lambda m: m[0])
def test_autoencoders_learn_and_resume_to_the_uninterrupted_run(tmp_path, model):
    args = ["train", "--model", *model, *SMALL, "--vae-hidden", "32", "--vae-latent", "8",
            "--reg", "0", "--eval-every", "1"]
    full = resumed_run_equals_uninterrupted(args, tmp_path)
    assert len(full) == 4 and all(l["loss"] is not None for l in full)
    summary = json.loads((tmp_path / "full" / "summary.json").read_text())
    assert summary["model"] == model[0]
    assert summary["best"]["recall@20"] > summary["popularity"]["recall@20"]
    rec = run("recommend", "--run", tmp_path / "full", "--user", "3", "--k", "5", check=True).out
    assert len(rec.strip().splitlines()) == 6


def test_sampled_evaluation_beside_full_ranking(tmp_path):
    args = ["train", "--model", "mf", *SMALL, "--dim", "16", "--split", "loo", "--eval", "sampled",
            "--eval-negatives", "99", "--topk", "10,20", "--epochs", "2", "--eval-every", "2"]
    run(*args, "--out", tmp_path / "a", check=True)
    run(*args, "--out", tmp_path / "b", check=True)
    a, b = lines_of(tmp_path / "a")[-1], lines_of(tmp_path / "b")[-1]
    metrics = a["metrics"] if "metrics" in a else a
    for key in ("sampled/hit@10", "sampled/ndcg@10", "recall@10"):
        assert key in json.dumps(metrics), key
    summary = json.loads((tmp_path / "a" / "summary.json").read_text())
    best = summary["best"]
    assert 0 < best["sampled/hit@10"] <= 1 and 0 < best["sampled/ndcg@10"] <= best["sampled/hit@10"]
    # One test item per user: full ranking's hit rate is at most the sampled one.
    assert best["hit@10"] <= best["sampled/hit@10"]
    assert metrics_without_timings(tmp_path / "a") == metrics_without_timings(tmp_path / "b")
    r = run("train", "--model", "mf", *SMALL, "--eval", "sampled", "--early-stop-metric",
            "sampled/hit@10", "--topk", "10", "--epochs", "1", "--out", tmp_path / "c")
    assert r.code == 0, r.err


@pytest.mark.parametrize("args,message", [
    (["--model", "itemknn", "--knn-neighbors", "0"], "--knn-neighbors must be in"),
    (["--model", "userknn", "--shrink", "-1"], "--shrink"),
    (["--model", "multvae", "--loss", "mse"], "no pair scores"),
    (["--model", "multvae", "--vae-latent", "0"], "--vae-latent must be in"),
    (["--model", "mf", "--eval", "sampled", "--loss", "mse"], "--eval sampled"),
    (["--model", "mf", "--eval", "ranked"], "--eval must be full or sampled"),
    (["--model", "mf", "--early-stop-metric", "sampled/hit@10"], "not one of the computed"),
])
def test_bad_options_are_one_line_errors(tmp_path, args, message):
    r = run("train", *SMALL, *args, "--epochs", "1", "--out", tmp_path / "run")
    assert r.code == 1
    lines = r.err.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], r.err
    assert not (tmp_path / "run" / "summary.json").exists()


ML100K = SHARED_DATA / "ml-100k"


@pytest.mark.skipif(not (ML100K / "u.user").exists(), reason="MovieLens 100K is not in ../shared/data")
def test_group_by_gender_reports_each_group_and_the_gap(tmp_path):
    out = tmp_path / "run"
    run("train", "--model", "mf", "--dataset", ML100K, "--group-by", "gender", "--epochs", "2",
        "--eval-every", "2", "--quiet", "--threads", "2", "--out", out, check=True)
    best = json.loads((out / "summary.json").read_text())["best"]
    assert "gender=M/recall@20" in json.dumps(lines_of(out)[-1])
    # u.user counts the genders; every user has test items under the 80/20 per-user split,
    # so the overall metric is the user-weighted mean of the two groups'.
    genders = [l.split("|")[2] for l in (ML100K / "u.user").read_text().splitlines() if l]
    n = {g: genders.count(g) for g in ("M", "F")}
    for metric in ("recall@20", "ndcg@20", "hit@10"):
        m, f = best[f"gender=M/{metric}"], best[f"gender=F/{metric}"]
        assert best[metric] == pytest.approx((n["M"] * m + n["F"] * f) / (n["M"] + n["F"]), rel=1e-9)
        assert best[f"gender_gap/{metric}"] == pytest.approx(abs(m - f), abs=1e-12)
    r = run("train", "--model", "mf", "--dataset", ML100K, "--group-by", "zodiac", "--epochs", "1",
            "--out", tmp_path / "bad")
    assert r.code == 1 and len(r.err.strip().splitlines()) == 1
    assert "it has: " in r.err and "occupation" in r.err, r.err


def test_group_by_without_side_information_is_a_one_line_error(tmp_path):
    r = run("train", "--model", "mf", *SMALL, "--group-by", "gender", "--epochs", "1",
            "--out", tmp_path / "run")
    assert r.code == 1 and len(r.err.strip().splitlines()) == 1
    assert "no user side information" in r.err, r.err
