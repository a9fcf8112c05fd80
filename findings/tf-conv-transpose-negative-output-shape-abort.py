"""Repro: tf-conv-transpose-negative-output-shape-abort.

Clause: ERR.3 No crash and no hang (and TCONV.6: stride < 1 is invalid, so it must raise).
Versions: tensorflow-cpu 2.21.0 (oneDNN on, the default).
Bug: tf.nn.conv_transpose with 'SAME' and a negative stride, given the output_shape that
the 'SAME' formula yields (n * s, here negative), aborts the process in oneDNN's
Conv2DBackpropInput (Check failed: ... Dimension -1 must be >= 0) instead of raising.
Found by: convspec `pytest --hypothesis-profile ci suites/test_errors.py` (tf.nn adapters).
"""
import signal
import subprocess
import sys

CODE = """
import os
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
import numpy as np
import tensorflow as tf
x = np.ones((1, 3, 1), "f4")  # N, W, C
w = np.ones((2, 1, 1), "f4")  # W, C_out, C_in
try:
    tf.nn.conv_transpose(x, w, output_shape=[1, -3, 1], strides=[-1], padding="SAME")
    print("returned")
except Exception as e:
    print("raised", type(e).__name__)
"""
res = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True)
print("expected: a Python exception (stride -1, output_shape [1, -3, 1])")
if res.returncode < 0:
    print(f"got: child killed by {signal.Signals(-res.returncode).name}")
    print(*[ln for ln in res.stderr.splitlines() if "Check failed" in ln][:1])
    sys.exit(1)
print("got:", res.stdout.strip())
sys.exit(0 if res.stdout.startswith("raised") else 1)
