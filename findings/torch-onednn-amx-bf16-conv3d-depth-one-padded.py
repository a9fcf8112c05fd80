"""Repro: torch-onednn-amx-bf16-conv3d-depth-one-padded.

Clause: CONV.2 Definition.
Versions: torch 2.14.1, CPU with AMX (oneDNN brg_conv_fwd:avx10_1_512_amx).
Bug: a bfloat16 F.conv3d of an input of depth 1 padded along D, with kd >= 2, kw >= 2 and an
odd number of input channels per group, returns zeros for an output plane that reads the input
through kernel tap kd = 1; contiguous and channels_last_3d alike. float32, 2 or 4 input
channels, an input of depth 2 and ONEDNN_MAX_CPU_ISA=AVX512_CORE_FP16 are right.
On a CPU without AMX (or with ONEDNN_MAX_CPU_ISA lower) this script exits 2.
Found by: a sweep of channels_last convolutions against float64 (FINDINGS.md §8).
"""
# --- Preconditions: oneDNN at avx512_core_amx (a CPU with AMX, ONEDNN_MAX_CPU_ISA not lower).
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
        "precondition not met: oneDNN at avx512_core_amx (a CPU with AMX, ONEDNN_MAX_CPU_ISA not lower). Here: ONEDNN_MAX_CPU_ISA="
        + _os.environ.get("ONEDNN_MAX_CPU_ISA", "unset") + ", TF_ENABLE_ONEDNN_OPTS="
        + _os.environ.get("TF_ENABLE_ONEDNN_OPTS", "unset") + ", CPU AVX-512 flags: "
        + (" ".join(sorted(f for f in cpu_flags() if f.startswith(("avx512", "amx")))) or "none")
    )
    _sys.exit(2)
# --- end of preconditions

import sys

import numpy as np
import torch
import torch.nn.functional as F

# x ones (1, 3, 1, 3, 4), w ones (3, 3, 2, 2, 3), padding (1, 0, 1): output (1, 3, 2, 2, 4).
# D: the one input plane padded by 1 on each side; output plane 0 reads it through tap kd = 1,
# plane 1 through tap kd = 0. H: 2 of 2 taps; W (padded by 1): 2, 3, 3, 2 of 3 taps. Each
# output is 3 channels * 1 * 2 * (2, 3, 3, 2) = 12, 18, 18, 12.
expected = np.tile(np.array([12.0, 18.0, 18.0, 12.0], np.float32), (1, 3, 2, 2, 1))
print("expected y[0, 0]:", expected[0, 0].tolist())
bad = False
for dtype in (torch.float32, torch.bfloat16):
    for fmt in (torch.contiguous_format, torch.channels_last_3d):
        x = torch.ones(1, 3, 1, 3, 4, dtype=dtype).contiguous(memory_format=fmt)
        w = torch.ones(3, 3, 2, 2, 3, dtype=dtype).contiguous(memory_format=fmt)
        got = F.conv3d(x, w, padding=(1, 0, 1)).float().numpy()
        print(f"{str(dtype):15s} {str(fmt):26s} y[0, 0]:", got[0, 0].tolist())
        bad |= dtype == torch.bfloat16 and not np.array_equal(got, expected)
print(f"torch {torch.__version__}")
sys.exit(1 if bad else 0)
