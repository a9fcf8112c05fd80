"""Repro: onnx-reference-convtranspose-groups.

Clause: TCONV.7 Groups (and TCONV.8 Bias).
Versions: onnx 1.23.2 (onnx.reference.ReferenceEvaluator).
Bug: ReferenceEvaluator's ConvTranspose with group > 1 raises a reshape error unless each
group has one channel, and then adds the first group's bias to every group.
Found by: convspec `pytest --hypothesis-profile thorough` (onnx-reference adapter).
"""
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper
from onnx.reference import ReferenceEvaluator


def run(x, w, b=None):
    names = ["x", "w"] + (["b"] if b is not None else [])
    node = helper.make_node("ConvTranspose", names, ["y"], group=2)
    graph = helper.make_graph(
        [node], "g", [helper.make_tensor_value_info(n, TensorProto.FLOAT, None) for n in names],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 22)], ir_version=10)
    feeds = dict(zip(names, [a for a in (x, w, b) if a is not None], strict=True))
    try:
        return ReferenceEvaluator(model).run(None, feeds)[0]
    except Exception as e:
        return f"{type(e).__name__}: {str(e)[:100]}"


f32 = np.float32
cases = [
    # 2 groups, 1 input and 2 output channels each, length 1, kernel 1:
    # group 0: 1 * [1, 2] = [1, 2]; group 1: 2 * [3, 4] = [6, 8].
    ("two outputs per group",
     run(np.array([[[1], [2]]], f32), np.array([[[1], [2]], [[3], [4]]], f32)),
     np.array([[[1], [2], [6], [8]]], f32)),
    # 2 groups, one channel each, bias [10, 20]: [1*3 + 10, 2*4 + 20] = [13, 28].
    ("bias per group", run(np.array([[[1], [2]]], f32), np.array([[[3]], [[4]]], f32),
                           np.array([10, 20], f32)),
     np.array([[[13], [28]]], f32)),
]
ok = True
print(f"onnx {onnx.__version__}")
for name, got, expected in cases:
    shown = got.ravel() if isinstance(got, np.ndarray) else got
    print(f"{name}: expected {expected.ravel().tolist()}, got {shown}")
    ok &= isinstance(got, np.ndarray) and np.array_equal(got, expected)
sys.exit(0 if ok else 1)
