"""Mutants whose defect only shows at the sizes kernels dispatch on (suites/dispatch.py).

Each one is right on the small tier's few channels, samples and pixels, and wrong in a
blocked code path: a remainder block, a batch block, an output tile, a long reduction.
"""

from __future__ import annotations

import numpy as np

from adapters.numpy_backend import NumpyAdapter
from benchmarks.mutants.common import Array
from reference.params import Conv

CHANNEL_BLOCK = 16  # AVX-512 float32 lanes
INPUT_BLOCK = 8  # AVX2 float32 lanes
BATCH_BLOCK = 4
OUTPUT_TILE = 32
LONG_REDUCTION = 256


class ChannelBlockRemainder(NumpyAdapter):
    """C_out > 16 not a multiple of 16: the remainder block reads the previous block's filters."""

    name = "mutant.channel_block_remainder"

    def conv(self, x: Array, w: Array, b: Array | None, p: Conv) -> Array:
        y = super().conv(x, w, b, p)
        c_out, rest = y.shape[1], y.shape[1] % CHANNEL_BLOCK
        if c_out > CHANNEL_BLOCK and rest:
            tail = c_out - rest
            y[:, tail:] = y[:, tail - CHANNEL_BLOCK : tail - CHANNEL_BLOCK + rest]
        return y


class InputChannelTail(NumpyAdapter):
    """C_in/groups > 8 not a multiple of 8: the tail loop stops one input channel short."""

    name = "mutant.input_channel_tail"

    def conv(self, x: Array, w: Array, b: Array | None, p: Conv) -> Array:
        per_group = w.shape[1]
        if per_group > INPUT_BLOCK and per_group % INPUT_BLOCK:
            w = w.copy()
            w[:, -1] = 0
        return super().conv(x, w, b, p)


class BatchBlock(NumpyAdapter):
    """N > 4: samples in blocks of 4, each later block repeating the first block's results."""

    name = "mutant.batch_block"

    def conv(self, x: Array, w: Array, b: Array | None, p: Conv) -> Array:
        y = super().conv(x, w, b, p)
        for n in range(BATCH_BLOCK, y.shape[0]):
            y[n] = y[n % BATCH_BLOCK]
        return y


class OutputTileTail(NumpyAdapter):
    """Last output axis > 32 not a multiple of 32: the partial last tile of 32 is left zero."""

    name = "mutant.output_tile_tail"

    def conv(self, x: Array, w: Array, b: Array | None, p: Conv) -> Array:
        y = super().conv(x, w, b, p)
        width, rest = y.shape[-1], y.shape[-1] % OUTPUT_TILE
        if width > OUTPUT_TILE and rest:
            y[..., width - rest :] = 0
        return y


class LongReductionHalfAccumulator(NumpyAdapter):
    """Reductions longer than 256 terms take a float16-accumulator path: results rounded to fp16."""

    name = "mutant.long_reduction_half_accumulator"

    def conv(self, x: Array, w: Array, b: Array | None, p: Conv) -> Array:
        y = super().conv(x, w, b, p)
        if int(np.prod(w.shape[1:])) > LONG_REDUCTION and y.dtype != np.float16:
            y = y.astype(np.float16).astype(y.dtype)
        return y
