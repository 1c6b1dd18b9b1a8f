"""Data sets from Python: the loaders, filters and splits of ``gnnrec train``.

:func:`load` runs the trainer's own data preparation (the C++
``prepare_data``: load, through the binary cache, drop duplicate pairs, apply
``min_rating``, ``kcore`` and the split unless the data set ships one) through
the internal operator ``torch.ops.gnnrec._load_dataset``, so Python sees
exactly the split a ``gnnrec train`` run with the same options trains on::

    import gnnrec.data
    ds = gnnrec.data.load("../shared/data/ml-100k", seed=2020)
    edge_index = ds.to_edge_index("train")        # [2, 2E] over users + items
    rowptr, col = ds.csr("test")                  # user -> item CSR
"""
import os
from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple

import torch

from . import _library  # noqa: F401  (loads the operators)
from ._config import config_json

USER_ITEM = ("user", "rates", "item")
ITEM_USER = ("item", "rated_by", "user")


@dataclass
class Dataset:
    """A prepared (filtered and split) data set with dense ids.

    Attributes:
        name: the data set's folder name, or ``"synthetic"``.
        num_users, num_items: sizes of the dense id ranges.
        train, test: ``[2, E]`` int64 tensors of ``(user, item)`` pairs
            (row 0 users in ``[0, num_users)``, row 1 items in
            ``[0, num_items)``), in the trainer's order.
        train_ratings, test_ratings: float32 ``[E]`` ratings aligned with the
            pairs, or ``None`` when the data set has none.
        user_ids, item_ids: raw ids as written in the files: dense user ``u``
            is ``user_ids[u]``, dense item ``i`` is ``item_ids[i]``.
    """

    name: str
    num_users: int
    num_items: int
    train: torch.Tensor
    test: torch.Tensor
    train_ratings: Optional[torch.Tensor]
    test_ratings: Optional[torch.Tensor]
    user_ids: List[str]
    item_ids: List[str]

    @property
    def num_nodes(self) -> int:
        """Users plus items: the size of the unified node set of :meth:`to_edge_index`."""
        return self.num_users + self.num_items

    def pairs(self, part: str = "train") -> torch.Tensor:
        """The ``[2, E]`` ``(user, item)`` pairs of ``part`` (``"train"`` or ``"test"``)."""
        if part == "train":
            return self.train
        if part == "test":
            return self.test
        raise ValueError(f"part must be 'train' or 'test', got {part!r}")

    def ratings(self, part: str = "train") -> Optional[torch.Tensor]:
        """The ratings of ``part`` aligned with :meth:`pairs`, or ``None``."""
        self.pairs(part)
        return self.train_ratings if part == "train" else self.test_ratings

    def csr(self, part: str = "train") -> Tuple[torch.Tensor, torch.Tensor]:
        """The user -> item matrix of ``part`` in CSR form.

        Returns:
            ``(rowptr, col)``: int64, ``rowptr`` has ``num_users + 1`` entries
            and user ``u``'s items are ``col[rowptr[u]:rowptr[u + 1]]``, in
            the order of :meth:`pairs` (what ``gnnrec.metrics.full_ranking``
            and the ``_evaluate_ranking`` operator take).
        """
        user, item = self.pairs(part)
        order = torch.argsort(user, stable=True)
        counts = torch.bincount(user, minlength=self.num_users)
        rowptr = torch.zeros(self.num_users + 1, dtype=torch.long)
        rowptr[1:] = torch.cumsum(counts, 0)
        return rowptr, item[order].contiguous()

    def to_edge_index(self, part: str = "train", bipartite: bool = True) -> torch.Tensor:
        """A PyG-style ``edge_index`` over the unified node set.

        Users are nodes ``0 .. num_users-1`` and item ``i`` is node
        ``num_users + i`` (``num_nodes`` in all).

        Args:
            part: ``"train"`` or ``"test"``.
            bipartite: ``True`` (default): the undirected user-item graph, every
                pair in both directions: ``[2, 2E]``, the E user -> item edges
                first, then the same E edges reversed (what LightGCN
                propagates over). ``False``: the E user -> item edges only.

        Returns:
            int64 ``[2, 2E]`` (or ``[2, E]``); :func:`from_edge_index` inverts it.
        """
        user, item = self.pairs(part)
        item = item + self.num_users
        forward = torch.stack([user, item])
        if not bipartite:
            return forward
        return torch.cat([forward, torch.stack([item, user])], dim=1)

    def to_hetero(self, part: str = "train") -> Dict[Tuple[str, str, str], torch.Tensor]:
        """The edge stores of a PyG ``HeteroData`` for ``part``.

        Returns:
            ``{("user", "rates", "item"): [2, E] (user, item),
            ("item", "rated_by", "user"): [2, E] (item, user)}``, with dense
            ids per node type (no offset), e.g.
            ``data[k].edge_index = v for k, v in ds.to_hetero().items()`` with
            ``data["user"].num_nodes = ds.num_users`` and
            ``data["item"].num_nodes = ds.num_items``.
        """
        pairs = self.pairs(part)
        return {USER_ITEM: pairs.clone(), ITEM_USER: pairs.flip(0).contiguous()}


