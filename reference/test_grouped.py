"""Self-tests of reference/grouped.py (spec chapter GRP)."""

from __future__ import annotations

import itertools
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from reference.checks import SpecError
from reference.conv import conv
from reference.grouped import (
    depthwise_conv,
    depthwise_filter_from_tf,
    expand_groups,
    pointwise_conv,
    split_groups_conv,
)
from reference.params import Conv
from reference.test_conv import Case, draw_case, integer_arrays


@pytest.mark.clauses("GRP.1", "CONV.6")
@given(data=st.data())
def test_grouped_conv_is_the_concatenation_of_group_convs(data: st.DataObject) -> None:
    case = draw_case(data)
    x, w, b = integer_arrays(data, case)
    np.testing.assert_array_equal(split_groups_conv(x, w, b, case.p), conv(x, w, b, case.p))


@pytest.mark.clauses("GRP.5", "CONV.6")
@given(data=st.data())
def test_grouped_conv_is_a_dense_conv_with_block_diagonal_weight(data: st.DataObject) -> None:
    case = draw_case(data)
    x, w, b = integer_arrays(data, case)
    dense = expand_groups(w, case.p.groups)
    assert dense.shape == (case.w_shape[0], case.x_shape[1], *case.w_shape[2:])
    assert np.count_nonzero(dense) == np.count_nonzero(w)
    np.testing.assert_array_equal(
        conv(x, dense, b, replace(case.p, groups=1)), conv(x, w, b, case.p)
    )


def _depthwise_case(data: st.DataObject) -> tuple[Case, int]:
    """A drawn configuration turned depthwise: groups = C_in, weight (C_in*m, 1, *k)."""
    case = draw_case(data, max_groups=3)
    c_in = case.p.groups
    m = data.draw(st.integers(1, 3), label="multiplier")
    return (
        Case(
            x_shape=(case.x_shape[0], c_in, *case.x_shape[2:]),
            w_shape=(c_in * m, 1, *case.w_shape[2:]),
            bias=case.bias,
            p=case.p,
        ),
        m,
    )


@pytest.mark.clauses("GRP.2")
@given(data=st.data())
def test_depthwise_output_channel_reads_input_channel_o_div_m(data: st.DataObject) -> None:
    case, m = _depthwise_case(data)
    x, w, b = integer_arrays(data, case)
    y = depthwise_conv(x, w, b, case.p)
    single = replace(case.p, groups=1)
    for c, j in itertools.product(range(case.x_shape[1]), range(m)):
        o = c * m + j
        bias = None if b is None else b[o : o + 1]
        np.testing.assert_array_equal(
            y[:, o : o + 1], conv(x[:, c : c + 1], w[o : o + 1], bias, single)
        )


# TensorFlow's tf.nn.depthwise_conv2d docstring example: NHWC input, (2, 1, 1, 2) filter.
TF_X = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]).reshape(1, 3, 2, 1)
TF_FILTER = np.array([[1.0, 2.0], [3.0, 4.0]]).reshape(2, 1, 1, 2)


@pytest.mark.clauses("GRP.6", "GRP.2")
@pytest.mark.parametrize(
    ("padding", "expected_nhwc"),
    [
        ("valid", [[[[10, 14], [14, 20]], [[18, 26], [22, 32]]]]),
        (
            ((1, 0), (1, 0)),
            [
                [
                    [[0, 0], [3, 4], [6, 8]],
                    [[0, 0], [10, 14], [14, 20]],
                    [[0, 0], [18, 26], [22, 32]],
                ]
            ],
        ),
    ],
)
def test_tensorflow_depthwise_docstring_examples(padding, expected_nhwc) -> None:
    w = depthwise_filter_from_tf(TF_FILTER)
    assert w.shape == (2, 1, 2, 1)
    y = depthwise_conv(TF_X.transpose(0, 3, 1, 2), w, None, Conv((1, 1), (1, 1), padding, groups=1))
    np.testing.assert_array_equal(y.transpose(0, 2, 3, 1), expected_nhwc)


@pytest.mark.clauses("GRP.6")
@given(data=st.data())
def test_tensorflow_depthwise_formula_transcribed(data: st.DataObject) -> None:
    # TF: output[b, i, j, k*m + q] = sum_{di, dj} filter[di, dj, k, q]
    #         * input[b, strides[1]*i + dilations[0]*di, strides[2]*j + dilations[1]*dj, k]
    c_in = data.draw(st.integers(1, 3), label="C_in")
    m = data.draw(st.integers(1, 3), label="multiplier")
    s = (
        data.draw(st.integers(1, 2), label="stride_h"),
        data.draw(st.integers(1, 2), label="stride_w"),
    )
    d = (
        data.draw(st.integers(1, 2), label="dilation_h"),
        data.draw(st.integers(1, 2), label="dilation_w"),
    )
    kernel = (data.draw(st.integers(1, 3), label="kh"), data.draw(st.integers(1, 3), label="kw"))
    out = (data.draw(st.integers(1, 3), label="out_h"), data.draw(st.integers(1, 3), label="out_w"))
    size = tuple(
        (o - 1) * sa + da * (k - 1) + 1 for o, sa, da, k in zip(out, s, d, kernel, strict=True)
    )
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1), label="seed"))
    x_nhwc = rng.integers(-3, 4, (1, *size, c_in)).astype(np.float64)
    f = rng.integers(-3, 4, (*kernel, c_in, m)).astype(np.float64)
    expected = np.zeros((1, *out, c_in * m))
    for i, j, k, q in itertools.product(range(out[0]), range(out[1]), range(c_in), range(m)):
        for di, dj in itertools.product(range(kernel[0]), range(kernel[1])):
            expected[0, i, j, k * m + q] += (
                f[di, dj, k, q] * x_nhwc[0, s[0] * i + d[0] * di, s[1] * j + d[1] * dj, k]
            )
    p = Conv(s, d, "valid", groups=c_in)
    y = depthwise_conv(x_nhwc.transpose(0, 3, 1, 2), depthwise_filter_from_tf(f), None, p)
    np.testing.assert_array_equal(y.transpose(0, 2, 3, 1), expected)


