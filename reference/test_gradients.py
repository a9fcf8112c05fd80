"""Self-tests of reference/gradients.py against spec chapter GRAD.

Most checks are exact. Operands here are dyadic (multiples of 1/8 in [-2, 2]; offsets
multiples of 1/16, directions small integers), so every product and partial sum that
float64 forms in these small configurations has far fewer than 53 significant bits:
evaluating L = sum(y * g) or a gradient rounds nothing, and two correct evaluations
agree bit for bit.

Finite differences are exact for the same reason, plus one more: L is affine in x, w,
b and mask, and affine in each offset coordinate while the sampling point stays in one
cell. A central difference of an affine function has no truncation error, and with a
power-of-two step and exact evaluations no rounding error either, so the difference
quotient must equal the directional derivative <grad, v> exactly: tolerance 0.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from reference import conv as conv_ref
from reference import deformable, gradients, transposed
from reference.checks import SpecError
from reference.numerics import PRECISION, error_bound, numpy_dtype
from reference.params import Conv, ConvTranspose, DeformConv
from reference.test_conv import draw_case as draw_conv_case
from reference.test_deformable import draw_case as draw_deform_case
from reference.test_transposed import configs as transposed_configs

PLANE = np.arange(1.0, 10.0).reshape(3, 3)  # [[1, 2, 3], [4, 5, 6], [7, 8, 9]]
STEP = 2.0**-10  # finite-difference step; directions stay within [-64, 64]


def dyadic(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Multiples of 1/8 in [-2, 2]: few significant bits, so float64 sums of them are exact."""
    return rng.integers(-16, 17, size=shape) / 8.0


def direction(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """A direction of integers in [-64, 64]: a wrong gradient element changes <grad, v>
    unless its error happens to be cancelled, which wide integers make unlikely."""
    return rng.integers(-64, 65, size=shape).astype(np.float64)


def inner(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.sum(a * b))


def central_difference(loss, value: np.ndarray, v: np.ndarray) -> float:
    """(L(a + h v) - L(a - h v)) / 2h with h = STEP: exact for L affine along v (module doc)."""
    return (loss(value + STEP * v) - loss(value - STEP * v)) / (2 * STEP)


# --- configurations with dyadic operands -------------------------------------


@dataclass
class ConvExample:
    p: Conv
    x: np.ndarray
    w: np.ndarray
    b: np.ndarray | None
    g: np.ndarray


def conv_example(data: st.DataObject, **kw: object) -> ConvExample:
    case = draw_conv_case(data, **kw)  # type: ignore[arg-type]
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1), label="seed"))
    x, w = dyadic(rng, case.x_shape), dyadic(rng, case.w_shape)
    b = dyadic(rng, (case.w_shape[0],)) if case.bias else None
    g = dyadic(rng, conv_ref.conv_fast(x, w, b, case.p).shape)
    return ConvExample(case.p, x, w, b, g)


@dataclass
class TransposeExample:
    p: ConvTranspose
    x: np.ndarray
    w: np.ndarray
    b: np.ndarray | None
    g: np.ndarray


def transpose_example(data: st.DataObject) -> TransposeExample:
    config = data.draw(transposed_configs(), label="config")
    rng = np.random.default_rng(config.seed)
    x, w = dyadic(rng, config.x_shape), dyadic(rng, config.w_shape)
    b = dyadic(rng, (config.w_shape[1] * config.p.groups,)) if config.bias else None
    g = dyadic(rng, transposed.conv_transpose_fast(x, w, b, config.p).shape)
    return TransposeExample(config.p, x, w, b, g)


