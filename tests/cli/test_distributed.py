"""Data-parallel training over processes (train/distributed.h): 2 and 3
Gloo ranks on the loopback interface, launched by setting torchrun's
variables (RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT) here, and once by the
venv's torchrun. The reference is the same run in one process: an N-rank run
sums the ranks' shares of each batch where one process sums the batch, so
the two agree up to float32 rounding (docs/distributed.md states the
tolerance checked here)."""
import json
import os
import pathlib
import shutil
import socket
import subprocess
import sys
import time

import numpy as np
import pytest

from conftest import GNNREC, run

SMALL = ["--dataset", "synthetic", "--synthetic-users", "200", "--synthetic-items", "150",
         "--dim", "16", "--layers", "2", "--batch-size", "256", "--lr", "0.01", "--quiet",
         "--threads", "1", "--eval-every", "1", "--dist-timeout", "20"]

# Relative difference of an epoch's loss, and absolute difference of a
# metric and of an exported representation, between N ranks and one
# process after 3 epochs (the largest seen: docs/distributed.md).
LOSS_RTOL = 1e-5
METRIC_ATOL = 1e-3
VECTOR_ATOL = 1e-4


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_ranks(n, args, rank_env=None, rank_args=None):
    """n gnnrec processes of one process group; rank_env/rank_args: {rank: extra}."""
    port = free_port()
    procs = []
    for r in range(n):
        env = {**os.environ, "OMP_NUM_THREADS": "1", "GNNREC_NO_PLOT": "1", "RANK": str(r),
               "LOCAL_RANK": str(r), "WORLD_SIZE": str(n), "MASTER_ADDR": "127.0.0.1",
               "MASTER_PORT": str(port), **(rank_env or {}).get(r, {})}
        cmd = [str(GNNREC), *map(str, args), *map(str, (rank_args or {}).get(r, []))]
        procs.append(subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                      text=True, env=env))
    return procs


def finish(procs, timeout=300):
    out = []
    for p in procs:
        try:
            o, e = p.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            for q in procs:
                q.kill()
            raise
        out.append((p.returncode, o, e))
    return out


def train_ranks(n, args, check=True, **kw):
    results = finish(start_ranks(n, ["train", *args], **kw))
    if check:
        for r, (code, o, e) in enumerate(results):
            assert code == 0, f"rank {r} failed ({code}):\n{o}\n{e}"
    return results


def metrics_lines(out):
    return [json.loads(l) for l in (out / "metrics.jsonl").read_text().splitlines()]


def assert_runs_agree(a_dir, b_dir, epochs):
    """Run b's metrics.jsonl equals run a's within the tolerances above:
    the same evaluated epochs (`epochs`), each loss and metric. Returns b's lines."""
    a, b = metrics_lines(a_dir), metrics_lines(b_dir)
    assert [l["epoch"] for l in a] == [l["epoch"] for l in b] == epochs
    for la, lb in zip(a, b):
        assert lb["loss"] == pytest.approx(la["loss"], rel=LOSS_RTOL)
        for key, value in la["metrics"].items():
            assert lb["metrics"][key] == pytest.approx(value, abs=METRIC_ATOL), key
    return b


def exported(tmp_path, run_dir, name):
    dest = tmp_path / name
    run("export", "--run", run_dir, "--out", dest, check=True)
    return {f.name: np.load(f) for f in sorted(dest.glob("*.npy"))}


MODELS = [["--model", "lightgcn"], ["--model", "mf"], ["--model", "gat", "--heads", "2"]]


@pytest.mark.parametrize("ranks,model", [(2, MODELS[0]), (3, MODELS[0]), (2, MODELS[1]),
                                         (2, MODELS[2])],
                         ids=["lightgcn-2", "lightgcn-3", "mf-2", "gat-2"])
