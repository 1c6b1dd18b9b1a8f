"""Bad input: each case exits non-zero with one line on stderr that names
the file and line or the option, and leaves an existing run intact."""
import json
import os
import pathlib

import pytest

from conftest import run

BASE = ["--epochs", "1", "--quiet", "--dim", "8", "--batch-size", "256"]


@pytest.fixture(scope="module")
def existing_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "keep"
    run("train", "--model", "mf", "--dataset", "synthetic", "--synthetic-users", "100",
        "--synthetic-items", "50", *BASE, "--out", out, check=True)
    return out


def snapshot(d):
    # .lock is the directory's lock file (base/dir_lock.h), which a refused
    # process may open; it is not part of the run.
    return {p.relative_to(d): p.read_bytes() for p in sorted(d.rglob("*"))
            if p.is_file() and p.name != ".lock"}


def expect_error(args, *fragments, run_dir=None):
    before = snapshot(run_dir) if run_dir else None
    r = run(*args)
    assert r.code != 0, f"expected failure, got success:\n{r.out}"
    lines = [l for l in r.err.splitlines() if l.strip()]
    assert len(lines) == 1, f"expected one error line, got:\n{r.err}"
    assert lines[0].startswith("gnnrec: error:"), lines[0]
    for f in fragments:
        assert f in lines[0], f"{f!r} not in {lines[0]!r}"
    if run_dir:
        assert snapshot(run_dir) == before, "the existing run directory was modified"
    return lines[0]


def write(d, name, text):
    d.mkdir(parents=True, exist_ok=True)
    (d / name).write_text(text)
    return d


def train_on(dataset, out):
    return ["train", "--model", "mf", "--dataset", dataset, *BASE, "--out", out, "--overwrite"]


def test_missing_dataset(tmp_path, existing_run):
    expect_error(train_on(tmp_path / "nope", existing_run), str(tmp_path / "nope"),
                 run_dir=existing_run)


def test_malformed_line(tmp_path, existing_run):
    d = write(tmp_path / "ml1m", "ratings.dat", "1::10::5::978300760\n2::20::4\n")
    expect_error(train_on(d, existing_run), "ratings.dat:2:", run_dir=existing_run)


def test_non_numeric_field(tmp_path, existing_run):
    d = write(tmp_path / "ml100k", "u.data", "1\t10\t5\t881250949\n2\t20\t4\t881250949\n3\tabc\t4\t1\n")
    expect_error(train_on(d, existing_run), "u.data:3:", "abc", run_dir=existing_run)


def test_id_out_of_range(tmp_path, existing_run):
    d = write(tmp_path / "lgcn", "train.txt", "0 1 2\n1 -5 3\n")
    expect_error(train_on(d, existing_run), "train.txt:2:", "-5", run_dir=existing_run)


def test_empty_dataset(tmp_path, existing_run):
    d = write(tmp_path / "empty", "train.txt", "")
    expect_error(train_on(d, existing_run), "train.txt", "no interactions", run_dir=existing_run)


def test_test_user_unseen_in_training(tmp_path, existing_run):
    d = write(tmp_path / "unseen", "train.txt", "0 1 2\n1 2 3\n")
    write(d, "test.txt", "0 3\n7 1\n")
    expect_error(train_on(d, existing_run), "test.txt:2:", "user 7", run_dir=existing_run)


def test_unknown_model(existing_run):
    expect_error(["train", "--model", "transformer9000", "--dataset", "synthetic", *BASE,
                  "--out", existing_run, "--overwrite"], "unknown model 'transformer9000'",
                 "lightgcn", run_dir=existing_run)


@pytest.mark.parametrize("flag,value,fragment", [("--lr", "-0.1", "--lr"), ("--dim", "0", "--dim"),
                                                 ("--epochs", "0", "--epochs"),
                                                 ("--batch-size", "0", "--batch-size"),
                                                 ("--train-ratio", "1.5", "--train-ratio")])
def test_invalid_hyper_parameter(existing_run, flag, value, fragment):
    args = {"--epochs": "1", "--dim": "8", "--batch-size": "256", flag: value}
    expect_error(["train", "--model", "mf", "--dataset", "synthetic", "--quiet",
                  *[x for kv in args.items() for x in kv], "--out", existing_run, "--overwrite"],
                 fragment, run_dir=existing_run)


