"""Vector-Jacobian products of the convolutions (spec chapter GRAD).

For an operation y = f(operands) and a cotangent g of y's shape, the VJP with
respect to an operand a is dL/da for L = sum(y * g) (GRAD.1). The loops here
are the definitions: each walks the terms of the forward loop (CONV.2,
TCONV.2, DEFORM.7) and hands every term's partial derivatives, times the
cotangent of the output it feeds, to the operand elements it read:

    conv:   y[n, o, j] += w[o, c, t] * x_pad[n, ci, j*s + t*d - p_begin]
            dx[n, ci, src(j*s + t*d - p_begin)] += g[n, o, j] * w[o, c, t]   (GRAD.3)
            dw[o, c, t]                         += g[n, o, j] * x_pad[...]   (GRAD.5)
            db[o]                               += g[n, o, j]                (GRAD.2)

The `_fast` functions are vectorized float64 oracles, proven equal to the
loops by the self-tests; `*_gradient_terms` give the accumulation lengths of
GRAD.13.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import numpy as np

from reference import conv as conv_ref
from reference import deformable, transposed
from reference.checks import require
from reference.padding import source_index
from reference.params import Conv, ConvTranspose, DeformConv, PaddingMode, Pairs
from reference.sizes import conv_output_shape, conv_transpose_output_shape, effective_kernel

Grads = dict[str, np.ndarray]


def _cotangent(g: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """GRAD.1: the cotangent has the output's shape."""
    g = np.asarray(g)
    require(
        tuple(g.shape) == tuple(shape),
        "GRAD.1",
        f"the cotangent must have the output's shape {tuple(shape)}, got {tuple(g.shape)}",
    )
    return g.astype(np.float64)


def _lead3(spatial: Sequence[int | slice]) -> tuple[int | slice, ...]:
    """An index keeping the three leading axes (batch or group, group, channel) whole."""
    return (slice(None), slice(None), slice(None), *spatial)


# --- convolution ---------------------------------------------------------------


def conv_vjp(x: np.ndarray, w: np.ndarray, b: np.ndarray | None, p: Conv, g: np.ndarray) -> Grads:
    """GRAD.2, GRAD.3, GRAD.5 as a scalar loop over the terms of CONV.2. The definition."""
    pads = conv_ref.validate(x, w, b, p)
    x, w = np.asarray(x, dtype=np.float64), np.asarray(w, dtype=np.float64)
    out_shape = conv_output_shape(x.shape, w.shape, p)
    g = _cotangent(g, out_shape)
    dx, dw = np.zeros_like(x), np.zeros_like(w)
    db = np.zeros(w.shape[0])
    spatial, kernel = x.shape[2:], w.shape[2:]
    c_in_g, c_out_g = x.shape[1] // p.groups, w.shape[0] // p.groups
    for n, o in itertools.product(range(out_shape[0]), range(out_shape[1])):
        group = o // c_out_g
        for j in itertools.product(*(range(m) for m in out_shape[2:])):
            cot = float(g[(n, o, *j)])
            db[o] += cot
            for c in range(c_in_g):
                ci = group * c_in_g + c
                for k in itertools.product(*(range(m) for m in kernel)):
                    src = []
                    for a in range(p.rank):
                        i = j[a] * p.stride[a] + k[a] * p.dilation[a] - pads[a][0]
                        src.append(source_index(i, spatial[a], p.padding_mode))
                    if None in src:
                        continue  # a zero of zero padding: no operand element was read
                    # The padded position read x[src]: its gradient lands there (GRAD.3).
                    dx[(n, ci, *src)] += cot * float(w[(o, c, *k)])
                    dw[(o, c, *k)] += cot * float(x[(n, ci, *src)])
    grads = {"x": dx, "w": dw}
    if b is not None:
        grads["b"] = db
    return grads


def fold_padding(
    dx_pad: np.ndarray, pads: Pairs, spatial: tuple[int, ...], mode: PaddingMode
) -> np.ndarray:
    """GRAD.3: the gradient of the padded input, summed onto the input elements it reads.

    Axis by axis, padded index q (coordinate q - p_begin) adds to src(q - p_begin)
    of PAD.8-PAD.11; zeros mode drops the padding positions. A negative p_begin
    (a crop, PAD.3) makes the padded array start inside the input.
    """
    out = np.asarray(dx_pad, dtype=np.float64)
    for a, ((begin, _), n) in enumerate(zip(pads, spatial, strict=True)):
        axis = 2 + a
        folded = np.zeros((*out.shape[:axis], n, *out.shape[axis + 1 :]))
        for q in range(out.shape[axis]):
            src = source_index(q - begin, n, mode)
            if src is not None:
                folded[(slice(None),) * axis + (src,)] += out[(slice(None),) * axis + (q,)]
        out = folded
    return out


