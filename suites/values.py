"""Operand values: Hypothesis draws a value scheme and a seed, NumPy draws the elements.

Drawing every element through Hypothesis cost most of a test's time and capped the sizes
it could afford; a seeded generator makes a 64-channel plane as cheap as a 3-element one.
Shrinking still works on what a reader needs: the scheme shrinks towards the first of
SCHEMES and the seed towards 0, and a failure's repro script carries the exact arrays.

Every scheme stays inside NUM.4's value set (normal numbers or zero in [-2, 2], exactly
representable in the tested format) or, in exact mode, inside NUM.5's integers of
magnitude at most the exact range. Non-finite values are not generated: the spec does not
define them (NUM.4).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from hypothesis import strategies as st

from reference.numerics import PRECISION, numpy_dtype

# Simplest first: shrinking moves towards the start.
SCHEMES = ("constant", "one_hot", "sparse", "uniform", "normal", "wide")

# Smallest magnitude generated per format: normal numbers only (NUM.4), since frameworks
# may flush subnormals to zero.
TINY = {"float64": 2.0**-60, "float32": 2.0**-30, "float16": 2.0**-14, "bfloat16": 2.0**-30}
# The binades the 'wide' scheme spans below 2, per format: from just above TINY up.
WIDE_BINADES = {"float64": 40, "float32": 24, "float16": 12, "bfloat16": 24}
SPARSE_DENSITY = 0.1
SEED_MAX = 2**32 - 1

# A composite strategy's `draw`, or `st.DataObject.draw`.
Draw = Callable[..., Any]


def generate(
    rng: np.random.Generator,
    scheme: str,
    shape: tuple[int, ...],
    dtype: str,
    exact_range: int,
    grid: bool = False,
) -> np.ndarray:
    """An array of `shape` in `dtype` with values of `scheme`: integers in
    [-exact_range, exact_range] in exact mode (exact_range >= 1), else floats in [-2, 2],
    rounded to multiples of grid_step(dtype) with `grid`."""
    if scheme not in SCHEMES:
        raise ValueError(f"unknown value scheme {scheme!r}; expected one of {SCHEMES}")
    size = int(np.prod(shape, dtype=np.int64))
    if scheme == "uniform":
        flat = _uniform(rng, size, exact_range)
    elif scheme == "normal":
        flat = _normal(rng, size, exact_range)
    elif scheme == "wide":
        flat = _wide(rng, size, dtype, exact_range)
    elif scheme == "constant":
        flat = np.full(size, _nonzero(rng, exact_range))
    else:
        flat = np.zeros(size)
        if scheme == "one_hot":
            if size:
                flat[rng.integers(size)] = _nonzero(rng, exact_range)
        else:  # sparse
            where = rng.random(size) < SPARSE_DENSITY
            flat[where] = _uniform(rng, int(where.sum()), exact_range)
    if not exact_range:  # integers are never subnormal
        if grid:
            flat = np.rint(flat / grid_step(dtype)) * grid_step(dtype)
        flat[np.abs(flat) < TINY[dtype]] = 0.0
    return flat.reshape(shape).astype(numpy_dtype(dtype), copy=False)


def grid_step(dtype: str) -> float:
    """REL.3's grid: 2^-(p-4). A sum a*x_1 + x_2 of multiples of it in [-2, 2], with
    |a| <= 4 a power of two, has a numerator below 2^p and so is representable again."""
    return 2.0 ** -(PRECISION[dtype] - 4)


def _uniform(rng: np.random.Generator, size: int, exact_range: int) -> np.ndarray:
    if exact_range:
        return rng.integers(-exact_range, exact_range + 1, size=size).astype(np.float64)
    return rng.uniform(-2.0, 2.0, size=size)


def _normal(rng: np.random.Generator, size: int, exact_range: int) -> np.ndarray:
    if exact_range:
        drawn = np.rint(rng.normal(0.0, max(exact_range / 2, 0.5), size=size))
        return np.clip(drawn, -exact_range, exact_range)
    return np.clip(rng.normal(0.0, 1.0, size=size), -2.0, 2.0)


def _wide(rng: np.random.Generator, size: int, dtype: str, exact_range: int) -> np.ndarray:
    """Magnitudes spread evenly over binades: cancellation and absorption in the sums."""
    signs = rng.choice((-1.0, 1.0), size=size)
    if exact_range:
        top = int(np.floor(np.log2(exact_range)))
        return signs * 2.0 ** rng.integers(0, top + 1, size=size)
    return signs * 2.0 ** rng.uniform(-WIDE_BINADES[dtype], 1.0, size=size)


def _nonzero(rng: np.random.Generator, exact_range: int) -> float:
    sign = float(rng.choice((-1.0, 1.0)))
    if exact_range:
        return sign * float(rng.integers(1, exact_range + 1))
    return sign * float(rng.uniform(0.25, 2.0))


def draw_array(
    draw: Draw, name: str, shape: tuple[int, ...], dtype: str, exact_range: int
) -> np.ndarray:
    """The operand `name`, drawn with `draw` (a composite's draw or `data.draw`): its scheme
    and seed are the draws a failure prints."""
    scheme = draw(st.sampled_from(SCHEMES), label=f"{name} values")
    seed = draw(st.integers(0, SEED_MAX), label=f"{name} seed")
    return generate(np.random.default_rng(seed), scheme, shape, dtype, exact_range)


# Deformable offsets (NUM.4): multiples of 1/OFFSET_GRID in [-OFFSET_REACH, OFFSET_REACH],
# so that sampling points fall inside, between and outside the input and every bilinear
# weight is dyadic.
OFFSET_GRID = 8
OFFSET_REACH = 3
# Simplest first: no displacement (the plain convolution), whole pixels, then fractions.
OFFSET_SCHEMES = ("zero", "whole", "grid")


def generate_offsets(rng: np.random.Generator, scheme: str, shape: tuple[int, ...]) -> np.ndarray:
    """Float64 offsets of `shape` with `scheme`'s values (one of OFFSET_SCHEMES)."""
    if scheme == "zero":
        return np.zeros(shape)
    if scheme == "whole":
        return rng.integers(-OFFSET_REACH, OFFSET_REACH + 1, size=shape).astype(np.float64)
    if scheme == "grid":
        reach = OFFSET_REACH * OFFSET_GRID
        return rng.integers(-reach, reach + 1, size=shape) / OFFSET_GRID
    raise ValueError(f"unknown offset scheme {scheme!r}; expected one of {OFFSET_SCHEMES}")


def draw_offsets(draw: Draw, name: str, shape: tuple[int, ...]) -> np.ndarray:
    scheme = draw(st.sampled_from(OFFSET_SCHEMES), label=f"{name} values")
    seed = draw(st.integers(0, SEED_MAX), label=f"{name} seed")
    return generate_offsets(np.random.default_rng(seed), scheme, shape)
