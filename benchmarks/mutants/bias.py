"""Bias mutants (CONV.7, TCONV.8)."""

from __future__ import annotations

import numpy as np

from adapters.numpy_backend import NumpyAdapter
from benchmarks.mutants.common import Array
from reference.conv import conv_fast
from reference.params import Conv


class BiasTwice(NumpyAdapter):
    """The bias is added twice: once by the GEMM epilogue and again by the caller (CONV.7)."""

    name = "mutant.bias_twice"

    def conv(self, x: Array, w: Array, b: Array | None, p: Conv) -> Array:
        y = conv_fast(x, w, b, p)
        if b is not None:
            y = y + np.asarray(b, dtype=np.float64).reshape(1, -1, *([1] * p.rank))
        return y.astype(x.dtype)


class BiasRolled(NumpyAdapter):
    """Output channel o gets the bias of channel o - 1: an off-by-one in the bias index (CONV.7)."""

    name = "mutant.bias_rolled"

    def conv(self, x: Array, w: Array, b: Array | None, p: Conv) -> Array:
        return super().conv(x, w, None if b is None else np.roll(b, 1), p)


class BiasDropped(NumpyAdapter):
    """The bias argument is accepted and never added (CONV.7)."""

    name = "mutant.bias_dropped"

    def conv(self, x: Array, w: Array, b: Array | None, p: Conv) -> Array:
        return super().conv(x, w, None, p)
