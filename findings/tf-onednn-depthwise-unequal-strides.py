"""Repro: tf-onednn-depthwise-unequal-strides.

Clause: GRP.2 Depthwise convolution (also SEP.1 through SeparableConv2D).
Versions: tensorflow-cpu 2.21.0 (oneDNN on, the default); Keras 3.15.1 DepthwiseConv2D inherits it.
Bug: oneDNN's depthwise conv with unequal strides and channel multiplier > 1 returns garbage
for some outputs (float32 and bfloat16); multiplier 1 and the Eigen kernel are right.
Found by: convspec `pytest --hypothesis-profile thorough` (tf.nn adapter, exact mode).
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
