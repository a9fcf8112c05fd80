"""Repro: tf-conv1d-rank-abort.

Clause: ERR.3 No crash and no hang (and ERR.2: a wrong-rank input must raise).
Versions: tensorflow-cpu 2.21.0.
Bug: tf.nn.conv1d with a rank-2 input (no batch axis) aborts the process instead of raising.
Found by: convspec `pytest --hypothesis-profile thorough` (tf.nn adapter, invalid-config suite).
"""
import signal
import subprocess
import sys

CODE = """
import os
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
import numpy as np
import tensorflow as tf
try:
    tf.nn.conv1d(np.zeros((1, 1), "f4"), np.zeros((1, 1, 1), "f4"), 1, "VALID")
    print("returned")
except Exception as e:
    print("raised", type(e).__name__)
"""
res = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True)
print("expected: a Python exception (input must be rank 3: N, W, C)")
if res.returncode < 0:
    print(f"got: child killed by {signal.Signals(-res.returncode).name}")
    print(*[ln for ln in res.stderr.splitlines() if "Check failed" in ln][:1])
    sys.exit(1)
print("got:", res.stdout.strip())
sys.exit(0 if res.stdout.startswith("raised") else 1)
