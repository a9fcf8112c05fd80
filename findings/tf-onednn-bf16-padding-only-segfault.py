"""Repro: tf-onednn-bf16-padding-only-segfault.

Clause: ERR.3 No crash and no hang (a valid call: CONV.2 gives its value).
Versions: tensorflow-cpu 2.21.0 (oneDNN on, the default).
Bug: a bfloat16 tf.nn.conv2d, strided and dilated along W, whose outputs read only padding
there, kills the process with SIGSEGV when it is grouped or has a batch of 2. The same call
in float32 returns the right value (zeros), as does batch 1 without groups.
Found by: convspec `pytest --hypothesis-profile thorough suites/test_acnet.py` (tf.nn).
"""

# --- Preconditions: TensorFlow with oneDNN on, a CPU with AVX-512 (TF gives bfloat16 to oneDNN only there), and oneDNN not capped to avx512_core/avx512_core_vnni (whose kernels are right).
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


if not (tf_onednn() and 'avx512f' in cpu_flags() and (onednn_isa_at_least('avx512_core_bf16') or not onednn_isa_at_least('avx512_core'))):
    print(
        "precondition not met: TensorFlow with oneDNN on, a CPU with AVX-512 (TF gives bfloat16 to oneDNN only there), and oneDNN not capped to avx512_core/avx512_core_vnni (whose kernels are right). Here: ONEDNN_MAX_CPU_ISA="
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
import os, sys
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
import numpy as np
import tensorflow as tf
dtype = getattr(tf, sys.argv[1])
n, c_in = int(sys.argv[2]), int(sys.argv[3])  # groups = c_in / 2 (the kernel takes 2 channels)
x = tf.constant(np.ones((n, 1, 1, c_in), "f4"), dtype=dtype)  # N, H, W, C_in
w = tf.constant(np.ones((1, 1, 2, 2), "f4"), dtype=dtype)  # H, W, C_in / groups, C_out
y = tf.nn.conv2d(x, w, strides=[1, 2], padding=[[0, 0], [0, 0], [1, 1], [0, 0]], dilations=[1, 2])
print("returned", sorted(set(np.asarray(tf.cast(y, tf.float32)).ravel().tolist())))
"""
print("expected: zeros (both W outputs read only padding)")
status = 0
for dtype, n, c_in in (("float32", 2, 4), ("bfloat16", 1, 2), ("bfloat16", 1, 4), ("bfloat16", 2, 2)):
    case = f"{dtype}, N={n}, C_in={c_in}, groups={c_in // 2}"
    res = subprocess.run([sys.executable, "-c", CODE, dtype, str(n), str(c_in)], capture_output=True, text=True)
    if res.returncode < 0:
        print(f"{case}: got: child killed by {signal.Signals(-res.returncode).name}")
        status = 1
    else:
        print(f"{case}: got:", res.stdout.strip() or res.stderr.strip()[-200:])
        status |= 0 if res.stdout.startswith("returned [0.0]") else 1
sys.exit(status)
