"""Self-tests of reference/cost.py (spec chapter COST)."""

from __future__ import annotations

import math
from dataclasses import replace
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from reference import conv as conv_ref
from reference import cost, transposed
from reference.checks import SpecError
from reference.conv import accumulation_terms
from reference.gradients import conv_gradient_terms, conv_transpose_gradient_terms
from reference.params import Conv, ConvTranspose
from reference.separable import axis_step
from reference.sizes import conv_output_shape, conv_transpose_output_shape, resolve_padding
from reference.test_conv import draw_case

# --- the worked example (COST.14) ---------------------------------------------------


@pytest.mark.clauses("COST.14", "COST.4", "COST.5", "COST.6", "COST.7", "COST.13", "COST.1")
def test_worked_example_parameters() -> None:
    assert cost.conv_params(3, 30, (10, 10)) == 9030
    assert cost.conv_params(3, 30, (10, 10), groups=3) == 3030
    assert cost.pointwise_params(3, 30) == 120
    assert cost.depthwise_params(3, (10, 10)) == 303
    assert cost.depthwise_separable_params(3, 30, (10, 10)) == 423
    assert cost.dense_params(300, 3000) == 903000
    # Without bias the grouped count is exactly 1/g of the dense one; with bias it is not.
    assert cost.conv_params(3, 30, (10, 10), groups=3, bias=False) * 3 == cost.conv_params(
        3, 30, (10, 10), bias=False
    )
    assert cost.conv_params(3, 30, (10, 10), groups=3) * 3 != 9030


@pytest.mark.clauses("COST.14", "COST.2", "COST.4", "COST.7", "COST.8", "COST.13")
def test_worked_example_macs() -> None:
    same = conv_output_shape((1, 3, 10, 10), (30, 3, 10, 10), Conv((1, 1), (1, 1), "same"))[2:]
    valid = conv_output_shape((1, 3, 10, 10), (30, 3, 10, 10), Conv((1, 1), (1, 1), "valid"))[2:]
    assert same == (10, 10) and valid == (1, 1)
    assert cost.conv_macs(3, 30, (10, 10), same) == 900000 == cost.dense_macs(300, 3000)
    assert cost.conv_macs(3, 30, (10, 10), valid) == 9000
    separable = cost.depthwise_separable_macs(3, 30, (10, 10), same)
    assert separable == 39000
    assert (
        Fraction(separable, 900000)
        == Fraction(13, 300)
        == cost.depthwise_separable_mac_ratio(30, (10, 10))
    )


# --- counts against the reference's arrays and loops ------------------------------


@pytest.mark.clauses("COST.1", "COST.2", "COST.3", "COST.4", "NUM.2")
@given(data=st.data())
def test_conv_counts_match_the_arrays_and_the_accumulation_length(data: st.DataObject) -> None:
    case = draw_case(data)
    c_in, c_out, kernel = case.x_shape[1], case.w_shape[0], case.w_shape[2:]
    g = case.p.groups
    params = cost.conv_params(c_in, c_out, kernel, groups=g, bias=case.bias)
    assert params == math.prod(case.w_shape) + (c_out if case.bias else 0)
    out = conv_output_shape(case.x_shape, case.w_shape, case.p)
    macs = cost.conv_macs(c_in, c_out, kernel, out[2:], groups=g, batch=case.x_shape[0])
    assert macs == math.prod(out) * accumulation_terms(case.w_shape, case.p, bias=False)
    assert cost.flops(macs) == 2 * macs


@pytest.mark.clauses("COST.5", "COST.6", "COST.7")
@given(
    c_in=st.integers(1, 8),
    c_out=st.integers(1, 8),
    m=st.integers(1, 3),
    kernel=st.lists(st.integers(1, 5), min_size=1, max_size=3),
    bias=st.booleans(),
)
def test_special_cases_are_conv_counts(
    c_in: int, c_out: int, m: int, kernel: list[int], bias: bool
) -> None:
    spatial = [4] * len(kernel)
    assert cost.depthwise_params(c_in, kernel, m, bias) == cost.conv_params(
        c_in, c_in * m, kernel, groups=c_in, bias=bias
    )
    assert cost.depthwise_params(c_in, kernel, m, bias) == c_in * m * math.prod(kernel) + (
        c_in * m if bias else 0
    )
    assert cost.pointwise_macs(c_in, c_out, spatial) == cost.conv_macs(
        c_in, c_out, [1] * len(kernel), spatial
    )
    both = cost.depthwise_separable_params(c_in, c_out, kernel, m, bias_depth=True, bias_point=True)
    keras = cost.depthwise_separable_params(
        c_in, c_out, kernel, m, bias_depth=False, bias_point=True
    )
    assert both - keras == c_in * m
    assert cost.depthwise_separable_macs(c_in, c_out, kernel, spatial, m) == cost.depthwise_macs(
        c_in, kernel, spatial, m
    ) + cost.pointwise_macs(c_in * m, c_out, spatial)


