"""DEFORM: deformable convolution v1 (offsets) and v2 (offsets and mask)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.base import DEFORM_CONV
from suites import strategies
from suites.conv_draws import draw_example
from suites.example import Example
from suites.support import require
from suites.verdict import check_example


def draw_deform(data: st.DataObject, support, masked: bool) -> Example:
    return draw_example(data, strategies.deform_setups(support, masked=masked))


@pytest.mark.clauses("DEFORM.3", "DEFORM.4", "DEFORM.5", "DEFORM.6", "DEFORM.8", "NUM.3")
@given(data=st.data())
def test_offsets(backend, data) -> None:
    """v1: bilinear sampling at offset positions, corners outside the input read zero."""
    support = require(backend, DEFORM_CONV)
    check_example(
        backend,
        draw_deform(data, support, masked=False),
        clause="DEFORM.8",
        shape_clause="DEFORM.3",
    )


@pytest.mark.clauses("DEFORM.3", "DEFORM.4", "DEFORM.7")
@given(data=st.data())
def test_offsets_and_mask(backend, data) -> None:
    """v2: each sample is multiplied by its mask value."""
    support = require(backend, DEFORM_CONV, mask=True)
    check_example(
        backend, draw_deform(data, support, masked=True), clause="DEFORM.7", shape_clause="DEFORM.3"
    )
