"""Repro: torch-nnpack-bound.

Clause: NUM.8 Transform algorithms (error then judged by NUM.3 The error bound / NUM.5 Exact mode).
Versions: torch 2.14.1 (CPU, NNPACK available).
Issue: with oneDNN (torch.backends.mkldnn) disabled, float32 conv2d with batch >= 16 goes
through NNPACK, whose Winograd/FFT transforms return integer-valued results off by up to
~7e-4, where any direct summation is exact (all partial sums are small integers).
Found by: convspec `pytest --hypothesis-profile thorough` (torch adapter with mkldnn off).
"""
import sys

import numpy as np
import torch
import torch.nn.functional as F
from numpy.lib.stride_tricks import sliding_window_view

rng = np.random.default_rng(0)
x = rng.integers(-3, 4, (16, 8, 10, 10)).astype(np.float32)
w = rng.integers(-3, 4, (8, 8, 3, 3)).astype(np.float32)
# Exact expected values: |partial sums| <= 8*9*9 = 648 < 2**24, so float32 direct summation
# is exact; compute them in float64 with NumPy (cross-correlation, VALID, stride 1).
win = sliding_window_view(x.astype(np.float64), (3, 3), axis=(2, 3))  # (N, C, 8, 8, 3, 3)
expected = np.einsum("nchwij,ocij->nohw", win, w.astype(np.float64))

torch.backends.mkldnn.enabled = False
got = F.conv2d(torch.from_numpy(x), torch.from_numpy(w)).numpy().astype(np.float64)
err = np.abs(got - expected).max()
print(f"torch {torch.__version__}, nnpack available: {torch.backends.nnpack.is_available()}")
print(f"expected exact integers (e.g. {expected[0, 0, 0, :3]}), got {got[0, 0, 0, :3]}")
print(f"max abs error {err:.3g} (0 expected)")
sys.exit(0 if err == 0 else 1)
