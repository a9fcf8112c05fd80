"""Composite variants built from a backend's own operations (SEP, SHUF.5).

Each composite has a reference function (the definition in reference/) and
a backend pipeline that chains the backend's primitive operations exactly as
a network would. Both take the same operands; its record in suites/operations.py
names the operations it needs and its weights, one per stage.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from adapters.base import CONV, Adapter, OpSupport
from reference import separable, shuffle
from reference.conv import validate as conv_validate
from reference.params import ChannelShuffle, Conv
from reference.separable import axis_step, flattened_kernel, spatially_separable_kernel

Arrays = Mapping[str, np.ndarray | None]

# A composite's unpadded steps (the 1x1 ones) need one of these forms from the backend.
UNPADDED_FORMS = frozenset({"valid", "symmetric"})


def pointwise(rank: int, groups: int = 1, support: OpSupport | None = None) -> Conv:
    """The 1x1 step, unpadded in a form `support` declares: 'valid', else (0, 0) pairs.
    A test that runs it requires one of UNPADDED_FORMS."""
    padding: str | tuple[tuple[int, int], ...] = "valid"
    if support is not None and "valid" not in support.padding:
        padding = ((0, 0),) * rank
    return Conv(
        stride=(1,) * rank,
        dilation=(1,) * rank,
        padding=padding,  # type: ignore[arg-type]
        groups=groups,
    )


def reference(op: str, a: Arrays, p: Conv) -> np.ndarray:
    """The composite's value by its definition, in float64, on whatever operands it gets."""
    if op == "depthwise_separable":
        return separable.depthwise_separable(
            a["x"], a["w_depth"], a["w_point"], None, a.get("b"), p
        )  # type: ignore[arg-type]
    if op == "spatially_separable":
        return separable.spatially_separable(a["x"], a["w_col"], a["w_row"], a.get("b"), p)  # type: ignore[arg-type]
    if op == "flattened":
        return separable.flattened(
            a["x"], a["w_lateral"], a["w_vertical"], a["w_horizontal"], a.get("b"), p
        )  # type: ignore[arg-type]
    if op == "shuffled_grouped":
        x, w1, w2 = a["x"], a["w1"], a["w2"]
        assert x is not None and w1 is not None and w2 is not None
        return shuffle.shuffled_grouped_conv(
            x, w1, None, p, p.groups, w2, a.get("b"), pointwise(p.rank, p.groups)
        )
    raise KeyError(op)


def lengths(weights: tuple[str, ...], shapes: Mapping[str, tuple[int, ...] | None]) -> list[int]:
    """NUM.2 accumulation length of each stage, one weight operand per stage, in order (bias
    counted in the last one)."""
    bias = 1 if shapes.get("b") is not None else 0
    stages = [int(np.prod(shapes[name][1:])) for name in weights]  # type: ignore[index]
    stages[-1] += bias
    return stages


def run(adapter: Adapter, op: str, a: Arrays, p: Conv) -> np.ndarray:
    """The composite through the backend's own operations, intermediate results in its dtype."""
    x = a["x"]
    assert x is not None
    support = adapter.support(CONV)
    if op == "depthwise_separable":
        hidden = adapter.conv(x, a["w_depth"], None, p)  # type: ignore[arg-type]
        return adapter.conv(hidden, a["w_point"], a.get("b"), pointwise(p.rank, 1, support))  # type: ignore[arg-type]
    if op == "spatially_separable":
        full = spatially_separable_kernel(a["w_col"], a["w_row"])  # type: ignore[arg-type]
        pads = conv_validate(x, full, a.get("b"), p)
        c_out = full.shape[0]
        hidden = adapter.conv(x, a["w_col"], None, axis_step(p, pads, 0, groups=p.groups))  # type: ignore[arg-type]
        return adapter.conv(hidden, a["w_row"], a.get("b"), axis_step(p, pads, 1, groups=c_out))  # type: ignore[arg-type]
    if op == "flattened":
        full = flattened_kernel(a["w_lateral"], a["w_vertical"], a["w_horizontal"])  # type: ignore[arg-type]
        pads = conv_validate(x, full, a.get("b"), p)
        c_out = full.shape[0]
        lateral = adapter.conv(x, a["w_lateral"], None, pointwise(2, 1, support))  # type: ignore[arg-type]
        vertical = adapter.conv(lateral, a["w_vertical"], None, axis_step(p, pads, 0, groups=c_out))  # type: ignore[arg-type]
        return adapter.conv(
            vertical, a["w_horizontal"], a.get("b"), axis_step(p, pads, 1, groups=c_out)
        )  # type: ignore[arg-type]
    if op == "shuffled_grouped":
        hidden = adapter.conv(x, a["w1"], None, p)  # type: ignore[arg-type]
        hidden = adapter.channel_shuffle(hidden, ChannelShuffle(p.groups))
        step = pointwise(p.rank, p.groups, support)
        return adapter.conv(hidden, a["w2"], a.get("b"), step)  # type: ignore[arg-type]
    raise KeyError(op)
