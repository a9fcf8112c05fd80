"""Reusable Hypothesis strategies: valid configurations by construction.

Every strategy takes the backend's declared `OpSupport`, so it only draws
what the backend claims (unsupported combinations are never drawn, and never
filtered away afterwards). Sizes are derived so that the output is at least
1 and padding modes stay within their limits: nothing is rejected later.

Hypothesis draws the structure; operand values come from a drawn scheme and seed
(suites/values.py), so large examples cost no more draws than small ones.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

import numpy as np
from hypothesis import strategies as st

from adapters.base import OpSupport
from reference.numerics import numpy_dtype
from reference.params import ChannelShuffle, Conv, ConvTranspose, DeformConv, Pairs
from reference.sizes import effective_kernel
from suites import dispatch, values
from suites.draw_orders import COMMON_FORMS, CONV_FORMS, DTYPE_ORDER, EXPLICIT, MODE_ORDER
from suites.example import Example, Setup, Shapes

# The small tier's largest spatial size and kernel per rank: small enough for the
# scalar loop, large enough for every padding, stride and dilation interaction to show.
MAX_SIZE = {1: 12, 2: 7, 3: 4}
MAX_KERNEL = {1: 5, 2: 3, 3: 2}
MAX_BATCH = 2
MAX_GROUPS = 3
MAX_PER_GROUP = 3


def _ordered(values: frozenset[str] | frozenset[int], allowed: tuple) -> list:
    return [v for v in allowed if v in values]


@st.composite
def spatial_rank(draw: st.DrawFn, support: OpSupport, ranks: tuple[int, ...] = (1, 2, 3)) -> int:
    options = _ordered(support.ranks, ranks)
    return draw(st.sampled_from(options), label="rank")


@st.composite
def channels(
    draw: st.DrawFn, support: OpSupport, *, depthwise: bool = False, grouped: bool = False
) -> tuple[int, int, int]:
    """(groups, C_in, C_out) with groups dividing both (CONV.6); grouped: groups >= 2."""
    groups = (
        draw(st.integers(2 if grouped else 1, MAX_GROUPS), label="groups") if support.groups else 1
    )
    if depthwise:
        multiplier = draw(st.integers(1, MAX_PER_GROUP), label="depth_multiplier")
        return groups, groups, groups * multiplier
    c_in = groups * draw(st.integers(1, MAX_PER_GROUP), label="in_channels_per_group")
    c_out = groups * draw(st.integers(1, MAX_PER_GROUP), label="out_channels_per_group")
    return groups, c_in, c_out


def padding_forms(support: OpSupport, mode: str) -> list[str]:
    forms = _ordered(support.padding, CONV_FORMS)
    if mode != "zeros":
        forms = [f for f in forms if f != "negative"]  # PAD.3
    return forms


@st.composite
def explicit_pads(draw: st.DrawFn, form: str, rank: int) -> Pairs:
    pads: list[tuple[int, int]] = []
    for axis in range(rank):
        if form == "symmetric":
            p = draw(st.integers(0, 2), label=f"pad[{axis}]")
            pads.append((p, p))
        elif form == "asymmetric":
            b = draw(st.integers(0, 3), label=f"pad_begin[{axis}]")
            e = draw(st.integers(0, 3), label=f"pad_end[{axis}]")
            pads.append((b, e))
        else:  # negative: crops, PAD.3
            b = draw(st.integers(-2, 2), label=f"pad_begin[{axis}]")
            e = draw(st.integers(-2, 2), label=f"pad_end[{axis}]")
            pads.append((b, e))
    if form == "negative" and all(b >= 0 and e >= 0 for b, e in pads):
        axis = draw(st.integers(0, rank - 1), label="cropped_axis")
        crop = draw(st.integers(-2, -1), label="crop")
        pads[axis] = (crop, pads[axis][1])
    return tuple(pads)


@st.composite
def padding_only_edge(draw: st.DrawFn, pads: Pairs, k_effs: list[int], form: str) -> Pairs:
    """The pads as drawn, or with one axis's begin pad (both, symmetric) as wide as its
    dilated kernel: the first window there reads padding only, which kernels that skip
    or clip padded taps (strided and dilated ones above all) must still get right."""
    if not draw(st.booleans(), label="padding_only_edge"):
        return pads
    axis = draw(st.integers(0, len(pads) - 1), label="padding_only_axis")
    wide = k_effs[axis]
    pair = (wide, wide) if form == "symmetric" else (wide, pads[axis][1])
    return tuple(pair if a == axis else q for a, q in enumerate(pads))


def min_input_size(k_eff: int, pads: tuple[int, int] | None, mode: str) -> int:
    """Smallest input length with output >= 1 (CONV.3) within the mode's limits (PAD.9-PAD.11)."""
    if pads is None:  # 'same'/'valid': pads depend on n; n >= k_eff keeps both within limits
        return k_eff
    begin, end = pads
    low = max(1, k_eff - begin - end)
    if mode == "reflect":
        low = max(low, begin + 1, end + 1)
    if mode == "circular":
        low = max(low, begin, end)
    return low


