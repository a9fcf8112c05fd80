"""Mutants that accept an invalid configuration instead of raising (caught by the error suite)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from adapters.numpy_backend import NumpyAdapter
from benchmarks.mutants.common import Array, explicit, with_pads
from reference.params import ChannelShuffle, Conv, ConvTranspose
from reference.transposed import conv_transpose_fast, output_padding_limit


class GroupsTruncated(NumpyAdapter):
    """groups not dividing C_out accepted: the last C_out % groups filters dropped (CONV.6)."""

    name = "mutant.groups_truncated"

    def conv(self, x: Array, w: Array, b: Array | None, p: Conv) -> Array:
        rest = w.shape[0] % p.groups if p.groups >= 1 else 0
        if rest:
            w = w[: w.shape[0] - rest]
            b = None if b is None else b[: b.shape[0] - rest]
        return super().conv(x, w, b, p)


class ReflectPadClamped(NumpyAdapter):
    """reflect padding >= the input size accepted by clamping it to n - 1 (PAD.9)."""

    name = "mutant.reflect_pad_clamped"

    def conv(self, x: Array, w: Array, b: Array | None, p: Conv) -> Array:
        if p.padding_mode == "reflect":
            pairs = zip(explicit(x, w, p), x.shape[2:], strict=True)
            p = with_pads(p, tuple((min(b0, n - 1), min(e0, n - 1)) for (b0, e0), n in pairs))
        return super().conv(x, w, b, p)


class StrideZeroAsOne(NumpyAdapter):
    """stride 0 read as 1 (a `stride or 1` default) instead of rejected (CONV.4)."""

    name = "mutant.stride_zero_as_one"

    def conv(self, x: Array, w: Array, b: Array | None, p: Conv) -> Array:
        return super().conv(x, w, b, replace(p, stride=tuple(s or 1 for s in p.stride)))


class WeightChannelsSliced(NumpyAdapter):
    """A weight with too many channels per group is sliced to C_in/groups, not rejected (CONV.6)."""

    name = "mutant.weight_channels_sliced"

    def conv(self, x: Array, w: Array, b: Array | None, p: Conv) -> Array:
        if p.groups >= 1 and x.ndim == w.ndim and x.shape[1] % p.groups == 0:
            w = w[:, : x.shape[1] // p.groups]
        return super().conv(x, w, b, p)


class OutputPaddingUnchecked(NumpyAdapter):
    """output_padding >= stride accepted: appended as trailing zeros, never validated (TCONV.5)."""

    name = "mutant.output_padding_unchecked"

    def conv_transpose(self, x: Array, w: Array, b: Array | None, p: ConvTranspose) -> Array:
        axes = zip(p.output_padding, p.stride, p.dilation, strict=True)
        valid = all(op < output_padding_limit(s, d, p.output_padding_rule) for op, s, d in axes)
        if isinstance(p.padding, str) or valid:
            return super().conv_transpose(x, w, b, p)
        y = conv_transpose_fast(x, w, None, replace(p, output_padding=(0,) * p.rank))
        y = np.pad(y, [(0, 0), (0, 0)] + [(0, op) for op in p.output_padding])
        if b is not None:
            y = y + np.asarray(b, dtype=np.float64).reshape(1, -1, *([1] * p.rank))
        return y.astype(x.dtype)


class ShuffleGroupsUnchecked(NumpyAdapter):
    """groups not dividing C accepted: g*(C//g) channels shuffled, the rest kept (SHUF.1)."""

    name = "mutant.shuffle_groups_unchecked"

    def channel_shuffle(self, x: Array, p: ChannelShuffle) -> Array:
        g = p.groups
        if not isinstance(g, int) or g < 1 or x.ndim < 2 or x.shape[1] % g == 0:
            return super().channel_shuffle(x, p)
        whole = x.shape[1] - x.shape[1] % g
        head = super().channel_shuffle(x[:, :whole], p) if whole else x[:, :0]
        return np.concatenate([head, x[:, whole:]], axis=1)


class ZeroChannelsDropOutput(NumpyAdapter):
    """C_in = 0 gives an output of 0 channels, ignoring the weight and the bias (ERR.15)."""

    name = "mutant.zero_channels_drop_output"

    def conv(self, x: Array, w: Array, b: Array | None, p: Conv) -> Array:
        y = super().conv(x, w, b, p)
        return y[:, :0] if x.shape[1] == 0 else y


class EmptyOutputInputShape(NumpyAdapter):
    """An output with no elements comes back in the input's shape (ERR.13, ERR.15)."""

    name = "mutant.empty_output_input_shape"

    def conv(self, x: Array, w: Array, b: Array | None, p: Conv) -> Array:
        y = super().conv(x, w, b, p)
        return np.zeros_like(x) if y.size == 0 else y
