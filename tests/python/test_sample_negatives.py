"""torch.ops.gnnrec.sample_negatives from Python: opcheck (schema, fake
implementation, autograd registration) on each device, draws that avoid the
user's items, CPU == CUDA, and errors naming the argument.

Run with GNNREC_LIBRARY=build/libgnnrec.so PYTHONPATH=python (the Makefile's
test target sets both).
"""
import re

import pytest
import torch
from torch.library import opcheck

import gnnrec  # noqa: F401  (loads the library: registers torch.ops.gnnrec)

OPS = torch.ops.gnnrec
DEVICES = ["cpu", pytest.param("cuda", marks=pytest.mark.skipif(
    not torch.cuda.is_available(), reason="no CUDA device"))]
NUM_ITEMS = 9
# user -> items, sorted: user 2 has none, user 3 all but item 4.
ROWS = [[0, 2, 5], [1], [], [0, 1, 2, 3, 5, 6, 7, 8]]


def csr(device):
    rowptr = torch.tensor([0] + [len(r) for r in ROWS]).cumsum(0).to(device)
    col = torch.tensor([i for r in ROWS for i in r], dtype=torch.int32, device=device)
    return rowptr, col


@pytest.mark.parametrize("device", DEVICES)
def test_opcheck_and_draws(device):
    rowptr, col = csr(device)
    users = torch.tensor([0, 3, 1, 2, 3, 0, 1], device=device)
    opcheck(OPS.sample_negatives.default, (rowptr, col, users, NUM_ITEMS, 3, 7))
    neg = OPS.sample_negatives(rowptr, col, users, NUM_ITEMS, 3, 7)
    assert neg.shape == (7, 3) and neg.dtype == torch.long and neg.device.type == device
    for j, u in enumerate(users.tolist()):
        for item in neg[j].tolist():
            assert 0 <= item < NUM_ITEMS and item not in ROWS[u]
    assert (neg[1] == 4).all() and (neg[4] == 4).all()
    assert torch.equal(neg, OPS.sample_negatives(rowptr, col, users, NUM_ITEMS, 3, 7))
    assert not torch.equal(neg, OPS.sample_negatives(rowptr, col, users, NUM_ITEMS, 3, 8))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
def test_cuda_equals_cpu():
    users = torch.randint(0, len(ROWS), (10000,), generator=torch.Generator().manual_seed(0))
    cpu = OPS.sample_negatives(*csr("cpu"), users, NUM_ITEMS, 2, -5)
    gpu = OPS.sample_negatives(*csr("cuda"), users.cuda(), NUM_ITEMS, 2, -5)
    assert torch.equal(gpu.cpu(), cpu)


@pytest.mark.parametrize("device", DEVICES)
def test_errors_name_the_argument(device):
    rowptr, col = csr(device)
    users = torch.tensor([0, 1], device=device)
    cases = [
        (lambda: OPS.sample_negatives(rowptr, col, users, NUM_ITEMS, 0, 1), "k must be positive"),
        (lambda: OPS.sample_negatives(rowptr, col, users.int(), NUM_ITEMS, 1, 1), "users must be 1-D int64"),
        (lambda: OPS.sample_negatives(rowptr, col.long(), users, NUM_ITEMS, 1, 1), "col must be int32"),
        (lambda: OPS.sample_negatives(rowptr, col, users, 0, 1, 1), "num_items must be in [1, 2^31]"),
        (lambda: OPS.sample_negatives(rowptr, col, torch.tensor([4], device=device), NUM_ITEMS, 1, 1),
         "users[0] = 4 is outside [0, 4)"),
        # Only 8 items: user 3 then has every one of them.
        (lambda: OPS.sample_negatives(rowptr, col, torch.tensor([0, 3], device=device), 8, 1, 1),
         "user 3 (users[1]) has 8 items of num_items 8"),
    ]
    for call, fragment in cases:
        with pytest.raises(RuntimeError, match="sample_negatives: .*" + re.escape(fragment)):
            call()
