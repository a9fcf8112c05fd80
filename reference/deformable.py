"""Deformable convolution v1 and v2, 2-D (spec chapter DEFORM).

`deform_conv` is the definition: a scalar loop that transcribes DEFORM.7,

    y[n, o, oy, ox] = b[o] + sum_{c < C_in/g} sum_{ki, kj}
                      w[o, c, ki, kj] * m[n, G(ci), k, oy, ox] * bilinear(x[n, ci], py, px)

with ci = g(o)*C_in/g + c, k = ki*kw + kj, G(ci) = ci // (C_in/offset_groups),
the sampling position (py, px) of DEFORM.5 and `bilinear` of DEFORM.6.
`deform_conv_fast` is a vectorized float64 oracle, proven equal to the loop
by the self-tests.
"""

from __future__ import annotations

import itertools
import math

import numpy as np

from reference.checks import require
from reference.params import DeformConv
from reference.sizes import conv_output_size


def output_size(
    x_shape: tuple[int, ...], w_shape: tuple[int, ...], p: DeformConv
) -> tuple[int, int]:
    """DEFORM.3: (H_out, W_out), CONV.3's window positions with the explicit pads."""
    return (
        max(conv_output_size(x_shape[2], w_shape[2], p.stride[0], p.dilation[0], *p.padding[0]), 0),
        max(conv_output_size(x_shape[3], w_shape[3], p.stride[1], p.dilation[1], *p.padding[1]), 0),
    )


def _validate_params(p: DeformConv) -> None:
    require(
        len(p.stride) == 2 and len(p.dilation) == 2,
        "DEFORM.2",
        f"stride and dilation must have 2 entries, got {p.stride} and {p.dilation}",
    )
    require(all(s >= 1 for s in p.stride), "DEFORM.2", f"stride must be >= 1, got {p.stride}")
    require(all(d >= 1 for d in p.dilation), "DEFORM.2", f"dilation must be >= 1, got {p.dilation}")
    require(
        isinstance(p.padding, tuple)
        and len(p.padding) == 2
        and all(isinstance(pair, tuple) and len(pair) == 2 for pair in p.padding),
        "DEFORM.2",
        f"padding must be explicit ((top, bottom), (left, right)) pairs, got {p.padding!r}",
    )
    require(
        all(v >= 0 for pair in p.padding for v in pair),
        "DEFORM.2",
        f"padding must be non-negative, got {p.padding}",
    )
    require(p.groups >= 1, "DEFORM.2", f"groups must be >= 1, got {p.groups}")
    require(p.offset_groups >= 1, "DEFORM.2", f"offset_groups must be >= 1, got {p.offset_groups}")


def validate(
    x: np.ndarray,
    offset: np.ndarray,
    mask: np.ndarray | None,
    w: np.ndarray,
    b: np.ndarray | None,
    p: DeformConv,
) -> tuple[int, int]:
    """Raise SpecError for an invalid configuration; return (H_out, W_out)."""
    require(x.ndim == 4, "DEFORM.1", f"input must have shape (N, C_in, H, W), got {x.shape}")
    require(
        w.ndim == 4,
        "DEFORM.1",
        f"weight must have shape (C_out, C_in/groups, kh, kw), got {w.shape}",
    )
    n_batch, c_in = x.shape[0], x.shape[1]
    c_out, kh, kw = w.shape[0], w.shape[2], w.shape[3]
    # C_in = 0 and C_out = 0 are degenerate, not invalid (ERR.15).
    require(kh >= 1 and kw >= 1, "DEFORM.1", f"kernel sizes must be >= 1, got {(kh, kw)}")
    _validate_params(p)
    require(c_in % p.groups == 0, "DEFORM.2", f"groups={p.groups} does not divide C_in={c_in}")
    require(c_out % p.groups == 0, "DEFORM.2", f"groups={p.groups} does not divide C_out={c_out}")
    require(
        w.shape[1] == c_in // p.groups,
        "DEFORM.2",
        f"weight has {w.shape[1]} input channels per group, expected C_in/groups = "
        f"{c_in // p.groups}",
    )
    require(
        c_in % p.offset_groups == 0,
        "DEFORM.2",
        f"offset_groups={p.offset_groups} does not divide C_in={c_in}",
    )
    out = output_size(x.shape, w.shape, p)  # 0 where no window fits: degenerate (ERR.15)
    taps = p.offset_groups * kh * kw
    expected = (n_batch, 2 * taps, *out)
    require(
        offset.shape == expected,
        "DEFORM.4",
        f"offset must have shape (N, 2*offset_groups*kh*kw, H_out, W_out) = {expected}, "
        f"got {offset.shape}",
    )
    require(
        bool(np.all(np.isfinite(offset))),
        "DEFORM.5",
        "offsets must be finite: a sampling position is a real point",
    )
    if mask is not None:
        expected = (n_batch, taps, *out)
        require(
            mask.shape == expected,
            "DEFORM.4",
            f"mask must have shape (N, offset_groups*kh*kw, H_out, W_out) = {expected}, "
            f"got {mask.shape}",
        )
    if b is not None:
        require(b.shape == (c_out,), "DEFORM.7", f"bias must have shape ({c_out},), got {b.shape}")
    return out