def conv_vjp_fast(
    x: np.ndarray, w: np.ndarray, b: np.ndarray | None, p: Conv, g: np.ndarray
) -> Grads:
    """Vectorized float64 oracle for `conv_vjp`: one einsum per kernel tap, then the fold."""
    pads = conv_ref.validate(x, w, b, p)
    x, w = np.asarray(x, dtype=np.float64), np.asarray(w, dtype=np.float64)
    out_shape = conv_output_shape(x.shape, w.shape, p)
    g = _cotangent(g, out_shape)
    xp = conv_ref.pad_input(x, pads, p.padding_mode)
    groups, n_batch = p.groups, x.shape[0]
    c_in_g, c_out_g = x.shape[1] // groups, w.shape[0] // groups
    xg = xp.reshape(n_batch, groups, c_in_g, *xp.shape[2:])
    wg = w.reshape(groups, c_out_g, *w.shape[1:])
    gg = g.reshape(n_batch, groups, c_out_g, *out_shape[2:])
    dxp = np.zeros_like(xg)
    dwg = np.zeros_like(wg)
    positions = math.prod(out_shape[2:])  # explicit: reshape(-1) fails on an empty batch
    for k in itertools.product(*(range(m) for m in w.shape[2:])):
        window = tuple(
            slice(
                k[a] * p.dilation[a],
                k[a] * p.dilation[a] + (out_shape[2 + a] - 1) * p.stride[a] + 1,
                p.stride[a],
            )
            for a in range(p.rank)
        )
        taps = xg[_lead3(window)].reshape(*xg.shape[:3], positions)
        dwg[_lead3(k)] = np.einsum("ngcs,ngos->goc", taps, gg.reshape(*gg.shape[:3], positions))
        dxp[_lead3(window)] += np.einsum("ngo...,goc->ngc...", gg, wg[_lead3(k)])
    dx = fold_padding(dxp.reshape(xp.shape), pads, tuple(x.shape[2:]), p.padding_mode)
    grads = {"x": dx, "w": dwg.reshape(w.shape)}
    if b is not None:
        grads["b"] = g.sum(axis=(0, *range(2, g.ndim)))
    return grads


def input_gradient_as_transpose(
    x_shape: tuple[int, ...], w_shape: tuple[int, ...], p: Conv
) -> ConvTranspose:
    """GRAD.4: the transposed convolution that maps g to dL/dx (zeros mode, pads >= 0).

    Pads (p_begin, p_end) and output_padding r = (n + p_begin + p_end - k_eff) mod s,
    the input positions that no window reaches (TCONV.15's output size n).
    """
    pads = conv_ref.validate(np.empty(x_shape), np.empty(w_shape), None, p)
    require(
        p.padding_mode == "zeros" and all(b >= 0 and e >= 0 for b, e in pads),
        "GRAD.4",
        "the transposed-convolution form holds for zero padding with non-negative pads, got "
        f"mode {p.padding_mode!r} and pads {pads}",
    )
    extra = tuple(
        (n + begin + end - effective_kernel(k, d)) % s
        for n, k, s, d, (begin, end) in zip(
            x_shape[2:], w_shape[2:], p.stride, p.dilation, pads, strict=True
        )
    )
    return ConvTranspose(
        stride=p.stride,
        dilation=p.dilation,
        padding=pads,
        output_padding=extra,
        groups=p.groups,
        output_padding_rule="stride",
    )


def _axis_reads(
    n: int, k: int, s: int, d: int, begin: int, m: int, mode: PaddingMode
) -> np.ndarray:
    """GRAD.13: per input index i, the pairs (j, t) of one axis whose read lands on i."""
    counts = np.zeros(n, dtype=np.int64)
    for j, t in itertools.product(range(m), range(k)):
        src = source_index(j * s + t * d - begin, n, mode)
        if src is not None:
            counts[src] += 1
    return counts


