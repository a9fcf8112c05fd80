"""Hypothesis strategies for degenerate configurations, one zero size each (spec ERR.15).

Every strategy starts from a valid configuration that the backend declares (drawn by
suites.strategies, as for the invalid kinds of suites.invalid) and sets one size to 0:
a channel count, an input spatial axis, or an output spatial size. Each drawn result is
checked against the reference: it must accept the configuration (a degenerate one has
one defined result) and the configuration must really have that zero size. A draw that
fails either check is a bug here and raises StrategyError instead of testing anything.
"""

from __future__ import annotations

from dataclasses import replace

from hypothesis import strategies as st

from adapters.base import (
    CONV,
    CONV_TRANSPOSE,
    DEFORM_CONV,
    DEPTHWISE_CONV,
    SEPARABLE_CONV,
    OpSupport,
)
from reference.checks import SpecError
from reference.params import Conv, ConvTranspose, DeformConv
from reference.sizes import effective_kernel, resolve_padding
from reference.transposed import output_padding_limit
from suites import invalid, oracle
from suites.draw_orders import EXPLICIT, SIZE_FREE_FORMS
from suites.example import Setup
from suites.invalid import Kind, StrategyError

# --- breakers: one size set to 0 -----------------------------------------------------------


def _zero_in_channels(draw: st.DrawFn, s: Setup, support: OpSupport) -> tuple[Setup, str]:
    x, w = invalid.shape_of(s, "x"), invalid.shape_of(s, "w")
    # The weight's input-channel axis goes with C_in: axis 1 (C_in/g), axis 0 transposed.
    w = (0, *w[1:]) if s.op == CONV_TRANSPOSE else (w[0], 0, *w[2:])
    return invalid.with_changes(s, x=(x[0], 0, *x[2:]), w=w), "C_in = 0"


def _zero_out_channels(draw: st.DrawFn, s: Setup, support: OpSupport) -> tuple[Setup, str]:
    w = invalid.shape_of(s, "w")
    bias = (0,) if s.shapes.get("b") is not None else None
    if s.op == CONV_TRANSPOSE:
        return invalid.with_changes(s, w=(w[0], 0, *w[2:]), b=bias), "C_out/groups = 0"
    return invalid.with_changes(s, w=(0, *w[1:]), b=bias), "C_out = 0"


