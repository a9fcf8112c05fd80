"""Self-tests of reference/dilated.py and sizes.receptive_field (spec chapter DIL)."""

from __future__ import annotations

import itertools
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from reference.checks import SpecError
from reference.conv import conv
from reference.dilated import (
    contiguity_condition,
    dilate_kernel,
    footprint,
    is_contiguous,
    layer_steps,
)
from reference.params import Conv
from reference.sizes import conv_output_size, effective_kernel, receptive_field
from reference.test_conv import draw_case, integer_arrays


@pytest.mark.clauses("DIL.1")
@pytest.mark.parametrize(
    ("k", "d", "k_eff"), [(3, 1, 3), (3, 2, 5), (2, 3, 4), (1, 5, 1), (10, 2, 19)]
)
def test_effective_kernel(k: int, d: int, k_eff: int) -> None:
    assert effective_kernel(k, d) == k_eff


@pytest.mark.clauses("DIL.3")
def test_dilate_kernel_by_hand() -> None:
    w = np.array([1.0, 2.0, 3.0]).reshape(1, 1, 3)
    np.testing.assert_array_equal(dilate_kernel(w, (2,))[0, 0], [1, 0, 2, 0, 3])
    w2 = np.array([[1.0, 2.0], [3.0, 4.0]]).reshape(1, 1, 2, 2)
    np.testing.assert_array_equal(
        dilate_kernel(w2, (2, 3))[0, 0], [[1, 0, 0, 2], [0, 0, 0, 0], [3, 0, 0, 4]]
    )


@pytest.mark.clauses("DIL.3", "DIL.1", "PAD.6")
@given(data=st.data())
def test_dilated_conv_is_conv_with_zero_inserted_kernel(data: st.DataObject) -> None:
    case = draw_case(data)
    x, w, b = integer_arrays(data, case)
    undilated = replace(case.p, dilation=(1,) * case.p.rank)
    np.testing.assert_array_equal(
        conv(x, w, b, case.p), conv(x, dilate_kernel(w, case.p.dilation), b, undilated)
    )


@pytest.mark.clauses("DIL.3")
def test_zero_inserted_kernel_differs_on_a_skipped_infinity() -> None:
    x = np.array([1.0, np.inf, 2.0]).reshape(1, 1, 3)
    w = np.array([1.0, 1.0]).reshape(1, 1, 2)
    dilated = conv(x, w, None, Conv((1,), (2,), "valid"))
    zero_inserted = conv(x, dilate_kernel(w, (2,)), None, Conv((1,), (1,), "valid"))
    assert dilated[0, 0, 0] == 3.0
    assert np.isnan(zero_inserted[0, 0, 0])


# --- receptive field and footprint (DIL.2, DIL.4-DIL.7) -------------------------------


@pytest.mark.clauses("DIL.2")
@pytest.mark.parametrize(
    ("kernels", "strides", "dilations", "field"),
    [
        ((3, 3, 3), (1, 1, 1), (1, 1, 1), 7),
        ((3, 3, 3), (1, 1, 1), (1, 2, 4), 15),
        ((3, 3, 3), (1, 1, 1), (2, 2, 2), 13),
        ((3, 3), (2, 2), (1, 1), 7),
        ((3, 3, 3), (1, 1, 1), (1, 2, 5), 17),
        ((10,), (1,), (2,), 19),
    ],
)
def test_receptive_field_by_hand(kernels, strides, dilations, field) -> None:
    assert receptive_field(kernels, strides, dilations) == field
    assert max(footprint(kernels, dilations, strides)) + 1 == field


@pytest.mark.clauses("DIL.7", "DIL.4", "DIL.5")
@pytest.mark.parametrize(
    ("dilations", "offsets"),
    [
        ((2, 2, 2), set(range(0, 13, 2))),
        ((1, 2, 3), set(range(13))),
        ((1, 5), {0, 1, 2, 5, 6, 7, 10, 11, 12}),
        ((1, 2, 5), set(range(17))),
        ((1, 2, 9), set(range(25)) - {7, 8, 16, 17}),
    ],
)
def test_gridding_examples(dilations: tuple[int, ...], offsets: set[int]) -> None:
    kernels = (3,) * len(dilations)
    found = footprint(kernels, dilations)
    assert found == offsets
    contiguous = offsets == set(range(max(offsets) + 1))
    assert is_contiguous(found) == contiguous
    assert contiguity_condition(kernels, dilations) == contiguous


