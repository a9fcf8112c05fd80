"""What each operation must return: the reference result, its magnitude term and length.

The scalar loop (the definition) computes the expected values whenever the
configuration is small enough; above LOOP_LIMIT multiply-adds the vectorized
float64 oracle does, which the reference self-tests prove equal to the loop.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from adapters.base import Adapter
from reference import conv as conv_ref
from reference import deformable, grouped, separable, shuffle, transposed
from reference.numerics import error_bound, exact_value_range
from reference.params import ChannelShuffle, Conv, ConvTranspose, DeformConv, Params
from reference.sizes import conv_output_shape, conv_transpose_output_shape
from suites import composites

LOOP_LIMIT = 20_000

Arrays = Mapping[str, np.ndarray | None]


@dataclass(frozen=True)
class Expectation:
    values: np.ndarray  # float64
    magnitude: np.ndarray  # NUM.2's M, float64, same shape
    terms: int  # NUM.2's accumulation length n

    def bound(self, dtype: str, exact: bool) -> np.ndarray:
        """The error NUM.3 allows each element in `dtype`, E_n(M) of NUM.2; none in exact
        mode (NUM.5)."""
        return Expectation.bound_of(self.magnitude, self.terms, dtype, exact)

    @staticmethod
    def bound_of(magnitude: np.ndarray, terms: int, dtype: str, exact: bool) -> np.ndarray:
        """`bound` for a result known only by its magnitude and length: each side of a
        relation (REL.2), which compares two backend results and no reference values."""
        if exact:
            return np.zeros_like(magnitude)  # the same shape and float64, as `values`
        return error_bound(magnitude, terms, dtype)


def _f64(a: np.ndarray | None) -> np.ndarray | None:
    return None if a is None else np.asarray(a, dtype=np.float64)


def _abs(a: np.ndarray | None) -> np.ndarray | None:
    return None if a is None else np.abs(np.asarray(a, dtype=np.float64))


def macs(shape_out: tuple[int, ...], w_shape: tuple[int, ...]) -> int:
    return int(np.prod(shape_out)) * int(np.prod(w_shape[1:]))


def loop_affordable(work: int, shape_out: tuple[int, ...], limit: int = 0) -> bool:
    """Whether the scalar loop (the definition) runs here rather than its proven-equal fast
    oracle: its work and its output (an empty sum still visits every output) both small."""
    limit = limit or LOOP_LIMIT
    return work <= limit and int(np.prod(shape_out)) <= limit


def _conv(a: Arrays, p: Params) -> Expectation:
    assert isinstance(p, Conv)
    x, w, b = _f64(a["x"]), _f64(a["w"]), _f64(a.get("b"))
    assert x is not None and w is not None
    out = conv_output_shape(x.shape, w.shape, p)
    small = loop_affordable(macs(out, w.shape), out)
    values = (conv_ref.conv if small else conv_ref.conv_fast)(x, w, b, p)
    magnitude = conv_ref.conv_fast(np.abs(x), np.abs(w), _abs(b), p)
    return Expectation(values, magnitude, conv_ref.accumulation_terms(w.shape, p, b is not None))


def _depthwise(a: Arrays, p: Params) -> Expectation:
    """GRP.2: the depthwise convolution is the grouped convolution with groups = C_in, after
    its own checks (grouped.depthwise_conv): the scalar loop, or where that is too long its
    proven-equal fast form, as for any convolution."""
    assert isinstance(p, Conv)
    x, w = _f64(a["x"]), _f64(a["w"])
    assert x is not None and w is not None
    grouped.check_depthwise(x, w, p)
    return _conv(a, p)


def _separable(a: Arrays, p: Params) -> Expectation:
    """NUM.6: a composition's bound uses the composition of magnitudes and summed lengths.

    SEP.1's definition where its loops are affordable; elsewhere the same two steps with
    the fast convolution (the pointwise step is the 1x1 convolution, GRP.3)."""
    assert isinstance(p, Conv)
    x, wd, wp, b = _f64(a["x"]), _f64(a["w_depth"]), _f64(a["w_point"]), _f64(a.get("b"))
    assert x is not None and wd is not None and wp is not None
    hidden = conv_output_shape(x.shape, wd.shape, p)
    out = (hidden[0], wp.shape[0], *hidden[2:])
    work = macs(hidden, wd.shape) + macs(out, wp.shape)
    if loop_affordable(work, out):
        values = separable.depthwise_separable(x, wd, wp, None, b, p)
    else:
        grouped.check_depthwise(x, wd, p)
        values = _separable_fast(x, wd, wp, b, p)
    magnitude = _separable_fast(np.abs(x), np.abs(wd), np.abs(wp), _abs(b), p)
    terms = int(np.prod(wd.shape[1:])) + int(np.prod(wp.shape[1:])) + 2
    return Expectation(values, magnitude, terms)


def _separable_fast(
    x: np.ndarray, wd: np.ndarray, wp: np.ndarray, b: np.ndarray | None, p: Conv
) -> np.ndarray:
    hidden = conv_ref.conv_fast(x, wd, None, p)
    rank = x.ndim - 2
    point = wp.reshape(wp.shape[0], -1, *([1] * rank))
    unit = Conv(stride=(1,) * rank, dilation=(1,) * rank, padding=((0, 0),) * rank)
    return conv_ref.conv_fast(hidden, point, b, unit)


def _conv_transpose(a: Arrays, p: Params) -> Expectation:
    assert isinstance(p, ConvTranspose)
    x, w, b = _f64(a["x"]), _f64(a["w"]), _f64(a.get("b"))
    assert x is not None and w is not None
    small = loop_affordable(
        macs(x.shape, w.shape), conv_transpose_output_shape(x.shape, w.shape, p)
    )
    values = (transposed.conv_transpose if small else transposed.conv_transpose_fast)(x, w, b, p)
    magnitude = transposed.conv_transpose_fast(np.abs(x), np.abs(w), _abs(b), p)
    return Expectation(values, magnitude, transposed.accumulation_terms(w.shape, p, b is not None))


def _deform(a: Arrays, p: Params) -> Expectation:
    assert isinstance(p, DeformConv)
    x, off, m, w, b = (_f64(a[k]) if k in a else None for k in ("x", "offset", "mask", "w", "b"))
    assert x is not None and off is not None and w is not None
    small = macs(off.shape, w.shape) <= LOOP_LIMIT // 4
    values = (deformable.deform_conv if small else deformable.deform_conv_fast)(x, off, m, w, b, p)
    # Bilinear weights are non-negative, so |.| of the other operands bounds every term (NUM.2).
    magnitude = deformable.deform_conv_fast(np.abs(x), off, _abs(m), np.abs(w), _abs(b), p)
    return Expectation(values, magnitude, deformable.accumulation_terms(w.shape, p, b is not None))


def _shuffle(a: Arrays, p: Params) -> Expectation:
    assert isinstance(p, ChannelShuffle)
    x = _f64(a["x"])
    assert x is not None
    values = shuffle.channel_shuffle(x, p)
    return Expectation(values, np.abs(values), 0)


def _composite(op: str) -> Callable[[Arrays, Params], Expectation]:
    """NUM.6: the composition's magnitude on absolute values; stage lengths plus one per stage."""

    def expect_composite(a: Arrays, p: Params) -> Expectation:
        assert isinstance(p, Conv)
        values = composites.reference(op, {k: _f64(v) for k, v in a.items()}, p)
        magnitude = composites.reference(op, {k: _abs(v) for k, v in a.items()}, p)
        stages = composites.lengths(op, {k: None if v is None else v.shape for k, v in a.items()})
        return Expectation(values, magnitude, sum(stages) + len(stages))

    return expect_composite


