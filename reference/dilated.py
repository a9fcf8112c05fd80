"""Dilated convolution and stacked receptive fields (spec chapter DIL).

- DIL.3 `dilate_kernel`: a kernel with dilation d equals a dilation-1 kernel
  of size d*(k-1)+1 with d-1 zeros inserted between taps.
- DIL.4 `footprint`: the input offsets that reach one output of a stack of
  layers, along one axis.
- DIL.5 `is_contiguous`, `contiguity_condition`: when that set has no holes.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np

from reference.checks import require
from reference.sizes import effective_kernel


def dilate_kernel(w: np.ndarray, dilation: Sequence[int]) -> np.ndarray:
    """DIL.3: w (C_out, C_in/g, *k) with d_a - 1 zeros between taps along spatial axis a.

    Result shape (C_out, C_in/g, *(d_a*(k_a-1)+1)); tap t of w lands at t*d.
    """
    rank = w.ndim - 2
    require(rank >= 1, "CONV.1", f"weight must have shape (C_out, C_in/groups, *k), got {w.shape}")
    require(
        len(dilation) == rank,
        "CONV.1",
        f"weight has {rank} spatial axes but dilation has {len(dilation)} entries",
    )
    require(
        all(d >= 1 for d in dilation), "CONV.5", f"dilation must be >= 1, got {tuple(dilation)}"
    )
    kernel = w.shape[2:]
    out = np.zeros(
        (*w.shape[:2], *(effective_kernel(k, d) for k, d in zip(kernel, dilation, strict=True))),
        dtype=w.dtype,
    )
    for t in itertools.product(*(range(k) for k in kernel)):
        every = (slice(None), slice(None))
        target: tuple[slice | int, ...] = (
            *every,
            *(ta * d for ta, d in zip(t, dilation, strict=True)),
        )
        source: tuple[slice | int, ...] = (*every, *t)
        out[target] = w[source]
    return out


def _check_layers(
    kernels: Sequence[int], dilations: Sequence[int], strides: Sequence[int] | None
) -> list[int]:
    steps = [1] * len(kernels) if strides is None else list(strides)
    require(
        len(kernels) == len(dilations) == len(steps),
        "DIL.4",
        f"kernels {tuple(kernels)}, dilations {tuple(dilations)} and strides {tuple(steps)} "
        "must list the same layers",
    )
    require(
        all(k >= 1 for k in kernels), "CONV.1", f"kernel sizes must be >= 1, got {tuple(kernels)}"
    )
    require(
        all(d >= 1 for d in dilations), "CONV.5", f"dilation must be >= 1, got {tuple(dilations)}"
    )
    require(all(s >= 1 for s in steps), "CONV.4", f"stride must be >= 1, got {tuple(steps)}")
    return steps


def layer_steps(
    kernels: Sequence[int], dilations: Sequence[int], strides: Sequence[int] | None = None
) -> list[int]:
    """DIL.4: D_l = d_l * J_l, the input distance between adjacent taps of layer l.

    J_l = s_1 * ... * s_(l-1) is the jump of layer l's input grid (DIL.6).
    """
    steps = _check_layers(kernels, dilations, strides)
    out, jump = [], 1
    for d, s in zip(dilations, steps, strict=True):
        out.append(d * jump)
        jump *= s
    return out


def footprint(
    kernels: Sequence[int], dilations: Sequence[int], strides: Sequence[int] | None = None
) -> frozenset[int]:
    """DIL.4: the input offsets read by one output of a stack of layers, along one axis.

    F = { sum_l t_l * D_l : 0 <= t_l < k_l }, offsets relative to the first
    input position that the output's window covers (layer 1 first).
    """
    offsets = {0}
    for k, step in zip(kernels, layer_steps(kernels, dilations, strides), strict=True):
        offsets = {f + t * step for f in offsets for t in range(k)}
    return frozenset(offsets)


def is_contiguous(offsets: frozenset[int]) -> bool:
    """DIL.5: the footprint is {0, 1, ..., max}: no input position inside the span is skipped."""
    return offsets == frozenset(range(max(offsets) + 1))


def contiguity_condition(
    kernels: Sequence[int], dilations: Sequence[int], strides: Sequence[int] | None = None
) -> bool:
    """DIL.5: the closed-form test, equivalent to is_contiguous(footprint(...)).

    Sort the steps D_l of the layers with k_l >= 2 increasingly; the footprint
    is contiguous iff each D_(i) <= 1 + sum_{j < i} D_(j) * (k_(j) - 1).
    """
    steps = layer_steps(kernels, dilations, strides)
    layers = sorted((step, k) for step, k in zip(steps, kernels, strict=True) if k >= 2)
    span = 1  # the footprint of the layers taken so far is {0, ..., span - 1}
    for step, k in layers:
        if step > span:
            return False
        span += step * (k - 1)
    return True
