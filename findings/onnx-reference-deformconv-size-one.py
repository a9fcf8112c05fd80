"""Repro: onnx-reference-deformconv-size-one.

Clause: DEFORM.8 Version 1: no mask (DEFORM.7 Definition; DEFORM.9 zero offsets reduce to
ordinary convolution).
Versions: onnx 1.23.2 (onnx.reference.ReferenceEvaluator); onnxruntime 1.31.1 computes it.
Bug: the reference DeformConv divides by H-1 and W-1, so a 1x1 input raises
"cannot convert float NaN to integer".
Found by: convspec `pytest --hypothesis-profile thorough` (onnx-reference adapter).
"""
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper
from onnx.reference import ReferenceEvaluator

names = ["x", "w", "offset"]
node = helper.make_node("DeformConv", names, ["y"])
graph = helper.make_graph(
    [node], "g", [helper.make_tensor_value_info(n, TensorProto.FLOAT, None) for n in names],
    [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)])
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 19)], ir_version=10)
feeds = {"x": np.array([[[[5]]]], np.float32), "w": np.array([[[[1]]]], np.float32),
         "offset": np.zeros((1, 2, 1, 1), np.float32)}
# Zero offsets: an ordinary 1x1 convolution of 5 with weight 1 -> 5.
expected = np.array([[[[5]]]], np.float32)
print(f"onnx {onnx.__version__}: expected {expected.ravel()}")
try:
    got = ReferenceEvaluator(model).run(None, feeds)[0]
except Exception as e:
    print(f"got: {type(e).__name__}: {e}")
    sys.exit(1)
print(f"got {got.ravel()}")
sys.exit(0 if np.array_equal(got, expected) else 1)
