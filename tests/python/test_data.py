"""gnnrec.data: the trainer's data preparation (torch.ops.gnnrec._load_dataset)
reached from Python, and the edge_index / CSR / HeteroData views of a split."""
import collections
import os
import random

import pytest
import torch

import gnnrec
from gnnrec import data

ML100K = os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared", "data", "ml-100k")


@pytest.fixture(autouse=True)
def _private_cache(tmp_path, monkeypatch):
    # Keep the binary data set cache of these throw-away folders out of ~/.cache.
    monkeypatch.setenv("GNNREC_CACHE", str(tmp_path / "cache"))


def write(folder, name, text):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text)
    return folder


def test_lightgcn_folder(tmp_path):
    d = tmp_path / "tiny"
    write(d, "train.txt", "0 1 2\n1 0\n3 2 4\n")
    write(d, "test.txt", "0 3\n3 0\n")
    ds = data.load(d)
    assert ds.name == "tiny"
    assert (ds.num_users, ds.num_items) == (3, 5)
    assert ds.user_ids == ["0", "1", "3"]
    assert ds.item_ids == ["0", "1", "2", "3", "4"]
    assert ds.train.dtype == torch.long and ds.train.shape == (2, 5)
    assert sorted(map(tuple, ds.train.t().tolist())) == [(0, 1), (0, 2), (1, 0), (2, 2), (2, 4)]
    assert sorted(map(tuple, ds.test.t().tolist())) == [(0, 3), (2, 0)]
    assert ds.train_ratings is None and ds.test_ratings is None
    rowptr, col = ds.csr("train")
    assert rowptr.tolist() == [0, 2, 3, 5]
    assert sorted(col[0:2].tolist()) == [1, 2] and col[2].item() == 0
    assert sorted(col[3:5].tolist()) == [2, 4]
    rowptr, col = ds.csr("test")
    assert rowptr.tolist() == [0, 1, 1, 2] and col.tolist() == [3, 0]


def test_movielens_100k_ratings_and_per_user_split(tmp_path):
    rng = random.Random(0)
    counts = {"7": 5, "12": 10, "30": 3, "41": 1, "50": 20}  # test: round(0.2 * n) = 1, 2, 1, 0, 4
    lines, truth = [], {}
    for user, n in counts.items():
        for item in rng.sample(range(1, 60), n):
            rating = rng.randint(1, 5)
            truth[(user, str(item))] = float(rating)
            lines.append(f"{user}\t{item}\t{rating}\t{880000000 + len(lines)}")
    rng.shuffle(lines)
    d = write(tmp_path / "ml", "u.data", "\n".join(lines) + "\n")
    ds = data.load(d, seed=7, train_ratio=0.8)
    assert ds.user_ids == ["7", "12", "30", "41", "50"]  # numeric order
    assert ds.num_items == len({i for _, i in truth})
    assert ds.train.shape[1] + ds.test.shape[1] == len(truth)
    for part in ("train", "test"):
        pairs, ratings = ds.pairs(part), ds.ratings(part)
        assert ratings.dtype == torch.float32 and ratings.shape == (pairs.shape[1],)
        for (u, i), r in zip(pairs.t().tolist(), ratings.tolist()):
            assert truth[(ds.user_ids[u], ds.item_ids[i])] == r
    test_sizes = collections.Counter(ds.user_ids[u] for u in ds.test[0].tolist())
    for user, n in counts.items():
        assert test_sizes[user] == round(n * 0.2)
    # Seeded: the same seed gives the same split, another seed another one.
    again = data.load(d, seed=7, train_ratio=0.8)
    assert torch.equal(again.train, ds.train) and torch.equal(again.test, ds.test)
    other = data.load(d, seed=8, train_ratio=0.8)
    assert not torch.equal(other.test, ds.test)


def test_synthetic_and_views():
    ds = data.load("synthetic", synthetic_users=50, synthetic_items=40, seed=3)
    assert ds.name == "synthetic" and (ds.num_users, ds.num_items) == (50, 40)
    assert ds.train.shape[1] > 0 and ds.test.shape[1] > 0
    assert int(ds.train[0].max()) < 50 and int(ds.train[1].max()) < 40
    for part in ("train", "test"):
        pairs = ds.pairs(part)
        e = pairs.shape[1]
        ei = ds.to_edge_index(part)
        assert ei.shape == (2, 2 * e) and int(ei.max()) < ds.num_nodes
        assert torch.equal(ei[:, e:], ei[:, :e].flip(0))
        assert torch.equal(data.from_edge_index(ei, ds.num_users), pairs)
        directed = ds.to_edge_index(part, bipartite=False)
        assert directed.shape == (2, e)
        assert torch.equal(data.from_edge_index(directed, ds.num_users), pairs)
        hetero = ds.to_hetero(part)
        assert set(hetero) == {("user", "rates", "item"), ("item", "rated_by", "user")}
        assert torch.equal(hetero["user", "rates", "item"], pairs)
        assert torch.equal(hetero["item", "rated_by", "user"], pairs.flip(0))
        assert hetero["user", "rates", "item"].shape == (2, e)
    with pytest.raises(ValueError, match="does not join a user and an item"):
        data.from_edge_index(torch.tensor([[0], [1]]), 50)
    # The CSR feeds the evaluator directly.
    r = gnnrec.metrics.full_ranking(torch.randn(50, 4), torch.randn(40, 4), ds.train, ds.test, ks=(5,))
    assert 0.0 <= r["recall@5"] <= 1.0


def test_errors_name_file_and_line(tmp_path):
    d = write(tmp_path / "bad", "train.txt", "0 1\n1 x\n")
    with pytest.raises(ValueError, match=r"train\.txt:2: ") as e:
        data.load(d)
    assert "\n" not in str(e.value)
    with pytest.raises(ValueError, match="nowhere"):
        data.load(tmp_path / "nowhere")
    with pytest.raises(ValueError, match="unknown data option 'epochs'"):
        data.load("synthetic", epochs=3)
    with pytest.raises(ValueError, match="train-ratio"):
        data.load("synthetic", train_ratio=1.5)
    with pytest.raises(ValueError, match=r"--train-ratio must be a finite number in \(0, 1\), got nan"):
        data.load("synthetic", train_ratio=float("nan"))
    with pytest.raises(ValueError, match=r"'seed' must be in \[0, 9223372036854775807\]"):
        data.load("synthetic", seed=2**64)
    with pytest.raises(ValueError, match="'dataset' must be a string, got 5"):
        data.load(5)


@pytest.mark.skipif(not os.path.isdir(ML100K), reason="../shared/data/ml-100k not present")
def test_shared_movielens_100k():
    ds = data.load(ML100K)
    assert (ds.num_users, ds.num_items) == (943, 1682)
    assert ds.train.shape[1] + ds.test.shape[1] == 100_000
    assert ds.train_ratings is not None and ds.test_ratings is not None
