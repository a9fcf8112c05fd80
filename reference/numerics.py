"""How backend results are compared with the reference (spec chapter NUM).

NUM.3: for an output that is a sum of n exact-input products, any evaluation
order in a floating-point format with unit roundoff u satisfies

    |y_backend - y| <= gamma(n + 1, u) * M + gamma(n, u_64) * M + n * eta

with gamma(m, u) = m*u / (1 - m*u) (Higham, Accuracy and Stability of
Numerical Algorithms, 2nd ed., 2002, section 3.1: Lemma 3.1 and the
inner-product bound that follows from it), M the magnitude
term of NUM.2 (the same operation applied to |x|, |w|, |b|), the extra +1 for
rounding the result to the output format, the second term for the float64
reference's own rounding, and eta the smallest positive subnormal of the
format (underflow, Higham section 2.1).
"""

from __future__ import annotations

import math

import ml_dtypes
import numpy as np

# NUM.1: unit roundoff u = 2^-p of each tested format, p = significand bits.
UNIT_ROUNDOFF = {
    "float64": 2.0**-53,
    "float32": 2.0**-24,
    "float16": 2.0**-11,
    "bfloat16": 2.0**-8,
}
# Significand precision p, used by exact mode (NUM.5).
PRECISION = {"float64": 53, "float32": 24, "float16": 11, "bfloat16": 8}
SMALLEST_SUBNORMAL = {
    "float64": float(np.finfo(np.float64).smallest_subnormal),
    "float32": float(np.finfo(np.float32).smallest_subnormal),
    "float16": float(np.finfo(np.float16).smallest_subnormal),
    "bfloat16": float(ml_dtypes.finfo(ml_dtypes.bfloat16).smallest_subnormal),
}
LARGEST = {
    "float64": float(np.finfo(np.float64).max),
    "float32": float(np.finfo(np.float32).max),
    "float16": float(np.finfo(np.float16).max),
    "bfloat16": float(ml_dtypes.finfo(ml_dtypes.bfloat16).max),
}


def numpy_dtype(name: str) -> np.dtype:
    """The NumPy dtype of a tested format; bfloat16 comes from ml_dtypes."""
    if name == "bfloat16":
        return np.dtype(ml_dtypes.bfloat16)
    return np.dtype(name)


def gamma(n: int, u: float) -> float:
    """gamma_n = n*u / (1 - n*u); infinite once n*u >= 1 (no bound then)."""
    nu = n * u
    return math.inf if nu >= 1 else nu / (1 - nu)


def error_bound(magnitude: np.ndarray, terms: int, dtype: str) -> np.ndarray:
    """NUM.3: the largest error allowed per output element.

    `magnitude` is M of NUM.2, in float64; `terms` the accumulation length n
    of NUM.2 for the operation (products per output element, bias included).
    """
    u = UNIT_ROUNDOFF[dtype]
    scale = gamma(terms + 1, u) + gamma(terms, UNIT_ROUNDOFF["float64"])
    m = np.asarray(magnitude, dtype=np.float64)
    # M = 0 means every term is zero, so the sum is exact even where gamma is infinite;
    # inf * 0 would give NaN, and no error exceeds a NaN bound.
    with np.errstate(invalid="ignore"):
        rounding = np.where(m == 0, 0.0, scale * m)
    return rounding + terms * SMALLEST_SUBNORMAL[dtype]


def exact_limit(dtype: str) -> int:
    """NUM.5: integers of magnitude up to 2^p are exact in a format of precision p."""
    return 2 ** PRECISION[dtype]


def exact_value_range(terms: int, dtype: str, factors: int = 2) -> int:
    """NUM.5: largest m such that integer inputs in [-m, m] keep every partial sum exact.

    Every partial sum of n terms, each a product of `factors` integers in
    [-m, m], plus a bias in [-m, m], is at most n*m^factors + m in magnitude;
    it is exact if that is at most 2^p. Returns 0 when not even m = 1 fits
    (exact mode is then not offered).
    """
    limit = exact_limit(dtype)
    m = 0
    while terms * (m + 1) ** factors + (m + 1) <= limit and m < 8:
        m += 1
    return m
