"""One-node ONNX models for Conv, ConvTranspose and DeformConv, shared by the ONNX backends.

Both the ONNX Runtime and the ONNX reference-evaluator adapters run the very
same model, so a disagreement between them is a disagreement of the runtimes,
not of two model builders. `onnx` is imported inside the functions only, so
importing this module stays cheap.

Argument mapping (ONNX operator documentation, Conv-22 / ConvTranspose-22 /
DeformConv-22):
  - `pads` lists all begins, then all ends: [x1_begin, x2_begin, ..., x1_end, x2_end, ...].
    convspec's ((b0, e0), (b1, e1), ...) becomes [b0, b1, ..., e0, e1, ...].
  - Conv 'same' is auto_pad SAME_UPPER (odd pixel at the end, same_split 'end') or
    SAME_LOWER (odd pixel at the begin, same_split 'begin'); 'valid' is auto_pad VALID.
  - ConvTranspose 'same' is auto_pad SAME_UPPER, which the operator documents as
    `output_shape[i] = input_shape[i] * strides[i]`, the length of TCONV.4 'same';
    'valid' is auto_pad VALID (pads all zero). Both are the runtimes' own spellings:
    where they place the window differently from TCONV.4, the suite reports it.
  - Weight layouts are convspec's canonical ones already: Conv W (M, C/group, *k),
    ConvTranspose W (C, M/group, *k), DeformConv W (oC, C/group, *k).
  - DeformConv inputs are X, W, offset, B, mask; offset is
    (N, offset_group * prod(k) * rank, *out), mask (N, offset_group * prod(k), *out).
  - `kernel_shape` is never set: the runtimes infer it from W, so nothing is computed here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from adapters.base import (
    CONV,
    CONV_TRANSPOSE,
    DEFORM_CONV,
    Adapter,
    Extension,
    UnsupportedError,
)
from reference.params import Conv, ConvTranspose, DeformConv, Params

# The newest opset that onnxruntime 1.31 loads (it rejects 27 and 28), in models of IR
# version 10 (onnxruntime 1.31 rejects the IR version 14 that onnx 1.23 writes by default);
# the findings' scripts build the same. An IR version names the file format, not the
# operators: onnxruntime and the reference evaluator run opset 26's Conv, ConvTranspose and
# DeformConv from such a file.
OPSET = 26
IR_VERSION = 10

# ONNX element type names of convspec's dtypes (onnx.TensorProto.DataType).
_ELEMENT_TYPE = {
    "float64": "DOUBLE",
    "float32": "FLOAT",
    "float16": "FLOAT16",
    "bfloat16": "BFLOAT16",
}


def element_type(dtype: np.dtype) -> int:
    """The onnx.TensorProto element type of a NumPy (or ml_dtypes) dtype."""
    from onnx import TensorProto

    return int(getattr(TensorProto, _ELEMENT_TYPE[np.dtype(dtype).name]))


def onnx_pads(pairs: Sequence[Sequence[int]]) -> list[int]:
    """convspec ((b0, e0), (b1, e1), ...) -> ONNX [b0, b1, ..., e0, e1, ...]."""
    return [int(pair[0]) for pair in pairs] + [int(pair[1]) for pair in pairs]


def _padding_attributes(padding: Any, same_auto_pad: str) -> dict[str, Any]:
    if padding == "valid":
        return {"auto_pad": "VALID"}
    if padding == "same":
        return {"auto_pad": same_auto_pad}
    return {"pads": onnx_pads(padding)}


def conv_attributes(p: Conv) -> dict[str, Any]:
    same = "SAME_LOWER" if p.same_split == "begin" else "SAME_UPPER"
    return {
        "strides": [int(s) for s in p.stride],
        "dilations": [int(d) for d in p.dilation],
        "group": int(p.groups),
        **_padding_attributes(p.padding, same),
    }


def conv_transpose_attributes(p: ConvTranspose) -> dict[str, Any]:
    return {
        "strides": [int(s) for s in p.stride],
        "dilations": [int(d) for d in p.dilation],
        "group": int(p.groups),
        "output_padding": [int(o) for o in p.output_padding],
        **_padding_attributes(p.padding, "SAME_UPPER"),
    }


def deform_conv_attributes(p: DeformConv) -> dict[str, Any]:
    return {
        "strides": [int(s) for s in p.stride],
        "dilations": [int(d) for d in p.dilation],
        "group": int(p.groups),
        "offset_group": int(p.offset_groups),
        "pads": onnx_pads(p.padding),
    }


def one_node_model(
    op_type: str,
    inputs: Sequence[tuple[str, np.ndarray | None]],
    attributes: dict[str, Any],
) -> Any:
    """A model with one node `op_type`; a None input becomes ONNX's empty-name placeholder.

    Inputs get their concrete shapes; the output only its element type and
    rank, so the runtime, not this module, decides the output size.
    """
    from onnx import helper

    present = [(name, array) for name, array in inputs if array is not None]
    dtype = present[0][1].dtype
    graph_inputs = [
        helper.make_tensor_value_info(name, element_type(array.dtype), list(array.shape))
        for name, array in present
    ]
    output = helper.make_tensor_value_info("y", element_type(dtype), [None] * present[0][1].ndim)
    # Trailing absent optional inputs are dropped, inner ones are named "" (ONNX IR spec).
    names = [name if array is not None else "" for name, array in inputs]
    while names and names[-1] == "":
        names.pop()
    node = helper.make_node(op_type, names, ["y"], **attributes)
    graph = helper.make_graph([node], f"convspec_{op_type}", graph_inputs, [output])
    return helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", OPSET)],
        ir_version=IR_VERSION,
        producer_name="convspec",
    )


def conv_model(x: np.ndarray, w: np.ndarray, b: np.ndarray | None, p: Conv) -> Any:
    return one_node_model("Conv", [("x", x), ("w", w), ("b", b)], conv_attributes(p))


def conv_transpose_model(
    x: np.ndarray, w: np.ndarray, b: np.ndarray | None, p: ConvTranspose
) -> Any:
    return one_node_model(
        "ConvTranspose", [("x", x), ("w", w), ("b", b)], conv_transpose_attributes(p)
    )


def deform_conv_model(
    x: np.ndarray,
    offset: np.ndarray,
    mask: np.ndarray | None,
    w: np.ndarray,
    b: np.ndarray | None,
    p: DeformConv,
) -> Any:
    return one_node_model(
        "DeformConv",
        [("x", x), ("w", w), ("offset", offset), ("b", b), ("mask", mask)],
        deform_conv_attributes(p),
    )


def feeds(**arrays: np.ndarray | None) -> dict[str, np.ndarray]:
    """The runtime inputs: the present arrays, under the names the model gives them."""
    return {name: array for name, array in arrays.items() if array is not None}


def model_key(op_type: str, arrays: dict[str, np.ndarray | None], params: object) -> tuple:
    """What determines a model: cache key for a session built from it."""
    shapes = tuple(
        (name, None if a is None else (tuple(a.shape), np.dtype(a.dtype).name))
        for name, a in arrays.items()
    )
    return (op_type, shapes, repr(params))


class OnnxModelAdapter(Adapter):
    """An ONNX backend: builds the one-node model and hands it to `_run`.

    Subclasses implement `_run(key, model_builder, feeds)`; `key` identifies the
    model (op, input shapes and dtypes, parameters), so a runtime can cache
    whatever it builds from it.
    """

    def _run(
        self, key: tuple, build: Callable[[], Any], inputs: dict[str, np.ndarray]
    ) -> np.ndarray:
        raise NotImplementedError

    def conv(self, x: np.ndarray, w: np.ndarray, b: np.ndarray | None, p: Conv) -> np.ndarray:
        arrays = {"x": x, "w": w, "b": b}
        _zeros_only(p)
        return self._run(
            model_key("Conv", arrays, p), lambda: conv_model(x, w, b, p), feeds(**arrays)
        )

    def conv_transpose(
        self, x: np.ndarray, w: np.ndarray, b: np.ndarray | None, p: ConvTranspose
    ) -> np.ndarray:
        arrays = {"x": x, "w": w, "b": b}
        return self._run(
            model_key("ConvTranspose", arrays, p),
            lambda: conv_transpose_model(x, w, b, p),
            feeds(**arrays),
        )

    def deform_conv(
        self,
        x: np.ndarray,
        offset: np.ndarray,
        mask: np.ndarray | None,
        w: np.ndarray,
        b: np.ndarray | None,
        p: DeformConv,
    ) -> np.ndarray:
        arrays = {"x": x, "w": w, "offset": offset, "b": b, "mask": mask}
        return self._run(
            model_key("DeformConv", arrays, p),
            lambda: deform_conv_model(x, offset, mask, w, b, p),
            feeds(**arrays),
        )

    def limitation(self, op: str, p: Params, shapes: Mapping[str, Any], dtype: str) -> str | None:
        if op == CONV_TRANSPOSE and isinstance(p, ConvTranspose):
            return transpose_auto_pad_limitation(p, shapes.get("w"))
        return None

    # --- repro scripts (suites/repro.py) -----------------------------------
    def _repro_run(self) -> str:
        """Source of `_run(model, feeds)`, running the model as this runtime's `_run` does."""
        return ""

    def repro_source(self, op: str, p: Params, dtype: str) -> str | None:
        if self.support(op) is None or not self._repro_run():
            return None
        node = _repro_node(op, p)
        if node is None:
            return None
        op_type, inputs, attributes = node
        return _REPRO_TEMPLATE.format(
            dtype=dtype,
            element_type=_ELEMENT_TYPE[dtype],
            opset=OPSET,
            ir_version=IR_VERSION,
            op_type=op_type,
            inputs=inputs,
            attributes=attributes,
            run=self._repro_run(),
        )


