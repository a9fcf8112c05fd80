"""Repro: ort-convtranspose-3d-empty-axis-segfault.

Clause: ERR.3 No crash and no hang (and TCONV.1: an empty spatial axis is invalid, so it
must raise).
Versions: onnxruntime 1.31.1, onnx 1.23.2.
Bug: ConvTranspose of rank 3 with an empty first spatial axis kills the process with
SIGSEGV (graph optimizations on and off); ranks 1 and 2 return an array.
Found by: convspec `pytest --hypothesis-profile thorough suites/test_errors.py` (onnxruntime.noopt).
"""
import signal
import subprocess
import sys

CODE = """
import numpy as np
import onnxruntime
from onnx import TensorProto, helper

x_shape, w_shape = [1, 1, 0, 1, 1], [1, 1, 2, 1, 1]
node = helper.make_node("ConvTranspose", ["x", "w"], ["y"])
graph = helper.make_graph(
    [node],
    "convtranspose",
    [
        helper.make_tensor_value_info("x", TensorProto.FLOAT, x_shape),
        helper.make_tensor_value_info("w", TensorProto.FLOAT, w_shape),
    ],
    [helper.make_tensor_value_info("y", TensorProto.FLOAT, [None] * 5)],
)
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 22)], ir_version=10)
session = onnxruntime.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
feeds = {"x": np.zeros(x_shape, np.float32), "w": np.zeros(w_shape, np.float32)}
try:
    print("returned", session.run(None, feeds)[0].shape)
except Exception as e:
    print("raised", type(e).__name__)
"""
res = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True)
print("expected: a Python exception (input of shape (1, 1, 0, 1, 1))")
if res.returncode < 0:
    print(f"got: child killed by {signal.Signals(-res.returncode).name}")
    sys.exit(1)
print("got:", res.stdout.strip() or res.stderr.strip()[-200:])
sys.exit(0 if res.stdout.startswith("raised") else 1)
