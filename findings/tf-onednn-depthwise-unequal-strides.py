"""Repro: tf-onednn-depthwise-unequal-strides.

Clause: GRP.2 Depthwise convolution (also SEP.1 through SeparableConv2D).
Versions: tensorflow-cpu 2.21.0 (oneDNN on, the default); Keras 3.15.1 DepthwiseConv2D inherits it.
Bug: oneDNN's depthwise conv with unequal strides and channel multiplier > 1 returns garbage
for some outputs (float32 and bfloat16); multiplier 1 and the Eigen kernel are right.
Found by: convspec `pytest --hypothesis-profile thorough` (tf.nn adapter, exact mode).
"""
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import numpy as np
import tensorflow as tf

x = np.arange(1, 10, dtype=np.float32).reshape(1, 3, 3, 1)  # rows [1 2 3] [4 5 6] [7 8 9]
# filter (kh=1, kw=2, C=1, multiplier=2): tap 0 -> (1, 10), tap 1 -> (100, 1000)
f = np.array([[[[1, 10]], [[100, 1000]]]], np.float32)

# VALID, strides H=1, W=2: out H = 3, out W = floor((3-2)/2)+1 = 1.
# row i: x[i,0]*(1,10) + x[i,1]*(100,1000): 1+200, 4+500, 7+800 (and times 10).
expected = np.array([[201, 2010], [504, 5040], [807, 8070]], np.float32)
got = tf.nn.depthwise_conv2d(x, f, [1, 1, 2, 1], "VALID").numpy().reshape(3, 2)
print(f"tensorflow {tf.__version__}:\nexpected\n{expected}\ngot\n{got}")
sys.exit(0 if np.array_equal(got, expected) else 1)
