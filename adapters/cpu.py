"""The CPU's feature flags, which frameworks read to choose kernels (no framework imported)."""

from __future__ import annotations

import os
import platform
from functools import cache
from pathlib import Path


@cache
def _cpuinfo() -> dict[str, str]:
    """The first processor's fields in /proc/cpuinfo (Linux); empty elsewhere."""
    try:
        text = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return {}
    fields: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip():
            break
        key, _, value = line.partition(":")
        fields.setdefault(key.strip(), value.strip())
    return fields


def flags() -> frozenset[str]:
    """Feature flags as /proc/cpuinfo spells them ('avx2', 'avx512f', 'amx_tile', ...)."""
    info = _cpuinfo()
    return frozenset((info.get("flags") or info.get("Features") or "").split())


def model() -> str:
    return _cpuinfo().get("model name") or platform.processor() or "unknown"


# oneDNN's CPU ISA levels (ONEDNN_MAX_CPU_ISA values), lowest first, with the
# /proc/cpuinfo flags each needs on top of the levels before it.
ONEDNN_LEVELS: tuple[tuple[str, frozenset[str]], ...] = (
    ("sse41", frozenset({"sse4_1"})),
    ("avx", frozenset({"avx"})),
    ("avx2", frozenset({"avx2", "fma"})),
    ("avx512_core", frozenset({"avx512f", "avx512bw", "avx512vl", "avx512dq"})),
    ("avx512_core_vnni", frozenset({"avx512_vnni"})),
    ("avx512_core_bf16", frozenset({"avx512_bf16"})),
    ("avx512_core_fp16", frozenset({"avx512_fp16"})),
    ("avx512_core_amx", frozenset({"amx_tile", "amx_int8", "amx_bf16"})),
)
_LEVEL_NAMES = tuple(name for name, _ in ONEDNN_LEVELS)
# Names oneDNN accepts in ONEDNN_MAX_CPU_ISA for the levels above.
_ISA_ALIASES = {"avx10_1_512": "avx512_core_fp16", "avx10_1_512_amx": "avx512_core_amx"}


class IsaLevel(str):
    """An ISA level name that orders by oneDNN's hierarchy, so predicates can say
    `onednn_isa >= 'avx512_core'`. An unknown name on either side is an error."""

    def _rank(self, other: object) -> tuple[int, int]:
        names = (str(self), str(other))
        unknown = [n for n in names if n not in _LEVEL_NAMES]
        if unknown:
            raise ValueError(f"unknown oneDNN ISA level {unknown[0]!r}; known: {_LEVEL_NAMES}")
        return _LEVEL_NAMES.index(names[0]), _LEVEL_NAMES.index(names[1])

    def __lt__(self, other: object) -> bool:
        a, b = self._rank(other)
        return a < b

    def __le__(self, other: object) -> bool:
        a, b = self._rank(other)
        return a <= b

    def __gt__(self, other: object) -> bool:
        a, b = self._rank(other)
        return a > b

    def __ge__(self, other: object) -> bool:
        a, b = self._rank(other)
        return a >= b

    __hash__ = str.__hash__


def onednn_cap() -> str | None:
    """ONEDNN_MAX_CPU_ISA (or the older DNNL_MAX_CPU_ISA) as a level name, None if unset
    or ALL. A value oneDNN would not accept is an error here, not a silent default."""
    raw = os.environ.get("ONEDNN_MAX_CPU_ISA") or os.environ.get("DNNL_MAX_CPU_ISA")
    if raw is None or raw.strip().upper() in ("", "ALL"):
        return None
    name = raw.strip().lower()
    name = _ISA_ALIASES.get(name, name)
    if name not in _LEVEL_NAMES:
        raise ValueError(
            f"ONEDNN_MAX_CPU_ISA={raw!r} is not a level convspec knows: {_LEVEL_NAMES} or ALL"
        )
    return name


@cache
def onednn_isa() -> IsaLevel:
    """The highest oneDNN level whose flags (and those of every level below) the CPU has,
    capped by ONEDNN_MAX_CPU_ISA."""
    have = flags()
    best = "sse41"  # oneDNN's floor on x86-64; also what other machines are reported as
    for name, needs in ONEDNN_LEVELS:
        if not needs <= have:
            break
        best = name
    cap = onednn_cap()
    if cap is not None and _LEVEL_NAMES.index(cap) < _LEVEL_NAMES.index(best):
        best = cap
    return IsaLevel(best)
