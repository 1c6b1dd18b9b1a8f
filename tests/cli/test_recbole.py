"""RecBole's atomic files from the command line: a folder holding NAME.inter
trains LightGCN (string ids, matched as written by recommend; timestamps for
--split temporal); NAME.kg + NAME.link train KGAT and KGCN; NAME.user +
NAME.item train HeteroGAT; a bad header is one line naming file and line."""
import json
import random

from conftest import run

USERS, ITEMS = 30, 40
SMALL = ["--epochs", "1", "--dim", "8", "--quiet", "--threads", "2"]


def write_recbole(path, kg=False, features=False):
    """path/NAME.inter (NAME = the folder's name): 8 items per user, string
    ids u0.. and item-0.., float ratings and fractional timestamps; with kg,
    NAME.link (items item-0..35 to entities m.0..) and NAME.kg (each entity
    in one of 5 genres, the genres under one root); with features,
    NAME.user (age, gender) and NAME.item (genre as a token_seq, year)."""
    path.mkdir()
    stem = path / path.name
    rng = random.Random(5)
    rows = ["user_id:token\titem_id:token\trating:float\ttimestamp:float"]
    for u in range(USERS):
        for i in rng.sample(range(ITEMS), 8):
            rows.append(f"u{u}\titem-{i}\t{rng.randint(1, 5)}\t{978300000 + rng.randint(0, 10**6)}.5")
    stem.with_suffix(".inter").write_text("\n".join(rows) + "\n")
    if kg:
        stem.with_suffix(".link").write_text(
            "item_id:token\tentity_id:token\n" + "".join(f"item-{i}\tm.{i}\n" for i in range(36)))
        stem.with_suffix(".kg").write_text(
            "head_id:token\trelation_id:token\ttail_id:token\n"
            + "".join(f"m.{i}\tfilm.genre\tg.{i % 5}\n" for i in range(ITEMS))
            + "".join(f"g.{g}\tgenre.parent\tg.root\n" for g in range(5)))
    if features:
        stem.with_suffix(".user").write_text(
            "user_id:token\tage:token\tgender:token\n"
            + "".join(f"u{u}\t{18 + u % 4 * 10}\t{'FM'[u % 2]}\n" for u in range(USERS)))
        stem.with_suffix(".item").write_text(
            "item_id:token\tgenre:token_seq\tyear:token\tprice:float\n"
            + "".join(f"item-{i}\tg{i % 3} g{i % 7}\t{1990 + i % 5}\t9.5\n" for i in range(ITEMS)))


def test_recbole_folder_trains_lightgcn(tmp_path):
    data = tmp_path / "ml-tiny"
    write_recbole(data)
    out = tmp_path / "run"
    run("train", "--model", "lightgcn", "--dataset", data, "--split", "temporal", *SMALL,
        "--out", out, check=True)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["users"] == USERS and summary["items"] == ITEMS
    stats = run("data", "stats", "--dataset", data, check=True).out.splitlines()
    assert stats[0].split() == ["data", "set", "ml-tiny"]
    assert stats[1].split() == ["format", "recbole"]
    assert stats[2].split() == ["users", str(USERS)]
    assert "ratings       yes" in stats and "timestamps    yes" in stats
    # Tokens are matched as written: u3 is a user, its recommendations are items.
    rec = run("recommend", "--run", out, "--user", "u3", "--k", "5", check=True).out.splitlines()
    assert rec[0].split() == ["rank", "item", "score"]
    assert len(rec) == 6 and all(l.split()[1].startswith("item-") for l in rec[1:])


def test_recbole_knowledge_graph_trains_kgat_and_kgcn(tmp_path):
    data = tmp_path / "ml-kg"
    write_recbole(data, kg=True, features=True)  # the KG wins over the features
    for model in ("kgat", "kgcn"):
        out = tmp_path / model
        run("train", "--model", model, "--dataset", data, "--layers", "1", *SMALL,
            "--out", out, check=True)
        assert json.loads((out / "summary.json").read_text())["model"] == model


def test_recbole_features_train_heterogat(tmp_path):
    data = tmp_path / "ml-side"
    write_recbole(data, features=True)
    out = tmp_path / "run"
    run("train", "--model", "heterogat", "--dataset", data, "--heads", "2", "--layers", "1",
        *SMALL, "--out", out, check=True)
    assert json.loads((out / "summary.json").read_text())["model"] == "heterogat"


def test_recbole_bad_header_is_one_line(tmp_path):
    data = tmp_path / "bad"
    data.mkdir()
    (data / "bad.inter").write_text("user_id:token\titem:token\nu1\ti1\n")
    r = run("train", "--model", "lightgcn", "--dataset", data, "--epochs", "1",
            "--out", tmp_path / "run")
    assert r.code == 1
    assert r.err.strip().splitlines() == [
        f"gnnrec: error: {data}/bad.inter:1: header has no item_id field (expected item_id:token)"]
    assert not (tmp_path / "run").exists()
