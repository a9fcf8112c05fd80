"""Repro: tf-onednn-single-channel-batch-strided-single-output.

Clause: CONV.2 Definition.
Versions: tensorflow-cpu 2.21.0 (oneDNN on, the default).
Bug: tf.nn.conv2d in float32 with one input channel, a batch of 2 and strides (1, 3), where
W has a single output, returns wrong values for every output row after the first (on
random data, values near 1e32); the same call with batch 1 is right.
Found by: convspec `pytest --hypothesis-profile thorough suites/test_separable.py` (tf.nn.convolution).
"""

# --- Preconditions: TensorFlow with oneDNN on, and oneDNN at AVX-512 (avx512_core or above; its AVX2 kernel is right).
# Where they do not hold the script says so and exits 2: it tested nothing there.
import os as _os
import sys as _sys

_LEVELS = ["sse41", "avx", "avx2", "avx512_core", "avx512_core_vnni", "avx512_core_bf16",
           "avx512_core_fp16", "avx512_core_amx"]
_NEEDS = [{"sse4_1"}, {"avx"}, {"avx2", "fma"}, {"avx512f", "avx512bw", "avx512vl", "avx512dq"},
          {"avx512_vnni"}, {"avx512_bf16"}, {"avx512_fp16"}, {"amx_tile", "amx_int8", "amx_bf16"}]


def cpu_flags():
    try:
        with open("/proc/cpuinfo") as f:
            return set(next(ln for ln in f if ln.startswith("flags")).split(":", 1)[1].split())
    except (OSError, StopIteration):
        return set()


def onednn_isa_at_least(name):
    """oneDNN dispatches at least at level `name`: the CPU has it and ONEDNN_MAX_CPU_ISA allows it."""
    flags, level = cpu_flags(), -1
    for i, needs in enumerate(_NEEDS):
        if not needs <= flags:
            break
        level = i
    cap = _os.environ.get("ONEDNN_MAX_CPU_ISA", "ALL").lower()
    if cap in _LEVELS:
        level = min(level, _LEVELS.index(cap))
    return level >= _LEVELS.index(name)


def tf_onednn():
    """TensorFlow runs its oneDNN kernels (its default only on CPUs with AVX-512 VNNI/BF16 or AMX)."""
    _os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    from tensorflow.python.util import _pywrap_util_port

    return bool(_pywrap_util_port.IsMklEnabled())


if not (tf_onednn() and onednn_isa_at_least('avx512_core')):
    print(
        "precondition not met: TensorFlow with oneDNN on, and oneDNN at AVX-512 (avx512_core or above; its AVX2 kernel is right). Here: ONEDNN_MAX_CPU_ISA="
        + _os.environ.get("ONEDNN_MAX_CPU_ISA", "unset") + ", TF_ENABLE_ONEDNN_OPTS="
        + _os.environ.get("TF_ENABLE_ONEDNN_OPTS", "unset") + ", CPU AVX-512 flags: "
        + (" ".join(sorted(f for f in cpu_flags() if f.startswith(("avx512", "amx")))) or "none")
    )
    _sys.exit(2)
# --- end of preconditions

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
