"""Hypothesis strategies for invalid configurations, one labelled violation each (spec ERR).

Every strategy starts from a valid configuration that the backend declares (drawn by
suites.strategies) and breaks it in exactly one way, a *violation kind* tied to the
clause it violates (the tables of ERR.4-ERR.8). Each drawn result is checked against
the reference: its validation must raise SpecError citing that clause. A violation
the reference accepts, or rejects for another reason, is a bug here, and the draw
fails with StrategyError instead of testing anything.

`negative_zero_padding` builds the one *valid* configuration the error suite calls an
undeclaring backend with (ERR.9): negative explicit padding in zeros mode.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np
from hypothesis import strategies as st

from adapters.base import (
    CONV,
    DEPTHWISE_CONV,
    SEPARABLE_CONV,
    OpSupport,
)
from reference import deformable, transposed
from reference.checks import SpecError
from reference.numerics import numpy_dtype
from reference.params import ChannelShuffle, Conv, ConvTranspose, DeformConv
from reference.sizes import effective_kernel, same_padding
from suites import strategies
from suites.draw_orders import COMMON_FORMS, EXPLICIT, MODE_ORDER
from suites.example import Example, Setup, Shapes

if TYPE_CHECKING:
    from suites.operations import Operation

NONZERO_MODES = tuple(m for m in MODE_ORDER if m != "zeros")


class StrategyError(AssertionError):
    """A drawn 'invalid' configuration that the reference does not reject as labelled."""


@dataclass(frozen=True)
class Invalid:
    """A configuration broken in one way: `kind` violates `clause`, as `description` says."""

    setup: Setup
    kind: str
    clause: str
    description: str


Breaker = Callable[[st.DrawFn, Setup, OpSupport], tuple[Setup, str]]


@dataclass(frozen=True)
class Kind:
    """One violation kind of an operation (a row of ERR.4-ERR.8)."""

    name: str
    clause: str
    breaker: Breaker
    # Restrictions on the valid configuration it starts from.
    forms: tuple[str, ...] | None = None
    modes: tuple[str, ...] | None = None
    # OpSupport fields that must be true (e.g. "groups", "bias", "mask").
    needs: tuple[str, ...] = ()
    output_padding: bool = False  # needs a declared output_padding rule

    def unsupported(self, op: str, support: OpSupport) -> str | None:
        """Why this kind cannot be drawn for a backend declaring `support`, or None."""
        for field in self.needs:
            if not getattr(support, field):
                return f"it needs {field}=True, the backend declares {field}=False"
        if self.output_padding and not support.output_padding_rule:
            return "the backend's API takes no output_padding"
        return _base_setups(op).unavailable(support, self)


# --- the valid configurations a violation starts from ------------------------------------


def viable_modes(support: OpSupport, kind: Kind) -> tuple[str, ...]:
    """Declared padding modes for which some declared form satisfies the kind's restriction."""
    modes = [m for m in MODE_ORDER if m in support.padding_modes]
    if kind.modes is not None:
        modes = [m for m in modes if m in kind.modes]
    return tuple(
        m
        for m in modes
        if any(kind.forms is None or f in kind.forms for f in strategies.padding_forms(support, m))
    )


def transposed_forms(support: OpSupport, forms: tuple[str, ...] | None) -> tuple[str, ...]:
    return tuple(f for f in COMMON_FORMS if f in support.padding and (forms is None or f in forms))


@dataclass(frozen=True)
class BaseSetups:
    """The valid configurations of one operation that its violations start from."""

    # Valid setups inside the declaration `support`, within the kind's restriction.
    draw: Callable[[OpSupport, Kind], st.SearchStrategy[Setup]]
    # Why that restriction leaves nothing to draw for a backend declaring `support`, or None.
    unavailable: Callable[[OpSupport, Kind], str | None]


def base_setup(op: str, support: OpSupport, kind: Kind) -> st.SearchStrategy[Setup]:
    """A valid configuration of `op` inside the declaration, within the kind's restriction."""
    return _base_setups(op).draw(support, kind)


def _conv_family(
    support: OpSupport, kind: Kind, depthwise: bool, ranks: tuple[int, ...]
) -> st.SearchStrategy[Setup]:
    return strategies.conv_setups(
        support,
        op=DEPTHWISE_CONV if depthwise else CONV,
        ranks=ranks,
        depthwise=depthwise,
        forms=kind.forms,
        modes=viable_modes(support, kind),
    )


def _conv_family_unavailable(support: OpSupport, kind: Kind) -> str | None:
    if viable_modes(support, kind):
        return None
    return f"it needs padding forms {kind.forms} with modes {kind.modes}"


