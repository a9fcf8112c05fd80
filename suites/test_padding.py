"""PAD: padding forms ('valid', 'same' with both odd-pixel placements, explicit, negative) and modes."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.base import CONV
from suites.conv_draws import draw_conv
from suites.support import require
from suites.verdict import check_example


@pytest.mark.clauses("PAD.4", "PAD.6", "CONV.3")
@given(data=st.data())
def test_asymmetric_and_same(backend, data) -> None:
    """Explicit (begin, end) pairs and 'same' place the window where PAD.4/PAD.6 say."""
    support = require(backend, CONV, padding=frozenset({"asymmetric", "same", "same_begin"}))
    example = draw_conv(data, support, forms=("asymmetric", "same", "same_begin"), modes=("zeros",))
    check_example(backend, example, clause="PAD.6", shape_clause="CONV.3")


@pytest.mark.clauses("PAD.6", "PAD.7", "CONV.3")
@given(data=st.data())
def test_same_with_stride(backend, data) -> None:
    """'same' with stride > 1 yields ceil(n / s) outputs (PAD.7)."""
    support = require(backend, CONV, padding=frozenset({"same", "same_begin"}), strided_same=True)
    example = draw_conv(data, support, forms=("same", "same_begin"), modes=("zeros",), strided=True)
    check_example(backend, example, clause="PAD.7", shape_clause="PAD.7")


@pytest.mark.clauses("PAD.3", "CONV.3")
@given(data=st.data())
def test_negative_padding_crops(backend, data) -> None:
    support = require(backend, CONV, padding=frozenset({"negative"}))
    example = draw_conv(data, support, forms=("negative",), modes=("zeros",))
    check_example(backend, example, clause="PAD.3", shape_clause="CONV.3")


@pytest.mark.clauses("PAD.8", "PAD.9", "PAD.10", "PAD.11")
@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
@given(data=st.data())
def test_padding_mode(backend, mode, data) -> None:
    """Each padding mode reads the input at the positions PAD.9-PAD.11 give."""
    support = require(backend, CONV, padding_modes=frozenset({mode}))
    example = draw_conv(data, support, modes=(mode,))
    clause = {"reflect": "PAD.9", "replicate": "PAD.10", "circular": "PAD.11"}[mode]
    check_example(backend, example, clause=clause, shape_clause="CONV.3")
