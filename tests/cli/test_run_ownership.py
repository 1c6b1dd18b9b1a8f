"""Run directories that cannot be corrupted and inputs that cannot mislead
(docs/run_directory.md, docs/bad_input.md): one owner per run directory, no
writing over what is not a run, --overwrite that never leaves neither run,
a resumed run that only trains further, the data fingerprints that
`evaluate`, `recommend` and `--resume` check, and the data-set folders
whose contents used to be misread."""
import json
import os
import re
import signal
import subprocess
import time

import pytest

from conftest import GNNREC, run

SMALL = ["--dataset", "synthetic", "--synthetic-users", "200", "--synthetic-items", "120",
         "--dim", "8", "--layers", "1", "--batch-size", "256", "--quiet"]


def one_error_line(r):
    assert r.code == 1, f"expected exit 1, got {r.code}\n{r.out}\n{r.err}"
    lines = [l for l in r.err.splitlines() if l.strip()]
    assert len(lines) == 1, r.err
    assert lines[0].startswith("gnnrec: error: "), lines[0]
    return lines[0]


def files_of(d):
    return {p.relative_to(d).as_posix(): p.read_bytes() for p in sorted(d.rglob("*"))
            if p.is_file() and p.name != ".lock"}


def start_long_run(out, *extra):
    """A training run that lasts (many epochs), started in the background;
    returns once it has written config.json (it then holds the lock)."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "GNNREC_NO_PLOT": "1"}
    proc = subprocess.Popen([str(GNNREC), "train", "--model", "mf", *SMALL, "--epochs", "100000",
                             "--eval-every", "1000", "--threads", "1", *extra, "--out", str(out)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)
    deadline = time.time() + 60
    while not (out / "config.json").exists():
        assert proc.poll() is None, proc.stderr.read()
        assert time.time() < deadline, "the long run did not start"
        time.sleep(0.02)
    return proc


def stop(proc):
    proc.send_signal(signal.SIGKILL)
    proc.wait()


# --- one owner at a time -----------------------------------------------------

def test_a_second_process_is_refused_while_a_run_trains(tmp_path):
    out = tmp_path / "run"
    proc = start_long_run(out)
    try:
        for args in (["--resume"], ["--overwrite", "--model", "lightgcn", *SMALL, "--epochs", "1"],
                     ["--model", "mf", *SMALL, "--epochs", "1"]):
            line = one_error_line(run("train", *args, "--out", out))
            assert re.search(re.escape(str(out)) + r" is in use by another gnnrec process "
                             r"\(pid " + str(proc.pid) + r"\)", line), line
        before = (out / "config.json").read_bytes()
    finally:
        stop(proc)
    # The refused processes wrote nothing: one configuration, the first's.
    assert (out / "config.json").read_bytes() == before
    assert json.loads(before)["model"] == "mf"
    # The lock died with its holder (SIGKILL): the directory is free again.
    run("train", "--overwrite", "--model", "mf", *SMALL, "--epochs", "1", "--out", out, check=True)


def test_concurrent_fresh_runs_give_one_run(tmp_path):
    """Two `train --out X` started together with different models: one
    trains, the other is refused (the lock, or the run it finds), and X
    holds one model's files only."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "GNNREC_NO_PLOT": "1"}
    for attempt in range(5):
        out = tmp_path / f"run{attempt}"
        procs = [subprocess.Popen([str(GNNREC), "train", "--model", model, *SMALL, "--epochs", "2",
                                   "--eval-every", "1", "--threads", "1", "--out", str(out)],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                                  env=env) for model in ("mf", "lightgcn")]
        codes = [p.wait() for p in procs]
        errs = [p.stderr.read() for p in procs]
        assert sorted(codes) == [0, 1], (codes, errs)
        loser = errs[codes.index(1)]
        assert "is in use by another gnnrec process" in loser or "already holds a run" in loser
        model = json.loads((out / "config.json").read_text())["model"]
        assert model == ("mf", "lightgcn")[codes.index(0)]
        epochs = [json.loads(l)["epoch"] for l in (out / "metrics.jsonl").read_text().splitlines()]
        assert epochs == [1, 2]


# --- what may be written where -------------------------------------------------

@pytest.mark.parametrize("present", ["metrics.jsonl", "summary.json", "checkpoints/last.ckpt"])
def test_files_of_a_run_without_config_json_need_overwrite(tmp_path, present):
    out = tmp_path / "run"
    (out / present).parent.mkdir(parents=True, exist_ok=True)
    (out / present).write_text("kept\n")
    line = one_error_line(run("train", "--model", "mf", *SMALL, "--epochs", "1", "--out", out))
    assert "holds files of a gnnrec run" in line and "no config.json" in line, line
    assert (out / present).read_text() == "kept\n"
    run("train", "--model", "mf", *SMALL, "--epochs", "1", "--out", out, "--overwrite", check=True)
    assert (out / "config.json").exists()


