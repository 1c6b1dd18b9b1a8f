"""Training options from the command line: the model hyper-parameter flags
and config-file keys as config.json records them, the BCE loss, rating mode
(--loss mse) with its rmse/mae and global-mean baseline, and the added
metrics (auc, coverage@K)."""
import json

from conftest import run

SMALL = ["--dataset", "synthetic", "--synthetic-users", "300", "--synthetic-items", "200",
         "--dim", "16", "--layers", "2", "--batch-size", "512", "--lr", "0.01", "--quiet",
         "--threads", "2"]
MODEL_OPTIONS = ("dropout", "node_dropout", "message_dropout", "attention_dropout", "heads",
                 "aggregator", "fanouts")


def config_of(run_dir):
    return json.loads((run_dir / "config.json").read_text())


def summary_of(run_dir):
    return json.loads((run_dir / "summary.json").read_text())


def test_help_documents_the_new_options_and_defaults():
    text = run("train", "--help", check=True).out
    for flag in ("--dropout", "--node-dropout", "--message-dropout", "--attention-dropout",
                 "--heads", "--aggregator", "--fanouts", "--loss", "--negatives",
                 "--early-stop-metric"):
        assert flag in text, flag
    for default in ("--loss TEXT=bpr", "--negatives INT=4", "gat 0.6, gcn 0.5, gru4rec 0.5, heterogat 0, mlp 0.1",
                    "[default: gat 8, heterogat 4]", "[default: 2048; gru4rec 50]",
                    "[default: 0.0001; gru4rec 0, multdae 0.01, multvae 0]", "sage mean]", "25,10", "rmse with --loss mse"):
        assert default in text, default


def test_unset_model_options_are_null_given_ones_recorded(tmp_path):
    plain = tmp_path / "plain"
    run("train", "--model", "mf", *SMALL, "--epochs", "1", "--out", plain, check=True)
    cfg = config_of(plain)
    for key in MODEL_OPTIONS:
        assert cfg[key] is None, key
    assert cfg["loss"] == "bpr" and cfg["negatives"] == 4
    assert cfg["early_stop_metric"] == "recall@20"

    given = tmp_path / "given"
    run("train", "--model", "mf", *SMALL, "--epochs", "1", "--dropout", "0.2", "--node-dropout",
        "0.1", "--message-dropout", "0.3", "--attention-dropout", "0.4", "--heads", "2",
        "--aggregator", "max", "--fanouts", "10,5", "--out", given, check=True)
    cfg = config_of(given)
    assert (cfg["dropout"], cfg["node_dropout"], cfg["message_dropout"],
            cfg["attention_dropout"]) == (0.2, 0.1, 0.3, 0.4)
    assert cfg["heads"] == 2 and cfg["aggregator"] == "max" and cfg["fanouts"] == [10, 5]


def test_config_file_keys_are_the_long_flags(tmp_path):
    toml = tmp_path / "run.toml"
    toml.write_text('model = "mf"\nepochs = 1\ndropout = 0.25\nnode-dropout = 0.05\n'
                    'message-dropout = 0.15\nattention-dropout = 0.35\nheads = 4\n'
                    'aggregator = "pool"\nfanouts = [10, 10]\nloss = "bce"\nnegatives = 2\n')
    out = tmp_path / "run"
    run("train", "--config", toml, *SMALL, "--negatives", "3", "--out", out, check=True)
    cfg = config_of(out)
    assert cfg["dropout"] == 0.25 and cfg["node_dropout"] == 0.05
    assert cfg["message_dropout"] == 0.15 and cfg["attention_dropout"] == 0.35
    assert cfg["heads"] == 4 and cfg["aggregator"] == "pool" and cfg["fanouts"] == [10, 10]
    assert cfg["loss"] == "bce"
    assert cfg["negatives"] == 3  # the flag wins over the file


def test_bce_trains_and_reports_auc_and_coverage(tmp_path):
    out = tmp_path / "bce"
    r = run("train", "--model", "mf", *SMALL, "--loss", "bce", "--negatives", "2", "--epochs", "3",
            "--eval-every", "3", "--out", out, check=True)
    assert "auc" in r.out and "coverage@20" in r.out and "popularity" in r.out
    s = summary_of(out)
    assert s["loss"] == "bce" and s["baseline"] == "popularity"
    assert 0.5 < s["best"]["auc"] <= 1.0
    assert 0.0 < s["best"]["coverage@10"] <= s["best"]["coverage@20"] <= 1.0
    assert {"auc", "coverage@20"} <= set(s["popularity"])


