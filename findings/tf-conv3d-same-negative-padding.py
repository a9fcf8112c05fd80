"""Repro: tf-conv3d-same-negative-padding.

Clause: PAD.6 'same' (and PAD.7 'same' output size).
Versions: tensorflow-cpu 2.21.0 (Keras 3.15.1 Conv3D inherits it), numpy, Python 3.11.
Bug: Eigen's Conv3D with padding="SAME" starts the window one position late when the
total 'same' padding would be negative (stride larger than the kernel).
Found by: convspec `pytest --hypothesis-profile thorough` (tf.nn adapter, float64).
The Eigen kernel runs for float64/float16, and for float32 with TF_ENABLE_ONEDNN_OPTS=0.
"""
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import numpy as np
import tensorflow as tf

# NDHWC input: D=1, H=3, W=1, one channel; values along H are [0, 1, 0].
x = np.array([0.0, 1.0, 0.0]).reshape(1, 1, 3, 1, 1)
w = np.ones((1, 1, 1, 1, 1))  # 1x1x1 kernel of weight 1: output = the sampled input

# PAD.6/PAD.7 along H (n=3, k=1, s=3): out = ceil(3/3) = 1,
# total pad = max((1-1)*3 + 1 - 3, 0) = 0, so the only window is at H=0 -> x[0] = 0.
expected = np.array([0.0])
got = tf.nn.conv3d(x, w, strides=[1, 1, 3, 1, 1], padding="SAME").numpy().ravel()
print(f"tensorflow {tf.__version__}: expected {expected}, got {got}")
sys.exit(0 if np.array_equal(got, expected) else 1)
