"""Serving a trained run from the command line (docs/serving.md): `export`
(read back by numpy, against the scores `recommend` prints), `recommend
--users` (against a float64 brute force over the exported factors), the
HNSW index, `fold-in` (MF against the ridge solution in numpy; LightGCN's
propagation is checked in float64 by tests/train/fold_in_test.cpp), and the
one-line errors of every new command."""
import json
import shutil

import numpy as np
import pytest

from conftest import run


def export(serving_runs, model, tmp_path):
    out = tmp_path / f"export-{model}"
    r = run("export", "--run", serving_runs[model], "--out", out, check=True)
    assert r.out.startswith(f"wrote {out}: users.npy [60, 8], items.npy [40, 8]")
    return {
        "users": np.load(out / "users.npy"),
        "items": np.load(out / "items.npy"),
        "user_ids": (out / "user_ids.txt").read_text().splitlines(),
        "item_ids": (out / "item_ids.txt").read_text().splitlines(),
        "card": json.loads((out / "card.json").read_text()),
    }


def table(text):
    """recommend --user / fold-in's table: [(id, score)]."""
    lines = text.splitlines()
    assert lines[0].split("\t")[1:] == [lines[0].split("\t")[1], "score"]
    return [(l.split("\t")[1], float(l.split("\t")[2])) for l in lines[1:]]


def lists(text):
    out = []
    for line in text.splitlines():
        name, items = line.split("\t")
        out.append((name, items.split(",") if items else []))
    return out


def best(e, vector, allowed, k):
    """The float64 scores of the k best `allowed` item ids for `vector`."""
    score = e["items"].astype(np.float64) @ vector.astype(np.float64)
    ranked = sorted((-score[e["item_ids"].index(i)], i) for i in allowed)
    return [(i, -s) for s, i in ranked[:k]]


def check_ranked(got, want):
    """Same length; each listed item's exact score is the reference's at
    its rank (float32 rounding can swap near-ties, not change a score)."""
    assert len(got) == len(want), (got, want)
    for (item, score), (_, ref) in zip(got, want):
        assert score == pytest.approx(ref, abs=1e-4)


def test_export_is_read_by_numpy_and_scores_as_recommend_does(serving_runs, tmp_path):
    e = export(serving_runs, "lightgcn", tmp_path)
    assert e["users"].dtype == np.float32 and e["users"].shape == (60, 8)
    assert e["items"].dtype == np.float32 and e["items"].shape == (40, 8)
    assert e["user_ids"] == [str(100 + u) for u in range(60)]
    assert e["item_ids"] == [str(700 + i) for i in range(40)]
    config = json.loads((serving_runs["lightgcn"] / "config.json").read_text())
    card = e["card"]
    assert (card["model"], card["score"], card["factors"], card["dimension"]) == \
        ("lightgcn", "dot", "embeddings", 8)
    assert card["data"] == config["data"] and card["config"]["lr"] == config["lr"]
    # recommend's printed scores are the dot products of the exported rows.
    u = "117"
    got = table(run("recommend", "--run", serving_runs["lightgcn"], "--user", u, "--k", "6",
                    check=True).out)
    vector = e["users"][e["user_ids"].index(u)]
    for item, score in got:
        exact = float(vector.astype(np.float64) @ e["items"][e["item_ids"].index(item)])
        assert score == pytest.approx(exact, abs=1e-4)
    allowed = [i for i in e["item_ids"] if i not in serving_runs["train"][u]]
    check_ranked(got, best(e, vector, allowed, 6))


def test_recommend_every_user_is_the_brute_force_top_k(serving_runs, tmp_path):
    e = export(serving_runs, "mf", tmp_path)
    out = tmp_path / "recs.tsv"
    r = run("recommend", "--run", serving_runs["mf"], "--users", "all", "--k", "5", "--out", out,
            "--threads", "1", check=True)
    assert r.out.startswith(f"wrote {out}: 60 users, top 5 items each (exact; training items "
                            "excluded) in ")
    got = lists(out.read_text())
    assert [name for name, _ in got] == e["user_ids"]
    for name, items in got:
        vector = e["users"][e["user_ids"].index(name)]
        allowed = [i for i in e["item_ids"] if i not in serving_runs["train"][name]]
        want = best(e, vector, allowed, 5)
        check_ranked([(i, float(vector @ e["items"][e["item_ids"].index(i)])) for i in items],
                     want)
    # The single-user table lists the same items.
    one = table(run("recommend", "--run", serving_runs["mf"], "--user", "130", "--k", "5",
                    check=True).out)
    assert [i for i, _ in one] == dict(got)["130"]


