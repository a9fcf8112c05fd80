"""Kernel, stride and dilation mutants (CONV.2-CONV.5, CONV.8, DIL)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from adapters.numpy_backend import NumpyAdapter
from benchmarks.mutants.common import Array, explicit, spatial_axes, with_pads
from reference.params import Conv
from reference.sizes import effective_kernel


class KernelFlipped(NumpyAdapter):
    """Computes true convolution: the kernel is flipped on every spatial axis (CONV.8)."""

    name = "mutant.kernel_flipped"

    def conv(self, x: Array, w: Array, b: Array | None, p: Conv) -> Array:
        return super().conv(x, np.flip(w, axis=spatial_axes(w)), b, p)


class KernelTransposed(NumpyAdapter):
    """The last two kernel axes swapped (HWIO permuted as OIWH): kernel H and W exchanged."""

    name = "mutant.kernel_transposed"

    def conv(self, x: Array, w: Array, b: Array | None, p: Conv) -> Array:
        if p.rank >= 2:
            w = np.swapaxes(w, -1, -2)
        return super().conv(x, w, b, p)


class StrideAxesSwapped(NumpyAdapter):
    """Stride given in (W, H) order: each axis gets another axis's stride."""

    name = "mutant.stride_axes_swapped"

    def conv(self, x: Array, w: Array, b: Array | None, p: Conv) -> Array:
        return super().conv(x, w, b, replace(p, stride=p.stride[::-1]))


class DilationAxesSwapped(NumpyAdapter):
    """Dilation given in (W, H) order: each axis gets another axis's dilation."""

    name = "mutant.dilation_axes_swapped"

    def conv(self, x: Array, w: Array, b: Array | None, p: Conv) -> Array:
        return super().conv(x, w, b, replace(p, dilation=p.dilation[::-1]))


class DilationIgnoredWithStride(NumpyAdapter):
    """A strided fast path that forgets dilation: dilation is 1 whenever some stride > 1."""

    name = "mutant.dilation_ignored_with_stride"

    def conv(self, x: Array, w: Array, b: Array | None, p: Conv) -> Array:
        if max(p.stride) > 1:
            p = replace(p, dilation=(1,) * p.rank)
        return super().conv(x, w, b, p)


class StrideIgnoredWithDilation(NumpyAdapter):
    """An atrous fast path that forgets stride: stride is 1 whenever some dilation > 1."""

    name = "mutant.stride_ignored_with_dilation"

    def conv(self, x: Array, w: Array, b: Array | None, p: Conv) -> Array:
        if max(p.dilation) > 1:
            p = replace(p, stride=(1,) * p.rank)
        return super().conv(x, w, b, p)


class DilationOffByOne(NumpyAdapter):
    """Dilation d > 1 read as 'd holes between taps': taps d + 1 apart instead of d (DIL.1)."""

    name = "mutant.dilation_off_by_one"

    def conv(self, x: Array, w: Array, b: Array | None, p: Conv) -> Array:
        wider = tuple(d + 1 if d > 1 else d for d in p.dilation)
        return super().conv(x, w, b, replace(p, dilation=wider))


class OutputSizeCeil(NumpyAdapter):
    """Output size rounded up (pooling's ceil_mode) in zero padding: one extra partial window."""

    name = "mutant.output_size_ceil"

    def conv(self, x: Array, w: Array, b: Array | None, p: Conv) -> Array:
        if p.padding_mode != "zeros" or p.padding == "same":
            return super().conv(x, w, b, p)
        pads = []
        for n, k, s, d, (begin, end) in zip(
            x.shape[2:], w.shape[2:], p.stride, p.dilation, explicit(x, w, p), strict=True
        ):
            rest = (n + begin + end - effective_kernel(k, d)) % s
            pads.append((begin, end + (s - rest if rest else 0)))
        return super().conv(x, w, b, with_pads(p, tuple(pads)))
