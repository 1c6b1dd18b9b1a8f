"""A trained run from Python: what ``gnnrec export`` writes, as tensors.

:func:`load_run` loads a run directory through the C++ ``load_run`` (the
same checks as ``gnnrec evaluate``: the checkpoint's integrity, the data the
run was trained on) and returns the model's ranking factors with the raw-id
maps::

    import gnnrec
    run = gnnrec.load_run("runs/ml100k-lightgcn")
    u = run.user_ids.index("196")
    scores = run.items @ run.users[u]            # the score of every item
    top = [run.item_ids[i] for i in scores.topk(10).indices]

(``top`` includes the user's training items; ``gnnrec recommend`` leaves them
out.) docs/serving.md describes the factors of each model.
"""
import json
import os
from typing import Any, Dict, List, NamedTuple

import torch

from . import _library  # noqa: F401  (loads the operators)


class Run(NamedTuple):
    """A run's ranking factors and id maps.

    Attributes:
        users: float32 ``[U, d]``: row ``u`` is the user with raw id
            ``user_ids[u]``.
        items: float32 ``[I, d]``; the score of (u, i) is
            ``users[u] @ items[i]`` (KGCN: ``users`` is the score matrix
            ``[U, I]`` and ``items`` the identity, see ``card["factors"]``).
        user_ids, item_ids: the raw ids, as written in the data set's files,
            in row order.
        card: ``card.json`` of ``gnnrec export``: model, checkpoint, epoch,
            dimension, score function, the data record and the configuration.
    """

    users: torch.Tensor
    items: torch.Tensor
    user_ids: List[str]
    item_ids: List[str]
    card: Dict[str, Any]


def load_run(run, checkpoint: str = "best") -> Run:
    """Loads the run directory ``run`` (``str`` or ``os.PathLike``) with its
    ``best`` or ``last`` checkpoint.

    Raises:
        ValueError: no run there, a corrupt checkpoint, data that differ from
            those the run was trained on, a ``--protocol ctr`` run, with the
            CLI's one-line message.
    """
    if checkpoint not in ("best", "last"):
        raise ValueError(f"load_run: checkpoint must be 'best' or 'last', got {checkpoint!r}")
    try:
        users, items, user_ids, item_ids, card = torch.ops.gnnrec._load_run(
            os.fspath(run), checkpoint)
    except RuntimeError as e:
        raise ValueError(str(e).splitlines()[0]) from None
    return Run(users, items, list(user_ids), list(item_ids), json.loads(card))
