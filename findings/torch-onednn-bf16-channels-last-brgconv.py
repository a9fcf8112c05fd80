"""Repro: torch-onednn-bf16-channels-last-brgconv.

Clause: ERR.3 No crash and no hang (the call is valid: CONV.2 defines zeros there).
Versions: torch 2.14.1, CPU with AVX512-BF16/AMX (oneDNN brg_conv_fwd:avx512_core_bf16).
Bug: a bfloat16 convolution in channels_last format, strided and dilated along the last axis,
whose outputs along that axis (two or more) all read only padding, dies with SIGSEGV (float16
the same from oneDNN avx512_core_fp16). Contiguous bfloat16 returns the zeros, and so does
ONEDNN_MAX_CPU_ISA=AVX512_CORE. The grouped wrong values once reported here with it are
findings/torch-onednn-bf16-channels-last-depthwise-multiplier.py.
On a CPU without AVX512-BF16 (or with ONEDNN_MAX_CPU_ISA lower) this script exits 2.
Found by: convspec `pytest --hypothesis-profile thorough` (torch channels_last adapter).
"""

# --- Preconditions: oneDNN at avx512_core_bf16 or above (a CPU with AVX512-BF16, ONEDNN_MAX_CPU_ISA not lower): the brgconv kernel.
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


if not (onednn_isa_at_least('avx512_core_bf16')):
    print(
        "precondition not met: oneDNN at avx512_core_bf16 or above (a CPU with AVX512-BF16, ONEDNN_MAX_CPU_ISA not lower): the brgconv kernel. Here: ONEDNN_MAX_CPU_ISA="
        + _os.environ.get("ONEDNN_MAX_CPU_ISA", "unset") + ", TF_ENABLE_ONEDNN_OPTS="
        + _os.environ.get("TF_ENABLE_ONEDNN_OPTS", "unset") + ", CPU AVX-512 flags: "
        + (" ".join(sorted(f for f in cpu_flags() if f.startswith(("avx512", "amx")))) or "none")
    )
    _sys.exit(2)
# --- end of preconditions

import signal
import subprocess
import sys

import torch

CALL = """
import sys, torch, torch.nn.functional as F
fmt = torch.channels_last if sys.argv[1] == "channels_last" else torch.contiguous_format
x = torch.ones(1, 3, 2, 1, dtype=torch.bfloat16).contiguous(memory_format=fmt)
w = torch.ones(1, 3, 1, 1, dtype=torch.bfloat16).contiguous(memory_format=fmt)
y = F.conv2d(x, w, stride=(1, 3), padding=(0, 2), dilation=(1, 2))
print(tuple(y.shape), y.float().abs().max().item())
"""
# W: one input column padded by 2 on each side, a kernel 1 wide, stride 3: both output columns
# (padded positions 0 and 3) read only padding, so the result is zeros of shape (1, 1, 2, 2).
print("expected: zeros of shape (1, 1, 2, 2), printed as (1, 1, 2, 2) 0.0")
bad = False
for layout in ("contiguous", "channels_last"):
    res = subprocess.run([sys.executable, "-c", CALL, layout], capture_output=True, text=True)
    if res.returncode < 0:
        print(f"{layout}: the process was killed by {signal.Signals(-res.returncode).name}")
    else:
        print(f"{layout}:", res.stdout.strip() or res.stderr.strip()[-200:])
    if layout == "channels_last":
        bad = res.returncode != 0 or res.stdout.strip() != "(1, 1, 2, 2) 0.0"
print(f"torch {torch.__version__}")
sys.exit(1 if bad else 0)
