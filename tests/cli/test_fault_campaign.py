"""The fault campaign (docs/bad_input.md, "Fault campaign"): many faults of
each kind, not one of each.

1. SIGKILL at random times, then --resume, 40 times for each of five models
   (200 kills): the run directory stays readable after every kill, and the
   run that finishes equals the uninterrupted one (metrics.jsonl line for
   line, timings aside; the summary's best epoch and metrics): nothing
   lost, nothing duplicated.
2. Concurrent writers, 50 attempts: two processes start `train --out X`
   together (different models); one trains, the other is refused with one
   line, and X holds the winner's files only.
3. Every loader fed each class of malformed file: one line naming the file,
   exit 1, nothing written; the harmless classes (BOM, CRLF, blank lines)
   load.

Each part prints its figures (run pytest with -s to see them). The delays
of part 1 scale with the measured length of an uninterrupted run, so the
kills land throughout a run on a slow machine as on a fast one."""
import json
import os
import random
import shutil
import subprocess
import time

import pytest

from conftest import GNNREC, run
from test_crash_safety import check_readable, metric_lines, without_timing

BASE = ["--dataset", "synthetic", "--synthetic-users", "240", "--synthetic-items", "160",
        "--dim", "8", "--layers", "2", "--batch-size", "256", "--lr", "0.01", "--epochs", "8",
        "--eval-every", "2", "--threads", "1", "--seed", "3", "--quiet"]
MODELS = {
    "lightgcn": [],
    "mf": [],
    "ngcf": [],
    "gat": ["--heads", "2", "--dropout", "0.2"],
    "sage": ["--fanouts", "4,2"],
}
KILLS_PER_MODEL = 40
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "GNNREC_NO_PLOT": "1"}


