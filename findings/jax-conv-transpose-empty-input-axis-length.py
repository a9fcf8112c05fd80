"""Repro: jax-conv-transpose-empty-input-axis-length.

Clause: ERR.15 Degenerate configurations: raise, or return the defined result.
Versions: jax 0.10.2.
Bug: a transposed convolution of an input whose spatial axis is empty returns an axis of
length 1 where the 'VALID' output size n*s + max(k - s, 0) is 0 (no input position is
scattered anywhere), and the lhs-dilated convolution that implements it does the same.
Found by: convspec `pytest --hypothesis-profile ci` (suites/test_errors.py, ERR.15).
"""
import sys

import jax.numpy as jnp
from jax import lax

x = jnp.zeros((1, 0, 1))  # NWC: one sample, an empty width, one channel
w = jnp.ones((1, 1, 1))  # WIO: kernel 1
print("expected: output width 0 ('VALID': 0*2 + max(1 - 2, 0) = 0), or an exception")
failed = False
try:
    y = lax.conv_transpose(x, w, (2,), "VALID", dimension_numbers=("NWC", "WIO", "NWC"))
    print("got: conv_transpose shape", y.shape)
    failed |= y.shape[1] != 0
except Exception as exc:
    print("got: conv_transpose raised", type(exc).__name__)
try:
    # The same through lhs_dilation, NCW/OIW: kernel 2, stride 2, no padding -> (0-1)*2 + 2 = 0.
    z = lax.conv_general_dilated(jnp.zeros((1, 1, 0)), jnp.ones((1, 1, 2)), (1,), [(1, 1)],
                                 lhs_dilation=(2,))
    print("got: conv_general_dilated(lhs_dilation=2) shape", z.shape)
    failed |= z.shape[2] != 0
except Exception as exc:
    print("got: conv_general_dilated raised", type(exc).__name__)
sys.exit(1 if failed else 0)
