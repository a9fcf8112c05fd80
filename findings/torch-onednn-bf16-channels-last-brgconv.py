"""Repro: torch-onednn-bf16-channels-last-brgconv.

Clauses: ERR.3 No crash and no hang; GRP.1 Grouped convolution is a concatenation of
group convolutions (also LAYOUT.5 Memory format does not change values).
Versions: torch 2.14.1, CPU with AVX512-BF16/AMX (oneDNN brg_conv_fwd:avx512_core_bf16).
Bug: bfloat16 convolutions in channels_last format (a) segfault when outputs read only
padding along a dilated last axis, (b) return zeros for a whole group of a grouped conv.
Contiguous bfloat16 and other dtypes are right; not seen with ONEDNN_MAX_CPU_ISA=AVX512_CORE.
On a CPU without AVX512-BF16 this script is expected to exit 0.
Found by: convspec `pytest --hypothesis-profile thorough` (torch channels_last adapter).
"""
import signal
import subprocess
import sys

import numpy as np
import torch
import torch.nn.functional as F

CL = torch.channels_last
CRASH = """
import torch, torch.nn.functional as F
cl = torch.channels_last
x = torch.ones(1, 3, 2, 1, dtype=torch.bfloat16).contiguous(memory_format=cl)
w = torch.ones(1, 3, 1, 1, dtype=torch.bfloat16).contiguous(memory_format=cl)
y = F.conv2d(x, w, stride=(1, 3), padding=(0, 2), dilation=(1, 2))
print(tuple(y.shape), y.float().abs().max().item())
"""
# (a) W: n=1 padded to 5, k=1, s=3 -> outputs at padded W=0 and 3, both padding: zeros (1,1,2,2).
res = subprocess.run([sys.executable, "-c", CRASH], capture_output=True, text=True)
print("(a) expected: zeros of shape (1, 1, 2, 2)")
bad = res.returncode < 0
if bad:
    print(f"    got: child killed by {signal.Signals(-res.returncode).name}")
else:
    print("    got:", res.stdout.strip() or res.stderr.strip()[-200:])
    bad = res.stdout.strip() != "(1, 1, 2, 2) 0.0"

# (b) x ones (1,2,1,2,1), w ones (4,1,2,2,2), padding (1,0,1), groups 2 -> (1,4,2,1,2).
# Each output window holds 1 (D, padded [0,1,0]) * 2 (H) * 1 (W, padded [0,1,0]) ones = 2.
x = torch.ones(1, 2, 1, 2, 1, dtype=torch.bfloat16).contiguous(memory_format=torch.channels_last_3d)
w = torch.ones(4, 1, 2, 2, 2, dtype=torch.bfloat16).contiguous(memory_format=torch.channels_last_3d)
got = F.conv3d(x, w, padding=(1, 0, 1), groups=2).float().numpy()
expected = np.full((1, 4, 2, 1, 2), 2.0, np.float32)
print("(b) expected per output channel:", expected.reshape(4, -1).tolist())
print("    got per output channel:     ", got.reshape(4, -1).tolist())
bad |= not np.array_equal(got, expected)
print(f"torch {torch.__version__}")
sys.exit(1 if bad else 0)
