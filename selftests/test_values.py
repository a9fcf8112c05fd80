"""Self-tests of the operand values (suites/values.py): inside NUM.4 and NUM.5's value sets."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from reference.numerics import numpy_dtype
from suites import values

DTYPES = ("float64", "float32", "float16", "bfloat16")
SHAPES = st.lists(st.integers(0, 5), min_size=1, max_size=4).map(tuple)


@given(
    scheme=st.sampled_from(values.SCHEMES),
    dtype=st.sampled_from(DTYPES),
    shape=SHAPES,
    exact_range=st.sampled_from((0, 1, 2, 5, 8)),
    seed=st.integers(0, values.SEED_MAX),
)
def test_every_scheme_stays_in_the_spec_value_set(scheme, dtype, shape, exact_range, seed) -> None:
    a = values.generate(np.random.default_rng(seed), scheme, shape, dtype, exact_range)
    assert a.shape == shape and a.dtype == numpy_dtype(dtype), (a.shape, a.dtype)
    f = a.astype(np.float64)
    nonzero = f[f != 0]
    assert np.all(np.isfinite(f)), f"{scheme}: non-finite values (NUM.4)"
    assert np.all(np.abs(nonzero) >= values.TINY[dtype]), f"{scheme}: subnormals (NUM.4)"
    if exact_range:
        assert np.all(f == np.rint(f)), f"{scheme}: non-integers in exact mode (NUM.5)"
        assert np.all(np.abs(f) <= exact_range), f"{scheme}: beyond the exact range {exact_range}"
    else:
        assert np.all(np.abs(f) <= 2.0), f"{scheme}: beyond [-2, 2] (NUM.4)"


@given(seed=st.integers(0, values.SEED_MAX), dtype=st.sampled_from(DTYPES))
def test_the_structured_schemes_have_their_structure(seed, dtype) -> None:
    def make(scheme: str) -> np.ndarray:
        rng = np.random.default_rng(seed)
        return values.generate(rng, scheme, (3, 4, 5), dtype, 0).astype(np.float64)

    constant, one_hot = make("constant"), make("one_hot")
    assert np.all(constant == constant.flat[0]) and constant.flat[0] != 0, constant
    assert np.count_nonzero(one_hot) == 1, one_hot


def test_a_seed_gives_the_same_values_every_time() -> None:
    for scheme in values.SCHEMES:
        a, b = (
            values.generate(np.random.default_rng(7), scheme, (4, 9), "float32", 0)
            for _ in range(2)
        )
        assert np.array_equal(a, b), scheme


def test_an_unknown_scheme_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="unknown value scheme 'gaussian'"):
        values.generate(np.random.default_rng(0), "gaussian", (2,), "float32", 0)


@given(scheme=st.sampled_from(values.OFFSET_SCHEMES), seed=st.integers(0, values.SEED_MAX))
def test_offsets_stay_on_the_dyadic_grid(scheme, seed) -> None:
    off = values.generate_offsets(np.random.default_rng(seed), scheme, (2, 18, 3, 3))
    grid = off * values.OFFSET_GRID
    assert np.all(grid == np.rint(grid)), "offsets off the 1/8 grid (NUM.4)"
    assert np.all(np.abs(off) <= values.OFFSET_REACH), off
