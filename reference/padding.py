"""Padding modes (spec chapter PAD): where a padded position reads the input from."""

from __future__ import annotations

from reference.checks import require
from reference.params import PaddingMode, Pairs


def source_index(i: int, n: int, mode: PaddingMode) -> int | None:
    """PAD.8-PAD.11: the input index that padded position i reads, or None for a zero.

    i is relative to the unpadded input, so -1 is the first padded position
    before it and n the first one after it.
    """
    if 0 <= i < n:
        return i
    if mode == "zeros":
        return None
    if mode == "reflect":  # PAD.9: mirror about the edge sample, which is not repeated
        return -i if i < 0 else 2 * (n - 1) - i
    if mode == "replicate":  # PAD.10: the edge sample repeats
        return 0 if i < 0 else n - 1
    return i % n  # PAD.11 circular: the input wraps around


def check_mode_limits(pads: Pairs, in_size: tuple[int, ...], mode: PaddingMode) -> None:
    """PAD.3 and PAD.9-PAD.11: the sizes for which each mode is defined."""
    for axis, ((begin, end), n) in enumerate(zip(pads, in_size, strict=True)):
        if mode != "zeros":
            require(
                begin >= 0 and end >= 0,
                "PAD.3",
                f"padding mode {mode!r} needs non-negative padding, got {(begin, end)} "
                f"on spatial axis {axis}",
            )
        if mode == "reflect":
            require(
                max(begin, end) < n,
                "PAD.9",
                f"reflect padding must be smaller than the input: pads {(begin, end)} "
                f"on spatial axis {axis} of size {n}",
            )
        if mode == "replicate":
            require(n >= 1, "PAD.10", f"replicate padding needs a non-empty axis {axis}")
        if mode == "circular":
            require(
                max(begin, end) <= n,
                "PAD.11",
                f"circular padding must not exceed the input: pads {(begin, end)} "
                f"on spatial axis {axis} of size {n}",
            )


NUMPY_PAD_MODE = {
    "zeros": "constant",
    "reflect": "reflect",
    "replicate": "edge",
    "circular": "wrap",
}
