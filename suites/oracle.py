"""What each operation must return: the reference result, its magnitude term and length,
the range of exact inputs (NUM.5) and the output shape.

The scalar loop (the definition) computes the expected values whenever the
configuration is small enough; above LOOP_LIMIT multiply-adds the vectorized
float64 oracle does, which the reference self-tests prove equal to the loop.

The functions here are per operation; each operation's record (suites/operations.py)
names its own, and `expect`, `exact_range`, `expected_shape` and `run` look them up by name.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from adapters.base import Adapter
from reference import conv as conv_ref
from reference import deformable, grouped, separable, shuffle, transposed
from reference.numerics import error_bound, exact_value_range
from reference.params import Conv, ConvTranspose, DeformConv, Params
from reference.sizes import conv_output_shape, conv_transpose_output_shape
from suites import composites

if TYPE_CHECKING:
    from suites.operations import Operation

LOOP_LIMIT = 20_000

Arrays = Mapping[str, np.ndarray | None]
OperandShapes = Mapping[str, tuple[int, ...] | None]


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


def expect_conv(a: Arrays, p: Params) -> Expectation:
    assert isinstance(p, Conv)
    x, w, b = _f64(a["x"]), _f64(a["w"]), _f64(a.get("b"))
    assert x is not None and w is not None
    out = conv_output_shape(x.shape, w.shape, p)
    small = loop_affordable(macs(out, w.shape), out)
    values = (conv_ref.conv if small else conv_ref.conv_fast)(x, w, b, p)
    magnitude = conv_ref.conv_fast(np.abs(x), np.abs(w), _abs(b), p)
    return Expectation(values, magnitude, conv_ref.accumulation_terms(w.shape, p, b is not None))


def expect_depthwise(a: Arrays, p: Params) -> Expectation:
    """GRP.2: the depthwise convolution is the grouped convolution with groups = C_in, after
    its own checks (grouped.depthwise_conv): the scalar loop, or where that is too long its
    proven-equal fast form, as for any convolution."""
    assert isinstance(p, Conv)
    x, w = _f64(a["x"]), _f64(a["w"])
    assert x is not None and w is not None
    grouped.check_depthwise(x, w, p)
    return expect_conv(a, p)


def expect_separable(a: Arrays, p: Params) -> Expectation:
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


def expect_conv_transpose(a: Arrays, p: Params) -> Expectation:
    assert isinstance(p, ConvTranspose)
    x, w, b = _f64(a["x"]), _f64(a["w"]), _f64(a.get("b"))
    assert x is not None and w is not None
    small = loop_affordable(
        macs(x.shape, w.shape), conv_transpose_output_shape(x.shape, w.shape, p)
    )
    values = (transposed.conv_transpose if small else transposed.conv_transpose_fast)(x, w, b, p)
    magnitude = transposed.conv_transpose_fast(np.abs(x), np.abs(w), _abs(b), p)
    return Expectation(values, magnitude, transposed.accumulation_terms(w.shape, p, b is not None))


def expect_deform(a: Arrays, p: Params) -> Expectation:
    assert isinstance(p, DeformConv)
    x, off, m, w, b = (_f64(a[k]) if k in a else None for k in ("x", "offset", "mask", "w", "b"))
    assert x is not None and off is not None and w is not None
    small = macs(off.shape, w.shape) <= LOOP_LIMIT // 4
    values = (deformable.deform_conv if small else deformable.deform_conv_fast)(x, off, m, w, b, p)
    # Bilinear weights are non-negative, so |.| of the other operands bounds every term (NUM.2).
    magnitude = deformable.deform_conv_fast(np.abs(x), off, _abs(m), np.abs(w), _abs(b), p)
    return Expectation(values, magnitude, deformable.accumulation_terms(w.shape, p, b is not None))


def expect_permutation(
    definition: Callable[[np.ndarray, Any], np.ndarray],
) -> Callable[[Arrays, Params], Expectation]:
    """An operation that only moves its input's values (SHUF.2): `definition(x, p)` gives
    them, bit-exact, with no accumulation."""

    def expectation(a: Arrays, p: Params) -> Expectation:
        x = _f64(a["x"])
        assert x is not None
        values = definition(x, p)
        return Expectation(values, np.abs(values), 0)

    return expectation


expect_shuffle = expect_permutation(shuffle.channel_shuffle)


def expect_composite(op: str, weights: tuple[str, ...]) -> Callable[[Arrays, Params], Expectation]:
    """NUM.6: the composition's magnitude on absolute values; stage lengths plus one per stage.
    `weights`: the composite's weight operands, one per stage, in order."""

    def expectation(a: Arrays, p: Params) -> Expectation:
        assert isinstance(p, Conv)
        values = composites.reference(op, {k: _f64(v) for k, v in a.items()}, p)
        magnitude = composites.reference(op, {k: _abs(v) for k, v in a.items()}, p)
        shapes = {k: None if v is None else v.shape for k, v in a.items()}
        stages = composites.lengths(weights, shapes)
        return Expectation(values, magnitude, sum(stages) + len(stages))

    return expectation


# --- NUM.5: the largest integer magnitude m of inputs that keeps an operation exact (0: none) --


