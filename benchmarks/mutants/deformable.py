"""Deformable convolution mutants (DEFORM)."""

from __future__ import annotations

import numpy as np

from adapters.numpy_backend import NumpyAdapter
from benchmarks.mutants.common import Array
from reference import deformable
from reference.params import DeformConv


class OffsetsSwapped(NumpyAdapter):
    """Each offset pair read as (dx, dy) instead of (dy, dx) (DEFORM.4)."""

    name = "mutant.deform_offsets_swapped"

    def deform_conv(
        self, x: Array, offset: Array, mask: Array | None, w: Array, b: Array | None, p: DeformConv
    ) -> Array:
        n, c, h, w_out = offset.shape
        swapped = offset.reshape(n, c // 2, 2, h, w_out)[:, :, ::-1].reshape(offset.shape)
        return super().deform_conv(x, swapped, mask, w, b, p)


class OffsetsPlanar(NumpyAdapter):
    """Offsets read planar (all dy, then all dx), not as interleaved (dy, dx) pairs (DEFORM.4)."""

    name = "mutant.deform_offsets_planar"

    def deform_conv(
        self, x: Array, offset: Array, mask: Array | None, w: Array, b: Array | None, p: DeformConv
    ) -> Array:
        taps = offset.shape[1] // 2
        read = np.empty_like(offset)
        read[:, 0::2], read[:, 1::2] = offset[:, :taps], offset[:, taps:]
        return super().deform_conv(x, read, mask, w, b, p)


class MaskIgnored(NumpyAdapter):
    """The modulation mask is accepted and ignored: v2 computed as v1 (DEFORM.7)."""

    name = "mutant.deform_mask_ignored"

    def deform_conv(
        self, x: Array, offset: Array, mask: Array | None, w: Array, b: Array | None, p: DeformConv
    ) -> Array:
        return super().deform_conv(x, offset, None, w, b, p)


class MaskSquared(NumpyAdapter):
    """The mask multiplies each sample twice (once in sampling, once in the GEMM) (DEFORM.7)."""

    name = "mutant.deform_mask_squared"

    def deform_conv(
        self, x: Array, offset: Array, mask: Array | None, w: Array, b: Array | None, p: DeformConv
    ) -> Array:
        m = None if mask is None else np.asarray(mask, dtype=np.float64)
        return super().deform_conv(x, offset, None if m is None else m * m, w, b, p)


class OffsetGroupsIgnored(NumpyAdapter):
    """offset_groups ignored: every channel uses offset group 0's offsets and mask (DEFORM.4)."""

    name = "mutant.deform_offset_groups_ignored"

    def deform_conv(
        self, x: Array, offset: Array, mask: Array | None, w: Array, b: Array | None, p: DeformConv
    ) -> Array:
        g = p.offset_groups

        def first_group(a: Array) -> Array:
            n, c, h, w_out = a.shape
            per = a.reshape(n, g, c // g, h, w_out)
            return np.repeat(per[:, :1], g, axis=1).reshape(a.shape)

        if g > 1:
            offset = first_group(offset)
            mask = None if mask is None else first_group(mask)
        return super().deform_conv(x, offset, mask, w, b, p)


class SamplingIgnoresDilation(NumpyAdapter):
    """Sampling grid built with taps 1 apart: dilation only sizes the output (DEFORM.5)."""

    name = "mutant.deform_sampling_ignores_dilation"

    def deform_conv(
        self, x: Array, offset: Array, mask: Array | None, w: Array, b: Array | None, p: DeformConv
    ) -> Array:
        kh, kw = w.shape[2], w.shape[3]
        n, _, h, w_out = offset.shape
        off = np.asarray(offset, dtype=np.float64).reshape(n, p.offset_groups, kh, kw, 2, h, w_out)
        off[:, :, :, :, 0] -= (np.arange(kh) * (p.dilation[0] - 1)).reshape(1, 1, kh, 1, 1, 1)
        off[:, :, :, :, 1] -= (np.arange(kw) * (p.dilation[1] - 1)).reshape(1, 1, 1, kw, 1, 1)
        # The shifted offsets stay in float64: the oracle reads them exactly.
        return super().deform_conv(x, off.reshape(offset.shape), mask, w, b, p)


def _clamped_columns(x: Array, py: Array, px: Array) -> Array:
    """Bilinear samples whose outside corners read the nearest border pixel instead of zero."""
    n_batch, c_in, height, width = x.shape
    groups = py.shape[1]
    xg = x.reshape(n_batch, groups, c_in // groups, height, width)
    h_low, w_low = np.floor(py), np.floor(px)
    lh, lw = py - h_low, px - w_low
    hh, hw = 1.0 - lh, 1.0 - lw
    n_idx = np.arange(n_batch).reshape(-1, 1, 1, 1, 1, 1)
    g_idx = np.arange(groups).reshape(1, -1, 1, 1, 1, 1)
    total = np.zeros((*py.shape, c_in // groups), dtype=np.float64)
    for di, dj, weight in ((0, 0, hh * hw), (0, 1, hh * lw), (1, 0, lh * hw), (1, 1, lh * lw)):
        i = np.clip(h_low.astype(np.int64) + di, 0, height - 1)
        j = np.clip(w_low.astype(np.int64) + dj, 0, width - 1)
        total += weight[..., None] * xg[n_idx, g_idx, :, i, j]
    inside = (py > -1) & (py < height) & (px > -1) & (px < width)
    total = np.where(inside[..., None], total, 0.0)
    return np.moveaxis(total, -1, 2)


class BilinearClampsCorners(NumpyAdapter):
    """Bilinear corners outside the input read the nearest border pixel, not 0 (DEFORM.6)."""

    name = "mutant.deform_bilinear_clamped"

    def deform_conv(
        self, x: Array, offset: Array, mask: Array | None, w: Array, b: Array | None, p: DeformConv
    ) -> Array:
        h_out, w_out = deformable.validate(x, offset, mask, w, b, p)
        x64, w64 = np.asarray(x, dtype=np.float64), np.asarray(w, dtype=np.float64)
        n_batch, c_in = x.shape[0], x.shape[1]
        c_out, kh, kw = w.shape[0], w.shape[2], w.shape[3]
        py, px = deformable.sampling_positions(x.shape, w.shape, offset, p)
        cols = _clamped_columns(x64, py, px)
        if mask is not None:
            m = np.asarray(mask, dtype=np.float64)
            cols = cols * m.reshape(n_batch, p.offset_groups, 1, kh, kw, h_out, w_out)
        g = p.groups
        cols = cols.reshape(n_batch, g, c_in // g, kh, kw, h_out, w_out)
        y = np.einsum("ngcijyx,gocij->ngoyx", cols, w64.reshape(g, c_out // g, c_in // g, kh, kw))
        y = y.reshape(n_batch, c_out, h_out, w_out)
        if b is not None:
            y = y + np.asarray(b, dtype=np.float64).reshape(1, -1, 1, 1)
        return y.astype(x.dtype)
