"""Self-tests of reference/conv.py and the size formulas it uses (spec chapter CONV).

`conv_cases` draws valid configurations by construction (sizes are derived
so that the output is at least 1 and every padding mode stays within its
limits); the other self-test modules of the reference reuse it.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, replace
from unittest import mock

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from reference import conv as conv_ref
from reference.checks import SpecError
from reference.conv import conv, conv_fast
from reference.params import Conv
from reference.sizes import conv_output_shape, resolve_padding

MODES = ("zeros", "reflect", "replicate", "circular")
FORMS = ("symmetric", "asymmetric", "negative", "valid", "same", "same_begin")
MAX_SIZE = {1: 7, 2: 5, 3: 3}
MAX_KERNEL = {1: 4, 2: 3, 3: 2}


@dataclass(frozen=True)
class Case:
    x_shape: tuple[int, ...]
    w_shape: tuple[int, ...]
    bias: bool
    p: Conv


def _explicit_pads(data: st.DataObject, form: str, mode: str, n: int) -> tuple[int, int]:
    """Pads for one axis of size n within the limits of PAD.3 and PAD.9-PAD.11."""
    top = {"zeros": 3, "replicate": 3, "reflect": min(3, n - 1), "circular": min(3, n)}[mode]
    if form == "symmetric":
        pad = data.draw(st.integers(0, top), label="pad")
        return pad, pad
    begin = data.draw(st.integers(0, top), label="pad_begin")
    end = data.draw(st.integers(0, top), label="pad_end")
    return begin, end


def _kernel_bound(form: str, mode: str, n: int, pads: tuple[int, int], d: int) -> int:
    """Largest k whose dilated kernel fits (CONV.3) and keeps 'same' pads in the mode's limits."""
    if form in ("same", "same_begin"):
        # 'same' pads at most ceil(d*(k-1)/2) on a side (PAD.6).
        room = {"zeros": 99, "replicate": 99, "reflect": 2 * (n - 1), "circular": 2 * n}[mode]
        return room // d + 1
    length = n + pads[0] + pads[1]
    return (length - 1) // d + 1


def draw_axis(
    data: st.DataObject, rank: int, form: str, mode: str
) -> tuple[int, int, int, int, tuple[int, int]]:
    """(n, k, s, d, explicit pads) for one spatial axis of a valid configuration."""
    s = data.draw(st.integers(1, 3), label="stride")
    d = data.draw(st.integers(1, 3 if rank < 3 else 2), label="dilation")
    if form == "negative":
        begin = data.draw(st.integers(-2, 2), label="pad_begin")
        end = data.draw(st.integers(-2, -1) if begin >= 0 else st.integers(-2, 2), label="pad_end")
        smallest = max(1, 1 - begin - end)  # the padded length n + begin + end is >= 1
        n = data.draw(st.integers(smallest, smallest + MAX_SIZE[rank] - 1), label="n")
        pads = (begin, end)
    else:
        n = data.draw(st.integers(1, MAX_SIZE[rank]), label="n")
        pads = (
            _explicit_pads(data, form, mode, n) if form in ("symmetric", "asymmetric") else (0, 0)
        )
    bound = min(MAX_KERNEL[rank], _kernel_bound(form, mode, n, pads, d))
    k = data.draw(st.integers(1, bound), label="k")
    return n, k, s, d, pads


