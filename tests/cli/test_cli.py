"""The gnnrec command line end to end: training, the run directory,
evaluate/recommend with raw ids, config files, resume, data tools, help."""
import json
import pathlib

import pytest

from conftest import SHARED_DATA, run

SMALL = ["--dataset", "synthetic", "--synthetic-users", "300", "--synthetic-items", "200",
         "--dim", "16", "--layers", "2", "--batch-size", "512", "--lr", "0.01", "--quiet"]


def metric_lines(run_dir):
    return [json.loads(l) for l in (run_dir / "metrics.jsonl").read_text().splitlines() if l]


def test_help_documents_every_level():
    top = run("--help", check=True).out
    for cmd in ("train", "evaluate", "recommend", "data"):
        assert cmd in top
    train = run("train", "--help", check=True).out
    for flag in ("--dim", "--layers", "--lr", "--batch-size", "--reg", "--seed", "--eval-every",
                 "--topk", "--device", "--threads", "--config", "--resume", "--epochs"):
        assert flag in train, flag
    assert "0.001" in train  # defaults are shown
    assert "lightgcn" in train and "mf" in train
    assert "--dataset" in run("data", "stats", "--help", check=True).out
    assert "--user" in run("recommend", "--help", check=True).out


def test_train_evaluate_recommend(tmp_path):
    out = tmp_path / "run"
    r = run("train", "--model", "lightgcn", *SMALL, "--epochs", "6", "--eval-every", "3",
            "--out", out, check=True)
    assert "popularity" in r.out and "recall@20" in r.out
    for f in ("config.json", "metrics.jsonl", "summary.json", "checkpoints/last.ckpt",
              "checkpoints/best.ckpt"):
        assert (out / f).exists(), f
    summary = json.loads((out / "summary.json").read_text())
    assert summary["model"] == "lightgcn"
    assert summary["torch_version"] == "2.11.0"
    assert {"recall@20", "ndcg@20", "precision@10", "hit@10", "mrr@20", "map@20"} <= set(summary["best"])
    assert [l["epoch"] for l in metric_lines(out)] == [3, 6]

    ev = run("evaluate", "--run", out, check=True).out
    best = summary["best"]["recall@20"]
    line = next(l for l in ev.splitlines() if l.startswith("recall@20"))
    assert abs(float(line.split()[1]) - best) < 1e-4

    # recommend: raw ids in and out; never a training item of that user.
    split_dir = tmp_path / "split"
    run("data", "split", "--dataset", "synthetic", "--seed", "2020", "--out", split_dir, check=True)
    train_items = {}
    for line in (split_dir / "train.txt").read_text().splitlines():
        parts = line.split()
        train_items[parts[0]] = set(parts[1:])
    rec = run("recommend", "--run", out, "--user", "5", "--k", "7", check=True).out.splitlines()
    assert rec[0].split() == ["rank", "item", "score"]
    items = [l.split()[1] for l in rec[1:]]
    assert len(items) == 7 and len(set(items)) == 7
    assert not set(items) & train_items["5"]
    scores = [float(l.split()[2]) for l in rec[1:]]
    assert scores == sorted(scores, reverse=True)
    # The LightGCN-format loader reads ids as integers ("005" in a file is
    # user 5), so --user 005 is user 5 too.
    for spelling in ("005", "+5"):
        again = run("recommend", "--run", out, "--user", spelling, "--k", "7", check=True).out
        assert again.splitlines() == rec, spelling


def test_mf_trains(tmp_path):
    out = tmp_path / "mf"
    run("train", "--model", "mf", *SMALL, "--epochs", "2", "--eval-every", "1", "--out", out,
        check=True)
    assert json.loads((out / "summary.json").read_text())["model"] == "mf"


