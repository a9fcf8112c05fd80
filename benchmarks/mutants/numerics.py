"""Numerical mutants: reduced precision, a NaN, a wrong result dtype (NUM, LAYOUT.3)."""

from __future__ import annotations

import numpy as np

from adapters.numpy_backend import NumpyAdapter
from benchmarks.mutants.common import Array, round_significand
from reference.conv import conv_fast
from reference.params import Conv


def _cast(a: Array | None, dtype: type) -> Array | None:
    return None if a is None else np.asarray(a).astype(dtype)


class Float32AsFloat16(NumpyAdapter):
    """float32 convolution run in float16 (an autocast left on): operands and result rounded."""

    name = "mutant.float32_as_float16"

    def conv(self, x: Array, w: Array, b: Array | None, p: Conv) -> Array:
        if x.dtype != np.float32:
            return super().conv(x, w, b, p)
        y = conv_fast(_cast(x, np.float16), _cast(w, np.float16), _cast(b, np.float16), p)  # type: ignore[arg-type]
        return y.astype(np.float16).astype(np.float32)


class Float64AsFloat32(NumpyAdapter):
    """float64 convolution computed in float32: operands and result rounded to float32."""

    name = "mutant.float64_as_float32"

    def conv(self, x: Array, w: Array, b: Array | None, p: Conv) -> Array:
        if x.dtype != np.float64:
            return super().conv(x, w, b, p)
        y = conv_fast(_cast(x, np.float32), _cast(w, np.float32), _cast(b, np.float32), p)  # type: ignore[arg-type]
        return y.astype(np.float32).astype(np.float64)


class Tf32(NumpyAdapter):
    """float32 multiplies in TF32 (11 significand bits), as GPU defaults may allow (NUM.9)."""

    name = "mutant.tf32"

    def conv(self, x: Array, w: Array, b: Array | None, p: Conv) -> Array:
        if x.dtype != np.float32:
            return super().conv(x, w, b, p)
        return conv_fast(round_significand(x, 11), round_significand(w, 11), b, p).astype(x.dtype)


class NanOnZeroInput(NumpyAdapter):
    """Input scaled by 1/max|x| for range (fp16-style dynamic scaling): an all-zero x gives NaN."""

    name = "mutant.nan_on_zero_input"

    def conv(self, x: Array, w: Array, b: Array | None, p: Conv) -> Array:
        x64 = np.asarray(x, dtype=np.float64)
        scale = np.abs(x64).max(initial=0.0)
        with np.errstate(invalid="ignore", divide="ignore"):
            y = conv_fast(x64 / scale, w, None, p) * scale
        if b is not None:
            y = y + np.asarray(b, dtype=np.float64).reshape(1, -1, *([1] * p.rank))
        return y.astype(x.dtype)


class WrongDtype(NumpyAdapter):
    """The float64 accumulator returned without the cast back: float64 for any input (LAYOUT.3)."""

    name = "mutant.wrong_dtype"

    def conv(self, x: Array, w: Array, b: Array | None, p: Conv) -> Array:
        return conv_fast(x, w, b, p)
