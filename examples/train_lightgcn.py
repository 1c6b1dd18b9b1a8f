"""Trains LightGCN from Python with gnnrec.spmm and the BPR loss on a small
synthetic user–item graph, and prints Recall@20 beside a popularity baseline.

    GNNREC_LIBRARY=build/libgnnrec.so PYTHONPATH=python python examples/train_lightgcn.py

(no environment variables needed once the package is installed). The data:
users and items fall into planted communities, item popularity follows a
power law, and each user picks most of their items in their own community;
20% of each user's interactions are held out for testing. Runs in seconds.
"""
import argparse
import time

import torch

import gnnrec


def synthetic_interactions(num_users, num_items, num_communities, per_user, gen):
    """(user, item) pairs: `per_user` distinct items per user, 80% from the user's community."""
    item_comm = torch.randint(num_communities, (num_items,), generator=gen)
    popularity = 1.0 / torch.arange(1, num_items + 1, dtype=torch.float64) ** 0.8
    popularity = popularity[torch.randperm(num_items, generator=gen)]
    users, items = [], []
    for u in range(num_users):
        same = (item_comm == u % num_communities).double()
        weights = popularity * (0.8 * same / (popularity * same).sum() +
                                0.2 / popularity.sum())
        picked = torch.multinomial(weights, per_user, replacement=False, generator=gen)
        users.append(torch.full((per_user,), u))
        items.append(picked)
    return torch.cat(users), torch.cat(items)


def per_user_split(users, items, test_ratio, gen):
    """Holds out `test_ratio` of each user's interactions (a random subset)."""
    order = torch.randperm(users.numel(), generator=gen)
    users, items = users[order], items[order]
    by_user = torch.argsort(users, stable=True)
    users, items = users[by_user], items[by_user]
    counts = torch.bincount(users)
    rank = torch.arange(users.numel()) - torch.repeat_interleave(torch.cumsum(counts, 0) - counts, counts)
    test = rank < (counts[users] * test_ratio).long()
    return (users[~test], items[~test]), (users[test], items[test])


def recall_at_k(scores, train, test, k):
    """Mean Recall@k over users with a test item; training items are masked."""
    scores = scores.clone()
    scores[train] = float("-inf")
    top = scores.topk(k, dim=1).indices
    hits = torch.zeros_like(scores, dtype=torch.bool)
    hits[test] = True
    num_test = hits.sum(1)
    found = hits.gather(1, top).sum(1)
    has_test = num_test > 0
    return (found[has_test] / num_test[has_test]).mean().item()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=600)
    parser.add_argument("--items", type=int, default=400)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--dim", type=int, default=32)
    parser.add_argument("--layers", type=int, default=3)
    parser.add_argument("--lr", type=float, default=0.01)
    parser.add_argument("--reg", type=float, default=1e-4)
    parser.add_argument("--batch-size", type=int, default=1024)
    parser.add_argument("--seed", type=int, default=2020)
    args = parser.parse_args()
    torch.manual_seed(args.seed)
    gen = torch.Generator().manual_seed(args.seed)
    U, I = args.users, args.items

    users, items = synthetic_interactions(U, I, num_communities=8, per_user=20, gen=gen)
    (tr_u, tr_i), (te_u, te_i) = per_user_split(users, items, 0.2, gen)

    # The unified graph: users 0..U-1, item i is node U+i, both directions.
    edge_index = torch.stack([torch.cat([tr_u, tr_i + U]), torch.cat([tr_i + U, tr_u])])
    adj = gnnrec.from_edge_index(edge_index, num_nodes=U + I)  # converted once
    value = gnnrec.sym_norm(adj)                               # D^-1/2 A D^-1/2
    propagate = gnnrec.nn.LightGCNPropagation(args.layers)
    emb = torch.nn.Parameter(torch.randn(U + I, args.dim) * 0.1)
    opt = torch.optim.Adam([emb], lr=args.lr)

    start = time.time()
    for epoch in range(args.epochs):
        order = torch.randperm(tr_u.numel())
        total = 0.0
        for batch in order.split(args.batch_size):
            u, i = tr_u[batch], tr_i[batch]
            j = torch.randint(I, (u.numel(),))  # one uniform negative per pair
            out = propagate(emb, adj, value)
            eu, ei, ej = out[u], out[U + i], out[U + j]
            loss = torch.nn.functional.softplus((eu * ej).sum(1) - (eu * ei).sum(1)).mean()
            loss = loss + args.reg * 0.5 * (emb[u].square().sum() + emb[U + i].square().sum() +
                                            emb[U + j].square().sum()) / u.numel()
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * u.numel()
        if (epoch + 1) % 10 == 0:
            print(f"epoch {epoch + 1:3d}  loss {total / tr_u.numel():.4f}")

    with torch.no_grad():
        out = propagate(emb, adj, value)
        scores = out[:U] @ out[U:].t()
        popularity = torch.bincount(tr_i, minlength=I).float().expand(U, I)
        train, test = (tr_u, tr_i), (te_u, te_i)
        model_recall = recall_at_k(scores, train, test, 20)
        pop_recall = recall_at_k(popularity, train, test, 20)
    print(f"lightgcn on synthetic ({U} users, {I} items, {tr_u.numel()} training pairs, "
          f"{time.time() - start:.1f} s, full ranking, training items masked)")
    print(f"{'metric':<12}{'lightgcn':>10}{'popularity':>12}")
    print(f"{'recall@20':<12}{model_recall:>10.4f}{pop_recall:>12.4f}")


if __name__ == "__main__":
    main()
