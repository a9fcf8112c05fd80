"""Self-tests of reference/matrix.py against spec chapter MAT."""

from __future__ import annotations

import itertools
import math
import re
from dataclasses import dataclass

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from reference import conv as conv_ref
from reference import matrix, transposed
from reference.checks import SpecError
from reference.padding import source_index
from reference.params import Conv, ConvTranspose, PaddingMode, Pairs
from reference.sizes import conv_output_shape, effective_kernel, resolve_padding

W3 = np.arange(1.0, 10.0).reshape(1, 1, 3, 3)
VALID_2D = Conv(stride=(1, 1), dilation=(1, 1), padding=((0, 0), (0, 0)))


def vec(sample: np.ndarray) -> np.ndarray:
    """MAT.1: row-major over (C, *spatial)."""
    return sample.reshape(-1)


# --- worked example (MAT.6) ---------------------------------------------------


@pytest.mark.clauses("MAT.6", "MAT.2", "MAT.1")
def test_worked_example_matrix() -> None:
    c = matrix.conv_matrix((1, 4, 4), W3, VALID_2D)
    expected = [
        [1, 2, 3, 0, 4, 5, 6, 0, 7, 8, 9, 0, 0, 0, 0, 0],
        [0, 1, 2, 3, 0, 4, 5, 6, 0, 7, 8, 9, 0, 0, 0, 0],
        [0, 0, 0, 0, 1, 2, 3, 0, 4, 5, 6, 0, 7, 8, 9, 0],
        [0, 0, 0, 0, 0, 1, 2, 3, 0, 4, 5, 6, 0, 7, 8, 9],
    ]
    np.testing.assert_array_equal(c, expected)
    x = np.arange(1.0, 17.0).reshape(1, 1, 4, 4)
    np.testing.assert_array_equal(c @ vec(x[0]), [348, 393, 528, 573])
    np.testing.assert_array_equal(
        conv_ref.conv(x, W3, None, VALID_2D).ravel(), [348, 393, 528, 573]
    )


@pytest.mark.clauses("MAT.6", "MAT.5", "TCONV.18")
def test_worked_example_transpose() -> None:
    c = matrix.conv_matrix((1, 4, 4), W3, VALID_2D)
    expected = [[1, 4, 7, 6], [7, 23, 33, 24], [19, 53, 63, 42], [21, 52, 59, 36]]
    np.testing.assert_array_equal((c.T @ np.array([1.0, 2.0, 3.0, 4.0])).reshape(4, 4), expected)
    p = ConvTranspose((1, 1), (1, 1), ((0, 0), (0, 0)), (0, 0))
    np.testing.assert_array_equal(matrix.conv_transpose_matrix((1, 2, 2), W3, p), c.T)


@pytest.mark.clauses("MAT.3")
def test_replicate_padding_sums_weights() -> None:
    # 1-D, K = 3, pads (2, 0), replicate: output 0 reads x[0] three times.
    p = Conv(stride=(1,), dilation=(1,), padding=((2, 0),), padding_mode="replicate")
    c = matrix.conv_matrix((1, 2), np.array([1.0, 10.0, 100.0]).reshape(1, 1, 3), p)
    np.testing.assert_array_equal(c, [[111, 0], [11, 100]])


# --- configurations, valid by construction ------------------------------------

MODES: tuple[PaddingMode, ...] = ("zeros", "reflect", "replicate", "circular")


@dataclass(frozen=True)
class ConvCase:
    p: Conv
    x_shape: tuple[int, ...]
    w_shape: tuple[int, ...]
    bias: bool
    seed: int

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        rng = np.random.default_rng(self.seed)

        def ints(shape: tuple[int, ...]) -> np.ndarray:
            return rng.integers(-3, 4, size=shape).astype(np.float64)

        return (
            ints(self.x_shape),
            ints(self.w_shape),
            ints((self.w_shape[0],)) if self.bias else None,
        )


