"""Self-tests of reference/acnet.py against spec chapter ACNET."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from reference import acnet
from reference import conv as conv_ref
from reference.checks import SpecError
from reference.params import Conv


def bn1(gamma: float, beta: float, mean: float, var: float, eps: float) -> acnet.BatchNorm:
    """A one-channel batch norm."""
    return acnet.BatchNorm(
        np.array([gamma]), np.array([beta]), np.array([mean]), np.array([var]), eps
    )


def random_bn(rng: np.random.Generator, channels: int, eps: float) -> acnet.BatchNorm:
    return acnet.BatchNorm(
        gamma=rng.standard_normal(channels),
        beta=rng.standard_normal(channels),
        mean=rng.standard_normal(channels),
        var=rng.uniform(0.0, 2.0, channels),
        eps=eps,
    )


# --- worked example (ACNET.9) -------------------------------------------------

X_EXAMPLE = np.arange(1.0, 17.0).reshape(1, 1, 4, 4)
P_EXAMPLE = Conv(stride=(1, 1), dilation=(1, 1), padding=((1, 1), (1, 1)))
BLOCK_EXAMPLE = acnet.ACBlock(
    square=np.ones((1, 1, 3, 3)),
    horizontal=np.ones((1, 1, 1, 3)),
    vertical=np.ones((1, 1, 3, 1)),
    bn_square=bn1(2.0, 1.0, 0.5, 3.75, 0.25),
    bn_horizontal=bn1(1.0, 0.0, 0.0, 0.75, 0.25),
    bn_vertical=bn1(-1.0, 2.0, 1.0, 0.75, 0.25),
)
Y_EXAMPLE = np.array(
    [
        [14.5, 25.5, 32.5, 20.5],
        [32.5, 57.5, 66.5, 39.5],
        [52.5, 93.5, 102.5, 59.5],
        [54.5, 93.5, 100.5, 60.5],
    ]
).reshape(1, 1, 4, 4)


@pytest.mark.clauses("ACNET.9", "ACNET.4", "ACNET.2", "ACNET.3")
def test_worked_example_block() -> None:
    np.testing.assert_array_equal(acnet.acnet_block(X_EXAMPLE, BLOCK_EXAMPLE, P_EXAMPLE), Y_EXAMPLE)


@pytest.mark.clauses("ACNET.9", "ACNET.3")
def test_worked_example_branch_values_at_origin() -> None:
    square, hor, ver = acnet.validate(X_EXAMPLE, BLOCK_EXAMPLE, P_EXAMPLE)
    assert square.padding == ((1, 1), (1, 1))
    assert hor.padding == ((0, 0), (1, 1))
    assert ver.padding == ((1, 1), (0, 0))
    z_square = conv_ref.conv(X_EXAMPLE, BLOCK_EXAMPLE.square, None, square)
    z_hor = conv_ref.conv(X_EXAMPLE, BLOCK_EXAMPLE.horizontal, None, hor)
    z_ver = conv_ref.conv(X_EXAMPLE, BLOCK_EXAMPLE.vertical, None, ver)
    assert (z_square[0, 0, 0, 0], z_hor[0, 0, 0, 0], z_ver[0, 0, 0, 0]) == (14.0, 3.0, 6.0)
    assert acnet.batch_norm(z_square, BLOCK_EXAMPLE.bn_square)[0, 0, 0, 0] == 14.5
    assert acnet.batch_norm(z_hor, BLOCK_EXAMPLE.bn_horizontal)[0, 0, 0, 0] == 3.0
    assert acnet.batch_norm(z_ver, BLOCK_EXAMPLE.bn_vertical)[0, 0, 0, 0] == -3.0


@pytest.mark.clauses("ACNET.9", "ACNET.6", "ACNET.5")
def test_worked_example_fusion() -> None:
    w, b = acnet.fuse_acnet(BLOCK_EXAMPLE)
    expected = np.array([[1.0, 0.0, 1.0], [2.0, 1.0, 2.0], [1.0, 0.0, 1.0]]).reshape(1, 1, 3, 3)
    np.testing.assert_array_equal(w, expected)
    np.testing.assert_array_equal(b, [3.5])
    np.testing.assert_array_equal(conv_ref.conv(X_EXAMPLE, w, b, P_EXAMPLE), Y_EXAMPLE)


# --- properties ---------------------------------------------------------------


def draw_block(data: st.DataObject) -> tuple[np.ndarray, acnet.ACBlock, Conv]:
    """A valid (x, block, p), built by construction."""
    k = data.draw(st.sampled_from([1, 3, 5]), label="k")
    c = k // 2
    groups = data.draw(st.integers(1, 2), label="groups")
    c_in = groups * data.draw(st.integers(1, 2), label="C_in/groups")
    c_out = groups * data.draw(st.integers(1, 2), label="C_out/groups")
    stride = (data.draw(st.integers(1, 2), label="s_h"), data.draw(st.integers(1, 2), label="s_w"))
    # Dilation 2 only with k <= 3 keeps the loops small.
    max_d = 2 if k <= 3 else 1
    dilation = (
        data.draw(st.integers(1, max_d), label="d_h"),
        data.draw(st.integers(1, max_d), label="d_w"),
    )
    mode = data.draw(st.sampled_from(["zeros", "reflect", "replicate", "circular"]), label="mode")
    form = data.draw(st.sampled_from(["explicit", "same", "valid"]), label="padding form")
    if mode != "zeros":
        form = "explicit"
    pads = []
    sizes = []
    for a in range(2):
        reach = c * dilation[a]
        # zeros: pads below c*d (cropping branches) and above; other modes: at least c*d.
        low = 0 if mode == "zeros" else reach
        pair = (
            data.draw(st.integers(low, reach + 1), label=f"pad begin {a}"),
            data.draw(st.integers(low, reach + 1), label=f"pad end {a}"),
        )
        pads.append(pair)
        k_eff = dilation[a] * (k - 1) + 1
        used = sum(pair) if form == "explicit" else 0
        smallest = max(1, k_eff - used, max(pair) + 1 if mode != "zeros" else 1)
        sizes.append(smallest + data.draw(st.integers(0, 2), label=f"extra size {a}"))
    padding = tuple(pads) if form == "explicit" else form
    p = Conv(
        stride=stride,
        dilation=dilation,
        padding=padding,  # type: ignore[arg-type]
        groups=groups,
        padding_mode=mode,  # type: ignore[arg-type]
    )
    eps = data.draw(st.sampled_from([1e-5, 1e-3, 0.25]), label="eps")
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1), label="seed"))
    block = acnet.ACBlock(
        square=rng.standard_normal((c_out, c_in // groups, k, k)),
        horizontal=rng.standard_normal((c_out, c_in // groups, 1, k)),
        vertical=rng.standard_normal((c_out, c_in // groups, k, 1)),
        bn_square=random_bn(rng, c_out, eps),
        bn_horizontal=random_bn(rng, c_out, eps),
        bn_vertical=random_bn(rng, c_out, eps),
    )
    x = rng.standard_normal((1, c_in, *sizes))
    return x, block, p


@pytest.mark.clauses("ACNET.6", "ACNET.3", "ACNET.4", "ACNET.7")
@given(data=st.data())
def test_fused_equals_block(data: st.DataObject) -> None:
    x, block, p = draw_block(data)
    y_block = acnet.acnet_block(x, block, p)
    w, b = acnet.fuse_acnet(block)
    y_fused = conv_ref.conv(x, w, b, p)
    assert y_fused.shape == y_block.shape
    assert np.all(np.abs(y_fused - y_block) <= acnet.fusion_error_bound(x, block, p))


@pytest.mark.clauses("ACNET.3")
@given(data=st.data())
def test_branch_outputs_have_the_square_shape(data: st.DataObject) -> None:
    x, block, p = draw_block(data)
    square, hor, ver = acnet.validate(x, block, p)
    shape = conv_ref.conv_fast(x, block.square, None, square).shape
    assert conv_ref.conv_fast(x, block.horizontal, None, hor).shape == shape
    assert conv_ref.conv_fast(x, block.vertical, None, ver).shape == shape


@pytest.mark.clauses("ACNET.5", "ACNET.2")
@given(data=st.data())
def test_folding_one_batch_norm(data: st.DataObject) -> None:
    x, block, p = draw_block(data)
    square = acnet.validate(x, block, p)[0]
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1), label="bias seed"))
    bias = rng.standard_normal((block.square.shape[0],))
    expected = acnet.batch_norm(conv_ref.conv_fast(x, block.square, bias, square), block.bn_square)
    w, b = acnet.fold_batch_norm(block.square, block.bn_square, bias)
    got = conv_ref.conv_fast(x, w, b, square)
    scale = np.abs(block.bn_square.scale()).reshape(1, -1, 1, 1)
    magnitude = scale * (
        conv_ref.conv_fast(np.abs(x), np.abs(block.square), np.abs(bias), square)
        + np.abs(block.bn_square.mean).reshape(1, -1, 1, 1)
    ) + np.abs(block.bn_square.beta).reshape(1, -1, 1, 1)
    assert np.all(np.abs(got - expected) <= 1e-13 * magnitude)


@pytest.mark.clauses("ACNET.2")
def test_batch_norm_formula() -> None:
    z = np.array([0.0, 1.0, 5.0]).reshape(1, 1, 3)
    # gamma 3, beta -1, mean 1, var + eps = 4: y = 3*(z - 1)/2 - 1.
    y = acnet.batch_norm(z, bn1(3.0, -1.0, 1.0, 3.5, 0.5))
    np.testing.assert_array_equal(y.ravel(), [-2.5, -1.0, 5.0])


# --- invalid configurations ---------------------------------------------------


def invalid_cases() -> dict[str, tuple[acnet.ACBlock, Conv, np.ndarray, str]]:
    b, p, x = BLOCK_EXAMPLE, P_EXAMPLE, X_EXAMPLE
    even = replace(
        b,
        square=np.ones((1, 1, 4, 4)),
        horizontal=np.ones((1, 1, 1, 4)),
        vertical=np.ones((1, 1, 4, 1)),
    )
    wide_bn = acnet.BatchNorm(np.ones(2), np.ones(2), np.ones(2), np.ones(2), 1e-5)
    return {
        "even kernel": (even, p, x, "ACNET.1"),
        "non-square kernel": (replace(b, square=np.ones((1, 1, 3, 5))), p, x, "ACNET.1"),
        "horizontal shape": (replace(b, horizontal=np.ones((1, 1, 3, 1))), p, x, "ACNET.1"),
        "vertical shape": (replace(b, vertical=np.ones((1, 1, 3, 3))), p, x, "ACNET.1"),
        "1-D params": (b, Conv((1,), (1,), ((1, 1),)), x, "ACNET.1"),
        "batch norm channels": (replace(b, bn_vertical=wide_bn), p, x, "ACNET.2"),
        "zero variance and eps": (
            replace(b, bn_square=bn1(1.0, 0.0, 0.0, 0.0, 0.0)),
            p,
            x,
            "ACNET.2",
        ),
        "negative eps": (replace(b, bn_square=bn1(1.0, 0.0, 0.0, 1.0, -0.5)), p, x, "ACNET.2"),
        "reflect with cropping branches": (
            b,
            Conv((1, 1), (1, 1), ((0, 1), (1, 1)), padding_mode="reflect"),
            x,
            "ACNET.3",
        ),
        "groups": (b, replace(p, groups=2), x, "CONV.6"),
    }


@pytest.mark.clauses("ACNET.1", "ACNET.2", "ACNET.3")
@pytest.mark.parametrize("name", sorted(invalid_cases()))
def test_invalid_configurations_raise(name: str) -> None:
    block, p, x, clause = invalid_cases()[name]
    with pytest.raises(SpecError) as info:
        acnet.acnet_block(x, block, p)
    assert info.value.clause == clause, str(info.value)


@pytest.mark.clauses("ACNET.1")
def test_fuse_rejects_even_kernels() -> None:
    block = replace(
        BLOCK_EXAMPLE,
        square=np.ones((1, 1, 2, 2)),
        horizontal=np.ones((1, 1, 1, 2)),
        vertical=np.ones((1, 1, 2, 1)),
    )
    with pytest.raises(SpecError) as info:
        acnet.fuse_acnet(block)
    assert info.value.clause == "ACNET.1"