def _repro_node(op: str, p: Params) -> tuple[str, list[str], dict[str, Any]] | None:
    """(op_type, input order, attributes) of the model the adapter builds for op and p."""
    if op == CONV and isinstance(p, Conv):
        if p.padding_mode != "zeros":
            return None
        return "Conv", ["x", "w", "b"], conv_attributes(p)
    if op == CONV_TRANSPOSE and isinstance(p, ConvTranspose):
        return "ConvTranspose", ["x", "w", "b"], conv_transpose_attributes(p)
    if op == DEFORM_CONV and isinstance(p, DeformConv):
        return "DeformConv", ["x", "w", "offset", "b", "mask"], deform_conv_attributes(p)
    return None


# The one-node model of `one_node_model`, built from the arrays the script is given.
_REPRO_TEMPLATE = """\
import ml_dtypes  # noqa: F401  (NumPy's bfloat16)
import numpy as np
import onnx
from onnx import TensorProto, helper

DTYPE = np.dtype({dtype!r})
ELEMENT_TYPE = TensorProto.{element_type}
INPUTS = {inputs!r}
ATTRIBUTES = {attributes!r}


def _model(arrays):
    present = [(name, arrays[name]) for name in INPUTS if arrays.get(name) is not None]
    graph_inputs = [
        helper.make_tensor_value_info(name, ELEMENT_TYPE, list(a.shape)) for name, a in present
    ]
    output = helper.make_tensor_value_info("y", ELEMENT_TYPE, [None] * present[0][1].ndim)
    # Trailing absent optional inputs are dropped, inner ones are named "".
    names = [name if arrays.get(name) is not None else "" for name in INPUTS]
    while names and names[-1] == "":
        names.pop()
    node = helper.make_node({op_type!r}, names, ["y"], **ATTRIBUTES)
    graph = helper.make_graph([node], "repro", graph_inputs, [output])
    return helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", {opset!r})], ir_version={ir_version!r}
    )


{run}

def call(**arrays):
    # The values are exactly representable in DTYPE: the conversion is exact.
    arrays = {{
        k: np.asarray(a, dtype=np.float64).astype(DTYPE)
        for k, a in arrays.items()
        if a is not None
    }}
    y = _run(_model(arrays), arrays)
    return np.asarray(y).astype(np.float64)
"""