def spawn(*args):
    return subprocess.Popen([str(GNNREC), *map(str, args)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True, env=ENV)


@pytest.mark.parametrize("index,model", list(enumerate(MODELS)))
def test_kill_and_resume_campaign(tmp_path, index, model):
    args = ["--model", model, *MODELS[model], *BASE]
    ref = tmp_path / "reference"
    t0 = time.monotonic()
    run("train", *args, "--out", ref, check=True)
    length = time.monotonic() - t0
    reference = without_timing(metric_lines(ref))
    ref_summary = json.loads((ref / "summary.json").read_text())

    def finished_equal(out):
        lines = without_timing(metric_lines(out))
        assert lines == reference, f"{model}: the resumed run differs from the uninterrupted one"
        got = json.loads((out / "summary.json").read_text())
        assert got["best"] == ref_summary["best"] and got["best_epoch"] == ref_summary["best_epoch"]
        assert not list(out.rglob("*.tmp.*")), "temporary files left behind"

    rng = random.Random(index)
    out = tmp_path / "run"
    kills = resumes = finished = 0
    while kills < KILLS_PER_MODEL:
        fresh = not (out / "config.json").exists()
        proc = spawn("train", *(args if fresh else ["--resume", "--quiet"]), "--out", out)
        resumes += not fresh
        try:
            code = proc.wait(timeout=rng.uniform(0.02, 1.2 * length))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            kills += 1
            if (out / "config.json").exists():
                check_readable(out, reference)
            continue
        # It finished before the kill: it must equal the uninterrupted run;
        # then the next round starts afresh.
        assert code == 0, f"{model}: exit {code}: {proc.stderr.read()}"
        finished_equal(out)
        finished += 1
        shutil.rmtree(out)
    run("train", *(["--resume", "--quiet"] if (out / "config.json").exists() else args),
        "--out", out, check=True)
    finished_equal(out)
    print(f"\ncampaign {model}: {kills} SIGKILLs at random times, {resumes} resumes, "
          f"{finished + 1} runs finished, each equal to the uninterrupted run of {length:.2f} s")


def test_concurrent_writers_campaign(tmp_path):
    refused = {"lock": 0, "run": 0}
    for attempt in range(50):
        out = tmp_path / f"run{attempt}"
        models = ("mf", "lightgcn") if attempt % 2 else ("lightgcn", "mf")
        one_epoch = [a if BASE[k - 1] != "--epochs" else "1" for k, a in enumerate(BASE)]
        procs = [spawn("train", "--model", m, *one_epoch, "--out", out) for m in models]
        codes = [p.wait() for p in procs]
        errs = [p.stderr.read() for p in procs]
        assert sorted(codes) == [0, 1], (attempt, codes, errs)
        loser = [l for l in errs[codes.index(1)].splitlines() if l.strip()]
        assert len(loser) == 1, loser
        if "is in use by another gnnrec process" in loser[0]:
            refused["lock"] += 1
        else:
            assert "already holds a run" in loser[0], loser[0]
            refused["run"] += 1
        winner = models[codes.index(0)]
        assert json.loads((out / "config.json").read_text())["model"] == winner
        assert [l["epoch"] for l in metric_lines(out)] == [1]
    print(f"\ncampaign concurrent writers: 50 pairs, one run each; the other refused by the "
          f"lock {refused['lock']} times, by the finished run {refused['run']} times")


# --- malformed files, every loader ---------------------------------------------

def lightgcn(d):
    (d / "train.txt").write_text("0 0 1 2\n1 1 2 3\n2 2 3 4\n3 0 4 5\n")
    (d / "test.txt").write_text("0 3\n1 4\n2 5\n3 1\n")


def ml100k(d):
    rows = [f"{u}\t{i}\t{1 + (u + i) % 5}\t{881250949 + u}" for u in range(1, 5)
            for i in range(1, 6) if (u + i) % 3]
    (d / "u.data").write_text("\n".join(rows) + "\n")
    (d / "u.user").write_text("".join(f"{u}|{20 + u}|{'MF'[u % 2]}|writer|00000\n"
                                      for u in range(1, 5)))
    genres = "".join(f"g{g}|{g}\n" for g in range(3))
    (d / "u.genre").write_text(genres)
    (d / "u.item").write_text("".join(f"{i}|Title {i}|01-Jan-1995||http://x|{i % 2}|1|0\n"
                                      for i in range(1, 6)))


def ml1m(d):
    rows = [f"{u}::{i}::{1 + (u + i) % 5}::97830076{u}" for u in range(1, 5) for i in range(1, 6)
            if (u + i) % 3]
    (d / "ratings.dat").write_text("\n".join(rows) + "\n")


def csv(d):
    rows = [f"{u},{i},{1 + (u + i) % 5}" for u in range(1, 5) for i in range(1, 6) if (u + i) % 3]
    (d / "ratings.csv").write_text("user_id,item_id,rating\n" + "\n".join(rows) + "\n")


def kgcn(d):
    rows = [f"{u}\t{i}\t{10 * u + i}" for u in range(2, 6) for i in range(1, 7) if (u + i) % 3]
    (d / "user_artists.dat").write_text("userID\tartistID\tweight\n" + "\n".join(rows) + "\n")
    (d / "item_index2entity_id.txt").write_text("".join(f"{i}\t{i - 1}\n" for i in range(1, 7)))
    (d / "kg.txt").write_text("0\tfilm.genre\t6\n1\tfilm.genre\t6\n2\tfilm.genre\t7\n3\tfilm.star\t8\n")


def kgat(d):
    lightgcn(d)
    (d / "kg_final.txt").write_text("0 0 6\n1 0 6\n2 1 7\n3 1 7\n4 0 8\n5 1 8\n")


def recbole(d):
    """RecBole atomic files d/rb.inter, .link, .kg, .user, .item (string tokens)."""
    rows = [f"u{u}\ti{i}\t{1 + (u + i) % 5}\t97830076{u}.5" for u in range(4) for i in range(6)
            if (u + i) % 3]
    (d / "rb.inter").write_text("user_id:token\titem_id:token\trating:float\ttimestamp:float\n"
                                + "\n".join(rows) + "\n")
    (d / "rb.link").write_text("item_id:token\tentity_id:token\n"
                               + "".join(f"i{i}\tm.{i}\n" for i in range(6)))
    (d / "rb.kg").write_text("head_id:token\trelation_id:token\ttail_id:token\n"
                             + "".join(f"m.{i}\tfilm.genre\tg.{i % 2}\n" for i in range(6)))


def recbole_features(d):
    recbole(d)
    (d / "rb.kg").unlink()
    (d / "rb.link").unlink()
    (d / "rb.user").write_text("user_id:token\tgender:token\n"
                               + "".join(f"u{u}\t{'FM'[u % 2]}\n" for u in range(4)))
    (d / "rb.item").write_text("item_id:token\tgenre:token_seq\n"
                               + "".join(f"i{i}\tg{i % 2} g{i % 3}\n" for i in range(6)))


# (folder maker, file to corrupt, model that reads it)
TARGETS = {
    "lightgcn train.txt": (lightgcn, "train.txt", "mf"),
    "lightgcn test.txt": (lightgcn, "test.txt", "mf"),
    "ml-100k u.data": (ml100k, "u.data", "mf"),
    "ml-100k u.user": (ml100k, "u.user", "heterogat"),
    "ml-100k u.item": (ml100k, "u.item", "heterogat"),
    "ml-100k u.genre": (ml100k, "u.genre", "heterogat"),
    "ml-1m ratings.dat": (ml1m, "ratings.dat", "mf"),
    "csv ratings.csv": (csv, "ratings.csv", "mf"),
    "kgcn user_artists.dat": (kgcn, "user_artists.dat", "kgcn"),
    "kgcn item_index2entity_id.txt": (kgcn, "item_index2entity_id.txt", "kgcn"),
    "kgcn kg.txt": (kgcn, "kg.txt", "kgcn"),
    "kgat kg_final.txt": (kgat, "kg_final.txt", "kgat"),
    "recbole rb.inter": (recbole, "rb.inter", "mf"),
    "recbole rb.link": (recbole, "rb.link", "kgat"),
    "recbole rb.kg": (recbole, "rb.kg", "kgat"),
    "recbole rb.user": (recbole_features, "rb.user", "heterogat"),
    "recbole rb.item": (recbole_features, "rb.item", "heterogat"),
}


def cut_mid_line(t):
    """The file cut inside a line (a line shortened at a field boundary may
    still be a valid line: such a file is accepted or refused)."""
    lines = t.splitlines(keepends=True)
    k = len(lines) // 2
    return "".join(lines[:k]) + lines[k][:max(1, len(lines[k]) // 2)]


def has_header(t):
    return t[:1].isalpha()


def replace_first_field(t, new):
    lines = t.splitlines(keepends=True)
    k = 1 if has_header(t) else 0
    for sep in ("\t", "::", "|", ",", " "):
        if sep in lines[k]:
            lines[k] = new + sep + lines[k].split(sep, 1)[1]
            break
    return "".join(lines)


def wrong_delimiter(t):
    lines = t.splitlines(keepends=True)
    k = 1 if has_header(t) else 0  # a header keeps its delimiter: the rows disagree with it
    swapped = [l.replace("\t", ";").replace("::", ";").replace("|", ";").replace(",", ";")
               .replace(" ", ";") for l in lines[k:]]
    return "".join(lines[:k] + swapped)


# Classes of malformed text, and whether each must be refused ("refuse") or
# may also be a file the format accepts ("either"). Refused means exit 1 and
# one line that names the file.
BAD = {
    "truncated": (cut_mid_line, "either"),
    "binary garbage": (lambda t: "\x00\x01\x7f\x1b" * 64 + "\n" + t, "refuse"),
    "wrong delimiter": (wrong_delimiter, "refuse"),
    "not a number": (lambda t: replace_first_field(t, "x7"), "refuse"),
    "id past int32": (lambda t: replace_first_field(t, "2147483648"), "refuse"),
    "id past int64": (lambda t: replace_first_field(t, "99999999999999999999"), "refuse"),
    "negative id": (lambda t: replace_first_field(t, "-4"), "refuse"),
    "control characters": (lambda t: replace_first_field(t, "1\x1b[2J"), "refuse"),
    "empty": (lambda t: "", "refuse"),
    "a megabyte line": (lambda t: t + "9" * (1 << 20) + "\n", "refuse"),
}
# Files whose first field is a name, not an integer id: u.genre's genre
# names, and the ids of a *.csv file and RecBole's tokens, strings matched
# as written.
NAME_FIRST = {"ml-100k u.genre", "csv ratings.csv", "recbole rb.inter", "recbole rb.link",
              "recbole rb.kg", "recbole rb.user", "recbole rb.item"}
ID_CLASSES = {"not a number", "id past int32", "id past int64", "negative id",
              "control characters"}
# Harmless variations every text format must read as the plain file.
GOOD = {
    "BOM and CRLF": lambda t: "\ufeff" + t.replace("\n", "\r\n"),
    "blank lines": lambda t: "\n\n" + t.replace("\n", "\n \t\n"),
}


def train_on(d, model, out):
    return run("train", "--model", model, "--dataset", d, "--epochs", "1", "--dim", "4",
               "--layers", "1", "--batch-size", "64", "--quiet", "--out", out)


def test_every_loader_against_every_malformed_class(tmp_path):
    counts = {"refused": 0, "accepted": 0, "harmless": 0}
    cases = [(label, corrupt, rule) for label, (corrupt, rule) in BAD.items()] + \
        [(label, corrupt, "accept") for label, corrupt in GOOD.items()]
    for target, (make, name, model) in TARGETS.items():
        for label, corrupt, rule in cases:
            if target in NAME_FIRST and label in ID_CLASSES:
                rule = "either"
            d = tmp_path / f"{target}-{label}".replace(" ", "_")
            d.mkdir()
            make(d)
            path = d / name
            path.write_text(corrupt(path.read_text()))
            out = tmp_path / "runs" / d.name
            r = train_on(d, model, out)
            where = f"{target} / {label}"
            if rule == "accept" or (rule == "either" and r.code == 0):
                assert r.code == 0, f"{where}: {r.err}"
                counts["harmless" if rule == "accept" else "accepted"] += 1
                continue
            lines = [l for l in r.err.splitlines() if l.strip()]
            assert r.code == 1 and len(lines) == 1, f"{where}: exit {r.code}: {r.err}"
            # A refused class names the file; a cut file may be refused for
            # what it makes of another (a user it dropped is unknown to test.txt).
            named = str(path) if rule == "refuse" else str(d)
            assert lines[0].startswith("gnnrec: error: ") and named in lines[0], \
                f"{where}: {lines[0]}"
            assert len(lines[0]) < 400 and "\x1b" not in lines[0], f"{where}: {lines[0][:400]!r}"
            assert not out.exists(), f"{where}: a refused run left {out}"
            counts["refused"] += 1
    print(f"\ncampaign loaders: {len(TARGETS)} files x {len(BAD)} malformed classes: "
          f"{counts['refused']} refused with one line naming the file, {counts['accepted']} "
          f"still valid files accepted; {counts['harmless']} harmless variations loaded")
