"""The ONNX reference evaluator (onnx.reference.ReferenceEvaluator) on convspec's one-node models.

Surface "onnx-reference": the NumPy implementations that the ONNX project ships
as the executable reading of its operator documentation (onnx/reference/ops:
op_conv.py, op_conv_transpose.py, op_deform_conv.py). They run on whatever
NumPy dtype they receive, so all four formats are declared, bfloat16 through
ml_dtypes. Conv and ConvTranspose are im2col / col2im plus numpy.matmul (exact
sums of exact products: exact mode NUM.5 applies); DeformConv is implemented for
2-D inputs only. No autodiff: no gradients.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import numpy as np

from adapters import onnx_models
from adapters.base import (
    CONV,
    CONV_TRANSPOSE,
    DEFORM_CONV,
    DTYPES,
    Adapter,
    Capabilities,
    OpSupport,
)
from adapters.onnx_models import OUTPUT_PADDING_WITH_AUTO_PAD, OnnxModelAdapter

_CACHE_SIZE = 256
_ALL_DTYPES = frozenset(DTYPES)
_RANKS = frozenset({1, 2, 3})

CAPABILITIES = Capabilities(
    ops={
        CONV: OpSupport(
            ranks=_RANKS,
            dtypes=_ALL_DTYPES,
            padding=frozenset({"symmetric", "asymmetric", "valid", "same", "same_begin"}),
        ),
        CONV_TRANSPOSE: OpSupport(
            ranks=_RANKS,
            dtypes=_ALL_DTYPES,
            padding=frozenset({"symmetric", "asymmetric", "valid", "same"}),
            extensions=OUTPUT_PADDING_WITH_AUTO_PAD,
        ),
        DEFORM_CONV: OpSupport(
            ranks=frozenset({2}),
            dtypes=_ALL_DTYPES,
            padding=frozenset({"symmetric", "asymmetric"}),
            mask=True,
        ),
    },
)


class OnnxReferenceAdapter(OnnxModelAdapter):
    name = "onnx-reference"
    framework = "onnx"
    capabilities = CAPABILITIES

    def __init__(self) -> None:
        import onnx
        from onnx.reference import ReferenceEvaluator

        self._onnx = onnx
        self._evaluator: Any = ReferenceEvaluator
        self._cache: OrderedDict[tuple, Any] = OrderedDict()

    def version(self) -> str:
        return f"{self._onnx.__version__} (opset {onnx_models.OPSET}, IR {onnx_models.IR_VERSION})"

    def _run(
        self, key: tuple, build: Callable[[], Any], inputs: dict[str, np.ndarray]
    ) -> np.ndarray:
        evaluator = self._cache.get(key)
        if evaluator is None:
            evaluator = self._evaluator(build())
            self._cache[key] = evaluator
            if len(self._cache) > _CACHE_SIZE:
                self._cache.popitem(last=False)
        return np.asarray(evaluator.run(None, inputs)[0])

    def _repro_run(self) -> str:
        return (
            "from onnx.reference import ReferenceEvaluator\n\n\n"
            "def _run(model, feeds):\n"
            "    return ReferenceEvaluator(model).run(None, feeds)[0]\n"
        )


SURFACES: dict[str, Callable[[], Adapter]] = {"onnx-reference": OnnxReferenceAdapter}
