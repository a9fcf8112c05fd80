"""Figures for the spec chapters, computed by the reference implementation.

    python -m spec.figures.make_figures            rewrite every figure in spec/figures/
    python -m spec.figures.make_figures --out DIR  write them to DIR instead

Every position, value and count in a figure comes from a call into reference/:
which input positions an output reads is what `reference.conv.conv` returns for an
input whose values are their own coordinates and a kernel with one tap set, padded
values are `conv` with a 1 x 1 kernel of 1, and so on. A figure therefore shows what
the reference computes, and spec/test_figures.py fails when a committed figure no
longer matches it.
"""

from __future__ import annotations

import argparse
import itertools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import matplotlib as mpl
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, PathPatch
from matplotlib.path import Path as MplPath

from reference.acnet import ACBlock, BatchNorm, branch_params, fuse_acnet
from reference.conv import conv
from reference.deformable import bilinear, sampling_positions
from reference.dilated import dilate_kernel, footprint, is_contiguous
from reference.grouped import expand_groups
from reference.params import (
    ChannelShuffle,
    Conv,
    ConvTranspose,
    DeformConv,
    PaddingMode,
    SameSplit,
)
from reference.shuffle import channel_shuffle, group_dependence
from reference.sizes import effective_kernel, receptive_field, resolve_padding
from reference.transposed import conv_transpose, interior, tap_counts

FIGURE_DIR = Path(__file__).resolve().parent

# Byte-identical output on every run: the self-test compares files, so nothing that
# varies (dates, random ids, embedded font subsets) may reach the SVG.
STYLE: dict[Any, Any] = {
    "svg.hashsalt": "convspec",
    "svg.id": "convspec",
    "svg.fonttype": "none",
    # Measured with the DejaVu Sans that matplotlib ships; viewers without it fall back
    # to their own sans-serif, since the text stays text.
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans"],
    "font.size": 9,
    "axes.titlesize": 9,
}
METADATA = {"Date": None, "Creator": None}

PAD, READ, EDGE = "#d9d9d9", "#4c78a8", "#333333"
GROUP_COLORS = ["#4c78a8", "#f58518", "#54a24b", "#e45756"]


# --- probes: what the reference reads -----------------------------------------


def one_hot(shape: Sequence[int], index: Sequence[int]) -> np.ndarray:
    a = np.zeros(shape)
    a[tuple(index)] = 1.0
    return a


def reads(in_size: Sequence[int], kernel: Sequence[int], p: Conv) -> np.ndarray:
    """The input position each output reads through each tap: shape (*out, *kernel, rank).

    Positions are in the coordinates of the unpadded input (PAD.2), so padding is
    negative or >= n. With zeros padding every padded value is 0, which would hide
    where it sits, so the probe pads first (PAD.1 allows that) and convolves a plane
    whose values are the coordinates with no further padding.
    """
    pads = resolve_padding(p, in_size, kernel)
    unpadded = replace(p, padding=tuple((0, 0) for _ in in_size))
    axes = [np.arange(-b, n + e) for n, (b, e) in zip(in_size, pads, strict=True)]
    planes = np.meshgrid(*axes, indexing="ij")
    per_tap = []
    for t in itertools.product(*(range(k) for k in kernel)):
        w = one_hot((1, 1, *kernel), (0, 0, *t))
        per_tap.append([conv(plane[None, None], w, None, unpadded)[0, 0] for plane in planes])
    out = np.asarray(per_tap)  # (taps, rank, *out)
    out = np.moveaxis(out, (0, 1), (-2, -1))
    return out.reshape(*out.shape[:-2], *kernel, len(in_size)).astype(int)


