"""Repro: tf-onednn-capped-below-dtype.

Clause: CONV.2 Definition (ERR.12: a valid convolution must be computed).
Versions: tensorflow-cpu 2.21.0 with TF_ENABLE_ONEDNN_OPTS=1 and ONEDNN_MAX_CPU_ISA=AVX2, on a
CPU with AVX-512 FP16 (the script sets both variables itself).
Bug: TensorFlow hands float16 convolutions to its oneDNN ops because the CPU has AVX-512 FP16,
but oneDNN honours ONEDNN_MAX_CPU_ISA and has no float16 kernel at AVX2: a 1x1 conv1d raises
AbortedError ('could not create a primitive descriptor', mkl_conv_ops.cc) instead of
computing. bfloat16 fails the same way for some shapes. Without the cap it is right.
Found by: convspec's README test command under TF_ENABLE_ONEDNN_OPTS=1 ONEDNN_MAX_CPU_ISA=AVX2.
"""
import os
import sys

os.environ["TF_ENABLE_ONEDNN_OPTS"] = "1"
os.environ["ONEDNN_MAX_CPU_ISA"] = "AVX2"
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

# --- Preconditions: a CPU with AVX-512BW and AVX-512 FP16, where TensorFlow gives float16
# to oneDNN. Elsewhere the script says so and exits 2: it tested nothing there.
try:
    with open("/proc/cpuinfo") as f:
        flags = set(next(ln for ln in f if ln.startswith("flags")).split(":", 1)[1].split())
except (OSError, StopIteration):
    flags = set()
if not {"avx512bw", "avx512_fp16"} <= flags:
    print("precondition not met: a CPU with AVX-512BW and AVX-512 FP16 (TensorFlow gives "
          "float16 to oneDNN only there)")
    sys.exit(2)
# --- end of preconditions

import numpy as np
import tensorflow as tf

x = np.full((1, 1, 1), 3, np.float16)  # N, W, C
w = np.full((1, 1, 1), 2, np.float16)  # W, C_in, C_out
try:
    got = tf.nn.conv1d(x, w, 1, "VALID").numpy()
except tf.errors.OpError as exc:
    print(f"tensorflow {tf.__version__}: expected [[[6.]]], raised {type(exc).__name__}: "
          f"{str(exc).splitlines()[0][:160]}")
    sys.exit(1)
print(f"tensorflow {tf.__version__}: expected [[[6.]]], got {got.tolist()}")
sys.exit(0 if got.tolist() == [[[6.0]]] else 1)
