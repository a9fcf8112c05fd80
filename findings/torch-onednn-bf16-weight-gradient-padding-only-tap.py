"""Repro: torch-onednn-bf16-weight-gradient-padding-only-tap.

Clause: GRAD.5 (the weight gradient of CONV.2).
Versions: torch 2.14.1, CPU with AMX (oneDNN v3.12.0, brgconv_bwd_w:avx10_1_512_amx).
Bug: the weight gradient of a bfloat16 conv whose last axis is strided (> 1) and padded so
that some kernel tap along it reads only padding leaves that tap's elements unwritten: they
come back as whatever the memory held (1e-36 .. 1e37, or 0 on some calls) where 0 is due.
float32, float16 and torch.backends.mkldnn.flags(enabled=False) are right. Channels_last
bfloat16 operands fail the same way from ONEDNN_MAX_CPU_ISA=AVX512_CORE up (jit_bf16).
On a CPU without AMX (or with ONEDNN_MAX_CPU_ISA lower) this script exits 2.
Found by: the README test command (ci profile), test_conv_gradients_grouped.
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

# x ones (1, 4, 1, 1), w ones (2, 2, 1, 2), stride (1, 2), padding (0, 1), groups 2: W (one
# column, padded by 1 on each side) has one output, which reads padding through kernel tap
# kw = 0 and x through kw = 1. With a cotangent of ones, dL/dw[..., 0] = 0 and
# dL/dw[..., 1] = 1 (one input element times one cotangent element).
expected = np.tile(np.array([0.0, 1.0], np.float32), (2, 2, 1, 1))
CALLS = 200  # the unwritten elements hold leftovers of earlier allocations, 0 on some calls
bad = False
for dtype in (torch.float64, torch.float32, torch.bfloat16):
    wrong, worst = 0, 0.0
    for _ in range(CALLS):
        x = torch.ones(1, 4, 1, 1, dtype=dtype, requires_grad=True)
        w = torch.ones(2, 2, 1, 2, dtype=dtype, requires_grad=True)
        y = F.conv2d(x, w, stride=(1, 2), padding=(0, 1), groups=2)
        y.backward(torch.ones_like(y))
        got = w.grad.float().numpy()
        if not np.array_equal(got, expected):
            wrong += 1
            worst = max(worst, float(np.abs(got[..., 0]).max()))
    print(f"{str(dtype):15s} wrong weight gradients in {wrong} of {CALLS} calls; "
          f"largest |dL/dw[..., 0]| {worst:.3g} (expected 0)")
    bad |= dtype == torch.bfloat16 and wrong > 0
print(f"torch {torch.__version__}")
sys.exit(1 if bad else 0)