def test_n_ranks_equal_one_process(tmp_path, ranks, model):
    args = [*model, *SMALL, "--epochs", "3"]
    one, many = tmp_path / "one", tmp_path / "many"
    run("train", *args, "--out", one, check=True)
    train_ranks(ranks, [*args, "--out", many])
    for lb in assert_runs_agree(one, many, [1, 2, 3]):
        assert "allreduce" in lb["phase_seconds"]
    summary = json.loads((many / "summary.json").read_text())
    assert (summary["world_size"], summary["backend"]) == (ranks, "gloo")
    tensors = {"lightgcn": 1, "mf": 2}.get(model[1])  # one table; users' and items'
    if tensors:
        # One float32 array all-reduced: (200 users + 150 items) x 16 values
        # (too few to go as rows), a has-gradient flag per tensor, the loss.
        assert summary["gradient_bytes_per_step"] == 4 * ((200 + 150) * 16 + tensors + 1)
    single = json.loads((one / "summary.json").read_text())
    assert (single["world_size"], single["backend"]) == (1, None)
    va, vb = exported(tmp_path, one, "x1"), exported(tmp_path, many, "xn")
    assert va.keys() == vb.keys() and va
    for name in va:
        np.testing.assert_allclose(vb[name], va[name], rtol=0, atol=VECTOR_ATOL, err_msg=name)


def test_few_gradient_rows_go_as_rows(tmp_path):
    # MF's tables of 3,000 users and 2,500 items x 32 (96,000 and 80,000
    # elements): a batch of 128 pairs touches at most 128 users and 256
    # items, so each rank sends its non-zero rows (ids and values) instead of
    # the tables. The sums are the same terms: equal to one process up to
    # rounding.
    sizes = {"--synthetic-users": "3000", "--synthetic-items": "2500", "--dim": "32",
             "--batch-size": "128"}
    small = [sizes.get(SMALL[i - 1], a) if i else a for i, a in enumerate(SMALL)]
    args = ["--model", "mf", *small, "--epochs", "2"]
    one, many = tmp_path / "one", tmp_path / "many"
    run("train", *args, "--out", one, check=True)
    train_ranks(2, [*args, "--out", many])
    assert_runs_agree(one, many, [1, 2])
    sent = json.loads((many / "summary.json").read_text())["gradient_bytes_per_step"]
    # Per step: two flags and the loss all-reduced (12 bytes), then at most
    # 128 + 256 rows of 32 float32 values and an int64 id each.
    assert 12 < sent <= 12 + (128 + 256) * (32 * 4 + 8)


def test_one_rank_world_is_the_plain_run(tmp_path):
    # WORLD_SIZE=1: the same batches, weights of exactly 1, sums over one
    # rank: bit for bit the run without torchrun's variables.
    args = ["--model", "lightgcn", *SMALL, "--epochs", "2"]
    run("train", *args, "--out", tmp_path / "plain", check=True)
    train_ranks(1, [*args, "--out", tmp_path / "world1"])
    a, b = metrics_lines(tmp_path / "plain"), metrics_lines(tmp_path / "world1")
    assert [(l["loss"], l["metrics"]) for l in a] == [(l["loss"], l["metrics"]) for l in b]


def test_only_rank_zero_writes(tmp_path):
    # Rank 1 is given another --out: it must not create it.
    out, other = tmp_path / "run", tmp_path / "rank1-out"
    results = train_ranks(2, ["--model", "mf", *SMALL, "--epochs", "1"],
                          rank_args={0: ["--out", out], 1: ["--out", other]})
    assert not other.exists()
    assert {p.name for p in out.iterdir()} >= {"config.json", "metrics.jsonl", "summary.json",
                                               "checkpoints"}
    assert results[1][1] == "" and "mf on synthetic" in results[0][1]


@pytest.mark.parametrize("model", [["lightgcn"], ["ngcf", "--shard-embeddings"]],
                         ids=["lightgcn", "ngcf-sharded"])
def test_ranks_stay_bitwise_equal_and_a_skewed_rank_is_caught(tmp_path, model):
    # Every epoch the ranks compare their parameters with rank 0's bit for
    # bit (the runs above pass it; a sharded run its whole parameters, NGCF's
    # weights); a rank whose parameter is nudged after a step stops every
    # rank at that epoch's end, naming the rank.
    args = ["train", "--model", *model, *SMALL, "--epochs", "3", "--out", tmp_path / "r"]
    results = finish(start_ranks(2, args, rank_env={1: {"GNNREC_TEST_FAULT": "skew@batch:2"}}))
    for code, _, err in results:
        assert code == 1
        lines = err.strip().splitlines()
        assert len(lines) == 1, err
        assert "epoch 2: parameter" in lines[0] and "of rank 1 differs from rank 0's" in lines[0]
    assert [l["epoch"] for l in metrics_lines(tmp_path / "r")] == [1]