@st.composite
def dilations(
    draw: st.DrawFn, rank: int, may_dilate: bool, dilated: bool = False
) -> tuple[int, ...]:
    """Per-axis dilation; `dilated`: at least 2 on every axis. Otherwise an undilated
    convolution first (kernels and frameworks take a separate path for it, and drawing
    every axis from 1-3 would leave a rank-3 one undilated only 1 time in 27), else 1-3
    per axis with at least one axis dilated."""
    if not may_dilate:
        return (1,) * rank
    if not dilated and not draw(st.booleans(), label="dilated"):
        return (1,) * rank
    low = 2 if dilated else 1
    dilation = tuple(draw(st.integers(low, 3), label=f"dilation[{a}]") for a in range(rank))
    if max(dilation) == 1:  # drawn as dilated: one axis is
        axis = draw(st.integers(0, rank - 1), label="dilated_axis")
        dilation = tuple(2 if a == axis else d for a, d in enumerate(dilation))
    return dilation


def _kernel_lengths(rank: int, wide: bool) -> st.SearchStrategy[int]:
    return st.sampled_from(dispatch.KERNELS[rank]) if wide else st.integers(1, MAX_KERNEL[rank])


def _strides(wide: bool) -> st.SearchStrategy[int]:
    return st.sampled_from(dispatch.STRIDES) if wide else st.integers(1, 3)


