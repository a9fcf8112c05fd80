"""Self-tests of the NUM.3 error bound."""

import math

import numpy as np

from reference.numerics import SMALLEST_SUBNORMAL, error_bound, gamma


def test_bound_is_finite_and_tight_where_magnitude_is_zero() -> None:
    # 300 terms in bfloat16: n*u >= 1, so gamma is infinite (NUM.7); an all-zero sum must
    # still be held to n * eta, or a backend could return anything there unnoticed.
    assert math.isinf(gamma(301, 2.0**-8))
    bound = error_bound(np.array([0.0, 1.0]), 300, "bfloat16")
    assert bound[0] == 300 * SMALLEST_SUBNORMAL["bfloat16"], f"NUM.3: bound {bound[0]} at M = 0"
    assert math.isinf(bound[1]), f"NUM.3: bound {bound[1]} at M = 1 with infinite gamma"


def test_bound_scales_the_magnitude() -> None:
    u = 2.0**-24
    bound = error_bound(np.array([2.0]), 10, "float32")
    expected = (gamma(11, u) + gamma(10, 2.0**-53)) * 2.0 + 10 * SMALLEST_SUBNORMAL["float32"]
    assert bound[0] == expected, f"NUM.3: bound {bound[0]}, expected {expected}"
