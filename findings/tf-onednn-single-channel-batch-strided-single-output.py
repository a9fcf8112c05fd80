"""Repro: tf-onednn-single-channel-batch-strided-single-output.

Clause: CONV.2 Definition.
Versions: tensorflow-cpu 2.21.0 (oneDNN on, the default).
Bug: tf.nn.conv2d in float32 with one input channel, a batch of 2 and strides (1, 3), where
W has a single output, returns wrong values for every output row after the first (on
random data, values near 1e32); the same call with batch 1 is right.
Found by: convspec `pytest --hypothesis-profile thorough suites/test_separable.py` (tf.nn.convolution).
"""
import os
import sys

os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
import numpy as np
import tensorflow as tf

x = np.arange(1, 13, dtype=np.float32).reshape(2, 3, 2, 1)  # N, H, W, C_in = 1
w = np.ones((2, 2, 1, 1), np.float32)  # H, W, C_in, C_out
expected = np.zeros((2, 2, 1, 1), np.float32)
for n in range(2):
    for i in range(2):
        expected[n, i, 0, 0] = x[n, i : i + 2, 0:2, 0].sum()
got = tf.nn.conv2d(x, w, strides=[1, 3], padding="VALID").numpy()
print("expected:", expected.ravel().tolist())
print("got:     ", got.ravel().tolist())
sys.exit(0 if np.array_equal(got, expected) else 1)
