"""Repro: tf-function-conv-transpose-zero-stride-sigfpe.

Clause: ERR.3 No crash and no hang (and TCONV.6: a stride of 0 is invalid, so it must raise).
Versions: tensorflow-cpu 2.21.0.
Bug: inside tf.function, tf.nn.conv1d_transpose / conv2d_transpose with a stride of 0 kill the
process with SIGFPE in grappler's cost estimator; the same call eagerly raises
InvalidArgumentError. oneDNN on or off, every padding and dtype.
Found by: convspec `pytest --hypothesis-profile ci --backend tf.function` (invalid-config suite).
"""
import signal
import subprocess
import sys

CODE = """
import os, sys
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
import numpy as np
import tensorflow as tf
x = np.ones((1, 1, 1), "f4")  # N, W, C_in
w = np.ones((1, 1, 1), "f4")  # W, C_out, C_in
def f(x, w):
    return tf.nn.conv1d_transpose(x, w, output_shape=[1, 1, 1], strides=0, padding="VALID")
if sys.argv[1] == "graph":
    f = tf.function(f, autograph=False)
try:
    f(tf.constant(x), tf.constant(w))
    print("returned")
except Exception as e:
    print("raised", type(e).__name__)
"""


def run(mode):
    res = subprocess.run([sys.executable, "-c", CODE, mode], capture_output=True, text=True)
    if res.returncode < 0:
        return f"child killed by {signal.Signals(-res.returncode).name}"
    return res.stdout.strip() or res.stderr.strip()[-200:]


print("expected: a Python exception (stride 0)")
print("eager:      ", run("eager"))
got = run("graph")
print("tf.function:", got)
sys.exit(0 if got.startswith("raised") else 1)