# The ConvTranspose operator computes output_padding together with auto_pad: its
# output_shape and total_padding formulas include it (ERR.16, TCONV.16).
OUTPUT_PADDING_WITH_AUTO_PAD = (
    Extension(
        "output_padding_with_auto_pad", "https://onnx.ai/onnx/operators/onnx__ConvTranspose.html"
    ),
)


def transpose_auto_pad_limitation(p: ConvTranspose, w_shape: Sequence[int] | None) -> str | None:
    """Where ONNX's ConvTranspose auto_pad is not TCONV.4's 'valid'/'same'.

    Both agree whenever k_eff >= s on every axis. With k_eff < s they part:
    ONNX documents VALID as pads of 0, so its output is (n-1)*s + k_eff long,
    not TCONV.4's n*s; and SAME_UPPER's total_padding = s*(n-1) + k_eff - n*s
    is negative, for which the operator documentation's pads formula gives
    negative pads, which the `pads` attribute does not allow (TCONV.16).
    """
    if not isinstance(p.padding, str) or w_shape is None or len(w_shape) < 3:
        return None
    kernel = tuple(w_shape[2:])
    for axis, (k, s, d) in enumerate(zip(kernel, p.stride, p.dilation, strict=False)):
        k_eff = d * (k - 1) + 1
        if k_eff >= s:
            continue
        if p.padding == "valid":
            return (
                "ONNX ConvTranspose auto_pad VALID means pads of 0 (operator documentation), "
                f"output (n-1)*s + k_eff, not n*s: k_eff={k_eff} < stride={s} on axis {axis}"
            )
        return (
            "ONNX ConvTranspose auto_pad SAME_UPPER with k_eff < stride: the documented "
            "total_padding s*(n-1) + k_eff - n*s is negative and the pads formula gives "
            f"negative pads, which ONNX does not define (TCONV.16): k_eff={k_eff}, "
            f"stride={s} on axis {axis}"
        )
    return None


def _zeros_only(p: Conv) -> None:
    if p.padding_mode != "zeros":
        raise UnsupportedError(f"ONNX Conv pads with zeros only, not {p.padding_mode!r}")
