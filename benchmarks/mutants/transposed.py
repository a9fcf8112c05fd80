"""Transposed convolution mutants (TCONV)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from adapters.numpy_backend import NumpyAdapter
from benchmarks.mutants.common import Array, spatial_axes
from reference.params import ConvTranspose
from reference.sizes import effective_kernel
from reference.transposed import conv_transpose_fast


def _bias(y: Array, b: Array | None) -> Array:
    if b is None:
        return y
    return y + np.asarray(b, dtype=np.float64).reshape(1, -1, *([1] * (y.ndim - 2)))


class OutputPaddingDropped(NumpyAdapter):
    """output_padding accepted and ignored: the output is that much short (TCONV.3, TCONV.5)."""

    name = "mutant.output_padding_dropped"

    def conv_transpose(self, x: Array, w: Array, b: Array | None, p: ConvTranspose) -> Array:
        return super().conv_transpose(x, w, b, replace(p, output_padding=(0,) * p.rank))


class OutputPaddingAtStart(NumpyAdapter):
    """output_padding adds its extra positions at the start of each axis, not the end (TCONV.5)."""

    name = "mutant.output_padding_at_start"

    def conv_transpose(self, x: Array, w: Array, b: Array | None, p: ConvTranspose) -> Array:
        if isinstance(p.padding, str) or not any(p.output_padding):
            return super().conv_transpose(x, w, b, p)
        y = conv_transpose_fast(x, w, None, replace(p, output_padding=(0,) * p.rank))
        widths = [(0, 0), (0, 0)] + [(op, 0) for op in p.output_padding]
        return _bias(np.pad(y, widths), b).astype(x.dtype)


class KernelNotFlipped(NumpyAdapter):
    """Transposed conv as a conv of the zero-stuffed input with the kernel left unflipped."""

    name = "mutant.transposed_kernel_not_flipped"

    def conv_transpose(self, x: Array, w: Array, b: Array | None, p: ConvTranspose) -> Array:
        return super().conv_transpose(x, np.flip(w, axis=spatial_axes(w)), b, p)


class KerasSameTorchPadding(NumpyAdapter):
    """Keras 'same' (length n*s) cropped PyTorch-style: begin (k_eff - 1)//2, not (k_eff - s)//2."""

    name = "mutant.transposed_same_torch_padding"

    def conv_transpose(self, x: Array, w: Array, b: Array | None, p: ConvTranspose) -> Array:
        if p.padding != "same":
            return super().conv_transpose(x, w, b, p)
        pads, extra = [], []
        for n, k, s, d in zip(x.shape[2:], w.shape[2:], p.stride, p.dilation, strict=True):
            k_eff = effective_kernel(k, d)
            begin = (k_eff - 1) // 2
            slack = (n - 1) * s - begin + k_eff - n * s  # end - output_padding
            pads.append((begin, max(slack, 0)))
            extra.append(max(-slack, 0))
        explicit = replace(
            p,
            padding=tuple(pads),
            output_padding=tuple(extra),
            output_padding_rule="stride_or_dilation",
        )
        return super().conv_transpose(x, w, b, explicit)


class KerasValidTorchFormula(NumpyAdapter):
    """Keras 'valid' sized (n-1)*s + k_eff (PyTorch's): s - k_eff short if k_eff < s (TCONV.4)."""

    name = "mutant.transposed_valid_torch_formula"

    def conv_transpose(self, x: Array, w: Array, b: Array | None, p: ConvTranspose) -> Array:
        if p.padding == "valid":
            p = replace(p, padding=((0, 0),) * p.rank)
        return super().conv_transpose(x, w, b, p)


class TransposedGroupsInterleaved(NumpyAdapter):
    """Transposed: input channel c put in group c % groups, not c // (C_in/groups) (TCONV.7)."""

    name = "mutant.transposed_groups_interleaved"

    def conv_transpose(self, x: Array, w: Array, b: Array | None, p: ConvTranspose) -> Array:
        g = p.groups
        order = sorted(range(x.shape[1]), key=lambda c: (c % g, c // g))
        return super().conv_transpose(x[:, order], w[order], b, p)


class TransposedBiasDropped(NumpyAdapter):
    """The transposed convolution's bias is accepted and never added (TCONV.8)."""

    name = "mutant.transposed_bias_dropped"

    def conv_transpose(self, x: Array, w: Array, b: Array | None, p: ConvTranspose) -> Array:
        return super().conv_transpose(x, w, None, p)