def test_config_file_with_flag_override(tmp_path):
    cfg = tmp_path / "run.toml"
    cfg.write_text('model = "mf"\nepochs = 2\ndim = 8\neval-every = 2\nbatch-size = 512\n'
                   'dataset = "synthetic"\nsynthetic-users = 300\nsynthetic-items = 200\n')
    out = tmp_path / "run"
    run("train", "--config", cfg, "--dim", "12", "--out", out, "--quiet", check=True)
    saved = json.loads((out / "config.json").read_text())
    assert saved["model"] == "mf" and saved["epochs"] == 2 and saved["dim"] == 12
    assert saved["batch_size"] == 512


def test_resume_continues_and_matches_uninterrupted(tmp_path):
    # One thread: compared byte for byte (docs/run_directory.md, "Determinism").
    full, part = tmp_path / "full", tmp_path / "part"
    run("train", "--model", "lightgcn", *SMALL, "--epochs", "4", "--eval-every", "2", "--threads", "1",
        "--out", full, check=True)
    run("train", "--model", "lightgcn", *SMALL, "--epochs", "2", "--eval-every", "2", "--threads", "1",
        "--out", part, check=True)
    run("train", "--resume", "--epochs", "4", "--out", part, "--quiet", check=True)
    a, b = metric_lines(full), metric_lines(part)
    assert [l["epoch"] for l in b] == [2, 4]
    assert [l["metrics"] for l in a] == [l["metrics"] for l in b]


def test_resume_rejects_a_changed_option_and_accepts_a_repeated_one(tmp_path):
    """A resumed run keeps its configuration: a flag that disagrees with the
    run's config.json is one line naming it and both values, and the run is
    left as it was; the same command repeated with --resume goes on."""
    out = tmp_path / "run"
    args = ["--model", "mf", *SMALL, "--eval-every", "1", "--out", out]
    run("train", *args, "--epochs", "1", check=True)
    before = (out / "metrics.jsonl").read_text()
    r = run("train", "--resume", "--out", out, "--epochs", "2", "--lr", "0.5")
    assert r.code != 0
    err = r.err.strip()
    assert len(err.splitlines()) == 1, err
    assert "--lr is 0.5 here but" in err and "config.json" in err, err
    assert (out / "metrics.jsonl").read_text() == before
    r = run("train", "--resume", "--model", "lightgcn", "--out", out, "--epochs", "2")
    assert r.code != 0 and "--model is \"lightgcn\" here but \"mf\"" in r.err, r.err
    run("train", "--resume", *args, "--epochs", "2", "--quiet", check=True)
    assert [l["epoch"] for l in metric_lines(out)] == [1, 2]


def test_every_configuration_key_is_a_flag_and_data_split_takes_the_data_options(tmp_path):
    """The flags come from the configuration table: every key of config.json
    is a `train` flag (--batch-size for batch_size; --no-side-info switches
    off a true default), and `data split` takes the same data options."""
    out = tmp_path / "run"
    run("train", "--model", "mf", *SMALL, "--epochs", "1", "--out", out, check=True)
    keys = json.loads((out / "config.json").read_text())
    help_text = run("train", "--help", check=True).out
    for key in keys:
        if key == "data":  # the record of the inputs, not an option
            continue
        flag = "--" + key.replace("_", "-")
        if key == "side_info":
            flag = "--no-side-info"
        assert flag + " " in help_text, flag
    split_help = run("data", "split", "--help", check=True).out
    for flag in ("--dataset", "--split", "--train-ratio", "--min-rating", "--kcore", "--seed",
                 "--synthetic-users", "--synthetic-items", "--out"):
        assert flag + " " in split_help, flag
    assert "--lr " not in split_help
    # An enum's flag names its choices; a number's range is checked as it is parsed.
    r = run("train", "--reg-scope", "rows", "--out", tmp_path / "x")
    assert r.code != 0 and r.err.strip() == (
        "gnnrec: error: --reg-scope must be batch or full, got 'rows'"), r.err
    r = run("train", "--model", "mf", *SMALL, "--topk", "10,0", "--out", tmp_path / "y")
    assert r.code != 0 and "--topk must all be in [1, 100000], got 0" in r.err, r.err