def depends(c_in: int, c_out: int, groups: int) -> np.ndarray:
    """(C_out, C_in) booleans: output channel o changes with input channel c (CONV.6)."""
    w = np.ones((c_out, c_in // groups, 1))
    p = Conv(stride=(1,), dilation=(1,), padding="valid", groups=groups)
    columns = [conv(one_hot((1, c_in, 1), (0, c, 0)), w, None, p)[0, :, 0] for c in range(c_in)]
    return np.asarray(columns).T != 0


# --- drawing helpers: cells are unit squares centred on integer (row, column) -----


def squares(cells: Iterable[tuple[float, float]]) -> MplPath:
    """One compound path for many cells, a rectangle per run of cells in a row: one SVG
    element instead of one per cell keeps the files small."""
    verts: list[tuple[float, float]] = []
    for r, c_first, c_last in runs(cells):
        top, bottom, left, right = r - 0.5, r + 0.5, c_first - 0.5, c_last + 0.5
        verts += [(left, top), (right, top), (right, bottom), (left, bottom), (left, top)]
    steps = [MplPath.MOVETO, MplPath.LINETO, MplPath.LINETO, MplPath.LINETO, MplPath.CLOSEPOLY]
    return MplPath(verts or [(0, 0)], steps * (len(verts) // 5) or [MplPath.MOVETO])


def runs(cells: Iterable[tuple[float, float]]) -> list[tuple[float, float, float]]:
    """(row, first column, last column) of every run of adjacent cells within a row."""
    out: list[tuple[float, float, float]] = []
    for r, c in sorted(set(cells)):
        if out and out[-1][0] == r and out[-1][2] + 1 == c:
            out[-1] = (r, out[-1][1], c)
        else:
            out.append((r, c, c))
    return out


def fill(ax: Axes, cells: Iterable[tuple[float, float]], color: str, **style: Any) -> None:
    ax.add_patch(PathPatch(squares(cells), facecolor=color, edgecolor="none", **style))


def grid(ax: Axes, rows: Sequence[float], cols: Sequence[float], **style: Any) -> None:
    """Borders of the cells rows x cols (consecutive rows and columns), as one path."""
    top, bottom = min(rows) - 0.5, max(rows) + 0.5
    left, right = min(cols) - 0.5, max(cols) + 0.5
    verts: list[tuple[float, float]] = []
    for i in range(round(bottom - top) + 1):
        verts += [(left, top + i), (right, top + i)]
    for i in range(round(right - left) + 1):
        verts += [(left + i, top), (left + i, bottom)]
    codes = [MplPath.MOVETO, MplPath.LINETO] * (len(verts) // 2)
    style = {"edgecolor": "#999999", "linewidth": 0.5, **style}
    ax.add_patch(PathPatch(MplPath(verts, codes), fill=False, **style))


def outline(ax: Axes, rows: Sequence[float], cols: Sequence[float], **style: Any) -> None:
    top, left = min(rows) - 0.5, min(cols) - 0.5
    height, width = max(rows) - min(rows) + 1, max(cols) - min(cols) + 1
    box = MplPath.unit_rectangle().transformed(
        mpl.transforms.Affine2D().scale(width, height).translate(left, top)
    )
    style = {"edgecolor": EDGE, "linewidth": 1.5, **style}
    ax.add_patch(PathPatch(box, fill=False, **style))


def label(ax: Axes, r: float, c: float, text: object, **style: Any) -> None:
    ax.text(c, r, str(text), ha="center", va="center", **{"fontsize": 8, **style})


def figure(width: float, height: float) -> Figure:
    return Figure(figsize=(width, height), layout="constrained")


def finish(ax: Axes, margin: float = 0.6) -> None:
    """Equal cells, row 0 at the top, and room for the labels placed around the cells."""
    for text in ax.texts:
        x, y = text.get_position()
        ax.update_datalim([(x - margin, y - margin), (x + margin, y + margin)])
    ax.set_aspect("equal")
    ax.autoscale_view()
    ax.invert_yaxis()
    ax.axis("off")


def number(v: float) -> str:
    return f"{v:g}"


# --- the figures -----------------------------------------------------------------


def conv_windows() -> Figure:
    """CONV.2-CONV.4: the 3 x 3 windows of a stride-2 convolution with padding 1."""
    n, k = 6, 3
    p = Conv(stride=(2, 2), dilation=(1, 1), padding=((1, 1), (1, 1)))
    where = reads((n, n), (k, k), p)
    pads = resolve_padding(p, (n, n), (k, k))
    rows = range(-pads[0][0], n + pads[0][1])
    cols = range(-pads[1][0], n + pads[1][1])
    m_h, m_w = where.shape[:2]
    fig = figure(6.4, 6.6)
    for oy, ox in itertools.product(range(m_h), range(m_w)):
        ax = fig.add_subplot(m_h, m_w, oy * m_w + ox + 1)
        padding = [(r, c) for r in rows for c in cols if not (0 <= r < n and 0 <= c < n)]
        fill(ax, padding, PAD)
        window = [tuple(rc) for rc in where[oy, ox].reshape(-1, 2)]
        fill(ax, window, READ, alpha=0.8)
        grid(ax, rows, cols)
        outline(ax, range(n), range(n), linewidth=1.0, edgecolor="#777777")
        (r0, c0), (r1, c1) = window[0], window[-1]
        ax.set_title(f"y[{oy}, {ox}]: rows {r0}..{r1}, columns {c0}..{c1}", fontsize=8)
        finish(ax)
    fig.suptitle(
        "6 x 6 input (framed), padding 1 (grey), 3 x 3 kernel, stride 2: 3 x 3 outputs",
        fontsize=9,
    )
    return fig


def same_padding() -> Figure:
    """PAD.6: 'same' padding with the odd pixel at the end and at the begin."""
    n, k, s = 7, 4, 2
    fig = figure(6.4, 3.6)
    splits: tuple[SameSplit, ...] = ("end", "begin")
    for panel, split in enumerate(splits):
        p = Conv(stride=(s,), dilation=(1,), padding="same", same_split=split)
        ((begin, end),) = resolve_padding(p, (n,), (k,))
        where = reads((n,), (k,), p)[..., 0]  # (out, taps)
        ax = fig.add_subplot(2, 1, panel + 1)
        positions = range(-begin, n + end)
        fill(ax, [(0, i) for i in positions if not 0 <= i < n], PAD)
        grid(ax, [0], positions)
        for i in range(n):
            label(ax, 0, i, f"x{i}")
        for i in positions:
            label(ax, -0.85, i, i, fontsize=7, color="#777777")
        for j, window in enumerate(where):
            fill(ax, [(1.2 + j, i) for i in window], READ, alpha=0.8)
            grid(ax, [1.2 + j], window)
            label(ax, 1.2 + j, window[0] - 1.2, f"y[{j}]")
        ax.set_title(
            f"same_split='{split}': padding ({begin}, {end}), {len(where)} outputs = ceil({n}/{s})",
        )
        finish(ax)
        ax.set_xlim(-3.5, n + 2.5)
    total = begin + end
    fig.suptitle(f"'same' padding, n = {n}, kernel {k}, stride {s}: P = {total}", fontsize=9)
    return fig


def padding_modes() -> Figure:
    """PAD.8-PAD.11: what each mode puts around a 3 x 3 input padded by 2."""
    x = np.arange(1, 10, dtype=float).reshape(1, 1, 3, 3)
    identity = np.ones((1, 1, 1, 1))
    fig = figure(6.8, 2.2)
    modes: tuple[PaddingMode, ...] = ("zeros", "reflect", "replicate", "circular")
    for panel, mode in enumerate(modes):
        p = Conv(stride=(1, 1), dilation=(1, 1), padding=((2, 2), (2, 2)), padding_mode=mode)
        padded = conv(x, identity, None, p)[0, 0]  # a 1 x 1 kernel of 1 returns x_pad
        ax = fig.add_subplot(1, 4, panel + 1)
        cells = list(itertools.product(range(-2, 5), range(-2, 5)))
        fill(ax, [(r, c) for r, c in cells if not (0 <= r < 3 and 0 <= c < 3)], PAD)
        grid(ax, range(-2, 5), range(-2, 5))
        outline(ax, range(3), range(3))
        for r, c in cells:
            label(ax, r, c, number(padded[r + 2, c + 2]))
        ax.set_title(mode)
        finish(ax)
    return fig


def grouped_wiring() -> Figure:
    """CONV.6, GRP.1, GRP.2, GRP.5: which input channels each output channel reads."""
    c_in, c_out = 4, 8
    titles = {1: "groups = 1 (dense)", 2: "groups = 2", 4: "groups = 4 = C_in (depthwise, m = 2)"}
    fig = figure(6.8, 4.4)
    for panel, g in enumerate((1, 2, 4)):
        reads_from = depends(c_in, c_out, g)
        ax = fig.add_subplot(2, 3, panel + 1)
        x_in = np.linspace(0.5, c_out - 1.5, c_in)
        for c in range(c_in):
            color = GROUP_COLORS[c // (c_in // g)]
            verts = [pt for o in range(c_out) if reads_from[o, c] for pt in ((x_in[c], 0), (o, 3))]
            codes = [MplPath.MOVETO, MplPath.LINETO] * (len(verts) // 2)
            ax.add_patch(PathPatch(MplPath(verts, codes), edgecolor=color, lw=1, fill=False))
            ax.plot([x_in[c]], [0], "o", color=color, ms=8)
            label(ax, 0, x_in[c], c, color="white", fontsize=6)
        for o in range(c_out):
            color = GROUP_COLORS[o // (c_out // g)]
            ax.plot([o], [3], "s", color=color, ms=7)
            label(ax, 3, o, o, color="white", fontsize=6)
        ax.text(-1.2, 0, "in", ha="right", va="center")
        ax.text(-1.2, 3, "out", ha="right", va="center")
        ax.set_xlim(-2.8, c_out)
        ax.set_ylim(3.6, -0.6)
        ax.set_title(titles[g], fontsize=8)
        ax.axis("off")
        # GRP.5: the same wiring as the zero pattern of the dense weight.
        dense = expand_groups(np.ones((c_out, c_in // g, 1)), g)[:, :, 0]
        ax = fig.add_subplot(2, 3, panel + 4)
        for o, c in zip(*np.nonzero(dense), strict=True):
            fill(ax, [(o, c)], GROUP_COLORS[o // (c_out // g)])
        grid(ax, range(c_out), range(c_in))
        ax.set_title("as a dense weight: nonzero w[o, c]\n(o down, c across)", fontsize=8)
        finish(ax)
    return fig


def dilated_kernel() -> Figure:
    """DIL.1, DIL.3: a 3 x 3 kernel with dilation 1, 2, 3 as its zero-inserted kernel."""
    fig = figure(6.4, 2.6)
    ax = fig.add_subplot(1, 1, 1)
    left = 0
    for d in (1, 2, 3):
        taps = dilate_kernel(np.ones((1, 1, 3, 3)), (d, d))[0, 0]
        size = taps.shape[0]
        fill(ax, [(r, left + c) for r, c in zip(*np.nonzero(taps), strict=True)], READ)
        grid(ax, range(size), range(left, left + size))
        label(ax, -1.2, left + (size - 1) / 2, f"d = {d}: k_eff = {effective_kernel(3, d)}")
        left += size + 1
    finish(ax)
    return fig


def dilation_gridding() -> Figure:
    """DIL.4, DIL.5, DIL.7: the inputs one output of three stacked 3 x 3 layers reaches.

    A delta pushed through the stack (the reference conv with 'same' padding and
    kernels of ones) counts the paths from every input to the output.
    """
    size, k = 25, 3
    stacks = ((2, 2, 2), (1, 2, 3), (1, 2, 9))
    fig = figure(6.8, 2.9)
    for panel, dilations in enumerate(stacks):
        paths = one_hot((1, 1, size, size), (0, 0, size // 2, size // 2))
        for d in dilations:
            p = Conv(stride=(1, 1), dilation=(d, d), padding="same")
            paths = conv(paths, np.ones((1, 1, k, k)), None, p)
        counts = paths[0, 0].astype(int)
        ax = fig.add_subplot(1, 3, panel + 1)
        shades = mpl.colormaps["Blues"]
        for value in sorted(set(counts.flat) - {0}):
            cells = list(zip(*np.nonzero(counts == value), strict=True))
            fill(ax, cells, mpl.colors.to_hex(shades(0.3 + 0.7 * value / counts.max())))
        outline(ax, range(size), range(size), linewidth=0.5, edgecolor="#999999")
        offsets = footprint([k] * 3, dilations)
        holes = "contiguous" if is_contiguous(offsets) else "holes"
        field = receptive_field([k] * 3, [1] * 3, dilations)
        ax.set_title(f"dilations {dilations}\nr = {field}, {holes}", fontsize=8)
        finish(ax)
    fig.suptitle("Inputs reached by one output of three 3 x 3 layers (darker: more paths)")
    return fig


def transposed_scatter() -> Figure:
    """TCONV.2, TCONV.13, TCONV.19: each input scatters the kernel; the taps add up."""
    n, k = 3, 3
    p = ConvTranspose(stride=(2,), dilation=(1,), padding=((0, 0),), output_padding=(0,))
    fig = figure(6.4, 2.4)
    ax = fig.add_subplot(1, 1, 1)
    for i, t in itertools.product(range(n), range(k)):
        x, w = one_hot((1, 1, n), (0, 0, i)), one_hot((1, 1, k), (0, 0, t))
        landed = conv_transpose(x, w, None, p)[0, 0]
        for j in np.flatnonzero(landed).tolist():
            fill(ax, [(i, j)], GROUP_COLORS[i], alpha=0.75)
            label(ax, i, j, f"x{i}·w{t}", color="white", fontsize=7)
        label(ax, i, -1.2, f"x[{i}]")
    counts = tap_counts((n,), (k,), p)
    ramp = np.arange(1.0, n + 1).reshape(1, 1, n)
    y = conv_transpose(ramp, np.arange(1.0, k + 1).reshape(1, 1, k), None, p)[0, 0]
    length = len(y)
    grid(ax, range(n), range(length))
    grid(ax, [n + 0.2, n + 1.2], range(length))
    for j in range(length):
        label(ax, n + 0.2, j, counts[j], fontweight="bold")
        label(ax, n + 1.2, j, number(y[j]))
    label(ax, n + 0.2, -1.2, "taps")
    label(ax, n + 1.2, -1.2, "y")
    ax.set_title(
        f"n = {n}, kernel {k}, stride 2: output length {length}; "
        "y for x = [1, 2, 3], w = [1, 2, 3]",
        fontsize=8,
    )
    finish(ax)
    return fig


def transposed_overlap() -> Figure:
    """TCONV.13: a constant input and kernel give the tap counts; uneven counts checker."""
    n = 4
    fig = figure(6.8, 3.8)
    for panel, k in enumerate((3, 4)):
        p = ConvTranspose(
            stride=(2, 2), dilation=(1, 1), padding=((0, 0), (0, 0)), output_padding=(0, 0)
        )
        y = conv_transpose(np.ones((1, 1, n, n)), np.ones((1, 1, k, k)), None, p)[0, 0]
        ax = fig.add_subplot(1, 2, panel + 1)
        shades = mpl.colormaps["Oranges"]
        for value in sorted(set(y.flat)):
            cells = list(zip(*np.nonzero(y == value), strict=True))
            fill(ax, cells, mpl.colors.to_hex(shades(0.15 + 0.6 * value / y.max())))
        size = range(y.shape[0])
        grid(ax, size, size)
        for r, c in itertools.product(size, size):
            label(ax, r, c, number(y[r, c]), fontsize=7)
        inner = interior((n, n), (k, k), p)
        outline(ax, inner[0], inner[1])
        even = "even" if len(set(y[np.ix_(*inner)].flat)) == 1 else "uneven"
        ax.set_title(f"kernel {k} x {k}, stride 2: interior (framed) {even}", fontsize=8)
        finish(ax)
    fig.suptitle("Transposed convolution of a 4 x 4 input of ones with a kernel of ones")
    return fig


def deformable_sampling() -> Figure:
    """DEFORM.5, DEFORM.6: where a 3 x 3 deformable kernel samples, and one sample's corners."""
    size, k = 7, 3
    p = DeformConv(stride=(1, 1), dilation=(1, 1), padding=((0, 0), (0, 0)))
    out = size - k + 1
    ki, kj = np.meshgrid(np.arange(k) - 1.0, np.arange(k) - 1.0, indexing="ij")
    # Offsets a network might learn: the kernel stretched and turned, the same everywhere.
    dy, dx = 0.6 * ki + 0.35 * kj, 0.6 * kj - 0.35 * ki
    offset = np.stack([dy, dx], axis=-1).reshape(1, 2 * k * k, 1, 1)
    offset = np.broadcast_to(offset, (1, 2 * k * k, out, out))
    zero = np.zeros_like(offset)
    x_shape, w_shape = (1, 1, size, size), (1, 1, k, k)
    oy = ox = 2
    regular = [a[0, 0, :, :, oy, ox] for a in sampling_positions(x_shape, w_shape, zero, p)]
    moved = [a[0, 0, :, :, oy, ox] for a in sampling_positions(x_shape, w_shape, offset, p)]
    fig = figure(6.4, 3.4)
    ax = fig.add_subplot(1, 2, 1)
    grid(ax, range(size), range(size))
    ax.plot(regular[1].ravel(), regular[0].ravel(), "o", mfc="white", mec=EDGE, ms=6)
    for (r0, c0), (r1, c1) in zip(
        zip(regular[0].ravel(), regular[1].ravel(), strict=True),
        zip(moved[0].ravel(), moved[1].ravel(), strict=True),
        strict=True,
    ):
        ax.add_patch(FancyArrowPatch((c0, r0), (c1, r1), arrowstyle="-|>", mutation_scale=8))
    ax.plot(moved[1].ravel(), moved[0].ravel(), "o", color=READ, ms=6)
    ax.set_title(f"output ({oy}, {ox}): regular taps (open), offset taps", fontsize=8)
    finish(ax)
    # DEFORM.6: the weight of each corner is what bilinear() reads from a one-hot plane.
    py, px = moved[0][0, 0], moved[1][0, 0]
    ax = fig.add_subplot(1, 2, 2)
    h0, w0 = int(np.floor(py)), int(np.floor(px))
    grid(ax, range(h0, h0 + 2), range(w0, w0 + 2))
    for r, c in itertools.product((h0, h0 + 1), (w0, w0 + 1)):
        weight = bilinear(one_hot((size, size), (r, c)), py, px)
        fill(ax, [(r, c)], READ, alpha=0.15 + 0.8 * weight)
        label(ax, r, c, f"{weight:.3f}")
    ax.plot([px], [py], "o", color="#e45756", ms=6)
    ax.set_title(f"tap (0, 0) at ({py:.2f}, {px:.2f}): corner weights", fontsize=8)
    finish(ax)
    return fig


def channel_shuffle_figure() -> Figure:
    """SHUF.2, SHUF.6: the permutation, and which groups reach which through two GConvs."""
    channels = 6
    fig = figure(6.8, 3.2)
    for panel, g in enumerate((2, 3)):
        coded = np.arange(channels, dtype=float).reshape(1, channels)
        source = channel_shuffle(coded, ChannelShuffle(g))[0].astype(int)
        ax = fig.add_subplot(1, 3, panel + 1)
        for j, c in enumerate(source):
            color = GROUP_COLORS[c // (channels // g)]
            ax.plot([c, j], [0, 2], color=color, lw=1.2)
            for pos, row in ((c, 0), (j, 2)):
                ax.plot([pos], [row], "s", color=color, ms=11)
            label(ax, 0, c, c, color="white")
            label(ax, 2, j, c, color="white")
        ax.text(-0.8, 0, "in", ha="right", va="center")
        ax.text(-0.8, 2, "out", ha="right", va="center")
        ax.set_xlim(-2, channels)
        ax.set_ylim(2.6, -0.6)
        ax.set_title(f"C = {channels}, groups = {g}", fontsize=8)
        ax.axis("off")
    ax = fig.add_subplot(1, 3, 3)
    mid, g = 9, 3
    for row, shuffle in enumerate((1, g)):
        reached = group_dependence(mid, g, shuffle, g)
        top = row * (g + 1.5)
        fill(ax, [(top + i, j) for i in range(g) for j in reached[i]], READ)
        grid(ax, [top + i for i in range(g)], range(g))
        word = "without shuffle" if shuffle == 1 else f"shuffle, {g} groups"
        label(ax, top - 0.9, (g - 1) / 2, word)
    ax.set_title("output group (row)\nreads input group (column)", fontsize=8)
    finish(ax)
    return fig


def acnet_fusion() -> Figure:
    """ACNET.3, ACNET.6: the three aligned branches and the kernel they fuse into."""
    k = 3
    identity = BatchNorm(np.ones(1), np.zeros(1), np.zeros(1), np.ones(1), eps=0.0)
    block = ACBlock(
        square=np.ones((1, 1, k, k)),
        horizontal=np.arange(1.0, k + 1).reshape(1, 1, 1, k),
        vertical=np.arange(k + 1.0, 2 * k + 1).reshape(1, 1, k, 1),
        bn_square=identity,
        bn_horizontal=identity,
        bn_vertical=identity,
    )
    fused, _ = fuse_acnet(block)
    fig = figure(6.8, 4.4)
    ax = fig.add_subplot(2, 1, 1)
    left = 0
    kernels = (
        ("square", block.square, "+"),
        ("horizontal", block.horizontal, "+"),
        ("vertical", block.vertical, "="),
        ("fused", fused, ""),
    )
    for name, w, then in kernels:
        rows, cols = w.shape[2:]
        top = (k - rows) // 2
        fill(ax, [(top + r, left + c) for r in range(rows) for c in range(cols)], "#e8eef6")
        grid(ax, range(top, top + rows), range(left, left + cols))
        for r, c in itertools.product(range(rows), range(cols)):
            label(ax, top + r, left + c, number(w[0, 0, r, c]))
        label(ax, k, left + (cols - 1) / 2, name)
        label(ax, 1, left + cols, then, fontsize=12)
        left += cols + 1
    ax.set_title("the kernels after folding their batch norms (identity here)", fontsize=8)
    finish(ax)
    # ACNET.3: the branch paddings put every branch's taps on the square window's skeleton.
    n = 5
    p = Conv(stride=(1, 1), dilation=(1, 1), padding=((1, 1), (1, 1)))
    branches = branch_params(p, resolve_padding(p, (n, n), (k, k)), k)
    shapes = ((k, k), (1, k), (k, 1))
    oy, ox = 1, 3
    names = ("square", "1 x 3", "3 x 1")
    for panel, (name, q, shape) in enumerate(zip(names, branches, shapes, strict=True)):
        (top, bottom), (lo, hi) = resolve_padding(q, (n, n), shape)
        rows, cols = range(-top, n + bottom), range(-lo, n + hi)
        where = reads((n, n), shape, q)[oy, ox].reshape(-1, 2)
        ax = fig.add_subplot(2, 3, panel + 4)
        fill(ax, [(r, c) for r in rows for c in cols if not (0 <= r < n and 0 <= c < n)], PAD)
        fill(ax, [(r, c) for r, c in where], GROUP_COLORS[panel], alpha=0.8)
        grid(ax, rows, cols)
        outline(ax, range(n), range(n), linewidth=1.0, edgecolor="#777777")
        title = f"{name} window of y[{oy}, {ox}]\npadding (({top}, {bottom}), ({lo}, {hi}))"
        ax.set_title(title, fontsize=8)
        finish(ax)
    return fig


FIGURES: dict[str, Callable[[], Figure]] = {
    "conv-windows.svg": conv_windows,
    "same-padding.svg": same_padding,
    "padding-modes.svg": padding_modes,
    "grouped-wiring.svg": grouped_wiring,
    "dilated-kernel.svg": dilated_kernel,
    "dilation-gridding.svg": dilation_gridding,
    "transposed-scatter.svg": transposed_scatter,
    "transposed-overlap.svg": transposed_overlap,
    "deformable-sampling.svg": deformable_sampling,
    "channel-shuffle.svg": channel_shuffle_figure,
    "acnet-fusion.svg": acnet_fusion,
}


def write_all(out_dir: Path) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    with mpl.rc_context(STYLE):
        for name, make in FIGURES.items():
            path = out_dir / name
            make().savefig(path, format="svg", metadata=METADATA)
            written.append(path)
    return written


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=FIGURE_DIR, help="directory for the SVGs")
    args = parser.parse_args(argv)
    for path in write_all(args.out):
        print(path)


if __name__ == "__main__":
    main()