CONV_SETUPS = BaseSetups(
    lambda support, kind: _conv_family(support, kind, False, (1, 2, 3)), _conv_family_unavailable
)
DEPTHWISE_SETUPS = BaseSetups(
    lambda support, kind: _conv_family(support, kind, True, (1, 2, 3)), _conv_family_unavailable
)
# exact_range knows a separable setup only under its operand names, given by _as_separable.
SEPARABLE_SETUPS = BaseSetups(
    lambda support, kind: _conv_family(support, kind, True, (2,)).map(_as_separable),
    _conv_family_unavailable,
)
TRANSPOSED_SETUPS = BaseSetups(
    lambda support, kind: strategies.transposed_setups(
        support, forms=transposed_forms(support, kind.forms)
    ),
    lambda support, kind: (
        None if transposed_forms(support, kind.forms) else f"it needs padding forms {kind.forms}"
    ),
)
DEFORM_SETUPS = BaseSetups(
    lambda support, kind: strategies.deform_setups(
        support, masked=True if "mask" in kind.needs else None
    ),
    lambda support, kind: None if support.padding & set(EXPLICIT) else "it needs explicit padding",
)
SHUFFLE_SETUPS = BaseSetups(
    lambda support, kind: strategies.shuffle_setups(support), lambda support, kind: None
)


def _as_separable(setup: Setup) -> Setup:
    """A depthwise setup as the depthwise step of a separable one, with a pointwise weight."""
    w = setup.shapes["w"]
    assert w is not None
    c_out = w[0] + 1  # any count works; this one differs from the depthwise step's
    shapes: Shapes = {
        "x": setup.shapes["x"],
        "w_depth": w,
        "w_point": (c_out, w[0], 1, 1),
        "b": (c_out,) if setup.shapes.get("b") is not None else None,
    }
    return replace(setup, op=SEPARABLE_CONV, shapes=shapes)


# --- helpers for breaking a setup ---------------------------------------------------------


def shape_of(setup: Setup, name: str) -> tuple[int, ...]:
    shape = setup.shapes[name]
    assert shape is not None
    return tuple(shape)


def weight_name(setup: Setup) -> str:
    return "w_depth" if "w_depth" in setup.shapes else "w"


def with_changes(
    setup: Setup, params: object | None = None, **shapes: tuple[int, ...] | None
) -> Setup:
    unknown = set(shapes) - set(setup.shapes)
    assert not unknown, f"no operands {unknown} in {setup.op}"
    return replace(
        setup,
        params=setup.params if params is None else params,  # type: ignore[arg-type]
        shapes={**setup.shapes, **shapes},
    )


def with_axis(values: tuple[int, ...], axis: int, value: int) -> tuple[int, ...]:
    return tuple(value if a == axis else v for a, v in enumerate(values))


def draw_axis(draw: st.DrawFn, rank: int) -> int:
    return draw(st.integers(0, rank - 1), label="broken_axis")


def _nonpositive(draw: st.DrawFn, label: str) -> int:
    return draw(st.sampled_from((0, -1)), label=label)


def pad_pair(support: OpSupport, begin: int, end: int) -> tuple[int, int]:
    """(begin, end) if the backend takes asymmetric pairs, else (begin, begin)."""
    return (begin, end) if "asymmetric" in support.padding else (begin, begin)


def mode_minimum(begin: int, end: int, mode: str) -> int:
    """The smallest input size the mode's limits allow for these pads (PAD.9, PAD.11)."""
    if mode == "reflect":
        return max(begin, end) + 1
    if mode == "circular":
        return max(begin, end, 1)
    return 1


# --- breakers shared by the convolution-like operations ------------------------------------


def _stride(draw: st.DrawFn, s: Setup, support: OpSupport) -> tuple[Setup, str]:
    p = s.params
    assert isinstance(p, Conv | ConvTranspose | DeformConv)
    axis, value = draw_axis(draw, p.rank), _nonpositive(draw, "bad_stride")
    stride = with_axis(p.stride, axis, value)
    broken = replace(p, stride=stride)  # type: ignore[arg-type]
    return with_changes(s, broken), f"stride {stride}: entry {axis} is {value}"


def _dilation(draw: st.DrawFn, s: Setup, support: OpSupport) -> tuple[Setup, str]:
    p = s.params
    assert isinstance(p, Conv | ConvTranspose | DeformConv)
    axis, value = draw_axis(draw, p.rank), _nonpositive(draw, "bad_dilation")
    dilation = with_axis(p.dilation, axis, value)
    broken = replace(p, dilation=dilation)  # type: ignore[arg-type]
    return with_changes(s, broken), f"dilation {dilation}: entry {axis} is {value}"


def _input_extra_axis(draw: st.DrawFn, s: Setup, support: OpSupport) -> tuple[Setup, str]:
    x = shape_of(s, "x")
    extra = draw(st.integers(1, 2), label="extra_axis")
    broken = (*x, extra)
    return with_changes(
        s, x=broken
    ), f"input of shape {broken}: {len(broken)} axes, expected {len(x)}"


def _input_missing_batch(draw: st.DrawFn, s: Setup, support: OpSupport) -> tuple[Setup, str]:
    x = shape_of(s, "x")
    return with_changes(s, x=x[1:]), f"input of shape {x[1:]} has no batch axis (ERR.11)"


def _weight_rank(draw: st.DrawFn, s: Setup, support: OpSupport) -> tuple[Setup, str]:
    w = shape_of(s, "w")
    return with_changes(
        s, w=w[:-1]
    ), f"weight of shape {w[:-1]}: {len(w) - 1} axes, expected {len(w)}"