@dataclass
class DeformExample:
    p: DeformConv
    x: np.ndarray
    offset: np.ndarray
    mask: np.ndarray | None
    w: np.ndarray
    b: np.ndarray | None
    g: np.ndarray

    def arrays(self) -> dict[str, np.ndarray | None]:
        return {"x": self.x, "offset": self.offset, "mask": self.mask, "w": self.w, "b": self.b}

    def vjp(self, fn: Callable[..., dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
        """fn (a deformable VJP of reference.gradients) on this example."""
        return fn(self.x, self.offset, self.mask, self.w, self.b, self.p, self.g)

    def loss(self, **changed: np.ndarray) -> float:
        a = {**self.arrays(), **changed}
        return inner(deformable.deform_conv_fast(**a, p=self.p), self.g)  # type: ignore[arg-type]


def deform_example(data: st.DataObject, offsets: str = "cell") -> DeformExample:
    """A deformable configuration of reference/test_deformable.py with dyadic operands.

    offsets 'cell': integer part in [-3, 2] and fractional part in {2, ..., 14}/16, so
    every sampling coordinate is at least 1/8 from an integer (no kink within STEP*64).
    offsets 'quarter': multiples of 1/4, integer coordinates (kinks) included.
    """
    case = draw_deform_case(data)
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1), label="arrays seed"))
    shape = case.offset.shape
    if offsets == "cell":
        offset = rng.integers(-3, 3, size=shape) + rng.integers(2, 15, size=shape) / 16.0
    else:
        offset = rng.integers(-12, 13, size=shape) / 4.0
    mask = None if case.mask is None else dyadic(rng, case.mask.shape)
    b = None if case.b is None else dyadic(rng, case.b.shape)
    x, w = dyadic(rng, case.x.shape), dyadic(rng, case.w.shape)
    g = dyadic(rng, deformable.deform_conv_fast(x, offset, mask, w, b, case.p).shape)
    return DeformExample(case.p, x, offset, mask, w, b, g)


# --- worked examples (GRAD.12, GRAD.15-GRAD.17) --------------------------------

X5 = np.array([1.0, 2.0, 3.0, 4.0, 5.0]).reshape(1, 1, 5)
W3 = np.array([1.0, 2.0, -1.0]).reshape(1, 1, 3)
G3 = np.array([1.0, -2.0, 3.0]).reshape(1, 1, 3)
MODES = {
    # mode: (dL/dx, dL/dw) of GRAD.15
    "zeros": ([2, -3, -4, 5, 6], [8, 10, -6]),
    "reflect": ([2, -2, -4, 2, 6], [10, 10, 6]),
    "replicate": ([3, -3, -4, 5, 3], [9, 10, 9]),
    "circular": ([-1, -3, -4, 5, 7], [13, 10, -3]),
}


@pytest.mark.clauses("GRAD.15", "GRAD.2", "GRAD.3", "GRAD.5")
@pytest.mark.parametrize("mode", list(MODES))
@pytest.mark.parametrize("vjp", [gradients.conv_vjp, gradients.conv_vjp_fast])
def test_worked_example_padding_modes(mode: str, vjp) -> None:
    p = Conv(stride=(2,), dilation=(1,), padding=((1, 1),), padding_mode=mode)  # type: ignore[arg-type]
    grads = vjp(X5, W3, np.array([0.5]), p, G3)
    dx, dw = MODES[mode]
    np.testing.assert_array_equal(grads["x"].ravel(), dx)
    np.testing.assert_array_equal(grads["w"].ravel(), dw)
    np.testing.assert_array_equal(grads["b"], [2.0])


@pytest.mark.clauses("GRAD.15", "GRAD.4")
def test_worked_example_as_transposed_convolution() -> None:
    p = Conv(stride=(2,), dilation=(1,), padding=((1, 1),))
    tp = gradients.input_gradient_as_transpose(X5.shape, W3.shape, p)
    assert tp.padding == ((1, 1),) and tp.output_padding == (0,)
    np.testing.assert_array_equal(
        transposed.conv_transpose(G3, W3, None, tp).ravel(), MODES["zeros"][0]
    )