def draw_case(
    data: st.DataObject,
    ranks: tuple[int, ...] = (1, 2, 3),
    modes: tuple[str, ...] = MODES,
    forms: tuple[str, ...] = FORMS,
    max_groups: int = 3,
    min_batch: int = 0,
) -> Case:
    """A valid convolution configuration, built so that nothing is rejected afterwards."""
    rank = data.draw(st.sampled_from(ranks), label="rank")
    mode = data.draw(st.sampled_from(modes), label="padding_mode")
    allowed = [f for f in forms if f != "negative" or mode == "zeros"]
    form = data.draw(st.sampled_from(allowed), label="padding_form")
    axes = [draw_axis(data, rank, form, mode) for _ in range(rank)]
    groups = data.draw(st.integers(1, max_groups), label="groups")
    c_in_g = data.draw(st.integers(1, 2), label="C_in/groups")
    c_out_g = data.draw(st.integers(1, 2), label="C_out/groups")
    batch = data.draw(st.integers(min_batch, 2), label="N")
    bias = data.draw(st.booleans(), label="bias")
    if form in ("valid", "same", "same_begin"):
        padding: tuple[tuple[int, int], ...] | str = "same" if form.startswith("same") else "valid"
    else:
        padding = tuple(a[4] for a in axes)
    p = Conv(
        stride=tuple(a[2] for a in axes),
        dilation=tuple(a[3] for a in axes),
        padding=padding,  # type: ignore[arg-type]
        groups=groups,
        padding_mode=mode,  # type: ignore[arg-type]
        same_split="begin" if form == "same_begin" else "end",
    )
    x_shape = (batch, groups * c_in_g, *(a[0] for a in axes))
    w_shape = (groups * c_out_g, c_in_g, *(a[1] for a in axes))
    return Case(x_shape, w_shape, bias, p)


