"""Self-tests of the dispatch tier (suites/dispatch.py): valid, and within its work budget."""

from __future__ import annotations

import math

from hypothesis import given
from hypothesis import strategies as st

from adapters.base import OpSupport
from reference.params import Conv, ConvTranspose
from reference.sizes import conv_output_shape, conv_transpose_output_shape
from suites import dispatch, strategies
from suites.draw_orders import CONV_FORMS, DTYPE_ORDER, MODE_ORDER
from suites.example import Setup

EVERYTHING = OpSupport(
    ranks=frozenset({1, 2, 3}),
    dtypes=frozenset(DTYPE_ORDER),
    padding=frozenset(CONV_FORMS),
    padding_modes=frozenset(MODE_ORDER),
    output_padding_rule="stride_or_dilation",
)
# A drawn size may grow past its budgeted length where the padding mode needs a longer
# input (PAD.9-PAD.11), by less than one window per axis.
SLACK = 2


@given(data=st.data())
def test_dispatch_convolutions_are_valid_and_within_the_budget(data) -> None:
    setup = data.draw(strategies.conv_setups(EVERYTHING).filter(_dispatch), label="setup")
    x, w = setup.shapes["x"], setup.shapes["w"]
    assert x is not None and w is not None and isinstance(setup.params, Conv)
    out = conv_output_shape(x, w, setup.params)  # raises for an invalid configuration
    assert min(out) >= 1, (setup, out)
    work = math.prod(out) * math.prod(w[1:])
    assert work <= SLACK * dispatch.MAC_BUDGET, (setup, work)


@given(data=st.data())
def test_dispatch_transposed_convolutions_are_valid_and_within_the_budget(data) -> None:
    setup = data.draw(strategies.transposed_setups(EVERYTHING).filter(_dispatch), label="setup")
    x, w = setup.shapes["x"], setup.shapes["w"]
    assert x is not None and w is not None and isinstance(setup.params, ConvTranspose)
    out = conv_transpose_output_shape(x, w, setup.params)
    assert min(out) >= 1, (setup, out)
    work = math.prod(x) * math.prod(w[1:])
    assert work <= SLACK * dispatch.MAC_BUDGET, (setup, work)


def _dispatch(setup: Setup) -> bool:
    return setup.size_class == "dispatch"


def test_the_budget_yields_only_where_no_option_fits() -> None:
    assert dispatch.within((1, 2, 4), 3) == [1, 2]
    assert dispatch.within((2, 4), 1) == [2]
