"""DIL: dilated (atrous) convolution, dilation >= 2 on every axis."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.base import CONV
from suites.conv_draws import draw_conv
from suites.support import require
from suites.verdict import check_example


@pytest.mark.clauses("CONV.5", "DIL.1")
@given(data=st.data())
def test_dilated(backend, data) -> None:
    support = require(backend, CONV, dilation=True)
    example = draw_conv(data, support, dilated=True)
    check_example(backend, example, clause="CONV.5", shape_clause="CONV.3")


@pytest.mark.clauses("CONV.5", "DIL.1", "PAD.7")
@given(data=st.data())
def test_dilated_with_stride(backend, data) -> None:
    """Dilation and stride together: a classic place for one to be ignored when the other is set."""
    support = require(backend, CONV, dilation=True, dilation_with_stride=True)
    example = draw_conv(data, support, dilated=True, strided=True)
    check_example(backend, example, clause="CONV.5", shape_clause="CONV.3")
