"""Repro: onnxruntime-degenerate-accepted.

Clause: ERR.2 An invalid configuration raises an exception (CONV.1: channels >= 1).
Versions: onnxruntime 1.31.1.
Issue: Conv with zero input channels (x (1, 0, 3), w (1, 0, 1)) returns an array instead
of raising.
Found by: convspec `pytest --hypothesis-profile thorough` (onnxruntime adapter, invalid configs).
"""
import sys

import numpy as np
import onnxruntime as ort
from onnx import TensorProto, helper

node = helper.make_node("Conv", ["x", "w"], ["y"])
graph = helper.make_graph(
    [node], "g", [helper.make_tensor_value_info(n, TensorProto.FLOAT, None) for n in "xw"],
    [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)])
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 22)], ir_version=10)
print("expected: an exception (C_in = 0)")
try:
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    feeds = {"x": np.ones((1, 0, 3), np.float32), "w": np.ones((1, 0, 1), np.float32)}
    y = sess.run(None, feeds)[0]
except Exception as e:
    print(f"got: {type(e).__name__}: {e}")
    sys.exit(0)
print(f"got (onnxruntime {ort.__version__}): array of shape {y.shape}: {y.ravel()}")
sys.exit(1)
