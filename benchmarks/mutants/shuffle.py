"""Channel shuffle mutants (SHUF)."""

from __future__ import annotations

from adapters.numpy_backend import NumpyAdapter
from benchmarks.mutants.common import Array
from reference.params import ChannelShuffle


class ShuffleInverse(NumpyAdapter):
    """Reshape to (C/g, g) instead of (g, C/g): the inverse permutation (SHUF.2, SHUF.4)."""

    name = "mutant.shuffle_inverse"

    def channel_shuffle(self, x: Array, p: ChannelShuffle) -> Array:
        return super().channel_shuffle(x, ChannelShuffle(x.shape[1] // p.groups))


class ShuffleOnly4D(NumpyAdapter):
    """Shuffle written for NCHW only: unpacks (N, C, H, W), fails on 1-D and 3-D input (SHUF.1)."""

    name = "mutant.shuffle_only_4d"

    def channel_shuffle(self, x: Array, p: ChannelShuffle) -> Array:
        n, c, h, w = x.shape
        g = p.groups
        return x.reshape(n, g, c // g, h, w).swapaxes(1, 2).reshape(n, c, h, w)
