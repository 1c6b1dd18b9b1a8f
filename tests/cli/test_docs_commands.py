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
flags as a command that is.

`build/gnnrec serve ... &` starts the server in the background on a port
the system picks (its `--port` becomes 0), and each `curl URL` (or `curl -d
JSON URL`) after it in the block is sent to that port with urllib and must
be answered 200 with JSON; at the end of the block the server gets SIGTERM
and must exit 0."""
import json
import os
import re
import shlex
import signal
import tomllib
import urllib.request

import pytest

from conftest import ROOT, SHARED_DATA, run
from conftest import start_server as serve_in_background

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
    return [[c for c in b if c.startswith(("build/gnnrec ", "curl "))] for b in out]


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


def start_server(args):
    """`gnnrec serve` in the background on a free port: (process, port)."""
    args = list(args)
    args[args.index("--port") + 1] = "0"
    return serve_in_background(args, timeout=120)


def curl(argv, port):
    """A documented `curl [-s] [-d DATA] URL` sent to `port` instead."""
    data, url, it = None, None, iter(argv[1:])
    for a in it:
        if a == "-d":
            data = next(it).encode()
        elif a.startswith("http"):
            url = re.sub(r"//(127\.0\.0\.1|localhost):\d+", f"//127.0.0.1:{port}", a)
    assert url, argv
    with urllib.request.urlopen(urllib.request.Request(url, data=data), timeout=60) as r:
        assert r.status == 200
        return json.loads(r.read())


@pytest.mark.parametrize("block", BLOCKS)
def test_documented_commands_run(block, tmp_path, monkeypatch):
    checkout = tmp_path / "checkout"
    checkout.mkdir()
    (checkout / "examples").symlink_to(ROOT / "examples")
    (tmp_path / "shared").symlink_to(SHARED_DATA.parent)
    monkeypatch.chdir(checkout)
    # The runs of skipped `train` commands: a later command on one of them
    # (`--run DIR`) is skipped too, as is a curl whose server was.
    ran, server, skipped_runs, skipped_server = 0, None, set(), False
    try:
        for command in block:
            argv = shlex.split(command, comments=True)
            if argv[0] == "curl":
                if server is None and skipped_server:
                    print(f"skipped (its server was): {command}")
                    continue
                assert server, f"{command}: no `build/gnnrec serve ... &` before it"
                curl(argv, server[1])
                ran += 1
                continue
            if "cuda" in " ".join(argv):
                continue  # docs/gpu.md: run on a GPU machine (scripts/gpu/)
            args, why = rewrite([a for a in argv if a != "&"], tmp_path, skipped_runs)
            if args is None:
                print(f"skipped ({why}): {command}")
                if out_of(argv):
                    skipped_runs.add(out_of(argv))
                skipped_server = skipped_server or argv[1] == "serve"
                continue
            if args[0] == "serve":
                assert argv[-1] == "&", f"{command}: serve runs until stopped; end it with &"
                server = start_server(args)
                continue
            r = run(*args, timeout=300)
            assert r.code == 0, f"{command}\n-> gnnrec {' '.join(args)}\n{r.out[-2000:]}\n{r.err}"
            ran += 1
    finally:
        if server:
            server[0].send_signal(signal.SIGTERM)
            out, err = server[0].communicate(timeout=60)
            assert server[0].returncode == 0, (out, err)
    if ran == 0:
        pytest.skip("every command of this block needs what is absent here")


def test_the_docs_have_commands():
    """The extraction finds the commands (a change of fence style would
    otherwise turn the test above into nothing)."""
    found = [c for path in DOCS for b in blocks(path) for c in b]
    assert len(found) >= 20, found
    assert any(re.match(r"build/gnnrec (evaluate|recommend) ", c) for c in found)
