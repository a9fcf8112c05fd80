"""Repro: torch-meta-conv-transpose-zero-in-channels-drops-output-channels.

Clause: ERR.15 Degenerate configurations: raise, or return the defined result.
Versions: torch 2.14.1.
Bug: on meta tensors, a transposed convolution whose input has zero channels returns zero
output channels. TCONV.3 gives C_out = weight.shape[1] * groups = 3 (every value the bias,
an empty sum); the CPU raises, which ERR.15 allows too.
Found by: convspec `pytest --backend torch.meta` (suites/test_errors.py, ERR.15).
"""

import sys

import torch
import torch.nn.functional as F

x = torch.empty(2, 0, 4, device="meta")
w = torch.empty(0, 3, 2, device="meta")
print("expected: shape (2, 3, 5), or an exception")
try:
    got = F.conv_transpose1d(x, w)
except Exception as exc:  # raising is conformant too
    print("got: raised", type(exc).__name__, exc)
    sys.exit(0)
print("got: shape", tuple(got.shape))
sys.exit(0 if tuple(got.shape) == (2, 3, 5) else 1)
