"""Repro: tf-conv-transpose-negative-output-shape-abort.

Clause: ERR.3 No crash and no hang (and TCONV.6: stride < 1 is invalid, so it must raise).
Versions: tensorflow-cpu 2.21.0 (oneDNN on, the default).
Bug: tf.nn.conv_transpose with 'SAME' and a negative stride, given the output_shape that
the 'SAME' formula yields (n * s, here negative), aborts the process in oneDNN's
Conv2DBackpropInput (Check failed: ... Dimension -1 must be >= 0) instead of raising.
Found by: convspec `pytest --hypothesis-profile ci suites/test_errors.py` (tf.nn adapters).
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
import numpy as np
import tensorflow as tf
x = np.ones((1, 3, 1), "f4")  # N, W, C
w = np.ones((2, 1, 1), "f4")  # W, C_out, C_in
try:
    tf.nn.conv_transpose(x, w, output_shape=[1, -3, 1], strides=[-1], padding="SAME")
    print("returned")
except Exception as e:
    print("raised", type(e).__name__)
"""
res = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True)
print("expected: a Python exception (stride -1, output_shape [1, -3, 1])")
if res.returncode < 0:
    print(f"got: child killed by {signal.Signals(-res.returncode).name}")
    print(*[ln for ln in res.stderr.splitlines() if "Check failed" in ln][:1])
    sys.exit(1)
print("got:", res.stdout.strip())
sys.exit(0 if res.stdout.startswith("raised") else 1)
