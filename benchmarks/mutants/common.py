"""Helpers the mutants share: the correct computation, with one knob turned.

Every mutant delegates to the reference's float64 oracles (through
`NumpyAdapter`) and changes one thing; these helpers keep that one thing
small and visible in each mutant.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import numpy as np

from reference.conv import conv_fast
from reference.params import Conv, ConvTranspose, Pairs
from reference.sizes import resolve_padding

Array = np.ndarray
SPATIAL_FROM = 2  # axes 0 and 1 are batch and channels (LAYOUT.1)


def spatial_axes(a: np.ndarray) -> tuple[int, ...]:
    return tuple(range(SPATIAL_FROM, a.ndim))


def explicit(x: np.ndarray, w: np.ndarray, p: Conv | ConvTranspose) -> Pairs:
    """The (begin, end) pairs that p's padding form means for these shapes (PAD.4-PAD.7)."""
    return resolve_padding(p, x.shape[2:], w.shape[2:])


def with_pads(p: Conv, pads: Pairs) -> Conv:
    return replace(p, padding=tuple((int(b), int(e)) for b, e in pads))


def per_channel_groups(
    x: np.ndarray,
    w: np.ndarray,
    b: np.ndarray | None,
    p: Conv,
    input_block: Callable[[int], slice],
) -> np.ndarray:
    """A grouped convolution computed one output channel at a time.

    `input_block(o)` says which input channels output channel o reads: the
    correct choice is group(o) = o // (C_out / groups); a mutant passes a wrong one.
    """
    single = replace(p, groups=1)
    columns = [
        conv_fast(x[:, input_block(o)], w[o : o + 1], None, single) for o in range(w.shape[0])
    ]
    y = np.concatenate(columns, axis=1)
    if b is not None:
        y = y + np.asarray(b, dtype=np.float64).reshape(1, -1, *([1] * p.rank))
    return y


def pad_along(x: np.ndarray, axis: int, before: np.ndarray, after: np.ndarray) -> np.ndarray:
    return np.concatenate([before, x, after], axis=axis)


def take(x: np.ndarray, axis: int, start: int, stop: int) -> np.ndarray:
    index = [slice(None)] * x.ndim
    index[axis] = slice(start, stop)
    return x[tuple(index)]


def round_significand(a: np.ndarray, bits: int) -> np.ndarray:
    """float32 values rounded to nearest-even with `bits` significand bits (TF32: 11)."""
    drop = 24 - bits
    raw = np.asarray(a, dtype=np.float32).view(np.uint32).astype(np.int64)
    half = (1 << (drop - 1)) - 1
    rounded = ((raw + half + ((raw >> drop) & 1)) >> drop) << drop
    return rounded.astype(np.uint32).view(np.float32)