@pytest.mark.clauses("GRAD.16", "GRAD.2", "GRAD.6", "GRAD.7")
@pytest.mark.parametrize("vjp", [gradients.conv_transpose_vjp, gradients.conv_transpose_vjp_fast])
def test_worked_example_transposed(vjp) -> None:
    x = np.array([1.0, 2.0]).reshape(1, 1, 2)
    p = ConvTranspose(stride=(2,), dilation=(1,), padding=((1, 0),), output_padding=(0,))
    np.testing.assert_array_equal(transposed.conv_transpose(x, W3, None, p).ravel(), [2, 1, 4, -2])
    g = np.array([1.0, 0.0, -1.0, 2.0]).reshape(1, 1, 4)
    grads = vjp(x, W3, np.zeros(1), p, g)
    np.testing.assert_array_equal(grads["x"].ravel(), [2, -4])
    np.testing.assert_array_equal(grads["w"].ravel(), [0, -1, 4])
    np.testing.assert_array_equal(grads["b"], [2.0])
    forward = gradients.transpose_input_gradient_as_conv(x.shape, W3.shape, p)
    assert forward.padding == ((1, 0),)
    np.testing.assert_array_equal(conv_ref.conv(g, W3, None, forward).ravel(), [2, -4])


def example_16(mask: np.ndarray | None) -> dict[str, np.ndarray]:
    x = PLANE.reshape(1, 1, 3, 3)
    w = np.full((1, 1, 1, 1), 2.0)
    offset = np.zeros((1, 2, 3, 3))
    offset[0, :, 0, 0] = (0.25, 0.5)
    g = np.zeros((1, 1, 3, 3))
    g[0, 0, 0, 0] = 1.0
    p = DeformConv((1, 1), (1, 1), ((0, 0), (0, 0)))
    loop = gradients.deform_conv_vjp(x, offset, mask, w, None, p, g)
    fast = gradients.deform_conv_vjp_fast(x, offset, mask, w, None, p, g)
    assert loop.keys() == fast.keys()
    for key in loop:
        np.testing.assert_array_equal(loop[key], fast[key])
    return loop


@pytest.mark.clauses("GRAD.17", "GRAD.8", "GRAD.10", "GRAD.11")
def test_worked_example_deformable() -> None:
    grads = example_16(None)
    assert set(grads) == {"x", "offset", "w"}
    np.testing.assert_array_equal(grads["w"].ravel(), [2.25])
    np.testing.assert_array_equal(grads["x"][0, 0], [[0.75, 0.75, 0], [0.25, 0.25, 0], [0, 0, 0]])
    expected = np.zeros((2, 3, 3))
    expected[:, 0, 0] = (6.0, 2.0)
    np.testing.assert_array_equal(grads["offset"][0], expected)


@pytest.mark.clauses("GRAD.17", "GRAD.9")
def test_worked_example_deformable_with_mask() -> None:
    mask = np.ones((1, 1, 3, 3))
    mask[0, 0, 0, 0] = 0.5
    grads = example_16(mask)
    np.testing.assert_array_equal(grads["mask"][0, 0, 0, 0], 4.5)
    np.testing.assert_array_equal(grads["w"].ravel(), [1.125])
    np.testing.assert_array_equal(grads["offset"][0, :, 0, 0], [3.0, 1.0])
    np.testing.assert_array_equal(
        grads["x"][0, 0], [[0.375, 0.375, 0], [0.125, 0.125, 0], [0, 0, 0]]
    )


@pytest.mark.clauses("GRAD.17", "GRAD.10", "GRAD.11")
def test_worked_example_across_the_border() -> None:
    assert gradients.bilinear_derivatives(PLANE, -0.5, 2.5) == (1.5, -1.5)
    assert gradients.bilinear_corners(3, 3, -0.5, 2.5) == [(0, 2, 0.25)]


@pytest.mark.clauses("GRAD.12", "GRAD.11")
def test_integer_coordinates_take_the_derivative_from_above() -> None:
    """GRAD.12's example: at the last row the cell [2, 3] is used, not [1, 2]."""
    assert gradients.bilinear_derivatives(PLANE, 2.0, 0.5) == (-7.5, 1.0)
    # From below: the cell [1, 2] evaluated at its upper edge.
    along_h_below = 0.5 * (7 - 4) + 0.5 * (8 - 5)
    assert along_h_below == 3.0
    # h = -1 lies outside DEFORM.6's open rectangle, yet the cell [-1, 0] is used.
    assert gradients.bilinear_derivatives(PLANE, -1.0, 0.5) == (1.5, 0.0)
    assert gradients.bilinear_derivatives(PLANE, 3.0, 0.5) == (0.0, 0.0)