def _bias_shape(draw: st.DrawFn, s: Setup, support: OpSupport) -> tuple[Setup, str]:
    c_out = shape_of(s, "b")[0] if s.shapes.get("b") is not None else _bias_length(s)
    options = [(c_out + 1,), (c_out, 1)] + ([(c_out - 1,)] if c_out > 1 else [])
    bias = draw(st.sampled_from(options), label="bias_shape")
    return with_changes(s, b=bias), f"bias of shape {bias}, expected ({c_out},)"


def _bias_length(s: Setup) -> int:
    """C_out of the setup's operation, for a setup drawn without a bias."""
    p = s.params
    if s.op == SEPARABLE_CONV:
        return shape_of(s, "w_point")[0]
    if isinstance(p, ConvTranspose):
        return shape_of(s, "w")[1] * p.groups
    return shape_of(s, weight_name(s))[0]


def _empty_kernel_axis(draw: st.DrawFn, s: Setup, support: OpSupport) -> tuple[Setup, str]:
    w = shape_of(s, "w")
    axis = draw_axis(draw, len(w) - 2)
    broken = with_axis(w, axis + 2, 0)
    return with_changes(s, w=broken), f"weight of shape {broken}: kernel axis {axis} is empty"


# --- convolution (ERR.4, ERR.5) -----------------------------------------------------------


def _conv_parts(s: Setup) -> tuple[Conv, tuple[int, ...], tuple[int, ...], bool]:
    p = s.params
    assert isinstance(p, Conv)
    return p, shape_of(s, "x"), shape_of(s, weight_name(s)), s.shapes.get("b") is not None


def _conv_groups_c_in(draw: st.DrawFn, s: Setup, support: OpSupport) -> tuple[Setup, str]:
    p, x, w, bias = _conv_parts(s)
    g = draw(st.integers(2, 3), label="groups")
    per_group = draw(st.integers(1, 2), label="in_channels_per_group")
    c_in = g * per_group + draw(st.integers(1, g - 1), label="remainder")
    c_out = g * draw(st.integers(1, 2), label="out_channels_per_group")
    broken = with_changes(
        s,
        replace(p, groups=g),
        x=(x[0], c_in, *x[2:]),
        w=(c_out, per_group, *w[2:]),
        b=(c_out,) if bias else None,
    )
    return broken, f"groups={g} does not divide C_in={c_in}"


def _conv_groups_c_out(draw: st.DrawFn, s: Setup, support: OpSupport) -> tuple[Setup, str]:
    p, x, w, bias = _conv_parts(s)
    g = draw(st.integers(2, 3), label="groups")
    per_group = draw(st.integers(1, 2), label="in_channels_per_group")
    c_out = g * draw(st.integers(0, 1), label="out_blocks") + draw(
        st.integers(1, g - 1), label="remainder"
    )
    broken = with_changes(
        s,
        replace(p, groups=g),
        x=(x[0], g * per_group, *x[2:]),
        w=(c_out, per_group, *w[2:]),
        b=(c_out,) if bias else None,
    )
    return broken, f"groups={g} divides C_in={g * per_group} but not C_out={c_out}"


def _conv_groups_zero(draw: st.DrawFn, s: Setup, support: OpSupport) -> tuple[Setup, str]:
    p, x, w, _ = _conv_parts(s)
    broken = with_changes(s, replace(p, groups=0), w=(w[0], x[1], *w[2:]))
    return broken, "groups=0"


def _conv_weight_channels(draw: st.DrawFn, s: Setup, support: OpSupport) -> tuple[Setup, str]:
    p, x, w, _ = _conv_parts(s)
    expected = x[1] // p.groups
    options = [expected + 1] + ([expected - 1] if expected > 1 else [])
    got = draw(st.sampled_from(options), label="weight_in_channels")
    return with_changes(
        s, w=(w[0], got, *w[2:])
    ), f"weight has {got} input channels, C_in/groups = {expected}"


def _conv_negative_padding_mode(draw: st.DrawFn, s: Setup, support: OpSupport) -> tuple[Setup, str]:
    p, x, w, _ = _conv_parts(s)
    assert isinstance(p.padding, tuple)
    axis = draw_axis(draw, p.rank)
    crop = draw(st.integers(1, 2), label="crop")
    pair = pad_pair(support, -crop, p.padding[axis][1])
    padding = tuple(pair if a == axis else pads for a, pads in enumerate(p.padding))
    # Keep the output non-empty: the sign is the only thing wrong.
    k_eff = effective_kernel(w[axis + 2], p.dilation[axis])
    n = max(x[axis + 2], k_eff - sum(pair), 1)
    broken = with_changes(s, replace(p, padding=padding), x=with_axis(x, axis + 2, n))
    return broken, f"padding {pair} on axis {axis} with padding_mode={p.padding_mode!r}"


