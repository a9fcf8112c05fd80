"""PyTorch surfaces: the functional API, the nn modules, and execution modes of the same calls.

Each surface is its own name, so a report says which entry point disagrees:

  torch               torch.nn.functional.conv{1,2,3}d / conv_transpose{1,2,3}d,
                      torchvision.ops.deform_conv2d, torch.nn.functional.channel_shuffle
  torch.module        nn.Conv{1,2,3}d (all four padding modes), nn.ConvTranspose{1,2,3}d,
                      nn.ChannelShuffle
  torch.channels_last the functional calls with operands in channels_last / channels_last_3d,
                      run in a child process (see TorchChannelsLastProxy)
  torch.noncontig     the functional calls with non-contiguous (strided) operands
  torch.mkldnn_off    the functional calls inside torch.backends.mkldnn.flags(enabled=False)
  torch.meta          the functional calls on meta tensors: torch's shape functions and argument
                      checks, no values (see TorchMetaAdapter)
  torch.cuda          the functional calls on the first CUDA device, where one exists
  torch.compile       the functional calls (and their gradients) compiled by torch.compile with
                      the inductor backend on the CPU, run in a child process; opt-in (see
                      TorchCompileAdapter)
  torch.compile.dynamic
                      the same with torch.compile(dynamic=True): sizes as symbols; opt-in

Which algorithms run (how `exact` was decided, spec clause NUM.5). The backend a CPU
convolution takes was read with torch._C._select_conv_backend over thousands of
configurations, and the oneDNN primitive with ONEDNN_VERBOSE=1:
  - with oneDNN enabled (the default), float32/bfloat16 convolutions run oneDNN with
    alg:convolution_direct / alg:deconvolution_direct (PyTorch never asks oneDNN for
    Winograd), everything else runs the im2col + GEMM "slow" kernels: exact;
  - with oneDNN disabled, a float32 1-D/2-D forward convolution without dilation and with
    batch >= 16 runs NNPACK, whose default algorithm is a Winograd or FFT transform:
    integer inputs that every direct order sums exactly came back off by up to 6e-4
    (batch 16, 8 channels, 3x3 kernel). So `exact` is False for conv on torch.mkldnn_off;
  - on CUDA, cuDNN chooses among Winograd and FFT algorithms too, and float32 runs in TF32
    by default: `exact` is False for conv and conv_transpose on torch.cuda.
  - under torch.compile (inductor, CPU, no freezing and no max-autotune), inductor lowers
    aten.convolution to an extern call of the same ATen convolution (oneDNN or the slow
    kernels, as above); with oneDNN available it first copies the operands to channels_last
    (GraphLowering.decide_layout_opt: "For cpu backend and mkldnn enabled, we always use
    channels_last"), and it compiles the copies, channel_shuffle's view/permute and what
    surrounds the convolution to C++ (TORCH_LOGS=output_code shows it): no transform
    algorithm, so `exact` stays True as on torch.

The framework is imported only inside the factories and methods, so listing the surface
names does not import torch.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import shutil
import sys
import textwrap
from collections.abc import Callable, Iterator, Mapping
from dataclasses import replace
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as package_version
from typing import TYPE_CHECKING, Any

import ml_dtypes
import numpy as np

from adapters.base import (
    ACNET_BLOCK,
    CHANNEL_SHUFFLE,
    CONV,
    CONV_TRANSPOSE,
    DEFORM_CONV,
    DEPTHWISE_SEPARABLE,
    DTYPES,
    PADDING_MODES,
    Adapter,
    Capabilities,
    Extension,
    OpSupport,
    UnsupportedError,
)
from adapters.source_embedding import function_sources
from adapters.subprocess_proxy import ProxyAdapter
from reference.numerics import numpy_dtype
from reference.params import ChannelShuffle, Conv, ConvTranspose, DeformConv, Params

if TYPE_CHECKING:
    import torch

_ALL = frozenset(DTYPES)
# torchvision's CPU and CUDA deform_conv2d kernels dispatch on float64, float32 and
# float16 only (AT_DISPATCH_FLOATING_TYPES_AND_HALF); bfloat16 raises
# '"deformable_im2col" not implemented for BFloat16'.
_DEFORM_DTYPES = frozenset({"float64", "float32", "float16"})
_RANKS = frozenset({1, 2, 3})
# torch's output_padding check is "smaller than either stride or dilation" (TCONV.5).
_OUTPUT_PADDING_RULE = "stride_or_dilation"
# "Input: (N, C_in, H_in, W_in) or (C_in, H_in, W_in)" in the module docs (ERR.11, ERR.16).
_UNBATCHED_CONV = (
    Extension("unbatched", "https://pytorch.org/docs/stable/generated/torch.nn.Conv2d.html"),
)
_UNBATCHED_TRANSPOSE = (
    Extension(
        "unbatched", "https://pytorch.org/docs/stable/generated/torch.nn.ConvTranspose2d.html"
    ),
)


def _import_torch() -> Any:
    import torch

    return torch


# --- conversion between NumPy and torch ------------------------------------------------------


def _tensor(a: np.ndarray, device: str) -> torch.Tensor:
    """`a` as a torch tensor of the same dtype; bfloat16 travels through float32, exactly."""
    torch = _import_torch()
    if a.dtype == np.dtype(ml_dtypes.bfloat16):
        return torch.from_numpy(a.astype(np.float32)).to(device=device, dtype=torch.bfloat16)
    # A copy: the tensor never aliases the caller's array.
    return torch.from_numpy(np.array(a, copy=True)).to(device)


def _optional_tensor(a: np.ndarray | None, device: str) -> torch.Tensor | None:
    return None if a is None else _tensor(a, device)


def _array(t: torch.Tensor) -> np.ndarray:
    """A tensor back as NumPy in its own dtype (bfloat16 -> ml_dtypes.bfloat16, exactly)."""
    torch = _import_torch()
    t = t.detach().cpu()
    if t.dtype == torch.bfloat16:
        return t.to(torch.float32).numpy().astype(ml_dtypes.bfloat16)
    return np.array(t.numpy(), copy=True)


# --- translation of convspec parameters into torch arguments ---------------------------------


def _symmetric(padding: Any, api: str) -> tuple[int, ...]:
    """Explicit (begin, end) pairs as torch's one-value-per-axis padding."""
    if isinstance(padding, str) or any(b != e for b, e in padding):
        raise UnsupportedError(f"{api} takes one padding per axis, applied to both sides")
    return tuple(int(b) for b, _ in padding)


