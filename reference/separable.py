"""Separable convolutions (spec chapter SEP): compositions of simpler convolutions.

Each variant is defined as its composition of steps (the way networks build
it), and each comes with the single convolution it equals, so the self-tests
can check the equality:

- SEP.1-SEP.3 `depthwise_separable`: depthwise (GRP.2) then pointwise (GRP.3);
  equals one groups=1 convolution with kernel `separable_kernel`.
- SEP.4-SEP.6 `spatially_separable`: a kh x 1 step, then a 1 x kw depthwise
  step; equals one convolution whose kernel slices are rank 1
  (`spatially_separable_kernel`).
- SEP.7-SEP.8 `flattened`: a lateral (1x1, across channels) step, then
  vertical and horizontal depthwise steps; equals one convolution whose 3-D
  filters are rank 1 (`flattened_kernel`).
"""

from __future__ import annotations

import numpy as np

from reference.checks import require
from reference.conv import conv, validate
from reference.grouped import depthwise_conv, pointwise_conv
from reference.params import Conv, Pairs


def depthwise_separable(
    x: np.ndarray,
    w_depth: np.ndarray,
    w_point: np.ndarray,
    b_depth: np.ndarray | None,
    b_point: np.ndarray | None,
    p: Conv,
) -> np.ndarray:
    """SEP.1: depthwise convolution under p, then a stride-1 unpadded pointwise convolution.

    w_depth: (C_in*m, 1, *k) with p.groups == C_in; w_point: (C_out, C_in*m[, 1, ...]).
    Either bias may be None (SEP.2 says where each framework has one).
    """
    reads = _point_matrix(w_point).shape[1]
    require(
        reads == w_depth.shape[0],
        "SEP.1",
        f"the pointwise weight reads {reads} channels, the depthwise step makes {w_depth.shape[0]}",
    )
    hidden = depthwise_conv(x, w_depth, b_depth, p)
    return pointwise_conv(hidden, w_point, b_point)


def _point_matrix(w_point: np.ndarray) -> np.ndarray:
    return np.asarray(w_point, dtype=np.float64).reshape(w_point.shape[0], -1)


def fold_depthwise_bias(
    w_point: np.ndarray, b_depth: np.ndarray, b_point: np.ndarray | None
) -> np.ndarray:
    """SEP.2: the single output bias equal to a depthwise bias plus a pointwise bias.

    The pointwise step reads no padding, so the depthwise bias reaches every
    output as W_point @ b_depth.
    """
    folded = _point_matrix(w_point) @ np.asarray(b_depth, dtype=np.float64)
    return folded if b_point is None else folded + np.asarray(b_point, dtype=np.float64)


def separable_kernel(w_depth: np.ndarray, w_point: np.ndarray, c_in: int) -> np.ndarray:
    """SEP.3: the groups=1 weight (C_out, C_in, *k) equal to depthwise then pointwise.

    W[o, c] = sum_j w_point[o, c*m + j] * w_depth[c*m + j, 0], m = w_depth.shape[0] / C_in.
    """
    matrix = _point_matrix(w_point)
    require(
        c_in >= 1 and w_depth.shape[0] % c_in == 0,
        "GRP.2",
        f"a depthwise weight has C_in*m rows, a multiple of C_in={c_in}; got {w_depth.shape[0]}",
    )
    require(
        matrix.shape[1] == w_depth.shape[0],
        "SEP.1",
        f"the pointwise weight reads {matrix.shape[1]} channels, "
        f"the depthwise step makes {w_depth.shape[0]}",
    )
    m = w_depth.shape[0] // c_in
    depth = np.asarray(w_depth, dtype=np.float64)
    out = np.zeros((matrix.shape[0], c_in, *w_depth.shape[2:]), dtype=np.float64)
    for o in range(matrix.shape[0]):
        for c in range(c_in):
            for j in range(m):
                out[o, c] += matrix[o, c * m + j] * depth[c * m + j, 0]
    return out


def axis_step(p: Conv, pads: Pairs, axis: int, groups: int) -> Conv:
    """One 1-D step of a composition (SEP.5): p's stride, dilation and pads on `axis` only."""
    stride = tuple(s if a == axis else 1 for a, s in enumerate(p.stride))
    dilation = tuple(d if a == axis else 1 for a, d in enumerate(p.dilation))
    padding = tuple(pair if a == axis else (0, 0) for a, pair in enumerate(pads))
    return Conv(stride, dilation, padding, groups=groups, padding_mode=p.padding_mode)


