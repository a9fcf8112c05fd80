"""Repro: torch-flop-counter-grouped-weight-gradient.

Clause: COST.17 Backward pass: weight and bias gradients (with COST.18, FlopCounterMode's
convention FLOPs = 2 * MACs).
Versions: torch 2.14.1.
Bug: torch.utils.flop_counter.FlopCounterMode counts the weight gradient of a grouped
convolution (and of a grouped transposed convolution) `groups` times too high. Each of the
C_out * (C_in/groups) * K weight entries sums N * F products (one per batch index and output
position), the forward's own N * C_out * F * (C_in/groups) * K MACs; the counter drops the
division by groups. The forward and the input-gradient counts are right.
Found by: convspec `pytest --hypothesis-profile ci suites/test_cost.py --backend torch`.
"""

import sys

import torch
import torch.nn.functional as F
from torch.utils.flop_counter import FlopCounterMode


def counted(call, wrt):
    """FLOPs of the backward pass alone, for the gradients of the tensors in `wrt`."""
    y = call()
    with FlopCounterMode(display=False) as counter:
        torch.autograd.grad(y, wrt, torch.ones_like(y))
    return counter.get_total_flops()


failed = False
for groups in (1, 2, 3):
    # conv2d: x (1, 6, 5, 5), w (6, 6/groups, 3, 3), padding 1: F = 25 output positions.
    x = torch.randn(1, 6, 5, 5)
    w = torch.randn(6, 6 // groups, 3, 3, requires_grad=True)
    macs = 1 * 6 * 25 * (6 // groups) * 9
    got = counted(lambda: F.conv2d(x, w, padding=1, groups=groups), [w])
    print(f"conv2d groups={groups}: weight gradient {got} FLOPs, expected 2 * {macs} = {2 * macs}")
    failed |= got != 2 * macs
    # conv_transpose2d: x (1, 6, 4, 4), w (6, 6/groups, 3, 3): F_in = 16 input positions.
    x = torch.randn(1, 6, 4, 4)
    w = torch.randn(6, 6 // groups, 3, 3, requires_grad=True)
    macs = 1 * 6 * 16 * (6 // groups) * 9
    got = counted(lambda: F.conv_transpose2d(x, w, stride=2, groups=groups), [w])
    print(
        f"conv_transpose2d groups={groups}: weight gradient {got} FLOPs, "
        f"expected 2 * {macs} = {2 * macs}"
    )
    failed |= got != 2 * macs
sys.exit(1 if failed else 0)