def conv_gradient_terms(
    x_shape: tuple[int, ...], w_shape: tuple[int, ...], p: Conv, bias: bool
) -> dict[str, int]:
    """GRAD.13: accumulation length n of NUM.3 for each gradient of a convolution.

    x: (C_out/g) * prod over axes of the most (j, t) pairs read from one input
    index, plus 1 for the intermediate rounding of the padded-input gradient when
    a padding mode folds it (NUM.6); w and b: N * prod(out), one term per output.
    """
    pads = conv_ref.validate(np.empty(x_shape), np.empty(w_shape), None, p)
    out = conv_output_shape(x_shape, w_shape, p)
    per_output = x_shape[0] * math.prod(out[2:])
    reads = math.prod(
        int(_axis_reads(n, k, s, d, begin, m, p.padding_mode).max(initial=0))
        for n, k, s, d, (begin, _), m in zip(
            x_shape[2:], w_shape[2:], p.stride, p.dilation, pads, out[2:], strict=True
        )
    )
    folded = 0 if p.padding_mode == "zeros" else 1
    terms = {"x": (w_shape[0] // p.groups) * reads + folded, "w": per_output}
    if bias:
        terms["b"] = per_output
    return terms


# --- transposed convolution ------------------------------------------------------


def conv_transpose_vjp(
    x: np.ndarray, w: np.ndarray, b: np.ndarray | None, p: ConvTranspose, g: np.ndarray
) -> Grads:
    """GRAD.2, GRAD.6, GRAD.7 as a scalar loop over the terms of TCONV.2. The definition."""
    pads, _ = transposed.validate(x, w, b, p)
    x, w = np.asarray(x, dtype=np.float64), np.asarray(w, dtype=np.float64)
    out_shape = conv_transpose_output_shape(x.shape, w.shape, p)
    g = _cotangent(g, out_shape)
    dx, dw = np.zeros_like(x), np.zeros_like(w)
    db = np.zeros(out_shape[1])
    spatial, kernel = x.shape[2:], w.shape[2:]
    c_in_g, c_out_g = x.shape[1] // p.groups, w.shape[1]
    for n, o in itertools.product(range(out_shape[0]), range(out_shape[1])):
        group, o_in_group = divmod(o, c_out_g)
        for j in itertools.product(*(range(m) for m in out_shape[2:])):
            cot = float(g[(n, o, *j)])
            db[o] += cot
            for c in range(group * c_in_g, (group + 1) * c_in_g):
                for k in itertools.product(*(range(m) for m in kernel)):
                    i = [
                        _transposed_source(
                            j[a], k[a], p.stride[a], p.dilation[a], pads[a][0], spatial[a]
                        )
                        for a in range(p.rank)
                    ]
                    if None in i:
                        continue  # no input position reaches j through tap k
                    dx[(n, c, *i)] += cot * float(w[(c, o_in_group, *k)])
                    dw[(c, o_in_group, *k)] += cot * float(x[(n, c, *i)])
    grads = {"x": dx, "w": dw}
    if b is not None:
        grads["b"] = db
    return grads


def _transposed_source(j: int, k: int, s: int, d: int, begin: int, n: int) -> int | None:
    """The input index i with i*s + k*d - begin = j (TCONV.2), or None."""
    m = j + begin - k * d
    if m % s != 0 or not 0 <= m // s < n:
        return None
    return m // s


def conv_transpose_vjp_fast(
    x: np.ndarray, w: np.ndarray, b: np.ndarray | None, p: ConvTranspose, g: np.ndarray
) -> Grads:
    """Vectorized float64 oracle for `conv_transpose_vjp`.

    The cotangent is placed into the uncropped buffer of `conv_transpose_fast`
    (from p_begin on); each tap then gathers from it with stride s.
    """
    pads, _ = transposed.validate(x, w, b, p)
    x, w = np.asarray(x, dtype=np.float64), np.asarray(w, dtype=np.float64)
    out_shape = conv_transpose_output_shape(x.shape, w.shape, p)
    g = _cotangent(g, out_shape)
    spatial, kernel = x.shape[2:], w.shape[2:]
    groups, n_batch = p.groups, x.shape[0]
    c_in_g, c_out_g = x.shape[1] // groups, w.shape[1]
    full = tuple(
        max((n - 1) * s + effective_kernel(k, d), begin + out)
        for n, k, s, d, (begin, _), out in zip(
            spatial, kernel, p.stride, p.dilation, pads, out_shape[2:], strict=True
        )
    )
    buf = np.zeros((n_batch, groups, c_out_g, *full))
    crop = tuple(
        slice(begin, begin + out) for (begin, _), out in zip(pads, out_shape[2:], strict=True)
    )
    buf[_lead3(crop)] = g.reshape(n_batch, groups, c_out_g, *out_shape[2:])
    xg = x.reshape(n_batch, groups, c_in_g, *spatial)
    wg = w.reshape(groups, c_in_g, c_out_g, *kernel)
    dx = np.zeros_like(xg)
    dw = np.zeros_like(wg)
    positions = math.prod(spatial)  # explicit: reshape(-1) fails on an empty batch
    for k in itertools.product(*(range(m) for m in kernel)):
        window = tuple(
            slice(
                k[a] * p.dilation[a],
                k[a] * p.dilation[a] + (spatial[a] - 1) * p.stride[a] + 1,
                p.stride[a],
            )
            for a in range(p.rank)
        )
        taps = buf[_lead3(window)]
        dx += np.einsum("ngo...,gco->ngc...", taps, wg[_lead3(k)])
        flat = taps.reshape(*taps.shape[:3], positions)
        dw[_lead3(k)] = np.einsum("ngcs,ngos->gco", xg.reshape(*xg.shape[:3], positions), flat)
    grads = {"x": dx.reshape(x.shape), "w": dw.reshape(w.shape)}
    if b is not None:
        grads["b"] = g.sum(axis=(0, *range(2, g.ndim)))
    return grads


def transpose_input_gradient_as_conv(
    x_shape: tuple[int, ...], w_shape: tuple[int, ...], p: ConvTranspose
) -> Conv:
    """GRAD.6: the convolution that maps g to dL/dx of a transposed convolution.

    Same weight, stride, dilation and groups; zero padding (p_begin, p_end - output_padding),
    whose end entry is negative (a crop, PAD.3) when output_padding > p_end.
    """
    pads, extra = transposed.validate_shapes(x_shape, w_shape, None, p)
    return Conv(
        stride=p.stride,
        dilation=p.dilation,
        padding=tuple((begin, end - op) for (begin, end), op in zip(pads, extra, strict=True)),
        groups=p.groups,
    )


def conv_transpose_gradient_terms(
    x_shape: tuple[int, ...], w_shape: tuple[int, ...], p: ConvTranspose, bias: bool
) -> dict[str, int]:
    """GRAD.13: x: (C_out/g) * prod(k); w: N * prod(n_in); b: N * prod(out)."""
    transposed.validate_shapes(x_shape, w_shape, None, p)
    out = conv_transpose_output_shape(x_shape, w_shape, p)
    terms = {"x": math.prod(w_shape[1:]), "w": x_shape[0] * math.prod(x_shape[2:])}
    if bias:
        terms["b"] = out[0] * math.prod(out[2:])
    return terms


# --- deformable convolution ------------------------------------------------------


def bilinear_corners(height: int, width: int, h: float, w: float) -> list[tuple[int, int, float]]:
    """GRAD.10: the corners DEFORM.6 reads at (h, w), each with its weight.

    None outside (-1, H) x (-1, W); inside, the corners that lie in the plane.
    """
    if h <= -1 or h >= height or w <= -1 or w >= width:
        return []
    h0, w0 = math.floor(h), math.floor(w)
    lh, lw = h - h0, w - w0
    weights = {
        (0, 0): (1 - lh) * (1 - lw),
        (0, 1): (1 - lh) * lw,
        (1, 0): lh * (1 - lw),
        (1, 1): lh * lw,
    }
    return [
        (h0 + di, w0 + dj, weight)
        for (di, dj), weight in weights.items()
        if 0 <= h0 + di < height and 0 <= w0 + dj < width
    ]


def bilinear_derivatives(plane: np.ndarray, h: float, w: float) -> tuple[float, float]:
    """GRAD.11: (d/dh, d/dw) of the cell polynomial of DEFORM.6 on the cell at (floor h, floor w).

    Corners outside the plane read 0. At an integer coordinate this is the
    derivative from above (GRAD.12).
    """
    height, width = plane.shape
    h0, w0 = math.floor(h), math.floor(w)
    lh, lw = h - h0, w - w0

    def v(i: int, j: int) -> float:
        return float(plane[i, j]) if 0 <= i < height and 0 <= j < width else 0.0

    d_h = (1 - lw) * (v(h0 + 1, w0) - v(h0, w0)) + lw * (v(h0 + 1, w0 + 1) - v(h0, w0 + 1))
    d_w = (1 - lh) * (v(h0, w0 + 1) - v(h0, w0)) + lh * (v(h0 + 1, w0 + 1) - v(h0 + 1, w0))
    return d_h, d_w


def deform_conv_vjp(
    x: np.ndarray,
    offset: np.ndarray,
    mask: np.ndarray | None,
    w: np.ndarray,
    b: np.ndarray | None,
    p: DeformConv,
    g: np.ndarray,
) -> Grads:
    """GRAD.2, GRAD.8-GRAD.11 as a scalar loop over the terms of DEFORM.7. The definition."""
    h_out, w_out = deformable.validate(x, offset, mask, w, b, p)
    x, offset, w = (np.asarray(a, dtype=np.float64) for a in (x, offset, w))
    n_batch, c_in, height, width = x.shape
    c_out, kh, kw = w.shape[0], w.shape[2], w.shape[3]
    g = _cotangent(g, (n_batch, c_out, h_out, w_out))
    dx, doff, dw = np.zeros_like(x), np.zeros_like(offset), np.zeros_like(w)
    dmask = np.zeros(np.shape(mask)) if mask is not None else None
    db = np.zeros(c_out)
    c_in_g, c_out_g = c_in // p.groups, c_out // p.groups
    c_per_offset_group = c_in // p.offset_groups
    (s_h, s_w), (d_h, d_w) = p.stride, p.dilation
    pad_top, pad_left = p.padding[0][0], p.padding[1][0]
    for n, o, oy, ox in itertools.product(range(n_batch), range(c_out), range(h_out), range(w_out)):
        cot = float(g[n, o, oy, ox])
        db[o] += cot
        group = o // c_out_g
        for c in range(c_in_g):
            ci = group * c_in_g + c
            og = ci // c_per_offset_group
            for ki, kj in itertools.product(range(kh), range(kw)):
                k = ki * kw + kj
                ch = 2 * (og * kh * kw + k)  # the dy channel; dx is ch + 1 (DEFORM.4)
                py = oy * s_h - pad_top + ki * d_h + offset[n, ch, oy, ox]
                px = ox * s_w - pad_left + kj * d_w + offset[n, ch + 1, oy, ox]
                m = 1.0 if mask is None else float(mask[n, og * kh * kw + k, oy, ox])
                weight = float(w[o, c, ki, kj])
                sample = deformable.bilinear(x[n, ci], py, px)
                dw[o, c, ki, kj] += cot * m * sample  # GRAD.8
                if dmask is not None:
                    dmask[n, og * kh * kw + k, oy, ox] += cot * weight * sample  # GRAD.9
                for i, j, corner in bilinear_corners(height, width, py, px):  # GRAD.10
                    dx[n, ci, i, j] += cot * weight * m * corner
                along_h, along_w = bilinear_derivatives(x[n, ci], py, px)  # GRAD.11
                doff[n, ch, oy, ox] += cot * weight * m * along_h
                doff[n, ch + 1, oy, ox] += cot * weight * m * along_w
    grads = {"x": dx, "offset": doff, "w": dw}
    if dmask is not None:
        grads["mask"] = dmask
    if b is not None:
        grads["b"] = db
    return grads


def _signed(a: np.ndarray, magnitude: bool) -> np.ndarray:
    """a in float64, or |a| for a magnitude term."""
    a = np.asarray(a, dtype=np.float64)
    return np.abs(a) if magnitude else a


def _deform_vjp_vectorized(
    x: np.ndarray,
    offset: np.ndarray,
    mask: np.ndarray | None,
    w: np.ndarray,
    b: np.ndarray | None,
    p: DeformConv,
    g: np.ndarray,
    magnitude: bool,
) -> Grads:
    """The deformable VJP on whole arrays; `magnitude`: GRAD.13's M instead of the values.

    For M every operand enters by its absolute value and the signed coefficients
    of GRAD.11 by theirs, so each term contributes |term|.
    """
    h_out, w_out = deformable.validate(x, offset, mask, w, b, p)
    x, w = _signed(x, magnitude), _signed(w, magnitude)
    n_batch, c_in, height, width = x.shape
    c_out, kh, kw = w.shape[0], w.shape[2], w.shape[3]
    g = _signed(_cotangent(g, (n_batch, c_out, h_out, w_out)), magnitude)
    groups, offset_groups = p.groups, p.offset_groups
    cpg = c_in // offset_groups  # input channels per offset group
    py, px = deformable.sampling_positions(x.shape, w.shape, offset, p)  # (N, G, kh, kw, Ho, Wo)
    m = np.ones(py.shape) if mask is None else _signed(mask, magnitude).reshape(py.shape)
    # The cotangent of every sample, sum over o of w * g (N, C_in, kh, kw, Ho, Wo), laid
    # out like the corner values below: (N, G, kh, kw, Ho, Wo, C_in/G).
    wg = w.reshape(groups, c_out // groups, c_in // groups, kh, kw)
    gg = g.reshape(n_batch, groups, c_out // groups, h_out, w_out)
    col = np.einsum("gocij,ngoyx->ngcijyx", wg, gg).reshape(
        n_batch, offset_groups, cpg, kh, kw, h_out, w_out
    )
    col = np.moveaxis(col, 2, -1)
    h0, w0 = np.floor(py), np.floor(px)
    lh, lw = py - h0, px - w0
    inside = (py > -1) & (py < height) & (px > -1) & (px < width)
    xg = np.moveaxis(
        x.reshape(n_batch, offset_groups, cpg, height, width), 2, -1
    )  # (N, G, H, W, C)
    n_idx = np.arange(n_batch).reshape(-1, 1, 1, 1, 1, 1)
    g_idx = np.arange(offset_groups).reshape(1, -1, 1, 1, 1, 1)
    sample = np.zeros(col.shape)
    along_h = np.zeros(col.shape)
    along_w = np.zeros(col.shape)
    dxg = np.zeros(xg.shape)
    for di, dj in itertools.product((0, 1), (0, 1)):
        i, j = h0.astype(np.int64) + di, w0.astype(np.int64) + dj
        valid = (i >= 0) & (i < height) & (j >= 0) & (j < width)
        ic, jc = np.clip(i, 0, height - 1), np.clip(j, 0, width - 1)
        values = np.where(valid[..., None], xg[n_idx, g_idx, ic, jc], 0.0)
        fh = lh if di else 1 - lh  # this corner's factor along h, and along w
        fw = lw if dj else 1 - lw
        weight = fh * fw
        sample += (weight * inside)[..., None] * values
        # GRAD.11: d(fh*fw)/dh = -fw for the lower row, +fw for the upper one.
        sign_h = 1.0 if di or magnitude else -1.0
        sign_w = 1.0 if dj or magnitude else -1.0
        along_h += (sign_h * fw)[..., None] * values
        along_w += (sign_w * fh)[..., None] * values
        reach = (weight * m * (inside & valid))[..., None] * col
        np.add.at(dxg, (n_idx, g_idx, ic, jc), reach)
    dmask = np.sum(col * sample, axis=-1)
    doff = np.stack([np.sum(col * along_h, axis=-1), np.sum(col * along_w, axis=-1)], axis=4)
    doff = doff * m[:, :, :, :, None]
    # Samples times mask, as (N, groups, C_in/groups, kh, kw, Ho, Wo), for the weight.
    taken = np.moveaxis(sample * m[..., None], -1, 2).reshape(
        n_batch, groups, c_in // groups, kh, kw, h_out, w_out
    )
    dw = np.einsum("ngcijyx,ngoyx->gocij", taken, gg).reshape(w.shape)
    grads = {
        "x": np.moveaxis(dxg, -1, 2).reshape(x.shape),
        "offset": doff.reshape(offset.shape),
        "w": dw,
    }
    if mask is not None:
        grads["mask"] = dmask.reshape(np.shape(mask))
    if b is not None:
        grads["b"] = g.sum(axis=(0, 2, 3))
    return grads


def deform_conv_vjp_fast(
    x: np.ndarray,
    offset: np.ndarray,
    mask: np.ndarray | None,
    w: np.ndarray,
    b: np.ndarray | None,
    p: DeformConv,
    g: np.ndarray,
) -> Grads:
    """Vectorized float64 oracle for `deform_conv_vjp`: gather corners, scatter onto the input."""
    return _deform_vjp_vectorized(x, offset, mask, w, b, p, g, magnitude=False)


def deform_conv_vjp_magnitude(
    x: np.ndarray,
    offset: np.ndarray,
    mask: np.ndarray | None,
    w: np.ndarray,
    b: np.ndarray | None,
    p: DeformConv,
    g: np.ndarray,
) -> Grads:
    """GRAD.13: the magnitude term M of every deformable gradient (the sum of |terms|)."""
    return _deform_vjp_vectorized(x, offset, mask, w, b, p, g, magnitude=True)


def corner_counts(
    x_shape: tuple[int, ...], w_shape: tuple[int, ...], offset: np.ndarray, p: DeformConv
) -> np.ndarray:
    """GRAD.13: per (n, offset group, row, column), how many samples read it with weight != 0."""
    n_batch, _, height, width = x_shape
    py, px = deformable.sampling_positions(x_shape, w_shape, offset, p)
    h0, w0 = np.floor(py), np.floor(px)
    lh, lw = py - h0, px - w0
    inside = (py > -1) & (py < height) & (px > -1) & (px < width)
    counts = np.zeros((n_batch, p.offset_groups, height, width), dtype=np.int64)
    n_idx = np.arange(n_batch).reshape(-1, 1, 1, 1, 1, 1)
    g_idx = np.arange(p.offset_groups).reshape(1, -1, 1, 1, 1, 1)
    for di, dj in itertools.product((0, 1), (0, 1)):
        i, j = h0.astype(np.int64) + di, w0.astype(np.int64) + dj
        weight = (lh if di else 1 - lh) * (lw if dj else 1 - lw)
        read = inside & (i >= 0) & (i < height) & (j >= 0) & (j < width) & (weight != 0)
        np.add.at(
            counts,
            (n_idx, g_idx, np.clip(i, 0, height - 1), np.clip(j, 0, width - 1)),
            read.astype(np.int64),
        )
    return counts


def deform_conv_gradient_terms(
    x_shape: tuple[int, ...],
    w_shape: tuple[int, ...],
    offset: np.ndarray,
    p: DeformConv,
    mask: bool,
    bias: bool,
) -> dict[str, int]:
    """GRAD.13: accumulation lengths of the deformable gradients.

    Every length counts corner products and adds DEFORM.11's roundings inside a
    product's factors plus 1 for an intermediate result (NUM.6): x from
    (C_out/groups) * the most samples reading one input element; offset and mask
    from 4 corners * (C_in/G) * (C_out/groups); w from 4 corners * N * H_out * W_out.
    """
    n_batch, c_in = x_shape[0], x_shape[1]
    c_out = w_shape[0]
    h_out, w_out = offset.shape[2], offset.shape[3]
    extra = deformable.FACTOR_ROUNDINGS + 1
    reads = int(corner_counts(x_shape, w_shape, offset, p).max(initial=0))
    per_sample = 4 * (c_in // p.offset_groups) * (c_out // p.groups) + extra
    terms = {
        "x": (c_out // p.groups) * reads + extra,
        "offset": per_sample,
        "w": 4 * n_batch * h_out * w_out + extra,
    }
    if mask:
        terms["mask"] = per_sample
    if bias:
        terms["b"] = n_batch * h_out * w_out
    return terms


def deform_conv_gradient_terms_bound(
    x_shape: tuple[int, ...], w_shape: tuple[int, ...], out: Sequence[int], p: DeformConv
) -> int:
    """GRAD.13: the largest length any deformable gradient can have, from shapes alone.

    A sample reads an input element at most once, so no more than kh*kw*H_out*W_out
    samples reach it; exact mode is decided with this bound before offsets exist.
    """
    n_batch, c_in = x_shape[0], x_shape[1]
    c_out, kh, kw = w_shape[0], w_shape[2], w_shape[3]
    extra = deformable.FACTOR_ROUNDINGS + 1
    samples = kh * kw * out[0] * out[1]
    return max(
        (c_out // p.groups) * samples + extra,
        4 * (c_in // p.offset_groups) * (c_out // p.groups) + extra,
        4 * n_batch * out[0] * out[1] + extra,
    )


__all__ = [
    "bilinear_corners",
    "bilinear_derivatives",
    "conv_gradient_terms",
    "conv_transpose_gradient_terms",
    "conv_transpose_vjp",
    "conv_transpose_vjp_fast",
    "conv_vjp",
    "conv_vjp_fast",
    "corner_counts",
    "deform_conv_gradient_terms",
    "deform_conv_gradient_terms_bound",
    "deform_conv_vjp",
    "deform_conv_vjp_fast",
    "deform_conv_vjp_magnitude",
    "fold_padding",
    "input_gradient_as_transpose",
    "transpose_input_gradient_as_conv",
]
