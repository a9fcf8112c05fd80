"""Convolution as a matrix (spec chapter MAT).

For one sample, a convolution is a linear map plus a constant: with vec the
row-major flattening over (C, *spatial) (MAT.1),

    vec(y) = C vec(x) + vec(b broadcast over the output positions)

`conv_matrix` builds C entry by entry from the definition CONV.2 (MAT.2), with
the padding map of PAD.8-PAD.11 folded in (MAT.3). `conv_transpose_matrix` is
C^T of the forward convolution whose adjoint the transposed convolution is
(MAT.5).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import numpy as np

from reference import conv as conv_ref
from reference import transposed
from reference.checks import require
from reference.padding import source_index
from reference.params import Conv, ConvTranspose, Pairs
from reference.sizes import conv_output_shape, conv_transpose_output_shape


def _check_sample_shape(in_shape: Sequence[int], rank: int) -> tuple[int, ...]:
    in_shape = tuple(int(m) for m in in_shape)
    require(
        len(in_shape) == rank + 1,
        "MAT.1",
        f"a sample has shape (C, *{rank} spatial), got {in_shape}",
    )
    return in_shape


def _source(
    j: tuple[int, ...], k: tuple[int, ...], p: Conv, pads: Pairs, spatial: tuple[int, ...]
) -> tuple[int, ...] | None:
    """The input position that tap k of output j reads (PAD.8-PAD.11), or None for a zero."""
    src = []
    for a in range(p.rank):
        i = source_index(
            j[a] * p.stride[a] + k[a] * p.dilation[a] - pads[a][0], spatial[a], p.padding_mode
        )
        if i is None:
            return None
        src.append(i)
    return tuple(src)


def conv_matrix(in_shape: Sequence[int], w: np.ndarray, p: Conv) -> np.ndarray:
    """MAT.2/MAT.3: the (C_out*prod(out), C_in*prod(n)) matrix C with vec(y) = C vec(x).

    `in_shape` is one sample's shape (C_in, *n). Row (o, j) holds, in the column
    of every input element (c, i), the sum of the weights w[o, c - group offset, k]
    of the taps k whose padded position j*s + k*d - p_begin reads (c, i).
    """
    in_shape = _check_sample_shape(in_shape, p.rank)
    w = np.asarray(w, dtype=np.float64)
    # Validation reads only shapes; a zero sample stands in for x.
    pads = conv_ref.validate(np.zeros((1, *in_shape)), w, None, p)
    out_shape = conv_output_shape((1, *in_shape), w.shape, p)[1:]
    spatial, kernel = in_shape[1:], w.shape[2:]
    c_in_g = in_shape[0] // p.groups
    c_out_g = w.shape[0] // p.groups
    matrix = np.zeros((math.prod(out_shape), math.prod(in_shape)), dtype=np.float64)
    for o in range(out_shape[0]):
        group = o // c_out_g
        for j in itertools.product(*(range(m) for m in out_shape[1:])):
            row = np.ravel_multi_index((o, *j), out_shape)
            for c in range(c_in_g):
                for k in itertools.product(*(range(m) for m in kernel)):
                    src = _source(j, k, p, pads, spatial)
                    if src is None:
                        continue  # a zero of zero padding: no column
                    col = np.ravel_multi_index((group * c_in_g + c, *src), in_shape)
                    # += because padding modes can send several taps to one input (MAT.3).
                    matrix[row, col] += w[(o, c, *k)]
    return matrix


def bias_vector(b: np.ndarray | None, out_shape: Sequence[int]) -> np.ndarray:
    """MAT.2: vec of the bias broadcast over one sample's output shape (C_out, *out)."""
    out_shape = tuple(out_shape)
    if b is None:
        return np.zeros(math.prod(out_shape), dtype=np.float64)
    per_channel = math.prod(out_shape[1:])
    return np.repeat(np.asarray(b, dtype=np.float64), per_channel)


def conv_transpose_matrix(in_shape: Sequence[int], w: np.ndarray, p: ConvTranspose) -> np.ndarray:
    """MAT.5: the matrix T with vec(conv_transpose(x) - bias) = T vec(x), as C^T.

    `in_shape` is one sample's shape (C_in, *n) of the transposed convolution.
    C is the matrix of the forward convolution (same weight array, stride,
    dilation, groups, explicit pads of TCONV.4, zero padding) on an input of
    the transposed output size; its rows are kept for the first n positions of
    each axis, which is all of them unless output_padding >= stride (TCONV.11).
    """
    in_shape = _check_sample_shape(in_shape, p.rank)
    w = np.asarray(w, dtype=np.float64)
    pads, _ = transposed.validate_shapes((1, *in_shape), w.shape, None, p)
    out_shape = conv_transpose_output_shape((1, *in_shape), w.shape, p)[1:]
    forward = Conv(stride=p.stride, dilation=p.dilation, padding=pads, groups=p.groups)
    c = conv_matrix(out_shape, w, forward)
    forward_out = conv_output_shape((1, *out_shape), w.shape, forward)[1:]
    kept = np.ravel_multi_index(np.indices(in_shape).reshape(len(in_shape), -1), forward_out)
    return c[kept].T


__all__ = ["bias_vector", "conv_matrix", "conv_transpose_matrix"]
