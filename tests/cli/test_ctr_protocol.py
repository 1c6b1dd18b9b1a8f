"""`gnnrec train --protocol ctr`: KGCN's CTR protocol (graph/ctr_split.h). The
records a run writes (ctr_records.tsv) are checked against the interaction
file the test wrote: the 6:2:2 proportions, as many negatives as positives
per user, and no negative that is an interaction of its user. Then the
metrics a run reports, that a model learns a planted preference, and the
errors for misuse. (AUC, accuracy and F1 against a hand-worked example:
tests/train/metrics_test.cpp.)"""
import collections
import csv
import json
import random

from conftest import run

USERS, ARTISTS, GENRES = 40, 48, 4


def write_music(path, seed=3, users=USERS):
    """KGCN's Last.FM layout. User u listens to 6 artists of genre u % 4 and
    2 random others; artist a (raw id 100 + a) is entity a, linked to its
    genre entity 48 + a % 4. Only artists below 40 have an entity: the
    others must be dropped as KGCN does."""
    rng = random.Random(seed)
    path.mkdir()
    lines = ["userID\tartistID\tweight"]
    positives = set()
    for u in range(users):
        mine = [a for a in range(40) if a % GENRES == u % GENRES]
        chosen = rng.sample(mine, 6) + rng.sample(range(ARTISTS), 2)
        for a in dict.fromkeys(chosen):
            lines.append(f"{u}\t{100 + a}\t{rng.randint(1, 99)}")
            if a < 40:
                positives.add((str(u), str(100 + a)))
    (path / "user_artists.dat").write_text("\n".join(lines) + "\n")
    (path / "item_index2entity_id.txt").write_text(
        "".join(f"{100 + a}\t{a}\n" for a in range(40)))
    (path / "kg.txt").write_text(
        "".join(f"{a}\tmusic.genre\t{48 + a % GENRES}\n" for a in range(40)))
    return positives


def read_records(run_dir):
    with open(run_dir / "ctr_records.tsv") as f:
        return list(csv.DictReader(f, delimiter="\t"))


def ctr_train(data, out, *extra):
    return run("train", "--dataset", data, "--protocol", "ctr", "--loss", "bce", "--quiet",
               "--threads", "2", "--out", out, *extra, check=True)


def test_records_split_and_negatives(tmp_path):
    data = tmp_path / "music"
    positives = write_music(data)
    out = tmp_path / "run"
    r = ctr_train(data, out, "--model", "kgcn", "--layers", "1", "--dim", "8", "--fanouts", "4",
                  "--epochs", "2", "--eval-every", "1", "--batch-size", "64")
    assert "--protocol ctr, best epoch by the eval records' auc)" in r.out, r.out
    records = read_records(out)
    n = len(records)
    # Every positive once with label 1, and as many negatives in all.
    pos = {(r["user"], r["item"]) for r in records if r["label"] == "1"}
    assert pos == positives
    assert n == 2 * len(positives)
    parts = collections.Counter(r["part"] for r in records)
    assert parts["eval"] == n * 2 // 10 and parts["test"] == n * 2 // 10
    assert parts["train"] == n - 2 * (n * 2 // 10)
    per_user = collections.Counter((r["user"], r["label"]) for r in records)
    items = {str(100 + a) for a in range(40)}
    for u in {r["user"] for r in records}:
        assert per_user[(u, "0")] == per_user[(u, "1")], u
    seen = set()
    for r in records:
        key = (r["user"], r["item"])
        assert key not in seen  # no record twice
        seen.add(key)
        assert r["item"] in items  # only artists with a KG entity
        if r["label"] == "0":
            assert key not in positives, key  # never an interaction of that user

    # Metrics: test records in "metrics", eval records in "valid".
    lines = [json.loads(l) for l in (out / "metrics.jsonl").read_text().splitlines()]
    assert [l["epoch"] for l in lines] == [1, 2]
    for l in lines:
        for part in ("metrics", "valid"):
            assert set(l[part]) == {"auc", "acc", "f1", "logloss"}
            assert 0 <= l[part]["auc"] <= 1 and 0 <= l[part]["acc"] <= 1
    summary = json.loads((out / "summary.json").read_text())
    assert summary["early_stop_metric"] == "auc"
    assert summary["protocol"].startswith("ctr")
    assert summary["ctr_records"] == {"train": parts["train"], "eval": parts["eval"],
                                      "test": parts["test"]}
    best = [l for l in lines if l["epoch"] == summary["best_epoch"]][0]
    assert summary["best"] == best["metrics"] and summary["best_valid"] == best["valid"]
    # The run loads back: evaluate reports the best checkpoint's test metrics.
    ev = run("evaluate", "--run", out, check=True)
    assert f"auc      {summary['best']['auc']:.4f}" in ev.out, ev.out


def test_mf_learns_the_planted_preference(tmp_path):
    data = tmp_path / "music"
    write_music(data, users=400)
    out = tmp_path / "run"
    ctr_train(data, out, "--model", "mf", "--dim", "8", "--epochs", "10", "--eval-every", "5",
              "--lr", "0.05", "--batch-size", "128", "--reg", "0.1")
    summary = json.loads((out / "summary.json").read_text())
    # Popularity cannot tell genres apart; the user–genre preference can.
    assert summary["best"]["auc"] > 0.75, summary
    assert summary["best"]["auc"] > summary["popularity"]["auc"] + 0.2, summary
    assert summary["best"]["acc"] > 0.65, summary


def expect_error(result, *needles):
    assert result.code != 0
    for needle in needles:
        assert needle in result.err, (needle, result.err)


def test_misuse(tmp_path):
    data = tmp_path / "music"
    write_music(data)
    out = tmp_path / "run"
    base = ("train", "--dataset", data, "--model", "mf", "--epochs", "1", "--quiet", "--out", out)
    expect_error(run(*base, "--protocol", "ctr"), "--protocol ctr", "--loss bce", "'bpr'")
    expect_error(run(*base, "--protocol", "ctr", "--loss", "mse"), "--loss bce", "'mse'")
    expect_error(run(*base, "--protocol", "clicks"), "--protocol must be ranking or ctr")
    expect_error(run(*base, "--protocol", "ctr", "--loss", "bce", "--early-stop-metric",
                     "recall@20"), "'recall@20' is not a metric of --protocol ctr")
    expect_error(run(*base, "--early-stop-metric", "acc"), "only under --protocol ctr")
    # A data set that ships its own train/test split.
    split = tmp_path / "split"
    split.mkdir()
    (split / "train.txt").write_text("0 1 2\n1 2 3\n")
    (split / "test.txt").write_text("0 3\n1 1\n")
    expect_error(run("train", "--dataset", split, "--protocol", "ctr", "--loss", "bce",
                     "--model", "mf", "--epochs", "1", "--quiet", "--out", out),
                 str(split), "ships a train/test split")
    assert not out.exists()