@pytest.mark.clauses("COST.8")
@given(
    c_in=st.integers(1, 64),
    c_out=st.integers(1, 64),
    m=st.integers(1, 4),
    kernel=st.lists(st.integers(1, 7), min_size=1, max_size=3),
    positions=st.integers(1, 50),
)
def test_depthwise_separable_ratio(
    c_in: int, c_out: int, m: int, kernel: list[int], positions: int
) -> None:
    out = [positions] + [1] * (len(kernel) - 1)
    ratio = Fraction(
        cost.depthwise_separable_macs(c_in, c_out, kernel, out, m),
        cost.conv_macs(c_in, c_out, kernel, out),
    )
    assert ratio == cost.depthwise_separable_mac_ratio(c_out, kernel, m)
    assert ratio == Fraction(m, c_out) + Fraction(m, math.prod(kernel))
    weights = Fraction(
        cost.depthwise_separable_params(c_in, c_out, kernel, m, bias_depth=False, bias_point=False),
        cost.conv_params(c_in, c_out, kernel, bias=False),
    )
    assert weights == ratio
    if m == 1 and len(kernel) == 2 and kernel[0] == kernel[1]:
        assert ratio == Fraction(1, c_out) + Fraction(1, kernel[0] ** 2)


@pytest.mark.clauses("COST.9", "COST.10", "SEP.5")
@given(data=st.data())
def test_composed_counts_match_the_steps(data: st.DataObject) -> None:
    case = draw_case(data, ranks=(2,), max_groups=1)
    c_in, c_out = case.x_shape[1], case.w_shape[0]
    kh, kw = case.w_shape[2:]
    h_in, w_in = case.x_shape[2:]
    pads = resolve_padding(case.p, case.x_shape[2:], case.w_shape[2:])
    first = conv_output_shape(case.x_shape, (c_out, c_in, kh, 1), axis_step(case.p, pads, 0, 1))
    second = conv_output_shape(first, (c_out, 1, 1, kw), axis_step(case.p, pads, 1, c_out))
    assert second == conv_output_shape(case.x_shape, case.w_shape, case.p)
    h_out, w_out = second[2:]
    assert first[3] == w_in
    # Spatially separable: arrays (C_out, C_in, kh, 1) + (C_out, 1, 1, kw) + bias.
    assert (
        cost.spatially_separable_params(c_in, c_out, kh, kw)
        == c_out * c_in * kh + c_out * kw + c_out
    )
    assert cost.spatially_separable_macs(c_in, c_out, kh, kw, h_out, w_in, w_out) == (
        math.prod(first[1:]) * c_in * kh + math.prod(second[1:]) * kw
    )
    # Flattened: lateral at every input position, then the same two 1-D steps.
    assert cost.flattened_params(c_in, c_out, kh, kw, bias=False) == c_out * (c_in + kh + kw)
    assert cost.flattened_macs(c_in, c_out, kh, kw, h_in, w_in, h_out, w_out) == (
        c_out * h_in * w_in * c_in + math.prod(first[1:]) * kh + math.prod(second[1:]) * kw
    )


