"""Repro: tf-conv-empty-batch-shape.

Clause: ERR.13 Empty batch.
Versions: tensorflow-cpu 2.21.0.
Bug: with batch size 0, tf.nn.conv2d / tf.nn.conv1d return an array of the *input's*
shape instead of (0, *output spatial, C_out).
Found by: convspec `pytest --hypothesis-profile thorough` (tf.nn adapter, edge-case suite).
"""

# --- Preconditions: TensorFlow with oneDNN on (TF_ENABLE_ONEDNN_OPTS=1, the default on CPUs with AVX-512 VNNI/BF16 or AMX).
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


if not (tf_onednn()):
    print(
        "precondition not met: TensorFlow with oneDNN on (TF_ENABLE_ONEDNN_OPTS=1, the default on CPUs with AVX-512 VNNI/BF16 or AMX). Here: ONEDNN_MAX_CPU_ISA="
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
