"""GRAD: vector-Jacobian products of convolution, transposed and deformable convolution.

For each operation a backend declares in `capabilities.gradients`, a configuration is
drawn with the forward strategies, the operands and a cotangent g from drawn value
schemes (suites/values.py) in the tested dtype, and `backend.vjp` must return exactly
one gradient per operand present, of the operand's shape and dtype, within NUM.3 of the
reference (exactly in exact mode) with each gradient's own magnitude term and
accumulation length (GRAD.13).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.base import CONV, CONV_TRANSPOSE, DEFORM_CONV, DEPTHWISE_CONV, Adapter, OpSupport
from reference import deformable
from reference.numerics import PRECISION, numpy_dtype
from reference.params import DeformConv
from suites import gradient_oracle, oracle, outcomes, strategies, values
from suites.example import Example, Setup
from suites.gradient_checks import check_gradients, exact_or_bounded
from suites.support import require


def require_gradients(adapter: Adapter, op: str, **needs: object) -> OpSupport:
    """The backend's support for `op`, or 'unsupported' unless it declares op's gradients."""
    if op not in adapter.capabilities.gradients:
        outcomes.unsupported(f"{adapter.name} declares no gradient of {op}")
    return require(adapter, op, **needs)


def gradient_offsets(data: st.DataObject, setup: Setup) -> np.ndarray:
    """GRAD.12: DEFORM's 1/8 grid moved by 1/16, so no sampling coordinate is an integer.

    Every position is then an odd multiple of 1/16, exact in a format of precision p
    while |position| < 2^(p-4); the strategies' sizes keep it so, and a setup that did not
    would be a defect of the strategies, not of the backend.
    """
    shape = setup.shapes["offset"]
    assert shape is not None
    offset = values.draw_offsets(data.draw, "offset", shape) + gradient_oracle.OFFSET_SHIFT
    x, w, p = setup.shapes["x"], setup.shapes["w"], setup.params
    assert x is not None and w is not None and isinstance(p, DeformConv)
    py, px = deformable.sampling_positions(x, w, offset, p)
    reach = float(max(np.abs(py).max(initial=0.0), np.abs(px).max(initial=0.0)))
    assert reach < 2.0 ** (PRECISION[setup.dtype] - 4), (
        f"sampling positions up to {reach} are not exact in {setup.dtype} (GRAD.12)"
    )
    return offset.astype(numpy_dtype(setup.dtype))


def draw_example(data: st.DataObject, setup: Setup) -> tuple[Example, np.ndarray]:
    """Operands and a cotangent for `setup` in its dtype, in exact mode where GRAD.13 allows
    it (gradient_checks.exact_or_bounded)."""
    setup, exact_range = exact_or_bounded(setup)
    arrays: dict[str, np.ndarray | None] = {}
    for name, shape in setup.shapes.items():
        if shape is None:
            arrays[name] = None
        elif name == "offset":
            arrays[name] = gradient_offsets(data, setup)
        else:
            arrays[name] = values.draw_array(data.draw, name, shape, setup.dtype, exact_range)
    out = oracle.expected_shape(setup.op, setup.shapes, setup.params)
    cotangent = values.draw_array(data.draw, "cotangent", out, setup.dtype, exact_range)
    return Example(setup, arrays), cotangent


# --- convolution -----------------------------------------------------------------


@pytest.mark.clauses("GRAD.1", "GRAD.2", "GRAD.3", "GRAD.5", "GRAD.13", "NUM.3", "NUM.5")
@given(data=st.data())
def test_conv_gradients(backend, data) -> None:
    """x, w and b gradients of any declared convolution: every form, mode and rank."""
    support = require_gradients(backend, CONV)
    setup = data.draw(strategies.conv_setups(support), label="setup")
    check_gradients(backend, *draw_example(data, setup))


@pytest.mark.clauses("GRAD.3", "GRAD.4", "GRAD.5", "CONV.3")
@given(data=st.data())
def test_conv_gradients_strided(backend, data) -> None:
    """stride >= 2: windows skip positions; trailing inputs no window reads get 0 (GRAD.4)."""
    support = require_gradients(backend, CONV)
    setup = data.draw(strategies.conv_setups(support, strided=True), label="setup")
    check_gradients(backend, *draw_example(data, setup))


@pytest.mark.clauses("GRAD.3", "GRAD.5", "PAD.9", "PAD.10", "PAD.11")
@given(data=st.data())
def test_conv_gradients_fold_the_padding(backend, data) -> None:
    """reflect, replicate, circular: the padding's gradient lands on the element it reads."""
    modes = frozenset({"reflect", "replicate", "circular"})
    support = require_gradients(backend, CONV, padding_modes=modes)
    setup = data.draw(strategies.conv_setups(support, modes=tuple(sorted(modes))), label="setup")
    check_gradients(backend, *draw_example(data, setup))


