"""CONV: convolution values and output shapes in 1-D, 2-D and 3-D, against the reference."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.base import CONV
from suites.conv_draws import draw_conv
from suites.support import require
from suites.verdict import check_example


@pytest.mark.clauses("CONV.2", "CONV.3", "CONV.4", "CONV.5", "CONV.6", "CONV.7", "NUM.3", "NUM.5")
@given(data=st.data())
def test_conv_matches_reference(backend, data) -> None:
    """Any declared configuration: values within NUM.3 (exactly, in exact mode) and shape by CONV.3."""
    support = require(backend, CONV)
    example = draw_conv(data, support, forms=("symmetric", "valid"))
    check_example(backend, example, clause="CONV.2", shape_clause="CONV.3")


@pytest.mark.clauses("CONV.1", "CONV.2", "CONV.3")
@pytest.mark.parametrize("rank", [1, 2, 3])
@given(data=st.data())
def test_conv_each_rank(backend, rank, data) -> None:
    """Every declared spatial rank is exercised on its own, so a rank-specific bug cannot hide."""
    support = require(backend, CONV, ranks=frozenset({rank}))
    example = draw_conv(data, support, ranks=(rank,), forms=("symmetric", "valid"))
    check_example(backend, example, clause="CONV.2", shape_clause="CONV.3")