@pytest.mark.clauses("GRAD.12")
@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
def test_sixteenth_grid_positions_are_exact_below_the_limit(dtype: str) -> None:
    """GRAD.12: k/8 + 1/16 offsets give positions exact while |p| < 2^(p-4)."""
    limit = 2.0 ** (PRECISION[dtype] - 4)
    inside = np.arange(-16 * limit + 1, 16 * limit, 2) / 16.0  # odd sixteenths
    np.testing.assert_array_equal(inside.astype(numpy_dtype(dtype)).astype(np.float64), inside)
    beyond = np.array([limit + 1 / 16])
    assert beyond.astype(numpy_dtype(dtype)).astype(np.float64)[0] != beyond[0]


# --- the loops and the fast oracles -------------------------------------------


def assert_same(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> None:
    assert a.keys() == b.keys()
    for key in a:
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)


@pytest.mark.clauses("GRAD.1", "GRAD.2", "GRAD.3", "GRAD.5")
@given(data=st.data())
def test_conv_loop_equals_fast_exactly(data: st.DataObject) -> None:
    e = conv_example(data)
    assert_same(
        gradients.conv_vjp(e.x, e.w, e.b, e.p, e.g),
        gradients.conv_vjp_fast(e.x, e.w, e.b, e.p, e.g),
    )


@pytest.mark.clauses("GRAD.1", "GRAD.2", "GRAD.6", "GRAD.7")
@given(data=st.data())
def test_transposed_loop_equals_fast_exactly(data: st.DataObject) -> None:
    e = transpose_example(data)
    assert_same(
        gradients.conv_transpose_vjp(e.x, e.w, e.b, e.p, e.g),
        gradients.conv_transpose_vjp_fast(e.x, e.w, e.b, e.p, e.g),
    )


@pytest.mark.clauses("GRAD.1", "GRAD.8", "GRAD.9", "GRAD.10", "GRAD.11", "GRAD.12")
@given(data=st.data(), offsets=st.sampled_from(["cell", "quarter"]))
def test_deform_loop_equals_fast_exactly(data: st.DataObject, offsets: str) -> None:
    """Also on the quarter grid, whose integer coordinates exercise GRAD.12's convention."""
    e = deform_example(data, offsets)
    args = (e.x, e.offset, e.mask, e.w, e.b, e.p, e.g)
    assert_same(gradients.deform_conv_vjp(*args), gradients.deform_conv_vjp_fast(*args))


@pytest.mark.clauses("GRAD.8", "GRAD.9", "GRAD.10", "GRAD.11", "GRAD.13", "NUM.3")
@given(data=st.data())
def test_deform_loop_equals_fast_on_reals(data: st.DataObject) -> None:
    """Real operands and offsets: the two evaluation orders differ by at most the float64 bound.

    Each is within gamma_n(u_64) * M of the exact value (NUM.3 with float64, GRAD.13's M and
    n), so they differ by at most twice that, which error_bound(M, n, 'float64') covers.
    """
    case = draw_deform_case(data, offsets="real")
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1), label="g seed"))
    g = rng.standard_normal(
        deformable.deform_conv_fast(case.x, case.offset, case.mask, case.w, case.b, case.p).shape
    )
    args = (case.x, case.offset, case.mask, case.w, case.b, case.p, g)
    loop, fast = gradients.deform_conv_vjp(*args), gradients.deform_conv_vjp_fast(*args)
    magnitude = gradients.deform_conv_vjp_magnitude(*args)
    terms = gradients.deform_conv_gradient_terms(
        case.x.shape, case.w.shape, case.offset, case.p, case.mask is not None, case.b is not None
    )
    assert loop.keys() == fast.keys() == magnitude.keys() == terms.keys()
    for key in loop:
        bound = error_bound(magnitude[key], terms[key], "float64")
        assert np.all(np.abs(loop[key] - fast[key]) <= bound), key


# --- finite differences (exact: see the module docstring) ------------------------


