"""Training curves of run directories: ``python -m gnnrec.plot RUN [RUN ...] [--out FILE]``.

One run (``plot_run``): reads RUN/metrics.jsonl (one JSON object per
evaluation: epoch, loss, metrics, seconds) and, when present, RUN/summary.json
and RUN/config.json, and draws the training loss and each ranking metric at
@20 (recall, ndcg, ...; the largest K when 20 was not evaluated), plus rmse and
mae in rating mode, per evaluated epoch: the run's baseline (popularity, or
the global mean in rating mode, from summary.json) as a dashed line on each
metric, and the best epoch marked (a dotted vertical line, a star on each
curve). Written to RUN/curves.png unless --out names another file.

Several runs (``plot_runs``, --out required): the training loss and the
first two of those metrics (recall and ndcg, or rmse and mae) overlaid, one
colour per run, each labelled by its model and the settings in which the
runs differ (else its width and learning rate), against epochs (left column)
and against training seconds (right column: metrics.jsonl's
train_seconds_total, the training time of every epoch so far, evaluation
excluded), with each run's best epoch starred.

Every y-axis starts at 0 (or below, for a negative value) and ends just above
the largest value drawn, so that a curve's height is its value: a drift of
2 % looks like one. The PNG (a 256-colour palette) is written to a temporary
file beside FILE and renamed over it (atomic). Both functions return a ``Drawing``: the file and,
per panel, the series, labels, baselines and best epochs drawn.

Needs matplotlib only (Agg backend), not the compiled library or torch.
"""
from __future__ import annotations

import dataclasses
import io
import json
import os
import pathlib
import sys
import tempfile
from typing import Dict, List, Optional, Sequence, Tuple

__all__ = ["PlotError", "Series", "Panel", "Drawing", "load_metrics", "plot_run", "plot_runs",
           "main"]

PREFERRED_K = 20
RATING_METRICS = ("rmse", "mae")
RANKING_ORDER = ("recall", "ndcg", "precision", "hit", "mrr", "map", "coverage")
LOSS = "training loss"
# Configuration keys that never tell two runs' models apart in a label.
NOT_SETTINGS = ("out", "threads", "device", "deterministic", "epochs", "eval_every",
                "eval_initial", "patience", "topk", "cold_fraction", "early_stop_metric", "data")
# What labels a run when no setting differs between the runs drawn.
KEY_SETTINGS = ("dim", "lr")
COMPARED_METRICS = 2  # plot_runs: recall and ndcg (rmse and mae in rating mode)
Y_HEADROOM = 1.08  # the top of a y-axis, as a multiple of the largest value drawn


class PlotError(Exception):
    """A run directory that cannot be plotted (missing or empty metrics.jsonl)."""


@dataclasses.dataclass
class Series:
    """One curve: its legend label, colour, points, and its best point (or None)."""
    label: str
    color: str
    x: List[float]
    y: List[float]
    best: Optional[Tuple[float, float]] = None


@dataclasses.dataclass
class Panel:
    """One axes: a metric (or the training loss) against epochs or seconds."""
    metric: str
    xlabel: str
    series: List[Series]
    baselines: Dict[str, float]  # label -> value, each a dashed horizontal line
    best_epoch: Optional[int]    # a dotted vertical line (single-run plots)
    ylim: Tuple[float, float]


@dataclasses.dataclass
class Drawing:
    """What a plot function drew, and where."""
    path: pathlib.Path
    title: str
    panels: List[Panel]


@dataclasses.dataclass
class _Run:
    name: str
    records: List[dict]
    config: dict
    summary: dict


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


def _load_json(path: pathlib.Path) -> dict:
    """PATH's JSON object, or {} when the file is absent."""
    if not path.is_file():
        return {}
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise PlotError(f"{path}: not JSON ({e})") from None
    if not isinstance(value, dict):
        raise PlotError(f"{path}: not a JSON object")
    return value


def _load_run(run_dir) -> _Run:
    run = pathlib.Path(run_dir)
    return _Run(run.resolve().name, load_metrics(run), _load_json(run / "config.json"),
                _load_json(run / "summary.json"))


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


def _value(rec: dict, metric: str):
    v = rec.get("loss") if metric == LOSS else rec.get("metrics", {}).get(metric)
    return v if isinstance(v, (int, float)) and not isinstance(v, bool) else None


def _seconds(records: Sequence[dict]) -> List[float]:
    """Training seconds up to each record: train_seconds_total, or for a run
    written before that field, the evaluated epochs' train_seconds times the
    epochs since the previous record (an estimate)."""
    out, total, prev = [], 0.0, 0
    for rec in records:
        if isinstance(rec.get("train_seconds_total"), (int, float)):
            total = float(rec["train_seconds_total"])
        else:
            total += float(rec.get("train_seconds") or 0.0) * max(rec["epoch"] - prev, 0)
        prev = rec["epoch"]
        out.append(total)
    return out


