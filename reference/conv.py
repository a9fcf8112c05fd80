"""Convolution in N spatial dimensions (spec chapter CONV, with PAD for padding).

`conv` is the definition: a scalar loop that transcribes CONV.2,

    y[n, o, j] = b[o] + sum_{c < C_in/g} sum_{k} x_pad[n, g(o)*C_in/g + c, j*s + k*d - p_begin]
                                                 * w[o, c, k]

with g(o) = o // (C_out/g) and x_pad given by PAD.8-PAD.11. `conv_fast` is a
vectorized float64 oracle, proven equal to the loop by the self-tests.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from reference.checks import require
from reference.padding import NUMPY_PAD_MODE, check_mode_limits, source_index
from reference.params import Conv, Pairs
from reference.sizes import conv_output_shape, resolve_padding


def validate(x: np.ndarray, w: np.ndarray, b: np.ndarray | None, p: Conv) -> Pairs:
    """Raise SpecError for an invalid configuration; return the explicit pads."""
    rank = p.rank
    require(rank >= 1, "CONV.1", "a convolution needs at least one spatial axis")
    require(
        len(p.dilation) == rank,
        "CONV.1",
        f"stride has {rank} entries but dilation has {len(p.dilation)}",
    )
    require(
        x.ndim == rank + 2,
        "CONV.1",
        f"input must have shape (N, C_in, *{rank} spatial), got {x.shape}",
    )
    require(
        w.ndim == rank + 2,
        "CONV.1",
        f"weight must have shape (C_out, C_in/groups, *{rank} kernel), got {w.shape}",
    )
    require(all(s >= 1 for s in p.stride), "CONV.4", f"stride must be >= 1, got {p.stride}")
    require(all(d >= 1 for d in p.dilation), "CONV.5", f"dilation must be >= 1, got {p.dilation}")
    require(p.groups >= 1, "CONV.6", f"groups must be >= 1, got {p.groups}")
    # C_in = 0, C_out = 0 and empty input axes are degenerate, not invalid (ERR.15).
    c_in, c_out = x.shape[1], w.shape[0]
    require(c_in % p.groups == 0, "CONV.6", f"groups={p.groups} does not divide C_in={c_in}")
    require(c_out % p.groups == 0, "CONV.6", f"groups={p.groups} does not divide C_out={c_out}")
    require(
        w.shape[1] == c_in // p.groups,
        "CONV.6",
        f"weight has {w.shape[1]} input channels per group, expected C_in/groups = "
        f"{c_in // p.groups}",
    )
    require(
        all(k >= 1 for k in w.shape[2:]), "CONV.1", f"kernel sizes must be >= 1, got {w.shape[2:]}"
    )
    if b is not None:
        require(b.shape == (c_out,), "CONV.7", f"bias must have shape ({c_out},), got {b.shape}")
    if isinstance(p.padding, tuple):
        require(
            len(p.padding) == rank and all(len(pair) == 2 for pair in p.padding),
            "PAD.4",
            f"explicit padding must give (begin, end) for each of {rank} axes, got {p.padding}",
        )
    else:
        require(p.padding in ("valid", "same"), "PAD.4", f"unknown padding {p.padding!r}")
    require(p.same_split in ("end", "begin"), "PAD.6", f"unknown same_split {p.same_split!r}")
    require(p.padding_mode in NUMPY_PAD_MODE, "PAD.8", f"unknown padding mode {p.padding_mode!r}")
    spatial = tuple(x.shape[2:])
    pads = resolve_padding(p, spatial, tuple(w.shape[2:]))
    check_mode_limits(pads, spatial, p.padding_mode)
    # No window fitting the padded input is an output size of 0: degenerate (ERR.15).
    return pads


def conv(x: np.ndarray, w: np.ndarray, b: np.ndarray | None, p: Conv) -> np.ndarray:
    """CONV.2 as a scalar loop in float64. The definition."""
    pads = validate(x, w, b, p)
    x = np.asarray(x, dtype=np.float64)
    w = np.asarray(w, dtype=np.float64)
    out_shape = conv_output_shape(x.shape, w.shape, p)
    y = np.zeros(out_shape, dtype=np.float64)
    spatial, kernel = x.shape[2:], w.shape[2:]
    c_in_g = x.shape[1] // p.groups
    c_out_g = w.shape[0] // p.groups
    for n, o in itertools.product(range(out_shape[0]), range(out_shape[1])):
        group = o // c_out_g
        for j in itertools.product(*(range(m) for m in out_shape[2:])):
            acc = 0.0 if b is None else float(b[o])
            for c in range(c_in_g):
                for k in itertools.product(*(range(m) for m in kernel)):
                    src = []
                    for a in range(p.rank):
                        i = j[a] * p.stride[a] + k[a] * p.dilation[a] - pads[a][0]
                        src.append(source_index(i, spatial[a], p.padding_mode))
                    if None in src:
                        continue  # a zero of zero padding
                    acc += float(x[(n, group * c_in_g + c, *src)]) * float(w[(o, c, *k)])
            y[(n, o, *j)] = acc
    return y


def pad_input(x: np.ndarray, pads: Pairs, mode: str) -> np.ndarray:
    """x padded by PAD.8-PAD.11; a negative zero-padding entry crops (PAD.3).

    Padding first and cropping second gives padded[i] = x[i - begin] (or the
    mode's value) for every i, also where a crop reaches past the input.
    """
    widths = [(0, 0), (0, 0)] + [(max(b, 0), max(e, 0)) for b, e in pads]
    if any(b or e for b, e in widths):  # np.pad copies even when it adds nothing
        x = np.pad(x, widths, mode=NUMPY_PAD_MODE[mode])  # type: ignore[call-overload]
    crop = tuple(slice(max(-b, 0), x.shape[2 + a] - max(-e, 0)) for a, (b, e) in enumerate(pads))
    return x[(slice(None), slice(None), *crop)]


# Elements of the intermediate arrays the fast oracles build per batch slice (32 MiB of
# float64): a real network layer at batch 8 would otherwise hold gigabytes of columns.
FAST_CHUNK_ELEMENTS = 1 << 22


def batch_slices(n_batch: int, per_sample: int) -> list[slice]:
    """Slices of the batch axis whose samples' intermediates fit FAST_CHUNK_ELEMENTS (one
    sample at least)."""
    step = max(1, FAST_CHUNK_ELEMENTS // max(per_sample, 1))
    return [slice(start, start + step) for start in range(0, n_batch, step)]


def conv_fast(x: np.ndarray, w: np.ndarray, b: np.ndarray | None, p: Conv) -> np.ndarray:
    """Vectorized float64 oracle for `conv`: the taps gathered into columns (im2col), then
    one matrix product per group, which NumPy hands to BLAS."""
    pads = validate(x, w, b, p)
    x = np.asarray(x, dtype=np.float64)
    w = np.asarray(w, dtype=np.float64)
    out_shape = conv_output_shape(x.shape, w.shape, p)
    xp = pad_input(x, pads, p.padding_mode)
    g = p.groups
    n_batch, c_in_g, c_out_g = x.shape[0], x.shape[1] // g, w.shape[0] // g
    kernel, out_spatial = w.shape[2:], out_shape[2:]
    taps = int(np.prod(kernel, dtype=np.int64))
    xg = xp.reshape(n_batch, g, c_in_g, *xp.shape[2:])
    positions = int(np.prod(out_spatial, dtype=np.int64))
    y = np.empty((n_batch, g, c_out_g, positions), dtype=np.float64)
    everything: tuple[Any, ...] = (slice(None),) * 3
    # The input positions each tap reads, for every output position at once.
    windows = [
        tuple(
            slice(
                k[a] * p.dilation[a],
                # max: an output size 0 (ERR.15) must give an empty window, not wrap around.
                k[a] * p.dilation[a] + max((out_spatial[a] - 1) * p.stride[a] + 1, 0),
                p.stride[a],
            )
            for a in range(p.rank)
        )
        for k in itertools.product(*(range(m) for m in kernel))
    ]
    for part in batch_slices(n_batch, x.shape[1] * taps * positions):
        # columns[n, g, c, t, j] = x_pad[n, g*C_in/g + c, j*s + k_t*d]: CONV.2's sum over
        # (c, k) becomes a product with w[g] flattened the same way, (c, t) in C order.
        samples = xg[part]
        columns = np.empty((len(samples), g, c_in_g, taps, *out_spatial), dtype=np.float64)
        for t, window in enumerate(windows):
            columns[(*everything, t)] = samples[(*everything, *window)]
        y[part] = np.matmul(
            w.reshape(g, c_out_g, c_in_g * taps),
            columns.reshape(len(samples), g, c_in_g * taps, positions),
        )
    y = y.reshape(out_shape)
    if b is not None:
        y += np.asarray(b, dtype=np.float64).reshape(1, -1, *([1] * p.rank))
    return y


def accumulation_terms(w_shape: tuple[int, ...], p: Conv, bias: bool) -> int:
    """NUM.2: products summed into one output element, plus one for the bias."""
    return int(np.prod(w_shape[1:])) + (1 if bias else 0)