def test_a_folder_of_other_files_is_never_written(tmp_path):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("mine\n")
    (out / "metrics.jsonl").write_text('{"my": "own"}\n')
    before = files_of(out)
    for extra in ([], ["--overwrite"]):
        line = one_error_line(run("train", "--model", "mf", *SMALL, "--epochs", "1", "--out", out,
                                  *extra))
        assert "is not empty and holds no gnnrec run (it has notes.txt)" in line, line
        assert files_of(out) == before


def test_a_failed_start_leaves_no_new_directory(tmp_path):
    out = tmp_path / "never"
    line = one_error_line(run("train", "--model", "mf", "--dataset", tmp_path / "missing",
                              "--out", out))
    assert "cannot open" in line
    assert not out.exists()


def test_overwrite_never_leaves_neither_run(tmp_path):
    out = tmp_path / "run"
    run("train", "--model", "mf", *SMALL, "--protocol", "ctr", "--loss", "bce", "--epochs", "2",
        "--out", out, check=True)
    old = files_of(out)
    assert "ctr_records.tsv" in old
    # The replacement fails at epoch 2 (disk full): the old run is whole in previous-run/.
    r = run("train", "--model", "mf", *SMALL, "--epochs", "3", "--out", out, "--overwrite",
            env={"GNNREC_TEST_FAULT": "enospc@last.ckpt:2"})
    assert "No space left on device" in one_error_line(r)
    kept = {k[len("previous-run/"):]: v for k, v in files_of(out).items()
            if k.startswith("previous-run/")}
    assert kept == old
    assert json.loads((out / "config.json").read_text())["model"] == "mf"
    # Killed while replacing, then replaced again: the finished old run is still the one kept.
    r = run("train", "--model", "mf", *SMALL, "--epochs", "3", "--out", out, "--overwrite",
            env={"GNNREC_TEST_FAULT": "kill@batch:1"})
    assert r.code == -signal.SIGKILL
    kept = {k[len("previous-run/"):]: v for k, v in files_of(out).items()
            if k.startswith("previous-run/")}
    assert kept == old
    # A replacement that finishes removes it, and nothing of the old run is left behind.
    run("train", "--model", "mf", *SMALL, "--epochs", "2", "--out", out, "--overwrite", check=True)
    names = set(files_of(out))
    assert not any(n.startswith("previous-run/") for n in names), names
    assert "ctr_records.tsv" not in names
    assert {"config.json", "metrics.jsonl", "summary.json"} <= names


def test_first_failed_checkpoint_does_not_claim_a_previous_one(tmp_path):
    out = tmp_path / "run"
    r = run("train", "--model", "mf", *SMALL, "--epochs", "2", "--out", out,
            env={"GNNREC_TEST_FAULT": "enospc@last.ckpt:1"})
    line = one_error_line(r)
    assert "(no earlier last.ckpt was written)" in line and "intact" not in line, line


def test_resume_with_fewer_epochs_than_trained_is_refused(tmp_path):
    out = tmp_path / "run"
    run("train", "--model", "mf", *SMALL, "--epochs", "4", "--out", out, check=True)
    before = files_of(out)
    line = one_error_line(run("train", "--resume", "--epochs", "3", "--out", out))
    assert "--epochs 3 is fewer than the 4 epochs" in line, line
    assert files_of(out) == before
    # The same count is nothing to do, and fine.
    run("train", "--resume", "--epochs", "4", "--out", out, "--quiet", check=True)
    assert json.loads((out / "config.json").read_text())["epochs"] == 4


# --- the data a run was trained on ---------------------------------------------

def lightgcn_folder(d, train_lines):
    d.mkdir(parents=True, exist_ok=True)
    (d / "train.txt").write_text("\n".join(train_lines) + "\n")
    (d / "test.txt").write_text("0 5\n1 6\n2 7\n3 7\n")
    return d


TRAIN = [f"{u} " + " ".join(str((u + k) % 8) for k in range(1, 4)) for u in range(4)]


