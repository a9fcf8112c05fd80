"""Repro: jax-conv-negative-low-padding-reads-past-input.

Clause: ERR.12 (valid edge cases are computed), PAD.3 Sign of the padding, CONV.2 Definition.
Versions: jax 0.10.2 (jaxlib 0.10.2, CPU).
Bug: a float32 convolution whose explicit padding crops at the start of an axis and pads zeros
at its end, (-1, 1), returns the input positions past the end of the input (the next sample's
row, and past the end of the buffer unrelated memory) where the zero padding should be read.
The same convolution after lax.pad and with 'VALID' padding is right, as is float64.
Found by: convspec `pytest --hypothesis-profile ci` (suites/test_errors.py, ERR.12).
Upstream: openxla/xla#48713 (fix proposed in openxla/xla#48748).
"""
import sys

import numpy as np

import jax

if jax.default_backend() != "cpu":
    print("precondition: the defect is in XLA:CPU's convolution; backend is", jax.default_backend())
    sys.exit(2)

from jax import lax

dn = ("NCH", "OIH", "NCH")
# x[b, c, 0] = 8*b + c + 1: three samples, eight channels, length 1; w: ones, kernel 1.
x = (np.arange(24, dtype=np.float32) + 1).reshape(3, 8, 1)
w = np.ones((1, 8, 1), np.float32)
# Crop the single input position, then pad one zero: the padded input is [0], the output 0.
expected = np.asarray(lax.conv_general_dilated(
    lax.pad(x, np.float32(0), [(0, 0, 0), (0, 0, 0), (-1, 1, 0)]), w, (1,), "VALID",
    dimension_numbers=dn))
if not np.array_equal(expected, np.zeros((3, 1, 1), np.float32)):
    print("precondition: lax.pad + 'VALID' does not give zeros:", expected.ravel())
    sys.exit(2)
print("expected:", expected.ravel())
failed = False
for name, f in [("eager", lax.conv_general_dilated), ("jit", jax.jit(
        lax.conv_general_dilated, static_argnums=(2, 3), static_argnames=("dimension_numbers",)))]:
    y = np.asarray(f(x, w, (1,), ((-1, 1),), dimension_numbers=dn))
    print(f"got ({name}):", y.ravel(), "(sums of the next sample's row: 100, 164, then garbage)")
    failed |= not np.array_equal(y, expected)
sys.exit(1 if failed else 0)