def _conv_padding(p: Conv, api: str) -> str | tuple[int, ...]:
    """Conv padding: 'valid', 'same' (odd pixel at the end, PAD.6) or symmetric pairs."""
    if p.padding == "valid":
        return "valid"
    if p.padding == "same":
        if p.same_split != "end":
            raise UnsupportedError(f"{api} padding='same' puts the odd pixel at the end")
        return "same"
    return _symmetric(p.padding, api)


def _by_rank(names: Mapping[int, str], rank: int) -> str:
    if rank not in names:
        raise UnsupportedError(f"no torch API for spatial rank {rank}")
    return names[rank]


def _functional(kind: str, rank: int) -> Callable[..., torch.Tensor]:
    functional = _import_torch().nn.functional
    return getattr(functional, _by_rank({1: f"{kind}1d", 2: f"{kind}2d", 3: f"{kind}3d"}, rank))


def _module_class(kind: str, rank: int) -> Any:
    nn = _import_torch().nn
    return getattr(nn, _by_rank({1: f"{kind}1d", 2: f"{kind}2d", 3: f"{kind}3d"}, rank))


# --- the functional surface, and the base of the others --------------------------------------


def _with_torchvision(caps: Capabilities) -> Capabilities:
    """caps, less deform_conv where torchvision (which provides it) does not import.

    torchvision is imported here, when the surface is made, rather than at the first
    deform_conv call: importing it loads torch._dynamo and triton, and in this
    environment loading triton after tensorflow crashes the process (an LLVM clash), so
    it is loaded while the torch surfaces are made, before the TensorFlow ones.
    """
    try:
        import torchvision.ops  # noqa: F401
    except ImportError:
        ops = {op: s for op, s in caps.ops.items() if op != DEFORM_CONV}
        return replace(
            caps,
            ops=ops,
            gradients=caps.gradients - {DEFORM_CONV},
            parameter_counts=caps.parameter_counts - {DEFORM_CONV},
        )
    return caps


