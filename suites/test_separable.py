"""SEP: depthwise separable, spatially separable and flattened convolution from the backend's ops."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.base import CONV, SEPARABLE_CONV
from suites import composites, strategies
from suites.conv_draws import draw_conv, draw_example
from suites.support import require
from suites.verdict import check_example


@pytest.mark.clauses("SEP.1", "NUM.6")
@given(data=st.data())
def test_depthwise_separable_composed(backend, data) -> None:
    """Depthwise then pointwise, each through the backend's convolution."""
    support = require(
        backend, CONV, groups=True, ranks=frozenset({2}), padding=composites.UNPADDED_FORMS
    )
    example = draw_example(data, strategies.composite_setups(support, "depthwise_separable"))
    check_example(backend, example, clause="SEP.1", shape_clause="CONV.3")


@pytest.mark.clauses("SEP.1", "SEP.2")
@given(data=st.data())
def test_depthwise_separable_api(backend, data) -> None:
    """The backend's dedicated API (tf.nn.separable_conv2d, Keras SeparableConv2D)."""
    support = require(backend, SEPARABLE_CONV)
    example = draw_conv(data, support, op=SEPARABLE_CONV, depthwise=True, ranks=(2,))
    check_example(backend, example, clause="SEP.1", shape_clause="CONV.3")


@pytest.mark.clauses("SEP.4", "SEP.5", "SEP.6")
@given(data=st.data())
def test_spatially_separable(backend, data) -> None:
    """A kh x 1 step then a 1 x kw depthwise step equal one conv with a rank-1 kernel."""
    support = require(
        backend, CONV, groups=True, ranks=frozenset({2}), padding=frozenset({"symmetric"})
    )
    example = draw_example(data, strategies.composite_setups(support, "spatially_separable"))
    check_example(backend, example, clause="SEP.5", shape_clause="CONV.3")


@pytest.mark.clauses("SEP.7", "SEP.8")
@given(data=st.data())
def test_flattened(backend, data) -> None:
    """Lateral 1x1, vertical and horizontal 1-D steps equal one conv with rank-1 3-D filters."""
    support = require(
        backend, CONV, groups=True, ranks=frozenset({2}), padding=frozenset({"symmetric"})
    )
    example = draw_example(data, strategies.composite_setups(support, "flattened"))
    check_example(backend, example, clause="SEP.8", shape_clause="CONV.3")
