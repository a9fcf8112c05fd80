"""Repro: tf-conv-empty-batch-shape.

Clause: ERR.13 Empty batch.
Versions: tensorflow-cpu 2.21.0.
Bug: with batch size 0, tf.nn.conv2d / tf.nn.conv1d return an array of the *input's*
shape instead of (0, *output spatial, C_out).
Found by: convspec `pytest --hypothesis-profile thorough` (tf.nn adapter, edge-case suite).
"""
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import numpy as np
import tensorflow as tf

cases = [
    # NHWC (0,1,1,1) with a 1x1 filter to 2 channels: (0, 1, 1, 2).
    ("conv2d", lambda: tf.nn.conv2d(np.zeros((0, 1, 1, 1), "f4"), np.zeros((1, 1, 1, 2), "f4"),
                                    1, "VALID"), (0, 1, 1, 2)),
    # NWC (0,3,1), k=1, stride 2, VALID: floor((3-1)/2)+1 = 2 -> (0, 2, 1).
    ("conv1d", lambda: tf.nn.conv1d(np.zeros((0, 3, 1), "f4"), np.zeros((1, 1, 1), "f4"),
                                    2, "VALID"), (0, 2, 1)),
]
ok = True
for name, call, expected in cases:
    got = tuple(call().shape)
    print(f"{name}: expected shape {expected}, got {got}")
    ok &= got == expected
sys.exit(0 if ok else 1)