def bilinear(plane: np.ndarray, h: float, w: float) -> float:
    """DEFORM.6: the value of a 2-D plane at the real point (h, w).

    Zero outside (-1, H) x (-1, W); inside, the four integer corners around
    the point, each weighted by the area opposite it and read as zero where
    it lies outside the plane.
    """
    height, width = plane.shape
    if h <= -1 or h >= height or w <= -1 or w >= width:
        return 0.0
    h_low, w_low = math.floor(h), math.floor(w)
    lh, lw = h - h_low, w - w_low
    hh, hw = 1.0 - lh, 1.0 - lw

    def corner(i: int, j: int) -> float:
        return float(plane[i, j]) if 0 <= i < height and 0 <= j < width else 0.0

    return (
        hh * hw * corner(h_low, w_low)
        + hh * lw * corner(h_low, w_low + 1)
        + lh * hw * corner(h_low + 1, w_low)
        + lh * lw * corner(h_low + 1, w_low + 1)
    )


def deform_conv(
    x: np.ndarray,
    offset: np.ndarray,
    mask: np.ndarray | None,
    w: np.ndarray,
    b: np.ndarray | None,
    p: DeformConv,
) -> np.ndarray:
    """DEFORM.7 as a scalar loop in float64. The definition."""
    h_out, w_out = validate(x, offset, mask, w, b, p)
    x = np.asarray(x, dtype=np.float64)
    offset = np.asarray(offset, dtype=np.float64)
    w = np.asarray(w, dtype=np.float64)
    n_batch, c_in = x.shape[0], x.shape[1]
    c_out, kh, kw = w.shape[0], w.shape[2], w.shape[3]
    c_in_g, c_out_g = c_in // p.groups, c_out // p.groups
    c_per_offset_group = c_in // p.offset_groups
    (s_h, s_w), (d_h, d_w) = p.stride, p.dilation
    pad_top, pad_left = p.padding[0][0], p.padding[1][0]
    y = np.zeros((n_batch, c_out, h_out, w_out), dtype=np.float64)
    for n, o, oy, ox in itertools.product(range(n_batch), range(c_out), range(h_out), range(w_out)):
        group = o // c_out_g
        acc = 0.0 if b is None else float(b[o])
        for c in range(c_in_g):
            ci = group * c_in_g + c
            og = ci // c_per_offset_group  # DEFORM.4: the offset group of input channel ci
            for ki, kj in itertools.product(range(kh), range(kw)):
                k = ki * kw + kj
                dy = offset[n, 2 * (og * kh * kw + k), oy, ox]
                dx = offset[n, 2 * (og * kh * kw + k) + 1, oy, ox]
                # DEFORM.5: the regular grid position plus the learned offset.
                py = oy * s_h - pad_top + ki * d_h + dy
                px = ox * s_w - pad_left + kj * d_w + dx
                m = 1.0 if mask is None else float(mask[n, og * kh * kw + k, oy, ox])
                acc += float(w[o, c, ki, kj]) * (m * bilinear(x[n, ci], py, px))
        y[n, o, oy, ox] = acc
    return y


def sampling_positions(
    x_shape: tuple[int, ...], w_shape: tuple[int, ...], offset: np.ndarray, p: DeformConv
) -> tuple[np.ndarray, np.ndarray]:
    """DEFORM.5 for every tap: (py, px), each of shape (N, offset_groups, kh, kw, H_out, W_out)."""
    kh, kw = w_shape[2], w_shape[3]
    h_out, w_out = offset.shape[2], offset.shape[3]
    off = np.asarray(offset, dtype=np.float64).reshape(
        offset.shape[0], p.offset_groups, kh, kw, 2, h_out, w_out
    )
    # The regular grid part, (kh, H_out) and (kw, W_out).
    base_y = np.arange(h_out)[None, :] * p.stride[0] - p.padding[0][0]
    base_y = base_y + np.arange(kh)[:, None] * p.dilation[0]
    base_x = np.arange(w_out)[None, :] * p.stride[1] - p.padding[1][0]
    base_x = base_x + np.arange(kw)[:, None] * p.dilation[1]
    py = base_y[:, None, :, None] + off[:, :, :, :, 0]
    px = base_x[None, :, None, :] + off[:, :, :, :, 1]
    return py, px