def from_edge_index(edge_index: torch.Tensor, num_users: int) -> torch.Tensor:
    """The inverse of :meth:`Dataset.to_edge_index`: ``(user, item)`` pairs.

    Keeps the user -> item edges (source ``< num_users <=`` target) in their
    order and removes the item offset; item -> user edges (the reverse
    direction) are dropped.

    Args:
        edge_index: int ``[2, E]`` over the unified node set (items offset by
            ``num_users``).
        num_users: the number of user nodes.

    Returns:
        int64 ``[2, E']`` pairs, row 0 users, row 1 dense item ids.

    Raises:
        ValueError: a malformed ``edge_index``, or an edge joining two users or
            two items (not a user-item graph).
    """
    if not isinstance(edge_index, torch.Tensor) or edge_index.dim() != 2 or edge_index.size(0) != 2:
        raise ValueError("edge_index must be a [2, E] tensor")
    src, dst = edge_index.long()
    src_user, dst_user = src < num_users, dst < num_users
    if bool((src_user == dst_user).any()) or bool((edge_index < 0).any()):
        raise ValueError("edge_index has an edge that does not join a user and an item")
    forward = src_user
    return torch.stack([src[forward], dst[forward] - num_users])


def load(dataset, **options) -> Dataset:
    """Loads and prepares a data set as ``gnnrec train`` does.

    Args:
        dataset: a directory (LightGCN ``train.txt``/``test.txt``, MovieLens
            ``u.data`` or ``ratings.dat``, KGCN's ``user_artists.dat``,
            RecBole's one ``NAME.inter``, or one ``*.csv``/``*.tsv``; see
            docs/datasets.md) or ``"synthetic"``; may be ``os.PathLike``.
        **options: the data keys of a run's ``config.json``, with the CLI's
            defaults: ``split`` (``"per-user"``, ``"random"``, ``"temporal"``
            or ``"loo"``; used when the data set ships no split),
            ``train_ratio`` (0.8), ``min_rating`` (0: keep all), ``kcore``
            (0: none), ``seed`` (2020), ``synthetic_users`` (3000),
            ``synthetic_items`` (2000).

    Returns:
        A :class:`Dataset`.

    Raises:
        ValueError: an unknown option, a bad value, or bad data, with the C++
            loader's one-line message (naming the file and line, e.g.
            ``.../train.txt:2: field 2 ('x') is not an integer``).
    """
    config = {"dataset": dataset, **options}
    try:
        text = config_json(config)
        tu, ti, tr, su, si, sr, user_ids, item_ids = torch.ops.gnnrec._load_dataset(text)
    except (RuntimeError, TypeError) as e:
        raise ValueError(str(e).splitlines()[0]) from None
    has_ratings = tr.numel() == tu.numel() and tu.numel() > 0
    name = os.fspath(dataset)
    name = "synthetic" if name == "synthetic" else os.path.basename(os.path.normpath(name))
    return Dataset(
        name=name,
        num_users=len(user_ids),
        num_items=len(item_ids),
        train=torch.stack([tu, ti]),
        test=torch.stack([su, si]),
        train_ratings=tr if has_ratings else None,
        test_ratings=sr if has_ratings else None,
        user_ids=list(user_ids),
        item_ids=list(item_ids),
    )