def test_resume_continues_a_distributed_run_exactly(tmp_path):
    args = ["--model", "lightgcn", *SMALL]
    whole, part = tmp_path / "whole", tmp_path / "part"
    train_ranks(2, [*args, "--epochs", "4", "--out", whole])
    train_ranks(2, [*args, "--epochs", "2", "--out", part])
    train_ranks(2, ["--resume", "--out", part, "--epochs", "4", "--quiet"])
    strip = lambda ls: [(l["epoch"], l["loss"], l["metrics"]) for l in ls]
    assert strip(metrics_lines(part)) == strip(metrics_lines(whole))


def test_resume_with_another_world_size_is_one_line_on_every_rank(tmp_path):
    out = tmp_path / "run"
    train_ranks(2, ["--model", "mf", *SMALL, "--epochs", "1", "--out", out])
    before = (out / "metrics.jsonl").read_text()
    for code, _, err in train_ranks(3, ["--resume", "--out", out, "--epochs", "2", "--quiet"],
                                    check=False):
        assert code == 1
        assert err.strip().count("\n") == 0, err
        assert "trained by 2 process(es) but this run has 3" in err
    r = run("train", "--resume", "--out", out, "--epochs", "2", "--quiet")
    assert r.code == 1 and "trained by 2 process(es) but this run has 1" in r.err
    assert (out / "metrics.jsonl").read_text() == before


@pytest.mark.parametrize("victim,action", [(1, "kill"), (0, "kill"), (1, "stop")])
def test_a_rank_that_dies_or_hangs_stops_the_other(tmp_path, victim, action):
    timeout = 6
    out = tmp_path / "run"
    args = ["train", "--model", "lightgcn", *SMALL, "--epochs", "3", "--out", out]
    args[args.index("--dist-timeout") + 1] = str(timeout)
    procs = start_ranks(2, args, rank_env={victim: {"GNNREC_TEST_FAULT": f"{action}@batch:2"}})
    survivor = procs[1 - victim]
    t0 = time.monotonic()
    try:
        _, err = survivor.communicate(timeout=120)
        waited = time.monotonic() - t0
    finally:
        procs[victim].kill()
        procs[victim].communicate()
    assert survivor.returncode == 1
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert f"rank {1 - victim} of 2: all-reduce of the gradients (epoch 2, batch 2)" in lines[0]
    if victim == 0:
        assert "is gone with its host (rank 0)" in lines[0]
    else:
        assert "rank 1 is not answering" in lines[0]
    if action == "stop":
        assert waited >= timeout
    assert waited < 60
    # The run continues from the last consistent checkpoint (epoch 1).
    if victim == 1:
        assert [l["epoch"] for l in metrics_lines(out)] == [1]
        train_ranks(2, ["--resume", "--out", out, "--epochs", "3", "--quiet"])
        assert [l["epoch"] for l in metrics_lines(out)] == [1, 2, 3]


def test_bad_environment_is_one_line(tmp_path):
    env = {"WORLD_SIZE": "2", "RANK": "5", "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": "29999"}
    r = run("train", "--model", "mf", *SMALL, "--epochs", "1", "--out", tmp_path / "r", env=env)
    assert r.code == 1 and r.err.strip().count("\n") == 0
    assert "RANK='5': expected an integer in [0, 1]" in r.err
    assert not (tmp_path / "r").exists()


