"""Repro: jax-degenerate-accepted.

Clause: ERR.2 An invalid configuration raises an exception (CONV.3: output size must be >= 1).
Versions: jax 0.10.2.
Issue: lax.conv_general_dilated returns an empty array when the kernel is longer than the
input (output size floor((2 - 3)/1) + 1 = 0) instead of raising.
Found by: convspec `pytest --hypothesis-profile thorough` (jax adapter, invalid-config suite).
"""
import sys

import jax
import numpy as np

print("expected: an exception (x length 2, kernel 3, VALID: output size 0 < 1)")
try:
    y = jax.lax.conv_general_dilated(np.ones((1, 1, 2), np.float32),
                                     np.ones((1, 1, 3), np.float32), (1,), "VALID")
except Exception as e:
    print(f"got: {type(e).__name__}: {e}")
    sys.exit(0)
print(f"got (jax {jax.__version__}): array of shape {tuple(y.shape)}")
sys.exit(1)
