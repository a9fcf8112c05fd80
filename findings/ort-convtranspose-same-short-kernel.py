"""Repro: ort-convtranspose-same-short-kernel.

Clause: TCONV.16 ONNX output_shape and auto_pad (values as in TCONV.4 'valid' and 'same').
Versions: onnxruntime 1.31.1 (and onnx 1.23.2's ReferenceEvaluator for comparison).
Issue: ConvTranspose with auto_pad=SAME_UPPER and a kernel shorter than the stride: the
operator text says output_shape = input_shape * strides (6 here), but onnxruntime returns
length 5; the reference evaluator returns length 6 shifted by one position. The ONNX pad
formula gives total_padding = 2*(3-1) + 0 + 1 - 6 = -1 (negative pads; TCONV.16 leaves the
values undefined), so convspec takes the TCONV.4 values: p_begin = 0, the last position
receives no tap -> [1, 0, 10, 0, 100, 0].
Found by: convspec `pytest --hypothesis-profile thorough` (onnxruntime adapter).
"""
import sys

import numpy as np
import onnxruntime as ort
from onnx import TensorProto, helper
from onnx.reference import ReferenceEvaluator

node = helper.make_node("ConvTranspose", ["x", "w"], ["y"], auto_pad="SAME_UPPER", strides=[2])
graph = helper.make_graph(
    [node], "g", [helper.make_tensor_value_info(n, TensorProto.FLOAT, None) for n in "xw"],
    [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)])
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 22)], ir_version=10)
feeds = {"x": np.array([[[1, 10, 100]]], np.float32), "w": np.ones((1, 1, 1), np.float32)}

expected = np.array([[[1, 0, 10, 0, 100, 0]]], np.float32)
sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
got = sess.run(None, feeds)[0]
print(f"expected                          {expected.ravel()}")
print(f"onnxruntime {ort.__version__}:              {got.ravel()}")
reference = ReferenceEvaluator(model).run(None, feeds)[0]
print(f"onnx ReferenceEvaluator (for info): {reference.ravel()}")
sys.exit(0 if got.shape == expected.shape and np.array_equal(got, expected) else 1)