@st.composite
def conv_setups(
    draw: st.DrawFn,
    support: OpSupport,
    *,
    op: str = "conv",
    ranks: tuple[int, ...] = (1, 2, 3),
    depthwise: bool = False,
    grouped: bool = False,
    pointwise: bool = False,
    dilated: bool = False,
    strided: bool = False,
    forms: tuple[str, ...] | None = None,
    modes: tuple[str, ...] | None = None,
    size_classes: tuple[str, ...] = dispatch.SIZE_CLASSES,
    unpadded: bool = False,
    min_outputs: int = 1,
    min_batch: int = 1,
) -> Setup:
    """A valid forward convolution the backend declares, with shapes (CONV, PAD), from the
    small tier or the dispatch tier (suites/dispatch.py).

    unpadded: explicit forms get (0, 0) on every axis. min_outputs: output positions per
    axis at least. min_batch: samples at least."""
    size_class = draw(dispatch.tiers(size_classes), label="size_class")
    wide = size_class == "dispatch"
    rank = draw(spatial_rank(support, ranks))
    mode_options = _ordered(support.padding_modes, modes or MODE_ORDER)
    mode = draw(st.sampled_from(mode_options), label="padding_mode")
    form_options = [f for f in padding_forms(support, mode) if forms is None or f in forms]
    form = draw(st.sampled_from(form_options), label="padding_form")
    kernel = tuple(
        1 if pointwise else draw(_kernel_lengths(rank, wide), label=f"kernel[{a}]")
        for a in range(rank)
    )
    same = form in ("same", "same_begin")
    may_stride = not same or support.strided_same
    stride = tuple(
        draw(_strides(wide), label=f"stride[{a}]") if may_stride else 1 for a in range(rank)
    )
    if dilated and not support.dilation_with_stride:
        stride = (1,) * rank
    elif strided and may_stride and max(stride) == 1:
        axis = draw(st.integers(0, rank - 1), label="strided_axis")
        stride = tuple(2 if a == axis else s for a, s in enumerate(stride))
    may_dilate = support.dilation and (support.dilation_with_stride or max(stride) == 1)
    dilation = draw(dilations(rank, may_dilate, dilated))
    k_effs = [effective_kernel(kernel[a], dilation[a]) for a in range(rank)]
    padding: Pairs | str
    if form in ("symmetric", "asymmetric", "negative"):
        padding = ((0, 0),) * rank if unpadded else draw(explicit_pads(form, rank))
        if form != "negative" and not unpadded:
            padding = draw(padding_only_edge(padding, k_effs, form))
        axis_pads: list[tuple[int, int] | None] = list(padding)
    else:
        padding = "valid" if form == "valid" else "same"
        axis_pads = [None] * rank
    # Each stride more adds an output position, in every form.
    lows = [
        min_input_size(k_effs[a], axis_pads[a], mode) + (min_outputs - 1) * stride[a]
        for a in range(rank)
    ]
    size = []
    if wide:
        kind = "same" if same else form
        fewest = [
            dispatch.conv_output_length(lows[a], k_effs[a], stride[a], kind, axis_pads[a])
            for a in range(rank)
        ]
        # The channels and the batch share the budget with the fewest outputs these
        # windows allow.
        groups, c_in, c_out = draw(
            dispatch.channels(
                math.prod(kernel) * math.prod(fewest),
                groups_allowed=support.groups,
                depthwise=depthwise,
                grouped=grouped,
            )
        )
        per_position = c_out * (c_in // groups) * math.prod(kernel)
        batch = draw(dispatch.batch(per_position * math.prod(fewest), min_batch))
        outs = draw(
            dispatch.lengths(rank, fewest, dispatch.positions(batch, per_position), "out_size")
        )
        for a in range(rank):
            remainder = draw(st.integers(0, stride[a] - 1), label=f"remainder[{a}]")
            n = dispatch.conv_input_length(
                outs[a], k_effs[a], stride[a], kind, axis_pads[a], remainder
            )
            size.append(max(n, lows[a]))
    else:
        groups, c_in, c_out = draw(channels(support, depthwise=depthwise, grouped=grouped))
        for a in range(rank):
            size.append(lows[a] + draw(st.integers(0, MAX_SIZE[rank]), label=f"extra_size[{a}]"))
        batch = draw(st.integers(min_batch, max(min_batch, MAX_BATCH)), label="batch")
    bias = draw(st.booleans(), label="bias") if support.bias else False
    params = Conv(
        stride=stride,
        dilation=dilation,
        padding=padding,  # type: ignore[arg-type]
        groups=groups,
        padding_mode=mode,
        same_split="begin" if form == "same_begin" else "end",
    )
    shapes: Shapes = {
        "x": (batch, c_in, *size),
        "w": (c_out, c_in // groups, *kernel),
        "b": (c_out,) if bias else None,
    }
    if op == "separable_conv":  # SEP.1: depthwise under params, then a 1x1 to c_point channels
        c_point = draw(st.integers(1, MAX_PER_GROUP * 2), label="pointwise_channels")
        shapes = {
            "x": shapes["x"],
            "w_depth": shapes["w"],
            "w_point": (c_point, c_out, *(1,) * rank),
            "b": (c_point,) if bias else None,
        }
    return draw(with_numerics(support, op, params, shapes, size_class))


@st.composite
def with_numerics(
    draw: st.DrawFn,
    support: OpSupport,
    op: str,
    params: Any,
    shapes: Shapes,
    size_class: str = "small",
) -> Setup:
    """The setup with a dtype and, where NUM.5 defines it for this length, exact mode."""
    from suites.oracle import exact_range  # the oracle knows each operation's length

    dtype = draw(st.sampled_from(_ordered(support.dtypes, DTYPE_ORDER)), label="dtype")
    exact_possible = support.exact and exact_range(op, shapes, params, dtype) >= 1
    exact = draw(st.booleans(), label="exact") if exact_possible else False
    return Setup(op, params, shapes, dtype, exact, size_class)


def _exact_range(setup: Setup) -> int:
    from suites.oracle import exact_range

    return exact_range(setup.op, setup.shapes, setup.params, setup.dtype) if setup.exact else 0


def operands(setup: Setup) -> st.SearchStrategy[Example]:
    """Arrays for every operand of `setup`, labelled by operand name."""
    exact_range = _exact_range(setup)

    @st.composite
    def build(draw: st.DrawFn) -> Example:
        arrays: dict[str, np.ndarray | None] = {}
        for name, shape in setup.shapes.items():
            if shape is None:
                arrays[name] = None
            elif name == "offset":
                offset = values.draw_offsets(draw, name, shape)
                arrays[name] = offset.astype(numpy_dtype(setup.dtype))
            else:
                arrays[name] = values.draw_array(draw, name, shape, setup.dtype, exact_range)
        return Example(setup, arrays)

    return build()


@st.composite
def transposed_setups(
    draw: st.DrawFn,
    support: OpSupport,
    *,
    ranks: tuple[int, ...] = (1, 2, 3),
    forms: tuple[str, ...] | None = None,
    grouped: bool = False,
    strided: bool = False,
) -> Setup:
    """A valid transposed convolution the backend declares (TCONV), from the small tier or
    the dispatch tier (suites/dispatch.py)."""
    size_class = draw(dispatch.tiers(), label="size_class")
    wide = size_class == "dispatch"
    rank = draw(spatial_rank(support, ranks))
    form_options = [
        f for f in _ordered(support.padding, COMMON_FORMS) if forms is None or f in forms
    ]
    form = draw(st.sampled_from(form_options), label="padding_form")
    kernel = tuple(draw(_kernel_lengths(rank, wide), label=f"kernel[{a}]") for a in range(rank))
    stride = tuple(draw(_strides(wide), label=f"stride[{a}]") for a in range(rank))
    if strided and max(stride) == 1:
        axis = draw(st.integers(0, rank - 1), label="strided_axis")
        stride = tuple(2 if a == axis else s for a, s in enumerate(stride))
    may_dilate = support.dilation and (support.dilation_with_stride or max(stride) == 1)
    dilation = draw(dilations(rank, may_dilate))
    padding: Pairs | str
    output_padding: tuple[int, ...] = (0,) * rank
    lows = [1] * rank
    if form in ("valid", "same"):
        padding = form
    else:
        padding = draw(explicit_pads(form, rank))
        extra = []
        for a in range(rank):
            s, d = stride[a], dilation[a]
            limit = max(s, d) if support.output_padding_rule == "stride_or_dilation" else s
            op = (
                draw(st.integers(0, limit - 1), label=f"output_padding[{a}]")
                if support.output_padding_rule
                else 0
            )
            extra.append(op)
            b, e = padding[a]
            # TCONV.3: (n-1)s - b - e + k_eff + op >= 1  <=>  n >= 1 + ceil((b + e - k_eff - op + 1) / s)
            need = b + e - effective_kernel(kernel[a], d) - op + 1
            lows[a] = max(1, 1 + -(-need // s))
        output_padding = tuple(extra)
    size: list[int] = []
    if wide:
        groups, c_in, c_out = draw(
            dispatch.channels(
                math.prod(kernel) * math.prod(lows), groups_allowed=support.groups, grouped=grouped
            )
        )
        # Each input position scatters C_out/groups * prod(k) products per input channel.
        per_position = c_in * (c_out // groups) * math.prod(kernel)
        batch = draw(dispatch.batch(per_position * math.prod(lows)))
        positions = dispatch.positions(batch, per_position)
        size = draw(dispatch.lengths(rank, lows, positions, "size"))
    else:
        groups, c_in, c_out = draw(channels(support, grouped=grouped))
        for a in range(rank):
            name = "size" if form in ("valid", "same") else "extra_size"
            extra_size = draw(st.integers(0, MAX_SIZE[rank] // 2), label=f"{name}[{a}]")
            size.append(lows[a] + extra_size)
        batch = draw(st.integers(1, MAX_BATCH), label="batch")
    bias = draw(st.booleans(), label="bias") if support.bias else False
    params = ConvTranspose(
        stride=stride,
        dilation=dilation,
        padding=padding,  # type: ignore[arg-type]
        output_padding=output_padding,
        groups=groups,
        output_padding_rule=(
            "stride_or_dilation"
            if support.output_padding_rule == "stride_or_dilation"
            else "stride"
        ),
    )
    shapes = {
        "x": (batch, c_in, *size),
        "w": (c_in, c_out // groups, *kernel),
        "b": (c_out,) if bias else None,
    }
    return draw(with_numerics(support, "conv_transpose", params, shapes, size_class))


@st.composite
def deform_setups(draw: st.DrawFn, support: OpSupport, *, masked: bool | None = None) -> Setup:
    """A valid deformable convolution (DEFORM): 2-D, explicit padding, offsets per output position."""
    groups, c_in, c_out = draw(channels(support))
    per_group = c_in // groups
    # offset_groups must divide C_in (DEFORM); draw it among C_in's divisors.
    divisors = [g for g in range(1, c_in + 1) if c_in % g == 0]
    offset_groups = draw(st.sampled_from(divisors), label="offset_groups")
    stride = tuple(draw(st.integers(1, 2), label=f"stride[{a}]") for a in range(2))
    dilation = tuple(
        draw(st.integers(1, 2), label=f"dilation[{a}]") if support.dilation else 1 for a in range(2)
    )
    kernel = tuple(draw(st.integers(1, 3), label=f"kernel[{a}]") for a in range(2))
    form = draw(
        st.sampled_from(_ordered(support.padding, EXPLICIT)),
        label="padding_form",
    )
    padding = draw(explicit_pads(form, 2))
    size = tuple(
        max(1, effective_kernel(kernel[a], dilation[a]) - sum(padding[a]))
        + draw(st.integers(0, 4), label=f"extra_size[{a}]")
        for a in range(2)
    )
    out = tuple(
        (size[a] + sum(padding[a]) - effective_kernel(kernel[a], dilation[a])) // stride[a] + 1
        for a in range(2)
    )
    batch = draw(st.integers(1, MAX_BATCH), label="batch")
    bias = draw(st.booleans(), label="bias") if support.bias else False
    if masked is None:
        masked = draw(st.booleans(), label="masked") if support.mask else False
    taps = kernel[0] * kernel[1]
    params = DeformConv(
        stride=stride,  # type: ignore[arg-type]
        dilation=dilation,  # type: ignore[arg-type]
        padding=padding,
        groups=groups,
        offset_groups=offset_groups,
    )
    shapes = {
        "x": (batch, c_in, *size),
        "offset": (batch, 2 * offset_groups * taps, *out),
        "mask": (batch, offset_groups * taps, *out) if masked else None,
        "w": (c_out, per_group, *kernel),
        "b": (c_out,) if bias else None,
    }
    return draw(with_numerics(support, "deform_conv", params, shapes))


@st.composite
def shuffle_setups(draw: st.DrawFn, support: OpSupport) -> Setup:
    rank = draw(spatial_rank(support, (1, 2, 3)))
    groups = draw(st.integers(1, 4), label="groups")
    c = groups * draw(st.integers(1, 4), label="channels_per_group")
    size = tuple(draw(st.integers(1, 3), label=f"size[{a}]") for a in range(rank))
    batch = draw(st.integers(1, MAX_BATCH), label="batch")
    setup = draw(
        with_numerics(support, "channel_shuffle", ChannelShuffle(groups), {"x": (batch, c, *size)})
    )
    return replace(setup, exact=True)  # SHUF.8: a permutation is bit-exact in every dtype


def seeded_operands(setup: Setup, seed: int) -> Example:
    """Operands for a fixed configuration (replays, network layers): every operand
    'uniform' (and offsets 'grid') from one generator seeded with `seed`."""
    rng = np.random.default_rng(seed)
    exact_range = _exact_range(setup)
    arrays: dict[str, np.ndarray | None] = {}
    for name, shape in setup.shapes.items():
        if shape is None:
            arrays[name] = None
        elif name == "offset":
            offset = values.generate_offsets(rng, "grid", shape)
            arrays[name] = offset.astype(numpy_dtype(setup.dtype))
        else:
            arrays[name] = values.generate(rng, "uniform", shape, setup.dtype, exact_range)
    return Example(setup, arrays)


@st.composite
def composite_setups(draw: st.DrawFn, support: OpSupport, op: str) -> Setup:
    """A 2-D composite (SEP, SHUF.5) on a drawn base convolution `p` the backend supports.

    The steps need the backend's explicit padding per axis: 'same' resolves to
    asymmetric pads, so it is drawn only where asymmetric padding is declared.
    """
    # Each step gets explicit pads (SEP.5), so explicit padding must be declared.
    forms = ("symmetric", "valid") + (
        ("asymmetric", "same") if "asymmetric" in support.padding else ()
    )
    base = draw(
        conv_setups(
            support,
            ranks=(2,),
            modes=("zeros",),
            forms=forms,
            depthwise=op == "depthwise_separable",
            grouped=op == "shuffled_grouped",
            # The composites' definitions are chains of scalar loops; their stages are the
            # convolutions that the other suites draw at dispatch sizes.
            size_classes=("small",),
        )
    )
    p = base.params
    assert isinstance(p, Conv)
    x, w = base.shapes["x"], base.shapes["w"]
    assert x is not None and w is not None
    c_in, (kh, kw) = x[1], w[2:]
    c_mid, c_out = w[0], draw(st.integers(1, MAX_PER_GROUP * 2), label="out_channels")
    bias = base.shapes["b"] is not None
    shapes: Shapes
    if op == "depthwise_separable":
        shapes = {
            "x": x,
            "w_depth": w,
            "w_point": (c_out, c_mid, 1, 1),
            "b": (c_out,) if bias else None,
        }
    elif op == "spatially_separable":
        shapes = {
            "x": x,
            "w_col": (c_mid, c_in // p.groups, kh, 1),
            "w_row": (c_mid, 1, 1, kw),
            "b": (c_mid,) if bias else None,
        }
    elif op == "flattened":
        p = replace(p, groups=1)
        shapes = {
            "x": x,
            "w_lateral": (c_mid, c_in, 1, 1),
            "w_vertical": (c_mid, 1, kh, 1),
            "w_horizontal": (c_mid, 1, 1, kw),
            "b": (c_mid,) if bias else None,
        }
    else:  # shuffled_grouped: grouped conv, shuffle, 1x1 grouped conv (ShuffleNet unit)
        per_group = draw(st.integers(1, MAX_PER_GROUP), label="out_channels_per_group")
        c_final = p.groups * per_group
        shapes = {
            "x": x,
            "w1": w,
            "w2": (c_final, c_mid // p.groups, 1, 1),
            "b": (c_final,) if bias else None,
        }
    return draw(with_numerics(support, op, p, shapes))