@pytest.mark.parametrize("args,fragment", [
    (["--dropout", "1"], "--dropout must be in [0, 1), got 1"),
    (["--node-dropout", "-0.1"], "--node-dropout must be in [0, 1)"),
    (["--message-dropout", "1.5"], "--message-dropout must be in [0, 1)"),
    (["--attention-dropout", "2"], "--attention-dropout must be in [0, 1)"),
    (["--heads", "0"], "--heads must be in [1, 65536], got 0"),
    (["--fanouts", "10,0"], "--fanouts must all be in [1, 1000000], got 0"),
    (["--negatives", "0"], "--negatives must be in [1, 1000], got 0"),
    (["--loss", "hinge"], "--loss must be bpr, bce or mse, got 'hinge'"),
    (["--early-stop-metric", "rmse"], "--early-stop-metric 'rmse'"),
    (["--early-stop-metric", "auc@10"], "--early-stop-metric 'auc@10'"),
    (["--loss", "mse", "--min-rating", "4"], "--min-rating"),
    (["--heads", "two"], "--heads"),
    (["--fanouts", "10,x"], "--fanouts"),
])
def test_invalid_training_option(existing_run, args, fragment):
    # mf ignores the model options, so these errors come from the checks of
    # the configuration itself, before any data is read.
    expect_error(["train", "--model", "mf", "--dataset", "synthetic", *BASE, *args,
                  "--out", existing_run, "--overwrite"], fragment, run_dir=existing_run)


def test_rating_mode_on_data_without_ratings(tmp_path, existing_run):
    d = write(tmp_path / "implicit", "train.txt", "0 0 1\n1 1 2\n")
    write(d, "test.txt", "0 2\n1 0\n")
    expect_error(train_on(d, existing_run) + ["--loss", "mse"], str(d), "--loss mse",
                 "has none", run_dir=existing_run)


def test_unknown_flag_and_bad_config_key(tmp_path, existing_run):
    expect_error(["train", "--no-such-flag", "1"], "--no-such-flag")
    cfg = tmp_path / "bad.toml"
    cfg.write_text('model = "mf"\nlearning_rate = 0.1\n')
    expect_error(["train", "--config", cfg, "--out", existing_run, "--overwrite"], "learning_rate",
                 run_dir=existing_run)
    expect_error(["train", "--config", tmp_path / "missing.toml"], "missing.toml")


@pytest.mark.parametrize("args,message", [
    # Not wrapped to 2^64 - 1, not saturated at 2^63 - 1: one range per option, from its row.
    (["--seed", "-1"], "--seed must be in [0, 9223372036854775807], got -1"),
    (["--seed", "99999999999999999999"],
     "--seed must be in [0, 9223372036854775807], got 99999999999999999999"),
    (["--epochs", "99999999999999999999"],
     "--epochs must be in [1, 1000000000], got 99999999999999999999"),
    (["--dim", "100000000"], "--dim must be in [1, 65536], got 100000000"),
    (["--batch-size", "-5"], "--batch-size must be in [1, 2147483647], got -5"),
    (["--threads", "4294967296"], "--threads must be in [0, 4096], got 4294967296"),
    (["--topk", "10,99999999999"], "--topk must all be in [1, 100000], got 99999999999"),
    (["--epochs", "1e3"], "--epochs must be an integer, got '1e3'"),
    (["--lr", "nan"], "--lr must be a finite number > 0, got nan"),
    (["--lr", "fast"], "--lr must be a number, got 'fast'"),
])
def test_integer_options_out_of_range_name_the_option_and_its_range(existing_run, args, message):
    options = {"--epochs": "1", "--dim": "8", "--batch-size": "256", args[0]: args[1]}
    line = expect_error(["train", "--model", "mf", "--dataset", "synthetic", "--quiet",
                         *[x for kv in options.items() for x in kv], "--out", existing_run,
                         "--overwrite"], run_dir=existing_run)
    assert line == "gnnrec: error: " + message


def test_recommend_k_out_of_range(existing_run):
    expect_error(["recommend", "--run", existing_run, "--user", "0", "--k",
                  "99999999999999999999"],
                 "--k must be in [1, 2147483647], got 99999999999999999999", run_dir=existing_run)