def _mode_limit_breaker(mode: str) -> Breaker:
    """reflect needs pads < n (PAD.9), circular pads <= n (PAD.11): break that limit."""
    slack = 0 if mode == "reflect" else 1  # the largest violating n is pad - slack

    def breaker(draw: st.DrawFn, s: Setup, support: OpSupport) -> tuple[Setup, str]:
        p, x, w, _ = _conv_parts(s)
        axis = draw_axis(draw, p.rank)
        d, s_a, k = p.dilation[axis], p.stride[axis], w[axis + 2]
        name = weight_name(s)
        if isinstance(p.padding, tuple):
            k_eff = effective_kernel(k, d)
            pad = max(k_eff, 1 + slack) + draw(st.integers(0, 1), label="pad")
            pair = pad_pair(support, pad, draw(st.integers(0, pad), label="pad_end"))
            # n <= pad - slack violates the limit; pad >= k_eff keeps the output >= 1.
            n = draw(st.integers(1, pad - slack), label="size")
            padding = tuple(pair if a == axis else pads for a, pads in enumerate(p.padding))
            broken = with_changes(s, replace(p, padding=padding), x=with_axis(x, axis + 2, n))
            return broken, f"{mode} padding {pair} on axis {axis} of size {n}"
        # 'same': a long kernel on a short axis resolves to amounts beyond the limit.
        k = max(k, 1 + -(-(2 + 2 * slack) // d))  # k_eff >= 3 (reflect) or 5 (circular)
        candidates = [
            n
            for n in range(1, effective_kernel(k, d) + 1)
            if max(same_padding(n, k, s_a, d, p.same_split)) > n - 1 + slack
        ]
        n = draw(st.sampled_from(candidates), label="size")
        pair = same_padding(n, k, s_a, d, p.same_split)
        broken = with_changes(s, x=with_axis(x, axis + 2, n), **{name: with_axis(w, axis + 2, k)})
        return broken, f"'same' resolves to {mode} padding {pair} on axis {axis} of size {n}"

    return breaker


def _pointwise_channels(draw: st.DrawFn, s: Setup, support: OpSupport) -> tuple[Setup, str]:
    wd, wp = shape_of(s, "w_depth"), shape_of(s, "w_point")
    reads = wd[0] + draw(st.sampled_from((1, -1) if wd[0] > 1 else (1,)), label="reads")
    broken = with_changes(s, w_point=(wp[0], reads, *wp[2:]))
    return broken, f"the pointwise weight reads {reads} channels, the depthwise step makes {wd[0]}"


_SAME_OR_EXPLICIT = ("symmetric", "asymmetric", "same", "same_begin")

CONV_KINDS = (
    Kind("groups_not_dividing_c_in", "CONV.6", _conv_groups_c_in, needs=("groups",)),
    Kind("groups_not_dividing_c_out", "CONV.6", _conv_groups_c_out, needs=("groups",)),
    Kind("groups_zero", "CONV.6", _conv_groups_zero, needs=("groups",)),
    Kind("weight_channels", "CONV.6", _conv_weight_channels),
    Kind("stride", "CONV.4", _stride),
    Kind("dilation", "CONV.5", _dilation, needs=("dilation",)),
    Kind(
        "negative_padding_mode",
        "PAD.3",
        _conv_negative_padding_mode,
        forms=EXPLICIT,
        modes=NONZERO_MODES,
    ),
    Kind(
        "reflect_too_large",
        "PAD.9",
        _mode_limit_breaker("reflect"),
        forms=_SAME_OR_EXPLICIT,
        modes=("reflect",),
    ),
    Kind(
        "circular_too_large",
        "PAD.11",
        _mode_limit_breaker("circular"),
        forms=_SAME_OR_EXPLICIT,
        modes=("circular",),
    ),
    Kind("input_extra_axis", "CONV.1", _input_extra_axis),
    Kind("input_missing_batch", "CONV.1", _input_missing_batch),
    Kind("weight_rank", "CONV.1", _weight_rank),
    Kind("bias_shape", "CONV.7", _bias_shape, needs=("bias",)),
    Kind("empty_kernel_axis", "CONV.1", _empty_kernel_axis),
)

_DEPTHWISE_NAMES = ("stride", "dilation", "bias_shape")
DEPTHWISE_KINDS = (
    *(k for k in CONV_KINDS if k.name in _DEPTHWISE_NAMES),
    # The weight rank now differs from the input rank: GRP.2's check cites CONV.1 too.
    Kind("input_extra_axis", "CONV.1", _input_extra_axis),
)
SEPARABLE_KINDS = (
    *(k for k in DEPTHWISE_KINDS if k.name != "input_extra_axis"),
    Kind("pointwise_channels", "SEP.1", _pointwise_channels),
)


# --- transposed convolution (ERR.6) --------------------------------------------------------


def _tconv_parts(s: Setup) -> tuple[ConvTranspose, tuple[int, ...], tuple[int, ...], bool]:
    p = s.params
    assert isinstance(p, ConvTranspose)
    return p, shape_of(s, "x"), shape_of(s, "w"), s.shapes.get("b") is not None


def _tconv_groups_c_in(draw: st.DrawFn, s: Setup, support: OpSupport) -> tuple[Setup, str]:
    p, x, w, bias = _tconv_parts(s)
    g = draw(st.integers(2, 3), label="groups")
    c_in = g * draw(st.integers(0, 1), label="in_blocks") + draw(
        st.integers(1, g - 1), label="remainder"
    )
    per_group = w[1]
    broken = with_changes(
        s,
        replace(p, groups=g),
        x=(x[0], c_in, *x[2:]),
        w=(c_in, per_group, *w[2:]),
        b=(g * per_group,) if bias else None,
    )
    return broken, f"groups={g} does not divide C_in={c_in}"


def _tconv_groups_zero(draw: st.DrawFn, s: Setup, support: OpSupport) -> tuple[Setup, str]:
    p, _, _, _ = _tconv_parts(s)
    return with_changes(s, replace(p, groups=0)), "groups=0"


def _tconv_weight_in_channels(draw: st.DrawFn, s: Setup, support: OpSupport) -> tuple[Setup, str]:
    _, x, w, _ = _tconv_parts(s)
    options = [x[1] + 1] + ([x[1] - 1] if x[1] > 1 else [])
    got = draw(st.sampled_from(options), label="weight_axis_0")
    return with_changes(s, w=(got, *w[1:])), f"weight axis 0 is {got}, C_in = {x[1]}"


def _tconv_negative_padding(draw: st.DrawFn, s: Setup, support: OpSupport) -> tuple[Setup, str]:
    p, _, _, _ = _tconv_parts(s)
    assert isinstance(p.padding, tuple)
    axis = draw_axis(draw, p.rank)
    crop = draw(st.integers(1, 2), label="crop")
    pair = pad_pair(support, -crop, p.padding[axis][1])
    padding = tuple(pair if a == axis else pads for a, pads in enumerate(p.padding))
    # Negative pads lengthen the output (TCONV.3): only the sign is wrong.
    return with_changes(s, replace(p, padding=padding)), f"padding {pair} on axis {axis}"


def _tconv_output_padding_at_limit(
    draw: st.DrawFn, s: Setup, support: OpSupport
) -> tuple[Setup, str]:
    p, _, _, _ = _tconv_parts(s)
    axis = draw_axis(draw, p.rank)
    limit = transposed.output_padding_limit(p.stride[axis], p.dilation[axis], p.output_padding_rule)
    value = limit + draw(st.integers(0, 1), label="beyond")
    output_padding = with_axis(p.output_padding, axis, value)
    broken = with_changes(s, replace(p, output_padding=output_padding))
    return broken, (
        f"output_padding {output_padding}: entry {axis} is {value}, the limit is {limit} "
        f"(rule {p.output_padding_rule!r}, stride {p.stride[axis]}, dilation {p.dilation[axis]})"
    )


def _tconv_output_padding_negative(
    draw: st.DrawFn, s: Setup, support: OpSupport
) -> tuple[Setup, str]:
    p, x, w, _ = _tconv_parts(s)
    assert isinstance(p.padding, tuple)
    axis = draw_axis(draw, p.rank)
    output_padding = with_axis(p.output_padding, axis, -1)
    (begin, end), stride = p.padding[axis], p.stride[axis]
    # Keep TCONV.3's length >= 1 with op = -1: (n-1)*s >= 2 + begin + end - k_eff.
    need = 2 + begin + end - effective_kernel(w[axis + 2], p.dilation[axis])
    n = max(x[axis + 2], 1 + -(-need // stride))
    broken = with_changes(s, replace(p, output_padding=output_padding), x=with_axis(x, axis + 2, n))
    return broken, f"output_padding {output_padding}: entry {axis} is -1"


def _tconv_output_padding_with_string(
    draw: st.DrawFn, s: Setup, support: OpSupport
) -> tuple[Setup, str]:
    p, _, _, _ = _tconv_parts(s)
    axis = draw_axis(draw, p.rank)
    output_padding = with_axis(p.output_padding, axis, 1)
    broken = with_changes(s, replace(p, output_padding=output_padding))
    return broken, f"output_padding {output_padding} with padding={p.padding!r}"


TRANSPOSED_KINDS = (
    Kind("groups_not_dividing_c_in", "TCONV.7", _tconv_groups_c_in, needs=("groups",)),
    Kind("groups_zero", "TCONV.7", _tconv_groups_zero, needs=("groups",)),
    Kind("weight_in_channels", "TCONV.1", _tconv_weight_in_channels),
    Kind("stride", "TCONV.6", _stride),
    Kind("dilation", "TCONV.6", _dilation, needs=("dilation",)),
    Kind("negative_padding", "TCONV.9", _tconv_negative_padding, forms=EXPLICIT),
    Kind(
        "output_padding_at_limit",
        "TCONV.5",
        _tconv_output_padding_at_limit,
        forms=EXPLICIT,
        output_padding=True,
    ),
    Kind(
        "output_padding_negative",
        "TCONV.5",
        _tconv_output_padding_negative,
        forms=EXPLICIT,
        output_padding=True,
    ),
    Kind(
        "output_padding_with_string",
        "TCONV.5",
        _tconv_output_padding_with_string,
        forms=("valid", "same"),
    ),
    Kind("input_extra_axis", "TCONV.1", _input_extra_axis),
    Kind("input_missing_batch", "TCONV.1", _input_missing_batch),
    Kind("weight_rank", "TCONV.1", _weight_rank),
    Kind("bias_shape", "TCONV.8", _bias_shape, needs=("bias",)),
    Kind("empty_kernel_axis", "TCONV.1", _empty_kernel_axis),
)


# --- deformable convolution (ERR.7) --------------------------------------------------------


def _deform_parts(s: Setup) -> tuple[DeformConv, tuple[int, ...], tuple[int, ...]]:
    p = s.params
    assert isinstance(p, DeformConv)
    return p, shape_of(s, "x"), shape_of(s, "w")


def deform_sampling_shapes(
    s: Setup, p: DeformConv, x: tuple[int, ...], w: tuple[int, ...]
) -> dict[str, tuple[int, ...] | None]:
    """Offset and mask shapes of DEFORM.4 for these operands (output sizes clipped at 0)."""
    out = tuple(max(m, 0) for m in deformable.output_size(x, w, p))
    taps = p.offset_groups * w[2] * w[3]
    masked = s.shapes.get("mask") is not None
    return {
        "offset": (x[0], 2 * taps, *out),
        "mask": (x[0], taps, *out) if masked else None,
    }


def _deform_regrouped(s: Setup, groups: int, c_in: int, c_out: int, per_group: int) -> Setup:
    """The setup with new channel counts, offset_groups 1 and matching sampling operands."""
    p, x, w = _deform_parts(s)
    p = replace(p, groups=groups, offset_groups=1)
    x, w = (x[0], c_in, *x[2:]), (c_out, per_group, *w[2:])
    bias = (c_out,) if s.shapes.get("b") is not None else None
    return with_changes(s, p, x=x, w=w, b=bias, **deform_sampling_shapes(s, p, x, w))


def _deform_groups_c_in(draw: st.DrawFn, s: Setup, support: OpSupport) -> tuple[Setup, str]:
    g = draw(st.integers(2, 3), label="groups")
    per_group = draw(st.integers(1, 2), label="in_channels_per_group")
    c_in = g * per_group + draw(st.integers(1, g - 1), label="remainder")
    c_out = g * draw(st.integers(1, 2), label="out_channels_per_group")
    return _deform_regrouped(
        s, g, c_in, c_out, per_group
    ), f"groups={g} does not divide C_in={c_in}"


def _deform_groups_c_out(draw: st.DrawFn, s: Setup, support: OpSupport) -> tuple[Setup, str]:
    g = draw(st.integers(2, 3), label="groups")
    per_group = draw(st.integers(1, 2), label="in_channels_per_group")
    c_out = g * draw(st.integers(0, 1), label="out_blocks") + draw(
        st.integers(1, g - 1), label="remainder"
    )
    broken = _deform_regrouped(s, g, g * per_group, c_out, per_group)
    return broken, f"groups={g} divides C_in={g * per_group} but not C_out={c_out}"


def _deform_weight_channels(draw: st.DrawFn, s: Setup, support: OpSupport) -> tuple[Setup, str]:
    p, x, w = _deform_parts(s)
    expected = x[1] // p.groups
    options = [expected + 1] + ([expected - 1] if expected > 1 else [])
    got = draw(st.sampled_from(options), label="weight_in_channels")
    return with_changes(
        s, w=(w[0], got, *w[2:])
    ), f"weight has {got} input channels, C_in/groups = {expected}"


def _deform_offset_groups(draw: st.DrawFn, s: Setup, support: OpSupport) -> tuple[Setup, str]:
    p, x, w = _deform_parts(s)
    offset_groups = draw(st.integers(2, 3), label="offset_groups")
    c_in = offset_groups * draw(st.integers(0, 1), label="in_blocks") + draw(
        st.integers(1, offset_groups - 1), label="remainder"
    )
    p = replace(p, groups=1, offset_groups=offset_groups)
    x, w = (x[0], c_in, *x[2:]), (w[0], c_in, *w[2:])
    bias = s.shapes.get("b")
    broken = with_changes(s, p, x=x, w=w, b=bias, **deform_sampling_shapes(s, p, x, w))
    return broken, f"offset_groups={offset_groups} does not divide C_in={c_in}"


def _deform_negative_padding(draw: st.DrawFn, s: Setup, support: OpSupport) -> tuple[Setup, str]:
    p, x, w = _deform_parts(s)
    axis = draw_axis(draw, 2)
    crop = draw(st.integers(1, 2), label="crop")
    pair = pad_pair(support, -crop, p.padding[axis][1])
    padding = tuple(pair if a == axis else pads for a, pads in enumerate(p.padding))
    p = replace(p, padding=padding)
    k_eff = effective_kernel(w[axis + 2], p.dilation[axis])
    x = with_axis(x, axis + 2, max(x[axis + 2], k_eff - sum(pair), 1))
    broken = with_changes(s, p, x=x, **deform_sampling_shapes(s, p, x, w))
    return broken, f"padding {pair} on axis {axis}"


def _deform_offset_spatial(draw: st.DrawFn, s: Setup, support: OpSupport) -> tuple[Setup, str]:
    offset = shape_of(s, "offset")
    axis = draw_axis(draw, 2)
    size = offset[axis + 2]
    got = draw(st.sampled_from([size + 1] + ([size - 1] if size > 1 else [])), label="size")
    broken = with_axis(offset, axis + 2, got)
    return with_changes(s, offset=broken), f"offset of shape {broken}, expected {offset}"


def _deform_offset_channels(draw: st.DrawFn, s: Setup, support: OpSupport) -> tuple[Setup, str]:
    offset = shape_of(s, "offset")
    broken = (offset[0], offset[1] + 1, *offset[2:])
    return with_changes(s, offset=broken), f"offset of shape {broken}, expected {offset}"


def _deform_mask_shape(draw: st.DrawFn, s: Setup, support: OpSupport) -> tuple[Setup, str]:
    mask = shape_of(s, "mask")
    axis = draw(st.sampled_from((1, 2, 3)), label="mask_axis")
    broken = with_axis(mask, axis, mask[axis] + 1)
    return with_changes(s, mask=broken), f"mask of shape {broken}, expected {mask}"


DEFORM_KINDS = (
    Kind("groups_not_dividing_c_in", "DEFORM.2", _deform_groups_c_in, needs=("groups",)),
    Kind("groups_not_dividing_c_out", "DEFORM.2", _deform_groups_c_out, needs=("groups",)),
    Kind("weight_channels", "DEFORM.2", _deform_weight_channels),
    Kind("offset_groups_not_dividing", "DEFORM.2", _deform_offset_groups),
    Kind("stride", "DEFORM.2", _stride),
    Kind("dilation", "DEFORM.2", _dilation, needs=("dilation",)),
    Kind("negative_padding", "DEFORM.2", _deform_negative_padding),
    Kind("offset_spatial", "DEFORM.4", _deform_offset_spatial),
    Kind("offset_channels", "DEFORM.4", _deform_offset_channels),
    Kind("mask_shape", "DEFORM.4", _deform_mask_shape, needs=("mask",)),
    Kind("bias_shape", "DEFORM.7", _bias_shape, needs=("bias",)),
    Kind("input_extra_axis", "DEFORM.1", _input_extra_axis),
    Kind("weight_rank", "DEFORM.1", _weight_rank),
)


# --- channel shuffle (ERR.8) ---------------------------------------------------------------


def _shuffle_groups(draw: st.DrawFn, s: Setup, support: OpSupport) -> tuple[Setup, str]:
    x = shape_of(s, "x")
    g = draw(st.integers(2, 4), label="groups")
    c = g * draw(st.integers(0, 2), label="blocks") + draw(st.integers(1, g - 1), label="remainder")
    broken = with_changes(s, ChannelShuffle(g), x=(x[0], c, *x[2:]))
    return broken, f"groups={g} does not divide C={c}"


def _shuffle_groups_zero(draw: st.DrawFn, s: Setup, support: OpSupport) -> tuple[Setup, str]:
    g = _nonpositive(draw, "groups")
    return with_changes(s, ChannelShuffle(g)), f"groups={g}"


def _shuffle_input_rank(draw: st.DrawFn, s: Setup, support: OpSupport) -> tuple[Setup, str]:
    x = shape_of(s, "x")
    return with_changes(s, x=(x[0],)), f"input of shape {(x[0],)} has no channel axis"


SHUFFLE_KINDS = (
    Kind("groups_not_dividing", "SHUF.1", _shuffle_groups),
    Kind("groups_zero", "SHUF.1", _shuffle_groups_zero),
    Kind("input_rank", "SHUF.1", _shuffle_input_rank),
)


def kind(op: str, name: str, kinds: Mapping[str, tuple[Kind, ...]] | None = None) -> Kind:
    """The kind `name` of `op` in a table of kinds (by default the operation's violations of
    ERR.4-ERR.8, its record's `invalid_kinds`)."""
    for k in _operation(op).invalid_kinds if kinds is None else kinds[op]:
        if k.name == name:
            return k
    raise KeyError(f"{op} has no kind {name!r}")


def _operation(op: str) -> Operation:
    # Imported here: the records name this module's kinds and setups.
    from suites.operations import OPERATIONS

    return OPERATIONS[op]


def _base_setups(op: str) -> BaseSetups:
    setups = _operation(op).base_setups
    assert setups is not None, f"{op} has no error-suite setups (its record names none)"
    return setups


# --- ERR.16: what a declared extension gives a meaning to ----------------------------------

# The violation kind each extension gives a meaning to.
EXTENDS = {
    "input_missing_batch": "unbatched",
    # Under leading batch axes, the axes before the last r + 1 are batch axes: an input
    # with an extra axis has another meaning there, not none.
    "input_extra_axis": "leading_batch_axes",
    "output_padding_with_string": "output_padding_with_auto_pad",
}


def extension_meaning(setup: Setup) -> str | None:
    """The extension (EXTENDS) that would give the invalid `setup` a meaning, if any: for a
    configuration that comes from outside the strategies (--config), whose kind is unknown."""
    x, w, p = setup.shapes.get("x"), setup.shapes.get("w"), setup.params
    stride = getattr(p, "stride", None)
    if stride is None or x is None or w is None:
        return None
    rank = len(stride)
    if len(w) != rank + 2:  # the weight's own rank is wrong: no extension gives that a meaning
        return None
    if len(x) == rank + 1:
        return EXTENDS["input_missing_batch"]
    if len(x) > rank + 2:
        return EXTENDS["input_extra_axis"]
    if isinstance(p, ConvTranspose) and isinstance(p.padding, str) and any(p.output_padding):
        return EXTENDS["output_padding_with_string"]
    return None


# --- the strategies ----------------------------------------------------------------------


@st.composite
def invalid_setups(
    draw: st.DrawFn, support: OpSupport, op: str, name: str | None = None
) -> Invalid:
    """A configuration of `op` with one violation (of kind `name`, or any that applies)."""
    if name is None:
        options = [k for k in _operation(op).invalid_kinds if k.unsupported(op, support) is None]
        chosen = draw(st.sampled_from(options), label="violation")
    else:
        chosen = kind(op, name)
    setup, description = draw(broken_setups(support, op, chosen))
    check_rejected(setup, chosen.clause, description)
    return Invalid(setup, chosen.name, chosen.clause, description)


@st.composite
def broken_setups(draw: st.DrawFn, support: OpSupport, op: str, chosen: Kind) -> tuple[Setup, str]:
    """A declared configuration of `op` changed as `chosen` says, with what was changed."""
    reason = chosen.unsupported(op, support)
    if reason is not None:
        raise ValueError(f"{op}/{chosen.name} cannot be drawn: {reason}")
    base = draw(base_setup(op, support, chosen), label="valid_setup")
    return chosen.breaker(draw, base, support)


def _zeros(setup: Setup) -> dict[str, np.ndarray | None]:
    return {k: None if v is None else np.zeros(v) for k, v in setup.shapes.items()}


def reference_check(setup: Setup) -> None:
    """Run the reference's validation of `setup` (raises SpecError if it is invalid; KeyError
    for an operation the reference does not validate as one, such as a composite block)."""
    validate = _operation(setup.op).validate
    if validate is None:
        raise KeyError(setup.op)
    validate(_zeros(setup), setup.params)


def check_rejected(setup: Setup, clause: str, description: str) -> None:
    """The reference must reject `setup` citing `clause` (else the strategy is wrong)."""
    try:
        reference_check(setup)
    except SpecError as exc:
        if exc.clause != clause:
            raise StrategyError(
                f"violation '{description}' should break {clause}, but the reference rejects "
                f"{setup} citing {exc.clause}: {exc}"
            ) from None
        return
    raise StrategyError(f"violation '{description}' ({clause}): the reference accepts {setup}")


# --- ERR.9: negative zero padding, valid but undeclared ------------------------------------


@st.composite
def negative_zero_padding(draw: st.DrawFn, support: OpSupport) -> Setup:
    """A valid convolution with a negative explicit amount in zeros mode (PAD.3, ERR.9)."""
    base = draw(strategies.conv_setups(support, forms=EXPLICIT, modes=("zeros",)), label="valid")
    p, x, w, _ = _conv_parts(base)
    assert isinstance(p.padding, tuple)
    axis = draw_axis(draw, p.rank)
    crop = draw(st.integers(1, 2), label="crop")
    pair = pad_pair(support, -crop, p.padding[axis][1])
    padding = tuple(pair if a == axis else pads for a, pads in enumerate(p.padding))
    k_eff = effective_kernel(w[axis + 2], p.dilation[axis])
    n = max(x[axis + 2], k_eff - sum(pair), 1) + draw(st.integers(0, 2), label="extra_size")
    params = replace(p, padding=padding)
    shapes = {**base.shapes, "x": with_axis(x, axis + 2, n)}
    # Lengths changed nothing, but the sizes did: exact mode is chosen afresh (NUM.5).
    return draw(strategies.with_numerics(support, CONV, params, shapes))


# --- operands for a configuration whose shapes may be anything -------------------------------


def operands(setup: Setup) -> Example:
    """Small integer-valued arrays of the setup's (possibly invalid) shapes, in its dtype.

    Offsets are zero (a regular grid) and masks one, so that nothing but the violation
    is unusual about the call.
    """
    dtype = numpy_dtype(setup.dtype)
    arrays: dict[str, np.ndarray | None] = {}
    for name, shape in setup.shapes.items():
        if shape is None:
            arrays[name] = None
        elif name == "offset":
            arrays[name] = np.zeros(shape, dtype=dtype)
        elif name == "mask":
            arrays[name] = np.ones(shape, dtype=dtype)
        else:
            size = int(np.prod(shape))
            arrays[name] = (np.arange(size) % 5 - 2).reshape(shape).astype(dtype)
    return Example(setup, arrays)