def integer_arrays(
    data: st.DataObject, case: Case
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Small integers: every float64 sum is exact, so equal results are bit-identical."""
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1), label="seed"))
    x = rng.integers(-3, 4, case.x_shape).astype(np.float64)
    w = rng.integers(-3, 4, case.w_shape).astype(np.float64)
    b = rng.integers(-3, 4, case.w_shape[0]).astype(np.float64) if case.bias else None
    return x, w, b


def real_arrays(
    data: st.DataObject, case: Case
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1), label="seed"))
    x = rng.standard_normal(case.x_shape)
    w = rng.standard_normal(case.w_shape)
    b = rng.standard_normal(case.w_shape[0]) if case.bias else None
    return x, w, b


# --- worked examples (CONV.12) ------------------------------------------------

EXAMPLE_X = np.array([[4, 1, 7, 5], [4, 4, 2, 5], [7, 7, 2, 4], [1, 0, 2, 4]], dtype=np.float64)
EXAMPLE_W = np.array([[1, 0], [2, 1]], dtype=np.float64)


@pytest.mark.clauses("CONV.12", "CONV.2", "PAD.6")
@pytest.mark.parametrize("impl", [conv, conv_fast])
def test_worked_example_same_end(impl) -> None:
    p = Conv((1, 1), (1, 1), "same")
    y = impl(EXAMPLE_X[None, None], EXAMPLE_W[None, None], None, p)
    expected = [[16, 11, 16, 15], [25, 20, 10, 13], [9, 9, 10, 12], [1, 0, 2, 4]]
    np.testing.assert_array_equal(y[0, 0], expected)


@pytest.mark.clauses("CONV.12", "CONV.2", "PAD.6")
@pytest.mark.parametrize("impl", [conv, conv_fast])
def test_worked_example_same_begin(impl) -> None:
    p = Conv((1, 1), (1, 1), "same", same_split="begin")
    y = impl(EXAMPLE_X[None, None], EXAMPLE_W[None, None], None, p)
    expected = [[4, 9, 9, 19], [4, 16, 11, 16], [7, 25, 20, 10], [1, 9, 9, 10]]
    np.testing.assert_array_equal(y[0, 0], expected)


@pytest.mark.clauses("CONV.12", "CONV.8")
def test_worked_example_flipped_kernel_differs() -> None:
    p = Conv((1, 1), (1, 1), "same")
    flipped = conv(EXAMPLE_X[None, None], EXAMPLE_W[::-1, ::-1][None, None], None, p)
    assert flipped[0, 0, 0, 0] == 10


@pytest.mark.clauses("CONV.12", "CONV.7")
def test_worked_example_with_bias() -> None:
    p = Conv((1, 1), (1, 1), "same")
    y = conv(EXAMPLE_X[None, None], EXAMPLE_W[None, None], np.array([-0.25]), p)
    assert y[0, 0, 3, 1] == -0.25  # a window of zeros and a zero weight still gets the bias
    assert y[0, 0, 0, 0] == 15.75


# --- the loop and the fast oracle --------------------------------------------


@pytest.mark.clauses("CONV.2", "CONV.3", "CONV.6", "PAD.2", "PAD.3", "PAD.6", "PAD.8")
@given(data=st.data())
def test_loop_equals_fast_exactly_on_integers(data: st.DataObject) -> None:
    case = draw_case(data)
    x, w, b = integer_arrays(data, case)
    np.testing.assert_array_equal(conv(x, w, b, case.p), conv_fast(x, w, b, case.p))


@pytest.mark.clauses("CONV.2")
@given(data=st.data())
def test_fast_in_batch_slices_equals_the_loop(data: st.DataObject) -> None:
    """The fast oracle splits a large batch so its columns stay small; one sample at a
    time must give the loop's values too."""
    case = draw_case(data)
    x, w, b = integer_arrays(data, case)
    with mock.patch.object(conv_ref, "FAST_CHUNK_ELEMENTS", 1):
        sliced = conv_fast(x, w, b, case.p)
    np.testing.assert_array_equal(conv(x, w, b, case.p), sliced)


@pytest.mark.clauses("CONV.2", "NUM.2")
@given(data=st.data())
def test_loop_equals_fast_on_reals(data: st.DataObject) -> None:
    case = draw_case(data)
    x, w, b = real_arrays(data, case)
    magnitude = conv_fast(np.abs(x), np.abs(w), None if b is None else np.abs(b), case.p)
    difference = np.abs(conv(x, w, b, case.p) - conv_fast(x, w, b, case.p))
    assert np.all(difference <= 1e-12 * magnitude)


@pytest.mark.clauses("CONV.3", "CONV.9", "PAD.5", "PAD.6")
@given(data=st.data())
def test_output_shape_is_the_size_formula(data: st.DataObject) -> None:
    case = draw_case(data)
    x, w, b = integer_arrays(data, case)
    pads = resolve_padding(case.p, case.x_shape[2:], case.w_shape[2:])
    expected = [case.x_shape[0], case.w_shape[0]]
    for n, k, s, d, (begin, end) in zip(
        case.x_shape[2:], case.w_shape[2:], case.p.stride, case.p.dilation, pads, strict=True
    ):
        expected.append((n + begin + end - d * (k - 1) - 1) // s + 1)
    assert conv_output_shape(case.x_shape, case.w_shape, case.p) == tuple(expected)
    assert conv(x, w, b, case.p).shape == tuple(expected)
    assert conv_fast(x, w, b, case.p).shape == tuple(expected)
    assert all(m >= 1 for m in expected[2:])


@pytest.mark.clauses("CONV.3")
@given(data=st.data())
def test_every_read_index_is_in_the_padded_range(data: st.DataObject) -> None:
    case = draw_case(data)
    pads = resolve_padding(case.p, case.x_shape[2:], case.w_shape[2:])
    out = conv_output_shape(case.x_shape, case.w_shape, case.p)[2:]
    for n, k, s, d, (begin, end), m in zip(
        case.x_shape[2:], case.w_shape[2:], case.p.stride, case.p.dilation, pads, out, strict=True
    ):
        first = 0 * s + 0 * d - begin
        last = (m - 1) * s + (k - 1) * d - begin
        assert -begin <= first and last <= n + end - 1
        # One more output would read past the padded input: the floor of CONV.3 is tight.
        assert m * s + (k - 1) * d - begin > n + end - 1


# --- properties of the definition ---------------------------------------------


@pytest.mark.clauses("CONV.2")
@given(data=st.data())
def test_linear_in_input_and_weight(data: st.DataObject) -> None:
    case = draw_case(data)
    x1, w1, _ = integer_arrays(data, case)
    x2, w2, _ = integer_arrays(data, case)
    p = case.p
    np.testing.assert_array_equal(
        conv(x1 + 2 * x2, w1, None, p), conv(x1, w1, None, p) + 2 * conv(x2, w1, None, p)
    )
    np.testing.assert_array_equal(
        conv(x1, w1 - w2, None, p), conv(x1, w1, None, p) - conv(x1, w2, None, p)
    )


@pytest.mark.clauses("CONV.7")
@given(data=st.data())
def test_bias_is_added_once_everywhere(data: st.DataObject) -> None:
    case = draw_case(data)
    x, w, _ = integer_arrays(data, case)
    b = np.arange(1, case.w_shape[0] + 1, dtype=np.float64)
    shift = conv(x, w, b, case.p) - conv(x, w, None, case.p)
    expected = np.broadcast_to(b.reshape(1, -1, *([1] * case.p.rank)), shift.shape)
    np.testing.assert_array_equal(shift, expected)


@pytest.mark.clauses("CONV.7")
def test_bias_reaches_outputs_that_read_only_padding() -> None:
    x = np.ones((1, 1, 2))
    w = np.ones((1, 1, 1))
    y = conv(x, w, np.array([5.0]), Conv((1,), (1,), ((3, 3),)))
    np.testing.assert_array_equal(y[0, 0], [5, 5, 5, 6, 6, 5, 5, 5])


@pytest.mark.clauses("CONV.6", "CONV.2")
@given(data=st.data())
def test_output_channel_reads_only_its_group(data: st.DataObject) -> None:
    case = draw_case(data, ranks=(1, 2), min_batch=1)
    x, w, b = integer_arrays(data, case)
    g = case.p.groups
    c_in_g, c_out_g = case.x_shape[1] // g, case.w_shape[0] // g
    base = conv(x, w, b, case.p)
    for group in range(g):
        changed = x.copy()
        changed[:, group * c_in_g : (group + 1) * c_in_g] += 7
        y = conv(changed, w, b, case.p)
        for o in range(case.w_shape[0]):
            if o // c_out_g != group:
                np.testing.assert_array_equal(y[:, o], base[:, o])


@pytest.mark.clauses("CONV.8")
@given(data=st.data())
def test_cross_correlation_matches_numpy_correlate(data: st.DataObject) -> None:
    n = data.draw(st.integers(1, 9), label="n")
    k = data.draw(st.integers(1, n), label="k")
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1), label="seed"))
    x = rng.integers(-5, 6, n).astype(np.float64)
    w = rng.integers(-5, 6, k).astype(np.float64)
    p = Conv((1,), (1,), "valid")
    np.testing.assert_array_equal(
        conv(x[None, None], w[None, None], None, p)[0, 0], np.correlate(x, w, "valid")
    )
    np.testing.assert_array_equal(
        conv(x[None, None], w[::-1][None, None], None, p)[0, 0], np.convolve(x, w, "valid")
    )


