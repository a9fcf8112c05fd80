"""The dispatch tier: the sizes framework kernels choose their algorithm by.

The small tier (suites/strategies.py) covers every padding, stride and dilation
interaction with a few channels and pixels. Kernels pick their code path by what it
leaves out: channel blocks of the SIMD width (8 float32 lanes in AVX2, 16 in AVX-512,
32 bfloat16) and their remainders, small-channel special cases, 1x1 and 3x3 (Winograd)
fast paths, batch blocking, output tiles over wide planes, long reductions, and strides
that leave a single output row or column. This tier draws those, each example bounded by
a work budget in multiply-accumulates rather than by a cap per dimension, so that a
64-channel 1x1 convolution gets a wide plane and a 128-channel 7x7 one a small one.
"""

from __future__ import annotations

import math

from hypothesis import strategies as st

SIZE_CLASSES = ("small", "dispatch")
# Under the hunt profile (suites/hunt.py) the dispatch tier is drawn this many times as
# often as the small tier: the kernels' blocked paths are where fuzzing still finds bugs,
# and the small tier's interactions are covered by every ci run.
HUNT_DISPATCH_WEIGHT = 3
_weighted: list[bool] = []

# Multiply-accumulates per example: the float64 oracle and its error bound take a few
# milliseconds at this size, and every framework kernel path is reachable below it.
MAC_BUDGET = 1 << 21

# Channels per group around the SIMD and oneDNN block sizes (8, 16, 32, 64) and their
# remainders, plus the small counts that have special cases (1-4).
CHANNELS_PER_GROUP = (1, 2, 3, 4, 7, 8, 9, 15, 16, 17, 24, 31, 32, 33, 48, 63, 64, 65, 96, 128)
GROUPS = (1, 2, 3, 4, 8, 16, 32, 64)
# Depthwise: groups = C_in, so the channel count is the group count.
DEPTHWISE_CHANNELS = (1, 3, 4, 8, 15, 16, 17, 24, 32, 33, 48, 64, 96, 128)
DEPTH_MULTIPLIERS = (1, 2, 3, 4)
# Kernel lengths with fast paths (1, 3), the usual stems (5, 7, 11) and even ones.
KERNELS = {1: (1, 2, 3, 4, 5, 7, 9, 11), 2: (1, 2, 3, 4, 5, 7), 3: (1, 2, 3, 5)}
BATCHES = (1, 2, 3, 4, 5, 7, 8, 16)
STRIDES = (1, 2, 3, 4)
# Longest spatial axis per rank: an audio frame, an ImageNet plane, a video clip.
MAX_LENGTH = {1: 4096, 2: 224, 3: 32}


def weight_toward_dispatch(on: bool) -> None:
    """Switch the hunt's weighting of the tiers on or off (the runner does, per profile)."""
    _weighted.clear()
    if on:
        _weighted.append(True)


def tier_options(size_classes: tuple[str, ...]) -> tuple[str, ...]:
    """The tiers to sample from, the dispatch tier repeated under the hunt. The small tier
    stays first: Hypothesis shrinks a sampled value toward the first option."""
    if not _weighted or "dispatch" not in size_classes:
        return size_classes
    others = tuple(c for c in size_classes if c != "dispatch")
    return (*others, *("dispatch",) * HUNT_DISPATCH_WEIGHT)


def tiers(size_classes: tuple[str, ...] = SIZE_CLASSES) -> st.SearchStrategy[str]:
    return st.sampled_from(tier_options(size_classes))


def within(options: tuple[int, ...], limit: int) -> list[int]:
    """The options at most `limit`; the smallest one where none is (the budget yields)."""
    fitting = [v for v in options if v <= limit]
    return fitting or [min(options)]


@st.composite
def channels(
    draw: st.DrawFn,
    least_work: int,
    *,
    groups_allowed: bool,
    depthwise: bool = False,
    grouped: bool = False,
) -> tuple[int, int, int]:
    """(groups, C_in, C_out) whose work fits the budget, `least_work` being the work of one
    input-output channel pair at the fewest positions the rest of the setup allows."""
    budget = max(1, MAC_BUDGET // least_work)
    if depthwise:
        options = DEPTHWISE_CHANNELS if groups_allowed else (1,)
        c = draw(st.sampled_from(within(options, budget)), label="depthwise_channels")
        m = draw(st.sampled_from(within(DEPTH_MULTIPLIERS, budget // c)), label="depth_multiplier")
        return c, c, c * m
    group_options = (
        tuple(g for g in GROUPS if g >= (2 if grouped else 1)) if groups_allowed else (1,)
    )
    groups = draw(st.sampled_from(within(group_options, budget)), label="groups")
    c_in = draw(
        st.sampled_from(within(CHANNELS_PER_GROUP, budget // groups)), label="in_channels_per_group"
    )
    c_out = draw(
        st.sampled_from(within(CHANNELS_PER_GROUP, budget // (groups * c_in))),
        label="out_channels_per_group",
    )
    return groups, groups * c_in, groups * c_out


@st.composite
def batch(draw: st.DrawFn, per_position: int, least: int = 1) -> int:
    options = tuple(b for b in BATCHES if b >= least)
    return draw(st.sampled_from(within(options, MAC_BUDGET // max(per_position, 1))), label="batch")


def positions(batch: int, per_position: int) -> int:
    """Output (or, transposed, input) positions the budget leaves for this batch."""
    return max(1, MAC_BUDGET // max(batch * per_position, 1))


@st.composite
def lengths(draw: st.DrawFn, rank: int, lows: list[int], positions: int, name: str) -> list[int]:
    """A length per axis, each at least its low, whose product stays within `positions`
    where the lows allow: every axis keeps room for the lows of the axes after it."""
    chosen: list[int] = []
    left = positions
    for axis, low in enumerate(lows):
        rest = math.prod(lows[axis + 1 :])
        cap = max(low, min(MAX_LENGTH[rank], left // max(rest, 1)))
        n = draw(st.integers(low, cap), label=f"{name}[{axis}]")
        chosen.append(n)
        left = max(1, left // n)
    return chosen


def conv_output_length(
    n: int, k_eff: int, stride: int, form: str, pads: tuple[int, int] | None
) -> int:
    """CONV.3's output length (PAD.7's ceil(n / s) for 'same')."""
    if form == "same":
        return -(-n // stride)
    begin, end = pads if pads is not None else (0, 0)
    return (n + begin + end - k_eff) // stride + 1


def conv_input_length(
    out: int, k_eff: int, stride: int, form: str, pads: tuple[int, int] | None, remainder: int
) -> int:
    """The input length whose output length is `out`, plus `remainder` (< stride) positions
    that no further window reaches."""
    if form == "same":
        return (out - 1) * stride + 1 + remainder
    begin, end = pads if pads is not None else (0, 0)
    return max(1, (out - 1) * stride + k_eff - begin - end + remainder)
