"""Self-tests of reference/deformable.py against spec chapter DEFORM."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from reference import conv as conv_ref
from reference import deformable
from reference.checks import SpecError
from reference.numerics import error_bound
from reference.params import Conv, DeformConv

PLANE = np.arange(1.0, 10.0).reshape(3, 3)  # [[1, 2, 3], [4, 5, 6], [7, 8, 9]]


@dataclass
class Case:
    x: np.ndarray
    offset: np.ndarray
    mask: np.ndarray | None
    w: np.ndarray
    b: np.ndarray | None
    p: DeformConv


def draw_case(data: st.DataObject, offsets: str = "quarter", use_mask: bool | None = None) -> Case:
    """A valid configuration, built by construction (no filtering)."""
    groups = data.draw(st.integers(1, 2), label="groups")
    offset_groups = data.draw(st.integers(1, 2), label="offset_groups")
    # C_in is a multiple of both group counts; C_out of groups.
    c_in = groups * offset_groups * data.draw(st.integers(1, 2), label="C_in factor")
    c_out = groups * data.draw(st.integers(1, 2), label="C_out/groups")
    kernel = (data.draw(st.integers(1, 3), label="kh"), data.draw(st.integers(1, 3), label="kw"))
    stride = (data.draw(st.integers(1, 2), label="s_h"), data.draw(st.integers(1, 2), label="s_w"))
    dilation = (
        data.draw(st.integers(1, 2), label="d_h"),
        data.draw(st.integers(1, 2), label="d_w"),
    )
    pad = st.tuples(st.integers(0, 2), st.integers(0, 2))
    padding = (data.draw(pad, label="pad_h"), data.draw(pad, label="pad_w"))
    spatial = []
    for a in range(2):
        k_eff = dilation[a] * (kernel[a] - 1) + 1
        # The smallest size whose output is >= 1, plus some slack.
        smallest = max(1, k_eff - sum(padding[a]))
        spatial.append(smallest + data.draw(st.integers(0, 3), label=f"extra size {a}"))
    n_batch = data.draw(st.integers(1, 2), label="N")
    with_mask = data.draw(st.booleans(), label="mask") if use_mask is None else use_mask
    with_bias = data.draw(st.booleans(), label="bias")
    seed = data.draw(st.integers(0, 2**32 - 1), label="seed")
    rng = np.random.default_rng(seed)
    p = DeformConv(stride, dilation, padding, groups, offset_groups)
    x = rng.standard_normal((n_batch, c_in, *spatial))
    w = rng.standard_normal((c_out, c_in // groups, *kernel))
    h_out, w_out = deformable.output_size(x.shape, w.shape, p)
    taps = offset_groups * kernel[0] * kernel[1]
    off_shape = (n_batch, 2 * taps, h_out, w_out)
    # Wide enough that many sampling points fall outside the input, on both sides.
    reach = max(spatial) + 2
    if offsets == "quarter":
        offset = rng.integers(-4 * reach, 4 * reach + 1, off_shape) / 4.0
    else:
        offset = rng.uniform(-reach, reach, off_shape)
    mask = rng.uniform(-1.0, 2.0, (n_batch, taps, h_out, w_out)) if with_mask else None
    b = rng.standard_normal(c_out) if with_bias else None
    return Case(x, offset, mask, w, b, p)


def magnitude(case: Case) -> np.ndarray:
    """DEFORM.11: M, the operation on absolute values."""
    return deformable.deform_conv_fast(
        np.abs(case.x),
        case.offset,
        None if case.mask is None else np.abs(case.mask),
        np.abs(case.w),
        None if case.b is None else np.abs(case.b),
        case.p,
    )


def float64_bound(case: Case) -> np.ndarray:
    terms = deformable.accumulation_terms(case.w.shape, case.p, case.b is not None)
    return error_bound(magnitude(case), terms, "float64")


# --- worked examples (DEFORM.13, DEFORM.14) ---------------------------------


def assert_both(
    x: np.ndarray,
    offset: np.ndarray,
    mask: np.ndarray | None,
    w: np.ndarray,
    p: DeformConv,
    expected: np.ndarray,
) -> None:
    """The loop and the fast oracle both give the hand-computed values exactly."""
    np.testing.assert_array_equal(deformable.deform_conv(x, offset, mask, w, None, p), expected)
    np.testing.assert_array_equal(
        deformable.deform_conv_fast(x, offset, mask, w, None, p), expected
    )


def example_13() -> tuple[np.ndarray, np.ndarray, np.ndarray, DeformConv]:
    x = PLANE.reshape(1, 1, 3, 3)
    w = np.array([[1.0, 2.0], [3.0, 4.0]]).reshape(1, 1, 2, 2)
    offset = np.zeros((1, 8, 2, 2))
    offset[0, 0] = 0.5  # dy of tap 0
    return x, offset, w, DeformConv((1, 1), (1, 1), ((0, 0), (0, 0)))


@pytest.mark.clauses("DEFORM.13", "DEFORM.7", "DEFORM.6", "DEFORM.4")
def test_worked_example_fractional_offset() -> None:
    x, offset, w, p = example_13()
    expected = np.array([[38.5, 48.5], [68.5, 78.5]]).reshape(1, 1, 2, 2)
    assert_both(x, offset, None, w, p, expected)


@pytest.mark.clauses("DEFORM.13", "DEFORM.7", "DEFORM.4", "DEFORM.10")
def test_worked_example_mask() -> None:
    x, offset, w, p = example_13()
    mask = np.ones((1, 4, 2, 2))
    mask[0, 0] = 0.5
    mask[0, 3] = 0.0
    expected = np.array([[17.25, 22.75], [33.75, 39.25]]).reshape(1, 1, 2, 2)
    assert_both(x, offset, mask, w, p, expected)


@pytest.mark.clauses("DEFORM.14", "DEFORM.6")
@pytest.mark.parametrize(
    ("h", "w", "value"),
    [
        (0.25, 1.5, 3.25),
        (-0.5, -0.5, 0.25),
        (-1.0, 0.0, 0.0),
        (2.5, 1.0, 4.0),
        (1.0, 2.75, 1.5),
        (-0.25, 2.5, 1.125),
        (2.0, 2.0, 9.0),
        (3.0, 0.0, 0.0),
        (0.0, -0.999, 0.001),
    ],
)
def test_bilinear_worked_values(h: float, w: float, value: float) -> None:
    assert deformable.bilinear(PLANE, h, w) == pytest.approx(value, abs=1e-15)


@pytest.mark.clauses("DEFORM.14", "DEFORM.5", "DEFORM.6", "DEFORM.3")
def test_worked_example_border() -> None:
    x = PLANE.reshape(1, 1, 3, 3)
    w = np.ones((1, 1, 1, 1))
    p = DeformConv((2, 2), (1, 1), ((1, 1), (1, 1)))
    offset = np.full((1, 2, 3, 3), 0.5)
    expected = np.array([[0.25, 1.25, 0.0], [2.75, 7.0, 0.0], [0.0, 0.0, 0.0]]).reshape(1, 1, 3, 3)
    assert_both(x, offset, None, w, p, expected)


@pytest.mark.clauses("DEFORM.4", "DEFORM.2")
def test_offset_channel_of_one_tap_of_one_offset_group() -> None:
    # Two input channels in two offset groups; channel 1 holds 100 * PLANE.
    x = np.stack([PLANE, 100 * PLANE]).reshape(1, 2, 3, 3)
    w = np.ones((1, 2, 1, 2))
    p = DeformConv((1, 1), (1, 1), ((0, 0), (0, 0)), groups=1, offset_groups=2)
    offset = np.zeros((1, 8, 3, 2))
    # Channel 2*(g*kh*kw + k) + 1 with g = 1, k = 1: dx of tap 1 of offset group 1.
    offset[0, 7] = -1.0
    # Only channel 1's tap 1 moves one column left: y = conv - 100*(P[oy, ox+1] - P[oy, ox]).
    expected = np.array([[203.0, 405.0], [809.0, 1011.0], [1415.0, 1617.0]]).reshape(1, 1, 3, 2)
    assert_both(x, offset, None, w, p, expected)


@pytest.mark.clauses("DEFORM.11")
def test_accumulation_terms() -> None:
    p = DeformConv((1, 1), (1, 1), ((0, 0), (0, 0)), groups=2)
    # C_in/groups = 3 channels, 2 x 3 kernel: 18 taps, 4 corners each, 6 factor roundings.
    assert deformable.accumulation_terms((4, 3, 2, 3), p, bias=False) == 4 * 18 + 6
    assert deformable.accumulation_terms((4, 3, 2, 3), p, bias=True) == 4 * 18 + 7


# --- properties ---------------------------------------------------------------


@pytest.mark.clauses("DEFORM.7", "DEFORM.6", "DEFORM.5", "DEFORM.4")
@given(data=st.data())
def test_loop_equals_fast_quarter_offsets(data: st.DataObject) -> None:
    case = draw_case(data, offsets="quarter")
    loop = deformable.deform_conv(case.x, case.offset, case.mask, case.w, case.b, case.p)
    fast = deformable.deform_conv_fast(case.x, case.offset, case.mask, case.w, case.b, case.p)
    assert np.all(np.abs(loop - fast) <= float64_bound(case))


@pytest.mark.clauses("DEFORM.7", "DEFORM.6", "DEFORM.5")
@given(data=st.data())
def test_loop_equals_fast_arbitrary_offsets(data: st.DataObject) -> None:
    case = draw_case(data, offsets="uniform")
    loop = deformable.deform_conv(case.x, case.offset, case.mask, case.w, case.b, case.p)
    fast = deformable.deform_conv_fast(case.x, case.offset, case.mask, case.w, case.b, case.p)
    assert np.all(np.abs(loop - fast) <= float64_bound(case))


def as_conv(p: DeformConv, shift: tuple[int, int] = (0, 0)) -> Conv:
    """The CONV params of DEFORM.9 for a uniform integer offset `shift`."""
    (top, bottom), (left, right) = p.padding
    a, c = shift
    return Conv(
        stride=p.stride,
        dilation=p.dilation,
        padding=((top - a, bottom + a), (left - c, right + c)),
        groups=p.groups,
    )


@pytest.mark.clauses("DEFORM.9", "DEFORM.8")
@given(data=st.data())
def test_zero_offsets_equal_convolution(data: st.DataObject) -> None:
    case = draw_case(data, use_mask=False)
    zero = np.zeros_like(case.offset)
    ones = np.ones((case.offset.shape[0], case.offset.shape[1] // 2, *case.offset.shape[2:]))
    expected = conv_ref.conv(case.x, case.w, case.b, as_conv(case.p))
    # Both loops add the same products in the same order: equal to the last bit.
    for mask in (None, ones):
        got = deformable.deform_conv(case.x, zero, mask, case.w, case.b, case.p)
        np.testing.assert_array_equal(got, expected)
    fast = deformable.deform_conv_fast(case.x, zero, None, case.w, case.b, case.p)
    bound = float64_bound(Case(case.x, zero, None, case.w, case.b, case.p))
    assert np.all(np.abs(fast - expected) <= bound)


@pytest.mark.clauses("DEFORM.9", "DEFORM.5", "DEFORM.6")
@given(data=st.data())
def test_integer_offsets_equal_shifted_convolution(data: st.DataObject) -> None:
    case = draw_case(data, use_mask=False)
    reach = max(case.x.shape[2:]) + 1
    shift = (
        data.draw(st.integers(-reach, reach), label="row shift"),
        data.draw(st.integers(-reach, reach), label="column shift"),
    )
    offset = np.zeros_like(case.offset)
    offset[:, 0::2] = shift[0]
    offset[:, 1::2] = shift[1]
    got = deformable.deform_conv(case.x, offset, None, case.w, case.b, case.p)
    # At integer points the samples are the input values or 0, exactly.
    expected = conv_ref.conv(case.x, case.w, case.b, as_conv(case.p, shift))
    np.testing.assert_array_equal(got, expected)


@pytest.mark.clauses("DEFORM.10", "DEFORM.8")
@given(data=st.data(), alpha=st.sampled_from([0.0, -1.0, 0.5, 3.0]))
def test_mask_linearity(data: st.DataObject, alpha: float) -> None:
    case = draw_case(data, use_mask=True)
    assert case.mask is not None
    bias = 0.0 if case.b is None else case.b.reshape(1, -1, 1, 1)
    base = deformable.deform_conv_fast(case.x, case.offset, case.mask, case.w, case.b, case.p)
    scaled = deformable.deform_conv_fast(
        case.x, case.offset, alpha * case.mask, case.w, case.b, case.p
    )
    tolerance = 4 * float64_bound(case) * max(1.0, abs(alpha))
    assert np.all(np.abs((scaled - bias) - alpha * (base - bias)) <= tolerance)
    # DEFORM.8: v1 is v2 with a mask of ones, exactly (the same products in the same order).
    ones = np.ones_like(case.mask)
    np.testing.assert_array_equal(
        deformable.deform_conv(case.x, case.offset, None, case.w, case.b, case.p),
        deformable.deform_conv(case.x, case.offset, ones, case.w, case.b, case.p),
    )


@pytest.mark.clauses("DEFORM.4", "DEFORM.2")
@given(data=st.data())
def test_identical_offset_groups_equal_one_group(data: st.DataObject) -> None:
    case = draw_case(data)
    g = case.p.offset_groups
    kh, kw = case.w.shape[2:]
    # Keep offset group 0's offsets and mask and copy them to every group.
    offset = np.tile(case.offset[:, : 2 * kh * kw], (1, g, 1, 1))
    mask = None if case.mask is None else np.tile(case.mask[:, : kh * kw], (1, g, 1, 1))
    one = DeformConv(case.p.stride, case.p.dilation, case.p.padding, case.p.groups, 1)
    got = deformable.deform_conv_fast(case.x, offset, mask, case.w, case.b, case.p)
    single = Case(
        case.x,
        offset[:, : 2 * kh * kw],
        None if mask is None else mask[:, : kh * kw],
        case.w,
        case.b,
        one,
    )
    expected = deformable.deform_conv_fast(
        single.x, single.offset, single.mask, single.w, single.b, single.p
    )
    # The same products, possibly summed in another order by einsum.
    assert np.all(np.abs(got - expected) <= float64_bound(single))


@pytest.mark.clauses("DEFORM.6")
@given(
    h=st.floats(0.0, 4.0),
    w=st.floats(0.0, 3.0),
)
def test_bilinear_reproduces_affine_planes(h: float, w: float) -> None:
    # Inside [0, H-1] x [0, W-1] bilinear interpolation is exact on affine functions.
    plane = np.fromfunction(lambda i, j: 3.0 * i - 2.0 * j + 1.0, (5, 4))
    assert deformable.bilinear(plane, h, w) == pytest.approx(3.0 * h - 2.0 * w + 1.0, abs=1e-12)


@pytest.mark.clauses("DEFORM.6")
@given(h=st.floats(-3.0, 6.0), w=st.floats(-3.0, 6.0))
def test_bilinear_weights_and_outside_zero(h: float, w: float) -> None:
    ones = np.ones((3, 4))
    value = deformable.bilinear(ones, h, w)
    # On a plane of ones the value is the total weight of the corners inside: in [0, 1].
    assert 0.0 <= value <= 1.0 + 1e-15
    if h <= -1 or h >= 3 or w <= -1 or w >= 4:
        assert value == 0.0
    if 0 <= h <= 2 and 0 <= w <= 3:
        assert value == pytest.approx(1.0, abs=1e-15)


@pytest.mark.clauses("DEFORM.11")
@given(data=st.data())
def test_magnitude_term_dominates(data: st.DataObject) -> None:
    case = draw_case(data)
    y = deformable.deform_conv_fast(case.x, case.offset, case.mask, case.w, case.b, case.p)
    assert np.all(np.abs(y) <= magnitude(case) * (1 + 1e-12) + 1e-300)


# --- invalid configurations ---------------------------------------------------


def valid_operands() -> dict[str, object]:
    x = np.zeros((1, 4, 5, 5))
    w = np.zeros((2, 2, 3, 3))
    p = DeformConv((1, 1), (1, 1), ((1, 1), (1, 1)), groups=2, offset_groups=2)
    return {
        "x": x,
        "offset": np.zeros((1, 36, 5, 5)),
        "mask": np.zeros((1, 18, 5, 5)),
        "w": w,
        "b": np.zeros(2),
        "p": p,
    }


def with_params(**changes: object) -> DeformConv:
    base = valid_operands()["p"]
    assert isinstance(base, DeformConv)
    fields = {**base.__dict__, **changes}
    return DeformConv(**fields)


INVALID: dict[str, tuple[dict[str, object], str]] = {
    "3-D input": ({"x": np.zeros((4, 5, 5))}, "DEFORM.1"),
    "3-D weight": ({"w": np.zeros((2, 2, 3))}, "DEFORM.1"),
    "zero kernel": ({"w": np.zeros((2, 2, 0, 3))}, "DEFORM.1"),
    "zero stride": ({"p": with_params(stride=(0, 1))}, "DEFORM.2"),
    "zero dilation": ({"p": with_params(dilation=(1, 0))}, "DEFORM.2"),
    "negative padding": ({"p": with_params(padding=((1, 1), (-1, 1)))}, "DEFORM.2"),
    "string padding": ({"p": with_params(padding="same")}, "DEFORM.2"),
    "one padding pair": ({"p": with_params(padding=((1, 1),))}, "DEFORM.2"),
    "groups do not divide C_out": (
        {"w": np.zeros((3, 2, 3, 3)), "b": np.zeros(3)},
        "DEFORM.2",
    ),
    "weight channels": ({"w": np.zeros((2, 4, 3, 3))}, "DEFORM.2"),
    "offset groups do not divide C_in": ({"p": with_params(offset_groups=3)}, "DEFORM.2"),
    "zero offset groups": ({"p": with_params(offset_groups=0)}, "DEFORM.2"),
    "offset channels": ({"offset": np.zeros((1, 18, 5, 5))}, "DEFORM.4"),
    "offset spatial size": ({"offset": np.zeros((1, 36, 4, 5))}, "DEFORM.4"),
    "offset batch": ({"offset": np.zeros((2, 36, 5, 5))}, "DEFORM.4"),
    "mask channels": ({"mask": np.zeros((1, 36, 5, 5))}, "DEFORM.4"),
    "non-finite offset": ({"offset": np.full((1, 36, 5, 5), np.nan)}, "DEFORM.5"),
    "bias shape": ({"b": np.zeros(3)}, "DEFORM.7"),
}


@pytest.mark.clauses("DEFORM.1", "DEFORM.2", "DEFORM.3", "DEFORM.4", "DEFORM.5", "DEFORM.7")
@pytest.mark.parametrize("name", sorted(INVALID))
def test_invalid_configurations_raise(name: str) -> None:
    changes, clause = INVALID[name]
    operands = {**valid_operands(), **changes}
    for fn in (deformable.deform_conv, deformable.deform_conv_fast):
        with pytest.raises(SpecError) as info:
            fn(**operands)  # type: ignore[arg-type]
        assert info.value.clause == clause, str(info.value)


def test_valid_operands_are_valid() -> None:
    y = deformable.deform_conv_fast(**valid_operands())  # type: ignore[arg-type]
    assert y.shape == (1, 2, 5, 5)
