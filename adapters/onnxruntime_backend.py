"""ONNX Runtime backends: one-node Conv / ConvTranspose / DeformConv models on the CPU provider.

Surfaces
  "onnxruntime"        graph optimizations at ORT_ENABLE_ALL (the default), which on
                       x86 may rewrite Conv into the NCHWc layout kernels.
  "onnxruntime.noopt"  ORT_DISABLE_ALL: the plain CPU kernels, no graph rewriting.

The models come from adapters/onnx_models.py (opset and IR version there).
Sessions are cached per model (op, shapes, dtypes, parameters); each runs on one
intra-op thread, which makes a session cheap to create on a small machine
(about 0.3 ms against 3 ms with the default thread pool). The order in which
threads would split a sum is irrelevant to the NUM.3 bound.

Data types: the CPU provider of onnxruntime 1.31 runs Conv and ConvTranspose
for float32 and float16 only ("Could not find an implementation" for double and
bfloat16; float16 sums are accumulated in a wider format), and DeformConv for
float64, float32 and float16.
Exact mode (NUM.5): MLAS convolutions are im2col + SGEMM, direct NCHWc, or
depthwise loops (MLAS_CONV_ALGORITHM in onnxruntime/core/mlas/inc/mlas.h lists
no Winograd or FFT); adapters/test_onnx_backends.py checks exact integer sums.
No autodiff: no gradients.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from adapters import onnx_models
from adapters.base import (
    CONV,
    CONV_TRANSPOSE,
    DEFORM_CONV,
    Adapter,
    Capabilities,
    OpSupport,
)
from adapters.onnx_models import OUTPUT_PADDING_WITH_AUTO_PAD, OnnxModelAdapter
from reference.params import Conv, Params

_CACHE_SIZE = 256
_RANKS = frozenset({1, 2, 3})
_CONV_PADDING = frozenset({"symmetric", "asymmetric", "valid", "same", "same_begin"})
_TRANSPOSE_PADDING = frozenset({"symmetric", "asymmetric", "valid", "same"})

CAPABILITIES = Capabilities(
    ops={
        CONV: OpSupport(
            ranks=_RANKS, dtypes=frozenset({"float32", "float16"}), padding=_CONV_PADDING
        ),
        CONV_TRANSPOSE: OpSupport(
            ranks=_RANKS,
            dtypes=frozenset({"float32", "float16"}),
            padding=_TRANSPOSE_PADDING,
            extensions=OUTPUT_PADDING_WITH_AUTO_PAD,
        ),
        # DeformConv pads are explicit only (the operator has no auto_pad).
        DEFORM_CONV: OpSupport(
            ranks=frozenset({2}),
            dtypes=frozenset({"float64", "float32", "float16"}),
            padding=frozenset({"symmetric", "asymmetric"}),
            mask=True,
        ),
    },
)


class OnnxRuntimeAdapter(OnnxModelAdapter):
    name = "onnxruntime"
    framework = "onnxruntime"
    capabilities = CAPABILITIES
    optimization = "ORT_ENABLE_ALL"

    def __init__(self) -> None:
        import onnx  # noqa: F401  (the models are built with onnx.helper)
        import onnxruntime

        self._ort = onnxruntime
        self._sessions: OrderedDict[tuple, Any] = OrderedDict()

    def version(self) -> str:
        return (
            f"{self._ort.__version__} (opset {onnx_models.OPSET}, "
            f"IR {onnx_models.IR_VERSION}, {self.optimization})"
        )

    def _session(self, key: tuple, build: Callable[[], Any]) -> Any:
        session = self._sessions.get(key)
        if session is None:
            options = self._ort.SessionOptions()
            options.graph_optimization_level = getattr(
                self._ort.GraphOptimizationLevel, self.optimization
            )
            options.intra_op_num_threads = 1
            options.inter_op_num_threads = 1
            # Kernel failures come back as exceptions; the log would only repeat them.
            options.log_severity_level = 4
            session = self._ort.InferenceSession(
                build().SerializeToString(), options, providers=["CPUExecutionProvider"]
            )
            self._sessions[key] = session
            if len(self._sessions) > _CACHE_SIZE:
                self._sessions.popitem(last=False)
        else:
            self._sessions.move_to_end(key)
        return session

    def _run(
        self, key: tuple, build: Callable[[], Any], inputs: dict[str, np.ndarray]
    ) -> np.ndarray:
        result = self._session(key, build).run(None, inputs)[0]
        return np.asarray(result)

    def limitation(self, op: str, p: Params, shapes: Mapping[str, Any], dtype: str) -> str | None:
        # Any operation that runs a Conv node (composed ones included, e.g. depthwise_separable).
        if isinstance(p, Conv) and p.padding == "same" and max(p.dilation) > 1:
            # onnxruntime/core/providers/cpu/nn/conv_attributes.h, ComputePadAndOutputShape.
            return (
                "onnxruntime Conv: 'Dilation not supported for AutoPadType::SAME_UPPER or "
                "AutoPadType::SAME_LOWER' (CPU provider, conv_attributes.h)"
            )
        return super().limitation(op, p, shapes, dtype)

    def _repro_run(self) -> str:
        return _REPRO_RUN.format(optimization=self.optimization)


class OnnxRuntimeNoOptAdapter(OnnxRuntimeAdapter):
    name = "onnxruntime.noopt"
    optimization = "ORT_DISABLE_ALL"


_REPRO_RUN = """\
import onnxruntime


def _run(model, feeds):
    options = onnxruntime.SessionOptions()
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.{optimization}
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    session = onnxruntime.InferenceSession(
        model.SerializeToString(), options, providers=["CPUExecutionProvider"]
    )
    return session.run(None, feeds)[0]
"""


SURFACES: dict[str, Callable[[], Adapter]] = {
    "onnxruntime": OnnxRuntimeAdapter,
    "onnxruntime.noopt": OnnxRuntimeNoOptAdapter,
}