EXPECTATIONS: dict[str, Callable[[Arrays, Params], Expectation]] = {
    "conv": _conv,
    "depthwise_conv": _depthwise,
    "separable_conv": _separable,
    "conv_transpose": _conv_transpose,
    "deform_conv": _deform,
    "channel_shuffle": _shuffle,
    **{op: _composite(op) for op in composites.NEEDS},
}


def expect(op: str, arrays: Arrays, p: Params) -> Expectation:
    return EXPECTATIONS[op](arrays, p)


def exact_range(
    op: str, shapes: Mapping[str, tuple[int, ...] | None], p: Params, dtype: str
) -> int:
    """NUM.5: the largest integer magnitude m of inputs that keeps this operation exact (0: none)."""
    w = shapes.get("w")
    bias = shapes.get("b") is not None
    if op in ("conv", "depthwise_conv"):
        assert w is not None and isinstance(p, Conv)
        return exact_value_range(conv_ref.accumulation_terms(w, p, bias), dtype)
    if op == "separable_conv":
        wd, wp = shapes["w_depth"], shapes["w_point"]
        assert wd is not None and wp is not None
        stages = [int(np.prod(wd[1:])), int(np.prod(wp[1:])) + 1]
        return exact_value_range(int(np.prod([n + 1 for n in stages])), dtype, factors=3)
    if op in composites.NEEDS:
        # |stage i| <= (n_i + 1) * m * |stage i-1|, starting from |x| <= m.
        stages = composites.lengths(op, shapes)
        length = int(np.prod([n + 1 for n in stages]))
        return exact_value_range(length, dtype, factors=len(stages) + 1)
    if op == "conv_transpose":
        assert w is not None and isinstance(p, ConvTranspose)
        return exact_value_range(transposed.accumulation_terms(w, p, bias), dtype)
    if op == "deform_conv":
        # Bilinear weights are multiples of 1/64 (offsets on the 1/8 grid, NUM.4): 6 more
        # bits; the mask is a third integer factor of every term.
        assert w is not None and isinstance(p, DeformConv)
        factors = 3 if shapes.get("mask") is not None else 2
        return exact_value_range(64 * deformable.accumulation_terms(w, p, bias), dtype, factors)
    return exact_value_range(1, dtype)  # a permutation: any representable integer