@pytest.mark.clauses("GRAD.1", "GRAD.2", "GRAD.3", "GRAD.5")
@given(data=st.data())
def test_conv_gradients_are_directional_derivatives(data: st.DataObject) -> None:
    """Every padding form and mode; L is affine in x, w and b, so the difference is exact."""
    e = conv_example(data)
    grads = gradients.conv_vjp_fast(e.x, e.w, e.b, e.p, e.g)
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1), label="direction seed"))
    operands = {"x": e.x, "w": e.w, "b": e.b}
    for name, value in operands.items():
        if value is None:
            continue
        v = direction(rng, value.shape)

        def loss(a: np.ndarray, name: str = name) -> float:
            args = {**operands, name: a}
            return inner(conv_ref.conv_fast(args["x"], args["w"], args["b"], e.p), e.g)  # type: ignore[arg-type]

        assert central_difference(loss, value, v) == inner(grads[name], v), name


@pytest.mark.clauses("GRAD.1", "GRAD.2", "GRAD.6", "GRAD.7")
@given(data=st.data())
def test_transposed_gradients_are_directional_derivatives(data: st.DataObject) -> None:
    e = transpose_example(data)
    grads = gradients.conv_transpose_vjp_fast(e.x, e.w, e.b, e.p, e.g)
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1), label="direction seed"))
    operands = {"x": e.x, "w": e.w, "b": e.b}
    for name, value in operands.items():
        if value is None:
            continue
        v = direction(rng, value.shape)

        def loss(a: np.ndarray, name: str = name) -> float:
            args = {**operands, name: a}
            y = transposed.conv_transpose_fast(args["x"], args["w"], args["b"], e.p)  # type: ignore[arg-type]
            return inner(y, e.g)

        assert central_difference(loss, value, v) == inner(grads[name], v), name


@pytest.mark.clauses("GRAD.1", "GRAD.2", "GRAD.8", "GRAD.9", "GRAD.10", "GRAD.11")
@given(data=st.data())
def test_deform_gradients_are_directional_derivatives(data: st.DataObject) -> None:
    """Offsets at least 1/8 from a kink and steps of at most 64 * 2^-10 = 1/16: one cell."""
    e = deform_example(data, "cell")
    grads = e.vjp(gradients.deform_conv_vjp_fast)
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1), label="direction seed"))
    for name, value in e.arrays().items():
        if value is None:
            continue
        v = direction(rng, value.shape)
        difference = central_difference(lambda a, name=name: e.loss(**{name: a}), value, v)
        assert difference == inner(grads[name], v), name


@pytest.mark.clauses("GRAD.11")
@given(data=st.data())
def test_offset_gradient_element_by_element(data: st.DataObject) -> None:
    """Each offset coordinate on its own: the difference quotient is the gradient element."""
    e = deform_example(data, "cell")
    grads = e.vjp(gradients.deform_conv_vjp)
    for index in np.ndindex(*e.offset.shape):
        v = np.zeros(e.offset.shape)
        v[index] = 64.0
        difference = central_difference(lambda a: e.loss(offset=a), e.offset, v)
        assert difference == 64.0 * grads["offset"][index], index


# --- adjoint identities and the closed forms --------------------------------------


@pytest.mark.clauses("GRAD.1", "GRAD.3", "GRAD.5")
@given(data=st.data())
def test_conv_adjoint_identities(data: st.DataObject) -> None:
    """conv is linear in x and in w: <conv(x, w), g> = <x, dL/dx> = <w, dL/dw>, exactly."""
    e = conv_example(data)
    grads = gradients.conv_vjp_fast(e.x, e.w, None, e.p, e.g)
    value = inner(conv_ref.conv_fast(e.x, e.w, None, e.p), e.g)
    assert value == inner(e.x, grads["x"]) == inner(e.w, grads["w"])


@pytest.mark.clauses("GRAD.1", "GRAD.6", "GRAD.7")
@given(data=st.data())
def test_transposed_adjoint_identities(data: st.DataObject) -> None:
    e = transpose_example(data)
    grads = gradients.conv_transpose_vjp_fast(e.x, e.w, None, e.p, e.g)
    value = inner(transposed.conv_transpose_fast(e.x, e.w, None, e.p), e.g)
    assert value == inner(e.x, grads["x"]) == inner(e.w, grads["w"])


