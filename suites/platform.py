"""The platform a run is on: the facts that decide which kernels a framework dispatches.

Framework bugs often live in one kernel: oneDNN's AVX-512 path, TensorFlow with
oneDNN on (its default only on CPUs with AVX-512 VNNI/BF16 or AMX), ATen's AVX2
build. A known-issue entry states where its pinned example reproduces in
`requires`, an expression over `namespace(adapter)`; where it does not hold, the
entry is *not applicable here*: its example is not replayed, so it cannot count as
stale. Its `when` predicate may use the same names.

Names a `requires` (or `when`) expression may use:

- `cpu`: the CPU's feature flags as /proc/cpuinfo spells them (`'avx512f' in cpu`).
- `onednn_isa`: the instruction set oneDNN dispatches to: the best level this CPU
  has, capped by ONEDNN_MAX_CPU_ISA (or DNNL_MAX_CPU_ISA). It compares with level
  names: `onednn_isa >= 'avx512_core'`.
- `machine`: `platform.machine()`, e.g. 'x86_64'.
- `threads`: the CPUs this process may run on.
- `device`: the surface's device ('cpu', 'cuda:0').
- whatever the surface's adapter reports in `Adapter.platform()`, e.g.
  `torch_capability` (ATen's CPU kernels: 'DEFAULT', 'AVX2', 'AVX512'), `mkldnn`,
  `tf_onednn` (whether TensorFlow runs its oneDNN kernels), `tf_onednn_dtypes` (the
  dtypes TensorFlow hands to its oneDNN ops on this CPU), `tf_eigen_dtypes` (those
  whose convolutions run Eigen's kernels here) and, for the tf.nn surfaces,
  `tf_channels_last` (whether the surface calls TF in NHWC-style formats, not NCHW).
"""

from __future__ import annotations

import os
import platform as _platform
from typing import Any

from adapters import cpu
from adapters.base import Adapter


def threads() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def plain(value: Any) -> Any:
    """A platform fact as JSON and a report line show it: sets as sorted lists."""
    if isinstance(value, set | frozenset):
        return sorted(value)
    return value


def facts(adapter: Adapter) -> str:
    """The surface's own platform facts, for its report line."""
    return "".join(f", {k}={plain(v)}" for k, v in adapter.platform().items())


def namespace(adapter: Adapter) -> dict[str, Any]:
    """Every name a `requires` expression may use for `adapter`'s surface."""
    return {
        "cpu": cpu.flags(),
        "onednn_isa": cpu.onednn_isa(),
        "machine": _platform.machine(),
        "threads": threads(),
        "device": adapter.device,
        **adapter.platform(),
    }


# Flags worth printing: the ones kernels dispatch on (the full list is long).
_SHOWN_FLAGS = (
    "avx2",
    "fma",
    "avx_vnni",
    "avx512f",
    "avx512_vnni",
    "avx512_bf16",
    "avx512_fp16",
    "amx_tile",
    "amx_bf16",
    "neon",
    "asimd",
    "sve",
)


def shown_flags() -> list[str]:
    return [f for f in _SHOWN_FLAGS if f in cpu.flags()]


def describe() -> str:
    """One line for the report header: CPU, the flags kernels dispatch on, oneDNN's ISA."""
    flags = shown_flags()
    cap = os.environ.get("ONEDNN_MAX_CPU_ISA") or os.environ.get("DNNL_MAX_CPU_ISA") or "unset"
    return (
        f"{cpu.model()} ({_platform.machine()}, {threads()} CPUs); flags: "
        f"{' '.join(flags) or 'none of ' + '/'.join(_SHOWN_FLAGS[:4])}; "
        f"oneDNN ISA {cpu.onednn_isa()} (ONEDNN_MAX_CPU_ISA={cap})"
    )


def summary() -> dict[str, Any]:
    """The platform for the JSON report."""
    return {
        "cpu": cpu.model(),
        "machine": _platform.machine(),
        "threads": threads(),
        "flags": sorted(shown_flags()),
        "onednn_isa": str(cpu.onednn_isa()),
        "environment": {
            k: os.environ[k]
            for k in (
                "ONEDNN_MAX_CPU_ISA",
                "DNNL_MAX_CPU_ISA",
                "TF_ENABLE_ONEDNN_OPTS",
                "ATEN_CPU_CAPABILITY",
                "OMP_NUM_THREADS",
                # On a GPU host these choose the device and whether float32 runs as TF32.
                "CUDA_VISIBLE_DEVICES",
                "JAX_PLATFORMS",
                "NVIDIA_TF32_OVERRIDE",
            )
            if k in os.environ
        },
    }
