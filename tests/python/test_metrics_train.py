"""gnnrec.metrics.full_ranking and gnnrec.train / Trainer: the C++ evaluator
and training loop reached from Python."""
import json
import math

import pytest
import torch

import gnnrec


def test_full_ranking_hand_ranked_example():
    # tests/train/evaluator_test.cpp's HandRankedExample, worked by hand there.
    users = torch.tensor([[1.0], [-1.0], [0.0]])  # scores: user 0 [4,3,2,1], user 1 [-4,-3,-2,-1]
    items = torch.tensor([[4.0], [3.0], [2.0], [1.0]])
    train = [(0, 0), (1, 3)]  # user 2 has no test items: not averaged
    test = [(0, 2), (1, 0), (1, 1)]
    l3 = math.log2(3.0)
    for tr, te in ((train, test), (torch.tensor(train).t(), torch.tensor(test))):
        r = gnnrec.metrics.full_ranking(users, items, tr, te, ks=(1, 2))
        assert r["recall@1"] == 0.0
        assert r["recall@2"] == pytest.approx((1.0 + 0.5) / 2)
        assert r["ndcg@2"] == pytest.approx(((1 / l3) + (1 / l3) / (1 + 1 / l3)) / 2, abs=1e-6)
        assert r["precision@2"] == pytest.approx(0.5)
        assert r["hit@2"] == 1.0
        assert r["auc"] == pytest.approx(0.25)
        assert r["coverage@1"] == 0.5 and r["coverage@2"] == 0.5


def reference(user_emb, item_emb, train, test, k):
    """recall@k and ndcg@k computed directly: mask, sort, average over test users."""
    scores = user_emb.double() @ item_emb.double().t()
    for u, i in train:
        scores[u, i] = -math.inf
    truth = {}
    for u, i in test:
        truth.setdefault(u, set()).add(i)
    recall = ndcg = 0.0
    for u, t in truth.items():
        top = torch.argsort(scores[u], descending=True, stable=True)[:k].tolist()
        rel = [1.0 if i in t else 0.0 for i in top]
        recall += sum(rel) / len(t)
        dcg = sum(r / math.log2(p + 2) for p, r in enumerate(rel))
        idcg = sum(1 / math.log2(p + 2) for p in range(min(len(t), k)))
        ndcg += dcg / idcg
    return recall / len(truth), ndcg / len(truth)


