"""Padding mutants: the explicit pairs, 'same', negative padding and the padding modes (PAD)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import numpy as np

from adapters.numpy_backend import NumpyAdapter
from benchmarks.mutants.common import Array, explicit, pad_along, take, with_pads
from reference.conv import conv_fast
from reference.params import Conv, Pairs
from reference.sizes import effective_kernel


def _map_explicit(p: Conv, change: Callable[[int, int], tuple[int, int]]) -> Conv:
    """p with every explicit (begin, end) pair changed; 'valid'/'same' untouched."""
    if isinstance(p.padding, str):
        return p
    return with_pads(p, tuple(change(b, e) for b, e in p.padding))


class PadBeginOffByOne(NumpyAdapter):
    """Explicit (begin, end) applied as (begin - 1, end + 1) if begin > 0: windows start early."""

    name = "mutant.pad_begin_off_by_one"

    def conv(self, x: Array, w: Array, b: Array | None, p: Conv) -> Array:
        shifted = _map_explicit(p, lambda b0, e0: (b0 - 1, e0 + 1) if b0 > 0 else (b0, e0))
        return super().conv(x, w, b, shifted)


class PadBeginEndSwapped(NumpyAdapter):
    """Explicit (begin, end) pairs read as (end, begin), as when mixing ONNX and TF pad orders."""

    name = "mutant.pad_begin_end_swapped"

    def conv(self, x: Array, w: Array, b: Array | None, p: Conv) -> Array:
        return super().conv(x, w, b, _map_explicit(p, lambda b0, e0: (e0, b0)))


class AsymmetricAsSymmetric(NumpyAdapter):
    """Explicit padding (begin, end) applied as (begin, begin): the end pad is never read."""

    name = "mutant.asymmetric_as_symmetric"

    def conv(self, x: Array, w: Array, b: Array | None, p: Conv) -> Array:
        return super().conv(x, w, b, _map_explicit(p, lambda b0, e0: (b0, b0)))


class SameSplitSwapped(NumpyAdapter):
    """'same' puts the odd padding pixel on the other side (same_split 'end' <-> 'begin')."""

    name = "mutant.same_split_swapped"

    def conv(self, x: Array, w: Array, b: Array | None, p: Conv) -> Array:
        if p.padding == "same":
            p = replace(p, same_split="begin" if p.same_split == "end" else "end")
        return super().conv(x, w, b, p)


class SameSplitIgnored(NumpyAdapter):
    """same_split ignored: 'same_begin' (ONNX SAME_LOWER) padded like 'same' (odd pixel at end)."""

    name = "mutant.same_split_ignored"

    def conv(self, x: Array, w: Array, b: Array | None, p: Conv) -> Array:
        return super().conv(x, w, b, replace(p, same_split="end"))


def _same_pads(p: Conv, x: Array, w: Array, total: Callable[[int, int, int, int], int]) -> Conv:
    pads = []
    for n, k, s, d in zip(x.shape[2:], w.shape[2:], p.stride, p.dilation, strict=True):
        t = total(n, k, s, d)
        small, large = t // 2, t - t // 2
        pads.append((small, large) if p.same_split == "end" else (large, small))
    return with_pads(p, tuple(pads))


class SameIgnoresDilation(NumpyAdapter):
    """'same' total padding computed from k instead of the dilated extent d*(k-1)+1 (PAD.6)."""

    name = "mutant.same_ignores_dilation"

    def conv(self, x: Array, w: Array, b: Array | None, p: Conv) -> Array:
        if p.padding == "same":
            p = _same_pads(p, x, w, lambda n, k, s, d: max((-(-n // s) - 1) * s + k - n, 0))
        return super().conv(x, w, b, p)


class SameStrideOneFormula(NumpyAdapter):
    """'same' with stride > 1 padded by k_eff - 1 in total (the stride-1 formula), not PAD.7's."""

    name = "mutant.same_stride_one_formula"

    def conv(self, x: Array, w: Array, b: Array | None, p: Conv) -> Array:
        if p.padding == "same":
            p = _same_pads(p, x, w, lambda n, k, s, d: effective_kernel(k, d) - 1)
        return super().conv(x, w, b, p)


class NegativePaddingClamped(NumpyAdapter):
    """Negative explicit padding clamped to 0 instead of cropping the input (PAD.3)."""

    name = "mutant.negative_padding_clamped"

    def conv(self, x: Array, w: Array, b: Array | None, p: Conv) -> Array:
        return super().conv(x, w, b, _map_explicit(p, lambda b0, e0: (max(b0, 0), max(e0, 0))))


class ModeIgnoredForSame(NumpyAdapter):
    """The padding mode is lost when 'same' is resolved to pairs: every mode then pads zeros."""

    name = "mutant.mode_ignored_for_same"

    def conv(self, x: Array, w: Array, b: Array | None, p: Conv) -> Array:
        if p.padding == "same":
            p = replace(p, padding_mode="zeros")
        return super().conv(x, w, b, p)


PadFn = Callable[[np.ndarray, int, int, int], np.ndarray]


def _conv_prepadded(x: Array, w: Array, b: Array | None, p: Conv, pad: PadFn) -> Array:
    """Pad every spatial axis with `pad(x, axis, begin, end)`, then convolve without padding."""
    pads: Pairs = explicit(x, w, p)
    xp = np.asarray(x, dtype=np.float64)
    for a, (begin, end) in enumerate(pads):
        xp = pad(xp, 2 + a, begin, end)
    unpadded = replace(p, padding=((0, 0),) * p.rank, padding_mode="zeros")
    return conv_fast(xp, w, b, unpadded).astype(x.dtype)


def _numpy_pad(mode: str) -> PadFn:
    def pad(x: np.ndarray, axis: int, begin: int, end: int) -> np.ndarray:
        widths = [(0, 0)] * x.ndim
        widths[axis] = (begin, end)
        return np.pad(x, widths, mode=mode)  # type: ignore[call-overload]

    return pad


def _circular_wrong_way(x: np.ndarray, axis: int, begin: int, end: int) -> np.ndarray:
    # The begin pad copies the first `begin` samples and the end pad the last `end`:
    # each side is filled from its own edge instead of wrapping around (PAD.11).
    n = x.shape[axis]
    return pad_along(x, axis, take(x, axis, 0, begin), take(x, axis, n - end, n))


class ReflectRepeatsEdge(NumpyAdapter):
    """reflect padding repeats the edge sample (NumPy 'symmetric'), PAD.9 excludes it."""

    name = "mutant.reflect_repeats_edge"

    def conv(self, x: Array, w: Array, b: Array | None, p: Conv) -> Array:
        if p.padding_mode == "reflect":
            return _conv_prepadded(x, w, b, p, _numpy_pad("symmetric"))
        return super().conv(x, w, b, p)


class CircularWrongWay(NumpyAdapter):
    """circular padding fills each side from its own edge instead of wrapping around (PAD.11)."""

    name = "mutant.circular_wrong_way"

    def conv(self, x: Array, w: Array, b: Array | None, p: Conv) -> Array:
        if p.padding_mode == "circular":
            return _conv_prepadded(x, w, b, p, _circular_wrong_way)
        return super().conv(x, w, b, p)


class ReplicateAsZeros(NumpyAdapter):
    """replicate padding implemented as zero padding (PAD.10)."""

    name = "mutant.replicate_as_zeros"

    def conv(self, x: Array, w: Array, b: Array | None, p: Conv) -> Array:
        if p.padding_mode == "replicate":
            p = replace(p, padding_mode="zeros")
        return super().conv(x, w, b, p)
