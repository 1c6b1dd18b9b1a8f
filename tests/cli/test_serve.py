"""`gnnrec serve` over real HTTP on 127.0.0.1 (a port the system picks):
the answers equal the command line's (`recommend --user`, `fold-in
--user-items`) and numpy's cosine similarity, bad requests are a 4xx with
a JSON error and never stop the server, concurrent clients get the same
answers, and SIGTERM / SIGINT stop it with status 0."""
import contextlib
import json
import signal
import threading
import urllib.error
import urllib.request

import numpy as np
import pytest

from conftest import run, start_server


@contextlib.contextmanager
def server(run_dir, *args, stop=signal.SIGTERM):
    """A running `gnnrec serve --port 0` and its base URL; stopped by `stop`
    on exit, which must end it with status 0 and say so."""
    proc, port = start_server(["serve", "--run", run_dir, "--port", "0", *args], timeout=60)
    try:
        yield f"http://127.0.0.1:{port}"
        proc.send_signal(stop)
        out, err = proc.communicate(timeout=30)
        assert proc.returncode == 0, (proc.returncode, out, err)
        assert out.strip() == f"stopped ({signal.Signals(stop).name})", out
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def get(url, data=None, method=None):
    """(status, JSON body) of a request; a 4xx or 5xx is returned, not raised."""
    req = urllib.request.Request(url, data=data.encode() if isinstance(data, str) else data,
                                 method=method)
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        assert e.headers["Content-Type"] == "application/json", e.headers
        return e.code, json.loads(e.read())


def table(text):
    return [(l.split("\t")[1], float(l.split("\t")[2])) for l in text.splitlines()[1:]]


def test_answers_equal_the_command_lines(serving_runs, tmp_path):
    lg = serving_runs["lightgcn"]
    cli = table(run("recommend", "--run", lg, "--user", "123", "--k", "7", check=True).out)
    folded = table(run("fold-in", "--run", lg, "--user-items", "701,702,730", "--k", "5",
                       check=True).out)
    run("export", "--run", lg, "--out", tmp_path / "e", check=True)
    items = np.load(tmp_path / "e" / "items.npy").astype(np.float64)
    item_ids = (tmp_path / "e" / "item_ids.txt").read_text().split()
    with server(lg, "--threads", "3", "--index", "hnsw") as url:
        status, health = get(url + "/health")
        assert status == 200
        assert {k: health[k] for k in ("status", "model", "users", "items", "dimension",
                                       "index", "fold_in")} == \
            {"status": "ok", "model": "lightgcn", "users": 60, "items": 40, "dimension": 8,
             "index": "hnsw", "fold_in": "propagation"}
        status, body = get(url + "/recommend?user=123&k=7")
        assert status == 200 and body["user"] == "123" and body["index"] == "exact"
        assert body["items"] == [i for i, _ in cli]
        assert body["scores"] == pytest.approx([s for _, s in cli], abs=1e-5)
        status, body = get(url + "/recommend?user=123&k=7&index=hnsw")
        assert status == 200 and body["index"] == "hnsw"
        assert len(set(body["items"]) & {i for i, _ in cli}) >= 6
        status, body = get(url + "/recommend", json.dumps({"items": ["701", 702, "730"], "k": 5}))
        assert status == 200 and body["fold_in"] == "propagation"
        assert body["items"] == [i for i, _ in folded]
        status, body = get(url + "/similar?item=710&k=4")
        unit = items / np.linalg.norm(items, axis=1, keepdims=True)
        cos = unit @ unit[item_ids.index("710")]
        want = sorted((-cos[j], i) for j, i in enumerate(item_ids) if i != "710")[:4]
        assert status == 200 and body["similarity"] == "cosine"
        assert body["scores"] == pytest.approx([-s for s, _ in want], abs=1e-5)


def test_bad_requests_are_4xx_with_a_json_error(serving_runs):
    with server(serving_runs["mf"], stop=signal.SIGINT) as url:
        cases = [
            ("/recommend?k=3", None, None, 400, "missing parameter 'user'"),
            ("/recommend?user=101&user=102", None, None, 400, "given 2 times"),
            ("/recommend?user=nobody", None, None, 404, "'nobody' is not a user of"),
            ("/recommend?user=101&k=0", None, None, 400, "k must be an integer in [1, 1000]"),
            ("/recommend?user=101&k=1001", None, None, 400, "got '1001'"),
            ("/recommend?user=101&k=abc", None, None, 400, "got 'abc'"),
            ("/recommend?user=101&k=99999999999999999999", None, None, 400, "k must be"),
            ("/recommend?user=101&index=hnsw", None, None, 400, "started without --index hnsw"),
            ("/recommend?user=101&index=faiss", None, None, 400, "index must be"),
            ("/recommend", "not json", None, 400, "not JSON"),
            ("/recommend", "[1, 2]", None, 400, "expected a JSON object"),
            ("/recommend", '{"items": []}', None, 400, "non-empty list"),
            ("/recommend", '{"items": [700], "k": "5"}', None, 400, "k must be"),
            ("/recommend", '{"items": [700], "users": 1}', None, 400, "unknown key 'users'"),
            ("/recommend", '{"items": [700, 1.5]}', None, 400, "string or an integer"),
            ("/recommend", '{"items": ["700", "nope"]}', None, 404, "'nope' is not an item"),
            ("/similar?item=nope", None, None, 404, "'nope' is not an item"),
            ("/similar", None, None, 400, "missing parameter 'item'"),
            ("/nowhere", None, None, 404, "no such endpoint: GET /nowhere"),
            ("/health", "{}", "DELETE", 404, "no such endpoint"),
        ]
        for path, data, method, status, fragment in cases:
            got, body = get(url + path, data, method)
            assert (got, list(body)) == (status, ["error"]), (path, got, body)
            assert fragment in body["error"], (path, body)
        # A body past the limit (1 MiB).
        got, body = get(url + "/recommend", '{"items": [' + "700," * 300000 + "700]}")
        assert got == 413 and "too large" in body["error"]
        # Still answering.
        assert get(url + "/recommend?user=101&k=2")[0] == 200


def test_a_model_without_fold_in_says_so(serving_runs):
    with server(serving_runs["ngcf"]) as url:
        got, body = get(url + "/recommend", '{"items": ["700"]}')
        assert got == 501 and "ngcf has none" in body["error"]
        assert get(url + "/health")[1]["fold_in"] is None


def test_concurrent_clients_get_the_same_answers(serving_runs):
    with server(serving_runs["lightgcn"], "--threads", "4") as url:
        paths = [f"/recommend?user={100 + u}&k=5" for u in range(0, 60, 6)]
        want = {p: get(url + p) for p in paths}
        failures = []

        def client(n):
            for j in range(25):
                p = paths[(n + j) % len(paths)]
                got = get(url + p)
                if got != want[p]:
                    failures.append((p, got))

        threads = [threading.Thread(target=client, args=(n,)) for n in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not failures, failures[:3]


def test_a_port_in_use_is_one_line(serving_runs):
    with server(serving_runs["mf"]) as url:
        port = url.rsplit(":", 1)[1]
        r = run("serve", "--run", serving_runs["mf"], "--port", port, timeout=60)
        assert r.code == 1 and r.err.startswith(f"gnnrec: error: cannot listen on 127.0.0.1:{port}")
        assert len(r.err.strip().splitlines()) == 1