@pytest.mark.clauses("GRAD.1", "GRAD.8", "GRAD.9", "GRAD.10")
@given(data=st.data())
def test_deform_adjoint_identities(data: st.DataObject) -> None:
    """Linear in x, in w and in the mask (DEFORM.10): each pairing gives <y - b, g>."""
    e = deform_example(data, "quarter")
    grads = gradients.deform_conv_vjp_fast(e.x, e.offset, e.mask, e.w, None, e.p, e.g)
    value = inner(deformable.deform_conv_fast(e.x, e.offset, e.mask, e.w, None, e.p), e.g)
    assert value == inner(e.x, grads["x"]) == inner(e.w, grads["w"])
    if e.mask is not None:
        assert value == inner(e.mask, grads["mask"])


@pytest.mark.clauses("GRAD.4", "TCONV.3")
@given(data=st.data())
def test_conv_input_gradient_is_a_transposed_convolution(data: st.DataObject) -> None:
    e = conv_example(data, modes=("zeros",), forms=("symmetric", "asymmetric", "valid", "same"))
    tp = gradients.input_gradient_as_transpose(e.x.shape, e.w.shape, e.p)
    expected = gradients.conv_vjp_fast(e.x, e.w, None, e.p, e.g)["x"]
    np.testing.assert_array_equal(transposed.conv_transpose_fast(e.g, e.w, None, tp), expected)


@pytest.mark.clauses("GRAD.6", "CONV.3", "PAD.3")
@given(data=st.data())
def test_transposed_input_gradient_is_a_convolution(data: st.DataObject) -> None:
    e = transpose_example(data)
    forward = gradients.transpose_input_gradient_as_conv(e.x.shape, e.w.shape, e.p)
    expected = gradients.conv_transpose_vjp_fast(e.x, e.w, None, e.p, e.g)["x"]
    np.testing.assert_array_equal(conv_ref.conv_fast(e.g, e.w, None, forward), expected)


# --- accumulation lengths, magnitudes, exact mode (GRAD.13) -------------------------