@pytest.mark.clauses("CONV.8")
@given(data=st.data())
def test_true_convolution_is_conv_with_flipped_kernel(data: st.DataObject) -> None:
    case = draw_case(data, ranks=(1, 2, 3), modes=("zeros",), forms=("valid",), max_groups=1)
    case = replace(case, p=replace(case.p, stride=(1,) * case.p.rank, dilation=(1,) * case.p.rank))
    x, w, _ = integer_arrays(data, case)
    flipped = w[(slice(None), slice(None), *([slice(None, None, -1)] * case.p.rank))]
    y = conv(x, flipped, None, case.p)
    # Textbook convolution, 'valid' part: y[j] = sum_t w[t] * x[j + k - 1 - t].
    kernel = case.w_shape[2:]
    expected = np.zeros_like(y)
    for n, o in itertools.product(range(y.shape[0]), range(y.shape[1])):
        for j in itertools.product(*(range(m) for m in y.shape[2:])):
            total = 0.0
            for c in range(case.x_shape[1]):
                for t in itertools.product(*(range(k) for k in kernel)):
                    src = tuple(ja + ka - 1 - ta for ja, ka, ta in zip(j, kernel, t, strict=True))
                    total += w[(o, c, *t)] * x[(n, c, *src)]
            expected[(n, o, *j)] = total
    np.testing.assert_array_equal(y, expected)