def write_block_ratings(d):
    """A MovieLens-100K-like u.data: two groups of users and items, same-group
    pairs rated 4-5 and the others 1-2; each user leaves a quarter unrated."""
    d.mkdir()
    lines = []
    for u in range(1, 17):
        for i in range(1, 17):
            if (3 * u + i) % 4 == 0:
                continue
            rating = 4 + (u + i) % 4 // 3 if u % 2 == i % 2 else 1 + (u * i) % 3 // 2
            lines.append(f"{u}\t{i}\t{rating}\t{880000000 + 100 * u + i}")
    (d / "u.data").write_text("\n".join(lines) + "\n")
    return d


def test_rating_mode_end_to_end(tmp_path):
    data = write_block_ratings(tmp_path / "ratings")
    out = tmp_path / "run"
    r = run("train", "--model", "mf", "--dataset", data, "--loss", "mse", "--dim", "8",
            "--epochs", "60", "--eval-every", "10", "--batch-size", "64", "--lr", "0.05",
            "--topk", "5", "--threads", "2", "--quiet", "--out", out, check=True)
    assert "global_mean" in r.out and "popularity" not in r.out
    rows = {l.split()[0]: l.split()[1:] for l in r.out.splitlines() if l.split()}
    assert "rmse" in rows and "mae" in rows
    s = summary_of(out)
    assert config_of(out)["early_stop_metric"] == "rmse"
    assert s["baseline"] == "global_mean"
    assert s["best"]["rmse"] < s["global_mean"]["rmse"]
    assert s["best"]["mae"] < s["global_mean"]["mae"]
    assert float(rows["rmse"][0]) == round(s["best"]["rmse"], 4)
    # evaluate reloads the best checkpoint and reproduces its errors.
    ev = run("evaluate", "--run", out, check=True).out
    line = next(l for l in ev.splitlines() if l.startswith("rmse"))
    assert abs(float(line.split()[1]) - s["best"]["rmse"]) < 1e-4
    assert abs(float(line.split()[2]) - s["global_mean"]["rmse"]) < 1e-4


def test_reg_scope_full_weighs_every_parameter_whole(tmp_path):
    """--reg-scope full adds reg · ½‖p‖² of every parameter tensor to each
    batch's loss (KGCN's code), --reg-scope batch ½‖ego rows‖² / batch size.
    One batch holds every training pair, so epoch 1's loss is taken at the
    initial parameters: MF's user and item tables, N(0, 0.1²), whose ½‖p‖²
    is close to ½ · 0.01 · (users + items) · dim. Two runs that differ only
    in --reg differ in epoch 1's loss by exactly reg times that term."""
    users, items, dim, reg = 300, 200, 16, 0.01
    def epoch1_loss(name, *extra):
        out = tmp_path / name
        run("train", "--model", "mf", "--dataset", "synthetic", "--synthetic-users", str(users),
            "--synthetic-items", str(items), "--dim", str(dim), "--batch-size", "1000000",
            "--epochs", "1", "--quiet", "--threads", "2", "--out", out, *extra, check=True)
        line = json.loads((out / "metrics.jsonl").read_text().splitlines()[0])
        return line["loss"], config_of(out)
    base, _ = epoch1_loss("none", "--reg", "0")
    full, cfg = epoch1_loss("full", "--reg", str(reg), "--reg-scope", "full")
    batch, _ = epoch1_loss("batch", "--reg", str(reg))
    assert cfg["reg_scope"] == "full"
    expected = 0.5 * 0.01 * (users + items) * dim  # 40
    assert abs((full - base) / reg - expected) < 0.05 * expected, (full, base)
    # The batch scope's term is about ½ · 3 rows · 0.01 · dim = 0.24 (a user,
    # its positive and its negative per pair): two orders of magnitude less.
    assert 0.1 < (batch - base) / reg < 0.5, (batch, base)
    r = run("train", "--model", "mf", "--dataset", "synthetic", "--reg-scope", "rows",
            "--epochs", "1", "--out", tmp_path / "bad")
    assert r.code != 0 and "--reg-scope must be batch or full, got 'rows'" in r.err, r.err