@st.composite
def conv_cases(
    draw: st.DrawFn, modes: tuple[PaddingMode, ...] = MODES, ranks: tuple[int, ...] = (1, 2, 3)
) -> ConvCase:
    """A valid convolution: sizes derived from the kernel and pads so every mode's limits hold."""
    rank = draw(st.sampled_from(ranks), label="rank")
    small = rank == 3
    groups = draw(st.integers(1, 2), label="groups")
    c_in = groups * (1 if small else draw(st.integers(1, 2), label="C_in/groups"))
    c_out = groups * (1 if small else draw(st.integers(1, 2), label="C_out/groups"))
    mode = draw(st.sampled_from(modes), label="padding_mode")
    form = draw(st.sampled_from(("explicit", "valid", "same")), label="form")
    if mode != "zeros":
        form = "explicit"  # keeps the mode limits (PAD.9-PAD.11) easy to satisfy by construction
    max_k, max_s = (2, 2) if small else (3, 3)
    stride, dilation, kernel, pads, size = [], [], [], [], []
    for a in range(rank):
        s = draw(st.integers(1, max_s), label=f"s[{a}]")
        d = draw(st.integers(1, 2), label=f"d[{a}]")
        k = draw(st.integers(1, max_k), label=f"K[{a}]")
        low_pad = -1 if mode == "zeros" else 0  # negative zero-padding crops (PAD.3)
        begin = draw(st.integers(low_pad, 2), label=f"p_begin[{a}]")
        end = draw(st.integers(low_pad, 2), label=f"p_end[{a}]")
        # n + begin + end >= k_eff (CONV.3); reflect needs pad < n; circular pad <= n.
        if form == "explicit":
            low = max(1, effective_kernel(k, d) - begin - end, max(begin, end) + 1)
        else:  # 'valid' pads nothing; 'same' always fits
            low = effective_kernel(k, d) if form == "valid" else 1
        size.append(low + draw(st.integers(0, 2 if small else 3), label=f"extra_n[{a}]"))
        stride.append(s)
        dilation.append(d)
        kernel.append(k)
        pads.append((begin, end))
    padding: Pairs | str = tuple(pads) if form == "explicit" else form
    p = Conv(
        stride=tuple(stride),
        dilation=tuple(dilation),
        padding=padding,  # type: ignore[arg-type]
        groups=groups,
        padding_mode=mode,
        same_split=draw(st.sampled_from(("end", "begin")), label="same_split"),
    )
    return ConvCase(
        p=p,
        x_shape=(draw(st.integers(1, 2), label="N"), c_in, *size),
        w_shape=(c_out, c_in // groups, *kernel),
        bias=draw(st.booleans(), label="bias"),
        seed=draw(st.integers(0, 2**32 - 1), label="seed"),
    )


# --- properties ---------------------------------------------------------------


@pytest.mark.clauses("MAT.1", "MAT.2", "MAT.3")
@given(case=conv_cases())
def test_matrix_equals_the_loop(case: ConvCase) -> None:
    x, w, b = case.arrays()
    y = conv_ref.conv(x, w, b, case.p)
    c = matrix.conv_matrix(x.shape[1:], w, case.p)
    assert c.shape == (math.prod(y.shape[1:]), math.prod(x.shape[1:]))
    beta = matrix.bias_vector(b, y.shape[1:])
    for n in range(x.shape[0]):  # MAT.1: the batch is block diagonal, one sample at a time
        np.testing.assert_array_equal(c @ vec(x[n]) + beta, vec(y[n]))


@pytest.mark.clauses("MAT.3")
@given(case=conv_cases(modes=("zeros",)))
def test_zero_padding_entries_are_single_weights(case: ConvCase) -> None:
    _, w, _ = case.arrays()
    w = np.arange(1.0, w.size + 1).reshape(w.shape)  # distinct weights
    c = matrix.conv_matrix(case.x_shape[1:], w, case.p)
    assert set(np.unique(c)) <= {0.0, *w.ravel().tolist()}
    per_row = (c != 0).sum(axis=1)
    assert per_row.max() <= math.prod(case.w_shape[1:])


def padding_map(in_shape: tuple[int, ...], pads: Pairs, mode: PaddingMode) -> np.ndarray:
    """MAT.3's P: one 1 per padded position (c, m), in the column of (c, src(m))."""
    padded = (in_shape[0], *(n + b + e for n, (b, e) in zip(in_shape[1:], pads, strict=True)))
    p = np.zeros((math.prod(padded), math.prod(in_shape)))
    for c, *m in itertools.product(*(range(size) for size in padded)):
        src = tuple(
            source_index(m[a] - pads[a][0], in_shape[1 + a], mode) for a in range(len(pads))
        )
        if all(i is not None for i in src):
            row = np.ravel_multi_index((c, *m), padded)
            p[row, np.ravel_multi_index((c, *src), in_shape)] = 1  # type: ignore[arg-type]
    return p


@pytest.mark.clauses("MAT.3")
@given(case=conv_cases(modes=("reflect", "replicate", "circular"), ranks=(1, 2)))
def test_padding_mode_factorizes(case: ConvCase) -> None:
    _, w, _ = case.arrays()
    in_shape = case.x_shape[1:]
    pads = resolve_padding(case.p, in_shape[1:], case.w_shape[2:])
    padded = (in_shape[0], *(n + b + e for n, (b, e) in zip(in_shape[1:], pads, strict=True)))
    unpadded = Conv(
        stride=case.p.stride,
        dilation=case.p.dilation,
        padding=tuple((0, 0) for _ in pads),
        groups=case.p.groups,
    )
    c_valid = matrix.conv_matrix(padded, w, unpadded)
    np.testing.assert_array_equal(
        matrix.conv_matrix(in_shape, w, case.p),
        c_valid @ padding_map(in_shape, pads, case.p.padding_mode),
    )


@st.composite
def transposed_cases(
    draw: st.DrawFn,
) -> tuple[ConvTranspose, tuple[int, ...], tuple[int, ...], bool, int]:
    """A valid transposed convolution (TCONV), explicit or 'valid'/'same': (p, x, w, bias, seed)."""
    rank = draw(st.sampled_from((1, 2, 3)), label="rank")
    small = rank == 3
    groups = draw(st.integers(1, 2), label="groups")
    c_in_g = 1 if small else draw(st.integers(1, 2), label="C_in/groups")
    c_out_g = 1 if small else draw(st.integers(1, 2), label="C_out/groups")
    rule = draw(st.sampled_from(transposed.OUTPUT_PADDING_RULES), label="rule")
    form = draw(st.sampled_from(("explicit", "valid", "same")), label="form")
    stride, dilation, kernel, size, pads, extra = [], [], [], [], [], []
    for a in range(rank):
        s = draw(st.integers(1, 2 if small else 3), label=f"s[{a}]")
        d = draw(st.integers(1, 2 if small else 3), label=f"d[{a}]")
        k = draw(st.integers(1, 2 if small else 3), label=f"K[{a}]")
        n = draw(st.integers(1, 2 if small else 3), label=f"n[{a}]")
        op = draw(st.integers(0, transposed.output_padding_limit(s, d, rule) - 1), label=f"op[{a}]")
        full = (n - 1) * s + effective_kernel(k, d) + op
        total = draw(st.integers(0, min(full - 1, 3)), label=f"total_pad[{a}]")
        begin = draw(st.integers(0, total), label=f"p_begin[{a}]")
        stride.append(s)
        dilation.append(d)
        kernel.append(k)
        size.append(n)
        pads.append((begin, total - begin))
        extra.append(op)
    explicit = form == "explicit"
    p = ConvTranspose(
        stride=tuple(stride),
        dilation=tuple(dilation),
        padding=tuple(pads) if explicit else form,  # type: ignore[arg-type]
        output_padding=tuple(extra) if explicit else (0,) * rank,
        groups=groups,
        output_padding_rule=rule,  # type: ignore[arg-type]
    )
    x_shape = (draw(st.integers(1, 2), label="N"), groups * c_in_g, *size)
    w_shape = (groups * c_in_g, c_out_g, *kernel)
    return p, x_shape, w_shape, draw(st.booleans(), label="bias"), draw(st.integers(0, 2**32 - 1))


@pytest.mark.clauses("MAT.5", "TCONV.11")
@given(case=transposed_cases())
def test_transposed_is_the_transpose(
    case: tuple[ConvTranspose, tuple[int, ...], tuple[int, ...], bool, int],
) -> None:
    p, x_shape, w_shape, bias, seed = case
    rng = np.random.default_rng(seed)
    x = rng.integers(-3, 4, size=x_shape).astype(np.float64)
    w = rng.integers(-3, 4, size=w_shape).astype(np.float64)
    b = rng.integers(-3, 4, size=w_shape[1] * p.groups).astype(np.float64) if bias else None
    y = transposed.conv_transpose(x, w, b, p)
    t = matrix.conv_transpose_matrix(x_shape[1:], w, p)
    assert t.shape == (math.prod(y.shape[1:]), math.prod(x_shape[1:]))
    beta = matrix.bias_vector(b, y.shape[1:])
    for n in range(x_shape[0]):
        np.testing.assert_array_equal(t @ vec(x[n]) + beta, vec(y[n]))
    # Without output_padding past the stride, it is the full transpose of the forward matrix.
    pads, extra = transposed.validate(x, w, b, p)
    if all(op < s for op, s in zip(extra, p.stride, strict=True)):
        forward = Conv(stride=p.stride, dilation=p.dilation, padding=pads, groups=p.groups)
        np.testing.assert_array_equal(t, matrix.conv_matrix(y.shape[1:], w, forward).T)


@pytest.mark.clauses("MAT.2")
def test_bias_vector() -> None:
    np.testing.assert_array_equal(
        matrix.bias_vector(np.array([1.0, 2.0]), (2, 1, 3)), [1, 1, 1, 2, 2, 2]
    )
    np.testing.assert_array_equal(matrix.bias_vector(None, (2, 2)), [0, 0, 0, 0])


# --- validation ----------------------------------------------------------------


@pytest.mark.clauses("MAT.1")
def test_sample_shape_must_match_rank() -> None:
    with pytest.raises(ValueError, match=re.escape("[MAT.1]")) as caught:
        matrix.conv_matrix((1, 1, 4, 4), W3, VALID_2D)  # a batched shape, not a sample
    assert isinstance(caught.value, SpecError)
    with pytest.raises(ValueError, match=re.escape("[MAT.1]")):
        matrix.conv_transpose_matrix((2, 2), W3, ConvTranspose((1, 1), (1, 1), "valid", (0, 0)))


@pytest.mark.clauses("MAT.2", "CONV.6", "TCONV.5")
def test_invalid_configurations_cite_their_operation() -> None:
    with pytest.raises(ValueError, match=re.escape("[CONV.6]")):
        matrix.conv_matrix(
            (3, 4, 4), np.ones((2, 1, 3, 3)), Conv((1, 1), (1, 1), "valid", groups=2)
        )
    bad = ConvTranspose((1, 1), (1, 1), ((0, 0), (0, 0)), (1, 0))
    with pytest.raises(ValueError, match=re.escape("[TCONV.5]")):
        matrix.conv_transpose_matrix((1, 2, 2), W3, bad)


@pytest.mark.clauses("MAT.2", "CONV.3")
def test_matrix_depends_on_the_input_size() -> None:
    """The same weight gives matrices of different shapes for different n (MAT.2)."""
    for n in (3, 4, 5):
        c = matrix.conv_matrix((1, n, n), W3, VALID_2D)
        out = conv_output_shape((1, 1, n, n), W3.shape, VALID_2D)
        assert c.shape == (math.prod(out[1:]), n * n)
