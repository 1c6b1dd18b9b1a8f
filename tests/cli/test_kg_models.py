"""Knowledge-graph data sets and models from the command line: a small KG in
KGAT's format where the right answer is known (each user's test items share a
KG entity, their category, with the user's training items), and the KGCN
format; the errors for a data set without a KG. KGCN and KGAT."""
import json
import random

import pytest

from conftest import metrics_without_timings, resumed_run_equals_uninterrupted, run

USERS, ITEMS, CATEGORIES = 60, 60, 6


def write_category_kg(path):
    """KGAT format: user u likes category u % 6; item i is in category i % 6
    (kg_final.txt: `i 0 60+c`). Each user trains on 6 of the category's 10
    items plus one random item of another category, and is tested on the
    other 4 of the category. Popularity cannot tell categories apart."""
    rng = random.Random(7)
    path.mkdir()
    train, test = [], []
    for u in range(USERS):
        c = u % CATEGORIES
        mine = [i for i in range(ITEMS) if i % CATEGORIES == c]
        rng.shuffle(mine)
        other = rng.choice([i for i in range(ITEMS) if i % CATEGORIES != c])
        train.append(f"{u} " + " ".join(map(str, sorted(mine[:6] + [other]))))
        test.append(f"{u} " + " ".join(map(str, sorted(mine[6:]))))
    (path / "train.txt").write_text("\n".join(train) + "\n")
    (path / "test.txt").write_text("\n".join(test) + "\n")
    (path / "kg_final.txt").write_text(
        "".join(f"{i} 0 {ITEMS + i % CATEGORIES}\n" for i in range(ITEMS)))


def test_kgcn_learns_the_known_answer(tmp_path):
    data = tmp_path / "kg"
    write_category_kg(data)
    out = tmp_path / "run"
    run("train", "--model", "kgcn", "--dataset", data, "--layers", "1", "--dim", "16",
        "--fanouts", "4", "--epochs", "40", "--eval-every", "10", "--lr", "0.02",
        "--batch-size", "128", "--topk", "10", "--early-stop-metric", "recall@10", "--quiet", "--threads", "2", "--out", out,
        check=True)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["model"] == "kgcn"
    best, pop = summary["best"], summary["popularity"]
    assert best["recall@10"] > pop["recall@10"] + 0.2, (best, pop)
    # The run loads back: evaluate reproduces the metrics, recommend works.
    ev = run("evaluate", "--run", out, check=True)
    assert "recall@10" in ev.out
    rec = run("recommend", "--run", out, "--user", "0", "--k", "5", check=True)
    assert rec.code == 0


def test_kgcn_concat_two_hops_with_bce(tmp_path):
    data = tmp_path / "kg"
    write_category_kg(data)
    out = tmp_path / "run"
    run("train", "--model", "kgcn", "--dataset", data, "--aggregator", "concat", "--layers", "2",
        "--dim", "8",
        "--fanouts", "3", "--loss", "bce", "--negatives", "2", "--epochs", "2",
        "--eval-every", "2", "--quiet", "--threads", "2", "--out", out, check=True)
    assert json.loads((out / "summary.json").read_text())["best_epoch"] == 2


def test_kgcn_format_folder_trains(tmp_path):
    data = tmp_path / "music"
    data.mkdir()
    lines = ["userID\tartistID\tweight"]
    rng = random.Random(3)
    for u in range(20):
        for a in rng.sample(range(100, 130), 8):
            lines.append(f"{u}\t{a}\t{rng.randint(1, 99)}")
    (data / "user_artists.dat").write_text("\n".join(lines) + "\n")
    (data / "item_index2entity_id.txt").write_text(
        "".join(f"{a}\t{a - 100}\n" for a in range(100, 130)))
    (data / "kg.txt").write_text(
        "".join(f"{e}\tmusic.genre\t{30 + e % 4}\n" for e in range(30)))
    out = tmp_path / "run"
    run("train", "--model", "kgcn", "--dataset", data, "--layers", "1", "--dim", "8",
        "--epochs", "2", "--quiet", "--threads", "2", "--out", out, check=True)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["items"] == 30 and summary["users"] == 20


def test_kgcn_without_a_knowledge_graph_is_one_line(tmp_path):
    r = run("train", "--model", "kgcn", "--dataset", "synthetic", "--epochs", "1",
            "--out", tmp_path / "run")
    assert r.code != 0
    assert "needs a knowledge graph" in r.err
    assert len(r.err.strip().splitlines()) == 1
    assert not (tmp_path / "run").exists()


