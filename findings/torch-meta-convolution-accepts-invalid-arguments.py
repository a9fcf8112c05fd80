"""Repro: torch-meta-convolution-accepts-invalid-arguments.

Clauses: CONV.4-CONV.7, TCONV.1, TCONV.5-TCONV.9 (an invalid configuration raises, ERR.2).
Versions: torch 2.14.1.
Bug: on meta tensors, F.conv1d and F.conv_transpose1d return an output shape for
arguments that the CPU rejects with RuntimeError: the meta function of aten.convolution
(calc_conv_nd_return_shape in torch/_meta_registrations.py) lacks most of the checks of
Convolution.cpp. FakeTensor, and so torch.compile/torch.export tracing, run that function.
Found by: convspec `pytest --backend torch.meta` (suites/test_errors.py).
"""

import sys

import torch
import torch.nn.functional as F


def t(*shape, device):
    return torch.ones(*shape, device=device)


CASES = {
    "conv, groups=2 do not divide C_out=1": lambda d: F.conv1d(
        t(1, 2, 1, device=d), t(1, 1, 1, device=d), groups=2
    ),
    "conv, stride=-1": lambda d: F.conv1d(t(1, 1, 1, device=d), t(1, 1, 1, device=d), stride=-1),
    "conv, dilation=0": lambda d: F.conv1d(t(1, 1, 1, device=d), t(1, 1, 1, device=d), dilation=0),
    "conv, bias of length 2 for C_out=1": lambda d: F.conv1d(
        t(1, 1, 1, device=d), t(1, 1, 1, device=d), t(2, device=d)
    ),
    "conv, kernel of length 0": lambda d: F.conv1d(t(1, 1, 1, device=d), t(1, 1, 0, device=d)),
    "conv_transpose, groups=0": lambda d: F.conv_transpose1d(
        t(1, 1, 1, device=d), t(1, 1, 1, device=d), groups=0
    ),
    "conv_transpose, weight C_in=2 for an input with 1": lambda d: F.conv_transpose1d(
        t(1, 1, 1, device=d), t(2, 1, 1, device=d)
    ),
    "conv_transpose, stride=0": lambda d: F.conv_transpose1d(
        t(1, 1, 1, device=d), t(1, 1, 1, device=d), stride=0
    ),
    "conv_transpose, padding=-1": lambda d: F.conv_transpose1d(
        t(1, 1, 1, device=d), t(1, 1, 1, device=d), padding=-1
    ),
    "conv_transpose, output_padding=1 with stride=dilation=1": lambda d: F.conv_transpose1d(
        t(1, 1, 1, device=d), t(1, 1, 1, device=d), output_padding=1
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
