"""Training from Python: the C++ training loop of ``gnnrec train``.

Reached through the internal operator ``torch.ops.gnnrec._train``, which
takes and returns JSON text.
"""
import json
import os
from typing import Any, Dict, Mapping

import torch

from . import _library  # noqa: F401  (loads the operators)
from ._config import config_json


def train(config: Mapping[str, Any], *, resume: bool = False,
          overwrite: bool = False) -> Dict[str, Any]:
    """Trains a model as ``gnnrec train`` does and returns the run's summary.

    Args:
        config: the keys of a run's ``config.json`` (what ``gnnrec train``
            writes; each is the CLI flag's name with ``-`` as ``_``, e.g.
            ``{"model": "lightgcn", "dataset": "synthetic", "out": "runs/a",
            "epochs": 20, "topk": [10, 20]}``). Missing keys take the CLI's
            defaults; ``out``, the run directory, is required. Path values
            may be ``os.PathLike``.
        resume: continue the run in ``out`` from its last checkpoint, as
            ``gnnrec train --resume``: the run's own ``config.json`` is used,
            with ``epochs`` from ``config`` when given (the total to reach);
            any other key given must equal the run's. The result equals an
            uninterrupted run's.
        overwrite: replace a run already in ``out`` (``--overwrite``);
            without it (or ``resume``), an existing run is an error.

    Returns:
        The summary (the contents of ``RUN_DIR/summary.json``): best epoch,
        its metrics under ``"best"``, the baseline's under its name, timings.

    Raises:
        FileExistsError: ``out`` already holds a run (its ``config.json``)
            and neither ``resume`` nor ``overwrite`` is set; nothing in it is
            touched.
        ValueError: a bad or unknown key, bad data, an unusable run
            directory, nothing to resume or a resumed key that differs from
            the run's, with the CLI's one-line message (e.g. ``--lr must be
            > 0, got -1``); a value of the wrong type or out of its range
            names the key and what it must be (``'dim' must be an integer,
            got 8.5``, ``'epochs' must be in [1, 1000000000], got 1e+30``,
            ``--lr must be a finite number > 0, got nan``); also
            ``resume`` and ``overwrite`` together.
        TypeError: ``config`` is not a mapping, or a value is not one JSON
            can hold (a dict, a set, an object), naming the key.
    """
    if not isinstance(config, Mapping):
        raise TypeError(f"config must be a mapping, got {type(config).__name__}")
    if resume and overwrite:
        raise ValueError("train: resume=True continues the run in 'out' and overwrite=True "
                         "replaces it; pass one of them")
    text = config_json(config)
    out = config.get("out")
    out = os.fspath(out) if isinstance(out, os.PathLike) else out
    if isinstance(out, str) and out and not (resume or overwrite) and \
            os.path.exists(os.path.join(out, "config.json")):
        raise FileExistsError(f"train: {out} already holds a run; pass resume=True to continue "
                              f"it or overwrite=True to replace it")
    try:
        summary = torch.ops.gnnrec._train(text, resume, overwrite)
    except RuntimeError as e:
        raise ValueError(str(e).splitlines()[0]) from None
    return json.loads(summary)


class Trainer:
    """A training run described by a configuration: ``Trainer(config).fit()``.

    ``config`` is what :func:`train` takes; :meth:`fit` trains and returns the
    summary, also kept as :attr:`summary`. An interrupted run continues with
    ``fit(resume=True)`` (raise ``config["epochs"]`` to train further).
    """

    def __init__(self, config: Mapping[str, Any]):
        self.config = dict(config)
        self.summary = None

    def fit(self, *, resume: bool = False, overwrite: bool = False) -> Dict[str, Any]:
        """Trains (see :func:`train`, whose ``resume`` and ``overwrite`` these
        are) and returns the summary."""
        self.summary = train(self.config, resume=resume, overwrite=overwrite)
        return self.summary
