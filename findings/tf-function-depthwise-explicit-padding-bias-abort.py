"""Repro: tf-function-depthwise-explicit-padding-bias-abort.

Clause: ERR.3 No crash and no hang.
Versions: tensorflow-cpu 2.21.0.
Bug: under tf.function, depthwise_conv2d with explicit padding followed by bias_add aborts
the process (grappler, tensor_format.h:428 Check failed); the same call eagerly works.
Found by: convspec `pytest --hypothesis-profile thorough` (tf.function adapter).
"""
import signal
import subprocess
import sys

CODE = """
import os
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
import tensorflow as tf

@tf.function
def g(x, f, b):
    y = tf.nn.depthwise_conv2d(x, f, [1, 1, 1, 1], [[0, 0], [2, 2], [2, 2], [0, 0]])
    return tf.nn.bias_add(y, b)

y = g(tf.ones((1, 6, 7, 3)), tf.ones((2, 1, 3, 1)), tf.ones(3))
print(y.shape, float(y[0, 2, 2, 0]))
"""
# Expected: shape (1, 9, 11, 3) (H: 6+4-2+1 = 9, W: 7+4-1+1 = 11); an interior output
# sums a 2x1 window of ones plus the bias 1 -> 3.0. The process must not die.
res = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True)
print("expected: (1, 9, 11, 3) 3.0")
if res.returncode < 0:
    print(f"got: child killed by {signal.Signals(-res.returncode).name}")
    print(*[ln for ln in res.stderr.splitlines() if "Check failed" in ln][:1])
    sys.exit(1)
print("got:", res.stdout.strip() or res.stderr.strip()[-300:])
sys.exit(0 if res.stdout.strip() == "(1, 9, 11, 3) 3.0" else 1)
