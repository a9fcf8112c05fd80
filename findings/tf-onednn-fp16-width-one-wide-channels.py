"""Repro: tf-onednn-fp16-width-one-wide-channels.

Clause: CONV.2 Definition.
Versions: tensorflow-cpu 2.21.0 (oneDNN on, the default).
Bug: a float16 conv2d of an input one column wide, with a kernel of width 1 and height >= 2 and
33 input channels, returns wrong values (oneDNN brg_conv_fwd on AVX-512 FP16 CPUs).
Found by: convspec `pytest --hypothesis-profile ci --backend tf.function` (suites/test_dilated.py).
"""

# --- Preconditions: TensorFlow with oneDNN on (TF_ENABLE_ONEDNN_OPTS=1, the default on CPUs with AVX-512 VNNI/BF16 or AMX),
# float16 handed to oneDNN (a CPU with AVX-512 FP16) and oneDNN at avx512_core_fp16 or above.
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


if not (tf_onednn() and "avx512_fp16" in cpu_flags() and onednn_isa_at_least("avx512_core_fp16")):
    print(
        "precondition not met: TensorFlow with oneDNN on, a CPU with AVX-512 FP16 and oneDNN at avx512_core_fp16 or above. Here: ONEDNN_MAX_CPU_ISA="
        + _os.environ.get("ONEDNN_MAX_CPU_ISA", "unset") + ", TF_ENABLE_ONEDNN_OPTS="
        + _os.environ.get("TF_ENABLE_ONEDNN_OPTS", "unset") + ", CPU AVX-512 flags: "
        + (" ".join(sorted(f for f in cpu_flags() if f.startswith(("avx512", "amx")))) or "none")
    )
    _sys.exit(2)
# --- end of preconditions

import sys

import numpy as np
import tensorflow as tf

ok = True
for c in (32, 33, 48, 50):
    x = np.ones((1, 2, 1, c), "f2")  # NHWC: H=2, W=1
    w = np.ones((2, 1, c, 1), "f2")  # kH=2, kW=1, C_in, C_out=1
    expected = 2.0 * c  # every product is 1; 2*c is exact in float16
    eager = float(tf.nn.conv2d(x, w, 1, "VALID").numpy().ravel()[0])
    graph = float(tf.function(lambda x, w: tf.nn.conv2d(x, w, 1, "VALID"))(x, w).numpy().ravel()[0])
    print(f"C_in {c}: expected {expected}, eager {eager}, tf.function {graph}")
    ok = ok and eager == expected and graph == expected
sys.exit(0 if ok else 1)