def test_resume_compares_a_negated_flag(tmp_path):
    """--no-side-info is the key side_info: resuming with it a run trained
    with side information is a disagreement, not an unknown flag ignored."""
    out = tmp_path / "run"
    run("train", "--model", "mf", *SMALL, "--epochs", "1", "--out", out, check=True)
    r = run("train", "--resume", "--no-side-info", "--out", out, "--epochs", "2")
    assert r.code != 0 and "--no-side-info is false here but true" in r.err, r.err


def test_data_split_writes_the_synthetic_split(tmp_path):
    out = tmp_path / "split"
    r = run("data", "split", "--dataset", "synthetic", "--synthetic-users", "120",
            "--synthetic-items", "80", "--out", out, check=True).out
    assert "120 users, 80 items" in r, r
    lines = (out / "train.txt").read_text().splitlines()
    assert len(lines) == 120  # one line per user


def test_data_stats_and_split_on_a_written_file(tmp_path):
    d = tmp_path / "tiny"
    d.mkdir()
    # LightGCN text: 3 users, items 0..3
    (d / "train.txt").write_text("0 0 1\n1 1 2 3\n2 0\n")
    (d / "test.txt").write_text("0 2\n1 0\n")
    s = run("data", "stats", "--dataset", d, check=True).out
    assert "users" in s and "3" in s
    assert "interactions" in s and "8" in s  # 6 train + 2 test


@pytest.mark.skipif(not (SHARED_DATA / "ml-100k").exists(), reason="shared data absent")
def test_stats_of_movielens_100k():
    s = run("data", "stats", "--dataset", SHARED_DATA / "ml-100k", check=True).out
    assert "943" in s and "1,682" in s and "100,000" in s


def _train_args(tmp_path, name):
    from conftest import GNNREC
    return [str(GNNREC), "train", "--model", "mf", "--dataset", "synthetic", "--synthetic-users",
            "200", "--synthetic-items", "100", "--epochs", "2", "--eval-every", "2",
            "--batch-size", "256", "--out", str(tmp_path / name)]


def test_progress_bar_on_a_terminal_plain_lines_otherwise(tmp_path):
    import os
    import pty
    import subprocess
    # A pipe: one plain line per epoch, no carriage returns or escape codes.
    plain = subprocess.run(_train_args(tmp_path, "pipe"), stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE, timeout=120).stderr.decode()
    assert "\r" not in plain and "\033" not in plain
    assert "epoch 1/2 loss" in plain and "epoch 2/2 loss" in plain
    # A terminal: the bar is redrawn in place. Read while it runs, so the
    # terminal's buffer never fills.
    master, slave = pty.openpty()
    proc = subprocess.Popen(_train_args(tmp_path, "tty"), stdout=subprocess.DEVNULL, stderr=slave)
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: the child closed its end
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    assert proc.wait(timeout=120) == 0
    tty = b"".join(chunks).decode(errors="replace")
    assert "\r" in tty and "[" in tty and "#" in tty


@pytest.mark.parametrize("args,status", [
    (["--help"], 0),
    (["train", "--help"], 0),
    (["data", "stats", "--dataset", "synthetic"], 0),
    # Usage errors (CLI11's own codes, 104-114, are not passed on) ...
    ([], 1),
    (["train", "--no-such-flag"], 1),
    (["train", "--epochs"], 1),
    (["train", "--epochs", "ten"], 1),
    (["recommend", "--run", "x"], 1),
    (["evaluate", "--run", "x", "--checkpoint", "middle"], 1),
    (["train", "--config", "missing.toml"], 1),
    (["train", "--seed", "-1"], 1),
    # ... and a failed run alike.
    (["evaluate", "--run", "no-such-run"], 1),
    (["data", "stats", "--dataset", "no-such-data"], 1),
])
def test_exit_status(tmp_path, args, status):
    """docs/cli.md's table: 0 on success and for --help, 1 for every error,
    which is one line on stderr."""
    r = run(*[tmp_path / a if a.startswith(("missing", "no-such-")) else a for a in args])
    assert r.code == status, (r.code, r.err)
    if status != 0:
        lines = r.err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("gnnrec: error: "), r.err


