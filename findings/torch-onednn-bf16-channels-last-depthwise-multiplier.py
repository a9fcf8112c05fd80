"""Repro: torch-onednn-bf16-channels-last-depthwise-multiplier.

Clause: GRP.1 Grouped convolution is a concatenation of group convolutions (GRP.2 for the
depthwise form; LAYOUT.5 Memory format does not change values).
Versions: torch 2.14.1, CPU with AVX512-BF16/AMX (oneDNN brg_conv_fwd:avx512_core_bf16).
Bug: a bfloat16 grouped convolution in channels_last format with one input channel per group
and two or more output channels per group (a depthwise convolution with a channel multiplier)
returns zeros or garbage for whole groups or rows: (a) conv3d of an input of depth 1 padded
along D, (b) conv2d whose strided last axis has a single output column. Contiguous bfloat16,
float16, float32, groups 1 and ONEDNN_MAX_CPU_ISA=AVX512_CORE are right.
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

import sys

import numpy as np
import torch
import torch.nn.functional as F

FORMATS = {4: torch.channels_last, 5: torch.channels_last_3d}


def run(conv, x_shape, w_shape, layout, **kwargs):
    fmt = FORMATS[len(x_shape)] if layout == "channels_last" else torch.contiguous_format
    x = torch.ones(x_shape, dtype=torch.bfloat16).contiguous(memory_format=fmt)
    w = torch.ones(w_shape, dtype=torch.bfloat16).contiguous(memory_format=fmt)
    return conv(x, w, **kwargs).float().numpy()


bad = False
# (a) x ones (1, 2, 1, 2, 1), w ones (4, 1, 2, 2, 2), padding (1, 0, 1), groups 2: output
# (1, 4, 2, 1, 2). Each window holds 1 (D: one of two taps on the input) * 2 (H) * 1 (W) ones.
expected = np.full((1, 4, 2, 1, 2), 2.0, np.float32)
print("(a) expected per output channel:", expected.reshape(4, -1).tolist())
for layout in ("contiguous", "channels_last"):
    got = run(F.conv3d, (1, 2, 1, 2, 1), (4, 1, 2, 2, 2), layout, padding=(1, 0, 1), groups=2)
    print(f"    {layout:13s} got:", got.reshape(4, -1).tolist())
    bad |= layout == "channels_last" and not np.array_equal(got, expected)

# (b) x ones (1, 2, 3, 3), w ones (4, 1, 2, 3), stride (1, 2), padding (1, 0), groups 2: output
# (1, 4, 4, 1). The one output column reads all 3 input columns; rows 0 and 3 see one input
# row, rows 1 and 2 two: 3, 6, 6, 3 in every channel.
expected = np.tile(np.array([3.0, 6.0, 6.0, 3.0], np.float32).reshape(1, 1, 4, 1), (1, 4, 1, 1))
print("(b) expected per output channel:", expected.reshape(4, -1).tolist())
for layout in ("contiguous", "channels_last"):
    got = run(F.conv2d, (1, 2, 3, 3), (4, 1, 2, 3), layout, stride=(1, 2), padding=(1, 0), groups=2)
    print(f"    {layout:13s} got:", got.reshape(4, -1).tolist())
    bad |= layout == "channels_last" and not np.array_equal(got, expected)
print(f"torch {torch.__version__}")
sys.exit(1 if bad else 0)