def _empty_spatial_axis(draw: st.DrawFn, s: Setup, support: OpSupport) -> tuple[Setup, str]:
    """n_a = 0, with pads (or a kernel) that keep the size clause's output size >= 0."""
    x, name = invalid.shape_of(s, "x"), invalid.weight_name(s)
    w = invalid.shape_of(s, name)
    p = s.params
    axis = invalid.draw_axis(draw, len(x) - 2)
    x = invalid.with_axis(x, axis + 2, 0)
    k, stride = w[axis + 2], p.stride[axis]  # type: ignore[union-attr]
    d = p.dilation[axis]  # type: ignore[union-attr]
    if isinstance(p, Conv) and isinstance(p.padding, tuple):
        # CONV.3 with n = 0: m >= 0 iff begin + end >= k_eff - s.
        begin, end = p.padding[axis]
        short = effective_kernel(k, d) - stride - begin - end
        if short > 0:
            pair = invalid.pad_pair(support, begin + -(-short // 2), end + short // 2)
            padding = tuple(pair if a == axis else q for a, q in enumerate(p.padding))
            p = replace(p, padding=padding)
    elif isinstance(p, Conv) and p.padding == "valid":
        w = invalid.with_axis(w, axis + 2, 1) if effective_kernel(k, d) > stride else w
    elif isinstance(p, ConvTranspose) and isinstance(p.padding, tuple):
        # TCONV.3 with n = 0: L = k_eff + op - s - begin - end, here with no pads. Either
        # L >= 0 (a kernel too short is lengthened), or, where the stride allows, L < 0: a
        # kernel of 1 shorter than the stride less output_padding, the formula's length
        # negative (a size 0 too, TCONV.3), which frameworks that compute the output
        # length themselves get wrong.
        padding = tuple((0, 0) if a == axis else q for a, q in enumerate(p.padding))
        p = replace(p, padding=padding)
        need = stride - p.output_padding[axis]
        if need > 1 and draw(st.booleans(), label="negative_length"):
            w = invalid.with_axis(w, axis + 2, 1)
        elif effective_kernel(k, d) < need:
            w = invalid.with_axis(w, axis + 2, 1 + -(-(need - 1) // d))
    broken = invalid.with_changes(s, p, x=x, **{name: w})
    return broken, f"input of shape {x}: spatial axis {axis} is empty"


def _conv_output_size_zero(draw: st.DrawFn, s: Setup, support: OpSupport) -> tuple[Setup, str]:
    """No window fits: a dilated kernel longer than the padded input (CONV.3's formula gives 0
    for an overhang of 1 to s positions, less for more; either way no position is left)."""
    p = s.params
    assert isinstance(p, Conv | DeformConv)
    name = invalid.weight_name(s)
    x, w = invalid.shape_of(s, "x"), invalid.shape_of(s, name)
    axis = invalid.draw_axis(draw, len(x) - 2)
    if isinstance(p, Conv):
        begin, end = resolve_padding(p, x[2:], w[2:])[axis]  # explicit or 'valid' (forms)
        low = invalid.mode_minimum(begin, end, p.padding_mode)
    else:
        begin, end = p.padding[axis]
        low = 1
    d, stride = p.dilation[axis], p.stride[axis]
    k = w[axis + 2] + draw(st.integers(0, 1), label="longer")
    # The kernel must overhang the smallest allowed input: k_eff - 1 - begin - end >= low.
    k = max(k, 1 + -(-(low + begin + end) // d))
    k_eff = effective_kernel(k, d)
    # Overhangs up to the stride and a little past it (where the formula goes below 0).
    shortest = max(low, k_eff - stride - 2 - begin - end)
    n = draw(st.integers(shortest, k_eff - 1 - begin - end), label="n")
    x, w = invalid.with_axis(x, axis + 2, n), invalid.with_axis(w, axis + 2, k)
    extra = {}
    if isinstance(p, DeformConv):
        extra = invalid.deform_sampling_shapes(s, p, x, w)
    broken = invalid.with_changes(s, x=x, **{name: w}, **extra)
    return broken, (
        f"axis {axis}: dilated kernel {k_eff} overhangs the padded input {n} + {begin} + {end} "
        f"by {k_eff - n - begin - end} (stride {stride}): no window fits, output size 0"
    )


def _tconv_output_size_zero(draw: st.DrawFn, s: Setup, support: OpSupport) -> tuple[Setup, str]:
    """L_a = 0: pads that remove every position (TCONV.3), or a little more."""
    p = s.params
    assert isinstance(p, ConvTranspose) and isinstance(p.padding, tuple)
    x, w = invalid.shape_of(s, "x"), invalid.shape_of(s, "w")
    axis = invalid.draw_axis(draw, p.rank)
    symmetric_only = "asymmetric" not in support.padding
    extras = range(output_padding_limit(p.stride[axis], p.dilation[axis], p.output_padding_rule))
    if not support.output_padding_rule:
        extras = range(1)

    def span(n: int, k: int, d: int, op: int) -> int:
        return (n - 1) * p.stride[axis] + effective_kernel(k, d) + op

    n0, k0 = x[axis + 2], w[axis + 2]
    # Symmetric pads need an even span; with dilation 1 some (n, k) always gives one.
    candidates = [
        (n, k, d, op)
        for d in dict.fromkeys((p.dilation[axis], 1))
        for n in (n0, n0 + 1)
        for k in (k0, k0 + 1)
        for op in extras
        if op < output_padding_limit(p.stride[axis], d, p.output_padding_rule)
        and not (symmetric_only and span(n, k, d, op) % 2)
    ]
    n, k, d, op = draw(st.sampled_from(candidates), label="size_zero")
    more = 2 * draw(st.integers(0, 1), label="more")  # even: symmetric pads stay possible
    total = span(n, k, d, op) + more
    begin = total // 2 if symmetric_only else draw(st.integers(0, total), label="pad_begin")
    padding = tuple((begin, total - begin) if a == axis else q for a, q in enumerate(p.padding))
    params = replace(
        p,
        padding=padding,
        dilation=invalid.with_axis(p.dilation, axis, d),
        output_padding=invalid.with_axis(p.output_padding, axis, op),
    )
    broken = invalid.with_changes(
        s, params, x=invalid.with_axis(x, axis + 2, n), w=invalid.with_axis(w, axis + 2, k)
    )
    removed = f"all {total - more} positions" + (f" and {more} more" if more else "")
    return broken, f"padding ({begin}, {total - begin}) on axis {axis} removes {removed}"


_ZEROS = ("zeros",)

CONV_KINDS = (
    Kind("zero_in_channels", "CONV.1", _zero_in_channels),
    Kind("zero_out_channels", "CONV.1", _zero_out_channels),
    Kind("empty_spatial_axis", "CONV.1", _empty_spatial_axis, modes=_ZEROS),
    Kind("output_size_zero", "CONV.3", _conv_output_size_zero, forms=SIZE_FREE_FORMS),
)
_DEPTHWISE = tuple(k for k in CONV_KINDS if k.name in ("empty_spatial_axis", "output_size_zero"))
TRANSPOSED_KINDS = (
    Kind("zero_in_channels", "TCONV.1", _zero_in_channels),
    Kind("zero_out_channels", "TCONV.1", _zero_out_channels),
    Kind("empty_spatial_axis", "TCONV.1", _empty_spatial_axis),
    Kind("output_size_zero", "TCONV.3", _tconv_output_size_zero, forms=EXPLICIT),
)
DEFORM_KINDS = (
    Kind("zero_in_channels", "DEFORM.1", _zero_in_channels),
    Kind("zero_out_channels", "DEFORM.1", _zero_out_channels),
    Kind("output_size_zero", "DEFORM.3", _conv_output_size_zero),
)

KINDS: dict[str, tuple[Kind, ...]] = {
    CONV: CONV_KINDS,
    DEPTHWISE_CONV: _DEPTHWISE,
    SEPARABLE_CONV: _DEPTHWISE,
    CONV_TRANSPOSE: TRANSPOSED_KINDS,
    DEFORM_CONV: DEFORM_KINDS,
}


def kind(op: str, name: str) -> Kind:
    return invalid.kind(op, name, KINDS)


@st.composite
def degenerate_setups(draw: st.DrawFn, support: OpSupport, op: str, name: str) -> invalid.Invalid:
    """A configuration of `op` with one size 0 (kind `name`), exact: its result is the bias."""
    chosen = kind(op, name)
    setup, description = draw(invalid.broken_setups(support, op, chosen))
    # Bias values or zeros only: every dtype holds them exactly (ERR.15).
    setup = replace(setup, exact=True)
    check_degenerate(setup, description)
    return invalid.Invalid(setup, chosen.name, chosen.clause, description)


def zero_sizes(setup: Setup) -> list[str]:
    """The sizes of ERR.15 that are 0 in `setup` (an empty batch is not one of them)."""
    x = invalid.shape_of(setup, "x")
    out = oracle.expected_shape(setup.op, setup.shapes, setup.params)
    found = []
    if x[1] == 0:
        found.append("C_in")
    if out[1] == 0:
        found.append("C_out")
    found += [f"n_{a}" for a, n in enumerate(x[2:]) if n == 0]
    found += [f"m_{a}" for a, m in enumerate(out[2:]) if m == 0]
    return found


def check_degenerate(setup: Setup, description: str) -> None:
    """The reference must accept `setup`, and some size of ERR.15 must be 0 in it."""
    try:
        invalid.reference_check(setup)
    except SpecError as exc:
        raise StrategyError(
            f"degenerate '{description}': the reference rejects {setup} citing {exc.clause}: {exc}"
        ) from None
    if not zero_sizes(setup):
        raise StrategyError(f"degenerate '{description}': no size of ERR.15 is 0 in {setup}")
