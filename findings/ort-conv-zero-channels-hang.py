"""Repro: ort-conv-zero-channels-hang.

Clause: ERR.3 No crash and no hang (and CONV.1: C_in = 0 is invalid, so it must raise).
Versions: onnxruntime 1.31.1, onnx 1.23.2.
Bug: Conv with zero input channels never returns when it pads or strides (the call spins
until killed); the same model with pads 0 and stride 1 returns zeros at once.
Found by: convspec `pytest --hypothesis-profile ci suites/test_errors.py` (onnxruntime adapters).
"""
import subprocess
import sys

CODE = """
import sys
import numpy as np
import onnxruntime
from onnx import TensorProto, helper

pad = int(sys.argv[1])
x_shape, w_shape = [1, 0, 5], [2, 0, 3]
node = helper.make_node("Conv", ["x", "w"], ["y"], pads=[pad, pad])
graph = helper.make_graph(
    [node],
    "conv",
    [
        helper.make_tensor_value_info("x", TensorProto.FLOAT, x_shape),
        helper.make_tensor_value_info("w", TensorProto.FLOAT, w_shape),
    ],
    [helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, None, None])],
)
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 22)], ir_version=10)
session = onnxruntime.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
feeds = {"x": np.zeros(x_shape, np.float32), "w": np.zeros(w_shape, np.float32)}
try:
    print("returned", session.run(None, feeds)[0].shape)
except Exception as e:
    print("raised", type(e).__name__)
"""

LIMIT = 30  # seconds: the unpadded call takes milliseconds
print("expected: a Python exception (C_in = 0), in both calls")
for pad in (0, 1):
    try:
        res = subprocess.run(
            [sys.executable, "-c", CODE, str(pad)], capture_output=True, text=True, timeout=LIMIT
        )
        print(f"pads={pad}: got: {res.stdout.strip() or res.stderr.strip()[-200:]}")
    except subprocess.TimeoutExpired:
        print(f"pads={pad}: got: no return within {LIMIT} s (child killed)")
        sys.exit(1)
sys.exit(0)