def _series(run: _Run, metric: str, label: str, color: str, by_seconds: bool) -> Optional[Series]:
    xs_all = _seconds(run.records) if by_seconds else [r["epoch"] for r in run.records]
    pts = [(x, _value(r, metric), r["epoch"]) for x, r in zip(xs_all, run.records)]
    pts = [p for p in pts if p[1] is not None]
    if not pts:
        return None
    best_epoch = run.summary.get("best_epoch")
    best = next(((x, y) for x, y, e in pts if e == best_epoch), None)
    return Series(label, color, [p[0] for p in pts], [p[1] for p in pts], best)


def _baselines(runs: Sequence[_Run], metric: str, dataset_label: bool) -> Dict[str, float]:
    out: Dict[str, float] = {}
    for run in runs:
        name = run.summary.get("baseline")
        value = run.summary.get(name, {}).get(metric) if name else None
        if metric == LOSS or not isinstance(value, (int, float)):
            continue
        label = name.replace("_", " ")
        if dataset_label:
            label += " (" + _dataset_name(run.config) + ")"
        out.setdefault(label, float(value))
    return out


def _ylim(series: Sequence[Series], baselines: Dict[str, float]) -> Tuple[float, float]:
    values = [y for s in series for y in s.y] + list(baselines.values())
    lo, hi = min(values + [0.0]), max(values + [0.0])
    if hi <= lo:
        hi = lo + 1.0
    return lo * Y_HEADROOM if lo < 0 else 0.0, hi * Y_HEADROOM if hi > 0 else hi


def _dataset_name(config: dict) -> str:
    return pathlib.Path(str(config.get("dataset", "?"))).name or "?"


def _format(value) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list):
        return ",".join(_format(v) for v in value)
    return str(value)


def _labels(runs: Sequence[_Run]) -> List[str]:
    """Each run's model and the settings in which the runs differ (the data
    set by name), else its KEY_SETTINGS; the run directory's name when two
    labels would be equal."""
    configs = [r.config for r in runs]
    keys = [k for c in configs for k in c if k not in NOT_SETTINGS + ("model",)]
    keys = list(dict.fromkeys(keys))
    differing = [k for k in keys if len({json.dumps(c.get(k)) for c in configs}) > 1]
    shown = differing or [k for k in KEY_SETTINGS if any(k in c for c in configs)]
    labels = []
    for run in runs:
        c = run.config
        parts = [str(c.get("model", run.name))]
        for k in shown:
            if k not in c:
                continue
            value = _dataset_name(c) if k == "dataset" else _format(c[k])
            parts.append(f"{k.replace('_', '-')} {value}")
        labels.append(" ".join(parts))
    if len(set(labels)) < len(labels):
        labels = [f"{label} ({run.name})" for label, run in zip(labels, runs)]
    return labels


def _draw(drawing: Drawing, cols: int) -> None:
    """Draws drawing.panels, `cols` to a row, and writes drawing.path atomically."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    rows = (len(drawing.panels) + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(4.8 * cols, 3.3 * rows), squeeze=False)
    flat = [ax for row in axes for ax in row]
    for ax, panel in zip(flat, drawing.panels):
        for s in panel.series:
            ax.plot(s.x, s.y, marker="o", markersize=3, color=s.color, label=s.label)
            if s.best is not None:
                ax.plot([s.best[0]], [s.best[1]], marker="*", markersize=13, color=s.color,
                        markeredgecolor="black", linestyle="none")
        for label, value in panel.baselines.items():
            ax.axhline(value, linestyle="--", color="0.45", label=f"{label} {value:.4g}")
        if panel.best_epoch is not None:
            ax.axvline(panel.best_epoch, linestyle=":", color="0.3",
                       label=f"best epoch {panel.best_epoch}")
        ax.set_title(panel.metric)
        ax.set_xlabel(panel.xlabel)
        ax.set_ylim(*panel.ylim)
        if panel.xlabel == "epoch":
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(True, alpha=0.3)
        if panel.baselines or panel.best_epoch is not None or len(panel.series) > 1:
            ax.legend(fontsize=7, loc="best")
    for ax in flat[len(drawing.panels):]:
        ax.set_visible(False)
    fig.suptitle(drawing.title)
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.45 / fig.get_figheight()))  # room for the title
    out = drawing.path
    fd, tmp = tempfile.mkstemp(prefix=".curves-", suffix=".png.tmp", dir=out.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            _save_png(fig, f)
        os.replace(tmp, out)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    finally:
        plt.close(fig)


def _save_png(fig, f) -> None:
    """FIG as a PNG with a 256-colour palette (Pillow, which matplotlib
    needs): about a third of the RGBA file's size, the same to the eye."""
    from PIL import Image

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    buf.seek(0)
    Image.open(buf).convert("RGB").quantize(colors=256).save(f, format="PNG", optimize=True)