def test_recommend_lists_only_unseen_items_and_says_so(tmp_path):
    data = tmp_path / "tiny"
    data.mkdir()
    # Five items; user 0 trained on four of them, user 1 on two.
    (data / "train.txt").write_text("0 0 1 2 3\n1 0 4\n2 1 2\n")
    (data / "test.txt").write_text("0 4\n1 1\n2 3\n")
    out = tmp_path / "run"
    run("train", "--model", "mf", "--dataset", data, "--epochs", "1", "--dim", "4", "--quiet",
        "--out", out, check=True)
    r = run("recommend", "--run", out, "--user", "0", "--k", "3", check=True)
    rows = [l.split() for l in r.out.splitlines()[1:]]
    assert [row[:2] for row in rows] == [["1", "4"]]  # item 4 only, never a training item
    assert r.err == "gnnrec: note: user '0' has only 1 item not seen in training; listing 1, " \
                    "not --k 3\n"
    r = run("recommend", "--run", out, "--user", "1", "--k", "3", check=True)
    assert sorted(l.split()[1] for l in r.out.splitlines()[1:]) == ["1", "2", "3"]
    assert r.err == ""


def test_recommend_for_a_user_without_training_interactions_says_so(tmp_path):
    data = tmp_path / "two"
    data.mkdir()
    (data / "buys.csv").write_text("user,item\na,x\nb,y\n")
    out = tmp_path / "run"
    # A random half of the two interactions is the test set: one user is left
    # with no training interaction, the other with one.
    run("train", "--model", "mf", "--dataset", data, "--split", "random", "--train-ratio", "0.5",
        "--epochs", "1", "--dim", "4", "--quiet", "--out", out, check=True)
    got = {u: run("recommend", "--run", out, "--user", u, "--k", "2", check=True)
           for u in ("a", "b")}
    cold = [u for u in got if "no training interactions" in got[u].err]
    assert len(cold) == 1, {u: r.err for u, r in got.items()}
    cold = cold[0]
    warm = "b" if cold == "a" else "a"
    cold_item = "x" if cold == "a" else "y"
    # The cold user: both items ranked (its prior), one note.
    assert sorted(l.split()[1] for l in got[cold].out.splitlines()[1:]) == ["x", "y"]
    assert got[cold].err == (f"gnnrec: note: user '{cold}' has no training interactions; the "
                             "ranking is the model's prior, not learned from the user\n")
    # The other user: only the item it has not trained on.
    assert [l.split()[1] for l in got[warm].out.splitlines()[1:]] == [cold_item]
    assert got[warm].err == (f"gnnrec: note: user '{warm}' has only 1 item not seen in training; "
                             "listing 1, not --k 2\n")


def test_threads_wait_passively():
    """A computing subcommand starts again with OMP_WAIT_POLICY=PASSIVE when
    neither it nor GOMP_SPINCOUNT is set (train/cli/thread_wait.h): libgomp
    then reports a spin count of 0. A value the user set is kept, and --help
    is not restarted."""
    import os
    import subprocess
    from conftest import GNNREC
    base = {k: v for k, v in os.environ.items() if k not in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")}

    def spincount(args, **extra):
        env = {**base, "OMP_DISPLAY_ENV": "verbose", **extra}
        err = subprocess.run([str(GNNREC), *args], capture_output=True, text=True, env=env).stderr
        return [l.split("=")[1].strip(" '") for l in err.splitlines() if "GOMP_SPINCOUNT" in l]

    stats = ["data", "stats", "--dataset", "synthetic"]
    # The first start (libgomp's defaults), then the restarted one.
    assert spincount(stats) == ["300000", "0"]
    assert spincount(stats, OMP_WAIT_POLICY="ACTIVE") == ["30000000000"]
    assert spincount(stats, GOMP_SPINCOUNT="1000") == ["1000"]
    assert spincount(["--help"]) == ["300000"]

