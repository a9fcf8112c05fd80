"""The adapter contract: what a backend implements so that convspec can fuzz it.

An adapter receives NumPy arrays in convspec's canonical layout (spec clause
LAYOUT.1) and in the dtype under test, calls its framework, and returns a
NumPy array in the canonical layout. All layout and dtype conversion for a
framework lives in its adapter; no convolution math does.

An adapter declares what it supports in `capabilities`. The suite never asks
for an operation, rank, dtype, padding form or mode that is not declared:
those are reported as *unsupported*. Anything declared is tested, and a
declared operation that raises NotImplementedError is a failure.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from reference.params import ChannelShuffle, Conv, ConvTranspose, DeformConv, Params

DTYPES = ("float64", "float32", "float16", "bfloat16")

# Operation names, used in capabilities and reports.
CONV = "conv"
CONV_TRANSPOSE = "conv_transpose"
DEFORM_CONV = "deform_conv"
CHANNEL_SHUFFLE = "channel_shuffle"
DEPTHWISE_CONV = "depthwise_conv"
SEPARABLE_CONV = "separable_conv"
OPERATIONS = (CONV, CONV_TRANSPOSE, DEFORM_CONV, CHANNEL_SHUFFLE, DEPTHWISE_CONV, SEPARABLE_CONV)
# Blocks of several layers whose parameters a surface may count (Capabilities.parameter_counts):
# a depthwise convolution then a 1x1 one (SEP.1), and the ACNet training block (ACNET.1).
DEPTHWISE_SEPARABLE = "depthwise_separable"
ACNET_BLOCK = "acnet_block"
COMPOSITIONS = (DEPTHWISE_SEPARABLE, ACNET_BLOCK)
# What a surface's FLOP counter counts (Capabilities.flop_convention): a clause of COST each.
FLOP_CONVENTIONS = {
    "dense": "COST.3: 2 FLOPs per product of COST.2, products with padded positions included",
    "in_bounds": "COST.19: 2 FLOPs per product of an input element that lands in the output",
}

# Padding forms (spec chapter PAD). 'symmetric' and 'asymmetric' are explicit
# non-negative (begin, end) pairs; 'negative' is explicit pairs with a negative
# entry (cropping, PAD.3); 'same_begin' is 'same' with the odd pixel at the begin.
PADDING_FORMS = ("symmetric", "asymmetric", "negative", "valid", "same", "same_begin")
PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


class UnsupportedError(Exception):
    """Raised by `Adapter.check` for a configuration outside the declared capabilities."""


@dataclass(frozen=True)
class Extension:
    """Documented behaviour of a framework for a configuration the spec calls invalid.

    `name` is one of EXTENSIONS; `documentation` is the URL of the framework's page that
    documents it. The suite checks that the extension computes what ERR.16 says, instead
    of expecting the configuration to be rejected.
    """

    name: str
    documentation: str

    def __post_init__(self) -> None:
        if self.name not in EXTENSIONS:
            raise ValueError(
                f"unknown extension {self.name!r}: the suite checks only {sorted(EXTENSIONS)} "
                "(adapters.base.EXTENSIONS, spec ERR.16)"
            )


# ERR.16: the extensions the suite knows how to check, with what each one accepts.
EXTENSIONS = {
    "unbatched": "an input without the batch axis, (C_in, n_1, ..., n_r), as one sample",
    "leading_batch_axes": (
        "an input with several batch axes, (B_1, ..., B_k, C_in, n_1, ..., n_r), "
        "as B_1 * ... * B_k samples"
    ),
    "output_padding_with_auto_pad": (
        "a transposed convolution's output_padding with padding 'same' or 'valid', "
        "placed by ONNX's ConvTranspose formulas (TCONV.16)"
    ),
}


@dataclass(frozen=True)
class OpSupport:
    """What one backend supports of one operation."""

    ranks: frozenset[int]
    dtypes: frozenset[str]
    padding: frozenset[str] = frozenset({"symmetric", "asymmetric", "valid", "same"})
    padding_modes: frozenset[str] = frozenset({"zeros"})
    groups: bool = True
    dilation: bool = True
    bias: bool = True
    # 'same' padding together with stride > 1 (PAD.7).
    strided_same: bool = True
    # Dilation > 1 and stride > 1 in one call (tf.nn.conv2d rejects it on CPU).
    dilation_with_stride: bool = True
    # Transposed convolution: which output_padding values the API accepts
    # (TCONV): "stride" (op < stride), "stride_or_dilation" (op < max(stride,
    # dilation), PyTorch), or "" for no output_padding argument.
    output_padding_rule: str = "stride"
    # Deformable convolution v2 modulation mask.
    mask: bool = False
    # Exact mode (NUM.5) applies: the backend computes each output as a sum of
    # exact products, with no transform algorithm (Winograd, FFT) in between.
    exact: bool = True
    # Documented extensions (ERR.16): checked for their result, not for a rejection.
    extensions: tuple[Extension, ...] = ()
    # Limits that these fields cannot express (e.g. explicit padding for one rank only)
    # are for `Adapter.limitation` and `Adapter.documented_rejection`.


@dataclass(frozen=True)
class Capabilities:
    ops: Mapping[str, OpSupport]
    device: str = "cpu"
    # Operations whose vector-Jacobian product `Adapter.vjp` provides.
    gradients: frozenset[str] = field(default_factory=frozenset)
    # False for a surface that computes shapes and dtypes but no values (tensors on torch's
    # meta device): the suites check its shapes, dtypes and rejections, and no values. Its
    # arrays hold NaN, so that a value check it reached by mistake fails.
    values: bool = True
    # Operations (and compositions, COMPOSITIONS) whose parameters `Adapter.parameter_count`
    # reads off the framework's own layers, those whose forward FLOPs and those whose
    # gradients' FLOPs `Adapter.flop_count` reads off the framework's own counter, and which
    # count that counter reports (FLOP_CONVENTIONS; spec COST.18): suites/test_cost.py.
    parameter_counts: frozenset[str] = field(default_factory=frozenset)
    flop_counts: frozenset[str] = field(default_factory=frozenset)
    gradient_flop_counts: frozenset[str] = field(default_factory=frozenset)
    flop_convention: str = "dense"

    def __post_init__(self) -> None:
        if self.flop_convention not in FLOP_CONVENTIONS:
            raise ValueError(
                f"unknown flop_convention {self.flop_convention!r}: the suite knows "
                f"{sorted(FLOP_CONVENTIONS)} (adapters.base.FLOP_CONVENTIONS, spec COST.18)"
            )


class Adapter:
    """Base class of every backend surface.

    Subclasses set the class attributes, fill `capabilities`, and implement
    the methods of the operations they declare. The defaults raise
    NotImplementedError, which the suite reports as a failure for a declared
    operation.
    """

    name: ClassVar[str] = ""  # surface name shown in reports, e.g. "torch.channels_last"
    framework: ClassVar[str] = ""  # the importable framework, e.g. "torch"
    # Surfaces that run in a child process (crash isolation, import-time modes) cost a
    # framework import per pytest process: a plain run leaves them out, --backend names them.
    opt_in: ClassVar[bool] = False
    capabilities: Capabilities

    def version(self) -> str:
        """Framework version string, for the report header and repro scripts."""
        return "unknown"

    @property
    def device(self) -> str:
        return self.capabilities.device

    def platform(self) -> dict[str, Any]:
        """Facts that decide which kernels the framework dispatches to here, e.g. torch's
        CPU capability or whether TensorFlow runs oneDNN. Known-issue entries test them
        in `requires` (suites/platform.py) and the report header prints them."""
        return {}

    # --- operations -----------------------------------------------------
    def conv(self, x: np.ndarray, w: np.ndarray, b: np.ndarray | None, p: Conv) -> np.ndarray:
        raise NotImplementedError(CONV)

    def conv_transpose(
        self, x: np.ndarray, w: np.ndarray, b: np.ndarray | None, p: ConvTranspose
    ) -> np.ndarray:
        raise NotImplementedError(CONV_TRANSPOSE)

    def deform_conv(
        self,
        x: np.ndarray,
        offset: np.ndarray,
        mask: np.ndarray | None,
        w: np.ndarray,
        b: np.ndarray | None,
        p: DeformConv,
    ) -> np.ndarray:
        raise NotImplementedError(DEFORM_CONV)

    def channel_shuffle(self, x: np.ndarray, p: ChannelShuffle) -> np.ndarray:
        raise NotImplementedError(CHANNEL_SHUFFLE)

    def depthwise_conv(
        self, x: np.ndarray, w: np.ndarray, b: np.ndarray | None, p: Conv
    ) -> np.ndarray:
        """A dedicated depthwise API; w is (C_in * multiplier, 1, *k), p.groups == C_in."""
        raise NotImplementedError(DEPTHWISE_CONV)

    def separable_conv(
        self,
        x: np.ndarray,
        w_depth: np.ndarray,
        w_point: np.ndarray,
        b: np.ndarray | None,
        p: Conv,
    ) -> np.ndarray:
        """A dedicated depthwise-separable API (SEP.1); p applies to the depthwise step."""
        raise NotImplementedError(SEPARABLE_CONV)

    def vjp(
        self,
        op: str,
        arrays: Mapping[str, np.ndarray | None],
        p: Params,
        cotangent: np.ndarray,
    ) -> dict[str, np.ndarray]:
        """Gradients of sum(op(**arrays) * cotangent) w.r.t. every non-None array.

        Keys are those of `arrays` (x, w, b, and offset, mask for deform_conv).
        """
        raise NotImplementedError(f"vjp of {op}")

    def repro_source(self, op: str, p: Params, dtype: str) -> str | None:
        """Standalone source that calls the framework's public API for `op` with `p`.

        The source imports what it needs and defines `call(**arrays)`: it
        receives float64 NumPy arrays named as the operands (x, w, b, ...;
        None where absent), converts them to `dtype` and the framework's
        layout, calls the framework (never convspec), and returns the result
        as a float64 NumPy array in convspec's canonical layout. Repro
        scripts (suites/repro.py) embed it. None: this surface offers none.
        """
        return None

    # --- the framework's own counters (spec COST.18) ---------------------
    def parameter_count(self, op: str, p: Params, shapes: Mapping[str, Any]) -> int | None:
        """The parameters of the framework's own layer (or layers, for a composition) for
        `op` with `p` and the operand shapes of the suites (LAYOUT.1), as the framework
        counts them. No counting here: build the layer and ask it. None: this surface has
        no such layer (declare the op in Capabilities.parameter_counts where it has)."""
        return None

    def flop_count(
        self, op: str, p: Params, shapes: Mapping[str, Any], wrt: tuple[str, ...] = ()
    ) -> int | None:
        """The FLOPs that the framework's own counter reports for one call of `op` with `p`
        on operands of `shapes` (wrt empty), or for the backward pass alone that computes
        the gradients with respect to the operands named in `wrt` (e.g. ("w",)). None:
        this surface has no counter for it (declare the op in Capabilities.flop_counts,
        and in Capabilities.gradient_flop_counts for `wrt`, where it has)."""
        return None

    # --- declarations ---------------------------------------------------
    def support(self, op: str) -> OpSupport | None:
        return self.capabilities.ops.get(op)

    def limitation(self, op: str, p: Params, shapes: Mapping[str, Any], dtype: str) -> str | None:
        """A limit of the surface that capabilities cannot express.

        Returns the reason, citing the framework's documentation, or None. The
        suites do not check such a configuration against the reference. Where the
        reason is that the framework documents the configuration as unsupported,
        return it from `documented_rejection` too: the error suite then checks that
        calling it raises cleanly (ERR.17). What only the adapter cannot express
        (a parameter the API has no argument for, another convention) stays here alone.
        """
        return None

    def documented_rejection(
        self, op: str, p: Params, shapes: Mapping[str, Any], dtype: str
    ) -> str | None:
        """A valid, declared configuration that the framework documents as unsupported.

        Returns the documented reason (a quote of the framework's message or docs), or
        None. Such a configuration is called crash-isolated and must raise an exception:
        a result or a crash is a finding (ERR.17). `limitation` must return it as well.
        """
        return None

    def gradient_limitation(
        self, op: str, p: Params, shapes: Mapping[str, Any], dtype: str
    ) -> str | None:
        """Like `limitation`, for a documented limit of the backend's gradient kernels only
        (e.g. TensorFlow's CPU backprop kernels reject grouped or dilated convolution)."""
        return None

    def describe(self) -> str:
        return f"{self.name} ({self.framework} {self.version()}, {self.device})"


def extension(support: OpSupport, name: str) -> Extension | None:
    """The declared extension `name` of this operation, or None."""
    return next((e for e in support.extensions if e.name == name), None)
