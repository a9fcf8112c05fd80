"""Repro: tf-depthwise-stride-dilation-silent.

Clause: ERR.2 An invalid configuration raises an exception.
Versions: tensorflow-cpu 2.21.0.
Bug: tf.nn.depthwise_conv2d documents "If any value in `dilations` is greater than 1 ...
all values in the `strides` tensor must be equal to 1", but with strides 2 and dilations 2
it only emits a Python warning and returns an array (of neither reading's shape).
Found by: convspec `pytest --hypothesis-profile thorough` (tf.nn adapter, invalid-config suite).
"""
import os
import sys
import warnings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import numpy as np
import tensorflow as tf

x = np.arange(25, dtype=np.float32).reshape(1, 5, 5, 1)
f = np.ones((2, 2, 1, 1), np.float32)
# Expected: an exception (the documented restriction). For reference, the docstring's own
# formula output[i,j] = sum x[2i + 2di, 2j + 2dj] would give a 2x2 result [[24,32],[64,72]].
print("expected: an exception (strides must be 1 when dilations > 1)")
try:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        y = tf.nn.depthwise_conv2d(x, f, [1, 2, 2, 1], "VALID", dilations=[2, 2])
except Exception as e:
    print(f"got: {type(e).__name__}: {e}")
    sys.exit(0)
print(f"got (tensorflow {tf.__version__}): array of shape {tuple(y.shape)}: {y.numpy().ravel()}")
sys.exit(1)