@pytest.mark.clauses("GRP.3", "GRP.4")
@given(data=st.data())
def test_pointwise_is_a_1x1_conv(data: st.DataObject) -> None:
    case = draw_case(data, modes=("zeros",), forms=("valid",))
    rank = case.p.rank
    case = replace(
        case,
        w_shape=(case.w_shape[0], case.w_shape[1], *([1] * rank)),
        p=replace(case.p, stride=(1,) * rank, dilation=(1,) * rank),
    )
    x, w, b = integer_arrays(data, case)
    expected = conv(x, w, b, case.p)
    np.testing.assert_array_equal(pointwise_conv(x, w, b, groups=case.p.groups), expected)
    flat = w.reshape(w.shape[0], w.shape[1])
    np.testing.assert_array_equal(pointwise_conv(x, flat, b, groups=case.p.groups), expected)


@pytest.mark.clauses("GRP.3", "GRP.4")
@given(data=st.data())
def test_pointwise_is_a_matrix_product_per_pixel(data: st.DataObject) -> None:
    groups = data.draw(st.integers(1, 3), label="groups")
    c_in_g = data.draw(st.integers(1, 3), label="C_in/groups")
    c_out_g = data.draw(st.integers(1, 3), label="C_out/groups")
    spatial = data.draw(st.lists(st.integers(1, 4), min_size=1, max_size=3), label="spatial")
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1), label="seed"))
    x = rng.integers(-3, 4, (2, groups * c_in_g, *spatial)).astype(np.float64)
    w = rng.integers(-3, 4, (groups * c_out_g, c_in_g)).astype(np.float64)
    b = rng.integers(-3, 4, groups * c_out_g).astype(np.float64)
    dense = expand_groups(w[:, :, None], groups)[:, :, 0]  # block-diagonal (C_out, C_in)
    expected = np.einsum("oc,nc...->no...", dense, x) + b.reshape(1, -1, *([1] * len(spatial)))
    np.testing.assert_array_equal(pointwise_conv(x, w, b, groups=groups), expected)


@pytest.mark.clauses("GRP.3")
def test_strided_1x1_conv_is_pointwise_of_the_subsampled_input() -> None:
    rng = np.random.default_rng(7)
    x = rng.integers(-3, 4, (1, 2, 7, 5)).astype(np.float64)
    w = rng.integers(-3, 4, (3, 2, 1, 1)).astype(np.float64)
    strided = conv(x, w, None, Conv((2, 3), (1, 1), "valid"))
    np.testing.assert_array_equal(strided, pointwise_conv(x[:, :, ::2, ::3], w, None))


INVALID = [
    # (x shape, w shape, groups, clause)
    ((1, 3, 5), (3, 1, 3), 1, "GRP.2"),
    ((1, 3, 5), (6, 2, 3), 3, "GRP.2"),
    ((1, 3, 5), (4, 1, 3), 3, "GRP.2"),
    ((1, 3, 5), (0, 1, 3), 3, "GRP.2"),
    ((1, 3, 5), (3, 1), 3, "CONV.1"),
]


@pytest.mark.clauses("GRP.2", "CONV.1")
@pytest.mark.parametrize(("x_shape", "w_shape", "groups", "clause"), INVALID)
def test_invalid_depthwise_raises(x_shape, w_shape, groups, clause) -> None:
    with pytest.raises(SpecError) as raised:
        depthwise_conv(
            np.zeros(x_shape), np.zeros(w_shape), None, Conv((1,), (1,), "valid", groups=groups)
        )
    assert raised.value.clause == clause


@pytest.mark.clauses("GRP.3", "GRP.4", "CONV.6", "CONV.7")
@pytest.mark.parametrize(
    ("x_shape", "w_shape", "b_shape", "groups", "clause"),
    [
        ((1, 2, 4), (3, 2, 3), None, 1, "GRP.3"),
        ((1, 2, 4, 4), (3, 2, 1, 2), None, 1, "GRP.3"),
        ((1, 2, 4), (3, 2, 1, 1, 1), None, 1, "GRP.3"),
        ((1, 4, 4), (3, 2), None, 2, "CONV.6"),
        ((1, 3, 4), (4, 1), None, 2, "CONV.6"),
        ((1, 4, 4), (4, 4), None, 2, "CONV.6"),
        ((1, 2, 4), (3, 2), (2,), 1, "CONV.7"),
    ],
)
def test_invalid_pointwise_raises(x_shape, w_shape, b_shape, groups, clause) -> None:
    b = None if b_shape is None else np.zeros(b_shape)
    with pytest.raises(SpecError) as raised:
        pointwise_conv(np.zeros(x_shape), np.zeros(w_shape), b, groups=groups)
    assert raised.value.clause == clause