@pytest.mark.clauses("CONV.10", "CONV.9")
@given(data=st.data())
def test_empty_batch_gives_empty_output_of_the_right_shape(data: st.DataObject) -> None:
    case = draw_case(data)
    case = replace(case, x_shape=(0, *case.x_shape[1:]))
    x, w, b = integer_arrays(data, case)
    expected = conv_output_shape(case.x_shape, case.w_shape, case.p)
    assert expected[0] == 0
    assert conv(x, w, b, case.p).shape == expected
    assert conv_fast(x, w, b, case.p).shape == expected


# --- invalid configurations ---------------------------------------------------

INVALID = [
    # (x shape, w shape, bias shape, params, clause)
    ((1, 3, 5), (2, 1, 3), None, Conv((1,), (1,), "valid", groups=2), "CONV.6"),
    ((1, 4, 5), (3, 2, 3), None, Conv((1,), (1,), "valid", groups=2), "CONV.6"),
    ((1, 4, 5), (2, 4, 3), None, Conv((1,), (1,), "valid", groups=2), "CONV.6"),
    ((1, 4, 5), (2, 4, 3), None, Conv((1,), (1,), "valid", groups=0), "CONV.6"),
    ((0, 3, 5), (2, 1, 3), None, Conv((1,), (1,), "valid", groups=2), "CONV.6"),
    ((1, 1, 5), (1, 1, 3), None, Conv((0,), (1,), "valid"), "CONV.4"),
    ((1, 1, 5), (1, 1, 3), None, Conv((-1,), (1,), "valid"), "CONV.4"),
    ((1, 1, 5), (1, 1, 3), None, Conv((1,), (0,), "valid"), "CONV.5"),
    ((1, 1, 0), (1, 1, 1), None, Conv((1,), (1,), ((1, 1),), padding_mode="replicate"), "PAD.10"),
    ((1, 1, 0), (1, 1, 1), None, Conv((1,), (1,), ((1, 0),), padding_mode="reflect"), "PAD.9"),
    ((1, 1, 3), (1, 1, 1), None, Conv((1,), (1,), ((3, 0),), padding_mode="reflect"), "PAD.9"),
    ((1, 1, 2), (1, 1, 5), None, Conv((1,), (1,), "same", padding_mode="reflect"), "PAD.9"),
    ((1, 1, 3), (1, 1, 1), None, Conv((1,), (1,), ((0, 4),), padding_mode="circular"), "PAD.11"),
    ((1, 1, 3), (1, 1, 1), None, Conv((1,), (1,), ((-1, 0),), padding_mode="reflect"), "PAD.3"),
    ((1, 1, 3), (1, 1, 1), None, Conv((1,), (1,), ((0, -1),), padding_mode="replicate"), "PAD.3"),
    ((1, 1, 3), (1, 1, 1), None, Conv((1,), (1,), ((-1, 0),), padding_mode="circular"), "PAD.3"),
    ((1, 1, 5), (1, 1, 3), None, Conv((1, 1), (1, 1), "valid"), "CONV.1"),
    ((1, 1, 5, 5), (1, 1, 3), None, Conv((1, 1), (1, 1), "valid"), "CONV.1"),
    ((1, 1, 5), (1, 1, 3), None, Conv((1,), (1, 1), "valid"), "CONV.1"),
    ((1, 1), (1, 1), None, Conv((), (), ()), "CONV.1"),
    ((1, 1, 5), (1, 1, 0), None, Conv((1,), (1,), "valid"), "CONV.1"),
    ((1, 2, 5), (3, 2, 3), (4,), Conv((1,), (1,), "valid"), "CONV.7"),
    ((1, 2, 5), (3, 2, 3), (1, 3), Conv((1,), (1,), "valid"), "CONV.7"),
    ((1, 1, 5), (1, 1, 3), None, Conv((1,), (1,), ((1, 1), (1, 1))), "PAD.4"),
    ((1, 1, 5), (1, 1, 3), None, Conv((1,), (1,), "full"), "PAD.4"),  # type: ignore[arg-type]
    ((1, 1, 5), (1, 1, 3), None, Conv((1,), (1,), "same", same_split="middle"), "PAD.6"),  # type: ignore[arg-type]
    ((1, 1, 5), (1, 1, 3), None, Conv((1,), (1,), "same", padding_mode="symmetric"), "PAD.8"),  # type: ignore[arg-type]
]