class TorchAdapter(Adapter):
    """torch.nn.functional and torchvision.ops on CPU, contiguous operands, default settings."""

    name = "torch"
    framework = "torch"
    # The base of every torch surface's capabilities: the others derive theirs from these
    # (`_derived`), so a declaration they share is made once, here.
    capabilities = Capabilities(
        ops={
            CONV: OpSupport(
                extensions=_UNBATCHED_CONV,
                ranks=_RANKS,
                dtypes=_ALL,
                padding=frozenset({"symmetric", "valid", "same"}),
                # "padding='same' is not supported for strided convolutions" (F.conv2d docs).
                strided_same=False,
            ),
            CONV_TRANSPOSE: OpSupport(
                extensions=_UNBATCHED_TRANSPOSE,
                ranks=_RANKS,
                dtypes=_ALL,
                padding=frozenset({"symmetric"}),
                output_padding_rule=_OUTPUT_PADDING_RULE,
            ),
            DEFORM_CONV: OpSupport(
                ranks=frozenset({2}),
                dtypes=_DEFORM_DTYPES,
                padding=frozenset({"symmetric"}),
                mask=True,
            ),
            CHANNEL_SHUFFLE: OpSupport(ranks=_RANKS, dtypes=_ALL),
        },
        gradients=frozenset({CONV, CONV_TRANSPOSE, DEFORM_CONV}),
        # The counts depend on nothing that the other torch surfaces change, so only this
        # one declares them. FlopCounterMode has no formula for torchvision's deform_conv2d
        # ("unsupported operations contribute zero FLOPs"): no FLOPs are declared for it.
        parameter_counts=frozenset(
            {CONV, CONV_TRANSPOSE, DEFORM_CONV, DEPTHWISE_SEPARABLE, ACNET_BLOCK}
        ),
        flop_counts=frozenset({CONV, CONV_TRANSPOSE}),
        gradient_flop_counts=frozenset({CONV, CONV_TRANSPOSE}),
    )

    def __init__(self) -> None:
        _import_torch()  # ImportError here reports the surface unavailable
        if DEFORM_CONV in self.capabilities.ops:
            self.capabilities = _with_torchvision(self.capabilities)

    def version(self) -> str:
        return str(_import_torch().__version__)

    def describe(self) -> str:
        return f"{self.name} ({self._settings()})"

    def platform(self) -> dict[str, Any]:
        torch = _import_torch()
        return {
            # ATen's vectorized CPU kernels: 'DEFAULT', 'AVX2' or 'AVX512' on x86-64
            # (ATEN_CPU_CAPABILITY lowers it).
            "torch_capability": str(torch.backends.cpu.get_cpu_capability()),
            "mkldnn": bool(torch.backends.mkldnn.is_available() and torch.backends.mkldnn.enabled),
        }

    def _settings(self) -> str:
        """Versions and the global settings that choose CPU code paths, for reports."""
        torch = _import_torch()
        parts = [f"torch {torch.__version__}"]
        with contextlib.suppress(PackageNotFoundError):
            parts.append(f"torchvision {package_version('torchvision')}")
        parts += [
            self.device,
            f"mkldnn enabled={torch.backends.mkldnn.enabled}",
            f"mkldnn.conv.fp32_precision={torch.backends.mkldnn.conv.fp32_precision}",
            f"threads={torch.get_num_threads()}",
        ]
        return ", ".join(parts)

    # --- hooks the other surfaces override ---------------------------------------------------
    def _operand(self, t: torch.Tensor) -> torch.Tensor:
        """How an input or weight tensor is laid out in memory before the call."""
        return t

    def _mode(self) -> contextlib.AbstractContextManager[object]:
        """The execution mode around the call (and around its backward)."""
        return contextlib.nullcontext()

    def _result(self, t: torch.Tensor) -> np.ndarray:
        """A result or gradient tensor as the NumPy array the adapter returns."""
        return _array(t)

    # --- the calls, on tensors ---------------------------------------------------------------
    def _conv(self, x: Any, w: Any, b: Any, p: Conv) -> torch.Tensor:
        if p.padding_mode != "zeros":
            raise UnsupportedError("torch.nn.functional.conv*d pads with zeros only")
        conv = _functional("conv", p.rank)
        padding = _conv_padding(p, conv.__name__)
        return conv(self._operand(x), self._operand(w), b, p.stride, padding, p.dilation, p.groups)

    def _conv_transpose(self, x: Any, w: Any, b: Any, p: ConvTranspose) -> torch.Tensor:
        conv_transpose = _functional("conv_transpose", p.rank)
        padding = _symmetric(p.padding, conv_transpose.__name__)
        return conv_transpose(
            self._operand(x),
            self._operand(w),
            b,
            p.stride,
            padding,
            p.output_padding,
            p.groups,
            p.dilation,
        )

    def _deform_conv(
        self, x: Any, offset: Any, mask: Any, w: Any, b: Any, p: DeformConv
    ) -> torch.Tensor:
        from torchvision.ops import deform_conv2d

        padding = _symmetric(p.padding, "torchvision.ops.deform_conv2d")
        # groups and offset_groups are not arguments: torchvision reads them off the
        # weight and offset shapes (see `limitation`).
        return deform_conv2d(
            self._operand(x),
            self._operand(offset),
            self._operand(w),
            b,
            stride=p.stride,
            padding=padding,
            dilation=p.dilation,
            mask=None if mask is None else self._operand(mask),
        )

    def _channel_shuffle(self, x: Any, p: ChannelShuffle) -> torch.Tensor:
        return _import_torch().nn.functional.channel_shuffle(self._operand(x), p.groups)

    def _forward(self, op: str, t: Mapping[str, Any], p: Params) -> torch.Tensor:
        if op == CONV and isinstance(p, Conv):
            return self._conv(t["x"], t["w"], t.get("b"), p)
        if op == CONV_TRANSPOSE and isinstance(p, ConvTranspose):
            return self._conv_transpose(t["x"], t["w"], t.get("b"), p)
        if op == DEFORM_CONV and isinstance(p, DeformConv):
            return self._deform_conv(t["x"], t["offset"], t.get("mask"), t["w"], t.get("b"), p)
        if op == CHANNEL_SHUFFLE and isinstance(p, ChannelShuffle):
            return self._channel_shuffle(t["x"], p)
        raise UnsupportedError(f"{self.name} has no {op} taking {type(p).__name__}")

    def _run(self, op: str, arrays: Mapping[str, np.ndarray | None], p: Params) -> np.ndarray:
        self._check_declared(op)
        tensors = {k: _optional_tensor(a, self.device) for k, a in arrays.items()}
        torch = _import_torch()
        with self._mode(), torch.no_grad():
            return self._result(self._forward(op, tensors, p))

    def _check_declared(self, op: str) -> None:
        if self.support(op) is None:
            raise UnsupportedError(f"{self.name} does not declare {op}")

    # --- the adapter contract ----------------------------------------------------------------
    def conv(self, x: np.ndarray, w: np.ndarray, b: np.ndarray | None, p: Conv) -> np.ndarray:
        return self._run(CONV, {"x": x, "w": w, "b": b}, p)

    def conv_transpose(
        self, x: np.ndarray, w: np.ndarray, b: np.ndarray | None, p: ConvTranspose
    ) -> np.ndarray:
        return self._run(CONV_TRANSPOSE, {"x": x, "w": w, "b": b}, p)

    def deform_conv(
        self,
        x: np.ndarray,
        offset: np.ndarray,
        mask: np.ndarray | None,
        w: np.ndarray,
        b: np.ndarray | None,
        p: DeformConv,
    ) -> np.ndarray:
        arrays = {"x": x, "offset": offset, "mask": mask, "w": w, "b": b}
        return self._run(DEFORM_CONV, arrays, p)

    def channel_shuffle(self, x: np.ndarray, p: ChannelShuffle) -> np.ndarray:
        return self._run(CHANNEL_SHUFFLE, {"x": x}, p)

    def parameter_count(self, op: str, p: Params, shapes: Mapping[str, Any]) -> int | None:
        """sum(t.numel() for t in module.parameters()), PyTorch's way of counting a module's
        parameters, over the modules a user builds for `op` (COST.18)."""
        if op not in self.capabilities.parameter_counts:
            return None
        return sum(t.numel() for t in _counted_module(op, p, shapes).parameters())

    def flop_count(
        self, op: str, p: Params, shapes: Mapping[str, Any], wrt: tuple[str, ...] = ()
    ) -> int | None:
        """torch.utils.flop_counter.FlopCounterMode around the functional call, or around
        torch.autograd.grad for the gradients named in `wrt` (COST.18). Meta tensors: the
        counter reads shapes only, so nothing is computed."""
        if op not in self.capabilities.flop_counts:
            return None
        from torch.utils.flop_counter import FlopCounterMode

        torch = _import_torch()
        tensors = {
            k: None if s is None else torch.empty(s, device="meta", requires_grad=k in wrt)
            for k, s in shapes.items()
        }
        with FlopCounterMode(display=False) as forward:
            y = self._forward(op, tensors, p)
        if not wrt:
            return int(forward.get_total_flops())
        with FlopCounterMode(display=False) as backward:
            torch.autograd.grad(y, [tensors[k] for k in wrt], torch.empty_like(y))
        return int(backward.get_total_flops())

    def vjp(
        self,
        op: str,
        arrays: Mapping[str, np.ndarray | None],
        p: Params,
        cotangent: np.ndarray,
    ) -> dict[str, np.ndarray]:
        """torch.autograd.grad of sum(op(**arrays) * cotangent), in this surface's mode."""
        if op not in self.capabilities.gradients:
            raise UnsupportedError(f"{self.name} declares no gradient of {op}")
        torch = _import_torch()
        leaves = {
            k: _tensor(a, self.device).requires_grad_() for k, a in arrays.items() if a is not None
        }
        tensors = {k: leaves.get(k) for k in arrays}
        with self._mode():
            y = self._forward(op, tensors, p)
            grads = torch.autograd.grad(
                y, list(leaves.values()), grad_outputs=_tensor(cotangent, self.device)
            )
        return {k: self._result(g) for k, g in zip(leaves, grads, strict=True)}

    def limitation(self, op: str, p: Params, shapes: Mapping[str, Any], dtype: str) -> str | None:
        if op == DEFORM_CONV and isinstance(p, DeformConv):
            return _deform_groups_limitation(p, shapes)
        return None

    # --- repro scripts (suites/repro.py) -----------------------------------------------------
    # What the scripts apply to the operand tensors `t` where `_operand` does, and the context
    # of the call, with the plain functions that both name (their source is embedded): the
    # scripts must take the code path that this surface takes.
    _REPRO_LAYOUT = "t"
    _REPRO_MODE = "torch.no_grad()"
    _REPRO_HELPERS: tuple[Callable[..., Any], ...] = ()
    _REPRO_RESULT = "y.to(torch.float64).cpu().numpy()"

    def repro_source(self, op: str, p: Params, dtype: str) -> str | None:
        if self.support(op) is None:
            return None
        try:
            statements = self._repro_call(op, p)
        except UnsupportedError:
            return None
        body = "\n".join(f"        {line}" for line in statements.splitlines())
        return _REPRO_TEMPLATE.format(
            imports="import torchvision.ops\n" if op == DEFORM_CONV else "",
            device=self.device,
            dtype=dtype,
            helpers=function_sources(*self._REPRO_HELPERS) + "\n\n\n"
            if self._REPRO_HELPERS
            else "",
            layout=self._REPRO_LAYOUT,
            mode=self._REPRO_MODE,
            body=body,
            result=self._REPRO_RESULT,
        )

    def _repro_call(self, op: str, p: Params) -> str:
        """Statements that set `y` from the laid-out tensors, as `_forward` does."""
        if op == CONV and isinstance(p, Conv):
            if p.padding_mode != "zeros":
                raise UnsupportedError("torch.nn.functional.conv*d pads with zeros only")
            name = _by_rank({1: "conv1d", 2: "conv2d", 3: "conv3d"}, p.rank)
            return (
                f"y = F.{name}(x, w, b, stride={p.stride!r}, "
                f"padding={_conv_padding(p, name)!r}, dilation={p.dilation!r}, "
                f"groups={p.groups!r})"
            )
        if op == CONV_TRANSPOSE and isinstance(p, ConvTranspose):
            name = _by_rank(
                {1: "conv_transpose1d", 2: "conv_transpose2d", 3: "conv_transpose3d"}, p.rank
            )
            return (
                f"y = F.{name}(x, w, b, stride={p.stride!r}, "
                f"padding={_symmetric(p.padding, name)!r}, "
                f"output_padding={p.output_padding!r}, groups={p.groups!r}, "
                f"dilation={p.dilation!r})"
            )
        if op == DEFORM_CONV and isinstance(p, DeformConv):
            padding = _symmetric(p.padding, "deform_conv2d")
            return (
                f"y = torchvision.ops.deform_conv2d(x, offset, w, b, stride={p.stride!r}, "
                f"padding={padding!r}, dilation={p.dilation!r}, mask=mask)"
            )
        if op == CHANNEL_SHUFFLE and isinstance(p, ChannelShuffle):
            return f"y = F.channel_shuffle(x, {p.groups!r})"
        raise UnsupportedError(f"{self.name} has no {op} taking {type(p).__name__}")