def test_recommend_candidates_exclusions_and_a_users_file(serving_runs, tmp_path):
    e = export(serving_runs, "mf", tmp_path)
    users = tmp_path / "users.txt"
    users.write_text("\ufeff101\r\n\n140\n101\n")  # BOM, CRLF, a blank line, a repeat
    items = tmp_path / "items.txt"
    candidates = [str(700 + i) for i in range(0, 40, 3)]
    items.write_text("\n".join(candidates) + "\n")
    got = lists(run("recommend", "--run", serving_runs["mf"], "--users", users, "--k", "4",
                    "--items", items, check=True).out)
    assert [n for n, _ in got] == ["101", "140", "101"]
    for name, listed in got:
        vector = e["users"][e["user_ids"].index(name)]
        allowed = [i for i in candidates if i not in serving_runs["train"][name]]
        check_ranked([(i, float(vector @ e["items"][e["item_ids"].index(i)])) for i in listed],
                     best(e, vector, allowed, 4))
    # --exclude none ranks the training items too: with k = all items, all 40.
    every = lists(run("recommend", "--run", serving_runs["mf"], "--users", users, "--k", "40",
                      "--exclude", "none", check=True).out)
    assert all(sorted(listed) == sorted(e["item_ids"]) for _, listed in every)


def test_recommend_through_the_hnsw_index(serving_runs, tmp_path):
    run_dir = serving_runs["lightgcn"]
    # The runs are shared with test_serve.py, whose server may have built the
    # index already: start without one.
    shutil.rmtree(run_dir / "index", ignore_errors=True)
    exact = dict(lists(run("recommend", "--run", run_dir, "--users", "all", "--k", "5",
                           check=True).out))
    r = run("recommend", "--run", run_dir, "--users", "all", "--k", "5", "--index", "hnsw",
            check=True)
    assert "building the HNSW index of 40 items" in r.err
    assert (run_dir / "index" / "hnsw-best.bin").exists()
    approx = dict(lists(r.out))
    hits = sum(len(set(approx[u]) & set(exact[u])) for u in exact)
    assert hits / (5 * len(exact)) >= 0.95
    for u, items in approx.items():
        assert not set(items) & set(serving_runs["train"][u])
    again = run("recommend", "--run", run_dir, "--users", "all", "--k", "5", "--index", "hnsw",
                check=True)
    assert again.err == "" and dict(lists(again.out)) == approx  # reused, not rebuilt


def test_fold_in_mf_is_the_ridge_solution(serving_runs, tmp_path):
    e = export(serving_runs, "mf", tmp_path)
    given = ["703", "711", "725", "738"]
    Q = e["items"].astype(np.float64)
    S = Q[[e["item_ids"].index(i) for i in given]]
    for l2 in (None, 0.5):
        lam = len(given) * (Q * Q).sum(1).mean() if l2 is None else l2
        p = np.linalg.solve(S.T @ S + lam * np.eye(8), S.T @ np.ones(len(given)))
        args = ["fold-in", "--run", serving_runs["mf"], "--user-items", ",".join(given), "--k", "6"]
        got = table(run(*args, *(["--l2", str(l2)] if l2 else []), check=True).out)
        allowed = [i for i in e["item_ids"] if i not in given]
        check_ranked(got, best(e, p, allowed, 6))
    # A new item from its users, against the user vectors.
    users = ["102", "150"]
    P = e["users"].astype(np.float64)
    S = P[[e["user_ids"].index(u) for u in users]]
    q = np.linalg.solve(S.T @ S + 2 * (P * P).sum(1).mean() * np.eye(8), S.T @ np.ones(2))
    got = table(run("fold-in", "--run", serving_runs["mf"], "--item-users", "102,150", "--k", "3",
                    check=True).out)
    score = P @ q
    want = sorted((-score[k], u) for k, u in enumerate(e["user_ids"]) if u not in users)[:3]
    check_ranked(got, [(u, -s) for s, u in want])