@pytest.mark.parametrize("text,message", [
    # TOML syntax errors: toml++'s words, with the file and line.
    ('model = "mf"\n[train\nepochs = 2\n', ":2: table header: expected ']'"),
    ('epochs = 2\nmodel = "mf\n', ":2: string: "),
    ('lr = 0.1\nepochs = 2\nlr = 0.2\n', ":3: duplicate key 'lr'"),
    ('lr = 0.1\n[train]\nlr = 0.2\n', ":3: duplicate key 'lr' (also on line 1)"),
    ('model = "mf"\nepochs = 99999999999999999999\n', ":2: decimal integer: "),
    # Keys: unknown, of the wrong type, out of range, a nested config.
    ('model = "mf"\nlearning_rate = 0.1\n', ":2: unknown key 'learning_rate'"),
    ('batch_size = 512\n', ":1: unknown key 'batch_size' (keys are the long flag names: "
                           "'batch-size')"),
    ('model = "mf"\nepochs = "5"\n', ":2: key 'epochs': expected an integer, got a string"),
    ('fanouts = [10, "5"]\n', ":1: key 'fanouts': expected a list of integers, got a list "
                              "holding a string"),
    ('seed = -1\n', ":1: key 'seed' must be in [0, 9223372036854775807], got -1"),
    ('dim = 0\n', ":1: key 'dim' must be in [1, 65536], got 0"),
    ('lr = nan\n', ":1: key 'lr' must be a finite number > 0, got nan"),
    ('loss = "hinge"\n', ":1: key 'loss' must be bpr, bce or mse, got 'hinge'"),
    ('config = "other.toml"\n', ":1: key 'config': nested config files are not supported"),
    ('[data]\nsplit = "loo"\n', ":1: section [data] is not supported (keys go at the top level "
                                "or under [train])"),
])
def test_config_file_errors_name_the_file_line_and_key(tmp_path, existing_run, text, message):
    cfg = tmp_path / "bad.toml"
    cfg.write_text(text)
    line = expect_error(["train", "--config", cfg, "--out", existing_run, "--overwrite"],
                        run_dir=existing_run)
    assert line.startswith(f"gnnrec: error: --config {cfg}{message}"), line


def test_config_file_with_a_byte_order_mark_is_read(tmp_path):
    cfg = tmp_path / "bom.toml"
    cfg.write_bytes(b"\xef\xbb\xbfmodel = \"mf\"\r\n[train]\r\nepochs = 1\r\ndim = 8\r\n")
    out = tmp_path / "run"
    run("train", "--config", cfg, "--dataset", "synthetic", "--synthetic-users", "100",
        "--synthetic-items", "50", "--quiet", "--out", out, check=True)
    saved = json.loads((out / "config.json").read_text())
    assert (saved["model"], saved["epochs"], saved["dim"]) == ("mf", 1, 8)