_CONV_GRADIENTS = frozenset({CONV, CONV_TRANSPOSE})


def _derived(ops: Mapping[str, Mapping[str, Any]] | None = None, **changes: Any) -> Capabilities:
    """The torch surface's capabilities with `changes`, for another torch surface.

    `ops`: the operations it declares, in this order, each with the changes to the torch
    surface's OpSupport of it (None: all of the torch surface's, unchanged). The counters
    (COST.18) are the torch surface's alone, as no other surface changes what a module or
    a call counts: the others declare none.
    """
    base = TorchAdapter.capabilities
    declared = (
        base.ops if ops is None else {op: replace(base.ops[op], **c) for op, c in ops.items()}
    )
    return replace(
        base,
        ops=declared,
        parameter_counts=frozenset(),
        flop_counts=frozenset(),
        gradient_flop_counts=frozenset(),
        **changes,
    )


_REPRO_TEMPLATE = """\
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
{imports}
DEVICE = {device!r}
DTYPE = torch.{dtype}


def _tensor(a):
    if a is None:
        return None
    # The values are exactly representable in DTYPE: the conversion is exact.
    return torch.from_numpy(np.asarray(a, dtype=np.float64)).to(device=DEVICE, dtype=DTYPE)


{helpers}def call(x=None, w=None, b=None, offset=None, mask=None):
    x, w, b, offset, mask = (_tensor(a) for a in (x, w, b, offset, mask))
    x, w, offset, mask = (None if t is None else {layout} for t in (x, w, offset, mask))
    with {mode}:
{body}
    return {result}
"""


def _deform_groups_limitation(p: DeformConv, shapes: Mapping[str, Any]) -> str | None:
    """torchvision.ops.deform_conv2d has no groups/offset_groups arguments.

    Its documentation gives the weight as (out_channels, in_channels // groups, kh, kw) and
    the offset as (N, 2 * offset_groups * kh * kw, H_out, W_out), and it computes
    groups = in_channels // weight.shape[1] and offset_groups = offset.shape[1] // (2*kh*kw),
    rejecting shapes that do not divide. Where the shapes divide but imply other counts than
    p asks for, p cannot be expressed.
    """
    x, w, offset = shapes.get("x"), shapes.get("w"), shapes.get("offset")
    if not (x and w and offset) or len(x) < 2 or len(w) < 4 or len(offset) < 2:
        return None
    if w[1] > 0 and x[1] % w[1] == 0 and x[1] // w[1] != p.groups:
        return (
            "torchvision.ops.deform_conv2d takes no groups argument: it uses "
            f"in_channels // weight.shape[1] = {x[1] // w[1]}, not groups={p.groups}"
        )
    taps = 2 * w[2] * w[3]
    if taps > 0 and offset[1] % taps == 0 and offset[1] // taps != p.offset_groups:
        return (
            "torchvision.ops.deform_conv2d takes no offset_groups argument: it uses "
            f"offset.shape[1] // (2*kh*kw) = {offset[1] // taps}, "
            f"not offset_groups={p.offset_groups}"
        )
    return None