def test_fold_in_lightgcn_new_users_file(serving_runs, tmp_path):
    new = tmp_path / "new.tsv"
    new.write_text("alice\t700,705,710,733\nbob\t739\n")
    out = tmp_path / "recs.tsv"
    run("fold-in", "--run", serving_runs["lightgcn"], "--new-users", new, "--k", "5", "--out", out,
        check=True)
    got = lists(out.read_text())
    assert [n for n, _ in got] == ["alice", "bob"]
    assert all(len(items) == 5 for _, items in got)
    assert not set(got[0][1]) & {"700", "705", "710", "733"} and "739" not in got[1][1]
    one = table(run("fold-in", "--run", serving_runs["lightgcn"], "--user-items",
                    "700,705,710,733", "--k", "5", check=True).out)
    assert [i for i, _ in one] == got[0][1]


def expect_error(args, *fragments):
    r = run(*args)
    assert r.code == 1, (r.code, r.out, r.err)
    lines = [l for l in r.err.splitlines() if l.strip()]
    assert len(lines) == 1 and lines[0].startswith("gnnrec: error: "), r.err
    for f in fragments:
        assert f in lines[0], (f, lines[0])


def test_bad_input_is_one_line(serving_runs, tmp_path):
    lg, mf, ngcf = serving_runs["lightgcn"], serving_runs["mf"], serving_runs["ngcf"]
    users = tmp_path / "users.txt"
    users.write_text("101\nzz\n")
    items = tmp_path / "items.txt"
    items.write_text("700\n9999\n")
    lists_file = tmp_path / "new.tsv"
    lists_file.write_text("a\t700,701\nb 700\n")
    a_file = tmp_path / "a-file"
    a_file.write_text("x")
    cases = [
        (["export", "--run", lg], ["--out is required"]),
        (["export", "--run", tmp_path / "no-run", "--out", tmp_path / "x"], ["config.json"]),
        (["export", "--run", lg, "--out", a_file], ["cannot write to output directory"]),
        (["recommend", "--run", lg], ["needs --user ID or --users all|FILE"]),
        (["recommend", "--run", lg, "--user", "101", "--users", "all"], ["excludes"]),
        (["recommend", "--run", lg, "--user", "nobody"], ["--user 'nobody' is not a user"]),
        (["recommend", "--run", lg, "--users", tmp_path / "missing.txt"], ["missing.txt"]),
        (["recommend", "--run", lg, "--users", users], [f"{users}:2: 'zz' is not a user of"]),
        (["recommend", "--run", lg, "--users", "all", "--items", items],
         [f"{items}:2: '9999' is not an item of"]),
        (["recommend", "--run", lg, "--users", "all", "--exclude", "seen"], ["--exclude"]),
        (["recommend", "--run", lg, "--users", "all", "--index", "ivf"], ["--index"]),
        (["recommend", "--run", lg, "--users", "all", "--index", "hnsw", "--items", items],
         ["cannot be combined with --items"]),
        (["recommend", "--run", lg, "--user", "101", "--out", tmp_path / "r.tsv"],
         ["--out writes the lines of --users"]),
        (["recommend", "--run", lg, "--users", "all", "--k", "0"], ["--k must be in"]),
        (["fold-in", "--run", lg], ["fold-in needs --user-items"]),
        (["fold-in", "--run", lg, "--user-items", "700,nope"],
         ["--user-items: 'nope' is not an item of"]),
        (["fold-in", "--run", lg, "--user-items", "700,,701"], ["an empty item id"]),
        (["fold-in", "--run", lg, "--item-users", "1"], ["--item-users: '1' is not a user of"]),
        (["fold-in", "--run", lg, "--new-users", lists_file], [f"{lists_file}:2: expected NAME<TAB>"]),
        (["fold-in", "--run", mf, "--user-items", "700", "--l2", "-1"], ["--l2 must be"]),
        (["fold-in", "--run", ngcf, "--user-items", "700"], ["fold-in: ngcf has none"]),
        (["serve", "--run", lg], ["--port is required"]),
        (["serve", "--run", lg, "--port", "70000"], ["--port"]),
        (["serve", "--run", lg, "--port", "0", "--threads", "0"], ["--threads"]),
    ]
    for args, fragments in cases:
        expect_error(args, *fragments)
