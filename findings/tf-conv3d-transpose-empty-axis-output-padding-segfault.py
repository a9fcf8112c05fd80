"""Repro: tf-conv3d-transpose-empty-axis-output-padding-segfault.

Clause: ERR.3 No crash and no hang (ERR.15: an empty input axis is a degenerate configuration,
to be raised on or computed; TCONV.3 gives it an output of length k_eff - s + output_padding).
Versions: tensorflow-cpu 2.21.0, keras 3.15.1.
Bug: TensorFlow's own (Eigen) Conv3DBackpropInputV2 kernel dies with SIGSEGV when an input
spatial axis is empty and the requested output along it is longer than the VALID length
max(k_eff - s, 0), i.e. when output_padding adds positions there: float64 always, every
dtype with TF_ENABLE_ONEDNN_OPTS=0. The same call with an output of length max(k_eff - s, 0),
in rank 2, or through oneDNN (float32 with oneDNN on) returns zeros.
Found by: convspec `pytest -n 2 --hypothesis-profile ci` (keras, test_errors.py ERR.15 degenerate
configurations, empty spatial axis).
"""

import signal
import subprocess
import sys

CODE = """
import os, sys
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
import numpy as np
import tensorflow as tf
dtype, depth_out = sys.argv[1], int(sys.argv[2])
x = np.zeros((1, 0, 1, 1, 1), dtype)  # N, D = 0, H, W, C_in
w = np.ones((2, 1, 1, 1, 1), dtype)  # kD = 2, kH, kW, C_out, C_in
try:
    y = tf.nn.conv3d_transpose(x, w, output_shape=[1, depth_out, 1, 1, 1], strides=[1, 2, 1, 1, 1], padding="VALID")
    print("returned", tuple(y.shape), np.asarray(y).ravel().tolist())
except Exception as e:
    print("raised", type(e).__name__)
"""


def run(dtype: str, depth_out: int) -> str:
    res = subprocess.run(
        [sys.executable, "-c", CODE, dtype, str(depth_out)], capture_output=True, text=True
    )
    if res.returncode < 0:
        return f"child killed by {signal.Signals(-res.returncode).name}"
    return res.stdout.strip() or res.stderr.strip()[-200:]


# D = 0, kD = 2, stride 2: the VALID length is max(2 - 2, 0) = 0; output_padding 1 asks for 1.
print("expected: a Python exception or zeros of shape (1, 1, 1, 1, 1) (no crash)")
print("float64, output depth 0 (no output_padding):", run("float64", 0))
got = run("float64", 1)
print("float64, output depth 1 (output_padding 1):", got)
sys.exit(1 if got.startswith("child killed") else 0)