def _check_out(out) -> pathlib.Path:
    out = pathlib.Path(out)
    if out.suffix.lower() != ".png":
        raise PlotError(f"--out {out}: the file must end in .png")
    if not out.parent.is_dir():
        raise PlotError(f"--out {out}: no such directory {out.parent}")
    return out


def plot_run(run_dir, out=None) -> Drawing:
    """Draws one run's curves (RUN_DIR/curves.png, or `out`); returns what it drew."""
    run = _load_run(run_dir)
    out = pathlib.Path(run_dir) / "curves.png" if out is None else _check_out(out)
    best_epoch = run.summary.get("best_epoch") or None
    panels = []
    for metric in [LOSS] + _metric_keys(run.records):
        s = _series(run, metric, metric, "C0", by_seconds=False)
        if s is None:
            continue
        baselines = _baselines([run], metric, dataset_label=False)
        panels.append(Panel(metric, "epoch", [s], baselines, best_epoch, _ylim([s], baselines)))
    c = run.config
    what = f"{c['model']} on {_dataset_name(c)}" if "model" in c else run.name
    epochs = run.summary.get("epochs_run", run.records[-1]["epoch"])
    title = (f"{what}: best epoch {best_epoch} of {epochs}" if best_epoch
             else f"{what}: {len(run.records)} evaluations")
    drawing = Drawing(out, title, panels)
    _draw(drawing, cols=min(max(len(panels), 1), 3))
    return drawing


def plot_runs(run_dirs: Sequence, out) -> Drawing:
    """Draws several runs overlaid into `out`, one row per metric, against
    epochs and training seconds; returns what it drew."""
    if not run_dirs:
        raise PlotError("no run directory given")
    out = _check_out(out)
    runs = [_load_run(d) for d in run_dirs]
    labels = _labels(runs)
    colors = [f"C{i % 10}" for i in range(len(runs))]
    metrics = list(dict.fromkeys(k for r in runs for k in _metric_keys(r.records)))
    metrics = metrics[:COMPARED_METRICS]
    several_datasets = len({_dataset_name(r.config) for r in runs}) > 1
    panels = []
    for metric in [LOSS] + metrics:
        baselines = _baselines(runs, metric, several_datasets)
        for by_seconds in (False, True):
            series = [s for r, label, color in zip(runs, labels, colors)
                      if (s := _series(r, metric, label, color, by_seconds)) is not None]
            if not series:
                continue
            xlabel = "training seconds (evaluation excluded)" if by_seconds else "epoch"
            panels.append(Panel(metric, xlabel, series, baselines, None,
                                _ylim(series, baselines)))
    drawing = Drawing(out, f"{len(runs)} runs (a star marks each run's best epoch)", panels)
    _draw(drawing, cols=2)
    return drawing


USAGE = ("usage: python -m gnnrec.plot RUN [RUN ...] [--out FILE.png]\n"
         "  one RUN: its curves, into RUN/curves.png unless --out is given;\n"
         "  several: overlaid against epochs and training seconds, into --out FILE.png")


def _parse(argv: List[str]) -> Tuple[List[str], Optional[str]]:
    runs, out = [], None
    i = 0
    while i < len(argv):
        a = argv[i]
        if a == "--out" or a.startswith("--out="):
            if a == "--out":
                if i + 1 >= len(argv):
                    raise PlotError("--out needs a FILE.png")
                a, i = argv[i + 1], i + 1
            else:
                a = a.split("=", 1)[1]
            if out is not None:
                raise PlotError("--out given twice")
            out = a
        elif a.startswith("-"):
            raise PlotError(f"unknown option {a} (see --help)")
        else:
            runs.append(a)
        i += 1
    if not runs:
        raise PlotError("no run directory given (see --help)")
    if len(runs) > 1 and out is None:
        raise PlotError("several runs need --out FILE.png")
    return runs, out


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if any(a in ("-h", "--help") for a in argv):
        print(USAGE)
        return 0
    try:
        runs, out = _parse(argv)
        drawing = plot_run(runs[0], out) if len(runs) == 1 else plot_runs(runs, out)
    except (PlotError, OSError) as e:
        print(f"gnnrec.plot: error: {e}", file=sys.stderr)
        return 1
    print(f"wrote {drawing.path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