def _counted_module(op: str, p: Params, shapes: Mapping[str, Any]) -> torch.nn.Module:
    """The modules a user builds for `op` with these operand shapes, on the meta device
    where the class takes one (nothing to allocate or initialise)."""
    nn = _import_torch().nn
    if op == CONV and isinstance(p, Conv):
        w = shapes["w"]
        return _module_class("Conv", p.rank)(
            w[1] * p.groups,
            w[0],
            tuple(w[2:]),
            stride=p.stride,
            padding=_conv_padding(p, "nn.Conv"),
            dilation=p.dilation,
            groups=p.groups,
            bias=shapes.get("b") is not None,
            padding_mode=p.padding_mode,
            device="meta",
        )
    if op == CONV_TRANSPOSE and isinstance(p, ConvTranspose):
        w = shapes["w"]
        return _module_class("ConvTranspose", p.rank)(
            w[0],
            w[1] * p.groups,
            tuple(w[2:]),
            stride=p.stride,
            padding=_symmetric(p.padding, "nn.ConvTranspose"),
            output_padding=p.output_padding,
            groups=p.groups,
            bias=shapes.get("b") is not None,
            dilation=p.dilation,
            device="meta",
        )
    if op == DEFORM_CONV and isinstance(p, DeformConv):
        from torchvision.ops import DeformConv2d

        w = shapes["w"]
        # DeformConv2d takes no device: its weights are allocated, as small as drawn.
        return DeformConv2d(
            w[1] * p.groups,
            w[0],
            tuple(w[2:]),
            stride=p.stride,
            padding=_symmetric(p.padding, "DeformConv2d"),
            dilation=p.dilation,
            groups=p.groups,
            bias=shapes.get("b") is not None,
        )
    if op == DEPTHWISE_SEPARABLE and isinstance(p, Conv):
        depth, point = shapes["w_depth"], shapes["w_point"]
        conv = _module_class("Conv", p.rank)
        # Biases where the drawn block has them: none on the depthwise step (SEP.1).
        return nn.Sequential(
            conv(
                depth[1] * p.groups,
                depth[0],
                tuple(depth[2:]),
                stride=p.stride,
                padding=_conv_padding(p, "nn.Conv"),
                dilation=p.dilation,
                groups=p.groups,
                bias=False,
                device="meta",
            ),
            conv(point[1], point[0], 1, bias=shapes.get("b") is not None, device="meta"),
        )
    if op == ACNET_BLOCK and isinstance(p, Conv):
        # ACNET.1: three convolutions without bias, each with its batch norm. Padding does
        # not change a parameter count (COST.1), so the branches keep the default.
        branches = [shapes[name] for name in ("square", "horizontal", "vertical")]
        return nn.ModuleList(
            module
            for w in branches
            for module in (
                nn.Conv2d(
                    w[1] * p.groups,
                    w[0],
                    tuple(w[2:]),
                    groups=p.groups,
                    bias=False,
                    device="meta",
                ),
                nn.BatchNorm2d(w[0], device="meta"),
            )
        )
    raise UnsupportedError(f"torch counts no parameters of {op} taking {type(p).__name__}")


# --- torch.nn modules --------------------------------------------------------------------------


class TorchModuleAdapter(TorchAdapter):
    """nn.ConvNd / nn.ConvTransposeNd / nn.ChannelShuffle, called with the drawn parameters.

    Modules are built on the meta device (no random initialisation to throw away) and
    called through torch.func.functional_call with the drawn weight and bias, so autograd
    reaches them and a weight or bias of another shape than the module's reaches torch's
    own checks, where copying it into the module's parameters would broadcast it. The
    module's channel counts come from the weight, as a user sizes a module to its weights;
    a mismatched input then meets the module's own check.
    """

    name = "torch.module"
    # nn.ConvNd pads in all four modes (and, as F.conv*d, rejects 'same' with a stride).
    capabilities = _derived(
        {
            CONV: {"padding_modes": frozenset(PADDING_MODES)},
            CONV_TRANSPOSE: {},
            CHANNEL_SHUFFLE: {},
        },
        gradients=_CONV_GRADIENTS,
    )

    def _call(self, module: Any, x: Any, w: Any, b: Any) -> torch.Tensor:
        from torch.func import functional_call

        return functional_call(module, {"weight": w, "bias": b}, (x,))

    def _conv(self, x: Any, w: Any, b: Any, p: Conv) -> torch.Tensor:
        cls = _module_class("Conv", p.rank)
        module = cls(
            in_channels=w.shape[1] * p.groups,
            out_channels=w.shape[0],
            kernel_size=tuple(w.shape[2:]),
            stride=p.stride,
            padding=_conv_padding(p, cls.__name__),
            dilation=p.dilation,
            groups=p.groups,
            bias=b is not None,
            padding_mode=p.padding_mode,
            device="meta",
            dtype=x.dtype,
        )
        return self._call(module, x, w, b)

    def _conv_transpose(self, x: Any, w: Any, b: Any, p: ConvTranspose) -> torch.Tensor:
        cls = _module_class("ConvTranspose", p.rank)
        module = cls(
            in_channels=w.shape[0],
            out_channels=w.shape[1] * p.groups,
            kernel_size=tuple(w.shape[2:]),
            stride=p.stride,
            padding=_symmetric(p.padding, cls.__name__),
            output_padding=p.output_padding,
            groups=p.groups,
            bias=b is not None,
            dilation=p.dilation,
            device="meta",
            dtype=x.dtype,
        )
        return self._call(module, x, w, b)

    def _channel_shuffle(self, x: Any, p: ChannelShuffle) -> torch.Tensor:
        return _import_torch().nn.ChannelShuffle(p.groups)(x)

    def _repro_call(self, op: str, p: Params) -> str:
        if op == CONV and isinstance(p, Conv):
            name = _by_rank({1: "Conv1d", 2: "Conv2d", 3: "Conv3d"}, p.rank)
            module = (
                f"torch.nn.{name}(w.shape[1] * {p.groups!r}, w.shape[0], tuple(w.shape[2:]), "
                f"stride={p.stride!r}, padding={_conv_padding(p, name)!r}, "
                f"dilation={p.dilation!r}, groups={p.groups!r}, bias=b is not None, "
                f"padding_mode={p.padding_mode!r}, device='meta', dtype=x.dtype)"
            )
        elif op == CONV_TRANSPOSE and isinstance(p, ConvTranspose):
            names = {1: "ConvTranspose1d", 2: "ConvTranspose2d", 3: "ConvTranspose3d"}
            name = _by_rank(names, p.rank)
            module = (
                f"torch.nn.{name}(w.shape[0], w.shape[1] * {p.groups!r}, tuple(w.shape[2:]), "
                f"stride={p.stride!r}, padding={_symmetric(p.padding, name)!r}, "
                f"output_padding={p.output_padding!r}, groups={p.groups!r}, "
                f"bias=b is not None, dilation={p.dilation!r}, device='meta', dtype=x.dtype)"
            )
        elif op == CHANNEL_SHUFFLE and isinstance(p, ChannelShuffle):
            return f"y = torch.nn.ChannelShuffle({p.groups!r})(x)"
        else:
            raise UnsupportedError(f"{self.name} has no {op} taking {type(p).__name__}")
        return (
            f"module = {module}\n"
            "y = torch.func.functional_call(module, {'weight': w, 'bias': b}, (x,))"
        )


