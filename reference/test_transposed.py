"""Self-tests of reference/transposed.py against spec chapter TCONV."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace
from unittest import mock

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from reference import conv as conv_ref
from reference import transposed
from reference.checks import SpecError
from reference.params import Conv, ConvTranspose, Pairs
from reference.sizes import (
    conv_output_shape,
    conv_transpose_output_shape,
    effective_kernel,
    transposed_explicit,
    transposed_output_size,
)


def explicit(*pairs: tuple[int, int]) -> Pairs:
    return tuple(pairs)


def tconv(
    stride: tuple[int, ...],
    padding: Pairs | str = (),
    dilation: tuple[int, ...] | None = None,
    output_padding: tuple[int, ...] | None = None,
    groups: int = 1,
    rule: str = "stride_or_dilation",
) -> ConvTranspose:
    rank = len(stride)
    return ConvTranspose(
        stride=stride,
        dilation=dilation or (1,) * rank,
        padding=padding or tuple((0, 0) for _ in range(rank)),  # type: ignore[arg-type]
        output_padding=output_padding or (0,) * rank,
        groups=groups,
        output_padding_rule=rule,  # type: ignore[arg-type]
    )


# --- configurations, valid by construction ------------------------------------

# Per rank: largest input size, kernel, stride, dilation. Rank 3 stays tiny so
# that the scalar loop is fast.
LIMITS = {1: (4, 4, 3, 3), 2: (3, 3, 2, 2), 3: (2, 2, 2, 2)}


@dataclass(frozen=True)
class Config:
    p: ConvTranspose
    x_shape: tuple[int, ...]
    w_shape: tuple[int, ...]
    bias: bool
    seed: int

    def arrays(self, integers: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        rng = np.random.default_rng(self.seed)

        def draw(shape: tuple[int, ...]) -> np.ndarray:
            if integers:
                return rng.integers(-3, 4, size=shape).astype(np.float64)
            return rng.standard_normal(shape)

        b = draw((self.w_shape[1] * self.p.groups,)) if self.bias else None
        return draw(self.x_shape), draw(self.w_shape), b


@st.composite
def configs(draw: st.DrawFn, forms: tuple[str, ...] = ("explicit", "valid", "same")) -> Config:
    """A valid transposed convolution: output padding and pads drawn within their ranges."""
    rank = draw(st.sampled_from((1, 2, 3)), label="rank")
    max_n, max_k, max_s, max_d = LIMITS[rank]
    groups = draw(st.integers(1, 2), label="groups")
    small = rank == 3
    c_in_g = 1 if small else draw(st.integers(1, 2), label="C_in/groups")
    c_out_g = 1 if small else draw(st.integers(1, 2), label="C_out/groups")
    n = tuple(draw(st.integers(1, max_n), label=f"n[{a}]") for a in range(rank))
    kernel = tuple(draw(st.integers(1, max_k), label=f"K[{a}]") for a in range(rank))
    stride = tuple(draw(st.integers(1, max_s), label=f"s[{a}]") for a in range(rank))
    dilation = tuple(draw(st.integers(1, max_d), label=f"d[{a}]") for a in range(rank))
    rule = draw(st.sampled_from(transposed.OUTPUT_PADDING_RULES), label="rule")
    form = draw(st.sampled_from(forms), label="form")
    padding: Pairs | str = form
    output_padding = (0,) * rank
    if form == "explicit":
        pairs, extra = [], []
        for a in range(rank):
            limit = transposed.output_padding_limit(stride[a], dilation[a], rule)
            op = draw(st.integers(0, limit - 1), label=f"op[{a}]")
            full = (n[a] - 1) * stride[a] + effective_kernel(kernel[a], dilation[a]) + op
            # TCONV.3 >= 1: remove at most full - 1 positions.
            total = draw(st.integers(0, min(full - 1, 3)), label=f"total_pad[{a}]")
            begin = draw(st.integers(0, total), label=f"p_begin[{a}]")
            pairs.append((begin, total - begin))
            extra.append(op)
        padding, output_padding = tuple(pairs), tuple(extra)
    p = ConvTranspose(
        stride=stride,
        dilation=dilation,
        padding=padding,  # type: ignore[arg-type]
        output_padding=output_padding,
        groups=groups,
        output_padding_rule=rule,  # type: ignore[arg-type]
    )
    batch = 1 if small else draw(st.integers(1, 2), label="N")
    return Config(
        p=p,
        x_shape=(batch, groups * c_in_g, *n),
        w_shape=(groups * c_in_g, c_out_g, *kernel),
        bias=draw(st.booleans(), label="bias"),
        seed=draw(st.integers(0, 2**32 - 1), label="seed"),
    )


def forward_of(p: ConvTranspose, pads: Pairs) -> Conv:
    """TCONV.11: the convolution whose adjoint p is (zero padding, explicit pads)."""
    return Conv(stride=p.stride, dilation=p.dilation, padding=pads, groups=p.groups)


def first(y: np.ndarray, n: tuple[int, ...]) -> np.ndarray:
    """crop of TCONV.11: the first n_a positions of every spatial axis."""
    return y[(slice(None), slice(None), *(slice(0, m) for m in n))]


# --- worked examples (TCONV.18, TCONV.19) -------------------------------------

X2 = np.array([[1.0, 2.0], [3.0, 4.0]]).reshape(1, 1, 2, 2)
W3 = np.arange(1.0, 10.0).reshape(1, 1, 3, 3)


@pytest.mark.clauses("TCONV.18", "TCONV.2", "TCONV.3")
@pytest.mark.parametrize("impl", [transposed.conv_transpose, transposed.conv_transpose_fast])
def test_worked_example_stride_1(impl: object) -> None:
    y = impl(X2, W3, None, tconv((1, 1)))  # type: ignore[operator]
    expected = [[1, 4, 7, 6], [7, 23, 33, 24], [19, 53, 63, 42], [21, 52, 59, 36]]
    np.testing.assert_array_equal(y[0, 0], expected)
    assert y.sum() == 450


@pytest.mark.clauses("TCONV.19", "TCONV.2", "TCONV.3")
@pytest.mark.parametrize("impl", [transposed.conv_transpose, transposed.conv_transpose_fast])
def test_worked_example_stride_2(impl: object) -> None:
    y = impl(X2, W3, None, tconv((2, 2)))  # type: ignore[operator]
    expected = [
        [1, 2, 5, 4, 6],
        [4, 5, 14, 10, 12],
        [10, 14, 36, 24, 30],
        [12, 15, 34, 20, 24],
        [21, 24, 55, 32, 36],
    ]
    np.testing.assert_array_equal(y[0, 0], expected)
    counts = transposed.tap_counts((2, 2), (3, 3), tconv((2, 2)))
    np.testing.assert_array_equal(counts, np.outer([1, 1, 2, 1, 1], [1, 1, 2, 1, 1]))


@pytest.mark.clauses("TCONV.19", "TCONV.4", "TCONV.5", "TCONV.13")
@pytest.mark.parametrize(
    ("p", "expected"),
    [
        (tconv((2,)), [1, 2, 5, 4, 9, 6, 9]),
        (tconv((2,), explicit((1, 1)), output_padding=(1,)), [2, 5, 4, 9, 6, 9]),
        (tconv((2,), "same"), [1, 2, 5, 4, 9, 6]),
    ],
)
def test_worked_example_1d_conventions(p: ConvTranspose, expected: list[int]) -> None:
    x = np.array([1.0, 2.0, 3.0]).reshape(1, 1, 3)
    w = np.array([1.0, 2.0, 3.0]).reshape(1, 1, 3)
    for impl in (transposed.conv_transpose, transposed.conv_transpose_fast):
        np.testing.assert_array_equal(impl(x, w, None, p).ravel(), expected)


@pytest.mark.clauses("TCONV.19", "TCONV.13")
def test_worked_example_tap_counts() -> None:
    p = tconv((2,))
    np.testing.assert_array_equal(transposed.tap_counts((3,), (3,), p), [1, 1, 2, 1, 2, 1, 1])
    assert transposed.interior((3,), (3,), p) == (range(2, 5),)
    assert transposed.interior((2, 2), (3, 3), tconv((1, 1))) == (range(2, 2), range(2, 2))
    assert transposed.tap_counts((2,), (3,), tconv((1,))).tolist() == [1, 2, 2, 1]


@pytest.mark.clauses("TCONV.4")
@pytest.mark.parametrize(
    ("padding", "k_eff", "s", "pads", "op"),
    [
        ("valid", 3, 2, ((0, 0),), (0,)),
        ("valid", 1, 3, ((0, 0),), (2,)),
        ("same", 5, 2, ((1, 2),), (0,)),
        ("same", 4, 1, ((1, 2),), (0,)),
        ("same", 2, 2, ((0, 0),), (0,)),
        ("same", 1, 3, ((0, 0),), (2,)),
    ],
)
def test_string_padding_table(
    padding: str, k_eff: int, s: int, pads: Pairs, op: tuple[int]
) -> None:
    """The closed-form table of TCONV.4, read against sizes.transposed_explicit."""
    p = tconv((s,), padding)
    assert transposed_explicit(p, (3,), (k_eff,)) == (pads, op)


# --- the definition: loop and oracle ------------------------------------------


@pytest.mark.clauses("TCONV.2", "TCONV.4", "TCONV.5", "TCONV.7", "TCONV.8")
@given(config=configs())
def test_loop_equals_fast_on_integers(config: Config) -> None:
    x, w, b = config.arrays(integers=True)
    loop = transposed.conv_transpose(x, w, b, config.p)
    fast = transposed.conv_transpose_fast(x, w, b, config.p)
    np.testing.assert_array_equal(loop, fast)


@pytest.mark.clauses("TCONV.2")
@given(config=configs())
def test_fast_in_batch_slices_equals_the_loop(config: Config) -> None:
    """One sample at a time, as the fast oracle splits a large batch, gives the loop's values."""
    x, w, b = config.arrays(integers=True)
    with mock.patch.object(conv_ref, "FAST_CHUNK_ELEMENTS", 1):
        sliced = transposed.conv_transpose_fast(x, w, b, config.p)
    np.testing.assert_array_equal(transposed.conv_transpose(x, w, b, config.p), sliced)


