"""Repro: jax-lhs-dilation-abort.

Clause: ERR.3 No crash and no hang (the call is valid: ERR.12 Valid edge cases must be computed).
Versions: jax 0.10.2 (jaxlib CPU).
Bug: conv_general_dilated with lhs_dilation (2, 1) and a begin padding on the other axis
aborts the process in XLA's algebraic simplifier (Check failed) instead of computing.
Found by: convspec `pytest --hypothesis-profile thorough` (jax adapter, transposed suite).
"""
import signal
import subprocess
import sys

CODE = """
import numpy as np, jax
x, w = np.ones((1, 1, 3, 1), np.float32), np.ones((1, 1, 2, 2), np.float32)
y = jax.lax.conv_general_dilated(x, w, (1, 1), [(0, 0), (1, 0)], lhs_dilation=(2, 1))
print(np.asarray(y).ravel().tolist(), tuple(y.shape))
"""
# H: input [1,1,1] dilated by 2 -> [1,0,1,0,1] (length 5), k=2 -> 4 outputs.
# W: input [1] padded (1,0) -> [0,1], k=2 -> 1 output; only the kw=1 tap reads data.
# out[i] = xd[i] + xd[i+1] = 1 for i = 0..3 -> shape (1, 1, 4, 1), values [1, 1, 1, 1].
expected = "[1.0, 1.0, 1.0, 1.0] (1, 1, 4, 1)"
res = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True)
print("expected:", expected)
if res.returncode < 0:
    print(f"got: child killed by {signal.Signals(-res.returncode).name}")
    print(*[ln for ln in res.stderr.splitlines() if "Check failed" in ln][:1])
    sys.exit(1)
print("got:", res.stdout.strip() or res.stderr.strip()[-300:])
sys.exit(0 if res.stdout.strip() == expected else 1)
