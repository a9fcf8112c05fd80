"""Parameters of each operation, separate from its arrays.

One frozen dataclass per operation. The reference, the strategies, the
adapters and the reports all speak these types, so a configuration drawn by
Hypothesis is exactly what a backend receives and what a failure prints.

Array layouts are canonical everywhere (spec clause LAYOUT.1):
  input   x: (N, C_in, *spatial)
  weight  w: (C_out, C_in // groups, *kernel)        for conv, deform_conv
          w: (C_in, C_out // groups, *kernel)        for conv_transpose
  bias    b: (C_out,) or None
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal

PaddingMode = Literal["zeros", "reflect", "replicate", "circular"]
SameSplit = Literal["end", "begin"]
OutputPaddingRule = Literal["stride_or_dilation", "stride"]
Pairs = tuple[tuple[int, int], ...]
# Explicit (begin, end) pairs per spatial axis, or one of the strings.
Padding = Pairs | Literal["valid", "same"]


@dataclass(frozen=True)
class Conv:
    """Convolution (cross-correlation), spec chapters CONV and PAD."""

    stride: tuple[int, ...]
    dilation: tuple[int, ...]
    padding: Padding
    groups: int = 1
    padding_mode: PaddingMode = "zeros"
    # Where the odd extra pixel of 'same' padding goes (PAD.6).
    same_split: SameSplit = "end"

    @property
    def rank(self) -> int:
        return len(self.stride)


@dataclass(frozen=True)
class ConvTranspose:
    """Transposed convolution, spec chapter TCONV.

    `padding` is explicit (begin, end) pairs with `output_padding` (the
    PyTorch/ONNX convention, TCONV.3), or 'valid'/'same' (the Keras/TF/JAX
    convention, TCONV.4), in which case `output_padding` must be all zeros.
    """

    stride: tuple[int, ...]
    dilation: tuple[int, ...]
    padding: Padding
    output_padding: tuple[int, ...]
    groups: int = 1
    output_padding_rule: OutputPaddingRule = "stride_or_dilation"

    @property
    def rank(self) -> int:
        return len(self.stride)


@dataclass(frozen=True)
class DeformConv:
    """Deformable convolution v1 (no mask) and v2 (mask), spec chapter DEFORM. 2-D only."""

    stride: tuple[int, int]
    dilation: tuple[int, int]
    padding: Pairs
    groups: int = 1
    offset_groups: int = 1

    @property
    def rank(self) -> int:
        return 2


@dataclass(frozen=True)
class ChannelShuffle:
    """Channel shuffle, spec chapter SHUF."""

    groups: int


Params = Conv | ConvTranspose | DeformConv | ChannelShuffle


def as_dict(params: Params) -> dict[str, object]:
    """Plain-data form of a parameter set, for reports and repro scripts."""
    return {"op": type(params).__name__, **asdict(params)}
