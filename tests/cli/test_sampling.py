"""--sampling per-user (LightGCN's and NGCF's protocol, samplers/pair_sampler.h)
from the command line: it trains, a resumed run equals the uninterrupted one,
it is not the per-interaction run, and --protocol ctr refuses it. The
distributions themselves are checked in tests/samplers/pair_sampler_test.cpp."""
import json

from conftest import run

SMALL = ["--model", "lightgcn", "--dataset", "synthetic", "--synthetic-users", "300",
         "--synthetic-items", "200", "--dim", "16", "--layers", "2", "--batch-size", "512",
         "--lr", "0.01", "--eval-every", "2", "--threads", "1", "--quiet"]


def metric_lines(d):
    return [json.loads(l) for l in (d / "metrics.jsonl").read_text().splitlines()]


def test_per_user_sampling_trains_and_resumes_exactly(tmp_path):
    full, part, other = tmp_path / "full", tmp_path / "part", tmp_path / "other"
    run("train", *SMALL, "--sampling", "per-user", "--epochs", "4", "--out", full, check=True)
    run("train", *SMALL, "--sampling", "per-user", "--epochs", "2", "--out", part, check=True)
    run("train", "--resume", "--epochs", "4", "--out", part, "--quiet", check=True)
    drop = lambda ls: [(l["epoch"], l["loss"], l["metrics"]) for l in ls]  # noqa: E731
    assert drop(metric_lines(full)) == drop(metric_lines(part))
    assert json.loads((full / "config.json").read_text())["sampling"] == "per-user"
    run("train", *SMALL, "--epochs", "4", "--out", other, check=True)
    assert metric_lines(other)[0]["loss"] != metric_lines(full)[0]["loss"]


def test_ctr_protocol_refuses_per_user_sampling(tmp_path):
    r = run("train", "--model", "mf", "--dataset", "synthetic", "--protocol", "ctr", "--loss",
            "bce", "--sampling", "per-user", "--out", tmp_path / "run")
    assert r.code == 1 and "--sampling per-user" in r.err and "--protocol ctr" in r.err
    assert not (tmp_path / "run").exists()
