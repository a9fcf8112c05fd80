"""A configuration and its operands: what every suite draws, checks and prints."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from reference.params import ChannelShuffle, Conv, ConvTranspose, DeformConv

# Operand shapes by operand name (x, w, b, ...); None for an absent optional operand.
Shapes = dict[str, tuple[int, ...] | None]


@dataclass(frozen=True)
class Setup:
    """A drawn configuration before its arrays: what a failure prints first."""

    op: str
    params: Conv | ConvTranspose | DeformConv | ChannelShuffle
    shapes: Shapes
    dtype: str
    exact: bool
    # Which tier drew it (suites/dispatch.py SIZE_CLASSES), or where a fixed one came from.
    size_class: str = "small"


@dataclass(frozen=True)
class Example:
    setup: Setup
    arrays: dict[str, np.ndarray | None]
