"""Parameter and multiply-accumulate counts (spec chapter COST).

Plain integer formulas. A MAC is one product added into an accumulator
(COST.2); FLOPs = 2 * MACs (COST.3). Counts are per batch of `batch`
samples; spatial sizes are the sizes each step actually computes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from fractions import Fraction

from reference.checks import require
from reference.params import Conv, ConvTranspose
from reference.sizes import (
    conv_output_lengths,
    conv_transpose_output_lengths,
    resolve_padding,
    transposed_explicit,
)


def _prod(sizes: Sequence[int]) -> int:
    return math.prod(int(s) for s in sizes)


def _check_groups(c_in: int, c_out: int, groups: int) -> None:
    require(c_in >= 1 and c_out >= 1, "CONV.1", f"channels must be >= 1, got {c_in}, {c_out}")
    require(groups >= 1, "CONV.6", f"groups must be >= 1, got {groups}")
    require(
        c_in % groups == 0 and c_out % groups == 0,
        "CONV.6",
        f"groups={groups} must divide C_in={c_in} and C_out={c_out}",
    )


def flops(macs: int) -> int:
    """COST.3: two floating-point operations (a multiply and an add) per MAC."""
    return 2 * macs


def conv_params(
    c_in: int, c_out: int, kernel: Sequence[int], groups: int = 1, bias: bool = True
) -> int:
    """COST.4: C_out * (C_in/groups) * prod(k) weights, plus C_out biases."""
    _check_groups(c_in, c_out, groups)
    return c_out * (c_in // groups) * _prod(kernel) + (c_out if bias else 0)


def conv_macs(
    c_in: int,
    c_out: int,
    kernel: Sequence[int],
    out_spatial: Sequence[int],
    groups: int = 1,
    batch: int = 1,
) -> int:
    """COST.4: every output element sums (C_in/groups) * prod(k) products."""
    _check_groups(c_in, c_out, groups)
    return batch * c_out * _prod(out_spatial) * (c_in // groups) * _prod(kernel)


def depthwise_params(
    c_in: int, kernel: Sequence[int], multiplier: int = 1, bias: bool = True
) -> int:
    """COST.5: conv_params with groups = C_in and C_out = m * C_in."""
    return conv_params(c_in, c_in * multiplier, kernel, groups=c_in, bias=bias)


def depthwise_macs(
    c_in: int,
    kernel: Sequence[int],
    out_spatial: Sequence[int],
    multiplier: int = 1,
    batch: int = 1,
) -> int:
    """COST.5: m * C_in output channels, each reading one input channel."""
    return conv_macs(c_in, c_in * multiplier, kernel, out_spatial, groups=c_in, batch=batch)


def pointwise_params(c_in: int, c_out: int, groups: int = 1, bias: bool = True) -> int:
    """COST.6: a 1x...x1 kernel: C_out * C_in/groups weights."""
    return conv_params(c_in, c_out, (1,), groups=groups, bias=bias)


def pointwise_macs(
    c_in: int, c_out: int, spatial: Sequence[int], groups: int = 1, batch: int = 1
) -> int:
    """COST.6: C_out * C_in/groups products per pixel."""
    return conv_macs(c_in, c_out, (1,), spatial, groups=groups, batch=batch)


def depthwise_separable_params(
    c_in: int,
    c_out: int,
    kernel: Sequence[int],
    multiplier: int = 1,
    bias_depth: bool = True,
    bias_point: bool = True,
) -> int:
    """COST.7: the depthwise step plus the pointwise step (C_in*m -> C_out)."""
    return depthwise_params(c_in, kernel, multiplier, bias_depth) + pointwise_params(
        c_in * multiplier, c_out, bias=bias_point
    )


def depthwise_separable_macs(
    c_in: int,
    c_out: int,
    kernel: Sequence[int],
    out_spatial: Sequence[int],
    multiplier: int = 1,
    batch: int = 1,
) -> int:
    """COST.7: both steps produce out_spatial (the pointwise step has stride 1, no padding)."""
    return depthwise_macs(c_in, kernel, out_spatial, multiplier, batch) + pointwise_macs(
        c_in * multiplier, c_out, out_spatial, batch=batch
    )


def depthwise_separable_mac_ratio(
    c_out: int, kernel: Sequence[int], multiplier: int = 1
) -> Fraction:
    """COST.8: depthwise-separable MACs / standard conv MACs = m/C_out + m/prod(k).

    Both counted at the same output size, groups = 1 for the standard conv;
    it does not depend on C_in or on the output size.
    """
    require(c_out >= 1 and multiplier >= 1, "COST.8", "C_out and m must be >= 1")
    return Fraction(multiplier, c_out) + Fraction(multiplier, _prod(kernel))


def spatially_separable_params(
    c_in: int, c_out: int, kh: int, kw: int, groups: int = 1, bias: bool = True
) -> int:
    """COST.9: the kh x 1 step (C_in -> C_out) plus the 1 x kw depthwise step."""
    return conv_params(c_in, c_out, (kh, 1), groups=groups, bias=False) + conv_params(
        c_out, c_out, (1, kw), groups=c_out, bias=bias
    )


def spatially_separable_macs(
    c_in: int,
    c_out: int,
    kh: int,
    kw: int,
    h_out: int,
    w_in: int,
    w_out: int,
    groups: int = 1,
    batch: int = 1,
) -> int:
    """COST.9: the first step computes h_out x w_in outputs, the second h_out x w_out."""
    first = conv_macs(c_in, c_out, (kh, 1), (h_out, w_in), groups=groups, batch=batch)
    second = conv_macs(c_out, c_out, (1, kw), (h_out, w_out), groups=c_out, batch=batch)
    return first + second


def flattened_params(c_in: int, c_out: int, kh: int, kw: int, bias: bool = True) -> int:
    """COST.10: lateral C_out*C_in, vertical C_out*kh, horizontal C_out*kw weights."""
    return (
        pointwise_params(c_in, c_out, bias=False)
        + depthwise_params(c_out, (kh, 1), bias=False)
        + depthwise_params(c_out, (1, kw), bias=bias)
    )


def flattened_macs(
    c_in: int,
    c_out: int,
    kh: int,
    kw: int,
    h_in: int,
    w_in: int,
    h_out: int,
    w_out: int,
    batch: int = 1,
) -> int:
    """COST.10: lateral on h_in x w_in, vertical on h_out x w_in, horizontal on h_out x w_out."""
    return (
        pointwise_macs(c_in, c_out, (h_in, w_in), batch=batch)
        + depthwise_macs(c_out, (kh, 1), (h_out, w_in), batch=batch)
        + depthwise_macs(c_out, (1, kw), (h_out, w_out), batch=batch)
    )


def conv_transpose_params(
    c_in: int, c_out: int, kernel: Sequence[int], groups: int = 1, bias: bool = True
) -> int:
    """COST.11: weight (C_in, C_out/groups, *k) plus C_out biases."""
    _check_groups(c_in, c_out, groups)
    return c_in * (c_out // groups) * _prod(kernel) + (c_out if bias else 0)


def conv_transpose_macs(
    c_in: int,
    c_out: int,
    kernel: Sequence[int],
    in_spatial: Sequence[int],
    groups: int = 1,
    batch: int = 1,
) -> int:
    """COST.11: every input element times every tap of its C_out/groups kernels.

    Products that land on output positions removed by padding are counted.
    """
    _check_groups(c_in, c_out, groups)
    return batch * c_in * _prod(in_spatial) * (c_out // groups) * _prod(kernel)


def deform_conv_params(
    c_in: int, c_out: int, kernel: Sequence[int], groups: int = 1, bias: bool = True
) -> int:
    """COST.12: the deformable convolution's own weight and bias, as a convolution's."""
    return conv_params(c_in, c_out, kernel, groups=groups, bias=bias)


def deform_offset_params(
    c_in: int,
    kernel: Sequence[int],
    offset_groups: int = 1,
    mask: bool = False,
    offset_kernel: Sequence[int] | None = None,
    bias: bool = True,
) -> int:
    """COST.12: the separate convolution that predicts offsets (and the v2 mask).

    It maps C_in to offset_groups * prod(k) * (2 + mask) channels (two
    coordinates, plus one mask value, per tap and offset group) with a
    kernel `offset_kernel` (the deformable kernel's size unless given).
    """
    taps = _prod(kernel)
    per_tap = len(kernel) + (1 if mask else 0)
    own = tuple(kernel) if offset_kernel is None else tuple(offset_kernel)
    return conv_params(c_in, offset_groups * taps * per_tap, own, bias=bias)


def deform_conv_macs(
    c_in: int,
    c_out: int,
    kernel: Sequence[int],
    out_spatial: Sequence[int],
    groups: int = 1,
    mask: bool = False,
    batch: int = 1,
) -> int:
    """COST.12: the convolution's products plus the sampling of every tap value.

    Each of the C_in * prod(k) sampled values per output position costs
    2^rank interpolation products (bilinear: 4) plus one for the mask (v2);
    computing interpolation weights and the offset convolution are not counted.
    """
    products = conv_macs(c_in, c_out, kernel, out_spatial, groups=groups, batch=batch)
    samples = batch * _prod(out_spatial) * c_in * _prod(kernel)
    per_sample = 2 ** len(kernel) + (1 if mask else 0)
    return products + samples * per_sample


def dense_params(n_in: int, n_out: int, bias: bool = True) -> int:
    """COST.13: a fully connected layer: n_in * n_out weights plus n_out biases."""
    require(n_in >= 1 and n_out >= 1, "COST.13", f"sizes must be >= 1, got {n_in}, {n_out}")
    return n_in * n_out + (n_out if bias else 0)


def dense_macs(n_in: int, n_out: int, batch: int = 1) -> int:
    """COST.13: n_in products per output."""
    require(n_in >= 1 and n_out >= 1, "COST.13", f"sizes must be >= 1, got {n_in}, {n_out}")
    return batch * n_in * n_out


def acnet_params(c_in: int, c_out: int, k: int, groups: int = 1, deploy: bool = False) -> int:
    """COST.15: three bias-free kernels (k x k, 1 x k, k x 1) and three batch norms'
    gamma and beta; deployed (ACNET.6), one k x k convolution with bias."""
    require(k >= 1 and k % 2 == 1, "ACNET.1", f"the kernel size k must be odd, got k={k}")
    if deploy:
        return conv_params(c_in, c_out, (k, k), groups=groups, bias=True)
    kernels = (k, k), (1, k), (k, 1)
    weights = sum(conv_params(c_in, c_out, kernel, groups=groups, bias=False) for kernel in kernels)
    return weights + 3 * 2 * c_out


def gradient_macs(forward_macs: int, wrt: str) -> int:
    """COST.16, COST.17: the input and the weight gradient each take the forward step's
    MACs (dense, as COST.11 counts); the bias gradient sums and takes none."""
    require(wrt in ("x", "w", "b"), "COST.17", f"a gradient w.r.t. x, w or b, not {wrt!r}")
    return 0 if wrt == "b" else forward_macs


def _pairs_in_bounds(reach: int, limit: int, k: int, s: int, d: int, begin: int) -> int:
    """COST.19, one axis: pairs (position q < reach, tap t < k) with 0 <= q*s + t*d - begin < limit."""
    return sum(1 for q in range(reach) for t in range(k) if 0 <= q * s + t * d - begin < limit)


def conv_macs_in_bounds(x_shape: Sequence[int], w_shape: Sequence[int], p: Conv) -> int:
    """COST.19: the products of COST.4 that read an input element, not a padded position."""
    pads = resolve_padding(p, x_shape[2:], w_shape[2:])
    out = conv_output_lengths(x_shape, w_shape, p)
    pairs = math.prod(
        _pairs_in_bounds(m, n, k, s, d, begin)
        for n, m, k, s, d, (begin, _) in zip(
            x_shape[2:], out, w_shape[2:], p.stride, p.dilation, pads, strict=True
        )
    )
    return x_shape[0] * w_shape[0] * w_shape[1] * pairs


def conv_transpose_macs_in_bounds(
    x_shape: Sequence[int], w_shape: Sequence[int], p: ConvTranspose
) -> int:
    """COST.19: the products of COST.11 that land in the output, not on a removed position."""
    pads, _ = transposed_explicit(p, x_shape[2:], w_shape[2:])
    out = conv_transpose_output_lengths(x_shape, w_shape, p)
    pairs = math.prod(
        _pairs_in_bounds(n, m, k, s, d, begin)
        for n, m, k, s, d, (begin, _) in zip(
            x_shape[2:], out, w_shape[2:], p.stride, p.dilation, pads, strict=True
        )
    )
    return x_shape[0] * x_shape[1] * w_shape[1] * pairs
