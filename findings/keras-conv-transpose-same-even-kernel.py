"""Repro: keras-conv-transpose-same-even-kernel.

Clause: TCONV.5 Output padding (and TCONV.4, which names Keras' output_padding rule).
Versions: Keras 3.15.1 on tensorflow-cpu 2.21.0.
Bug: Conv1DTranspose(kernel 2, strides 2, padding="same", output_padding=0) is accepted
(output_padding < strides, as documented) and compute_output_shape promises length
(n-1)*s + (k mod 2) + op = 4, but the call fails inside TensorFlow: 'SAME' forward
convolution maps length 4 to ceil(4/2) = 2, not n = 3, so the backprop-input op it
builds is inconsistent. With output_padding=None the layer works (length n*s = 6).
Found by: convspec `pytest --hypothesis-profile thorough` (keras adapter, transposed suite).
"""
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import keras
import numpy as np

layer = keras.layers.Conv1DTranspose(1, 2, strides=2, padding="same", output_padding=0)
expected = tuple(layer.compute_output_shape((1, 3, 1)))  # Keras' own promise: (1, 4, 1)
print(f"keras {keras.__version__}: expected an output of shape {expected}")
try:
    got = tuple(layer(np.ones((1, 3, 1), "f4")).shape)
except Exception as e:
    detail = [ln for ln in str(e).splitlines() if "message:" in ln] or [str(e)]
    print(f"got: {type(e).__name__}: ...{detail[0].split('message:')[-1][:90]}")
    sys.exit(1)
print(f"got shape {got}")
sys.exit(0 if got == expected else 1)
