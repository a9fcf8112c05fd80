"""Self-tests of the oracle's fast forms: equal to the definitions they stand in for."""

from __future__ import annotations

import numpy as np
import pytest

from reference import grouped, separable
from reference.params import Conv
from suites import oracle

# (x shape, depthwise weight shape, pointwise output channels, parameters)
CASES = [
    ((2, 3, 9), (6, 1, 3), 4, Conv(stride=(2,), dilation=(2,), padding=((1, 2),), groups=3)),
    (
        (1, 4, 7, 6),
        (4, 1, 3, 2),
        5,
        Conv(stride=(1, 2), dilation=(1, 2), padding=((1, 1), (0, 1)), groups=4),
    ),
]


@pytest.mark.parametrize(("x_shape", "wd_shape", "c_out", "p"), CASES)
def test_depthwise_and_separable_fast_forms_equal_the_definitions(
    monkeypatch: pytest.MonkeyPatch,
    x_shape: tuple[int, ...],
    wd_shape: tuple[int, ...],
    c_out: int,
    p: Conv,
) -> None:
    rng = np.random.default_rng(0)
    x = rng.integers(-3, 4, x_shape).astype(np.float64)
    wd = rng.integers(-3, 4, wd_shape).astype(np.float64)
    wp = rng.integers(-3, 4, (c_out, wd_shape[0])).astype(np.float64)
    b = rng.integers(-3, 4, c_out).astype(np.float64)
    depthwise = grouped.depthwise_conv(x, wd, None, p)
    composed = separable.depthwise_separable(x, wd, wp, None, b, p)
    magnitude = separable.depthwise_separable(np.abs(x), np.abs(wd), np.abs(wp), None, np.abs(b), p)
    monkeypatch.setattr(oracle, "LOOP_LIMIT", 1)  # every loop "too long": the fast forms
    fast_depthwise = oracle.expect("depthwise_conv", {"x": x, "w": wd, "b": None}, p)
    fast = oracle.expect("separable_conv", {"x": x, "w_depth": wd, "w_point": wp, "b": b}, p)
    # Small integers: every order of summation is exact, so the forms agree exactly.
    np.testing.assert_array_equal(fast_depthwise.values, depthwise)
    np.testing.assert_array_equal(fast.values, composed)
    np.testing.assert_array_equal(fast.magnitude, magnitude)
