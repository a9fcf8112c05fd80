"""Grouped and depthwise convolution mutants (CONV.6, GRP)."""

from __future__ import annotations

from adapters.numpy_backend import NumpyAdapter
from benchmarks.mutants.common import Array, per_channel_groups
from reference.conv import validate
from reference.params import Conv


class GroupsInterleaved(NumpyAdapter):
    """Output channel o put in group o % groups (interleaved), not o // (C_out/groups) (CONV.6)."""

    name = "mutant.groups_interleaved"

    def conv(self, x: Array, w: Array, b: Array | None, p: Conv) -> Array:
        if p.groups == 1:
            return super().conv(x, w, b, p)
        validate(x, w, b, p)
        c_in_g = x.shape[1] // p.groups

        def block(o: int) -> slice:
            g = o % p.groups
            return slice(g * c_in_g, (g + 1) * c_in_g)

        return per_channel_groups(x, w, b, p, block).astype(x.dtype)


class GroupInputSliceStride(NumpyAdapter):
    """Group g reads input channels from g * (C_out/groups) on: the output width as input stride."""

    name = "mutant.group_input_slice_stride"

    def conv(self, x: Array, w: Array, b: Array | None, p: Conv) -> Array:
        if p.groups == 1:
            return super().conv(x, w, b, p)
        validate(x, w, b, p)
        c_in_g, c_out_g = x.shape[1] // p.groups, w.shape[0] // p.groups

        def block(o: int) -> slice:
            start = (o // c_out_g) * c_out_g
            return slice(start, start + c_in_g)

        return per_channel_groups(x, w, b, p, block).astype(x.dtype)


class DepthwiseMultiplierOrder(NumpyAdapter):
    """Depthwise with multiplier m: output o = j*C_in + c instead of c*m + j (GRP.2, GRP.6)."""

    name = "mutant.depthwise_multiplier_order"

    def conv(self, x: Array, w: Array, b: Array | None, p: Conv) -> Array:
        c_in = x.shape[1]
        if p.groups != c_in or c_in == 1 or w.shape[0] == c_in:
            return super().conv(x, w, b, p)
        validate(x, w, b, p)
        y = per_channel_groups(x, w, b, p, lambda o: slice(o % c_in, o % c_in + 1))
        return y.astype(x.dtype)