# --- execution modes of the functional calls ---------------------------------------------------
# The operand layouts and the oneDNN switch are plain functions of the torch module: the
# surfaces call them, and their repro scripts embed their source (adapters/source_embedding.py).


def channels_last(torch: Any, t: Any) -> Any:
    """t in channels_last (4-D) / channels_last_3d (5-D) memory format; a tensor of another
    rank is a malformed operand, left as it is for torch's own checks to report."""
    formats = {4: torch.channels_last, 5: torch.channels_last_3d}
    if t.dim() not in formats:
        return t
    return t.contiguous(memory_format=formats[t.dim()])


def strided_view(torch: Any, t: Any) -> Any:
    """t as a view whose strides are all doubled, with the same values (differentiable): two
    copies interleaved in a tensor twice the size, then every other element."""
    return torch.stack((t, t), dim=-1)[..., 0]


def mkldnn_disabled(torch: Any) -> Any:
    """The context in which torch's convolutions run without oneDNN. Only `enabled` changes:
    flags() would otherwise also set oneDNN's TF32 and fp32_precision settings to its
    defaults."""
    return torch.backends.mkldnn.flags(
        enabled=False, deterministic=None, allow_tf32=None, fp32_precision=None
    )


class TorchChannelsLastAdapter(TorchAdapter):
    """Operands in channels_last (4-D) / channels_last_3d (5-D) memory format."""

    name = "torch.channels_last"
    # An unbatched input (one axis fewer) has no channels_last format: `_operand` leaves it
    # as it is, and torch computes the documented extension on it.
    # Ranks 2 and 3 (channels_last, channels_last_3d); channel_shuffle has its own
    # channels-last CPU kernel.
    capabilities = _derived(
        {op: {"ranks": frozenset({2, 3})} for op in (CONV, CONV_TRANSPOSE, CHANNEL_SHUFFLE)},
        gradients=_CONV_GRADIENTS,
    )

    def _operand(self, t: torch.Tensor) -> torch.Tensor:
        return channels_last(_import_torch(), t)

    _REPRO_LAYOUT = "channels_last(torch, t)"
    _REPRO_HELPERS = (channels_last,)


class TorchChannelsLastProxy(ProxyAdapter):
    """torch.channels_last, run in a child process.

    On CPUs with AVX512-BF16, oneDNN's brgemm convolution (brg_conv_fwd:avx512_core_bf16),
    which bfloat16 channels_last operands reach, segfaults on some small valid shapes and
    corrupts memory on others (later, unrelated calls then crash), so this surface runs
    where a crash is a BackendCrash of this surface, not the end of the run.
    """

    name = "torch.channels_last"
    framework = "torch"
    # A child process with its own framework import: tested when named with --backend.
    opt_in = True

    def __init__(self) -> None:
        if importlib.util.find_spec("torch") is None:
            raise ImportError("No module named 'torch'")
        # wait=False: the child imports torch while this process goes on.
        super().__init__("adapters.torch_backend:TorchChannelsLastAdapter", wait=False)


class TorchNonContiguousAdapter(TorchAdapter):
    """Operands that are strided views (every stride doubled) with the same values."""

    name = "torch.noncontig"
    capabilities = _derived(
        {CONV: {}, CONV_TRANSPOSE: {}, CHANNEL_SHUFFLE: {}}, gradients=_CONV_GRADIENTS
    )

    def _operand(self, t: torch.Tensor) -> torch.Tensor:
        return strided_view(_import_torch(), t)

    _REPRO_LAYOUT = "strided_view(torch, t)"
    _REPRO_HELPERS = (strided_view,)


class TorchMkldnnOffAdapter(TorchAdapter):
    """The functional calls with oneDNN disabled: the slow (im2col) kernels and NNPACK."""

    name = "torch.mkldnn_off"
    # NNPACK (Winograd/FFT) runs float32 1-D/2-D forward convolutions with batch >= 16 once
    # oneDNN is off: see the module docstring.
    capabilities = _derived({CONV: {"exact": False}, CONV_TRANSPOSE: {}}, gradients=_CONV_GRADIENTS)

    def platform(self) -> dict[str, Any]:
        return {**super().platform(), "mkldnn": False}  # its calls run with oneDNN off

    @contextlib.contextmanager
    def _mode(self) -> Iterator[None]:
        with mkldnn_disabled(_import_torch()):
            yield

    _REPRO_MODE = "torch.no_grad(), mkldnn_disabled(torch)"
    _REPRO_HELPERS = (mkldnn_disabled,)


