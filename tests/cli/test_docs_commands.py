"""Every `build/gnnrec ...` command in the README and docs/ runs as written.

The commands of each fenced block run in order, in a scratch directory laid
out like a checkout (examples/ and ../shared linked, so `runs/...` lands in
it and the paths read as written; `/tmp/...` is moved into it), with two
changes that keep the suite
short: `--epochs N` becomes one epoch (two for a `--resume`, which must go
past the run it continues), and nothing else. A command is skipped, and
says why, when it needs a data set absent here, a GPU, or Gowalla (minutes
an epoch on two cores; GNNREC_DOCS_SLOW=1 runs it too). Commands behind
another program (nsys, ncu) are not run: their gnnrec part is the same
flags as a command that is."""
import os
import re
import shlex
import tomllib

import pytest

from conftest import ROOT, SHARED_DATA, run

DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def blocks(path):
    """The fenced code blocks of a Markdown file, as lists of commands (a
    trailing backslash joins lines)."""
    out, current, inside = [], None, False
    for line in path.read_text().splitlines():
        if line.startswith("```"):
            inside = not inside
            if inside:
                current = []
            else:
                out.append(current)
            continue
        if inside:
            if current and current[-1].endswith("\\"):
                current[-1] = current[-1][:-1] + " " + line.strip()
            else:
                current.append(line.strip())
    return [[c for c in b if c.startswith("build/gnnrec ")] for b in out]


def doc_blocks():
    for path in DOCS:
        for k, block in enumerate(blocks(path)):
            if block:
                yield pytest.param(block, id=f"{path.name}-{k}")


BLOCKS = list(doc_blocks())


def data_unavailable(path):
    """Why a ../shared/data path cannot be used here, or None."""
    p = SHARED_DATA / path[len("../shared/data/"):]
    if not p.exists():
        return f"{p} absent"
    if p.name == "gowalla" and os.environ.get("GNNREC_DOCS_SLOW") != "1":
        return "Gowalla (set GNNREC_DOCS_SLOW=1)"
    return None


def config_file_dataset(path):
    """The dataset a `--config` file names (examples/*.toml), or None."""
    try:
        with open(ROOT / path, "rb") as f:
            table = tomllib.load(f)
    except (OSError, tomllib.TOMLDecodeError):
        return None
    return table.get("dataset", table.get("train", {}).get("dataset"))


def rewrite(argv, scratch, skipped_runs):
    """The command's arguments with /tmp paths moved into `scratch` and
    --epochs cut; or a reason to skip it (data absent, or a run directory
    that a skipped command would have written)."""
    args = []
    resume = "--resume" in argv
    it = iter(argv[1:])
    for a in it:
        if a == "--epochs":
            next(it)
            continue
        if a.startswith("../shared/data/") and data_unavailable(a):
            return None, data_unavailable(a)
        if a in skipped_runs:
            return None, f"{a} was not trained (its command was skipped)"
        if args and args[-1] == "--config":
            dataset = config_file_dataset(a)
            if dataset and dataset.startswith("../shared/data/") and data_unavailable(dataset):
                return None, f"{a}: {data_unavailable(dataset)}"
        if a.startswith("/tmp/"):
            a = str(scratch / a[len("/tmp/"):])
        args.append(a)
    if args and args[0] == "train":
        args += ["--epochs", "2" if resume else "1"]
    return args, None


def out_of(argv):
    """The --out of a command, or None."""
    return next((b for a, b in zip(argv, argv[1:]) if a == "--out"), None)


@pytest.mark.parametrize("block", BLOCKS)
def test_documented_commands_run(block, tmp_path, monkeypatch):
    checkout = tmp_path / "checkout"
    checkout.mkdir()
    (checkout / "examples").symlink_to(ROOT / "examples")
    (tmp_path / "shared").symlink_to(SHARED_DATA.parent)
    monkeypatch.chdir(checkout)
    ran = 0
    skipped_runs = set()
    for command in block:
        argv = shlex.split(command, comments=True)
        if "cuda" in " ".join(argv):
            continue  # docs/gpu.md: run on a GPU machine (scripts/gpu/)
        args, why = rewrite(argv, tmp_path, skipped_runs)
        if args is None:
            print(f"skipped ({why}): {command}")
            if out_of(argv):
                skipped_runs.add(out_of(argv))
            continue
        r = run(*args, timeout=300)
        assert r.code == 0, f"{command}\n-> gnnrec {' '.join(args)}\n{r.out[-2000:]}\n{r.err}"
        ran += 1
    if ran == 0:
        pytest.skip("every command of this block needs what is absent here")


def test_the_docs_have_commands():
    """The extraction finds the commands (a change of fence style would
    otherwise turn the test above into nothing)."""
    found = [c for path in DOCS for b in blocks(path) for c in b]
    assert len(found) >= 20, found
    assert any(re.match(r"build/gnnrec (evaluate|recommend) ", c) for c in found)