def test_full_ranking_matches_reference_on_random_case():
    g = torch.Generator().manual_seed(0)
    n_users, n_items, d = 40, 60, 8
    user_emb = torch.randn(n_users, d, generator=g)  # continuous scores: no ties
    item_emb = torch.randn(n_items, d, generator=g)
    pairs = torch.randint(0, n_items, (n_users, 10), generator=g)
    train, test = [], []
    for u in range(n_users - 3):  # the last 3 users have no interactions
        items = sorted(set(pairs[u].tolist()))
        cut = max(1, len(items) * 2 // 3)
        train += [(u, i) for i in items[:cut]]
        test += [(u, i) for i in items[cut:]]
    r = gnnrec.metrics.full_ranking(user_emb, item_emb, torch.tensor(train).t(), test, ks=(5, 20))
    for k in (5, 20):
        recall, ndcg = reference(user_emb, item_emb, train, test, k)
        assert r[f"recall@{k}"] == pytest.approx(recall, abs=1e-9)
        assert r[f"ndcg@{k}"] == pytest.approx(ndcg, abs=1e-6)


def test_full_ranking_rejects_bad_ids():
    with pytest.raises(ValueError, match="out of range"):
        gnnrec.metrics.full_ranking(torch.randn(2, 3), torch.randn(4, 3), [(0, 4)], [(1, 0)])


@pytest.mark.parametrize("which", ["user", "item"])
@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_full_ranking_rejects_non_finite_embeddings(which, bad):
    # A NaN score would rank arbitrarily and report an AUC of 0 without an error.
    emb = {"user": torch.randn(3, 2), "item": torch.randn(4, 2)}
    emb[which][1, 0] = bad
    with pytest.raises(ValueError, match=f"the {which} embeddings hold NaN or Inf"):
        gnnrec.metrics.full_ranking(emb["user"], emb["item"], [(0, 0)], [(0, 1), (2, 3)])


TINY = {"model": "lightgcn", "dataset": "synthetic", "synthetic_users": 200, "synthetic_items": 150,
        "dim": 16, "layers": 2, "epochs": 3, "eval_every": 3, "lr": 0.01, "batch_size": 512}


def test_train_returns_summary_and_beats_popularity(tmp_path):
    out = tmp_path / "run"
    summary = gnnrec.Trainer({**TINY, "out": out}).fit()
    assert summary == json.loads((out / "summary.json").read_text())
    assert summary["model"] == "lightgcn" and summary["baseline"] == "popularity"
    assert summary["best"]["recall@20"] > summary["popularity"]["recall@20"]
    assert json.loads((out / "config.json").read_text())["dim"] == 16


def test_train_errors_are_value_errors(tmp_path):
    with pytest.raises(ValueError, match="--lr") as e:
        gnnrec.train({**TINY, "lr": -1, "out": tmp_path / "bad"})
    assert "\n" not in str(e.value)
    assert not (tmp_path / "bad").exists()
    with pytest.raises(ValueError, match="unknown configuration key 'learning_rate'"):
        gnnrec.train({**TINY, "learning_rate": 0.1, "out": tmp_path / "bad"})


@pytest.mark.parametrize("key,value,error,message", [
    ("dim", 8.5, ValueError, "'dim' must be an integer, got 8.5"),
    ("dim", "8", ValueError, "'dim' must be an integer, got \"8\""),
    ("model", 5, ValueError, "'model' must be a string, got 5"),
    ("topk", [10, "x"], ValueError, "'topk' must be an integer, got \"x\""),
    ("side_info", "yes", ValueError, "'side_info' must be true or false, got \"yes\""),
    ("lr", {"rate": 0.1}, TypeError, "'lr' must be a string, number, bool, None or list, got dict"),
    # Out of range, and past the member's type: never wrapped or saturated.
    ("epochs", 10**30, ValueError, "'epochs' must be in [1, 1000000000], got 1e+30"),
    ("seed", 2**64, ValueError, "'seed' must be in [0, 9223372036854775807], got 1.8446744073709552e+19"),
    ("seed", -1, ValueError, "'seed' must be in [0, 9223372036854775807], got -1"),
    ("dim", 10**6, ValueError, "'dim' must be in [1, 65536], got 1000000"),
    # JSON holds no NaN: it still reaches the range check, which names the key.
    ("lr", float("nan"), ValueError, "--lr must be a finite number > 0, got nan"),
    ("reg", float("-inf"), ValueError, "--reg must be a finite number >= 0, got -inf"),
])
def test_train_names_the_key_of_a_bad_value(tmp_path, key, value, error, message):
    with pytest.raises(error) as e:
        gnnrec.train({**TINY, key: value, "out": tmp_path / "bad"})
    assert message in str(e.value) and "json.exception" not in str(e.value)
    assert not (tmp_path / "bad").exists()


def test_train_takes_numpy_numbers(tmp_path):
    np = pytest.importorskip("numpy")
    gnnrec.train({**TINY, "epochs": np.int64(1), "eval_every": 1, "lr": np.float32(0.01),
                  "out": tmp_path / "run"})
    saved = json.loads((tmp_path / "run" / "config.json").read_text())
    assert saved["epochs"] == 1 and saved["lr"] == pytest.approx(0.01)


def metric_lines(run_dir):
    return [json.loads(l) for l in (run_dir / "metrics.jsonl").read_text().splitlines()]


def test_resumed_run_equals_uninterrupted(tmp_path):
    # One thread: compared byte for byte (docs/run_directory.md, "Determinism").
    config = {**TINY, "epochs": 4, "eval_every": 2, "threads": 1}
    full = gnnrec.train({**config, "out": tmp_path / "full"})
    trainer = gnnrec.Trainer({**config, "epochs": 2, "out": tmp_path / "part"})
    trainer.fit()  # "interrupted" after 2 of the 4 epochs
    trainer.config["epochs"] = 4
    resumed = trainer.fit(resume=True)
    for key in ("best_epoch", "epochs_run", "best", "popularity"):
        assert resumed[key] == full[key], key
    a, b = metric_lines(tmp_path / "full"), metric_lines(tmp_path / "part")
    assert [l["epoch"] for l in b] == [2, 4]
    assert [(l["loss"], l["metrics"]) for l in a] == [(l["loss"], l["metrics"]) for l in b]
    # As `gnnrec train --resume --out RUN_DIR`: out alone takes the run's configuration.
    again = gnnrec.train({"out": tmp_path / "part"}, resume=True)
    assert again["best"] == full["best"]


def test_resume_rejects_a_different_configuration(tmp_path):
    out = tmp_path / "run"
    gnnrec.train({**TINY, "epochs": 2, "out": out})
    with pytest.raises(ValueError, match=r"resume: 'lr' is 0\.02 here but 0\.01 in .*config\.json"):
        gnnrec.train({**TINY, "lr": 0.02, "out": out}, resume=True)
    with pytest.raises(ValueError, match="no run to resume"):
        gnnrec.train({**TINY, "out": tmp_path / "none"}, resume=True)
    with pytest.raises(ValueError, match="pass one of them"):
        gnnrec.train({**TINY, "out": out}, resume=True, overwrite=True)


def test_existing_run_needs_resume_or_overwrite(tmp_path):
    out = tmp_path / "run"
    gnnrec.train({**TINY, "out": out})
    files = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    for call in (lambda: gnnrec.train({**TINY, "out": out}),
                 lambda: gnnrec.Trainer({**TINY, "out": str(out)}).fit()):
        with pytest.raises(FileExistsError, match=f"train: {out} already holds a run; pass "
                           "resume=True to continue it or overwrite=True to replace it"):
            call()
    assert files == {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}  # untouched
    summary = gnnrec.train({**TINY, "epochs": 2, "eval_every": 1, "out": out}, overwrite=True)
    assert summary["epochs_run"] == 2
    assert [l["epoch"] for l in metric_lines(out)] == [1, 2]


@pytest.mark.parametrize("model,keys", [("gfcf", {"svd_rank": 24, "ideal_weight": 0.3})])
def test_train_takes_the_issue_20_models_and_their_keys(tmp_path, model, keys):
    out = tmp_path / model
    summary = gnnrec.train({**TINY, "model": model, **keys, "epochs": 2, "eval_every": 1,
                            "out": out})
    assert summary["model"] == model
    assert summary["best"]["recall@20"] > summary["popularity"]["recall@20"]
    config = json.loads((out / "config.json").read_text())
    for key, value in keys.items():
        assert config[key] == value
    with pytest.raises(ValueError, match="svd_rank"):
        gnnrec.train({**TINY, "model": "gfcf", "svd_rank": 0, "out": tmp_path / "bad"})
