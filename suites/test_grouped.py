"""GRP: grouped, depthwise (with channel multiplier), pointwise and pointwise grouped convolution."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.base import CONV, DEPTHWISE_CONV
from suites.conv_draws import draw_conv
from suites.support import require
from suites.verdict import check_example


@pytest.mark.clauses("CONV.6", "GRP.1")
@given(data=st.data())
def test_grouped(backend, data) -> None:
    """groups >= 2: output channel o reads only the input channels of its group."""
    support = require(backend, CONV, groups=True)
    example = draw_conv(data, support, grouped=True)
    check_example(backend, example, clause="GRP.1", shape_clause="CONV.3")


@pytest.mark.clauses("GRP.2")
@given(data=st.data())
def test_depthwise_as_grouped_conv(backend, data) -> None:
    """groups = C_in with a channel multiplier, through the general convolution API."""
    support = require(backend, CONV, groups=True)
    example = draw_conv(data, support, depthwise=True)
    check_example(backend, example, clause="GRP.2", shape_clause="CONV.3")


@pytest.mark.clauses("GRP.2")
@given(data=st.data())
def test_depthwise_api(backend, data) -> None:
    """The backend's dedicated depthwise API (e.g. tf.nn.depthwise_conv2d, Keras DepthwiseConv2D)."""
    support = require(backend, DEPTHWISE_CONV)
    example = draw_conv(data, support, op=DEPTHWISE_CONV, depthwise=True)
    check_example(backend, example, clause="GRP.2", shape_clause="CONV.3")


@pytest.mark.clauses("GRP.3", "GRP.4")
@given(data=st.data())
def test_pointwise(backend, data) -> None:
    """1x1 kernels, grouped or not: a per-pixel matrix product (GRP.3, GRP.4)."""
    support = require(backend, CONV)
    example = draw_conv(data, support, pointwise=True)
    check_example(backend, example, clause="GRP.3", shape_clause="CONV.3")