@pytest.mark.clauses("GRAD.3", "GRAD.5", "CONV.6")
@given(data=st.data())
def test_conv_gradients_grouped(backend, data) -> None:
    support = require_gradients(backend, CONV, groups=True)
    setup = data.draw(strategies.conv_setups(support, grouped=True), label="setup")
    check_gradients(backend, *draw_example(data, setup))


@pytest.mark.clauses("GRAD.3", "GRAD.5", "GRP.2")
@given(data=st.data())
def test_depthwise_api_gradients(backend, data) -> None:
    """The dedicated depthwise API (GRP.2): the gradients of CONV.2 with groups = C_in."""
    support = require_gradients(backend, DEPTHWISE_CONV)
    setup = data.draw(
        strategies.conv_setups(support, op=DEPTHWISE_CONV, depthwise=True), label="setup"
    )
    check_gradients(backend, *draw_example(data, setup))


# --- transposed convolution --------------------------------------------------------


@pytest.mark.clauses("GRAD.1", "GRAD.2", "GRAD.6", "GRAD.7", "GRAD.13", "NUM.3", "NUM.5")
@given(data=st.data())
def test_transposed_gradients(backend, data) -> None:
    support = require_gradients(backend, CONV_TRANSPOSE)
    setup = data.draw(strategies.transposed_setups(support), label="setup")
    check_gradients(backend, *draw_example(data, setup))


@pytest.mark.clauses("GRAD.6", "GRAD.7", "TCONV.3")
@given(data=st.data())
def test_transposed_gradients_strided(backend, data) -> None:
    """stride >= 2 with output_padding: positions no input reaches carry no gradient back."""
    support = require_gradients(backend, CONV_TRANSPOSE)
    setup = data.draw(strategies.transposed_setups(support, strided=True), label="setup")
    check_gradients(backend, *draw_example(data, setup))


# --- deformable convolution ----------------------------------------------------------


@pytest.mark.clauses("GRAD.1", "GRAD.2", "GRAD.8", "GRAD.10", "GRAD.11", "GRAD.12", "GRAD.13")
@given(data=st.data())
def test_deform_gradients(backend, data) -> None:
    """v1: x, offset, w and b gradients, sampling points off the integer kinks (GRAD.12)."""
    support = require_gradients(backend, DEFORM_CONV)
    setup = data.draw(strategies.deform_setups(support, masked=False), label="setup")
    check_gradients(backend, *draw_example(data, setup))


@pytest.mark.clauses("GRAD.1", "GRAD.8", "GRAD.9", "GRAD.10", "GRAD.11", "GRAD.12", "GRAD.13")
@given(data=st.data())
def test_deform_gradients_with_mask(backend, data) -> None:
    """v2: the mask gradient too, and the mask's factor in every other gradient."""
    support = require_gradients(backend, DEFORM_CONV, mask=True)
    setup = data.draw(strategies.deform_setups(support, masked=True), label="setup")
    check_gradients(backend, *draw_example(data, setup))
