"""Grouped, depthwise and pointwise convolution (spec chapter GRP).

All three are CONV.2 with particular groups and kernel sizes; the functions
here restate them in the forms the chapter uses, so that the self-tests can
check each form against the general loop `reference.conv.conv`:

- GRP.1 `split_groups_conv`: a grouped convolution is the concatenation of
  `groups` independent groups=1 convolutions.
- GRP.5 `expand_groups`: the same convolution is a groups=1 convolution whose
  weight is zero outside the diagonal blocks.
- GRP.2, GRP.6 `depthwise_conv`, `depthwise_filter_from_tf`: groups = C_in,
  output channel o = c*m + j reads input channel c = o // m.
- GRP.3, GRP.4 `pointwise_conv`: a 1x1 convolution is a matrix product at each
  pixel (block diagonal when grouped).
"""

from __future__ import annotations

import itertools
from dataclasses import replace

import numpy as np

from reference.checks import require
from reference.conv import conv, validate
from reference.params import Conv


def split_groups_conv(x: np.ndarray, w: np.ndarray, b: np.ndarray | None, p: Conv) -> np.ndarray:
    """GRP.1: conv with p.groups = g as g groups=1 convolutions, concatenated on channels.

    Group i convolves input channels [i*C_in/g, (i+1)*C_in/g) with weights
    [i*C_out/g, (i+1)*C_out/g) and produces those output channels.
    """
    validate(x, w, b, p)
    g = p.groups
    c_in_g, c_out_g = x.shape[1] // g, w.shape[0] // g
    single = replace(p, groups=1)
    parts = []
    for i in range(g):
        inputs = slice(i * c_in_g, (i + 1) * c_in_g)
        outputs = slice(i * c_out_g, (i + 1) * c_out_g)
        bias = None if b is None else b[outputs]
        parts.append(conv(x[:, inputs], w[outputs], bias, single))
    return np.concatenate(parts, axis=1)


def expand_groups(w: np.ndarray, groups: int) -> np.ndarray:
    """GRP.5: the groups=1 weight (C_out, C_in, *k) equal to grouped weight w.

    Output channel o keeps its C_in/groups weights at the input channels of
    its group and has zeros at every other input channel.
    """
    require(groups >= 1, "CONV.6", f"groups must be >= 1, got {groups}")
    require(
        w.ndim >= 3, "CONV.1", f"weight must have shape (C_out, C_in/groups, *k), got {w.shape}"
    )
    c_out, c_in_g = w.shape[0], w.shape[1]
    require(c_out % groups == 0, "CONV.6", f"groups={groups} does not divide C_out={c_out}")
    c_out_g = c_out // groups
    dense = np.zeros((c_out, c_in_g * groups, *w.shape[2:]), dtype=np.float64)
    for o in range(c_out):
        group = o // c_out_g
        dense[o, group * c_in_g : (group + 1) * c_in_g] = w[o]
    return dense


def check_depthwise(x: np.ndarray, w: np.ndarray, p: Conv) -> int:
    """GRP.2: raise SpecError unless (x, w, p) is a depthwise convolution; return m."""
    require(x.ndim >= 3, "CONV.1", f"input must have shape (N, C_in, *spatial), got {x.shape}")
    require(w.ndim == x.ndim, "CONV.1", f"weight rank {w.ndim} differs from input rank {x.ndim}")
    c_in = x.shape[1]
    require(c_in >= 1, "CONV.1", f"channels must be >= 1, got C_in={c_in}")
    require(
        p.groups == c_in,
        "GRP.2",
        f"a depthwise convolution has groups = C_in = {c_in}, got groups={p.groups}",
    )
    require(
        w.shape[1] == 1,
        "GRP.2",
        f"a depthwise weight has shape (C_in*m, 1, *k), got {w.shape} (second axis must be 1)",
    )
    require(
        w.shape[0] >= 1 and w.shape[0] % c_in == 0,
        "GRP.2",
        f"a depthwise weight has C_in*m output channels, a multiple of C_in={c_in}; "
        f"got {w.shape[0]}",
    )
    return w.shape[0] // c_in