def _check_rank2(x: np.ndarray, p: Conv, clause: str) -> None:
    require(p.rank == 2, clause, f"defined for 2 spatial axes, got a rank-{p.rank} configuration")
    require(x.ndim == 4, "CONV.1", f"input must have shape (N, C, H, W), got {x.shape}")


def spatially_separable_kernel(w_col: np.ndarray, w_row: np.ndarray) -> np.ndarray:
    """SEP.4: W[o, c, a, b] = w_col[o, c, a, 0] * w_row[o, 0, 0, b]; each (o, c) slice is rank 1."""
    require(
        w_col.ndim == 4 and w_col.shape[3] == 1,
        "SEP.4",
        f"the column weight has shape (C_out, C_in/groups, kh, 1), got {w_col.shape}",
    )
    require(
        w_row.ndim == 4 and w_row.shape[:3] == (w_col.shape[0], 1, 1),
        "SEP.4",
        f"the row weight has shape ({w_col.shape[0]}, 1, 1, kw), got {w_row.shape}",
    )
    col = np.asarray(w_col, dtype=np.float64)[:, :, :, 0]
    row = np.asarray(w_row, dtype=np.float64)[:, 0, 0, :]
    return np.einsum("oca,ob->ocab", col, row)


def spatially_separable(
    x: np.ndarray, w_col: np.ndarray, w_row: np.ndarray, b: np.ndarray | None, p: Conv
) -> np.ndarray:
    """SEP.4/SEP.5: a kh x 1 convolution, then a 1 x kw depthwise convolution.

    p describes the equivalent single 2-D convolution (SEP.6). Its padding is
    resolved once for the full kernel (kh, kw); each step then pads, strides
    and dilates along its own axis only. The bias is added by the last step.
    """
    _check_rank2(x, p, "SEP.4")
    full = spatially_separable_kernel(w_col, w_row)
    pads = validate(x, full, b, p)
    c_out = w_col.shape[0]
    hidden = conv(x, w_col, None, axis_step(p, pads, 0, groups=p.groups))
    return conv(hidden, w_row, b, axis_step(p, pads, 1, groups=c_out))


def flattened_kernel(
    w_lateral: np.ndarray, w_vertical: np.ndarray, w_horizontal: np.ndarray
) -> np.ndarray:
    """SEP.7: W[o, c, a, b] = lateral[o, c] * vertical[o, a] * horizontal[o, b].

    Every 3-D filter W[o] is the outer product of three vectors (rank 1).
    """
    lateral = _point_matrix(w_lateral)
    c_out = lateral.shape[0]
    require(
        w_vertical.ndim == 4 and w_vertical.shape[0] == c_out and w_vertical.shape[1::2] == (1, 1),
        "SEP.7",
        f"the vertical weight has shape ({c_out}, 1, kh, 1), got {w_vertical.shape}",
    )
    require(
        w_horizontal.ndim == 4 and w_horizontal.shape[:3] == (c_out, 1, 1),
        "SEP.7",
        f"the horizontal weight has shape ({c_out}, 1, 1, kw), got {w_horizontal.shape}",
    )
    vertical = np.asarray(w_vertical, dtype=np.float64)[:, 0, :, 0]
    horizontal = np.asarray(w_horizontal, dtype=np.float64)[:, 0, 0, :]
    return np.einsum("oc,oa,ob->ocab", lateral, vertical, horizontal)


def flattened(
    x: np.ndarray,
    w_lateral: np.ndarray,
    w_vertical: np.ndarray,
    w_horizontal: np.ndarray,
    b: np.ndarray | None,
    p: Conv,
) -> np.ndarray:
    """SEP.7/SEP.8: lateral 1x1 (C_in -> C_out), then kh x 1 and 1 x kw depthwise steps.

    w_lateral: (C_out, C_in[, 1, 1]); w_vertical: (C_out, 1, kh, 1);
    w_horizontal: (C_out, 1, 1, kw). p describes the equivalent single
    convolution, with groups = 1; the bias is added by the last step.
    """
    _check_rank2(x, p, "SEP.7")
    require(
        p.groups == 1,
        "SEP.7",
        f"the lateral step reads every channel: groups must be 1, got {p.groups}",
    )
    full = flattened_kernel(w_lateral, w_vertical, w_horizontal)
    pads = validate(x, full, b, p)
    c_out = full.shape[0]
    lateral = pointwise_conv(x, _point_matrix(w_lateral), None)
    vertical = conv(lateral, w_vertical, None, axis_step(p, pads, 0, groups=c_out))
    return conv(vertical, w_horizontal, b, axis_step(p, pads, 1, groups=c_out))
