"""Self-tests of reference/padding.py and the padding formulas of reference/sizes.py.

Spec chapter PAD.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from reference.checks import SpecError
from reference.conv import conv, conv_fast, pad_input
from reference.padding import check_mode_limits, source_index
from reference.params import Conv, PaddingMode, SameSplit
from reference.sizes import conv_output_size, resolve_padding, same_padding
from reference.test_conv import draw_case, integer_arrays

X3 = np.array([[[1.0, 2.0, 3.0]]])


# --- index maps (PAD.8-PAD.11, worked example PAD.13) --------------------------


@pytest.mark.clauses("PAD.13", "PAD.8", "PAD.9", "PAD.10", "PAD.11")
@pytest.mark.parametrize(
    ("mode", "sources"),
    [
        ("zeros", [None, None, 0, 1, 2, None, None]),
        ("reflect", [2, 1, 0, 1, 2, 1, 0]),
        ("replicate", [0, 0, 0, 1, 2, 2, 2]),
        ("circular", [1, 2, 0, 1, 2, 0, 1]),
    ],
)
def test_index_maps_of_the_worked_example(mode: PaddingMode, sources: list[int | None]) -> None:
    assert [source_index(i, 3, mode) for i in range(-2, 5)] == sources


@pytest.mark.clauses("PAD.13", "PAD.2", "PAD.9", "PAD.10", "PAD.11")
@pytest.mark.parametrize(
    ("mode", "pads", "padded"),
    [
        ("zeros", (2, 2), [0, 0, 1, 2, 3, 0, 0]),
        ("reflect", (2, 2), [3, 2, 1, 2, 3, 2, 1]),
        ("replicate", (2, 2), [1, 1, 1, 2, 3, 3, 3]),
        ("circular", (2, 2), [2, 3, 1, 2, 3, 1, 2]),
        ("circular", (3, 3), [1, 2, 3, 1, 2, 3, 1, 2, 3]),
        ("zeros", (-1, 0), [2, 3]),
        ("zeros", (-1, 2), [2, 3, 0, 0]),
    ],
)
def test_padded_values_of_the_worked_example(
    mode: PaddingMode, pads: tuple[int, int], padded: list[int]
) -> None:
    np.testing.assert_array_equal(pad_input(X3, (pads,), mode)[0, 0], padded)


@pytest.mark.clauses("PAD.2", "PAD.9")
def test_reflect_corner_reads_the_pair_of_axis_sources() -> None:
    x = np.array([[[[1.0, 2.0], [3.0, 4.0]]]])
    padded = pad_input(x, ((1, 1), (1, 1)), "reflect")[0, 0]
    np.testing.assert_array_equal(padded, [[4, 3, 4, 3], [2, 1, 2, 1], [4, 3, 4, 3], [2, 1, 2, 1]])


def _independent_source(i: int, n: int, mode: str) -> int | None:
    """The modes restated as periodic extensions (PAD.9-PAD.11), independent of source_index."""
    if 0 <= i < n:
        return i
    if mode == "zeros":
        return None
    if mode == "replicate":
        return min(max(i, 0), n - 1)
    if mode == "circular":
        return i % n
    # reflect: the sequence x[0], ..., x[n-1], x[n-2], ..., x[1] repeated with period 2(n-1).
    period = 2 * (n - 1)
    r = i % period
    return r if r < n else period - r


@st.composite
def _axis_with_pads(draw: st.DrawFn) -> tuple[PaddingMode, int, int, int]:
    modes: list[PaddingMode] = ["zeros", "reflect", "replicate", "circular"]
    mode = draw(st.sampled_from(modes), label="mode")
    n = draw(st.integers(2 if mode == "reflect" else 1, 8), label="n")
    top = {"zeros": 4, "replicate": 4, "reflect": n - 1, "circular": n}[mode]
    return (
        mode,
        n,
        draw(st.integers(0, top), label="pad_begin"),
        draw(st.integers(0, top), label="pad_end"),
    )


@pytest.mark.clauses("PAD.2", "PAD.8", "PAD.9", "PAD.10", "PAD.11")
@given(axis=_axis_with_pads())
def test_source_index_and_pad_input_agree_with_the_definitions(
    axis: tuple[PaddingMode, int, int, int],
) -> None:
    mode, n, begin, end = axis
    x = np.arange(1.0, n + 1.0).reshape(1, 1, n)
    expected = []
    for i in range(-begin, n + end):
        src = _independent_source(i, n, mode)
        assert source_index(i, n, mode) == src
        expected.append(0.0 if src is None else x[0, 0, src])
    np.testing.assert_array_equal(pad_input(x, ((begin, end),), mode)[0, 0], expected)


@pytest.mark.clauses("PAD.1")
@given(data=st.data())
def test_padding_leaves_the_input_unchanged(data: st.DataObject) -> None:
    case = draw_case(data, min_batch=1)
    x, w, b = integer_arrays(data, case)
    before = x.copy()
    conv(x, w, b, case.p)
    conv_fast(x, w, b, case.p)
    np.testing.assert_array_equal(x, before)


# --- limits (PAD.3, PAD.9, PAD.11) ---------------------------------------------


@pytest.mark.clauses("PAD.9", "PAD.10", "PAD.11", "PAD.3")
@pytest.mark.parametrize(
    ("mode", "pads", "n", "clause"),
    [
        ("reflect", (2, 2), 3, None),
        ("reflect", (3, 0), 3, "PAD.9"),
        ("reflect", (0, 3), 3, "PAD.9"),
        ("reflect", (1, 0), 1, "PAD.9"),
        ("reflect", (0, 0), 1, None),
        ("circular", (3, 3), 3, None),
        ("circular", (4, 0), 3, "PAD.11"),
        ("circular", (0, 4), 3, "PAD.11"),
        ("replicate", (9, 9), 1, None),
        ("zeros", (-5, 9), 1, None),
        ("reflect", (-1, 0), 3, "PAD.3"),
        ("replicate", (0, -1), 3, "PAD.3"),
        ("circular", (-1, 0), 3, "PAD.3"),
    ],
)
def test_mode_limits(mode: PaddingMode, pads: tuple[int, int], n: int, clause: str | None) -> None:
    if clause is None:
        check_mode_limits((pads,), (n,), mode)
        return
    with pytest.raises(SpecError) as raised:
        check_mode_limits((pads,), (n,), mode)
    assert raised.value.clause == clause


# --- forms: 'valid', 'same', negative, causal ------------------------------------


@pytest.mark.clauses("PAD.6")
@pytest.mark.parametrize(
    ("n", "k", "s", "d", "end_split", "begin_split"),
    [
        (4, 2, 1, 1, (0, 1), (1, 0)),
        (5, 3, 2, 1, (1, 1), (1, 1)),
        (6, 3, 2, 1, (0, 1), (1, 0)),
        (5, 3, 1, 2, (2, 2), (2, 2)),
        (7, 1, 3, 1, (0, 0), (0, 0)),
        (2, 5, 1, 1, (2, 2), (2, 2)),
        (10, 4, 4, 1, (1, 1), (1, 1)),
    ],
)
def test_same_padding_by_hand(
    n: int, k: int, s: int, d: int, end_split: tuple[int, int], begin_split: tuple[int, int]
) -> None:
    assert same_padding(n, k, s, d, "end") == end_split
    assert same_padding(n, k, s, d, "begin") == begin_split


@pytest.mark.clauses("PAD.6", "PAD.7")
@given(
    n=st.integers(1, 40),
    k=st.integers(1, 9),
    s=st.integers(1, 6),
    d=st.integers(1, 4),
    split=st.sampled_from(["end", "begin"]),
)
def test_same_padding_total_split_and_output_size(
    n: int, k: int, s: int, d: int, split: SameSplit
) -> None:
    begin, end = same_padding(n, k, s, d, split)
    k_eff = d * (k - 1) + 1
    # TensorFlow's documented total, transcribed: it must equal PAD.6's.
    tf_total = max(k_eff - s, 0) if n % s == 0 else max(k_eff - n % s, 0)
    assert begin + end == tf_total
    assert abs(begin - end) <= 1
    assert (end >= begin) if split == "end" else (begin >= end)
    assert conv_output_size(n, k, s, d, begin, end) == -(-n // s)  # PAD.7: ceil(n / s)


@pytest.mark.clauses("PAD.6")
@given(n=st.integers(1, 40), k=st.integers(1, 9), d=st.integers(1, 4))
def test_same_at_stride_one_is_pytorchs_split(n: int, k: int, d: int) -> None:
    # PyTorch's Conv*d(padding='same'): total d*(k-1), left total // 2, the rest on the right.
    total = d * (k - 1)
    assert same_padding(n, k, 1, d, "end") == (total // 2, total - total // 2)


@pytest.mark.clauses("PAD.5", "PAD.6", "PAD.4")
@given(data=st.data())
def test_string_forms_equal_their_explicit_pads(data: st.DataObject) -> None:
    case = draw_case(data, forms=("valid", "same", "same_begin"), min_batch=1)
    x, w, b = integer_arrays(data, case)
    pads = resolve_padding(case.p, case.x_shape[2:], case.w_shape[2:])
    if case.p.padding == "valid":
        assert pads == tuple((0, 0) for _ in pads)
    explicit = replace(case.p, padding=pads)
    np.testing.assert_array_equal(conv(x, w, b, case.p), conv(x, w, b, explicit))


@pytest.mark.clauses("PAD.3")
@given(data=st.data())
def test_negative_padding_crops(data: st.DataObject) -> None:
    n = data.draw(st.integers(2, 9), label="n")
    crop_begin = data.draw(st.integers(0, min(2, n - 1)), label="crop_begin")
    crop_end = data.draw(st.integers(0, min(2, n - crop_begin - 1)), label="crop_end")
    k = data.draw(st.integers(1, n - crop_begin - crop_end), label="k")
    extra = data.draw(st.integers(0, 2), label="positive_pad")
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1), label="seed"))
    x = rng.integers(-3, 4, (1, 2, n)).astype(np.float64)
    w = rng.integers(-3, 4, (2, 2, k)).astype(np.float64)

    def run(inp: np.ndarray, pads: tuple[int, int]) -> np.ndarray:
        return conv(inp, w, None, Conv((1,), (1,), (pads,)))

    np.testing.assert_array_equal(
        run(x, (-crop_begin, -crop_end)), run(x[:, :, crop_begin : n - crop_end], (0, 0))
    )
    np.testing.assert_array_equal(
        run(x, (-crop_begin, extra)), run(x[:, :, crop_begin:], (0, extra))
    )
    np.testing.assert_array_equal(
        run(x, (extra, -crop_end)), run(x[:, :, : n - crop_end], (extra, 0))
    )


@pytest.mark.clauses("PAD.12")
@given(data=st.data())
def test_causal_padding(data: st.DataObject) -> None:
    n = data.draw(st.integers(1, 9), label="n")
    k = data.draw(st.integers(1, 4), label="k")
    s = data.draw(st.integers(1, 3), label="stride")
    d = data.draw(st.integers(1, 3), label="dilation")
    p = Conv((s,), (d,), ((d * (k - 1), 0),))
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1), label="seed"))
    x = rng.integers(-3, 4, (1, 1, n)).astype(np.float64)
    w = rng.integers(1, 4, (1, 1, k)).astype(np.float64)
    y = conv(x, w, None, p)
    assert y.shape[2] == -(-n // s)
    for j in range(y.shape[2]):
        future = x.copy()
        future[:, :, j * s + 1 :] += 5  # inputs after j*s must not reach output j
        assert conv(future, w, None, p)[0, 0, j] == y[0, 0, j]
