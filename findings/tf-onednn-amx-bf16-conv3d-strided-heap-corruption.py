"""Repro: tf-onednn-amx-bf16-conv3d-strided-heap-corruption.

Clause: ERR.3 No crash and no hang, CONV.2 Definition (a valid call).
Versions: tensorflow-cpu 2.21.0 (oneDNN on, the default), its bundled oneDNN.
Bug: a channels-last bfloat16 tf.nn.conv3d run by oneDNN's AMX brgemm kernel, with a batch
of 2 or more, strides > 1 on the first two spatial axes and a kernel of width 2 on the last,
corrupts the heap: the process aborts ('free(): invalid next size') or the result holds
garbage (about 1e38). With 33 or 40 input channels every run fails; with 16 or 32 some do.
Found by: convspec's dispatch tier, `pytest --hypothesis-profile ci suites/test_conv.py
--backend tf.nn` (test_conv_each_rank).
"""

# --- Preconditions: TensorFlow with oneDNN on and oneDNN dispatching AMX (a CPU with amx_bf16, ONEDNN_MAX_CPU_ISA not below AVX512_CORE_AMX).
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


if not (tf_onednn() and onednn_isa_at_least('avx512_core_amx')):
    print(
        "precondition not met: TensorFlow with oneDNN on and oneDNN dispatching AMX. Here: ONEDNN_MAX_CPU_ISA="
        + _os.environ.get("ONEDNN_MAX_CPU_ISA", "unset") + ", TF_ENABLE_ONEDNN_OPTS="
        + _os.environ.get("TF_ENABLE_ONEDNN_OPTS", "unset") + ", CPU AVX-512/AMX flags: "
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
n, c_in, dtype = int(sys.argv[1]), int(sys.argv[2]), getattr(tf, sys.argv[3])
rng = np.random.default_rng(0)
x = rng.uniform(-2, 2, (n, 11, 34, 2, c_in))  # N, D, H, W, C_in
w = rng.uniform(-2, 2, (1, 1, 2, c_in, 1))  # D, H, W, C_in, C_out
y = tf.nn.conv3d(tf.cast(x, dtype), tf.cast(w, dtype), [1, 2, 3, 1, 1], "VALID")
# The float64 result of the same operands, as rounded to the tested dtype.
x64 = tf.cast(tf.cast(x, dtype), tf.float64)
w64 = tf.cast(tf.cast(w, dtype), tf.float64)
ref = tf.nn.conv3d(x64, w64, [1, 2, 3, 1, 1], "VALID")
err = float(tf.reduce_max(tf.abs(tf.cast(y, tf.float64) - ref)))
print(f"returned shape {tuple(y.shape)}, max |error| {err:.3g} (max |y| {float(tf.reduce_max(tf.abs(ref))):.3g})")
sys.exit(0 if err < 1.0 else 1)
"""
print("expected: every case returns, within bfloat16 rounding of the float64 result (max |error| below 1 here)")
status = 0
for n, c_in, dtype in ((2, 33, "float32"), (1, 33, "bfloat16"), (2, 32, "bfloat16"), (2, 33, "bfloat16"), (2, 40, "bfloat16")):
    case = f"N={n}, C_in={c_in}, {dtype}"
    res = subprocess.run([sys.executable, "-c", CODE, str(n), str(c_in), dtype], capture_output=True, text=True)
    if res.returncode < 0:
        print(f"{case}: got: child killed by {signal.Signals(-res.returncode).name}: {res.stderr.strip()[-80:]}")
        status = 1
    else:
        print(f"{case}: got:", res.stdout.strip() or res.stderr.strip()[-200:])
        status |= res.returncode
sys.exit(status)
