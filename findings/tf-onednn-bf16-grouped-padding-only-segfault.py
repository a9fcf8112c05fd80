"""Repro: tf-onednn-bf16-grouped-padding-only-segfault.

Clause: ERR.3 No crash and no hang (a valid call: CONV.2 gives its value).
Versions: tensorflow-cpu 2.21.0 (oneDNN on, the default).
Bug: a grouped bfloat16 tf.nn.conv2d, strided and dilated along W, whose outputs read only
padding there, kills the process with SIGSEGV. The same call ungrouped, in float32, or
without the stride or the dilation returns the right value (zeros).
Found by: convspec `pytest --hypothesis-profile thorough suites/test_acnet.py` (tf.nn).
"""
import signal
import subprocess
import sys

CODE = """
import os, sys
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
import numpy as np
import tensorflow as tf
dtype = getattr(tf, sys.argv[1])
x = tf.constant(np.ones((1, 1, 1, 4), "f4"), dtype=dtype)  # N, H, W, C_in = 4
w = tf.constant(np.ones((1, 1, 2, 2), "f4"), dtype=dtype)  # H, W, C_in / groups = 2, C_out
y = tf.nn.conv2d(x, w, strides=[1, 2], padding=[[0, 0], [0, 0], [1, 1], [0, 0]], dilations=[1, 2])
print("returned", np.asarray(tf.cast(y, tf.float32)).ravel().tolist())
"""
print("expected: zeros of shape (1, 1, 2, 2) (both W outputs read only padding)")
status = 0
for dtype in ("float32", "bfloat16"):
    res = subprocess.run([sys.executable, "-c", CODE, dtype], capture_output=True, text=True)
    if res.returncode < 0:
        print(f"{dtype}: got: child killed by {signal.Signals(-res.returncode).name}")
        status = 1
    else:
        print(f"{dtype}: got:", res.stdout.strip() or res.stderr.strip()[-200:])
        status |= 0 if res.stdout.startswith("returned [0.0, 0.0, 0.0, 0.0]") else 1
sys.exit(status)
