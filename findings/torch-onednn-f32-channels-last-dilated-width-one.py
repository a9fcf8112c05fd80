"""Repro: torch-onednn-f32-channels-last-dilated-width-one.

Clause: CONV.2 Definition (REL.7 in the run that found it).
Versions: torch 2.14.1.
Bug: a float32 conv2d on channels_last operands, x (4, 48, 86, 1), w (65, 48, 2, 1), stride
(4, 1), dilation (1, 3), returns wrong values for about 130 of its 5720 outputs in some
processes and is right in others; torch.compile (inductor on the CPU) makes the operands
channels_last itself and meets it on contiguous input. The dilation on the axis of length 1
means nothing (the kernel is 1 wide there); with dilation (1, 1) it is right.
Where: oneDNN at avx512_core or above; right at AVX2. The script runs the call in 8 child
processes, 6 times each, and exits 1 if any result is wrong, 2 where the precondition fails.
Found by: convspec `pytest --hypothesis-profile ci --backend torch.compile
suites/test_relations.py` (test_grouped_is_concatenation_of_groups, one group's call).
"""

# --- Preconditions: oneDNN at avx512_core or above (a CPU with AVX-512, ONEDNN_MAX_CPU_ISA not lower).
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


if not (onednn_isa_at_least('avx512_core')):
    print(
        "precondition not met: oneDNN at avx512_core or above (a CPU with AVX-512, ONEDNN_MAX_CPU_ISA not lower). Here: ONEDNN_MAX_CPU_ISA="
        + _os.environ.get("ONEDNN_MAX_CPU_ISA", "unset") + ", TF_ENABLE_ONEDNN_OPTS="
        + _os.environ.get("TF_ENABLE_ONEDNN_OPTS", "unset") + ", CPU AVX-512 flags: "
        + (" ".join(sorted(f for f in cpu_flags() if f.startswith(("avx512", "amx")))) or "none")
    )
    _sys.exit(2)
# --- end of preconditions

import subprocess
import sys

CODE = """
import torch, torch.nn.functional as F
g = torch.Generator().manual_seed(0)
x = torch.randint(-3, 4, (4, 48, 86, 1), generator=g).float()
w = torch.randint(-3, 4, (65, 48, 2, 1), generator=g).float()
# Small integers: every sum is exact in float32, so any difference is an error.
want = F.conv2d(x.double(), w.double(), stride=(4, 1), dilation=(1, 3)).float()
xc, wc = x.to(memory_format=torch.channels_last), w.to(memory_format=torch.channels_last)
print(*[int((F.conv2d(xc, wc, stride=(4, 1), dilation=(1, 3)) != want).sum()) for _ in range(6)])
"""
print("expected: 0 wrong outputs of 5720 in every call (contiguous operands give 0)")
wrong = 0
for run in range(8):
    res = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True)
    counts = res.stdout.split()
    print(f"process {run}: wrong outputs per call: {' '.join(counts) or res.stderr[-300:]}")
    wrong += sum(int(c) for c in counts) if counts else 1
import torch

print(f"torch {torch.__version__}")
sys.exit(1 if wrong else 0)