def depthwise_conv(x: np.ndarray, w: np.ndarray, b: np.ndarray | None, p: Conv) -> np.ndarray:
    """GRP.2: depthwise convolution with channel multiplier m = C_out / C_in.

    y[n, c*m + j] = b[c*m + j] + conv of input channel c with kernel w[c*m + j, 0].
    """
    check_depthwise(x, w, p)
    return conv(x, w, b, p)


def depthwise_filter_from_tf(f: np.ndarray) -> np.ndarray:
    """GRP.6: a TF/Keras depthwise filter (*k, C_in, m) in the canonical layout (C_in*m, 1, *k).

    TensorFlow documents output channel k*channel_multiplier + q as input
    channel k filtered by filter[..., k, q]; the canonical weight row c*m + j
    is therefore filter[..., c, j].
    """
    require(f.ndim >= 3, "GRP.6", f"a depthwise filter has shape (*k, C_in, m), got {f.shape}")
    *kernel, c_in, m = f.shape
    w = np.zeros((c_in * m, 1, *kernel), dtype=f.dtype)
    for c, j in itertools.product(range(c_in), range(m)):
        w[c * m + j, 0] = f[..., c, j]
    return w


def pointwise_conv(
    x: np.ndarray, w: np.ndarray, b: np.ndarray | None, groups: int = 1
) -> np.ndarray:
    """GRP.3/GRP.4: the 1x1 convolution, as a matrix product at every pixel.

    w has shape (C_out, C_in/groups) or the canonical (C_out, C_in/groups, 1, ..., 1).
    y[n, :, j] = W x[n, :, j] + b, with W block diagonal when groups > 1:
    y[n, o, j] = b[o] + sum_c w[o, c] * x[n, group(o)*C_in/groups + c, j].
    """
    require(x.ndim >= 3, "CONV.1", f"input must have shape (N, C_in, *spatial), got {x.shape}")
    if w.ndim == x.ndim:
        require(
            all(k == 1 for k in w.shape[2:]),
            "GRP.3",
            f"a pointwise weight has a 1x...x1 kernel, got kernel {w.shape[2:]}",
        )
        w = w.reshape(w.shape[0], w.shape[1])
    require(
        w.ndim == 2,
        "GRP.3",
        f"a pointwise weight has shape (C_out, C_in/groups[, 1...]), got {w.shape}",
    )
    c_in, c_out = x.shape[1], w.shape[0]
    require(groups >= 1, "CONV.6", f"groups must be >= 1, got {groups}")
    require(c_in >= 1 and c_out >= 1, "CONV.1", f"channels must be >= 1, got {c_in}, {c_out}")
    require(c_in % groups == 0, "CONV.6", f"groups={groups} does not divide C_in={c_in}")
    require(c_out % groups == 0, "CONV.6", f"groups={groups} does not divide C_out={c_out}")
    c_in_g, c_out_g = c_in // groups, c_out // groups
    require(
        w.shape[1] == c_in_g,
        "CONV.6",
        f"weight has {w.shape[1]} input channels per group, expected C_in/groups = {c_in_g}",
    )
    if b is not None:
        require(b.shape == (c_out,), "CONV.7", f"bias must have shape ({c_out},), got {b.shape}")
    x = np.asarray(x, dtype=np.float64)
    w = np.asarray(w, dtype=np.float64)
    y = np.zeros((x.shape[0], c_out, *x.shape[2:]), dtype=np.float64)
    for n in range(x.shape[0]):
        for j in itertools.product(*(range(m) for m in x.shape[2:])):
            at: tuple[int | slice, ...] = (n, slice(None), *j)
            pixel = x[at]  # the C_in channel values at pixel j
            for o in range(c_out):
                first = (o // c_out_g) * c_in_g
                acc = 0.0 if b is None else float(b[o])
                for c in range(c_in_g):
                    acc += float(w[o, c]) * float(pixel[first + c])
                y[(n, o, *j)] = acc
    return y
