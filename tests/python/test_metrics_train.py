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


def metric_lines(run_dir):
    return [json.loads(l) for l in (run_dir / "metrics.jsonl").read_text().splitlines()]


def test_resumed_run_equals_uninterrupted(tmp_path):
    config = {**TINY, "epochs": 4, "eval_every": 2}
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