def test_config_json_records_the_data(tmp_path):
    data = lightgcn_folder(tmp_path / "lg", TRAIN)
    out = tmp_path / "run"
    run("train", "--model", "mf", "--dataset", "lg", "--epochs", "1", "--dim", "4", "--quiet",
        "--out", out, check=True, cwd=tmp_path)
    cfg = json.loads((out / "config.json").read_text())
    assert cfg["dataset"] == str(data)  # absolute, whatever the working directory was
    for name in ("train.txt", "test.txt"):
        raw = (data / name).read_bytes()
        size, digest = cfg["data"]["files"][name].split(":")
        assert int(size) == len(raw) and re.fullmatch(r"[0-9a-f]{16}", digest)
    assert re.fullmatch(r"[0-9a-f]{16}", cfg["data"]["split"])
    # From another directory, evaluate finds the same data.
    assert "mf (best checkpoint" in run("evaluate", "--run", out, check=True, cwd=data).out


def test_changed_data_is_refused_by_evaluate_recommend_and_resume(tmp_path):
    data = lightgcn_folder(tmp_path / "lg", TRAIN)
    out = tmp_path / "run"
    run("train", "--model", "mf", "--dataset", data, "--epochs", "2", "--dim", "4", "--quiet",
        "--out", out, check=True)
    before = files_of(out)
    # The same lines in another order: same size; the mtime put back too.
    stat = os.stat(data / "train.txt")
    lightgcn_folder(data, list(reversed(TRAIN)))
    os.utime(data / "train.txt", ns=(stat.st_atime_ns, stat.st_mtime_ns))
    for args in (["evaluate", "--run", out], ["recommend", "--run", out, "--user", "0"],
                 ["train", "--resume", "--epochs", "3", "--out", out]):
        line = one_error_line(run(*args))
        assert "the data differ from those the run was trained on: " + \
            str(data / "train.txt") + " changed" in line, line
    assert files_of(out) == before
    assert "mf (best checkpoint" in run("evaluate", "--run", out, "--ignore-data-change",
                                        check=True).out


# --- data-set folders that used to mislead ---------------------------------------

def data_error(dataset):
    return one_error_line(run("data", "stats", "--dataset", dataset))


def test_an_empty_test_txt_is_an_error_not_a_new_split(tmp_path):
    d = lightgcn_folder(tmp_path / "lg", TRAIN)
    (d / "test.txt").write_text("\n")
    line = one_error_line(run("train", "--model", "mf", "--dataset", d, "--epochs", "1",
                              "--out", tmp_path / "run"))
    assert str(d / "test.txt") + ": no interactions" in line, line


def test_test_txt_equal_to_train_txt(tmp_path):
    d = lightgcn_folder(tmp_path / "lg", TRAIN)
    (d / "test.txt").write_text((d / "train.txt").read_text())
    line = one_error_line(run("train", "--model", "mf", "--dataset", d, "--epochs", "1",
                              "--out", tmp_path / "run"))
    assert "every test interaction is also a training interaction" in line, line
    # Some shared pairs: a warning with the count, and the run goes on.
    (d / "test.txt").write_text("0 1\n1 6\n2 7\n3 7\n")  # (0, 1) is a training pair
    r = run("train", "--model", "mf", "--dataset", d, "--epochs", "1", "--quiet",
            "--out", tmp_path / "run2", check=True)
    assert "gnnrec: warning: " + str(d) + ": 1 of 4 test interactions are also training" in r.err


def test_a_folder_with_two_data_sets(tmp_path):
    d = lightgcn_folder(tmp_path / "two", TRAIN)
    (d / "u.data").write_text("1\t2\t3\t4\n")
    line = data_error(d)
    assert "holds two data sets, train.txt (LightGCN text) and u.data (MovieLens 100K)" in line
    # The format read is named by `data stats` and the training log.
    os.remove(d / "u.data")
    assert "format        lightgcn" in run("data", "stats", "--dataset", d, check=True).out


def test_special_files_are_named_not_overlooked(tmp_path):
    fifo = tmp_path / "fifo"
    fifo.mkdir()
    os.mkfifo(fifo / "u.data")
    assert str(fifo / "u.data") + ": not a regular file (a FIFO, socket or device)" in \
        data_error(fifo)
    folder = tmp_path / "dir"
    (folder / "u.data").mkdir(parents=True)
    assert str(folder / "u.data") + ": not a regular file (a directory)" in data_error(folder)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads every folder")
def test_an_unreadable_folder_says_so(tmp_path):
    d = lightgcn_folder(tmp_path / "locked", TRAIN)
    d.chmod(0)
    try:
        assert "Permission denied" in data_error(d)
    finally:
        d.chmod(0o755)


def test_control_characters_in_messages_are_escaped(tmp_path):
    d = tmp_path / "ml"
    d.mkdir()
    (d / "u.data").write_bytes(b"1\t2\t3\t4\n1\t2\x1b[31m\t3\t4\n")
    line = data_error(d)
    assert "\x1b" not in line and "2\\x1b[31m" in line, line
