"""LightGCN from Python over several processes: gnnrec.nn.LightGCNPropagation
inside torch.nn.parallel.DistributedDataParallel (Gloo on the CPU).

    $(cat build/.venv-path)/bin/torchrun --standalone --nproc-per-node 2 \\
        examples/ddp_lightgcn.py

(with GNNREC_LIBRARY and PYTHONPATH as for examples/train_lightgcn.py, whose
data, split and Recall@20 this reuses). Every rank draws the same epoch
(permutation and negatives from the seed) and takes its share of each batch;
its loss is weighted so that DDP's mean of the ranks' gradients is the
gradient of the whole batch's loss: N processes train as one does, up to
rounding (tests/python/test_example.py checks the losses against
--nproc-per-node 1).
"""
import argparse
import os

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel

import gnnrec
from train_lightgcn import per_user_split, recall_at_k, synthetic_interactions


class LightGCNBpr(torch.nn.Module):
    """Embeddings of users and items (one table), LightGCN's propagation over
    the fixed normalised graph, and the BPR loss of a batch of (u, i, j)."""

    def __init__(self, num_users, num_items, dim, layers, adj, value, reg):
        super().__init__()
        self.num_users, self.reg = num_users, reg
        self.emb = torch.nn.Parameter(torch.randn(num_users + num_items, dim) * 0.1)
        self.propagate = gnnrec.nn.LightGCNPropagation(layers)
        self.adj, self.value = adj, value

    def representations(self):
        return self.propagate(self.emb, self.adj, self.value)

    def forward(self, u, i, j):
        U, out = self.num_users, self.representations()
        eu, ei, ej = out[u], out[U + i], out[U + j]
        loss = torch.nn.functional.softplus((eu * ej).sum(1) - (eu * ei).sum(1)).mean()
        ego = self.emb[u].square().sum() + self.emb[U + i].square().sum() + \
            self.emb[U + j].square().sum()
        return loss + self.reg * 0.5 * ego / u.numel()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=600)
    parser.add_argument("--items", type=int, default=400)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--dim", type=int, default=32)
    parser.add_argument("--layers", type=int, default=3)
    parser.add_argument("--lr", type=float, default=0.01)
    parser.add_argument("--reg", type=float, default=1e-4)
    parser.add_argument("--batch-size", type=int, default=1024)
    parser.add_argument("--seed", type=int, default=2020)
    args = parser.parse_args()
    dist.init_process_group("gloo")  # torchrun's RANK, WORLD_SIZE, MASTER_ADDR/PORT
    rank, world = dist.get_rank(), dist.get_world_size()
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))

    # The same data and initial table on every rank (DDP also broadcasts
    # rank 0's parameters when it wraps the module).
    torch.manual_seed(args.seed)
    gen = torch.Generator().manual_seed(args.seed)
    U, I = args.users, args.items
    users, items = synthetic_interactions(U, I, num_communities=8, per_user=20, gen=gen)
    (tr_u, tr_i), (te_u, te_i) = per_user_split(users, items, 0.2, gen)
    edge_index = torch.stack([torch.cat([tr_u, tr_i + U]), torch.cat([tr_i + U, tr_u])])
    adj = gnnrec.from_edge_index(edge_index, num_nodes=U + I)
    model = LightGCNBpr(U, I, args.dim, args.layers, adj, gnnrec.sym_norm(adj), args.reg)
    ddp = DistributedDataParallel(model)
    opt = torch.optim.Adam(ddp.parameters(), lr=args.lr)

    for epoch in range(args.epochs):
        epoch_gen = torch.Generator().manual_seed(args.seed * 1000 + epoch)
        order = torch.randperm(tr_u.numel(), generator=epoch_gen)
        negatives = torch.randint(I, (tr_u.numel(),), generator=epoch_gen)
        total = torch.zeros(())
        for batch in order.split(args.batch_size):
            mine = batch.tensor_split(world)[rank]  # this rank's share of the batch
            # DDP averages the ranks' gradients: weighting by world * share
            # makes that average the gradient of the whole batch's mean loss.
            loss = ddp(tr_u[mine], tr_i[mine], negatives[mine]) * (world * mine.numel() /
                                                                 batch.numel())
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.detach() * batch.numel() / world
        dist.all_reduce(total)
        if rank == 0:
            print(f"epoch {epoch + 1:3d}  loss {total.item() / tr_u.numel():.8f}")

    if rank == 0:
        with torch.no_grad():
            out = model.representations()
            recall = recall_at_k(out[:U] @ out[U:].t(), (tr_u, tr_i), (te_u, te_i), 20)
        print(f"recall@20 {recall:.4f} ({world} processes)")
    # Every rank leaves together: a rank that tore its group down while
    # rank 0 was still evaluating aborted once at exit (a Gloo shutdown race).
    dist.barrier()
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