@pytest.mark.clauses("DIL.6")
def test_stride_spreads_later_taps() -> None:
    assert layer_steps((3, 3), (1, 1), (2, 1)) == [1, 2]
    assert footprint((3, 3), (1, 1), (2, 1)) == frozenset(range(7))
    assert footprint((3, 3), (1, 1), (2, 1)) == footprint((3, 3), (1, 2), (1, 1))


@st.composite
def _stacks(
    draw: st.DrawFn, layers: int = 4, k: int = 4, d: int = 6, s: int = 3
) -> tuple[list[int], list[int], list[int]]:
    count = draw(st.integers(1, layers), label="layers")
    kernels = [draw(st.integers(1, k), label="k") for _ in range(count)]
    dilations = [draw(st.integers(1, d), label="dilation") for _ in range(count)]
    strides = [draw(st.integers(1, s), label="stride") for _ in range(count)]
    return kernels, dilations, strides


@pytest.mark.clauses("DIL.5", "DIL.2", "DIL.4")
@given(stack=_stacks())
def test_contiguity_condition_is_exact(stack: tuple[list[int], list[int], list[int]]) -> None:
    kernels, dilations, strides = stack
    found = footprint(kernels, dilations, strides)
    assert contiguity_condition(kernels, dilations, strides) == is_contiguous(found)
    assert max(found) + 1 == receptive_field(kernels, strides, dilations)


def _valid_chain_sources(
    j: int, layers: list[tuple[int, int, int, int]], sizes: list[int]
) -> tuple[set[int], set[int]]:
    """Input positions reached from output j by chains of taps: (all chains, in-range chains).

    sizes[l] is the length of layer l's input (sizes[0] = n). A chain is in
    range when every position it visits exists (reads no padding).
    """
    every: set[int] = set()
    in_range: set[int] = set()
    for taps in itertools.product(*(range(k) for k, _, _, _ in layers)):
        u, ok = j, True
        for (_, s, d, begin), t, size in zip(
            reversed(layers), reversed(taps), reversed(sizes), strict=True
        ):
            u = u * s + t * d - begin
            ok = ok and 0 <= u < size
        every.add(u)
        if ok:
            in_range.add(u)
    return every, in_range


@pytest.mark.clauses("DIL.4", "DIL.6", "DIL.2")
@given(data=st.data())
def test_footprint_is_what_a_stack_of_convolutions_reads(data: st.DataObject) -> None:
    kernels, dilations, strides = data.draw(_stacks(layers=3, k=3, d=3, s=2), label="stack")
    begins = [data.draw(st.integers(0, 2), label="pad_begin") for _ in kernels]
    ends = [data.draw(st.integers(0, 2), label="pad_end") for _ in kernels]
    n = receptive_field(kernels, strides, dilations) + data.draw(st.integers(0, 4), label="extra")
    # One-hot inputs (one per batch entry), all-ones kernels: output j of input i counts
    # the chains from i to j, so it is nonzero exactly when i is reached.
    y = np.eye(n).reshape(n, 1, n)
    sizes = [n]
    for k, s, d, begin, end in zip(kernels, strides, dilations, begins, ends, strict=True):
        y = conv(y, np.ones((1, 1, k)), None, Conv((s,), (d,), ((begin, end),)))
        sizes.append(conv_output_size(sizes[-1], k, s, d, begin, end))
    layers = list(zip(kernels, strides, dilations, begins, strict=True))
    jump = int(np.prod(strides))
    shift = sum(b * int(np.prod(strides[:l])) for l, b in enumerate(begins))
    offsets = footprint(kernels, dilations, strides)
    for j in range(y.shape[2]):
        reached = set(np.flatnonzero(y[:, 0, j]).tolist())
        every, in_range = _valid_chain_sources(j, layers, sizes[:-1])
        assert reached == in_range
        assert every == {j * jump - shift + f for f in offsets}


@pytest.mark.clauses("DIL.4", "CONV.1", "CONV.4", "CONV.5")
@pytest.mark.parametrize(
    ("call", "clause"),
    [
        (lambda: footprint((3, 3), (1,)), "DIL.4"),
        (lambda: footprint((3,), (0,)), "CONV.5"),
        (lambda: footprint((3,), (1,), (0,)), "CONV.4"),
        (lambda: footprint((0,), (1,)), "CONV.1"),
        (lambda: dilate_kernel(np.ones((1, 1, 3)), (0,)), "CONV.5"),
        (lambda: dilate_kernel(np.ones((1, 1, 3)), (1, 1)), "CONV.1"),
    ],
)
def test_invalid_stacks_raise(call, clause) -> None:
    with pytest.raises(SpecError) as raised:
        call()
    assert raised.value.clause == clause
