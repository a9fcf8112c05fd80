"""Repro: torch-onednn-bf16-channels-last-brgconv.

Clauses: ERR.3 No crash and no hang; GRP.1 Grouped convolution is a concatenation of
group convolutions (also LAYOUT.5 Memory format does not change values).
Versions: torch 2.14.1, CPU with AVX512-BF16/AMX (oneDNN brg_conv_fwd:avx512_core_bf16).
Bug: bfloat16 convolutions in channels_last format (a) segfault when outputs read only
padding along a dilated last axis, (b) return zeros for a whole group of a grouped conv.
Contiguous bfloat16 and other dtypes are right; not seen with ONEDNN_MAX_CPU_ISA=AVX512_CORE.
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

import numpy as np
import torch
import torch.nn.functional as F

CL = torch.channels_last
CRASH = """
import torch, torch.nn.functional as F
cl = torch.channels_last
x = torch.ones(1, 3, 2, 1, dtype=torch.bfloat16).contiguous(memory_format=cl)
w = torch.ones(1, 3, 1, 1, dtype=torch.bfloat16).contiguous(memory_format=cl)
y = F.conv2d(x, w, stride=(1, 3), padding=(0, 2), dilation=(1, 2))
print(tuple(y.shape), y.float().abs().max().item())
"""
# (a) W: n=1 padded to 5, k=1, s=3 -> outputs at padded W=0 and 3, both padding: zeros (1,1,2,2).
res = subprocess.run([sys.executable, "-c", CRASH], capture_output=True, text=True)
print("(a) expected: zeros of shape (1, 1, 2, 2)")
bad = res.returncode < 0
if bad:
    print(f"    got: child killed by {signal.Signals(-res.returncode).name}")
else:
    print("    got:", res.stdout.strip() or res.stderr.strip()[-200:])
    bad = res.stdout.strip() != "(1, 1, 2, 2) 0.0"

# (b) x ones (1,2,1,2,1), w ones (4,1,2,2,2), padding (1,0,1), groups 2 -> (1,4,2,1,2).
# Each output window holds 1 (D, padded [0,1,0]) * 2 (H) * 1 (W, padded [0,1,0]) ones = 2.
x = torch.ones(1, 2, 1, 2, 1, dtype=torch.bfloat16).contiguous(memory_format=torch.channels_last_3d)
w = torch.ones(4, 1, 2, 2, 2, dtype=torch.bfloat16).contiguous(memory_format=torch.channels_last_3d)
got = F.conv3d(x, w, padding=(1, 0, 1), groups=2).float().numpy()
expected = np.full((1, 4, 2, 1, 2), 2.0, np.float32)
print("(b) expected per output channel:", expected.reshape(4, -1).tolist())
print("    got per output channel:     ", got.reshape(4, -1).tolist())
bad |= not np.array_equal(got, expected)
print(f"torch {torch.__version__}")
sys.exit(1 if bad else 0)
