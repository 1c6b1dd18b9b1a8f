"""Training from Python: the C++ training loop of ``gnnrec train``.

Reached through the internal operator ``torch.ops.gnnrec._train``, which
takes and returns JSON text.
"""
import json
import os
from typing import Any, Dict, Mapping

import torch

from . import _library  # noqa: F401  (loads the operators)


def train(config: Mapping[str, Any]) -> Dict[str, Any]:
    """Trains a model as ``gnnrec train`` does and returns the run's summary.

    Args:
        config: the keys of a run's ``config.json`` (what ``gnnrec train``
            writes; each is the CLI flag's name with ``-`` as ``_``, e.g.
            ``{"model": "lightgcn", "dataset": "synthetic", "out": "runs/a",
            "epochs": 20, "topk": [10, 20]}``). Missing keys take the CLI's
            defaults; ``out`` (the run directory, which must not exist yet)
            is required. Path values may be ``os.PathLike``.

    Returns:
        The summary (the contents of ``RUN_DIR/summary.json``): best epoch,
        its metrics under ``"best"``, the baseline's under its name, timings.

    Raises:
        ValueError: a bad or unknown key, bad data or an unusable run
            directory, with the CLI's one-line message (e.g. ``--lr must be
            > 0, got -1``).
    """
    if not isinstance(config, Mapping):
        raise TypeError(f"config must be a mapping, got {type(config).__name__}")
    text = json.dumps({k: os.fspath(v) if isinstance(v, os.PathLike) else v for k, v in config.items()})
    try:
        summary = torch.ops.gnnrec._train(text)
    except RuntimeError as e:
        raise ValueError(str(e).splitlines()[0]) from None
    return json.loads(summary)


class Trainer:
    """A training run described by a configuration: ``Trainer(config).fit()``.

    ``config`` is what :func:`train` takes; :meth:`fit` trains and returns the
    summary, also kept as :attr:`summary`.
    """

    def __init__(self, config: Mapping[str, Any]):
        self.config = dict(config)
        self.summary = None

    def fit(self) -> Dict[str, Any]:
        """Trains (see :func:`train`) and returns the summary."""
        self.summary = train(self.config)
        return self.summary
