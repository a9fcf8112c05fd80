"""ACNet asymmetric convolution block and its fusion (spec chapter ACNET).

Ding et al., "ACNet: Strengthening the Kernel Skeletons for Powerful CNN via
Asymmetric Convolution Blocks", ICCV 2019. `acnet_block` is the definition
(ACNET.4): three convolutions of reference.conv.conv, each followed by batch
norm in inference mode, summed. `fuse_acnet` gives the single convolution
that equals it (ACNET.6).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from reference import conv as conv_ref
from reference.checks import require
from reference.numerics import UNIT_ROUNDOFF, gamma
from reference.params import Conv, Pairs


@dataclass(frozen=True, eq=False)
class BatchNorm:
    """Inference-mode batch norm (ACNET.2): one entry per channel, and eps."""

    gamma: np.ndarray
    beta: np.ndarray
    mean: np.ndarray
    var: np.ndarray
    eps: float = 1e-5

    def scale(self) -> np.ndarray:
        """a = gamma / sqrt(var + eps), per channel."""
        return np.asarray(self.gamma, dtype=np.float64) / np.sqrt(
            np.asarray(self.var, dtype=np.float64) + self.eps
        )


@dataclass(frozen=True, eq=False)
class ACBlock:
    """The trained block (ACNET.1): three kernels, each with its batch norm."""

    square: np.ndarray  # (C_out, C_in/groups, k, k)
    horizontal: np.ndarray  # (C_out, C_in/groups, 1, k)
    vertical: np.ndarray  # (C_out, C_in/groups, k, 1)
    bn_square: BatchNorm
    bn_horizontal: BatchNorm
    bn_vertical: BatchNorm


def kernel_size(block: ACBlock) -> int:
    return int(block.square.shape[-1])


def validate_block(block: ACBlock) -> int:
    """ACNET.1 and ACNET.2 for the block alone; return k."""
    sq = block.square
    require(
        sq.ndim == 4 and sq.shape[2] == sq.shape[3],
        "ACNET.1",
        f"the square kernel must have shape (C_out, C_in/groups, k, k), got {sq.shape}",
    )
    c_out, c_in_g, k = sq.shape[0], sq.shape[1], sq.shape[2]
    require(k >= 1 and k % 2 == 1, "ACNET.1", f"the kernel size k must be odd, got k={k}")
    for name, kernel, shape in (
        ("horizontal", block.horizontal, (c_out, c_in_g, 1, k)),
        ("vertical", block.vertical, (c_out, c_in_g, k, 1)),
    ):
        require(
            kernel.shape == shape,
            "ACNET.1",
            f"the {name} kernel must have shape {shape}, got {kernel.shape}",
        )
    for name, bn in (
        ("square", block.bn_square),
        ("horizontal", block.bn_horizontal),
        ("vertical", block.bn_vertical),
    ):
        for field in ("gamma", "beta", "mean", "var"):
            value = np.asarray(getattr(bn, field))
            require(
                value.shape == (c_out,),
                "ACNET.2",
                f"the {name} batch norm's {field} must have shape ({c_out},), got {value.shape}",
            )
        require(bn.eps >= 0, "ACNET.2", f"the {name} batch norm's eps must be >= 0, got {bn.eps}")
        require(
            bool(np.all(np.asarray(bn.var, dtype=np.float64) + bn.eps > 0)),
            "ACNET.2",
            f"the {name} batch norm needs var + eps > 0 in every channel",
        )
    return k


def branch_params(p: Conv, pads: Pairs, k: int) -> tuple[Conv, Conv, Conv]:
    """ACNET.3: explicit params of the square, horizontal (1 x k) and vertical (k x 1) convs.

    `pads` are the square conv's explicit pads. Each asymmetric branch gives
    up c*d of padding on both sides of the axis where it has one tap, so that
    its tap lines up with the square kernel's centre row or column.
    """
    c = k // 2
    (top, bottom), (left, right) = pads
    d_h, d_w = p.dilation

    def with_padding(padding: Pairs) -> Conv:
        return Conv(
            stride=p.stride,
            dilation=p.dilation,
            padding=padding,
            groups=p.groups,
            padding_mode=p.padding_mode,
        )

    square = with_padding(pads)
    horizontal = with_padding(((top - c * d_h, bottom - c * d_h), (left, right)))
    vertical = with_padding(((top, bottom), (left - c * d_w, right - c * d_w)))
    return square, horizontal, vertical


def validate(x: np.ndarray, block: ACBlock, p: Conv) -> tuple[Conv, Conv, Conv]:
    """Raise SpecError for an invalid configuration; return the three branches' params."""
    require(p.rank == 2, "ACNET.1", f"the block is 2-D, got {p.rank} spatial axes")
    k = validate_block(block)
    pads = conv_ref.validate(x, block.square, None, p)  # CONV and PAD clauses for the square conv
    if p.padding_mode != "zeros":
        reach = ((k // 2) * p.dilation[0], (k // 2) * p.dilation[1])
        require(
            all(min(pads[a]) >= reach[a] for a in range(2)),
            "ACNET.3",
            f"with padding mode {p.padding_mode!r} every pad of the square conv must be at "
            f"least (k//2)*dilation = {reach} so that the asymmetric branches need no "
            f"cropping; got {pads}",
        )
    params = branch_params(p, pads, k)
    return params


def batch_norm(z: np.ndarray, bn: BatchNorm) -> np.ndarray:
    """ACNET.2: y = gamma*(z - mean)/sqrt(var + eps) + beta, channel by channel."""
    z = np.asarray(z, dtype=np.float64)
    y = np.empty_like(z)
    for c in range(z.shape[1]):
        std = math.sqrt(float(bn.var[c]) + bn.eps)
        y[:, c] = float(bn.gamma[c]) * (z[:, c] - float(bn.mean[c])) / std + float(bn.beta[c])
    return y


def acnet_block(x: np.ndarray, block: ACBlock, p: Conv) -> np.ndarray:
    """ACNET.4: BN(square conv) + BN(1 x k conv) + BN(k x 1 conv). The definition."""
    p_square, p_hor, p_ver = validate(x, block, p)
    square = batch_norm(conv_ref.conv(x, block.square, None, p_square), block.bn_square)
    horizontal = batch_norm(conv_ref.conv(x, block.horizontal, None, p_hor), block.bn_horizontal)
    vertical = batch_norm(conv_ref.conv(x, block.vertical, None, p_ver), block.bn_vertical)
    return square + horizontal + vertical


def fold_batch_norm(
    w: np.ndarray, bn: BatchNorm, b: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """ACNET.5: the (weight, bias) of one conv equal to conv(w, b) followed by bn."""
    a = bn.scale()
    w_folded = np.asarray(w, dtype=np.float64) * a.reshape(-1, *([1] * (w.ndim - 1)))
    b_conv = 0.0 if b is None else np.asarray(b, dtype=np.float64)
    b_folded = np.asarray(bn.beta, dtype=np.float64) + a * (b_conv - np.asarray(bn.mean))
    return w_folded, b_folded


def fuse_acnet(block: ACBlock) -> tuple[np.ndarray, np.ndarray]:
    """ACNET.6: (w, b) of the deploy-form k x k conv; use it with the square conv's params."""
    k = validate_block(block)
    c = k // 2
    w, b = fold_batch_norm(block.square, block.bn_square)
    w_hor, b_hor = fold_batch_norm(block.horizontal, block.bn_horizontal)
    w_ver, b_ver = fold_batch_norm(block.vertical, block.bn_vertical)
    w = w.copy()
    w[:, :, c, :] += w_hor[:, :, 0, :]  # the 1 x k kernel is the centre row
    w[:, :, :, c] += w_ver[:, :, :, 0]  # the k x 1 kernel is the centre column
    return w, b + b_hor + b_ver


def magnitude(x: np.ndarray, block: ACBlock, p: Conv) -> np.ndarray:
    """ACNET.7's M: sum over branches of |a|*(conv(|x|, |w|) + |mean|) + |beta|."""
    params = validate(x, block, p)
    total = np.zeros(1)
    for kernel, bn, q in zip(
        (block.square, block.horizontal, block.vertical),
        (block.bn_square, block.bn_horizontal, block.bn_vertical),
        params,
        strict=True,
    ):
        z = conv_ref.conv_fast(np.abs(x), np.abs(kernel), None, q)
        a = np.abs(bn.scale()).reshape(1, -1, 1, 1)
        mean = np.abs(np.asarray(bn.mean, dtype=np.float64)).reshape(1, -1, 1, 1)
        beta = np.abs(np.asarray(bn.beta, dtype=np.float64)).reshape(1, -1, 1, 1)
        total = total + a * (z + mean) + beta
    return total


def fusion_length(block: ACBlock) -> int:
    """ACNET.7's n + 10: the convolution's roundings plus 10 for the batch norm and the sums."""
    return int(np.prod(block.square.shape[1:])) + 10


def fusion_error_bound(x: np.ndarray, block: ACBlock, p: Conv) -> np.ndarray:
    """ACNET.7: a bound on |acnet_block - conv(fused)| when both are evaluated in float64.

    2 * gamma(n + 10, u) * M with n = k*k*C_in/groups and M of `magnitude`.
    """
    return 2 * gamma(fusion_length(block), UNIT_ROUNDOFF["float64"]) * magnitude(x, block, p)
