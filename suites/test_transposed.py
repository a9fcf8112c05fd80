"""TCONV: transposed convolution values and output sizes under both size conventions."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.base import CONV_TRANSPOSE, OpSupport
from suites import strategies
from suites.conv_draws import draw_example
from suites.example import Example
from suites.support import require
from suites.verdict import check_example


def draw_transposed(data: st.DataObject, support: OpSupport, **kw: object) -> Example:
    return draw_example(data, strategies.transposed_setups(support, **kw))  # type: ignore[arg-type]


@pytest.mark.clauses("TCONV.1", "TCONV.3", "NUM.3", "NUM.5")
@given(data=st.data())
def test_explicit_padding(backend, data) -> None:
    """PyTorch/ONNX convention: explicit pads and output_padding (TCONV.3)."""
    support = require(backend, CONV_TRANSPOSE, padding=frozenset({"symmetric", "asymmetric"}))
    example = draw_transposed(data, support, forms=("symmetric", "asymmetric"))
    check_example(backend, example, clause="TCONV.1", shape_clause="TCONV.3")


@pytest.mark.clauses("TCONV.1", "TCONV.3")
@given(data=st.data())
def test_strided(backend, data) -> None:
    """stride >= 2 on some axis: the upsampling case, where overlaps and output_padding matter."""
    support = require(backend, CONV_TRANSPOSE, padding=frozenset({"symmetric", "asymmetric"}))
    example = draw_transposed(data, support, forms=("symmetric", "asymmetric"), strided=True)
    check_example(backend, example, clause="TCONV.1", shape_clause="TCONV.3")


@pytest.mark.clauses("TCONV.1", "TCONV.4")
@given(data=st.data())
def test_valid_same_convention(backend, data) -> None:
    """Keras/TF/JAX convention: 'valid' gives n*s + max(k_eff - s, 0), 'same' gives n*s (TCONV.4)."""
    support = require(backend, CONV_TRANSPOSE, padding=frozenset({"valid", "same"}))
    example = draw_transposed(data, support, forms=("valid", "same"))
    check_example(backend, example, clause="TCONV.4", shape_clause="TCONV.4")


@pytest.mark.clauses("TCONV.1", "CONV.6")
@given(data=st.data())
def test_grouped(backend, data) -> None:
    support = require(backend, CONV_TRANSPOSE, groups=True)
    example = draw_transposed(data, support, grouped=True)
    check_example(backend, example, clause="TCONV.1", shape_clause="TCONV.3")
