"""The orders in which the strategies draw declared values, each named once.

Hypothesis shrinks a sampled value towards the first option, and which value a drawn
index picks depends on the order: reordering one of these changes every example drawn
from it. Each strategy filters an order by what the backend declares
(`OpSupport.dtypes`, `.padding`, `.padding_modes`).
"""

from __future__ import annotations

DTYPE_ORDER = ("float32", "float64", "float16", "bfloat16")
MODE_ORDER = ("zeros", "reflect", "replicate", "circular")

# Padding forms (PAD.4).
EXPLICIT = ("symmetric", "asymmetric")
# The forms both convolution and transposed convolution define (TCONV has no
# 'same_begin' and no negative padding).
COMMON_FORMS = (*EXPLICIT, "valid", "same")
CONV_FORMS = (*COMMON_FORMS, "same_begin", "negative")
# The forms whose pads do not depend on the input size, so that sizes can be chosen freely.
SIZE_FREE_FORMS = (*EXPLICIT, "valid", "negative")
