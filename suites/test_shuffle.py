"""SHUF: channel shuffle, and shuffled grouped convolution built from the backend's own operations."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.base import CHANNEL_SHUFFLE, CONV
from suites import composites, strategies
from suites.conv_draws import draw_example
from suites.support import require
from suites.verdict import check_example


@pytest.mark.clauses("SHUF.1")
@given(data=st.data())
def test_channel_shuffle(backend, data) -> None:
    """A permutation of channels: exact in every dtype."""
    support = require(backend, CHANNEL_SHUFFLE)
    example = draw_example(data, strategies.shuffle_setups(support))
    check_example(backend, example, clause="SHUF.1", shape_clause="SHUF.1")


@pytest.mark.clauses("SHUF.5", "NUM.6")
@given(data=st.data())
def test_shuffled_grouped_conv(backend, data) -> None:
    """Grouped conv, channel shuffle, 1x1 grouped conv: the ShuffleNet unit from the backend's ops."""
    support = require(
        backend, CONV, groups=True, ranks=frozenset({2}), padding=composites.UNPADDED_FORMS
    )
    require(backend, CHANNEL_SHUFFLE)
    example = draw_example(data, strategies.composite_setups(support, "shuffled_grouped"))
    check_example(backend, example, clause="SHUF.5", shape_clause="CONV.3")
