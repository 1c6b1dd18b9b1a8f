"""Full-ranking evaluation metrics, computed by the C++ evaluator.

The same code that ``gnnrec train`` and ``gnnrec evaluate`` use
(``train/evaluator.h``), reached through the internal operator
``torch.ops.gnnrec._evaluate_ranking``.
"""
from typing import Dict, Iterable, Sequence, Union

import torch

from . import _library  # noqa: F401  (loads the operators)

Pairs = Union[torch.Tensor, Sequence[Sequence[int]]]


def _to_csr(pairs: Pairs, num_users: int, name: str):
    """(user, item) pairs -> int64 CSR (rowptr [num_users + 1], col), rows sorted, duplicates dropped."""
    is_tensor = isinstance(pairs, torch.Tensor)
    t = torch.as_tensor(pairs, dtype=torch.long).cpu()
    if t.numel() == 0:
        t = t.reshape(2, 0)
    if t.dim() != 2 or 2 not in t.shape:
        raise ValueError(f"{name}: expected a [2, E] edge_index or [E, 2] pairs, got shape {tuple(t.shape)}")
    if not (is_tensor and t.shape[0] == 2):  # [E, 2] pairs
        if t.shape[1] != 2:
            raise ValueError(f"{name}: expected (user, item) pairs, got shape {tuple(t.shape)}")
        t = t.t()
    users, items = t[0], t[1]
    if users.numel() and (users.min() < 0 or users.max() >= num_users):
        raise ValueError(f"{name}: user ids must be in [0, {num_users})")
    # Sort by (user, item) and drop duplicates; the evaluator checks item ids.
    if items.numel() and items.min() < 0:
        raise ValueError(f"{name}: item ids must be >= 0")
    width = int(items.max()) + 1 if items.numel() else 1
    key = torch.unique(users * width + items)
    users, items = key // width, key % width
    rowptr = torch.zeros(num_users + 1, dtype=torch.long)
    rowptr[1:] = torch.cumsum(torch.bincount(users, minlength=num_users), 0)
    return rowptr, items


def full_ranking(user_emb: torch.Tensor, item_emb: torch.Tensor, train_edge_index_or_pairs: Pairs,
                 test_pairs: Pairs, ks: Iterable[int] = (10, 20)) -> Dict[str, float]:
    """Full-ranking top-K metrics of the scores ``user_emb @ item_emb.T``.

    Protocol (the LightGCN / RecBole "full" protocol, as ``gnnrec train``
    reports it): every item is scored for every user; each user's training
    items are masked out (never ranked); the top ``max(ks)`` remaining items
    are compared with the user's test items. Per-user metrics are averaged
    over the users with at least one test item (users without test items are
    ignored). Equal scores rank the lower item id first (``topk_masked``'s
    order), on every device; scoring, ranking and the AUC run on the
    embeddings' device.

    Args:
        user_emb: ``[num_users, d]`` user embeddings (any device, floating).
        item_emb: ``[num_items, d]`` item embeddings.
        train_edge_index_or_pairs: the training interactions, either a
            ``[2, E]`` tensor, a PyG-style ``edge_index`` (users in row 0,
            items in row 1; a 2×2 tensor is read this way), or ``(user, item)``
            pairs: an ``[E, 2]`` tensor or any nested sequence (a list of
            pairs is always read as pairs). Duplicates are counted once.
        test_pairs: the test interactions, in the same forms.
        ks: the cut-offs K.

    Returns:
        ``{"recall@K": ..., "ndcg@K": ..., "precision@K": ..., "hit@K": ...,
        "mrr@K": ..., "map@K": ..., "coverage@K": ..., "auc": ...}`` as floats
        (the metrics of ``train/metrics.h``; coverage is the fraction of items
        appearing in some test user's top-K list, auc the mean per-user AUC of
        test items against the unobserved items).
    """
    if user_emb.dim() != 2 or item_emb.dim() != 2:
        raise ValueError("user_emb and item_emb must be 2-d: [users, d] and [items, d]")
    n = user_emb.shape[0]
    train_rowptr, train_col = _to_csr(train_edge_index_or_pairs, n, "train")
    test_rowptr, test_col = _to_csr(test_pairs, n, "test")
    try:
        names, values = torch.ops.gnnrec._evaluate_ranking(
            user_emb, item_emb, train_rowptr, train_col, test_rowptr, test_col, [int(k) for k in ks])
    except RuntimeError as e:
        raise ValueError(str(e).splitlines()[0]) from None
    return dict(zip(names, values.tolist()))
