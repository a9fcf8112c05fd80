"""Repro: torch-conv-zero-in-channels-drops-output-channels.

Clause: ERR.15 Degenerate configurations: raise, or return the defined result.
Versions: torch 2.14.1.
Bug: a convolution whose input has zero channels returns an array with zero output
channels, ignoring the weight's C_out and the bias. The sum over no input channel is
empty, so every output element is the bias: shape (N, C_out, m...), values b[o].
Found by: convspec `pytest --hypothesis-profile ci` (suites/test_errors.py, ERR.15).
"""
import sys

import torch
import torch.nn.functional as F

x = torch.zeros(1, 0, 3)
w = torch.ones(2, 0, 1)
b = torch.tensor([5.0, 6.0])
expected = b.reshape(1, 2, 1).expand(1, 2, 3)
print("expected: shape (1, 2, 3) filled with the bias [5, 6], or an exception")
try:
    got = F.conv1d(x, w, b)
except Exception as exc:  # raising is conformant too
    print("got: raised", type(exc).__name__, exc)
    sys.exit(0)
print("got: shape", tuple(got.shape), got.tolist())
sys.exit(0 if got.shape == expected.shape and torch.equal(got, expected) else 1)
