"""Repro: torch-onednn-amx-bf16-padding-only-segfault.

Clause: ERR.3 No crash and no hang (the call is valid: CONV.2 defines zeros there).
Versions: torch 2.14.1, CPU with AMX (oneDNN avx512_core_amx).
Bug: a contiguous bfloat16 F.conv3d with dilation (3, 2, 2), padding (2, 0, 0) and groups 2, on
an input of depth 1, so that along D some outputs read only padding, dies with SIGSEGV.
float16, float32 and ONEDNN_MAX_CPU_ISA=AVX512_CORE_FP16 return the expected zeros there.
Found by: convspec's README test command (ci profile) on a CPU with AMX.
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
import subprocess

CALL = """
import sys, torch, torch.nn.functional as F
dtype = getattr(torch, sys.argv[1])
x = torch.ones(2, 2, 1, 3, 5, dtype=dtype)
w = torch.ones(4, 1, 2, 1, 2, dtype=dtype)
y = F.conv3d(x, w, dilation=(3, 2, 2), padding=(2, 0, 0), groups=2)
print(tuple(y.shape), float(y.float()[:, :, 0].abs().max()))
"""
status = {}
for dtype in ("float32", "bfloat16"):
    res = subprocess.run([_sys.executable, "-c", CALL, dtype], capture_output=True, text=True)
    status[dtype] = res.returncode
    shown = res.stdout.strip() or f"the process died (status {res.returncode})"
    print(f"{dtype}: {shown} (expected (2, 4, 2, 3, 3), zeros at D=0)")
_sys.exit(1 if status["bfloat16"] != 0 else 0)
