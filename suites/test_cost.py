"""COST: the frameworks' own parameter and FLOP counters against the cost model.

Only the shapes and parameters are drawn: a count needs no operands, and the counters
read shapes (torch's on meta tensors), so the dispatch tier's sizes cost nothing here.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.base import (
    ACNET_BLOCK,
    CONV,
    CONV_TRANSPOSE,
    DEFORM_CONV,
    DEPTHWISE_CONV,
    DEPTHWISE_SEPARABLE,
    SEPARABLE_CONV,
    Adapter,
    OpSupport,
)
from suites import counters, outcomes, strategies
from suites.example import Setup, Shapes
from suites.support import require


def counted(
    backend: Adapter, op: str, counter: str, needs: str | None = None, **wanted: object
) -> OpSupport:
    """The support the configurations are drawn from (of `needs`, else of `op`), where the
    surface declares `counter` ('parameter_counts' or 'flop_counts') for `op`."""
    if op not in getattr(backend.capabilities, counter):
        outcomes.unsupported(f"{backend.name} declares no {counter} for {op} (COST.18)")
    return require(backend, needs or op, **wanted)


@st.composite
def acnet_setups(draw: st.DrawFn, support: OpSupport) -> Setup:
    """An ACNet training block (ACNET.1) on a drawn 2-D convolution: odd k, its three kernels."""
    base = draw(
        strategies.conv_setups(support, ranks=(2,), modes=("zeros",), size_classes=("small",))
    )
    k = draw(st.sampled_from([1, 3, 5]), label="k")
    x, w = base.shapes["x"], base.shapes["w"]
    assert x is not None and w is not None
    c_out, per_group = w[0], w[1]
    shapes: Shapes = {
        "x": x,
        "square": (c_out, per_group, k, k),
        "horizontal": (c_out, per_group, 1, k),
        "vertical": (c_out, per_group, k, 1),
    }
    return replace(base, op=ACNET_BLOCK, shapes=shapes, exact=False)


def draw(data: st.DataObject, setups: st.SearchStrategy[Setup]) -> Setup:
    return data.draw(setups, label="setup")


# --- parameters -------------------------------------------------------------------------------


@pytest.mark.clauses("COST.1", "COST.4", "COST.18")
@given(data=st.data())
def test_conv_parameters(backend, data) -> None:
    """nn.Conv*, Keras Conv*D: C_out*(C_in/g)*K weights plus C_out biases."""
    support = counted(backend, CONV, "parameter_counts")
    counters.check_parameters(backend, draw(data, strategies.conv_setups(support)))


@pytest.mark.clauses("COST.1", "COST.11", "COST.18")
@given(data=st.data())
def test_conv_transpose_parameters(backend, data) -> None:
    """nn.ConvTranspose*, Keras Conv*DTranspose: C_in*(C_out/g)*K weights plus C_out biases."""
    support = counted(backend, CONV_TRANSPOSE, "parameter_counts")
    counters.check_parameters(backend, draw(data, strategies.transposed_setups(support)))


@pytest.mark.clauses("COST.1", "COST.12", "COST.18")
@given(data=st.data())
def test_deform_conv_parameters(backend, data) -> None:
    """torchvision DeformConv2d: a convolution's weight and bias, no offset convolution."""
    support = counted(backend, DEFORM_CONV, "parameter_counts")
    counters.check_parameters(backend, draw(data, strategies.deform_setups(support)))


@pytest.mark.clauses("COST.1", "COST.5", "COST.18")
@given(data=st.data())
def test_depthwise_parameters(backend, data) -> None:
    """Keras DepthwiseConv*D: m*C_in*K weights plus m*C_in biases."""
    support = counted(backend, DEPTHWISE_CONV, "parameter_counts")
    setups = strategies.conv_setups(support, op=DEPTHWISE_CONV, depthwise=True)
    counters.check_parameters(backend, draw(data, setups))


@pytest.mark.clauses("COST.1", "COST.7", "COST.18", "SEP.2")
@given(data=st.data())
def test_separable_parameters(backend, data) -> None:
    """Keras SeparableConv*D: both kernels and the pointwise step's bias."""
    support = counted(backend, SEPARABLE_CONV, "parameter_counts")
    setups = strategies.conv_setups(support, op=SEPARABLE_CONV, depthwise=True)
    counters.check_parameters(backend, draw(data, setups))


@pytest.mark.clauses("COST.1", "COST.7", "COST.18", "SEP.1")
@given(data=st.data())
def test_depthwise_separable_composed_parameters(backend, data) -> None:
    """A depthwise layer then a 1x1 layer, as a user stacks them (torch nn.Sequential)."""
    support = counted(
        backend, DEPTHWISE_SEPARABLE, "parameter_counts", needs=CONV, ranks=frozenset({2})
    )
    setups = strategies.composite_setups(support, DEPTHWISE_SEPARABLE)
    counters.check_parameters(backend, draw(data, setups))


@pytest.mark.clauses("COST.1", "COST.15", "COST.18", "ACNET.1")
@given(data=st.data())
def test_acnet_block_parameters(backend, data) -> None:
    """Three bias-free branches and their batch norms' scales and shifts, no statistics."""
    support = counted(backend, ACNET_BLOCK, "parameter_counts", needs=CONV, ranks=frozenset({2}))
    counters.check_parameters(backend, draw(data, acnet_setups(support)))


# --- FLOPs ------------------------------------------------------------------------------------


def flop_setups(support: OpSupport, op: str) -> st.SearchStrategy[Setup]:
    if op == CONV:
        return strategies.conv_setups(support)
    return strategies.transposed_setups(support)


@pytest.mark.clauses("COST.2", "COST.3", "COST.4", "COST.11", "COST.18", "COST.19")
@pytest.mark.parametrize("op", [CONV, CONV_TRANSPOSE])
@given(data=st.data())
def test_forward_flops(backend, op, data) -> None:
    """One call: 2 FLOPs per product (padded positions included, or not where the surface's
    convention is COST.19), the bias not counted."""
    support = counted(backend, op, "flop_counts")
    counters.check_flops(backend, draw(data, flop_setups(support, op)))


@pytest.mark.clauses("COST.16", "COST.17", "COST.18", "GRAD.2", "GRAD.4", "GRAD.5", "GRAD.6")
@pytest.mark.parametrize("op", [CONV, CONV_TRANSPOSE])
@given(data=st.data())
def test_backward_flops(backend, op, data) -> None:
    """Each gradient on its own: the input's and the weight's take the forward's FLOPs,
    the bias's none."""
    support = counted(backend, op, "gradient_flop_counts")
    setup = draw(data, flop_setups(support, op))
    for wrt in ("x", "w", "b"):
        if setup.shapes.get(wrt) is not None:
            counters.check_flops(backend, setup, wrt)