def test_unwritable_output_directory(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    expect_error(["train", "--model", "mf", "--dataset", "synthetic", *BASE,
                  "--out", blocker / "run"], "output directory", str(blocker / "run"))


def test_existing_run_not_replaced_without_flag(existing_run):
    expect_error(["train", "--model", "mf", "--dataset", "synthetic", *BASE, "--out", existing_run],
                 "already holds a run", "--resume", run_dir=existing_run)


def test_unknown_user_for_recommend(existing_run):
    expect_error(["recommend", "--run", existing_run, "--user", "no-such-user"], "no-such-user")
    expect_error(["recommend", "--run", existing_run, "--user", "100000"], "'100000'")


def test_csv_user_ids_are_matched_as_written(tmp_path):
    """A delimited file's ids are strings: "007" is not "7" there, but the
    error points at the id that is."""
    data = tmp_path / "shop"
    data.mkdir()
    rows = ["user,item"] + [f"{u},{i}" for u in range(7, 27) for i in range(10) if (u + i) % 3]
    (data / "buys.csv").write_text("\n".join(rows) + "\n")
    out = tmp_path / "run"
    run("train", "--model", "mf", "--dataset", data, *BASE, "--out", out, check=True)
    rec = run("recommend", "--run", out, "--user", "7", "--k", "3", check=True).out
    assert rec.splitlines()[0].split() == ["rank", "item", "score"]
    expect_error(["recommend", "--run", out, "--user", "007"], "'007' is not a user",
                 "matched as written", "'7' is one", run_dir=out)


def test_missing_run_for_evaluate(tmp_path):
    expect_error(["evaluate", "--run", tmp_path / "nothing"], "config.json")


def test_cuda_requested_without_gpu(existing_run):
    r = run("train", "--model", "mf", "--dataset", "synthetic", *BASE, "--device", "cuda",
            "--out", existing_run, "--overwrite")
    if r.code == 0:
        pytest.skip("a CUDA device is present")
    assert "--device cuda" in r.err


# --- the rest of the bad-input catalogue (docs/bad_input.md) ------------------

def test_binary_garbage(tmp_path, existing_run):
    import random
    rng = random.Random(3)
    d = tmp_path / "garbage"
    d.mkdir()
    (d / "u.data").write_bytes(bytes(rng.randrange(256) for _ in range(4096)))
    expect_error(train_on(d, existing_run), "u.data:1:", run_dir=existing_run)


def test_truncated_file(tmp_path, existing_run):
    # A copy cut off mid-line: the last line has too few fields.
    d = write(tmp_path / "cut", "ratings.dat", "1::10::5::978300760\n2::20::4::978300760\n3::3")
    expect_error(train_on(d, existing_run), "ratings.dat:3: expected 4 fields separated by '::', got 2",
                 run_dir=existing_run)


def test_wrong_delimiter(tmp_path, existing_run):
    d = write(tmp_path / "tabs", "ratings.dat", "1\t10\t5\t978300760\n")
    expect_error(train_on(d, existing_run), "ratings.dat:1: expected 4 fields separated by '::', got 1",
                 run_dir=existing_run)


def test_huge_id(tmp_path, existing_run):
    d = write(tmp_path / "huge", "train.txt", "0 1 2\n2147483648 3\n")
    expect_error(train_on(d, existing_run), "train.txt:2:", "2147483648 out of range",
                 run_dir=existing_run)


def test_nan_rating(tmp_path, existing_run):
    d = write(tmp_path / "nan", "u.data", "1\t10\t5\t1\n2\t20\tnan\t1\n")
    expect_error(train_on(d, existing_run), "u.data:2: field 3 ('nan') is not a finite number",
                 run_dir=existing_run)


def test_duplicate_edges_and_empty_users_are_accepted(tmp_path):
    # Duplicate pairs count once; a user line without items is no user.
    d = write(tmp_path / "dups", "train.txt", "0 1 1 2 2 3\n7\n1 2 2 4\n2 0 3 4\n")
    write(d, "test.txt", "0 4\n1 0\n2 1\n")
    out = tmp_path / "run"
    run("train", "--model", "mf", "--dataset", d, *BASE, "--out", out, check=True)
    import json
    summary = json.loads((out / "summary.json").read_text())
    assert summary["users"] == 3 and summary["train_interactions"] == 8  # 3 + 2 + 3


def test_huge_fanout(existing_run):
    expect_error(["train", "--model", "sage", "--fanouts", "1000000,1000000", "--dataset",
                  "synthetic", *BASE, "--out", existing_run, "--overwrite"],
                 "--fanouts 1000000,1000000 with --batch-size 256 would sample more than 2^31",
                 run_dir=existing_run)


def test_config_that_does_not_match_the_checkpoint(tmp_path):
    import json
    out = tmp_path / "run"
    run("train", "--model", "mf", "--dataset", "synthetic", "--synthetic-users", "100",
        "--synthetic-items", "50", *BASE, "--out", out, check=True)
    cfg = json.loads((out / "config.json").read_text())
    cfg["dim"] = 16  # the checkpoint holds dim 8
    (out / "config.json").write_text(json.dumps(cfg))
    ckpt = (out / "checkpoints" / "last.ckpt").read_bytes()
    expect_error(["evaluate", "--run", out], "best.ckpt: does not match model mf")
    expect_error(["train", "--resume", "--epochs", "2", "--out", out],
                 "last.ckpt does not match this model")
    assert (out / "checkpoints" / "last.ckpt").read_bytes() == ckpt


def test_corrupt_run_config_names_the_file(tmp_path):
    """A run directory whose config.json is cut short, has a value of the
    wrong type or is not an object: one line naming the file, for evaluate,
    recommend and train --resume; the checkpoints untouched."""
    out = tmp_path / "run"
    run("train", "--model", "mf", "--dataset", "synthetic", "--synthetic-users", "100",
        "--synthetic-items", "50", *BASE, "--out", out, check=True)
    path = out / "config.json"
    ckpt = (out / "checkpoints" / "last.ckpt").read_bytes()
    for text, problem in [(path.read_text()[:40], "not valid JSON: parse error"),
                          ('{"model": 5}', "a value has the wrong type"),
                          ("[1, 2]", "expected a JSON object")]:
        path.write_text(text)
        for args in (["evaluate", "--run", out], ["recommend", "--run", out, "--user", "1"],
                     ["train", "--resume", "--epochs", "2", "--out", out]):
            expect_error(args, f"{path}: {problem}")
    assert (out / "checkpoints" / "last.ckpt").read_bytes() == ckpt
