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


def _operand(a: Arrays, name: str) -> np.ndarray:
    """A required operand (the record lists the optional ones, which are read with get)."""
    value = a[name]
    assert value is not None, f"operand {name} is required"
    return value


def reference(op: str, a: Arrays, p: Conv) -> np.ndarray:
    """The composite's value by its definition, in float64, on whatever operands it gets."""
    x, b = _operand(a, "x"), a.get("b")
    if op == "depthwise_separable":
        wd, wp = _operand(a, "w_depth"), _operand(a, "w_point")
        return separable.depthwise_separable(x, wd, wp, None, b, p)
    if op == "spatially_separable":
        return separable.spatially_separable(x, _operand(a, "w_col"), _operand(a, "w_row"), b, p)
    if op == "flattened":
        lateral, vertical = _operand(a, "w_lateral"), _operand(a, "w_vertical")
        return separable.flattened(x, lateral, vertical, _operand(a, "w_horizontal"), b, p)
    if op == "shuffled_grouped":
        w1, w2 = _operand(a, "w1"), _operand(a, "w2")
        return shuffle.shuffled_grouped_conv(
            x, w1, None, p, p.groups, w2, b, pointwise(p.rank, p.groups)
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
    x, b = _operand(a, "x"), a.get("b")
    support = adapter.support(CONV)
    if op == "depthwise_separable":
        hidden = adapter.conv(x, _operand(a, "w_depth"), None, p)
        return adapter.conv(hidden, _operand(a, "w_point"), b, pointwise(p.rank, 1, support))
    if op == "spatially_separable":
        w_col, w_row = _operand(a, "w_col"), _operand(a, "w_row")
        full = spatially_separable_kernel(w_col, w_row)
        pads = conv_validate(x, full, b, p)
        c_out = full.shape[0]
        hidden = adapter.conv(x, w_col, None, axis_step(p, pads, 0, groups=p.groups))
        return adapter.conv(hidden, w_row, b, axis_step(p, pads, 1, groups=c_out))
    if op == "flattened":
        w_lat, w_ver = _operand(a, "w_lateral"), _operand(a, "w_vertical")
        w_hor = _operand(a, "w_horizontal")
        full = flattened_kernel(w_lat, w_ver, w_hor)
        pads = conv_validate(x, full, b, p)
        c_out = full.shape[0]
        lateral = adapter.conv(x, w_lat, None, pointwise(2, 1, support))
        vertical = adapter.conv(lateral, w_ver, None, axis_step(p, pads, 0, groups=c_out))
        return adapter.conv(vertical, w_hor, b, axis_step(p, pads, 1, groups=c_out))
    if op == "shuffled_grouped":
        hidden = adapter.conv(x, _operand(a, "w1"), None, p)
        hidden = adapter.channel_shuffle(hidden, ChannelShuffle(p.groups))
        step = pointwise(p.rank, p.groups, support)
        return adapter.conv(hidden, _operand(a, "w2"), b, step)
    raise KeyError(op)
