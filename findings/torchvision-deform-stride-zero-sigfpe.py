"""Repro: torchvision-deform-stride-zero-sigfpe.

Clause: ERR.3 No crash and no hang (stride 0 is invalid: ERR.7 / DEFORM.2).
Versions: torch 2.14.1, torchvision 0.29.1.
Bug: torchvision.ops.deform_conv2d with stride (0, 1) kills the process with SIGFPE
(integer division by zero) instead of raising.
Found by: convspec `pytest --hypothesis-profile thorough` (torchvision adapter, invalid configs).
"""
import signal
import subprocess
import sys

CODE = """
import torch, torchvision
try:
    torchvision.ops.deform_conv2d(torch.ones(1, 1, 1, 1), torch.zeros(1, 2, 1, 1),
                                  torch.ones(1, 1, 1, 1), stride=(0, 1))
    print("returned")
except Exception as e:
    print("raised", type(e).__name__)
"""
res = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True)
print("expected: a Python exception (stride must be >= 1)")
if res.returncode < 0:
    print(f"got: child killed by {signal.Signals(-res.returncode).name}")
    sys.exit(1)
print("got:", res.stdout.strip() or res.stderr.strip()[-200:])
sys.exit(0 if res.stdout.startswith("raised") else 1)
