"""Repro: tf-onednn-bf16-padding-only-segfault.

Clause: ERR.3 No crash and no hang (a valid call: CONV.2 gives its value).
Versions: tensorflow-cpu 2.21.0 (oneDNN on, the default).
Bug: a bfloat16 tf.nn.conv2d, strided and dilated along W, whose outputs read only padding
there, kills the process with SIGSEGV when it is grouped or has a batch of 2. The same call
in float32 returns the right value (zeros), as does batch 1 without groups.
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
n, c_in = int(sys.argv[2]), int(sys.argv[3])  # groups = c_in / 2 (the kernel takes 2 channels)
x = tf.constant(np.ones((n, 1, 1, c_in), "f4"), dtype=dtype)  # N, H, W, C_in
w = tf.constant(np.ones((1, 1, 2, 2), "f4"), dtype=dtype)  # H, W, C_in / groups, C_out
y = tf.nn.conv2d(x, w, strides=[1, 2], padding=[[0, 0], [0, 0], [1, 1], [0, 0]], dilations=[1, 2])
print("returned", sorted(set(np.asarray(tf.cast(y, tf.float32)).ravel().tolist())))
"""
print("expected: zeros (both W outputs read only padding)")
status = 0
for dtype, n, c_in in (("float32", 2, 4), ("bfloat16", 1, 2), ("bfloat16", 1, 4), ("bfloat16", 2, 2)):
    case = f"{dtype}, N={n}, C_in={c_in}, groups={c_in // 2}"
    res = subprocess.run([sys.executable, "-c", CODE, dtype, str(n), str(c_in)], capture_output=True, text=True)
    if res.returncode < 0:
        print(f"{case}: got: child killed by {signal.Signals(-res.returncode).name}")
        status = 1
    else:
        print(f"{case}: got:", res.stdout.strip() or res.stderr.strip()[-200:])
        status |= 0 if res.stdout.startswith("returned [0.0]") else 1
sys.exit(status)
