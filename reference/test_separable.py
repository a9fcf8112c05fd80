"""Self-tests of reference/separable.py (spec chapter SEP)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from reference.checks import SpecError
from reference.conv import conv
from reference.params import Conv
from reference.separable import (
    depthwise_separable,
    flattened,
    flattened_kernel,
    fold_depthwise_bias,
    separable_kernel,
    spatially_separable,
    spatially_separable_kernel,
)
from reference.test_conv import draw_case


def _rng(data: st.DataObject) -> np.random.Generator:
    return np.random.default_rng(data.draw(st.integers(0, 2**32 - 1), label="seed"))


def _ints(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    return rng.integers(-3, 4, shape).astype(np.float64)


# --- depthwise separable (SEP.1-SEP.3) --------------------------------------------


def _separable_setup(data: st.DataObject):
    """x, w_depth, w_point, b_depth, b_point, p with p.groups == C_in."""
    case = draw_case(data, max_groups=3)
    c_in = case.p.groups
    m = data.draw(st.integers(1, 2), label="multiplier")
    c_out = data.draw(st.integers(1, 3), label="C_out")
    rng = _rng(data)
    x = _ints(rng, (case.x_shape[0], c_in, *case.x_shape[2:]))
    w_depth = _ints(rng, (c_in * m, 1, *case.w_shape[2:]))
    w_point = _ints(rng, (c_out, c_in * m))
    b_depth = _ints(rng, (c_in * m,)) if data.draw(st.booleans(), label="depth_bias") else None
    b_point = _ints(rng, (c_out,)) if data.draw(st.booleans(), label="point_bias") else None
    return x, w_depth, w_point, b_depth, b_point, case.p


@pytest.mark.clauses("SEP.1", "SEP.3", "SEP.2")
@given(data=st.data())
def test_depthwise_separable_is_one_conv_with_the_combined_kernel(data: st.DataObject) -> None:
    x, w_depth, w_point, b_depth, b_point, p = _separable_setup(data)
    y = depthwise_separable(x, w_depth, w_point, b_depth, b_point, p)
    kernel = separable_kernel(w_depth, w_point, x.shape[1])
    bias = b_point if b_depth is None else fold_depthwise_bias(w_point, b_depth, b_point)
    np.testing.assert_array_equal(y, conv(x, kernel, bias, replace(p, groups=1)))


@pytest.mark.clauses("SEP.2")
@given(data=st.data())
def test_depthwise_bias_folds_into_the_pointwise_bias(data: st.DataObject) -> None:
    x, w_depth, w_point, _, b_point, p = _separable_setup(data)
    b_depth = _ints(_rng(data), (w_depth.shape[0],))
    folded = fold_depthwise_bias(w_point, b_depth, b_point)
    np.testing.assert_array_equal(
        depthwise_separable(x, w_depth, w_point, b_depth, b_point, p),
        depthwise_separable(x, w_depth, w_point, None, folded, p),
    )


@pytest.mark.clauses("SEP.3")
def test_separable_kernel_by_hand() -> None:
    w_depth = np.array([[[1.0, 2.0]], [[3.0, 4.0]]])  # C_in = 2, m = 1, k = 2
    w_point = np.array([[1.0, 10.0]])  # C_out = 1
    np.testing.assert_array_equal(separable_kernel(w_depth, w_point, 2), [[[1, 2], [30, 40]]])
    # m = 2 on one input channel: W[0, 0] = 1*[1, 2] + 10*[3, 4].
    np.testing.assert_array_equal(separable_kernel(w_depth, w_point, 1), [[[31, 42]]])


@pytest.mark.clauses("SEP.1")
def test_pointwise_weight_must_read_every_depthwise_channel() -> None:
    p = Conv((1,), (1,), "valid", groups=2)
    with pytest.raises(SpecError) as raised:
        depthwise_separable(
            np.zeros((1, 2, 5)), np.zeros((4, 1, 3)), np.zeros((3, 2)), None, None, p
        )
    assert raised.value.clause == "SEP.1"


# --- spatially separable (SEP.4-SEP.6) ---------------------------------------------


@pytest.mark.clauses("SEP.4", "SEP.5", "SEP.6")
@given(data=st.data())
def test_spatially_separable_is_one_conv_with_rank_one_slices(data: st.DataObject) -> None:
    case = draw_case(data, ranks=(2,))
    rng = _rng(data)
    kh, kw = case.w_shape[2:]
    x = _ints(rng, case.x_shape)
    w_col = _ints(rng, (case.w_shape[0], case.w_shape[1], kh, 1))
    w_row = _ints(rng, (case.w_shape[0], 1, 1, kw))
    b = _ints(rng, (case.w_shape[0],)) if case.bias else None
    full = spatially_separable_kernel(w_col, w_row)
    for o in range(full.shape[0]):
        for c in range(full.shape[1]):
            assert np.linalg.matrix_rank(full[o, c]) <= 1
    np.testing.assert_array_equal(
        spatially_separable(x, w_col, w_row, b, case.p), conv(x, full, b, case.p)
    )


@pytest.mark.clauses("SEP.4")
def test_sobel_kernel_is_spatially_separable() -> None:
    sobel = np.array([[1.0, 0.0, -1.0], [2.0, 0.0, -2.0], [1.0, 0.0, -1.0]])
    w_col = np.array([1.0, 2.0, 1.0]).reshape(1, 1, 3, 1)
    w_row = np.array([1.0, 0.0, -1.0]).reshape(1, 1, 1, 3)
    np.testing.assert_array_equal(spatially_separable_kernel(w_col, w_row)[0, 0], sobel)
    x = np.arange(25.0).reshape(1, 1, 5, 5) ** 2
    p = Conv((1, 1), (1, 1), "same", padding_mode="replicate")
    np.testing.assert_array_equal(
        spatially_separable(x, w_col, w_row, None, p), conv(x, sobel[None, None], None, p)
    )


@pytest.mark.clauses("SEP.6")
def test_padding_both_axes_in_both_steps_is_not_the_single_conv() -> None:
    x = np.ones((1, 1, 5, 5))
    w_col, w_row = np.ones((1, 1, 3, 1)), np.ones((1, 1, 1, 3))
    both = Conv((1, 1), (1, 1), ((1, 1), (1, 1)))
    wrong = conv(conv(x, w_col, None, both), w_row, None, both)
    right = spatially_separable(x, w_col, w_row, None, both)
    assert wrong.shape == (1, 1, 7, 7)
    assert right.shape == (1, 1, 5, 5)


# --- flattened (SEP.7-SEP.8) -----------------------------------------------------


@pytest.mark.clauses("SEP.7", "SEP.8", "SEP.5")
@given(data=st.data())
def test_flattened_is_one_conv_with_rank_one_3d_filters(data: st.DataObject) -> None:
    case = draw_case(data, ranks=(2,), max_groups=1)
    rng = _rng(data)
    c_out, c_in = case.w_shape[0], case.x_shape[1]
    kh, kw = case.w_shape[2:]
    x = _ints(rng, case.x_shape)
    lateral = _ints(rng, (c_out, c_in))
    vertical = _ints(rng, (c_out, 1, kh, 1))
    horizontal = _ints(rng, (c_out, 1, 1, kw))
    b = _ints(rng, (c_out,)) if case.bias else None
    full = flattened_kernel(lateral, vertical, horizontal)
    for o in range(c_out):
        # Rank 1 as a 3-D tensor: every unfolding along one axis has rank <= 1.
        for axis in range(3):
            unfolded = np.moveaxis(full[o], axis, 0).reshape(full.shape[1 + axis], -1)
            assert np.linalg.matrix_rank(unfolded) <= 1
    np.testing.assert_array_equal(
        flattened(x, lateral, vertical, horizontal, b, case.p), conv(x, full, b, case.p)
    )


@pytest.mark.clauses("SEP.8", "SEP.6")
def test_an_intermediate_bias_folds_only_without_zero_padding() -> None:
    rng = np.random.default_rng(3)
    x = _ints(rng, (1, 2, 5, 5))
    lateral = _ints(rng, (2, 2))
    # Positive 1-D filters: a bias cut off by the padding visibly changes a border output.
    vertical = rng.integers(1, 4, (2, 1, 3, 1)).astype(np.float64)
    horizontal = rng.integers(1, 4, (2, 1, 1, 3)).astype(np.float64)
    b_lateral = np.array([1.0, -2.0])

    def with_lateral_bias(pad: int) -> np.ndarray:
        # Jin et al.'s placement: a bias after the lateral step, the later steps as SEP.5.
        hidden = np.einsum("oc,nchw->nohw", lateral, x) + b_lateral.reshape(1, -1, 1, 1)
        rows = Conv((1, 1), (1, 1), ((pad, pad), (0, 0)), groups=2)
        columns = Conv((1, 1), (1, 1), ((0, 0), (pad, pad)), groups=2)
        return conv(conv(hidden, vertical, None, rows), horizontal, None, columns)

    folded = b_lateral * vertical[:, 0, :, 0].sum(axis=1) * horizontal[:, 0, 0, :].sum(axis=1)
    valid = Conv((1, 1), (1, 1), ((0, 0), (0, 0)))
    np.testing.assert_array_equal(
        with_lateral_bias(0), flattened(x, lateral, vertical, horizontal, folded, valid)
    )
    padded = Conv((1, 1), (1, 1), ((1, 1), (1, 1)))
    assert not np.array_equal(
        with_lateral_bias(1), flattened(x, lateral, vertical, horizontal, folded, padded)
    )


# --- invalid configurations -------------------------------------------------------


@pytest.mark.clauses("SEP.4", "SEP.7", "CONV.6")
@pytest.mark.parametrize(
    ("call", "clause"),
    [
        (
            lambda: spatially_separable(
                np.zeros((1, 1, 5)),
                np.zeros((1, 1, 3)),
                np.zeros((1, 1, 3)),
                None,
                Conv((1,), (1,), "valid"),
            ),
            "SEP.4",
        ),
        (
            lambda: spatially_separable(
                np.zeros((1, 1, 5, 5)),
                np.zeros((1, 1, 3, 2)),
                np.zeros((1, 1, 1, 3)),
                None,
                Conv((1, 1), (1, 1), "valid"),
            ),
            "SEP.4",
        ),
        (
            lambda: spatially_separable(
                np.zeros((1, 1, 5, 5)),
                np.zeros((2, 1, 3, 1)),
                np.zeros((1, 1, 1, 3)),
                None,
                Conv((1, 1), (1, 1), "valid"),
            ),
            "SEP.4",
        ),
        (
            lambda: spatially_separable(
                np.zeros((1, 3, 5, 5)),
                np.zeros((2, 2, 3, 1)),
                np.zeros((2, 1, 1, 3)),
                None,
                Conv((1, 1), (1, 1), "valid"),
            ),
            "CONV.6",
        ),
        (
            lambda: flattened(
                np.zeros((1, 2, 5, 5)),
                np.zeros((2, 1)),
                np.zeros((2, 1, 3, 1)),
                np.zeros((2, 1, 1, 3)),
                None,
                Conv((1, 1), (1, 1), "valid", groups=2),
            ),
            "SEP.7",
        ),
        (
            lambda: flattened(
                np.zeros((1, 2, 5, 5)),
                np.zeros((2, 2)),
                np.zeros((3, 1, 3, 1)),
                np.zeros((2, 1, 1, 3)),
                None,
                Conv((1, 1), (1, 1), "valid"),
            ),
            "SEP.7",
        ),
    ],
)
def test_invalid_compositions_raise(call, clause) -> None:
    with pytest.raises(SpecError) as raised:
        call()
    assert raised.value.clause == clause
