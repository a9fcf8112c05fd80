"""Repro: tf-function-conv3d-dilation-rows-cols-swapped.

Clause: CONV.2 Definition (ERR.12: a valid configuration must be computed; CONV.3 for the static shape).
Versions: tensorflow-cpu 2.21.0.
Bug: Conv3D's shape function swaps the H and W dilations, so tf.function rejects a valid dilated
tf.nn.conv3d (ValueError: Negative dimension size) that runs eagerly, and gives other such graphs a
wrong static shape.
Found by: convspec `pytest --hypothesis-profile ci --backend tf.function` (suites/test_conv.py).
"""

# --- Preconditions: TensorFlow with oneDNN on (TF_ENABLE_ONEDNN_OPTS=1, the default on CPUs with AVX-512 VNNI/BF16 or AMX).
# Eigen's Conv3D, the only other CPU kernel, rejects every dilation > 1 eagerly too.
# Where they do not hold the script says so and exits 2: it tested nothing there.
import os as _os
import sys as _sys


def cpu_flags():
    try:
        with open("/proc/cpuinfo") as f:
            return set(next(ln for ln in f if ln.startswith("flags")).split(":", 1)[1].split())
    except (OSError, StopIteration):
        return set()


def tf_onednn():
    """TensorFlow runs its oneDNN kernels (its default only on CPUs with AVX-512 VNNI/BF16 or AMX)."""
    _os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    from tensorflow.python.util import _pywrap_util_port

    return bool(_pywrap_util_port.IsMklEnabled())


if not (tf_onednn()):
    print(
        "precondition not met: TensorFlow with oneDNN on (TF_ENABLE_ONEDNN_OPTS=1, the default on CPUs with AVX-512 VNNI/BF16 or AMX). Here: TF_ENABLE_ONEDNN_OPTS="
        + _os.environ.get("TF_ENABLE_ONEDNN_OPTS", "unset") + ", CPU AVX-512 flags: "
        + (" ".join(sorted(f for f in cpu_flags() if f.startswith(("avx512", "amx")))) or "none")
    )
    _sys.exit(2)
# --- end of preconditions

import sys

import numpy as np
import tensorflow as tf

# NDHWC input: D=1, H=3, W=2; filter (kD, kH, kW, C_in, C_out) = (1, 2, 2, 1, 1); dilation 2 along H only.
x = np.arange(1, 7, dtype="f4").reshape(1, 1, 3, 2, 1)  # H rows [1 2], [3 4], [5 6]
w = np.ones((1, 2, 2, 1, 1), "f4")


def f(x, w):
    return tf.nn.conv3d(x, w, strides=[1, 1, 1, 1, 1], padding="VALID", dilations=[1, 1, 2, 1, 1])


# H: taps at rows 0 and 2 (3 - 2*(2-1) = 1 output); W: taps at columns 0 and 1 (1 output).
expected = np.array([1 + 2 + 5 + 6], "f4").reshape(1, 1, 1, 1, 1)
print("expected:   ", expected.shape, expected.ravel())
eager = f(x, w).numpy()
print("eager:      ", eager.shape, eager.ravel())
try:
    got = tf.function(f, autograph=False)(x, w).numpy()
    print("tf.function:", got.shape, got.ravel())
except Exception as e:  # noqa: BLE001
    print("tf.function: raised", type(e).__name__, str(e).splitlines()[0][:110])
    got = None

# The static shape the graph gives a case that fits either way: x H=5, W=5 -> expected (1, 1, 3, 4, 1).
big = tf.TensorSpec((1, 1, 5, 5, 1), tf.float32)
static = tf.function(f, autograph=False).get_concrete_function(big, tf.TensorSpec(w.shape, tf.float32))
print("static shape for H=W=5:", tuple(static.output_shapes), "expected (1, 1, 3, 4, 1)")
fixed = got is not None and got.shape == expected.shape and np.array_equal(got, expected)
sys.exit(0 if fixed and tuple(static.output_shapes) == (1, 1, 3, 4, 1) else 1)
