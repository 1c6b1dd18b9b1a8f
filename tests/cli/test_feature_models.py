"""The feature-based recommenders of issue 24 from the command line (fm,
ffm, widedeep, dcn over the users' and items' side features; twotower over ids
plus features) on a small MovieLens 100K layout written here (u.data,
u.user, u.item) with a planted preference: women pick items of genres 0-1,
men of genres 2-3. They train, rank, recommend and resume; fm, ffm, widedeep
and dcn also run --protocol ctr; twotower's towers export to the serving
files; without features the first four stop with one line."""
import json
import random

import numpy as np
import pytest

from conftest import resumed_run_equals_uninterrupted, run

USERS, ITEMS = 80, 60
OPTIONS = ["--dim", "8", "--batch-size", "256", "--lr", "0.01", "--quiet", "--threads", "1",
           "--seed", "3", "--loss", "bce", "--negatives", "4"]


@pytest.fixture(scope="module")
def movielens(tmp_path_factory):
    path = tmp_path_factory.mktemp("ml-small")
    rng = random.Random(4)
    rows, t = [], 880000000
    for u in range(1, USERS + 1):
        liked = [i for i in range(1, ITEMS + 1) if (i % 4 < 2) == (u % 2 == 1)]
        for i in rng.sample(liked, 10) + rng.sample(range(1, ITEMS + 1), 2):
            t += 1
            rows.append(f"{u}\t{i}\t4\t{t}")
    (path / "u.data").write_text("\n".join(dict.fromkeys(rows)) + "\n")
    jobs = ["student", "engineer", "writer"]
    (path / "u.user").write_text("".join(
        f"{u}|{18 + u % 40}|{'F' if u % 2 else 'M'}|{jobs[u % 3]}|0000{u}\n"
        for u in range(1, USERS + 1)))
    items = []
    for i in range(1, ITEMS + 1):
        flags = ["1" if g in (i % 4, 4 + i % 7) else "0" for g in range(19)]
        items.append("|".join([str(i), f"Movie {i} (1995)", "01-Jan-1995", "", "url", *flags]))
    (path / "u.item").write_text("\n".join(items) + "\n")
    return path


@pytest.mark.parametrize("model", ["fm", "ffm", "widedeep", "dcn", "twotower"])
def test_learns_recommends_and_resumes(tmp_path, movielens, model):
    args = ["train", "--model", model, "--dataset", movielens, *OPTIONS, "--eval-every", "1"]
    full = resumed_run_equals_uninterrupted(args, tmp_path)
    assert len(full) == 4
    assert full[-1]["loss"] < full[0]["loss"]
    summary = json.loads((tmp_path / "full" / "summary.json").read_text())
    assert 0 <= summary["best"]["recall@20"] <= 1
    rec = run("recommend", "--run", tmp_path / "full", "--user", "3", "--k", "5", check=True).out
    assert len(rec.strip().splitlines()) == 6


@pytest.mark.parametrize("model", ["fm", "ffm", "widedeep", "dcn"])
def test_ctr_protocol_learns_the_planted_preference(tmp_path, movielens, model):
    out = tmp_path / "run"
    run("train", "--model", model, "--dataset", movielens, *OPTIONS, "--protocol", "ctr",
        "--epochs", "15", "--eval-every", "5", "--out", out, check=True)
    best = json.loads((out / "summary.json").read_text())["best"]
    assert best["auc"] > 0.7 and best["logloss"] > 0, best


def test_twotower_exports_its_towers(tmp_path, movielens):
    out = tmp_path / "run"
    run("train", "--model", "twotower", "--dataset", movielens, *OPTIONS, "--epochs", "3",
        "--out", out, check=True)
    run("export", "--run", out, "--out", tmp_path / "export", check=True)
    users = np.load(tmp_path / "export" / "users.npy")
    items = np.load(tmp_path / "export" / "items.npy")
    assert users.shape == (USERS, 8) and items.shape == (ITEMS, 8)
    # The towers' outputs are unit vectors; recommend's scores are their dot products.
    assert np.allclose(np.linalg.norm(users, axis=1), 1, atol=1e-5)
    ids = (tmp_path / "export" / "item_ids.txt").read_text().splitlines()
    user = users[(tmp_path / "export" / "user_ids.txt").read_text().splitlines().index("1")]
    rec = run("recommend", "--run", out, "--user", "1", "--k", "3", check=True).out
    for line in rec.strip().splitlines()[1:]:
        _, item, score = line.split("\t")
        assert float(score) == pytest.approx(float(user @ items[ids.index(item)]), abs=1e-4)


@pytest.mark.parametrize("model", ["fm", "ffm", "widedeep", "dcn"])
def test_without_features_is_one_line(tmp_path, movielens, model):
    for data in (["--dataset", "synthetic", "--synthetic-users", "50"],
                 ["--dataset", str(movielens), "--no-side-info"]):
        r = run("train", "--model", model, *data, *OPTIONS, "--epochs", "1", "--out",
                tmp_path / "run")
        assert r.code == 1 and len(r.err.strip().splitlines()) == 1, r.err
        assert f"--model {model} reads user and item side features" in r.err, r.err
        assert not (tmp_path / "run" / "summary.json").exists()
