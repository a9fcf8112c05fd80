"""Repro: torch-onednn-fp16-padding-only-segfault.

Clause: ERR.3 No crash and no hang (the call is valid: CONV.2 defines zeros there).
Versions: torch 2.14.1, CPU with AVX-512 FP16 (oneDNN avx512_core_fp16 or above).
Bug: a contiguous float16 F.conv2d, strided and dilated along W, whose outputs read only
padding, dies with SIGSEGV when batched (N 2) or grouped; N 1 without groups returns the
zeros it should, as do bfloat16 and float32, and float16 below that oneDNN level.
Found by: convspec's README test command (ci profile) on a CPU with AVX-512 FP16 and AMX.
"""
# --- Preconditions: oneDNN at avx512_core_fp16 or above (a CPU with AVX-512 FP16, ONEDNN_MAX_CPU_ISA not lower).
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


if not (onednn_isa_at_least('avx512_core_fp16')):
    print(
        "precondition not met: oneDNN at avx512_core_fp16 or above (a CPU with AVX-512 FP16, ONEDNN_MAX_CPU_ISA not lower). Here: ONEDNN_MAX_CPU_ISA="
        + _os.environ.get("ONEDNN_MAX_CPU_ISA", "unset") + ", TF_ENABLE_ONEDNN_OPTS="
        + _os.environ.get("TF_ENABLE_ONEDNN_OPTS", "unset") + ", CPU AVX-512 flags: "
        + (" ".join(sorted(f for f in cpu_flags() if f.startswith(("avx512", "amx")))) or "none")
    )
    _sys.exit(2)
# --- end of preconditions
import subprocess

CALL = """
import sys, torch, torch.nn.functional as F
n = int(sys.argv[1])
x = torch.ones(n, 2, 1, 1, dtype=torch.float16)
w = torch.ones(2, 2, 1, 1, dtype=torch.float16)
# W: n=1 padded to 5, k=1, dilation 2, stride 3: outputs at padded W=0 and 3 read padding only.
y = F.conv2d(x, w, stride=(1, 3), dilation=(1, 2), padding=(0, 2))
print(tuple(y.shape), float(y.float().abs().max()))
"""
crashed = False
for n in (1, 2):
    res = subprocess.run([_sys.executable, "-c", CALL, str(n)], capture_output=True, text=True)
    if res.returncode != 0:
        crashed = True
        print(f"N={n}: expected zeros of shape ({n}, 2, 1, 2); the process died (status {res.returncode})")
    else:
        print(f"N={n}: {res.stdout.strip()} (expected ({n}, 2, 1, 2) 0.0)")
_sys.exit(1 if crashed else 0)