class TorchCudaAdapter(TorchAdapter):
    """The functional surface on the first CUDA device, with torch's default TF32 settings."""

    name = "torch.cuda"
    # cuDNN may pick Winograd/FFT algorithms, and TF32 for float32.
    capabilities = _derived(
        {
            CONV: {"exact": False},
            CONV_TRANSPOSE: {"exact": False},
            DEFORM_CONV: {},
            CHANNEL_SHUFFLE: {},
        },
        device="cuda:0",
    )

    def __init__(self) -> None:
        if not _import_torch().cuda.is_available():
            raise ImportError("CUDA not available")
        super().__init__()

    def _settings(self) -> str:
        # TF32 is left at torch's defaults on purpose: a TF32 discrepancy is a finding.
        torch = _import_torch()
        return ", ".join(
            (
                super()._settings(),
                torch.cuda.get_device_name(0),
                f"cudnn {torch.backends.cudnn.version()}",
                f"cudnn.allow_tf32={torch.backends.cudnn.allow_tf32}",
                f"cudnn.conv.fp32_precision={torch.backends.cudnn.conv.fp32_precision}",
                f"cuda.matmul.allow_tf32={torch.backends.cuda.matmul.allow_tf32}",
            )
        )


class TorchMetaAdapter(TorchAdapter):
    """The functional calls on tensors of the meta device: shapes, dtypes and errors only.

    A meta tensor has a shape and a dtype and no storage; an operation on it runs the
    operator's meta function (torch/_meta_registrations.py, torchvision's for
    deform_conv2d), the shape and argument checks that FakeTensor, and with it the tracing of
    torch.compile and torch.export, also run. So this surface checks every size clause and
    every rejection of the whole suite without computing a value, and its results are NaN
    arrays of the returned shape and dtype (Capabilities.values).
    """

    name = "torch.meta"
    # The counters (COST.18) are the torch surface's: the meta device changes no count.
    capabilities = _derived(device="meta", values=False)

    def _result(self, t: torch.Tensor) -> np.ndarray:
        if t.device.type != "meta":
            return _array(t)
        return np.full(
            tuple(t.shape), np.nan, dtype=numpy_dtype(str(t.dtype).removeprefix("torch."))
        )

    _REPRO_RESULT = "np.full(tuple(y.shape), np.nan)  # a meta tensor: its shape, no values"


# --- torch.compile ------------------------------------------------------------------------------


# How every compiled callable of torch.compile is made, in the adapter and in its repro scripts.
# backend='inductor': TorchDynamo captures the call, AOTAutograd and Inductor compile it (C++ on
#   the CPU, with the compiler of torch._inductor.config.cpp.cxx).
# dynamic=False: every graph is specialised to its input shapes and dtypes (a new shape is a
#   recompilation), as the parameters are Python constants baked into the graph.
# fullgraph=True: the whole call is one graph; a graph break raises instead of running the
#   call eagerly, and so does exceeding the recompile limit (instead of a silent fallback to
#   eager), so that the surface never reports eager torch as torch.compile.
# recompile_limit: graphs one callable may hold (shapes x dtypes x grad mode x bias or not).
#   TorchDynamo's default, 8 (torch._dynamo.config.recompile_limit), and even 64 were reached
#   while Hypothesis shrank a failure through the shapes of one parameter set; the limit guards
#   against recompiling forever, which cannot happen here, so it is set out of reach, and so is
#   the cap on all graphs of one code object (accumulated_recompile_limit, 256), in `_mode`.
_COMPILE_RECOMPILE_LIMIT = 100_000


def _compile_options(dynamic: bool | None) -> str:
    return (
        f"backend='inductor', dynamic={dynamic!r}, fullgraph=True, "
        f"recompile_limit={_COMPILE_RECOMPILE_LIMIT!r}"
    )


def _compiled_function_source(statements: str) -> str:
    """The function torch.compile gets: the torch surface's call with its parameters as
    literals, a function of the operand tensors only."""
    body = textwrap.indent(statements, "    ")
    return f"def _forward(x=None, w=None, b=None, offset=None, mask=None):\n{body}\n    return y\n"


def private_inductor_cache() -> None:
    """Point inductor at a cache directory of this process's own, unless the user chose one.

    Inductor's on-disk caches do not key their kernels by the vector ISA that
    ATEN_CPU_CAPABILITY selects: a kernel compiled under one is served under another, with
    wrong values or a crash (FINDINGS.md §39). A fresh directory per process keeps a result
    to the platform of the run that computed it."""
    import atexit
    import tempfile

    if "TORCHINDUCTOR_CACHE_DIR" not in os.environ:
        directory = tempfile.mkdtemp(prefix="inductor-cache-")
        os.environ["TORCHINDUCTOR_CACHE_DIR"] = directory
        atexit.register(shutil.rmtree, directory, ignore_errors=True)