@pytest.mark.clauses("TCONV.2", "TCONV.4", "TCONV.5", "TCONV.7", "TCONV.8")
@given(config=configs())
def test_loop_equals_fast_on_reals(config: Config) -> None:
    x, w, b = config.arrays(integers=False)
    loop = transposed.conv_transpose(x, w, b, config.p)
    fast = transposed.conv_transpose_fast(x, w, b, config.p)
    magnitude = transposed.conv_transpose_fast(
        np.abs(x), np.abs(w), None if b is None else np.abs(b), config.p
    )
    assert np.all(np.abs(loop - fast) <= 1e-12 * magnitude)


@pytest.mark.clauses("TCONV.1", "TCONV.3", "TCONV.4", "TCONV.5")
@given(config=configs())
def test_output_shape(config: Config) -> None:
    x, w, b = config.arrays(integers=True)
    y = transposed.conv_transpose_fast(x, w, b, config.p)
    assert y.shape == conv_transpose_output_shape(x.shape, w.shape, config.p)
    p, n, kernel = config.p, x.shape[2:], w.shape[2:]
    for a in range(p.rank):
        k_eff = effective_kernel(kernel[a], p.dilation[a])
        if p.padding == "valid":
            expected = n[a] * p.stride[a] + max(k_eff - p.stride[a], 0)
        elif p.padding == "same":
            expected = n[a] * p.stride[a]
        else:
            (begin, end), op = p.padding[a], p.output_padding[a]
            expected = (n[a] - 1) * p.stride[a] - begin - end + k_eff + op
        assert y.shape[2 + a] == expected
    assert y.shape[:2] == (x.shape[0], w.shape[1] * p.groups)


