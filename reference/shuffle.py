"""Channel shuffle and shuffled grouped convolution (spec chapter SHUF).

`channel_shuffle` is the definition of SHUF.2, a loop over output channels:

    out[:, k*g + i] = in[:, i*(C/g) + k]    for i < g, k < C/g

`shuffled_grouped_conv` composes reference.conv.conv and channel_shuffle (SHUF.5).
"""

from __future__ import annotations

import numpy as np

from reference import conv as conv_ref
from reference.checks import require
from reference.params import ChannelShuffle, Conv


def validate(x: np.ndarray, p: ChannelShuffle) -> None:
    """Raise SpecError for an invalid configuration (SHUF.1)."""
    require(
        x.ndim >= 2,
        "SHUF.1",
        f"input must have shape (N, C, *spatial) with any number of spatial axes, got {x.shape}",
    )
    require(
        isinstance(p.groups, int | np.integer) and not isinstance(p.groups, bool) and p.groups >= 1,
        "SHUF.1",
        f"groups must be an integer >= 1, got {p.groups!r}",
    )
    require(
        x.shape[1] % p.groups == 0,
        "SHUF.1",
        f"groups={p.groups} does not divide the channel count C={x.shape[1]}",
    )


def source_channel(j: int, channels: int, groups: int) -> int:
    """SHUF.2: the input channel that output channel j reads.

    j = k*g + i reads i*(C/g) + k: the channels form a g x (C/g) matrix,
    row-major, and the output reads it column by column.
    """
    k, i = divmod(j, groups)
    return i * (channels // groups) + k


def channel_shuffle(x: np.ndarray, p: ChannelShuffle) -> np.ndarray:
    """SHUF.2 as a loop over output channels. The definition; exact in any dtype."""
    validate(x, p)
    channels = x.shape[1]
    out = np.empty_like(x)
    for j in range(channels):
        out[:, j] = x[:, source_channel(j, channels, p.groups)]
    return out


def channel_shuffle_reshape(x: np.ndarray, p: ChannelShuffle) -> np.ndarray:
    """SHUF.3: the same permutation as reshape (N, g, C/g, ...) -> swap axes 1, 2 -> flatten."""
    validate(x, p)
    n, c = x.shape[0], x.shape[1]
    spatial = x.shape[2:]
    g = p.groups
    return x.reshape(n, g, c // g, *spatial).swapaxes(1, 2).reshape(n, c, *spatial)


def inverse(channels: int, p: ChannelShuffle) -> ChannelShuffle:
    """SHUF.4: the shuffle that undoes p on `channels` channels is the one with C/g groups."""
    require(
        p.groups >= 1 and channels % p.groups == 0,
        "SHUF.1",
        f"groups={p.groups} does not divide the channel count C={channels}",
    )
    return ChannelShuffle(channels // p.groups)


def shuffled_grouped_conv(
    x: np.ndarray,
    w1: np.ndarray,
    b1: np.ndarray | None,
    p1: Conv,
    shuffle_groups: int,
    w2: np.ndarray,
    b2: np.ndarray | None,
    p2: Conv,
) -> np.ndarray:
    """SHUF.5: grouped conv (p1) -> channel shuffle (shuffle_groups) -> grouped conv (p2).

    shuffle_groups = 1 is the plain stack of two grouped convolutions.
    """
    mid = conv_ref.conv(x, w1, b1, p1)
    mid = channel_shuffle(mid, ChannelShuffle(shuffle_groups))
    return conv_ref.conv(mid, w2, b2, p2)


def group_dependence(
    mid_channels: int, groups1: int, shuffle_groups: int, groups2: int
) -> list[frozenset[int]]:
    """SHUF.6: for each group of the second conv, the groups of the first conv it reads.

    The groups of the first conv are the groups of input channels, so this is
    also which input channel groups each output group depends on.
    """
    named = ((groups1, "first conv"), (shuffle_groups, "shuffle"), (groups2, "second conv"))
    for groups, what in named:
        require(
            groups >= 1 and mid_channels % groups == 0,
            "SHUF.6",
            f"the {what}'s groups={groups} must divide the intermediate channel count "
            f"{mid_channels}",
        )
    per1, per2 = mid_channels // groups1, mid_channels // groups2
    reads: list[frozenset[int]] = []
    for i in range(groups2):
        window = range(i * per2, (i + 1) * per2)  # the shuffled channels group i reads
        sources = (source_channel(j, mid_channels, shuffle_groups) for j in window)
        reads.append(frozenset(m // per1 for m in sources))
    return reads