@pytest.mark.clauses("COST.11")
@given(
    c_in_g=st.integers(1, 4),
    c_out_g=st.integers(1, 4),
    g=st.integers(1, 3),
    kernel=st.lists(st.integers(1, 4), min_size=1, max_size=3),
    in_spatial=st.lists(st.integers(1, 6), min_size=3, max_size=3),
)
def test_transposed_counts(
    c_in_g: int, c_out_g: int, g: int, kernel: list[int], in_spatial: list[int]
) -> None:
    c_in, c_out = c_in_g * g, c_out_g * g
    spatial = in_spatial[: len(kernel)]
    weight_shape = (c_in, c_out // g, *kernel)
    assert cost.conv_transpose_params(c_in, c_out, kernel, g) == math.prod(weight_shape) + c_out
    # The adjoint forward convolution C_out -> C_in whose output has the input's positions.
    assert cost.conv_transpose_macs(c_in, c_out, kernel, spatial, g) == cost.conv_macs(
        c_out, c_in, kernel, spatial, g
    )


@pytest.mark.clauses("COST.12")
def test_deformable_counts() -> None:
    assert cost.deform_conv_params(64, 64, (3, 3)) == cost.conv_params(64, 64, (3, 3))
    # Offsets: 2 coordinates per tap (18 channels); v2 adds a mask channel per tap (27).
    assert cost.deform_offset_params(64, (3, 3)) == 18 * 64 * 9 + 18
    assert cost.deform_offset_params(64, (3, 3), mask=True) == 27 * 64 * 9 + 27
    assert cost.deform_offset_params(64, (3, 3), offset_groups=4, bias=False) == 72 * 64 * 9
    base = cost.conv_macs(8, 16, (3, 3), (5, 5))
    samples = 5 * 5 * 8 * 9
    assert cost.deform_conv_macs(8, 16, (3, 3), (5, 5)) == base + 4 * samples
    assert cost.deform_conv_macs(8, 16, (3, 3), (5, 5), mask=True) == base + 5 * samples


@pytest.mark.clauses("COST.13")
def test_dense_layer_of_a_convolution_size() -> None:
    n_in, n_out = 3 * 10 * 10, 30 * 10 * 10
    assert cost.dense_params(n_in, n_out, bias=False) == np.zeros((n_out, n_in)).size
    assert cost.dense_macs(n_in, n_out, batch=4) == 4 * n_in * n_out


@pytest.mark.clauses("CONV.6", "CONV.1", "COST.13", "COST.8", "ACNET.1", "COST.17")
@pytest.mark.parametrize(
    ("call", "clause"),
    [
        (lambda: cost.conv_params(3, 30, (3, 3), groups=2), "CONV.6"),
        (lambda: cost.conv_macs(4, 30, (3, 3), (5, 5), groups=0), "CONV.6"),
        (lambda: cost.conv_params(0, 30, (3, 3)), "CONV.1"),
        (lambda: cost.conv_transpose_params(4, 6, (3,), groups=4), "CONV.6"),
        (lambda: cost.dense_params(0, 3), "COST.13"),
        (lambda: cost.depthwise_separable_mac_ratio(0, (3, 3)), "COST.8"),
        (lambda: cost.acnet_params(3, 30, 2), "ACNET.1"),
        (lambda: cost.gradient_macs(10, "offset"), "COST.17"),
    ],
)
def test_invalid_counts_raise(call, clause) -> None:
    with pytest.raises(SpecError) as raised:
        call()
    assert raised.value.clause == clause


# --- ACNet and the backward pass (COST.15-COST.17) -------------------------------------------


@pytest.mark.clauses("COST.15", "ACNET.1", "ACNET.6")
@given(
    c_in_g=st.integers(1, 4),
    c_out_g=st.integers(1, 4),
    g=st.integers(1, 3),
    k=st.sampled_from([1, 3, 5]),
)
def test_acnet_counts_match_the_block(c_in_g: int, c_out_g: int, g: int, k: int) -> None:
    c_in, c_out = c_in_g * g, c_out_g * g
    kernels = [(c_out, c_in_g, k, k), (c_out, c_in_g, 1, k), (c_out, c_in_g, k, 1)]
    gamma_and_beta = 3 * 2 * c_out
    train = sum(math.prod(shape) for shape in kernels) + gamma_and_beta
    assert cost.acnet_params(c_in, c_out, k, groups=g) == train
    deployed = cost.conv_params(c_in, c_out, (k, k), groups=g)
    assert cost.acnet_params(c_in, c_out, k, groups=g, deploy=True) == deployed
    assert cost.acnet_params(3, 30, 3) == 1530
    assert cost.acnet_params(3, 30, 3, deploy=True) == 840


@pytest.mark.clauses("COST.16", "COST.17", "GRAD.2", "GRAD.4", "GRAD.5", "GRAD.13")
@given(data=st.data())
def test_conv_gradient_counts(data: st.DataObject) -> None:
    """The weight gradient sums N*F products per weight entry (GRAD.13's length); the input
    gradient is the transposed convolution of the F-position cotangent (GRAD.4, COST.11)."""
    case = draw_case(data, min_batch=1)
    c_in, c_out, kernel = case.x_shape[1], case.w_shape[0], case.w_shape[2:]
    g = case.p.groups
    out = conv_output_shape(case.x_shape, case.w_shape, case.p)
    forward = cost.conv_macs(c_in, c_out, kernel, out[2:], groups=g, batch=case.x_shape[0])
    terms = conv_gradient_terms(case.x_shape, case.w_shape, case.p, bias=case.bias)
    assert cost.gradient_macs(forward, "w") == terms["w"] * math.prod(case.w_shape)
    adjoint = cost.conv_transpose_macs(c_out, c_in, kernel, out[2:], g, batch=case.x_shape[0])
    assert cost.gradient_macs(forward, "x") == adjoint
    assert cost.gradient_macs(forward, "b") == 0


@pytest.mark.clauses("COST.16", "COST.17", "GRAD.6", "GRAD.7", "GRAD.13")
@given(
    c_in_g=st.integers(1, 4),
    c_out_g=st.integers(1, 4),
    g=st.integers(1, 3),
    batch=st.integers(1, 3),
    kernel=st.lists(st.integers(1, 4), min_size=1, max_size=3),
    in_spatial=st.lists(st.integers(1, 6), min_size=3, max_size=3),
)
def test_transposed_gradient_counts(
    c_in_g: int, c_out_g: int, g: int, batch: int, kernel: list[int], in_spatial: list[int]
) -> None:
    """GRAD.13's lengths times the gradients' sizes: (C_out/g)*K per input element,
    N*F_in per weight entry."""
    c_in, c_out = c_in_g * g, c_out_g * g
    rank = len(kernel)
    x_shape = (batch, c_in, *in_spatial[:rank])
    w_shape = (c_in, c_out_g, *kernel)
    p = ConvTranspose(
        stride=(1,) * rank,
        dilation=(1,) * rank,
        padding=((0, 0),) * rank,
        output_padding=(0,) * rank,
        groups=g,
    )
    forward = cost.conv_transpose_macs(c_in, c_out, kernel, x_shape[2:], g, batch=batch)
    terms = conv_transpose_gradient_terms(x_shape, w_shape, p, bias=False)
    assert cost.gradient_macs(forward, "x") == terms["x"] * math.prod(x_shape)
    assert cost.gradient_macs(forward, "w") == terms["w"] * math.prod(w_shape)


# --- products with an input element that land in the output (COST.19) -------------------------


@pytest.mark.clauses("COST.19", "COST.4", "CONV.2", "PAD.2")
@given(data=st.data())
def test_in_bounds_conv_macs_are_the_sum_of_ones(data: st.DataObject) -> None:
    """Ones convolved with ones (zero padding, no bias) sum to the products that read the
    input; without padding that is every product of COST.4."""
    case = draw_case(data, modes=("zeros",), min_batch=1)
    x, w = np.ones(case.x_shape), np.ones(case.w_shape)
    ones = conv_ref.conv_fast(x, w, None, case.p)
    assert cost.conv_macs_in_bounds(case.x_shape, case.w_shape, case.p) == ones.sum()
    unpadded = replace(case.p, padding=((0, 0),) * case.p.rank)
    if min(conv_output_shape(case.x_shape, case.w_shape, unpadded)[2:]) >= 1:
        out = conv_output_shape(case.x_shape, case.w_shape, unpadded)
        dense = cost.conv_macs(
            case.x_shape[1],
            case.w_shape[0],
            case.w_shape[2:],
            out[2:],
            groups=case.p.groups,
            batch=case.x_shape[0],
        )
        assert cost.conv_macs_in_bounds(case.x_shape, case.w_shape, unpadded) == dense


@pytest.mark.clauses("COST.19", "COST.11", "TCONV.2", "TCONV.3")
@given(
    c_in_g=st.integers(1, 2),
    c_out_g=st.integers(1, 2),
    g=st.integers(1, 2),
    axes=st.lists(
        st.tuples(
            st.integers(1, 4),  # n
            st.integers(1, 3),  # k
            st.integers(1, 3),  # s
            st.integers(1, 2),  # d
            st.integers(0, 2),  # begin
            st.integers(0, 2),  # end
        ),
        min_size=1,
        max_size=2,
    ),
)
def test_in_bounds_transposed_macs_are_the_sum_of_ones(
    c_in_g: int, c_out_g: int, g: int, axes: list[tuple[int, ...]]
) -> None:
    """Every product lands in the output unless the padding removes its position."""
    p = ConvTranspose(
        stride=tuple(a[2] for a in axes),
        dilation=tuple(a[3] for a in axes),
        padding=tuple((a[4], a[5]) for a in axes),
        output_padding=(0,) * len(axes),
        groups=g,
    )
    x_shape = (2, c_in_g * g, *(a[0] for a in axes))
    w_shape = (c_in_g * g, c_out_g, *(a[1] for a in axes))
    if min(conv_transpose_output_shape(x_shape, w_shape, p)[2:]) < 1:
        return
    ones = transposed.conv_transpose_fast(np.ones(x_shape), np.ones(w_shape), None, p)
    in_bounds = cost.conv_transpose_macs_in_bounds(x_shape, w_shape, p)
    assert in_bounds == ones.sum()
    dense = cost.conv_transpose_macs(
        x_shape[1], c_out_g * g, w_shape[2:], x_shape[2:], g, batch=x_shape[0]
    )
    assert in_bounds <= dense
    if all(a[4] == 0 and a[5] == 0 for a in axes):
        assert in_bounds == dense
