"""Repro: torch-inductor-cache-ignores-cpu-capability.

Clause: CONV.2 Definition (a valid convolution must compute it); ERR.3 No crash and no hang.
Versions: torch 2.14.1.
Bug: inductor's on-disk cache serves a kernel compiled under one ATEN_CPU_CAPABILITY to a
process running under another: a grouped, strided, dilated float32 conv2d compiled first
under the default capability (AVX-512) and then under ATEN_CPU_CAPABILITY=avx2, with the
same cache directory, returns values near 1e30 in the second process, and the other order
can die with SIGABRT ("corrupted size vs. prev_size", "free(): invalid pointer"). With a fresh cache each process is right.
Where: an x86 CPU with AVX-512 (so that the two capabilities differ); exits 2 elsewhere.
Found by: convspec's torch.compile self-test (repro script against the adapter) under
ATEN_CPU_CAPABILITY=avx2 after runs at the default capability on the same machine.
"""

import os
import subprocess
import sys
import tempfile

CHILD = r"""
import numpy as np, torch, torch.nn.functional as F
rng = np.random.default_rng(0)
x = torch.tensor(rng.integers(-2, 3, (1, 4, 5, 6)).astype(np.float32))
w = torch.tensor(rng.integers(-2, 3, (2, 2, 3, 2)).astype(np.float32))
b = torch.tensor(rng.integers(-2, 3, (2,)).astype(np.float32))
def f(x, w, b):
    return F.conv2d(x, w, b, stride=(2, 1), padding=(1, 0), dilation=(1, 2), groups=2)
error = float((torch.compile(f)(x, w, b) - f(x, w, b)).abs().max())
print(torch.backends.cpu.get_cpu_capability(), "max |compiled - eager| =", error)
raise SystemExit(0 if error == 0 else 1)
"""


def run(cache: str, capability: str | None) -> int:
    env = {**os.environ, "TORCHINDUCTOR_CACHE_DIR": cache}
    env.pop("ATEN_CPU_CAPABILITY", None)
    if capability:
        env["ATEN_CPU_CAPABILITY"] = capability
    done = subprocess.run([sys.executable, "-c", CHILD], env=env, capture_output=True, text=True)
    lines = done.stdout.strip().splitlines() or done.stderr.strip().splitlines() or [""]
    print(f"  ATEN_CPU_CAPABILITY={capability or '(default)'}: rc {done.returncode}:", lines[-1])
    return done.returncode


import torch  # noqa: E402

if torch.backends.cpu.get_cpu_capability() != "AVX512":
    print("needs a CPU whose default ATen capability is AVX512")
    sys.exit(2)
print("expected: max |compiled - eager| = 0.0 in every process")
failed = False
for first, second in ((None, "avx2"), ("avx2", None)):
    with tempfile.TemporaryDirectory() as cache:
        print(f"one cache, {first or 'default'} then {second or 'default'}:")
        codes = [run(cache, first), run(cache, second)]
        failed |= any(codes)
sys.exit(1 if failed else 0)
