import os
import pathlib
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
# The Makefile passes the binary of the build folder it tested (BUILD=...).
GNNREC = pathlib.Path(os.environ.get("GNNREC_BIN", ROOT / "build" / "gnnrec")).resolve()
SHARED_DATA = ROOT.parent / "shared" / "data"


class Result:
    def __init__(self, proc):
        self.code = proc.returncode
        self.out = proc.stdout
        self.err = proc.stderr


# The command sets OMP_WAIT_POLICY=PASSIVE itself by starting again when it
# is unset (train/cli/thread_wait.h); setting it here saves the tests that
# second start. tests/cli/test_cli.py::test_threads_wait_passively checks the
# restart.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def run(*args, check=False, timeout=600, env=None, cwd=None):
    # GNNREC_NO_PLOT=1 by default: the tests stay fast (no curves.png);
    # tests/cli/test_plot_hook.py passes env= to exercise the plot hook.
    env = {**os.environ, "OMP_NUM_THREADS": "2", "GNNREC_NO_PLOT": "1", **(env or {})}
    proc = subprocess.run([str(GNNREC), *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, env=env, cwd=cwd)
    if check and proc.returncode != 0:
        raise AssertionError(f"gnnrec {' '.join(map(str, args))} failed ({proc.returncode}):\n"
                             f"{proc.stdout}\n{proc.stderr}")
    return Result(proc)


@pytest.fixture(scope="session", autouse=True)
def _binary_exists():
    if not GNNREC.exists():
        pytest.fail(f"{GNNREC} is missing: run 'make build' first")


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path, monkeypatch):
    # Each test gets its own binary-cache directory.
    monkeypatch.setenv("GNNREC_CACHE", str(tmp_path / "cache"))