class TorchCompileAdapter(TorchAdapter):
    """The functional calls compiled by torch.compile (inductor backend) on the CPU.

    One compiled callable per operation and parameter set: its function is the torch
    surface's call statement (`_repro_call`, so the repro scripts hold the same function),
    with the parameters written as Python literals and the operand tensors as its only
    arguments, executed from its own source so that each parameter set has its own code
    object: TorchDynamo caches graphs, and counts recompilations, per code object. The
    callables are kept for the life of the adapter; each specialises (dynamic=False) to the
    shapes, dtypes and grad mode it meets, so every new shape is a compilation: about 2.5 s
    on a 2-core Xeon (the first one in a process several more), which is why the surface is
    opt-in and why it runs in a child process (TorchCompileProxy), where a crash of generated
    code is a BackendCrash of this surface. Capabilities, operand layouts and the
    translation of parameters are the torch surface's: only the execution differs.
    Gradients: the compiled forward is called on tensors that require grad, and
    torch.autograd.grad runs the backward graph AOTAutograd compiled with it.
    """

    name = "torch.compile"
    # No other algorithm than torch's (see the module docstring): the same declarations.
    # The counters (COST.18) are the torch surface's: compiling changes no count.
    capabilities = _derived()
    # Overridable: dynamic=False (one graph per shape) is what this surface tests.
    dynamic: bool | None = False

    def __init__(self) -> None:
        private_inductor_cache()  # before torch's first import here: inductor reads it early
        super().__init__()
        torch = _import_torch()
        from torch._inductor import cpp_builder

        try:
            # Inductor writes and compiles C++ for the CPU: without a compiler every call
            # would fail, so the surface is unavailable instead.
            self._cxx = cpp_builder.get_cpp_compiler()
        except Exception as exc:  # torch._inductor.exc.InvalidCxxCompiler
            raise ImportError(f"torch.compile (inductor) finds no C++ compiler: {exc}") from exc
        self._torch = torch
        self._compiled: dict[tuple[str, Params], Callable[..., Any]] = {}
        self.compilations = 0  # callables made (one per operation and parameter set)

    def platform(self) -> dict[str, Any]:
        from torch._inductor.cpu_vec_isa import pick_vec_isa

        # The vector ISA inductor's generated C++ targets: e.g. 'avx512 avx512_vnni amx_tile'
        # (VecAMX), 'avx2' (VecAVX2); ATEN_CPU_CAPABILITY lowers it.
        return {**super().platform(), "inductor_vec_isa": str(pick_vec_isa())}

    def _settings(self) -> str:
        return (
            f"{super()._settings()}, torch.compile({_compile_options(self.dynamic)}), "
            f"cxx={self._cxx}"
        )

    def _mode(self) -> contextlib.AbstractContextManager[object]:
        # Inside this context a callable may hold up to _COMPILE_RECOMPILE_LIMIT graphs.
        patch: contextlib.AbstractContextManager[object] = self._torch._dynamo.config.patch(
            accumulated_recompile_limit=_COMPILE_RECOMPILE_LIMIT
        )
        return patch

    def _callable(self, op: str, p: Params) -> Callable[..., Any]:
        key = (op, p)
        if key not in self._compiled:
            source = _compiled_function_source(self._repro_call(op, p))
            namespace: dict[str, Any] = {"torch": self._torch, "F": self._torch.nn.functional}
            if op == DEFORM_CONV:
                import torchvision.ops

                namespace["torchvision"] = torchvision
            exec(compile(source, f"<torch.compile {op} {p!r}>", "exec"), namespace)
            self._compiled[key] = self._torch.compile(
                namespace["_forward"],
                backend="inductor",
                dynamic=self.dynamic,
                fullgraph=True,
                recompile_limit=_COMPILE_RECOMPILE_LIMIT,
            )
            self.compilations += 1
        return self._compiled[key]

    def _forward(self, op: str, t: Mapping[str, Any], p: Params) -> torch.Tensor:
        # _repro_call raises UnsupportedError where the torch surface's own calls do.
        return self._callable(op, p)(**t)

    def repro_source(self, op: str, p: Params, dtype: str) -> str | None:
        if self.support(op) is None:
            return None
        try:
            statements = self._repro_call(op, p)
        except UnsupportedError:
            return None
        return _COMPILE_REPRO_TEMPLATE.format(
            imports="import torchvision.ops\n" if op == DEFORM_CONV else "",
            device=self.device,
            dtype=dtype,
            function=_compiled_function_source(statements),
            cache=function_sources(private_inductor_cache),
            options=_compile_options(self.dynamic),
        )


_COMPILE_REPRO_TEMPLATE = """\
import os
import shutil

import numpy as np
import torch
import torch.nn.functional as F
{imports}
DEVICE = {device!r}
DTYPE = torch.{dtype}


def _tensor(a):
    if a is None:
        return None
    # The values are exactly representable in DTYPE: the conversion is exact.
    return torch.from_numpy(np.asarray(a, dtype=np.float64)).to(device=DEVICE, dtype=DTYPE)


{function}

{cache}
private_inductor_cache()
compiled = torch.compile(_forward, {options})


def call(x=None, w=None, b=None, offset=None, mask=None):
    x, w, b, offset, mask = (_tensor(a) for a in (x, w, b, offset, mask))
    with torch.no_grad():
        y = compiled(x=x, w=w, b=b, offset=offset, mask=mask)
    return y.to(torch.float64).cpu().numpy()
"""


class TorchCompileProxy(ProxyAdapter):
    """The torch.compile surface, run in a child process.

    Code that inductor generates and compiles runs in the process that calls it, so a
    crash there would end the run; in a child it is a BackendCrash of this surface. Each
    new shape costs a compilation (seconds), so the surface is tested when named with
    --backend only.
    """

    name = "torch.compile"
    framework = "torch"
    # A child process with its own framework import, and seconds of compilation per new
    # shape: tested when named with --backend.
    opt_in = True

    def __init__(self) -> None:
        if importlib.util.find_spec("torch") is None:
            raise ImportError("No module named 'torch'")
        # The child's adapter asks inductor for its compiler (cpp_builder.get_cpp_compiler);
        # this cheap look-up of inductor's default (torch._inductor.config.cpp.cxx: $CXX, else
        # g++, clang++ on macOS) makes the surface unavailable here, before a child is
        # started, where there is none.
        cxx = os.environ.get("CXX", "clang++" if sys.platform == "darwin" else "g++")
        if shutil.which(cxx) is None:
            raise ImportError(f"torch.compile (inductor) needs a C++ compiler: {cxx} not found")
        # wait=False: the child imports torch while this process goes on.
        super().__init__(self._CHILD, wait=False)

    _CHILD = "adapters.torch_backend:TorchCompileAdapter"


class TorchCompileDynamicAdapter(TorchCompileAdapter):
    """torch.compile with dynamic=True: one graph per operation and parameter set, with
    symbolic sizes, where TorchDynamo's guards allow (sizes 0 and 1 are still specialised).

    The generated kernels then take sizes as arguments instead of constants, so another
    code path of inductor's (and other guards of TorchDynamo's) is what this surface tests.
    """

    name = "torch.compile.dynamic"
    dynamic = True


class TorchCompileDynamicProxy(TorchCompileProxy):
    """torch.compile.dynamic, run in a child process (see TorchCompileProxy)."""

    name = "torch.compile.dynamic"
    _CHILD = "adapters.torch_backend:TorchCompileDynamicAdapter"


SURFACES: dict[str, Callable[[], Adapter]] = {
    "torch": TorchAdapter,
    "torch.module": TorchModuleAdapter,
    "torch.channels_last": TorchChannelsLastProxy,
    "torch.noncontig": TorchNonContiguousAdapter,
    "torch.mkldnn_off": TorchMkldnnOffAdapter,
    "torch.meta": TorchMetaAdapter,
    "torch.cuda": TorchCudaAdapter,
    "torch.compile": TorchCompileProxy,
    "torch.compile.dynamic": TorchCompileDynamicProxy,
}
