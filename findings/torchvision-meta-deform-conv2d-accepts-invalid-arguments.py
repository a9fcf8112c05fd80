"""Repro: torchvision-meta-deform-conv2d-accepts-invalid-arguments.

Clauses: DEFORM.1, DEFORM.2, DEFORM.4, DEFORM.7 (an invalid configuration raises, ERR.2).
Versions: torch 2.14.1, torchvision 0.29.1.
Bug: on meta tensors, torchvision.ops.deform_conv2d returns an output shape for operands
that the CPU kernel rejects: torchvision's meta function for torchvision::deform_conv2d
does not make the kernel's checks. FakeTensor runs the same function.
Found by: convspec `pytest --backend torch.meta` (suites/test_errors.py).
"""

import sys

import torch
from torchvision.ops import deform_conv2d


def t(*shape, device):
    return torch.ones(*shape, device=device)


# Each raises RuntimeError on the CPU. (A stride of 0 kills the CPU process with SIGFPE,
# torch-deform-conv-stride, and the CPU accepts a bias of the wrong length,
# torch-deform-conv-bias-shape: neither is compared here.)
CASES = {
    "input C_in=2, weight (1, 1, 1, 1): groups 2 do not divide C_out=1": lambda d: deform_conv2d(
        t(1, 2, 1, 1, device=d), t(1, 2, 1, 1, device=d), t(1, 1, 1, 1, device=d)
    ),
    "dilation 0": lambda d: deform_conv2d(
        t(1, 1, 1, 1, device=d), t(1, 2, 1, 1, device=d), t(1, 1, 1, 1, device=d), dilation=(0, 1)
    ),
    "negative padding": lambda d: deform_conv2d(
        t(1, 1, 3, 1, device=d), t(1, 2, 1, 1, device=d), t(1, 1, 1, 1, device=d), padding=(-1, 0)
    ),
    "offset of spatial size 2x1 for a 1x1 output": lambda d: deform_conv2d(
        t(1, 1, 1, 1, device=d), t(1, 2, 2, 1, device=d), t(1, 1, 1, 1, device=d)
    ),
    "offset with 3 channels for a 1x1 kernel": lambda d: deform_conv2d(
        t(1, 1, 1, 1, device=d), t(1, 3, 1, 1, device=d), t(1, 1, 1, 1, device=d)
    ),
    "mask with 2 channels for a 1x1 kernel": lambda d: deform_conv2d(
        t(1, 1, 1, 1, device=d),
        t(1, 2, 1, 1, device=d),
        t(1, 1, 1, 1, device=d),
        mask=t(1, 2, 1, 1, device=d),
    ),
    "3-D weight": lambda d: deform_conv2d(
        t(1, 1, 1, 1, device=d), t(1, 2, 1, 1, device=d), t(1, 1, 1, device=d)
    ),
}

accepted = 0
for name, call in CASES.items():
    try:
        call("cpu")
    except RuntimeError as exc:
        cpu = f"raises ({str(exc).splitlines()[-1][:70]})"
    else:
        cpu = "returns"
    try:
        meta = f"returns shape {tuple(call('meta').shape)}"
    except Exception as exc:
        meta = f"raises {type(exc).__name__}"
    else:
        accepted += cpu != "returns"
    print(f"{name}: cpu {cpu}; meta {meta}")
print("expected: meta raises wherever the CPU does")
sys.exit(1 if accepted else 0)