@pytest.mark.clauses("GRAD.13", "NUM.2")
@given(data=st.data())
def test_conv_lengths_count_the_products(data: st.DataObject) -> None:
    """With all-ones operands a gradient element is the number of its products."""
    case = draw_conv_case(data, min_batch=1)
    ones_x, ones_w = np.ones(case.x_shape), np.ones(case.w_shape)
    g = np.ones(conv_ref.conv_fast(ones_x, ones_w, None, case.p).shape)
    counts = gradients.conv_vjp_fast(ones_x, ones_w, np.ones(case.w_shape[0]), case.p, g)
    terms = gradients.conv_gradient_terms(case.x_shape, case.w_shape, case.p, bias=True)
    folded = 0 if case.p.padding_mode == "zeros" else 1
    assert terms["x"] == counts["x"].max() + folded
    assert counts["w"].max() <= terms["w"] == terms["b"] == counts["b"].max()
    if case.p.padding_mode == "zeros":
        per_axis = [
            transposed.max_taps(k, s, d)
            for k, s, d in zip(case.w_shape[2:], case.p.stride, case.p.dilation, strict=True)
        ]
        assert terms["x"] <= (case.w_shape[0] // case.p.groups) * int(np.prod(per_axis))


@pytest.mark.clauses("GRAD.13", "NUM.2")
@given(data=st.data())
def test_transposed_lengths_bound_the_products(data: st.DataObject) -> None:
    config = data.draw(transposed_configs(), label="config")
    ones_x, ones_w = np.ones(config.x_shape), np.ones(config.w_shape)
    g = np.ones(transposed.conv_transpose_fast(ones_x, ones_w, None, config.p).shape)
    counts = gradients.conv_transpose_vjp_fast(ones_x, ones_w, None, config.p, g)
    terms = gradients.conv_transpose_gradient_terms(
        config.x_shape, config.w_shape, config.p, bias=False
    )
    assert counts["x"].max() <= terms["x"]
    assert counts["w"].max() <= terms["w"]


@pytest.mark.clauses("GRAD.13", "GRAD.10")
@given(data=st.data())
def test_corner_counts_match_the_loop(data: st.DataObject) -> None:
    e = deform_example(data, "quarter")
    counts = gradients.corner_counts(e.x.shape, e.w.shape, e.offset, e.p)
    expected = np.zeros_like(counts)
    py, px = deformable.sampling_positions(e.x.shape, e.w.shape, e.offset, e.p)
    height, width = e.x.shape[2:]
    for index in np.ndindex(*py.shape):
        n, og = index[0], index[1]
        for i, j, weight in gradients.bilinear_corners(
            height, width, float(py[index]), float(px[index])
        ):
            expected[n, og, i, j] += weight != 0
    np.testing.assert_array_equal(counts, expected)
    bound = gradients.deform_conv_gradient_terms_bound(
        e.x.shape, e.w.shape, e.offset.shape[2:], e.p
    )
    terms = gradients.deform_conv_gradient_terms(
        e.x.shape, e.w.shape, e.offset, e.p, e.mask is not None, e.b is not None
    )
    assert max(terms.values()) <= bound


@pytest.mark.clauses("GRAD.13")
@given(data=st.data())
def test_magnitude_bounds_every_gradient(data: st.DataObject) -> None:
    """M is the sum of |terms|: never below |gradient|, equal to it for non-negative terms."""
    e = deform_example(data, "quarter")
    args = (e.x, e.offset, e.mask, e.w, e.b, e.p, e.g)
    grads, magnitude = (
        gradients.deform_conv_vjp_fast(*args),
        gradients.deform_conv_vjp_magnitude(*args),
    )
    for key in grads:
        assert np.all(np.abs(grads[key]) <= magnitude[key]), key
    positive = tuple(
        np.abs(a) if isinstance(a, np.ndarray) and a is not e.offset else a for a in args
    )
    same = gradients.deform_conv_vjp_fast(*positive)  # type: ignore[arg-type]
    for key in ("x", "w", "mask", "b"):
        if key in same:
            np.testing.assert_array_equal(same[key], magnitude[key])


# --- validation (GRAD.1) ---------------------------------------------------------


@pytest.mark.clauses("GRAD.1")
def test_cotangent_of_another_shape_is_invalid() -> None:
    p = Conv(stride=(2,), dilation=(1,), padding=((1, 1),))
    with pytest.raises(SpecError) as info:
        gradients.conv_vjp_fast(X5, W3, None, p, np.ones((1, 1, 4)))
    assert info.value.clause == "GRAD.1"
    with pytest.raises(SpecError) as info:
        gradients.conv_vjp(X5, W3, None, p, np.ones((1, 1, 4)))
    assert info.value.clause == "GRAD.1"


@pytest.mark.clauses("GRAD.1", "CONV.4")
def test_invalid_forward_configuration_has_no_vjp() -> None:
    p = Conv(stride=(0,), dilation=(1,), padding=((1, 1),))
    with pytest.raises(SpecError) as info:
        gradients.conv_vjp_fast(X5, W3, None, p, G3)
    assert info.value.clause == "CONV.4"


@pytest.mark.clauses("GRAD.4")
def test_transposed_form_needs_zero_padding() -> None:
    p = Conv(stride=(2,), dilation=(1,), padding=((1, 1),), padding_mode="reflect")
    with pytest.raises(SpecError) as info:
        gradients.input_gradient_as_transpose(X5.shape, W3.shape, p)
    assert info.value.clause == "GRAD.4"


@pytest.mark.clauses("GRAD.1")
@given(data=st.data())
def test_one_gradient_per_operand_present(data: st.DataObject) -> None:
    e = deform_example(data, "quarter")
    grads = e.vjp(gradients.deform_conv_vjp_fast)
    present = {k for k, a in e.arrays().items() if a is not None}
    assert set(grads) == present
    for key in grads:
        assert grads[key].shape == e.arrays()[key].shape  # type: ignore[union-attr]
