"""What a backend's VJP must return: per gradient, the reference values, M and n (GRAD.13).

The gradient counterpart of suites/oracle.py, reusing its Expectation and size
threshold: the scalar loops of reference/gradients.py compute the values when the
configuration is small, the vectorized oracles otherwise.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from adapters.base import CONV, CONV_TRANSPOSE, DEFORM_CONV, DEPTHWISE_CONV, Adapter
from reference import gradients
from reference.numerics import exact_value_range
from reference.params import Conv, ConvTranspose, DeformConv, Params
from reference.sizes import conv_output_shape
from suites.example import Setup
from suites.oracle import LOOP_LIMIT, Expectation, macs

Arrays = Mapping[str, np.ndarray | None]

# The clause each gradient's values are checked against.
CLAUSES = {
    CONV: {"x": "GRAD.3", "w": "GRAD.5", "b": "GRAD.2"},
    # A dedicated depthwise API computes CONV.2 with groups = C_in (GRP.2).
    DEPTHWISE_CONV: {"x": "GRAD.3", "w": "GRAD.5", "b": "GRAD.2"},
    CONV_TRANSPOSE: {"x": "GRAD.6", "w": "GRAD.7", "b": "GRAD.2"},
    DEFORM_CONV: {
        "x": "GRAD.10",
        "offset": "GRAD.11",
        "mask": "GRAD.9",
        "w": "GRAD.8",
        "b": "GRAD.2",
    },
}

# GRAD.12: the offsets of gradient tests sit half a step off DEFORM's 1/8 grid.
OFFSET_SHIFT = 1 / 16
# GRAD.13: corner weights are multiples of 1/16^2.
DEFORM_SCALE = 256


def _f64(a: np.ndarray | None) -> np.ndarray | None:
    return None if a is None else np.asarray(a, dtype=np.float64)


def _abs(a: np.ndarray | None) -> np.ndarray | None:
    return None if a is None else np.abs(np.asarray(a, dtype=np.float64))


def expect(op: str, arrays: Arrays, p: Params, cotangent: np.ndarray) -> dict[str, Expectation]:
    """The reference gradient of every operand present, with its M and n (GRAD.13)."""
    g = np.asarray(cotangent, dtype=np.float64)
    x, w, b = _f64(arrays["x"]), _f64(arrays["w"]), _f64(arrays.get("b"))
    assert x is not None and w is not None
    if op in (CONV, DEPTHWISE_CONV) and isinstance(p, Conv):
        small = macs(conv_output_shape(x.shape, w.shape, p), w.shape) <= LOOP_LIMIT
        values = (gradients.conv_vjp if small else gradients.conv_vjp_fast)(x, w, b, p, g)
        magnitude = gradients.conv_vjp_fast(np.abs(x), np.abs(w), _abs(b), p, np.abs(g))
        terms = gradients.conv_gradient_terms(x.shape, w.shape, p, b is not None)
    elif op == CONV_TRANSPOSE and isinstance(p, ConvTranspose):
        small = macs(x.shape, w.shape) <= LOOP_LIMIT
        vjp = gradients.conv_transpose_vjp if small else gradients.conv_transpose_vjp_fast
        values = vjp(x, w, b, p, g)
        magnitude = gradients.conv_transpose_vjp_fast(np.abs(x), np.abs(w), _abs(b), p, np.abs(g))
        terms = gradients.conv_transpose_gradient_terms(x.shape, w.shape, p, b is not None)
    elif op == DEFORM_CONV and isinstance(p, DeformConv):
        off, mask = _f64(arrays["offset"]), _f64(arrays.get("mask"))
        assert off is not None
        args = (x, off, mask, w, b, p, g)
        # The loop does about 8 times a forward term's work per term.
        small = macs(off.shape, w.shape) <= LOOP_LIMIT // 8
        values = (gradients.deform_conv_vjp if small else gradients.deform_conv_vjp_fast)(*args)
        magnitude = gradients.deform_conv_vjp_magnitude(*args)
        terms = gradients.deform_conv_gradient_terms(
            x.shape, w.shape, off, p, mask is not None, b is not None
        )
    else:
        raise KeyError(f"no gradient oracle for {op} with {type(p).__name__}")
    return {k: Expectation(values[k], magnitude[k], terms[k]) for k in values}


def exact_range(setup: Setup) -> int:
    """GRAD.13: integer operands in [-m, m] keep every gradient exact; 0 if none fits.

    Decided from shapes alone (before any array is drawn), on the largest length among
    the gradients the suite checks.
    """
    shapes, p, bias = setup.shapes, setup.params, setup.shapes.get("b") is not None
    x, w = shapes["x"], shapes["w"]
    assert x is not None and w is not None
    if setup.op in (CONV, DEPTHWISE_CONV) and isinstance(p, Conv):
        terms = gradients.conv_gradient_terms(x, w, p, bias)
        return exact_value_range(max(terms.values()), setup.dtype)
    if setup.op == CONV_TRANSPOSE and isinstance(p, ConvTranspose):
        terms = gradients.conv_transpose_gradient_terms(x, w, p, bias)
        return exact_value_range(max(terms.values()), setup.dtype)
    if setup.op == DEFORM_CONV and isinstance(p, DeformConv):
        offset = shapes["offset"]
        assert offset is not None
        longest = gradients.deform_conv_gradient_terms_bound(x, w, offset[2:], p)
        factors = 4 if shapes.get("mask") is not None else 3
        return exact_value_range(DEFORM_SCALE * longest, setup.dtype, factors)
    raise KeyError(f"no gradient oracle for {setup.op}")


def run(adapter: Adapter, op: str, arrays: Arrays, p: Params, cotangent: np.ndarray) -> object:
    """Call the backend's VJP with the example's operands (all of them, None where absent)."""
    return adapter.vjp(op, arrays, p, cotangent)