def test_torchrun_launches_the_command_line(tmp_path):
    torchrun = pathlib.Path(sys.executable).with_name("torchrun")
    if not torchrun.exists():
        torchrun = shutil.which("torchrun")
    if not torchrun:
        pytest.skip("torchrun is not installed beside this Python")
    out = tmp_path / "run"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "GNNREC_NO_PLOT": "1"}
    proc = subprocess.run(
        [str(torchrun), "--standalone", "--nproc-per-node", "2", "--no-python", str(GNNREC),
         "train", "--model", "mf", *SMALL, "--epochs", "2", "--out", str(out)],
        capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert (summary["world_size"], summary["backend"], summary["epochs_run"]) == (2, "gloo", 2)


def test_python_train_under_torchrun_equals_the_command_line(tmp_path):
    # gnnrec.train(config) in each of torchrun's Python processes runs the
    # same data-parallel loop as the command line: the same metrics, bit for bit.
    torchrun = pathlib.Path(sys.executable).with_name("torchrun")
    if not torchrun.exists():
        pytest.skip("torchrun is not installed beside this Python")
    config = {"model": "mf", "dataset": "synthetic", "synthetic_users": 200,
              "synthetic_items": 150, "dim": 16, "batch_size": 256, "lr": 0.01, "threads": 1,
              "eval_every": 1, "epochs": 2, "out": str(tmp_path / "py")}
    script = tmp_path / "train.py"
    # Each rank writes its own file: the two processes share one stdout, and
    # their prints can interleave (PYTHONUNBUFFERED writes each piece alone).
    script.write_text("import json, os, pathlib\nimport gnnrec\n"
                      f"s = gnnrec.train(json.loads({json.dumps(json.dumps(config))}))\n"
                      f"pathlib.Path({str(tmp_path)!r}, 'rank' + os.environ['RANK'])"
                      ".write_text(f\"{s['world_size']} {s['backend']}\")\n")
    env = {**os.environ, "OMP_NUM_THREADS": "1", "GNNREC_NO_PLOT": "1"}
    proc = subprocess.run([str(torchrun), "--standalone", "--nproc-per-node", "2", str(script)],
                          capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert [(tmp_path / f"rank{r}").read_text() for r in (0, 1)] == ["2 gloo", "2 gloo"]
    train_ranks(2, ["--model", "mf", *SMALL, "--epochs", "2", "--out", tmp_path / "cli"])
    strip = lambda ls: [(l["epoch"], l["loss"], l["metrics"]) for l in ls]
    assert strip(metrics_lines(tmp_path / "py")) == strip(metrics_lines(tmp_path / "cli"))


# --shard-embeddings (train/sharded.h): each rank holds its rows of the
# tables; the batches' rows travel by all-to-all. The sums differ from the
# replicated run's only in the order of the ranks' terms, so the tolerances
# above hold (measured: equal bit for bit with 2 ranks, where a sum of two
# terms does not depend on their order; docs/distributed.md, "Sharded
# embeddings").


def sharded_agrees_with_replicated(tmp_path, ranks, model, *options):
    """Trains `model` (with `options`) for 3 epochs on `ranks` ranks,
    replicated and with --shard-embeddings, and checks that the runs agree (metrics.jsonl, and the
    exported tables: the checkpoint holds the whole tables, so export reads
    them as it reads a replicated run's). Returns the two run directories and
    the sharded run's exported tables."""
    args = ["--model", model, *options, *SMALL, "--epochs", "3"]
    replicated, sharded = tmp_path / "replicated", tmp_path / "sharded"
    train_ranks(ranks, [*args, "--out", replicated])
    train_ranks(ranks, [*args, "--shard-embeddings", "--out", sharded])
    assert_runs_agree(replicated, sharded, [1, 2, 3])
    va, vb = exported(tmp_path, replicated, "xr"), exported(tmp_path, sharded, "xs")
    assert va.keys() == vb.keys() and va
    for name in va:
        np.testing.assert_allclose(vb[name], va[name], rtol=0, atol=VECTOR_ATOL, err_msg=name)
    return replicated, sharded, vb


@pytest.mark.parametrize("ranks", [2, 3])
def test_sharded_mf_equals_replicated(tmp_path, ranks):
    replicated, sharded, vb = sharded_agrees_with_replicated(tmp_path, ranks, "mf")
    # Memory: the largest rank's rows of both tables and their two Adam
    # moments (float32, --dim 16), from the exported tables' row counts.
    rows = [v.shape[0] for v in vb.values()]
    most = max(sum(n * (r + 1) // ranks - n * r // ranks for n in rows) for r in range(ranks))
    summary = json.loads((sharded / "summary.json").read_text())
    assert summary["embedding_bytes_replicated"] == 3 * 4 * 16 * sum(rows)
    assert summary["embedding_bytes_per_rank"] == 3 * 4 * 16 * most
    assert most <= sum(rows) // ranks + 1
    assert "embedding_bytes_per_rank" not in json.loads((replicated / "summary.json").read_text())


# LightGCN over a partitioned graph: each rank propagates its node range,
# fetching its halo rows before each layer. The forward sums each row in the
# replicated run's order; the backward adds the halo rows' gradients at
# their owners, another order than the whole transposed product's, so the
# runs agree up to rounding (the tolerances above).
@pytest.mark.parametrize("ranks", [2, 3])
def test_sharded_lightgcn_equals_replicated(tmp_path, ranks):
    _, sharded, _ = sharded_agrees_with_replicated(tmp_path, ranks, "lightgcn")
    # Memory: the largest rank's share of the 350 nodes' rows and moments.
    nodes = 200 + 150
    most = max(nodes * (r + 1) // ranks - nodes * r // ranks for r in range(ranks))
    summary = json.loads((sharded / "summary.json").read_text())
    assert summary["embedding_bytes_replicated"] == 3 * 4 * 16 * nodes
    assert summary["embedding_bytes_per_rank"] == 3 * 4 * 16 * most
    # Each rank's halo: the nodes outside its range that its rows read.
    halo = summary["halo_rows_per_layer"]
    assert len(halo) == ranks and all(0 < h <= nodes - nodes // ranks for h in halo)
    # The exchanges' seconds have their own phase, out of forward and allreduce.
    assert all(0 < l["phase_seconds"]["halo"] for l in metrics_lines(sharded))


# NGCF and GCN: their table is sharded as LightGCN's, their layers' weights
# stay whole on every rank, their gradients summed over the ranks. A rank
# draws the dropout masks of its own rows only, so the runs are compared
# without dropout. Tolerances as above.
NGCF = ["ngcf", "--node-dropout", "0", "--message-dropout", "0"]


@pytest.mark.parametrize("ranks,model", [(2, NGCF), (3, NGCF), (2, ["gcn", "--dropout", "0"])],
                         ids=["ngcf-2", "ngcf-3", "gcn-2"])
def test_sharded_weighted_graph_models_equal_replicated(tmp_path, ranks, model):
    _, sharded, _ = sharded_agrees_with_replicated(tmp_path, ranks, *model)
    # Memory: the table's rows and moments only (the weights are whole).
    nodes = 200 + 150
    most = max(nodes * (r + 1) // ranks - nodes * r // ranks for r in range(ranks))
    summary = json.loads((sharded / "summary.json").read_text())
    assert summary["embedding_bytes_replicated"] == 3 * 4 * 16 * nodes
    assert summary["embedding_bytes_per_rank"] == 3 * 4 * 16 * most
    assert len(summary["halo_rows_per_layer"]) == ranks
    assert all(0 < l["phase_seconds"]["halo"] for l in metrics_lines(sharded))


def test_sharded_lightgcn_in_one_process_equals_the_plain_run(tmp_path):
    # One shard: no halo; the backward's sums differ in order only.
    args = ["--model", "lightgcn", *SMALL, "--epochs", "2"]
    run("train", *args, "--out", tmp_path / "plain", check=True)
    run("train", *args, "--shard-embeddings", "--out", tmp_path / "one", check=True)
    assert_runs_agree(tmp_path / "plain", tmp_path / "one", [1, 2])


def test_sharded_mf_in_one_process_is_the_plain_run(tmp_path):
    # One shard: the same rows, summed in the same order: bit for bit.
    args = ["--model", "mf", *SMALL, "--epochs", "2"]
    run("train", *args, "--out", tmp_path / "plain", check=True)
    run("train", *args, "--shard-embeddings", "--out", tmp_path / "one", check=True)
    strip = lambda ls: [(l["epoch"], l["loss"], l["metrics"]) for l in ls]
    assert strip(metrics_lines(tmp_path / "one")) == strip(metrics_lines(tmp_path / "plain"))


@pytest.mark.parametrize("model", ["mf", "lightgcn"])
def test_resume_of_a_sharded_run_equals_an_uninterrupted_one(tmp_path, model):
    # Resume cuts the shards (and LightGCN's halo plan) from the restored state.
    args = ["--model", model, *SMALL, "--shard-embeddings"]
    whole, part = tmp_path / "whole", tmp_path / "part"
    train_ranks(2, [*args, "--epochs", "4", "--out", whole])
    train_ranks(2, [*args, "--epochs", "2", "--out", part])
    train_ranks(2, ["--resume", "--out", part, "--epochs", "4", "--quiet"])
    strip = lambda ls: [(l["epoch"], l["loss"], l["metrics"]) for l in ls]
    assert strip(metrics_lines(part)) == strip(metrics_lines(whole))
