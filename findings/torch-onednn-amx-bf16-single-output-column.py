"""Repro: torch-onednn-amx-bf16-single-output-column.

Clause: CONV.2 Definition (also GRP.1 and SHUF.5 through grouped and shuffled blocks; ERR.3
for the calls of the same kind that die with SIGSEGV).
Versions: torch 2.14.1, CPU with AMX (oneDNN avx512_core_amx).
Bug: a contiguous bfloat16 F.conv2d whose last axis is strided, with a kernel of width >= 2,
and has a single output column returns garbage for the output rows after the first. With
ONEDNN_MAX_CPU_ISA=AVX512_CORE_FP16 (no AMX), in float16 or float32, with one output row or
with 1-2 input channels it is right.
Found by: convspec `pytest -n 2 --hypothesis-profile ci` (torch adapter), on an AMX CPU.
"""
# --- Preconditions: oneDNN at avx512_core_amx (a CPU with AMX, ONEDNN_MAX_CPU_ISA not lower): its AMX bf16 convolution kernel.
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


if not (onednn_isa_at_least('avx512_core_amx')):
    print(
        "precondition not met: oneDNN at avx512_core_amx (a CPU with AMX, ONEDNN_MAX_CPU_ISA not lower): its AMX bf16 convolution kernel. Here: ONEDNN_MAX_CPU_ISA="
        + _os.environ.get("ONEDNN_MAX_CPU_ISA", "unset") + ", TF_ENABLE_ONEDNN_OPTS="
        + _os.environ.get("TF_ENABLE_ONEDNN_OPTS", "unset") + ", CPU AVX-512 flags: "
        + (" ".join(sorted(f for f in cpu_flags() if f.startswith(("avx512", "amx")))) or "none")
    )
    _sys.exit(2)
# --- end of preconditions
import numpy as np
import torch
import torch.nn.functional as F

# x (N=2, C=6, H=5, W=3), w (C_out=2, C_in=6, 1, 3), stride (1, 2): W has one output column.
x = (np.arange(2 * 6 * 5 * 3) % 5 - 2).reshape(2, 6, 5, 3).astype(np.float32)
w = (np.arange(2 * 6 * 1 * 3) % 3 - 1).reshape(2, 6, 1, 3).astype(np.float32)
# The definition: y[n, o, i, 0] = sum_c sum_b x[n, c, i, b] * w[o, c, 0, b]; small integers
# are exact in bfloat16, and so is every partial sum here.
expected = np.einsum("ncib,ocb->noi", x, w[:, :, 0, :])[..., None]
got = F.conv2d(
    torch.from_numpy(x).to(torch.bfloat16), torch.from_numpy(w).to(torch.bfloat16), stride=(1, 2)
).float().numpy()
print(f"torch {torch.__version__}\nexpected[0, 0, :, 0] {expected[0, 0, :, 0]}\ngot[0, 0, :, 0]      {got[0, 0, :, 0]}")
_sys.exit(0 if np.array_equal(got, expected) else 1)
