"""Training curves of a run directory: ``python -m gnnrec.plot RUN_DIR``.

Reads RUN_DIR/metrics.jsonl (one JSON object per evaluated epoch: epoch, loss,
metrics) and writes RUN_DIR/curves.png: the training loss and each ranking
metric at @20 (recall, ndcg, ...; the largest K when 20 was not evaluated),
plus rmse and mae in rating mode, per evaluated epoch. The PNG is written to
a temporary file in RUN_DIR and renamed over curves.png (atomic).

Needs matplotlib only (Agg backend), not the compiled library or torch.
"""
from __future__ import annotations

import json
import os
import pathlib
import sys
import tempfile
from typing import Dict, List, Sequence

__all__ = ["PlotError", "load_metrics", "plot_run", "main"]

PREFERRED_K = 20
RATING_METRICS = ("rmse", "mae")
RANKING_ORDER = ("recall", "ndcg", "precision", "hit", "mrr", "map", "coverage")


class PlotError(Exception):
    """A run directory that cannot be plotted (missing or empty metrics.jsonl)."""


def load_metrics(run_dir) -> List[dict]:
    """The records of RUN_DIR/metrics.jsonl, in file order."""
    path = pathlib.Path(run_dir) / "metrics.jsonl"
    if not path.is_file():
        raise PlotError(f"{path}: no such file (is {run_dir} a run directory written by "
                        f"'gnnrec train'?)")
    records = []
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as e:
                raise PlotError(f"{path}:{lineno}: not JSON ({e.msg})") from None
            if not isinstance(rec, dict) or "epoch" not in rec:
                raise PlotError(f"{path}:{lineno}: not a metrics record (no 'epoch')")
            records.append(rec)
    if not records:
        raise PlotError(f"{path}: empty (no evaluated epoch yet)")
    return records


def _metric_keys(records: Sequence[dict]) -> List[str]:
    """The ranking metrics at @20 (else the largest K), then rmse/mae."""
    keys: List[str] = []
    for rec in records:
        for key in rec.get("metrics", {}):
            if key not in keys:
                keys.append(key)
    ks = sorted({int(k.split("@", 1)[1]) for k in keys
                 if "@" in k and k.split("@", 1)[1].isdigit()})
    chosen = []
    if ks:
        k = PREFERRED_K if PREFERRED_K in ks else ks[-1]
        at_k = [key for key in keys if key.endswith(f"@{k}")]
        # recall and ndcg first, then the others in the order they appear.
        rank = {name: i for i, name in enumerate(RANKING_ORDER)}
        chosen = sorted(at_k, key=lambda key: rank.get(key.split("@", 1)[0], len(rank)))
    chosen += [key for key in RATING_METRICS if key in keys]
    return chosen


def plot_run(run_dir) -> pathlib.Path:
    """Writes RUN_DIR/curves.png atomically; returns its path."""
    run = pathlib.Path(run_dir)
    records = load_metrics(run)

    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    series: Dict[str, tuple] = {}
    loss = [(r["epoch"], r["loss"]) for r in records if isinstance(r.get("loss"), (int, float))]
    if loss:
        series["training loss"] = tuple(zip(*loss))
    for key in _metric_keys(records):
        pts = [(r["epoch"], r["metrics"][key]) for r in records
               if isinstance(r.get("metrics", {}).get(key), (int, float))]
        if pts:
            series[key] = tuple(zip(*pts))

    n = max(len(series), 1)
    cols = min(n, 3)
    rows = (n + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(4.5 * cols, 3.2 * rows), squeeze=False)
    flat = [ax for row in axes for ax in row]
    for ax, (name, (xs, ys)) in zip(flat, series.items()):
        ax.plot(xs, ys, marker="o", markersize=3)
        ax.set_title(name)
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(True, alpha=0.3)
    for ax in flat[len(series):]:
        ax.set_visible(False)
    fig.suptitle(f"{run.resolve().name}: {len(records)} evaluated epochs")
    fig.tight_layout()

    out = run / "curves.png"
    fd, tmp = tempfile.mkstemp(prefix=".curves-", suffix=".png.tmp", dir=run)
    try:
        with os.fdopen(fd, "wb") as f:
            fig.savefig(f, format="png", dpi=100)
        os.replace(tmp, out)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    finally:
        plt.close(fig)
    return out


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if len(argv) != 1 or argv[0] in ("-h", "--help"):
        print("usage: python -m gnnrec.plot RUN_DIR  (writes RUN_DIR/curves.png)",
              file=sys.stderr)
        return 0 if argv and argv[0] in ("-h", "--help") else 2
    try:
        out = plot_run(argv[0])
    except PlotError as e:
        print(f"gnnrec.plot: error: {e}", file=sys.stderr)
        return 1
    except OSError as e:
        print(f"gnnrec.plot: error: {e}", file=sys.stderr)
        return 1
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