def expected_shape(
    op: str, shapes: Mapping[str, tuple[int, ...] | None], p: Params
) -> tuple[int, ...]:
    x, w = shapes["x"], shapes.get("w")
    assert x is not None
    if op == "conv" or op == "depthwise_conv":
        assert w is not None and isinstance(p, Conv)
        return conv_output_shape(x, w, p)
    if op in composites.NEEDS:
        assert isinstance(p, Conv)
        values = composites.reference(
            op, {k: np.zeros(v) if v else None for k, v in shapes.items()}, p
        )
        return values.shape
    if op == "separable_conv":
        wp = shapes["w_point"]
        wd = shapes["w_depth"]
        assert wp is not None and wd is not None and isinstance(p, Conv)
        return (x[0], wp[0], *conv_output_shape(x, wd, p)[2:])
    if op == "conv_transpose":
        assert w is not None and isinstance(p, ConvTranspose)
        return conv_transpose_output_shape(x, w, p)
    if op == "deform_conv":
        assert w is not None and isinstance(p, DeformConv)
        conv = Conv(stride=p.stride, dilation=p.dilation, padding=p.padding, groups=p.groups)
        return conv_output_shape(x, w, conv)
    return tuple(x)


def run(adapter: Adapter, op: str, arrays: Arrays, p: Params) -> np.ndarray:
    """Call the backend's operation with the example's operands."""
    a = arrays
    if op == "conv":
        return adapter.conv(a["x"], a["w"], a.get("b"), p)  # type: ignore[arg-type]
    if op == "depthwise_conv":
        return adapter.depthwise_conv(a["x"], a["w"], a.get("b"), p)  # type: ignore[arg-type]
    if op == "separable_conv":
        return adapter.separable_conv(a["x"], a["w_depth"], a["w_point"], a.get("b"), p)  # type: ignore[arg-type]
    if op == "conv_transpose":
        return adapter.conv_transpose(a["x"], a["w"], a.get("b"), p)  # type: ignore[arg-type]
    if op == "deform_conv":
        return adapter.deform_conv(a["x"], a["offset"], a.get("mask"), a["w"], a.get("b"), p)  # type: ignore[arg-type]
    if op == "channel_shuffle":
        return adapter.channel_shuffle(a["x"], p)  # type: ignore[arg-type]
    if op in composites.NEEDS:
        return composites.run(adapter, op, a, p)  # type: ignore[arg-type]
    raise KeyError(op)
