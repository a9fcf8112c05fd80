"""Repro: torch-output-padding-rule-inconsistent.

Clause: TCONV.5 Output padding.
Versions: torch 2.14.1.
Issue: F.conv_transpose1d accepts output_padding < max(stride, dilation) (here op=1 with
stride 1, dilation 2), but nn.ConvTranspose1d's output_size= path only allows sizes up to
min_size + stride - 1, so it rejects the same output length.
Found by: convspec `pytest --hypothesis-profile thorough` (torch adapter, transposed suite).
"""
import sys

import torch
import torch.nn.functional as F

x = torch.ones(1, 1, 3)
m = torch.nn.ConvTranspose1d(1, 1, 2, dilation=2, bias=False)
# TCONV.3: L = (n-1)*s + d*(k-1) + 1 + op = 2 + 2 + 1 + 1 = 6 with op = 1 (< max(s, d) = 2).
direct = F.conv_transpose1d(x, m.weight, output_padding=1, dilation=2)
print(f"torch {torch.__version__}: F.conv_transpose1d(output_padding=1) -> {tuple(direct.shape)}")
print("expected: module(x, output_size=[6]) also gives (1, 1, 6)")
try:
    got = m(x, output_size=[6])
except ValueError as e:
    print(f"got: ValueError: {e}")
    sys.exit(1)
print(f"got {tuple(got.shape)}")
sys.exit(0 if torch.equal(got, direct) else 1)