@pytest.mark.clauses(
    "CONV.1",
    "CONV.4",
    "CONV.5",
    "CONV.6",
    "CONV.7",
    "CONV.10",
    "PAD.3",
    "PAD.4",
    "PAD.6",
    "PAD.8",
    "PAD.9",
    "PAD.10",
    "PAD.11",
)
@pytest.mark.parametrize(("x_shape", "w_shape", "b_shape", "p", "clause"), INVALID)
@pytest.mark.parametrize("impl", [conv, conv_fast])
def test_invalid_configuration_raises_citing_the_clause(
    impl,
    x_shape,
    w_shape,
    b_shape,
    p,
    clause,
) -> None:
    b = None if b_shape is None else np.zeros(b_shape)
    with pytest.raises(SpecError) as raised:
        impl(np.zeros(x_shape), np.zeros(w_shape), b, p)
    assert raised.value.clause == clause


# --- degenerate configurations (ERR.15) ---------------------------------------

DEGENERATE = [
    # (x shape, w shape, params, expected shape): the bias where there are elements
    ((2, 0, 4), (3, 0, 2), Conv((1,), (1,), ((1, 0),)), (2, 3, 4)),  # C_in = 0
    ((1, 0, 3, 3), (4, 0, 3, 1), Conv((2, 1), (1, 1), "same", groups=2), (1, 4, 2, 3)),
    ((1, 2, 5), (0, 2, 3), Conv((1,), (1,), "valid"), (1, 0, 3)),  # C_out = 0
    ((1, 1, 0), (2, 1, 1), Conv((1,), (1,), ((2, 1),)), (1, 2, 3)),  # reads only padding
    ((1, 1, 0, 3), (2, 1, 2, 2), Conv((2, 1), (1, 1), "same"), (1, 2, 0, 3)),
    ((1, 1, 4), (2, 1, 3), Conv((1,), (2,), "valid"), (1, 2, 0)),  # m = 0
    ((1, 1, 4), (2, 1, 3), Conv((2,), (1,), ((-1, -1),)), (1, 2, 0)),
    ((1, 1, 2), (2, 1, 3), Conv((2,), (1,), "valid"), (1, 2, 0)),  # a window must not wrap
    ((1, 1, 3, 2), (2, 1, 2, 5), Conv((1, 3), (1, 1), "valid"), (1, 2, 2, 0)),
    ((1, 1, 0, 4), (2, 1, 3, 2), Conv((3, 2), (1, 1), ((1, 0), (0, 0))), (1, 2, 0, 2)),
    # CONV.3's formula below 0: the kernel overhangs by more than the stride, still no window
    ((1, 1, 3), (2, 1, 5), Conv((1,), (1,), "valid"), (1, 2, 0)),
    ((1, 1, 3), (2, 1, 3), Conv((1,), (2,), "valid"), (1, 2, 0)),
    ((1, 1, 3), (2, 1, 3), Conv((1,), (1,), ((-1, -1),)), (1, 2, 0)),
    ((1, 1, 1, 5), (2, 1, 7, 2), Conv((2, 1), (1, 1), "valid"), (1, 2, 0, 4)),
]


@pytest.mark.clauses("ERR.15", "CONV.1", "CONV.2", "CONV.3")
@pytest.mark.parametrize(("x_shape", "w_shape", "p", "shape"), DEGENERATE)
@pytest.mark.parametrize("impl", [conv, conv_fast])
def test_degenerate_configuration_gives_the_bias_or_nothing(
    impl, x_shape, w_shape, p, shape
) -> None:
    assert conv_output_shape(x_shape, w_shape, p) == shape
    bias = np.arange(1.0, w_shape[0] + 1)
    y = impl(np.ones(x_shape), np.ones(w_shape), bias, p)
    assert y.shape == shape
    np.testing.assert_array_equal(y, np.broadcast_to(bias.reshape(-1, *[1] * p.rank), shape))
    assert impl(np.ones(x_shape), np.ones(w_shape), None, p).shape == shape
