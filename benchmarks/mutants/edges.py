"""Mutants wrong only in one corner of the space: batch, odd sizes, rank 3, N = 0, size 1."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from adapters.numpy_backend import NumpyAdapter
from benchmarks.mutants.common import Array, spatial_axes
from reference.params import Conv


class BatchReusesFirst(NumpyAdapter):
    """The im2col buffer is built for the first image only: every image gets image 0's output."""

    name = "mutant.batch_reuses_first"

    def conv(self, x: Array, w: Array, b: Array | None, p: Conv) -> Array:
        y = super().conv(x, w, b, p)
        if y.shape[0] > 1:
            y[1:] = y[:1]
        return y


class OddTailDropped(NumpyAdapter):
    """A kernel vectorized by two never loads the last input column when the width is odd."""

    name = "mutant.odd_tail_dropped"

    def conv(self, x: Array, w: Array, b: Array | None, p: Conv) -> Array:
        if x.shape[-1] % 2 == 1:
            x = x.copy()
            x[..., -1] = 0
        return super().conv(x, w, b, p)


class Rank3DepthFromHeight(NumpyAdapter):
    """The 3-D path reads the depth axis's stride and dilation from the height axis's entries."""

    name = "mutant.rank3_depth_from_height"

    def conv(self, x: Array, w: Array, b: Array | None, p: Conv) -> Array:
        if p.rank == 3:
            s, d = p.stride, p.dilation
            p = replace(p, stride=(s[1], s[1], s[2]), dilation=(d[1], d[1], d[2]))
        return super().conv(x, w, b, p)


class EmptyBatchRaises(NumpyAdapter):
    """Images convolved one by one and concatenated: N = 0 raises, not an empty result (CONV.10)."""

    name = "mutant.empty_batch_raises"

    def conv(self, x: Array, w: Array, b: Array | None, p: Conv) -> Array:
        one = super().conv
        parts = [one(x[i : i + 1], w, b, p) for i in range(x.shape[0])]
        return np.concatenate(parts, axis=0)  # ValueError for an empty list


class SqueezesSize1(NumpyAdapter):
    """The result is squeezed: a spatial output axis of size 1 is dropped (CONV.9)."""

    name = "mutant.squeezes_size_1"

    def conv(self, x: Array, w: Array, b: Array | None, p: Conv) -> Array:
        y = super().conv(x, w, b, p)
        return np.squeeze(y, axis=tuple(a for a in spatial_axes(y) if y.shape[a] == 1))