def test_bad_kg_file_names_file_and_line(tmp_path):
    data = tmp_path / "kg"
    write_category_kg(data)
    (data / "kg_final.txt").write_text("0 0 60\n1 0\n")
    r = run("train", "--model", "kgcn", "--dataset", data, "--epochs", "1",
            "--out", tmp_path / "run")
    assert r.code != 0
    assert "kg_final.txt:2: expected 3 fields (head relation tail), got 2" in r.err


def test_kgat_learns_the_known_answer(tmp_path):
    data = tmp_path / "kg"
    write_category_kg(data)
    out = tmp_path / "run"
    run("train", "--model", "kgat", "--dataset", data, "--layers", "2", "--dim", "16",
        "--epochs", "20", "--eval-every", "10", "--lr", "0.01", "--batch-size", "128",
        "--topk", "10", "--early-stop-metric", "recall@10", "--quiet", "--threads", "2",
        "--out", out, check=True)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["model"] == "kgat"
    best, pop = summary["best"], summary["popularity"]
    assert best["recall@10"] > pop["recall@10"] + 0.2, (best, pop)
    ev = run("evaluate", "--run", out, check=True)
    assert "recall@10" in ev.out
    assert run("recommend", "--run", out, "--user", "0", "--k", "5", check=True).code == 0


def test_kgat_resume_reproduces_the_uninterrupted_run(tmp_path):
    """The KG phase draws from the epoch's seed and the attention is
    recomputed from the loaded parameters, so a resumed run is the same run."""
    data = tmp_path / "kg"
    write_category_kg(data)
    args = ["--model", "kgat", "--dataset", data, "--layers", "2", "--dim", "8",
            "--eval-every", "1", "--lr", "0.01", "--batch-size", "128", "--quiet",
            "--threads", "1"]
    full = resumed_run_equals_uninterrupted(["train", *args], tmp_path)
    assert len(full) == 4


def test_kgat_bad_input_is_one_line(tmp_path):
    r = run("train", "--model", "kgat", "--dataset", "synthetic", "--epochs", "1",
            "--out", tmp_path / "run")
    assert r.code != 0
    assert "--model kgat needs a knowledge graph" in r.err
    assert len(r.err.strip().splitlines()) == 1
    assert not (tmp_path / "run").exists()
    data = tmp_path / "kg"
    write_category_kg(data)
    r = run("train", "--model", "kgat", "--dataset", data, "--message-dropout", "1.5",
            "--epochs", "1", "--out", tmp_path / "run")
    assert r.code != 0
    assert "--message-dropout" in r.err
    assert len(r.err.strip().splitlines()) == 1
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("model", ["transe", "transr"])
def test_translation_models_learn_the_known_answer_and_resume(tmp_path, model):
    """MF + a TransE / TransR knowledge-graph phase (CKE's structural half):
    beats popularity by far on the category KG, loads back for evaluate and
    recommend, and a resumed run is the uninterrupted one."""
    data = tmp_path / "kg"
    write_category_kg(data)
    args = ["--model", model, "--dataset", data, "--dim", "16", "--eval-every", "10",
            "--lr", "0.01", "--batch-size", "128", "--topk", "10",
            "--early-stop-metric", "recall@10", "--quiet", "--threads", "1"]
    out = tmp_path / "run"
    run("train", *args, "--epochs", "30", "--out", out, check=True)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["model"] == model
    best, pop = summary["best"], summary["popularity"]
    assert best["recall@10"] > pop["recall@10"] + 0.2, (best, pop)
    assert "recall@10" in run("evaluate", "--run", out, check=True).out
    assert run("recommend", "--run", out, "--user", "0", "--k", "5", check=True).code == 0
    run("train", *args, "--epochs", "20", "--out", tmp_path / "part", check=True)
    run("train", "--resume", "--out", tmp_path / "part", "--epochs", "30", "--quiet", check=True)
    assert metrics_without_timings(tmp_path / "part") == metrics_without_timings(out)


def test_translation_model_without_a_kg_is_one_line(tmp_path):
    r = run("train", "--model", "transe", "--dataset", "synthetic", "--epochs", "1",
            "--out", tmp_path / "run")
    assert r.code != 0
    assert "--model transe needs a knowledge graph" in r.err
    assert len(r.err.strip().splitlines()) == 1
    assert not (tmp_path / "run").exists()
