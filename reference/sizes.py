"""Size formulas (spec clauses CONV.3, PAD.5-PAD.7, TCONV.3-TCONV.5, DIL.1-DIL.2).

Plain integer functions, used by the reference loops and by the suites that
check the shapes a backend returns.
"""

from __future__ import annotations

from collections.abc import Sequence

from reference.checks import SpecError, require
from reference.params import Conv, ConvTranspose, Pairs, SameSplit


def effective_kernel(k: int, d: int) -> int:
    """DIL.1: a kernel of size k with dilation d spans d*(k-1)+1 input positions."""
    return d * (k - 1) + 1


def conv_output_size(n: int, k: int, s: int, d: int, begin: int, end: int) -> int:
    """CONV.3: floor((n + begin + end - d*(k-1) - 1) / s) + 1."""
    return (n + begin + end - effective_kernel(k, d)) // s + 1


def same_padding(n: int, k: int, s: int, d: int, split: SameSplit) -> tuple[int, int]:
    """PAD.6/PAD.7: padding that makes the output ceil(n / s) long."""
    out = -(-n // s)
    total = max((out - 1) * s + effective_kernel(k, d) - n, 0)
    small, large = total // 2, total - total // 2
    return (small, large) if split == "end" else (large, small)


def resolve_padding(
    p: Conv | ConvTranspose, in_size: Sequence[int], kernel: Sequence[int]
) -> Pairs:
    """Explicit (begin, end) pairs for a forward convolution's padding form (PAD.4-PAD.7)."""
    if p.padding == "valid":
        return tuple((0, 0) for _ in in_size)
    if p.padding == "same":
        split: SameSplit = p.same_split if isinstance(p, Conv) else "end"
        return tuple(
            same_padding(n, k, s, d, split)
            for n, k, s, d in zip(in_size, kernel, p.stride, p.dilation, strict=True)
        )
    return tuple((int(b), int(e)) for b, e in p.padding)


def conv_output_lengths(x_shape: Sequence[int], w_shape: Sequence[int], p: Conv) -> tuple[int, ...]:
    """CONV.3's formula on every spatial axis, as it comes: <= 0 where no window fits."""
    spatial, kernel = tuple(x_shape[2:]), tuple(w_shape[2:])
    pads = resolve_padding(p, spatial, kernel)
    return tuple(
        conv_output_size(n, k, s, d, b, e)
        for n, k, s, d, (b, e) in zip(spatial, kernel, p.stride, p.dilation, pads, strict=True)
    )


def conv_output_shape(x_shape: Sequence[int], w_shape: Sequence[int], p: Conv) -> tuple[int, ...]:
    """Shape of conv(x, w) under p: CONV.3's number of window positions on each axis."""
    out = tuple(max(m, 0) for m in conv_output_lengths(x_shape, w_shape, p))
    return (x_shape[0], w_shape[0], *out)


def transposed_output_size(n: int, k: int, s: int, d: int, begin: int, end: int, op: int) -> int:
    """TCONV.3: (n - 1)*s - begin - end + d*(k-1) + 1 + output_padding."""
    return (n - 1) * s - begin - end + effective_kernel(k, d) + op


def transposed_explicit(
    p: ConvTranspose, in_size: Sequence[int], kernel: Sequence[int]
) -> tuple[Pairs, tuple[int, ...]]:
    """Explicit pads and output_padding equivalent to p (TCONV.4 maps 'valid'/'same').

    The Keras/TF/JAX convention gives the output length directly:
    'valid': n*s + max(k_eff - s, 0); 'same': n*s. The pads that put the
    transposed window where the adjoint of the forward 'valid'/'same'
    convolution puts it are returned with the output_padding that makes the
    length come out.
    """
    if not isinstance(p.padding, str):
        return tuple((int(b), int(e)) for b, e in p.padding), tuple(p.output_padding)
    pads: list[tuple[int, int]] = []
    extra: list[int] = []
    for n, k, s, d in zip(in_size, kernel, p.stride, p.dilation, strict=True):
        k_eff = effective_kernel(k, d)
        if p.padding == "valid":
            length = n * s + max(k_eff - s, 0)
            begin = 0
        else:
            length = n * s
            begin = max(k_eff - s, 0) // 2
        # Choose end >= 0 and 0 <= op < s so that TCONV.3 gives `length`.
        slack = (n - 1) * s - begin + k_eff - length  # = end - op
        end, op = (slack, 0) if slack >= 0 else (0, -slack)
        pads.append((begin, end))
        extra.append(op)
    return tuple(pads), tuple(extra)


def conv_transpose_output_lengths(
    x_shape: Sequence[int], w_shape: Sequence[int], p: ConvTranspose
) -> tuple[int, ...]:
    """TCONV.3's formula on every spatial axis, as it comes: <= 0 where nothing is left."""
    spatial, kernel = tuple(x_shape[2:]), tuple(w_shape[2:])
    pads, extra = transposed_explicit(p, spatial, kernel)
    return tuple(
        transposed_output_size(n, k, s, d, b, e, op)
        for n, k, s, d, (b, e), op in zip(
            spatial, kernel, p.stride, p.dilation, pads, extra, strict=True
        )
    )


def conv_transpose_output_shape(
    x_shape: Sequence[int], w_shape: Sequence[int], p: ConvTranspose
) -> tuple[int, ...]:
    """Shape of conv_transpose(x, w) under p: TCONV.3's positions left on each axis."""
    out = tuple(max(m, 0) for m in conv_transpose_output_lengths(x_shape, w_shape, p))
    return (x_shape[0], w_shape[1] * p.groups, *out)


def receptive_field(
    kernels: Sequence[int], strides: Sequence[int], dilations: Sequence[int]
) -> int:
    """DIL.2: receptive field of stacked layers along one axis.

    r_L = 1 + sum_l d_l*(k_l - 1) * prod_{j<l} s_j.
    """
    require(
        len(kernels) == len(strides) == len(dilations),
        "DIL.2",
        "kernels, strides and dilations must list the same layers",
    )
    field, jump = 1, 1
    for k, s, d in zip(kernels, strides, dilations, strict=True):
        field += (effective_kernel(k, d) - 1) * jump
        jump *= s
    return field


__all__ = [
    "SpecError",
    "conv_output_lengths",
    "conv_output_shape",
    "conv_output_size",
    "conv_transpose_output_lengths",
    "conv_transpose_output_shape",
    "effective_kernel",
    "receptive_field",
    "resolve_padding",
    "same_padding",
    "transposed_explicit",
    "transposed_output_size",
]
