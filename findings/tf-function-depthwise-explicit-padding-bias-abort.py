"""Repro: tf-function-depthwise-explicit-padding-bias-abort.

Clause: ERR.3 No crash and no hang.
Versions: tensorflow-cpu 2.21.0.
Bug: under tf.function, depthwise_conv2d with explicit padding followed by bias_add aborts
the process (grappler, tensor_format.h:428 Check failed); the same call eagerly works.
Found by: convspec `pytest --hypothesis-profile thorough` (tf.function adapter).
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

import signal
import subprocess
import sys

CODE = """
import os
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
import tensorflow as tf

@tf.function
def g(x, f, b):
    y = tf.nn.depthwise_conv2d(x, f, [1, 1, 1, 1], [[0, 0], [2, 2], [2, 2], [0, 0]])
    return tf.nn.bias_add(y, b)

y = g(tf.ones((1, 6, 7, 3)), tf.ones((2, 1, 3, 1)), tf.ones(3))
print(y.shape, float(y[0, 2, 2, 0]))
"""
# Expected: shape (1, 9, 11, 3) (H: 6+4-2+1 = 9, W: 7+4-1+1 = 11); an interior output
# sums a 2x1 window of ones plus the bias 1 -> 3.0. The process must not die.
res = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True)
print("expected: (1, 9, 11, 3) 3.0")
if res.returncode < 0:
    print(f"got: child killed by {signal.Signals(-res.returncode).name}")
    print(*[ln for ln in res.stderr.splitlines() if "Check failed" in ln][:1])
    sys.exit(1)
print("got:", res.stdout.strip() or res.stderr.strip()[-300:])
sys.exit(0 if res.stdout.strip() == "(1, 9, 11, 3) 3.0" else 1)