def _bilinear_columns(x: np.ndarray, py: np.ndarray, px: np.ndarray) -> np.ndarray:
    """DEFORM.6 for every channel and tap: shape (N, G, C_in/G, kh, kw, H_out, W_out)."""
    n_batch, c_in, height, width = x.shape
    offset_groups = py.shape[1]
    xg = x.reshape(n_batch, offset_groups, c_in // offset_groups, height, width)
    h_low, w_low = np.floor(py), np.floor(px)
    lh, lw = py - h_low, px - w_low
    hh, hw = 1.0 - lh, 1.0 - lw
    n_idx = np.arange(n_batch).reshape(-1, 1, 1, 1, 1, 1)
    g_idx = np.arange(offset_groups).reshape(1, -1, 1, 1, 1, 1)
    total = np.zeros((*py.shape, c_in // offset_groups), dtype=np.float64)
    for di, dj, weight in ((0, 0, hh * hw), (0, 1, hh * lw), (1, 0, lh * hw), (1, 1, lh * lw)):
        i = h_low.astype(np.int64) + di
        j = w_low.astype(np.int64) + dj
        valid = (i >= 0) & (i < height) & (j >= 0) & (j < width)
        # Advanced indices around a slice put the channel axis last.
        vals = xg[n_idx, g_idx, :, np.clip(i, 0, height - 1), np.clip(j, 0, width - 1)]
        # np.where, not a product with `valid`: an outside corner is never read.
        total += weight[..., None] * np.where(valid[..., None], vals, 0.0)
    inside = (py > -1) & (py < height) & (px > -1) & (px < width)
    total = np.where(inside[..., None], total, 0.0)
    return np.moveaxis(total, -1, 2)


def deform_conv_fast(
    x: np.ndarray,
    offset: np.ndarray,
    mask: np.ndarray | None,
    w: np.ndarray,
    b: np.ndarray | None,
    p: DeformConv,
) -> np.ndarray:
    """Vectorized float64 oracle for `deform_conv`: gather the samples, then one einsum."""
    h_out, w_out = validate(x, offset, mask, w, b, p)
    x = np.asarray(x, dtype=np.float64)
    w = np.asarray(w, dtype=np.float64)
    n_batch, c_in = x.shape[0], x.shape[1]
    c_out, kh, kw = w.shape[0], w.shape[2], w.shape[3]
    py, px = sampling_positions(x.shape, w.shape, offset, p)
    cols = _bilinear_columns(x, py, px)  # (N, G, C_in/G, kh, kw, H_out, W_out)
    if mask is not None:
        m = np.asarray(mask, dtype=np.float64).reshape(
            n_batch, p.offset_groups, 1, kh, kw, h_out, w_out
        )
        cols = cols * m
    g = p.groups
    cols = cols.reshape(n_batch, g, c_in // g, kh, kw, h_out, w_out)
    wg = w.reshape(g, c_out // g, c_in // g, kh, kw)
    y = np.einsum("ngcijyx,gocij->ngoyx", cols, wg)
    y = y.reshape(n_batch, c_out, h_out, w_out)
    if b is not None:
        y = y + np.asarray(b, dtype=np.float64).reshape(1, -1, 1, 1)
    return y


# DEFORM.11: roundings on a corner product's path besides the accumulation
# itself: 1 - lh and 1 - lw, their product, the product with the value, the
# product with the mask and with the weight; 6 is an upper bound.
FACTOR_ROUNDINGS = 6


def accumulation_terms(w_shape: tuple[int, ...], p: DeformConv, bias: bool) -> int:
    """DEFORM.11: the accumulation length n to use in NUM.3 for one output element.

    4 corner products per tap and input channel of the group, plus the
    roundings inside each product's factors, plus one for the bias.
    """
    taps = int(np.prod(w_shape[1:]))
    return 4 * taps + FACTOR_ROUNDINGS + (1 if bias else 0)