@pytest.mark.clauses("TCONV.8", "TCONV.2")
@given(config=configs())
def test_bias_added_once_everywhere(config: Config) -> None:
    x, w, _ = config.arrays(integers=True)
    b = np.arange(1.0, w.shape[1] * config.p.groups + 1)
    with_bias = transposed.conv_transpose_fast(x, w, b, config.p)
    without = transposed.conv_transpose_fast(x, w, None, config.p)
    np.testing.assert_array_equal(
        with_bias - without,
        np.broadcast_to(b.reshape(1, -1, *[1] * config.p.rank), with_bias.shape),
    )


# --- adjoint and gradient (TCONV.11, TCONV.12) --------------------------------


@pytest.mark.clauses("TCONV.11", "TCONV.4", "MAT.5")
@given(config=configs())
def test_adjoint_of_convolution(config: Config) -> None:
    """<crop(conv(z)), y> = <z, conv_transpose(y)>, exactly on integers, vs the conv loop."""
    p = config.p
    y, w, _ = config.arrays(integers=True)
    pads, extra = transposed.validate(y, w, None, p)
    out_shape = conv_transpose_output_shape(y.shape, w.shape, p)
    z = np.random.default_rng(config.seed + 1).integers(-3, 4, size=out_shape).astype(np.float64)
    forward = forward_of(p, pads)
    az = conv_ref.conv(z, w, None, forward)
    n = y.shape[2:]
    expected_n = tuple(m + op // s for m, op, s in zip(n, extra, p.stride, strict=True))
    assert az.shape[2:] == expected_n
    assert np.sum(first(az, n) * y) == np.sum(z * transposed.conv_transpose_fast(y, w, None, p))
    if isinstance(p.padding, str):
        # The forward convolution with the same padding string resolves to the same pads.
        same_string = Conv(stride=p.stride, dilation=p.dilation, padding=p.padding, groups=p.groups)
        np.testing.assert_array_equal(conv_ref.conv_fast(z, w, None, same_string), az)


@st.composite
def forward_configs(draw: st.DrawFn) -> tuple[Conv, tuple[int, ...], tuple[int, ...]]:
    """A valid zero-padded convolution with explicit pads: (params, x shape, w shape)."""
    rank = draw(st.sampled_from((1, 2)), label="rank")
    groups = draw(st.integers(1, 2), label="groups")
    c_in = groups * draw(st.integers(1, 2), label="C_in/groups")
    c_out = groups * draw(st.integers(1, 2), label="C_out/groups")
    stride, dilation, kernel, pads, size = [], [], [], [], []
    for a in range(rank):
        s = draw(st.integers(1, 3), label=f"s[{a}]")
        d = draw(st.integers(1, 2), label=f"d[{a}]")
        k = draw(st.integers(1, 3), label=f"K[{a}]")
        begin = draw(st.integers(0, 2), label=f"p_begin[{a}]")
        end = draw(st.integers(0, 2), label=f"p_end[{a}]")
        # The padded input must hold the dilated kernel: n + begin + end >= k_eff.
        low = max(1, effective_kernel(k, d) - begin - end)
        size.append(low + draw(st.integers(0, 3), label=f"extra_n[{a}]"))
        stride.append(s)
        dilation.append(d)
        kernel.append(k)
        pads.append((begin, end))
    p = Conv(stride=tuple(stride), dilation=tuple(dilation), padding=tuple(pads), groups=groups)
    return p, (1, c_in, *size), (c_out, c_in // groups, *kernel)


@pytest.mark.clauses("TCONV.12", "TCONV.3")
@given(case=forward_configs(), seed=st.integers(0, 2**32 - 1))
def test_input_gradient_of_convolution(
    case: tuple[Conv, tuple[int, ...], tuple[int, ...]], seed: int
) -> None:
    """d/dx sum(conv(x) * g) = conv_transpose(g), read off basis vectors (exact: linear)."""
    fwd, x_shape, w_shape = case
    rng = np.random.default_rng(seed)
    w = rng.integers(-3, 4, size=w_shape).astype(np.float64)
    b = rng.integers(-3, 4, size=w_shape[0]).astype(np.float64)
    out_shape = conv_output_shape(x_shape, w_shape, fwd)
    g = rng.integers(-3, 4, size=out_shape).astype(np.float64)
    base = np.sum(conv_ref.conv_fast(np.zeros(x_shape), w, b, fwd) * g)
    gradient = np.zeros(x_shape)
    for index in np.ndindex(*x_shape):
        e = np.zeros(x_shape)
        e[index] = 1.0
        gradient[index] = np.sum(conv_ref.conv_fast(e, w, b, fwd) * g) - base
    pads: Pairs = fwd.padding  # type: ignore[assignment]
    extra = tuple(
        (n + begin + end - effective_kernel(k, d)) % s
        for n, k, s, d, (begin, end) in zip(
            x_shape[2:], w_shape[2:], fwd.stride, fwd.dilation, pads, strict=True
        )
    )
    # The forward weight (C_out, C_in/g, *K) is the transposed weight (C_in', C_out'/g, *K).
    p = ConvTranspose(fwd.stride, fwd.dilation, pads, extra, fwd.groups, "stride")
    assert conv_transpose_output_shape(out_shape, w_shape, p) == x_shape
    np.testing.assert_array_equal(transposed.conv_transpose_fast(g, w, None, p), gradient)


# --- overlap (TCONV.13) and accumulation length (TCONV.10) --------------------


@pytest.mark.clauses("TCONV.13", "TCONV.2")
@given(config=configs())
def test_tap_counts_are_transposed_ones(config: Config) -> None:
    p, n, kernel = config.p, config.x_shape[2:], config.w_shape[2:]
    ones_x = np.ones((1, p.groups, *n))
    ones_w = np.ones((p.groups, 1, *kernel))
    y = transposed.conv_transpose_fast(ones_x, ones_w, None, p)
    counts = transposed.tap_counts(n, kernel, p)
    for channel in range(p.groups):
        np.testing.assert_array_equal(y[0, channel], counts)


@pytest.mark.clauses("TCONV.13")
@given(config=configs())
def test_interior_counts_follow_residues(config: Config) -> None:
    p, n, kernel = config.p, config.x_shape[2:], config.w_shape[2:]
    pads, _ = transposed.validate_shapes(config.x_shape, config.w_shape, None, p)
    counts = transposed.tap_counts(n, kernel, p)
    box = transposed.interior(n, kernel, p)
    for j in np.ndindex(*(len(r) for r in box)):
        position = tuple(r[i] for r, i in zip(box, j, strict=True))
        expected = math.prod(
            transposed.residue_count(
                position[a] + pads[a][0], kernel[a], p.stride[a], p.dilation[a]
            )
            for a in range(p.rank)
        )
        assert counts[position] == expected
    # Off the interior a position never has more taps than its residue allows.
    for position in np.ndindex(*counts.shape):
        bound = math.prod(
            transposed.residue_count(
                position[a] + pads[a][0], kernel[a], p.stride[a], p.dilation[a]
            )
            for a in range(p.rank)
        )
        assert counts[position] <= bound


@st.composite
def periodic_interiors(draw: st.DrawFn) -> tuple[ConvTranspose, tuple[int, ...], tuple[int, ...]]:
    """No padding, and an input long enough that every axis' interior spans >= s positions."""
    rank = draw(st.sampled_from((1, 2, 3)), label="rank")
    stride, dilation, kernel, size = [], [], [], []
    for a in range(rank):
        s = draw(st.integers(1, 4), label=f"s[{a}]")
        d = draw(st.integers(1, 3), label=f"d[{a}]")
        k = draw(st.integers(1, 6), label=f"K[{a}]")
        # Interior [(K-1)d, (n-1)s] has (n-1)s - (K-1)d + 1 >= s positions.
        n = 1 + -(-((k - 1) * d + s - 1) // s) + draw(st.integers(0, 2), label=f"extra_n[{a}]")
        stride.append(s)
        dilation.append(d)
        kernel.append(k)
        size.append(n)
    p = tconv(tuple(stride), dilation=tuple(dilation))
    return p, tuple(size), tuple(kernel)


@pytest.mark.clauses("TCONV.13")
@given(case=periodic_interiors())
def test_uniform_overlap_iff_stride_divides_kernel(
    case: tuple[ConvTranspose, tuple[int, ...], tuple[int, ...]],
) -> None:
    p, n, kernel = case
    box = transposed.interior(n, kernel, p)
    assert all(len(r) >= s for r, s in zip(box, p.stride, strict=True))
    counts = transposed.tap_counts(n, kernel, p)[tuple(slice(r.start, r.stop) for r in box)]
    uniform = bool(np.all(counts == counts.flat[0]))
    assert uniform == transposed.uniform_overlap(kernel, p)
    if uniform:
        assert counts.flat[0] == math.prod(k // s for k, s in zip(kernel, p.stride, strict=True))
    if all(d == 1 for d in p.dilation):
        assert uniform == all(k % s == 0 for k, s in zip(kernel, p.stride, strict=True))


@pytest.mark.clauses("TCONV.10", "NUM.2")
@given(config=configs())
def test_accumulation_terms_bound_the_products(config: Config) -> None:
    p, n, kernel = config.p, config.x_shape[2:], config.w_shape[2:]
    c_in_g = config.x_shape[1] // p.groups
    terms = transposed.accumulation_terms(config.w_shape, p, config.bias)
    products = c_in_g * int(transposed.tap_counts(n, kernel, p).max())
    assert terms - (1 if config.bias else 0) >= products


@pytest.mark.clauses("TCONV.10")
@given(case=periodic_interiors(), c_in_g=st.integers(1, 3), bias=st.booleans())
def test_accumulation_terms_attained_on_the_interior(
    case: tuple[ConvTranspose, tuple[int, ...], tuple[int, ...]], c_in_g: int, bias: bool
) -> None:
    p, n, kernel = case
    terms = transposed.accumulation_terms((c_in_g, 1, *kernel), p, bias)
    assert terms == c_in_g * int(transposed.tap_counts(n, kernel, p).max()) + (1 if bias else 0)


# --- framework conventions (TCONV.15 - TCONV.17) ------------------------------


@st.composite
def tf_output_sizes(draw: st.DrawFn) -> tuple[ConvTranspose, int, int, int]:
    """(p with TF's padding, n, K, L) for one axis, L drawn from TCONV.15's range."""
    n = draw(st.integers(1, 4), label="n")
    k = draw(st.integers(1, 4), label="K")
    s = draw(st.integers(1, 3), label="s")
    d = draw(st.integers(1, 2), label="d")
    k_eff = effective_kernel(k, d)
    form = draw(st.sampled_from(("valid", "same", "explicit")), label="form")
    padding: Pairs | str = form
    if form == "valid":
        low, high = (n - 1) * s + k_eff, (n - 1) * s + k_eff + s - 1
    elif form == "same":
        low, high = (n - 1) * s + 1, n * s
    else:
        # Keep at least one admissible L >= 1: base + s - 1 >= 1.
        total = draw(st.integers(0, min(4, (n - 1) * s + k_eff + s - 2)), label="total_pad")
        begin = draw(st.integers(0, total), label="p_begin")
        padding = ((begin, total - begin),)
        base = (n - 1) * s + k_eff - total
        low, high = max(base, 1), base + s - 1
    length = draw(st.integers(low, high), label="L")
    return tconv((s,), padding, (d,)), n, k, length


@pytest.mark.clauses("TCONV.15", "TCONV.11", "TCONV.3")
@given(case=tf_output_sizes(), seed=st.integers(0, 2**32 - 1))
def test_tf_output_shape_is_the_gradient(
    case: tuple[ConvTranspose, int, int, int], seed: int
) -> None:
    p, n, k, length = case
    pads, extra = transposed.from_output_size(
        (n,), (k,), p.stride, p.dilation, p.padding, (length,)
    )
    assert 0 <= extra[0] < p.stride[0]
    assert transposed_output_size(n, k, p.stride[0], p.dilation[0], *pads[0], extra[0]) == length
    # TF: the gradient of the forward convolution with TF's padding on an input of size L.
    forward = Conv(stride=p.stride, dilation=p.dilation, padding=p.padding, groups=1)
    rng = np.random.default_rng(seed)
    w = rng.integers(-3, 4, size=(2, 2, k)).astype(np.float64)
    z = rng.integers(-3, 4, size=(1, 2, length)).astype(np.float64)
    y = rng.integers(-3, 4, size=(1, 2, n)).astype(np.float64)
    az = conv_ref.conv_fast(z, w, None, forward)
    assert az.shape == y.shape
    explicit_p = tconv(p.stride, pads, p.dilation, extra, rule="stride")
    assert np.sum(az * y) == np.sum(z * transposed.conv_transpose_fast(y, w, None, explicit_p))


@pytest.mark.clauses("TCONV.15")
def test_tf_output_shape_out_of_range() -> None:
    # n = 3, K = 3, s = 2, 'valid': L in [7, 8].
    assert transposed.from_output_size((3,), (3,), (2,), (1,), "valid", (8,)) == (((0, 0),), (1,))
    for length in (6, 9):
        with pytest.raises(ValueError, match=r"\[TCONV\.15\]"):
            transposed.from_output_size((3,), (3,), (2,), (1,), "valid", (length,))
    # 'same' pads depend on L: L = 5 pads the forward convolution by (1, 1), L = 6 by (0, 1).
    assert transposed.from_output_size((3,), (3,), (2,), (1,), "same", (5,)) == (((1, 1),), (0,))
    assert transposed.from_output_size((3,), (3,), (2,), (1,), "same", (6,)) == (((0, 1),), (0,))


@pytest.mark.clauses("TCONV.16")
@pytest.mark.parametrize(
    ("auto_pad", "out", "pads"),
    [
        ("SAME_UPPER", None, ((1, 2),)),
        ("SAME_LOWER", None, ((2, 1),)),
        ("NOTSET", (3,), ((2, 1),)),
        ("SAME_UPPER", (4,), ((1, 1),)),
        ("SAME_UPPER", (6,), ((0, 0),)),
    ],
)
def test_onnx_pads_worked(auto_pad: str, out: tuple[int] | None, pads: Pairs) -> None:
    # n = 3, K = 4, s = 1, op = 0: total_padding = 6 - out.
    assert transposed.onnx_pads((3,), (4,), (1,), (1,), (0,), out, auto_pad) == pads  # type: ignore[arg-type]


@pytest.mark.clauses("TCONV.16")
@given(
    n=st.integers(1, 4),
    k=st.integers(1, 4),
    s=st.integers(1, 3),
    d=st.integers(1, 2),
    data=st.data(),
)
def test_onnx_pads_give_the_requested_size(
    n: int, k: int, s: int, d: int, data: st.DataObject
) -> None:
    op = data.draw(st.integers(0, s - 1), label="op")
    full = (n - 1) * s + effective_kernel(k, d) + op
    auto_pad = data.draw(st.sampled_from(("SAME_UPPER", "SAME_LOWER", "NOTSET")), label="auto_pad")
    out = data.draw(st.integers(1, full), label="output_shape")
    ((begin, end),) = transposed.onnx_pads((n,), (k,), (s,), (d,), (op,), (out,), auto_pad)  # type: ignore[arg-type]
    assert transposed_output_size(n, k, s, d, begin, end, op) == out
    assert (end - begin) == (
        (begin + end) % 2 if auto_pad == "SAME_UPPER" else -((begin + end) % 2)
    )


@pytest.mark.clauses("TCONV.16")
def test_onnx_negative_total_padding_is_undefined() -> None:
    # K = 1, s = 2: SAME asks for 2n positions, one more than the taps reach.
    with pytest.raises(ValueError, match=r"\[TCONV\.16\]"):
        transposed.onnx_pads((3,), (1,), (2,), (1,), (0,), None, "SAME_UPPER")
    with pytest.raises(ValueError, match=r"\[TCONV\.16\]"):
        transposed.onnx_pads((3,), (1,), (1,), (1,), (0,), None, "NOTSET")


def jax_like(x: np.ndarray, rhs: np.ndarray, p: ConvTranspose, lhs_pads: Pairs) -> np.ndarray:
    """TCONV.17's reading of jax.lax.conv_transpose (transpose_kernel=False), via the conv loop.

    Zero-stuff the input by the stride, pad it by lhs_pads (negative crops, PAD.3),
    correlate with rhs of shape (C_in, C_out/g, *K) as given (no flip) at stride 1.
    """
    n = x.shape[2:]
    stuffed = np.zeros((*x.shape[:2], *((m - 1) * s + 1 for m, s in zip(n, p.stride, strict=True))))
    stuffed[(slice(None), slice(None), *(slice(None, None, s) for s in p.stride))] = x
    g, c_in_g, c_out_g = p.groups, x.shape[1] // p.groups, rhs.shape[1]
    # Conv layout (C_out, C_in/g, *K): group G's block is rhs[G*c_in_g:(G+1)*c_in_g] swapped.
    blocks = [np.swapaxes(rhs[G * c_in_g : (G + 1) * c_in_g], 0, 1) for G in range(g)]
    w_conv = np.concatenate(blocks, axis=0)
    assert w_conv.shape[:2] == (g * c_out_g, c_in_g)
    correlate = Conv(stride=(1,) * p.rank, dilation=p.dilation, padding=lhs_pads, groups=g)
    return conv_ref.conv_fast(stuffed, w_conv, None, correlate)


def flip(w: np.ndarray) -> np.ndarray:
    return np.flip(w, axis=tuple(range(2, w.ndim)))


@pytest.mark.clauses("TCONV.17", "TCONV.14")
@given(config=configs(forms=("explicit",)))
def test_jax_lhs_padding(config: Config) -> None:
    x, w, _ = config.arrays(integers=True)
    pads, extra = transposed.validate(x, w, None, config.p)
    lhs = transposed.jax_lhs_padding(config.w_shape[2:], config.p.dilation, pads, extra)
    # The unflipped JAX kernel is the canonical kernel reversed (TCONV.14).
    expected = transposed.conv_transpose_fast(x, w, None, config.p)
    np.testing.assert_array_equal(jax_like(x, flip(w), config.p, lhs), expected)


def jax_string_padding(k_eff: int, s: int, padding: str) -> tuple[int, int]:
    """JAX's _conv_transpose_padding for 'SAME'/'VALID', as TCONV.17 and TCONV.4 quote it."""
    if padding == "same":
        pad_len = k_eff + s - 2
        pad_a = k_eff - 1 if s > k_eff - 1 else -(-pad_len // 2)
    else:
        pad_len = k_eff + s - 2 + max(k_eff - s, 0)
        pad_a = k_eff - 1
    return pad_a, pad_len - pad_a


@pytest.mark.clauses("TCONV.17", "TCONV.4")
@given(config=configs(forms=("valid", "same")))
def test_jax_strings_match_tconv4(config: Config) -> None:
    x, w, _ = config.arrays(integers=True)
    p = config.p
    lhs = tuple(
        jax_string_padding(effective_kernel(k, d), s, p.padding)  # type: ignore[arg-type]
        for k, s, d in zip(config.w_shape[2:], p.stride, p.dilation, strict=True)
    )
    expected = transposed.conv_transpose_fast(x, w, None, p)
    np.testing.assert_array_equal(jax_like(x, flip(w), p, lhs), expected)


# --- validation: each invalid configuration cites its clause ------------------

P1 = tconv((1,))
INVALID = [
    ("TCONV.1", (1, 2, 3, 3), (2, 1, 2), None, P1),  # input rank 2 for a rank-1 op
    ("TCONV.1", (1, 2, 3), (2, 1, 2, 2), None, P1),  # weight rank
    ("TCONV.1", (1, 2, 3), (3, 1, 2), None, P1),  # weight axis 0 is not C_in
    ("TCONV.1", (1, 2, 3), (2, 1, 0), None, P1),  # empty kernel
    ("TCONV.1", (1, 2, 3), (2, 1, 2), None, replace(P1, dilation=(1, 1))),
    ("TCONV.1", (1, 2, 3), (2, 1, 2), None, replace(P1, output_padding=(0, 0))),
    ("TCONV.6", (1, 2, 3), (2, 1, 2), None, replace(P1, stride=(0,))),
    ("TCONV.6", (1, 2, 3), (2, 1, 2), None, replace(P1, dilation=(0,))),
    ("TCONV.7", (1, 2, 3), (2, 1, 2), None, replace(P1, groups=0)),
    ("TCONV.7", (1, 3, 3), (3, 1, 2), None, replace(P1, groups=2)),
    ("TCONV.8", (1, 2, 3), (2, 1, 2), (2,), replace(P1, groups=1)),  # C_out is 1
    ("TCONV.8", (1, 2, 3), (2, 2, 2), (2,), replace(P1, groups=2)),  # C_out is 4
    ("TCONV.9", (1, 2, 3), (2, 1, 2), None, replace(P1, padding=((-1, 0),))),
    ("TCONV.9", (1, 2, 3), (2, 1, 2), None, replace(P1, padding=((0, 0), (0, 0)))),
    ("TCONV.9", (1, 2, 3), (2, 1, 2), None, replace(P1, padding="full")),  # type: ignore[arg-type]
    ("TCONV.5", (1, 2, 3), (2, 1, 2), None, replace(P1, output_padding=(-1,))),
    ("TCONV.5", (1, 2, 3), (2, 1, 2), None, replace(P1, output_padding=(1,))),  # s = d = 1
    ("TCONV.5", (1, 2, 3), (2, 1, 2), None, tconv((2,), "same", output_padding=(1,))),
    (
        "TCONV.5",
        (1, 2, 3),
        (2, 1, 2),
        None,
        tconv((1,), dilation=(2,), output_padding=(1,), rule="stride"),
    ),
    ("TCONV.5", (1, 2, 3), (2, 1, 2), None, tconv((2,), dilation=(3,), output_padding=(3,))),
    ("TCONV.5", (1, 2, 3), (2, 1, 2), None, replace(P1, output_padding_rule="dilation")),  # type: ignore[arg-type]
]


@pytest.mark.clauses("TCONV.1", "TCONV.3", "TCONV.5", "TCONV.6", "TCONV.7", "TCONV.8", "TCONV.9")
@pytest.mark.parametrize(("clause", "x_shape", "w_shape", "b_shape", "p"), INVALID)
def test_invalid_configuration_cites_clause(
    clause: str,
    x_shape: tuple[int, ...],
    w_shape: tuple[int, ...],
    b_shape: tuple[int, ...] | None,
    p: ConvTranspose,
) -> None:
    x, w = np.zeros(x_shape), np.zeros(w_shape)
    b = None if b_shape is None else np.zeros(b_shape)
    for impl in (transposed.conv_transpose, transposed.conv_transpose_fast):
        with pytest.raises(ValueError, match=re.escape(f"[{clause}]")) as caught:
            impl(x, w, b, p)
        assert isinstance(caught.value, SpecError) and caught.value.clause == clause


@pytest.mark.clauses("TCONV.5")
@given(config=configs(forms=("explicit",)), excess=st.integers(0, 2), axis=st.integers(0, 2))
def test_output_padding_at_or_past_the_limit(config: Config, excess: int, axis: int) -> None:
    p = config.p
    a = axis % p.rank
    limit = transposed.output_padding_limit(p.stride[a], p.dilation[a], p.output_padding_rule)
    extra = tuple(limit + excess if i == a else op for i, op in enumerate(p.output_padding))
    x, w, b = config.arrays(integers=True)
    with pytest.raises(ValueError, match=r"\[TCONV\.5\]"):
        transposed.conv_transpose_fast(x, w, b, replace(p, output_padding=extra))


@pytest.mark.clauses("TCONV.3", "ERR.15")
@given(config=configs(forms=("explicit",)), excess=st.integers(0, 3))
def test_padding_that_removes_everything(config: Config, excess: int) -> None:
    """Removing every position (or more) leaves an output size of 0: degenerate, empty."""
    p = config.p
    n, kernel = config.x_shape[2], config.w_shape[2]
    assert not isinstance(p.padding, str)
    begin = p.padding[0][0]
    full = (n - 1) * p.stride[0] + effective_kernel(kernel, p.dilation[0]) + p.output_padding[0]
    # Remove all `full` positions of axis 0 (or more), keeping the pads non-negative.
    pads = ((begin, full - begin + excess), *p.padding[1:])
    x, w, b = config.arrays(integers=True)
    for impl in (transposed.conv_transpose, transposed.conv_transpose_fast):
        y = impl(x, w, b, replace(p, padding=pads))
        assert y.shape[2] == 0 and y.size == 0


# --- degenerate configurations (ERR.15) ---------------------------------------

DEGENERATE = [
    # (x shape, w shape, params, expected shape): the bias where there are elements
    ((2, 0, 3), (0, 2, 2), tconv((2,), explicit((0, 0))), (2, 2, 6)),  # C_in = 0
    ((1, 2, 3), (2, 0, 2), tconv((1,), explicit((0, 0))), (1, 0, 4)),  # C_out = 0
    ((1, 1, 0), (1, 2, 3), tconv((1,), explicit((0, 0))), (1, 2, 2)),  # nothing to scatter
    ((1, 1, 0), (1, 2, 3), tconv((2,), "valid"), (1, 2, 1)),
    ((1, 1, 0, 2), (1, 2, 3, 1), tconv((2, 1), "same"), (1, 2, 0, 2)),
    ((1, 2, 1), (2, 1, 2), tconv((1,), explicit((1, 1))), (1, 1, 0)),  # L = 0
    ((1, 2, 1), (2, 1, 2), tconv((1,), explicit((1, 2))), (1, 1, 0)),  # TCONV.3 gives -1
    ((1, 1, 0), (1, 2, 5), tconv((3,), explicit((0, 0))), (1, 2, 2)),  # a window must not wrap
    ((1, 1, 0, 2), (1, 2, 4, 1), tconv((2, 2), explicit((0, 1), (0, 0))), (1, 2, 1, 3)),
]


@pytest.mark.clauses("ERR.15", "TCONV.1", "TCONV.2", "TCONV.3", "TCONV.4")
@pytest.mark.parametrize(("x_shape", "w_shape", "p", "shape"), DEGENERATE)
@pytest.mark.parametrize("impl", [transposed.conv_transpose, transposed.conv_transpose_fast])
def test_degenerate_configuration_gives_the_bias_or_nothing(
    impl, x_shape, w_shape, p, shape
) -> None:
    assert conv_transpose_output_shape(x_shape, w_shape, p) == shape
    bias = np.arange(1.0, shape[1] + 1)
    y = impl(np.ones(x_shape), np.ones(w_shape), bias, p)
    assert y.shape == shape
    np.testing.assert_array_equal(y, np.broadcast_to(bias.reshape(-1, *[1] * p.rank), shape))
