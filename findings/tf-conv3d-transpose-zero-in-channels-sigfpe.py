"""Repro: tf-conv3d-transpose-zero-in-channels-sigfpe.

Clause: ERR.3 No crash and no hang (and TCONV.1: C_in = 0 is invalid, so it must raise).
Versions: tensorflow-cpu 2.21.0.
Bug: tf.nn.conv_transpose of rank 3 with zero input channels and a batch of 2 kills the
process with SIGFPE in Conv3DBackpropInputV2 (float64 here; every dtype with oneDNN off).
Found by: convspec `pytest --hypothesis-profile thorough suites/test_errors.py` (tf.nn.convolution, keras).
"""
import signal
import subprocess
import sys

CODE = """
import os
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
import numpy as np
import tensorflow as tf
x = np.ones((2, 1, 1, 1, 0), "f8")  # N, D, H, W, C_in = 0
w = np.ones((1, 1, 1, 1, 0), "f8")  # D, H, W, C_out, C_in
try:
    tf.nn.conv_transpose(x, w, output_shape=[2, 1, 1, 1, 1], strides=1, padding="VALID")
    print("returned")
except Exception as e:
    print("raised", type(e).__name__)
"""
res = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True)
print("expected: a Python exception (C_in = 0)")
if res.returncode < 0:
    print(f"got: child killed by {signal.Signals(-res.returncode).name}")
    sys.exit(1)
print("got:", res.stdout.strip() or res.stderr.strip()[-200:])
sys.exit(0 if res.stdout.startswith("raised") else 1)