def conv_range(shapes: OperandShapes, p: Params, dtype: str) -> int:
    """A convolution's (CONV.2, GRP.2) range: one accumulation of its length."""
    w = shapes.get("w")
    assert w is not None and isinstance(p, Conv)
    return exact_value_range(conv_ref.accumulation_terms(w, p, shapes.get("b") is not None), dtype)


def separable_range(shapes: OperandShapes, p: Params, dtype: str) -> int:
    wd, wp = shapes["w_depth"], shapes["w_point"]
    assert wd is not None and wp is not None
    stages = [int(np.prod(wd[1:])), int(np.prod(wp[1:])) + 1]
    return exact_value_range(int(np.prod([n + 1 for n in stages])), dtype, factors=3)


def composite_range(weights: tuple[str, ...]) -> Callable[[OperandShapes, Params, str], int]:
    """A composite's range, from its stages' lengths (`weights`: one weight per stage)."""

    def range_of(shapes: OperandShapes, p: Params, dtype: str) -> int:
        # |stage i| <= (n_i + 1) * m * |stage i-1|, starting from |x| <= m.
        stages = composites.lengths(weights, shapes)
        length = int(np.prod([n + 1 for n in stages]))
        return exact_value_range(length, dtype, factors=len(stages) + 1)

    return range_of


def conv_transpose_range(shapes: OperandShapes, p: Params, dtype: str) -> int:
    w = shapes.get("w")
    assert w is not None and isinstance(p, ConvTranspose)
    bias = shapes.get("b") is not None
    return exact_value_range(transposed.accumulation_terms(w, p, bias), dtype)


def deform_range(shapes: OperandShapes, p: Params, dtype: str) -> int:
    # Bilinear weights are multiples of 1/64 (offsets on the 1/8 grid, NUM.4): 6 more
    # bits; the mask is a third integer factor of every term.
    w = shapes.get("w")
    assert w is not None and isinstance(p, DeformConv)
    factors = 3 if shapes.get("mask") is not None else 2
    bias = shapes.get("b") is not None
    return exact_value_range(64 * deformable.accumulation_terms(w, p, bias), dtype, factors)


def permutation_range(shapes: OperandShapes, p: Params, dtype: str) -> int:
    """A permutation (SHUF.2) moves values: any representable integer stays exact."""
    return exact_value_range(1, dtype)


# --- the output shape of each operation's size clause ---------------------------------------


def conv_shape(shapes: OperandShapes, p: Params) -> tuple[int, ...]:
    x, w = shapes["x"], shapes.get("w")
    assert x is not None and w is not None and isinstance(p, Conv)
    return conv_output_shape(x, w, p)


def separable_shape(shapes: OperandShapes, p: Params) -> tuple[int, ...]:
    x, wp, wd = shapes["x"], shapes["w_point"], shapes["w_depth"]
    assert x is not None and wp is not None and wd is not None and isinstance(p, Conv)
    return (x[0], wp[0], *conv_output_shape(x, wd, p)[2:])


def composite_shape(op: str) -> Callable[[OperandShapes, Params], tuple[int, ...]]:
    """A composite's shape: its definition's, on zeros."""

    def shape_of(shapes: OperandShapes, p: Params) -> tuple[int, ...]:
        assert shapes["x"] is not None and isinstance(p, Conv)
        zeros = {k: np.zeros(v) if v else None for k, v in shapes.items()}
        values = composites.reference(op, zeros, p)
        return values.shape

    return shape_of


def conv_transpose_shape(shapes: OperandShapes, p: Params) -> tuple[int, ...]:
    x, w = shapes["x"], shapes.get("w")
    assert x is not None and w is not None and isinstance(p, ConvTranspose)
    return conv_transpose_output_shape(x, w, p)


def deform_shape(shapes: OperandShapes, p: Params) -> tuple[int, ...]:
    x, w = shapes["x"], shapes.get("w")
    assert x is not None and w is not None and isinstance(p, DeformConv)
    conv = Conv(stride=p.stride, dilation=p.dilation, padding=p.padding, groups=p.groups)
    return conv_output_shape(x, w, conv)


def same_shape(shapes: OperandShapes, p: Params) -> tuple[int, ...]:
    """The input's shape (SHUF.1)."""
    x = shapes["x"]
    assert x is not None
    return tuple(x)


# --- by operation name: the records of suites/operations.py ---------------------------------


def expect(op: str, arrays: Arrays, p: Params) -> Expectation:
    return _operation(op).expect(arrays, p)


def exact_range(op: str, shapes: OperandShapes, p: Params, dtype: str) -> int:
    """NUM.5: the largest integer magnitude m of inputs that keeps this operation exact (0: none)."""
    return _operation(op).exact_range(shapes, p, dtype)


def expected_shape(op: str, shapes: OperandShapes, p: Params) -> tuple[int, ...]:
    return _operation(op).output_shape(shapes, p)


def run(adapter: Adapter, op: str, arrays: Arrays, p: Params) -> np.ndarray:
    """Call the backend's operation with the example's operands."""
    return _operation(op).call(adapter, arrays, p)


def _operation(op: str) -> Operation:
    # Imported here: the records name this module's functions.
    from suites.operations import OPERATIONS

    return OPERATIONS[op]
