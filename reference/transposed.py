"""Transposed convolution in N spatial dimensions (spec chapter TCONV).

`conv_transpose` is the definition: a scalar loop that transcribes TCONV.2,

    y[n, o, j] = b[o] + sum over c in group(o), k, i with i*s + k*d - p_begin = j
                        of x[n, c, i] * w[c, o mod (C_out/g), k]

read as a gather: for each output position j and tap k the input index is
i = (j + p_begin - k*d) / s when that is an integer in [0, n). `conv_transpose_fast`
is a vectorized float64 oracle (one matrix product, then a scatter per tap) proven
equal to the loop by the self-tests.

The module also holds the executable forms of the TCONV clauses that map the
frameworks' conventions onto the definition (TCONV.15-TCONV.17) and of the
overlap property (TCONV.13).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import Literal

import numpy as np

from reference.checks import SpecError, require
from reference.conv import batch_slices
from reference.params import ConvTranspose, Pairs
from reference.sizes import (
    conv_output_size,
    conv_transpose_output_shape,
    effective_kernel,
    same_padding,
    transposed_explicit,
    transposed_output_size,
)

OUTPUT_PADDING_RULES = ("stride_or_dilation", "stride")


# --- validation --------------------------------------------------------------


def output_padding_limit(s: int, d: int, rule: str) -> int:
    """TCONV.5: output_padding along an axis must be < this limit."""
    return max(s, d) if rule == "stride_or_dilation" else s


def validate_shapes(
    x_shape: Sequence[int],
    w_shape: Sequence[int],
    b_shape: Sequence[int] | None,
    p: ConvTranspose,
) -> tuple[Pairs, tuple[int, ...]]:
    """Raise SpecError for an invalid configuration; return explicit pads and output_padding.

    For 'valid'/'same' the returned pair is the explicit equivalent of TCONV.4.
    """
    x_shape, w_shape = tuple(x_shape), tuple(w_shape)
    rank = p.rank
    require(rank >= 1, "TCONV.1", "a transposed convolution needs at least one spatial axis")
    require(
        len(p.dilation) == rank and len(p.output_padding) == rank,
        "TCONV.1",
        f"stride, dilation and output_padding must each have {rank} entries, got "
        f"{p.stride}, {p.dilation}, {p.output_padding}",
    )
    require(
        len(x_shape) == rank + 2,
        "TCONV.1",
        f"input must have shape (N, C_in, *{rank} spatial), got {x_shape}",
    )
    require(
        len(w_shape) == rank + 2,
        "TCONV.1",
        f"weight must have shape (C_in, C_out/groups, *{rank} kernel), got {w_shape}",
    )
    # C_in = 0, C_out = 0 and empty input axes are degenerate, not invalid (ERR.15).
    c_in = x_shape[1]
    require(
        w_shape[0] == c_in,
        "TCONV.1",
        f"weight axis 0 must be C_in={c_in} (layout (C_in, C_out/groups, *k)), got {w_shape[0]}",
    )
    require(
        all(k >= 1 for k in w_shape[2:]), "TCONV.1", f"kernel sizes must be >= 1, got {w_shape[2:]}"
    )
    require(all(s >= 1 for s in p.stride), "TCONV.6", f"stride must be >= 1, got {p.stride}")
    require(all(d >= 1 for d in p.dilation), "TCONV.6", f"dilation must be >= 1, got {p.dilation}")
    require(p.groups >= 1, "TCONV.7", f"groups must be >= 1, got {p.groups}")
    require(c_in % p.groups == 0, "TCONV.7", f"groups={p.groups} does not divide C_in={c_in}")
    c_out = w_shape[1] * p.groups
    if b_shape is not None:
        require(
            tuple(b_shape) == (c_out,),
            "TCONV.8",
            f"bias must have shape (C_out,) = ({c_out},), got {tuple(b_shape)}",
        )
    _validate_padding(p)
    spatial, kernel = x_shape[2:], w_shape[2:]
    pads, extra = transposed_explicit(p, spatial, kernel)
    # Padding that removes every position leaves an output size of 0: degenerate (ERR.15).
    return pads, extra


def _validate_padding(p: ConvTranspose) -> None:
    """TCONV.9 (padding forms) and TCONV.5 (output_padding)."""
    rank = p.rank
    require(
        p.output_padding_rule in OUTPUT_PADDING_RULES,
        "TCONV.5",
        f"output_padding_rule must be one of {OUTPUT_PADDING_RULES}, got {p.output_padding_rule!r}",
    )
    require(
        all(op >= 0 for op in p.output_padding),
        "TCONV.5",
        f"output_padding must be >= 0, got {p.output_padding}",
    )
    if isinstance(p.padding, str):
        require(p.padding in ("valid", "same"), "TCONV.9", f"unknown padding {p.padding!r}")
        require(
            all(op == 0 for op in p.output_padding),
            "TCONV.5",
            f"output_padding must be 0 with padding={p.padding!r}, got {p.output_padding}",
        )
        return
    require(
        len(p.padding) == rank and all(len(pair) == 2 for pair in p.padding),
        "TCONV.9",
        f"explicit padding must give (begin, end) for each of {rank} axes, got {p.padding}",
    )
    require(
        all(b >= 0 and e >= 0 for b, e in p.padding),
        "TCONV.9",
        f"explicit padding must be >= 0, got {p.padding}",
    )
    for axis, (op, s, d) in enumerate(zip(p.output_padding, p.stride, p.dilation, strict=True)):
        limit = output_padding_limit(s, d, p.output_padding_rule)
        require(
            op < limit,
            "TCONV.5",
            f"output_padding {op} on spatial axis {axis} must be < {limit} "
            f"(rule {p.output_padding_rule!r}, stride {s}, dilation {d})",
        )


def validate(
    x: np.ndarray, w: np.ndarray, b: np.ndarray | None, p: ConvTranspose
) -> tuple[Pairs, tuple[int, ...]]:
    """Raise SpecError for an invalid configuration; return explicit pads and output_padding."""
    return validate_shapes(np.shape(x), np.shape(w), None if b is None else np.shape(b), p)


# --- the definition and the oracle ------------------------------------------


def _source(j: int, k: int, s: int, d: int, begin: int, n: int) -> int | None:
    """The input index i with i*s + k*d - begin = j, or None if there is none in [0, n)."""
    m = j + begin - k * d
    if m % s != 0 or not 0 <= m // s < n:
        return None
    return m // s


def conv_transpose(
    x: np.ndarray, w: np.ndarray, b: np.ndarray | None, p: ConvTranspose
) -> np.ndarray:
    """TCONV.2 as a scalar loop in float64. The definition."""
    pads, _ = validate(x, w, b, p)
    x = np.asarray(x, dtype=np.float64)
    w = np.asarray(w, dtype=np.float64)
    out_shape = conv_transpose_output_shape(x.shape, w.shape, p)
    y = np.zeros(out_shape, dtype=np.float64)
    spatial, kernel = x.shape[2:], w.shape[2:]
    c_in_g = x.shape[1] // p.groups
    c_out_g = w.shape[1]
    for n, o in itertools.product(range(out_shape[0]), range(out_shape[1])):
        group, o_in_group = divmod(o, c_out_g)
        for j in itertools.product(*(range(m) for m in out_shape[2:])):
            acc = 0.0 if b is None else float(b[o])
            for c in range(group * c_in_g, (group + 1) * c_in_g):
                for k in itertools.product(*(range(m) for m in kernel)):
                    i = [
                        _source(j[a], k[a], p.stride[a], p.dilation[a], pads[a][0], spatial[a])
                        for a in range(p.rank)
                    ]
                    if None in i:
                        continue  # no input position reaches j through tap k
                    acc += float(x[(n, c, *i)]) * float(w[(c, o_in_group, *k)])
            y[(n, o, *j)] = acc
    return y


def conv_transpose_fast(
    x: np.ndarray, w: np.ndarray, b: np.ndarray | None, p: ConvTranspose
) -> np.ndarray:
    """Vectorized float64 oracle for `conv_transpose`: one matrix product, then a scatter per tap.

    Every tap k adds x * w[:, :, k] at the positions i*s + k*d of an uncropped
    buffer; the output is the buffer from p_begin on (TCONV.2).
    """
    pads, _ = validate(x, w, b, p)
    x = np.asarray(x, dtype=np.float64)
    w = np.asarray(w, dtype=np.float64)
    out_shape = conv_transpose_output_shape(x.shape, w.shape, p)
    spatial, kernel = x.shape[2:], w.shape[2:]
    g, n_batch = p.groups, x.shape[0]
    c_in_g, c_out_g = x.shape[1] // g, w.shape[1]
    xg = x.reshape(n_batch, g, c_in_g, *spatial)
    wg = w.reshape(g, c_in_g, c_out_g, *kernel)
    # Long enough for every tap and for the output window, which output_padding
    # may push past the last tap.
    full = tuple(
        max((n - 1) * s + effective_kernel(k, d), begin + out)
        for n, k, s, d, (begin, _), out in zip(
            spatial, kernel, p.stride, p.dilation, pads, out_shape[2:], strict=True
        )
    )
    buf = np.zeros((n_batch, g, c_out_g, *full), dtype=np.float64)
    taps = int(np.prod(kernel, dtype=np.int64))
    inputs = int(np.prod(spatial, dtype=np.int64))
    tap_weights = wg.reshape(g, c_in_g, c_out_g * taps).transpose(0, 2, 1)
    every: tuple[slice, ...] = (slice(None),) * 3  # batch, group, channel in group
    # The output positions each tap writes, i*s + k*d for every input position i.
    windows = [
        tuple(
            # max: an empty input axis (ERR.15) must scatter nothing, not wrap around.
            slice(ka * da, ka * da + max((n - 1) * s + 1, 0), s)
            for ka, da, n, s in zip(k, p.dilation, spatial, p.stride, strict=True)
        )
        for k in itertools.product(*(range(m) for m in kernel))
    ]
    for part in batch_slices(n_batch, g * c_out_g * taps * inputs):
        # contributions[n, g, o, t, i] = sum_c x[n, g*C_in/g + c, i] * w[g*C_in/g + c, o, k_t]:
        # one matrix product per group (BLAS), then each tap scattered to i*s + k_t*d.
        samples = xg[part]
        contributions = np.matmul(
            tap_weights, samples.reshape(len(samples), g, c_in_g, inputs)
        ).reshape(len(samples), g, c_out_g, taps, *spatial)
        for t, window in enumerate(windows):
            buf[(part, *every[1:], *window)] += contributions[(*every, t)]
    crop: tuple[slice, ...] = tuple(
        slice(begin, begin + out) for (begin, _), out in zip(pads, out_shape[2:], strict=True)
    )
    y = buf[every + crop].reshape(out_shape)
    if b is not None:
        y = y + np.asarray(b, dtype=np.float64).reshape(1, -1, *([1] * p.rank))
    return y


# --- accumulation length and overlap ----------------------------------------


def max_taps(k: int, s: int, d: int) -> int:
    """TCONV.10/TCONV.13: the most taps of one axis that land on one output position.

    Tap k lands on residue k*d mod s; with s' = s / gcd(s, d) the residues repeat
    every s' taps, so a residue collects at most ceil(k / s') taps (residue 0 exactly).
    """
    period = s // math.gcd(s, d)
    return -(-k // period)


def accumulation_terms(w_shape: tuple[int, ...], p: ConvTranspose, bias: bool) -> int:
    """TCONV.10 (NUM.2): an upper bound on products summed per output element, +1 for bias."""
    c_in_g = w_shape[0] // p.groups
    taps = math.prod(
        max_taps(k, s, d) for k, s, d in zip(w_shape[2:], p.stride, p.dilation, strict=True)
    )
    return c_in_g * taps + (1 if bias else 0)


def tap_counts(in_size: Sequence[int], kernel: Sequence[int], p: ConvTranspose) -> np.ndarray:
    """TCONV.13: the number of (i, k) pairs with i*s + k*d - p_begin = j, per output position j.

    Counted by scattering, one axis at a time: the pairs of a multi-axis
    position are the products of the pairs of its coordinates.
    """
    pads, _ = validate_shapes((1, p.groups, *in_size), (p.groups, 1, *kernel), None, p)
    out = conv_transpose_output_shape((1, p.groups, *in_size), (p.groups, 1, *kernel), p)[2:]
    counts = np.ones((), dtype=np.int64)
    axes = zip(in_size, kernel, p.stride, p.dilation, pads, out, strict=True)
    for n, k, s, d, (begin, _), length in axes:
        axis = np.zeros(length, dtype=np.int64)
        for i, kk in itertools.product(range(n), range(k)):
            j = i * s + kk * d - begin
            if 0 <= j < length:
                axis[j] += 1
        counts = np.multiply.outer(counts, axis)
    return counts


def residue_count(m: int, k: int, s: int, d: int) -> int:
    """TCONV.13: #{kk in [0, k): kk*d = m (mod s)}, the count at an interior position m."""
    return sum(1 for kk in range(k) if (kk * d - m) % s == 0)


def interior(in_size: Sequence[int], kernel: Sequence[int], p: ConvTranspose) -> tuple[range, ...]:
    """TCONV.13: per axis, the output positions j whose every tap k has its i in [0, n).

    In uncropped coordinates m = j + p_begin the interior is [(k-1)*d, (n-1)*s];
    it is intersected with the output [0, out).
    """
    pads, _ = validate_shapes((1, p.groups, *in_size), (p.groups, 1, *kernel), None, p)
    out = conv_transpose_output_shape((1, p.groups, *in_size), (p.groups, 1, *kernel), p)[2:]
    axes = zip(in_size, kernel, p.stride, p.dilation, pads, out, strict=True)
    return tuple(
        range(max((k - 1) * d - begin, 0), min((n - 1) * s - begin + 1, length))
        for n, k, s, d, (begin, _), length in axes
    )


def uniform_overlap(kernel: Sequence[int], p: ConvTranspose) -> bool:
    """TCONV.13: tap counts are equal on an interior spanning a full period, iff this holds."""
    return all(
        k % s == 0 and math.gcd(s, d) == 1
        for k, s, d in zip(kernel, p.stride, p.dilation, strict=True)
    )


# --- framework conventions ---------------------------------------------------


def from_output_size(
    in_size: Sequence[int],
    kernel: Sequence[int],
    stride: Sequence[int],
    dilation: Sequence[int],
    padding: Pairs | Literal["valid", "same"],
    out_size: Sequence[int],
) -> tuple[Pairs, tuple[int, ...]]:
    """TCONV.15: TF's conv_transpose with an explicit output_shape, as pads + output_padding.

    TF computes the gradient of the forward convolution that maps an input of
    size `out_size` to `in_size` under `padding` ('valid', 'same' with the odd
    pixel at the end, or explicit pairs). Any such `out_size` is allowed.
    """
    pads: list[tuple[int, int]] = []
    extra: list[int] = []
    for a, (n, k, s, d, length) in enumerate(
        zip(in_size, kernel, stride, dilation, out_size, strict=True)
    ):
        if isinstance(padding, str):
            same = padding == "same"
            begin, end = same_padding(length, k, s, d, "end") if same else (0, 0)
        else:
            begin, end = padding[a]
        require(
            conv_output_size(length, k, s, d, begin, end) == n,
            "TCONV.15",
            f"output size {length} on spatial axis {a}: the forward convolution maps it to "
            f"{conv_output_size(length, k, s, d, begin, end)}, not to the input size {n}",
        )
        # The positions past the last tap are output_padding (TCONV.15).
        op = length - transposed_output_size(n, k, s, d, begin, end, 0)
        pads.append((begin, end))
        extra.append(op)
    return tuple(pads), tuple(extra)


OnnxAutoPad = Literal["NOTSET", "SAME_UPPER", "SAME_LOWER"]


def onnx_pads(
    in_size: Sequence[int],
    kernel: Sequence[int],
    stride: Sequence[int],
    dilation: Sequence[int],
    output_padding: Sequence[int],
    out_size: Sequence[int] | None,
    auto_pad: OnnxAutoPad,
) -> Pairs:
    """TCONV.16: ONNX ConvTranspose pads generated from output_shape / SAME_UPPER / SAME_LOWER.

    total = s*(n-1) + output_padding + k_eff - out; SAME_UPPER puts the odd
    pixel at the end, SAME_LOWER and NOTSET (with output_shape) at the begin.
    Without output_shape, SAME_* ask for out = n*s.
    """
    if out_size is None:
        require(auto_pad != "NOTSET", "TCONV.16", "NOTSET generates pads only from an output_shape")
        out_size = [n * s for n, s in zip(in_size, stride, strict=True)]
    pads: list[tuple[int, int]] = []
    for a, (n, k, s, d, op, length) in enumerate(
        zip(in_size, kernel, stride, dilation, output_padding, out_size, strict=True)
    ):
        total = s * (n - 1) + op + effective_kernel(k, d) - length
        require(
            total >= 0,
            "TCONV.16",
            f"total_padding {total} < 0 on spatial axis {a}: the ONNX formula then asks for "
            "negative pads, which the operator does not define",
        )
        half = total // 2
        pads.append((half, total - half) if auto_pad == "SAME_UPPER" else (total - half, half))
    return tuple(pads)


def jax_lhs_padding(
    kernel: Sequence[int], dilation: Sequence[int], pads: Pairs, output_padding: Sequence[int]
) -> Pairs:
    """TCONV.17: the explicit padding jax.lax.conv_transpose needs (use_consistent_padding=False).

    JAX pads the stride-dilated input by (a_begin, a_end) and correlates it with
    the kernel; a_begin = k_eff - 1 - p_begin, a_end = k_eff - 1 - p_end + output_padding.
    """
    return tuple(
        (effective_kernel(k, d) - 1 - begin, effective_kernel(k, d) - 1 - end + op)
        for k, d, (begin, end), op in zip(kernel, dilation, pads, output_padding, strict=True)
    )


__all__ = [
    "OUTPUT_PADDING_RULES",
    "SpecError",
    "accumulation_terms",
    "conv_transpose",
    "conv_transpose_fast",
    "from_output_size",
    "interior",
    "jax_lhs_padding",
    "max_taps",
    "onnx_pads",
    "output_padding_limit",
    "residue_count",
    "tap_counts",
    "uniform_overlap",
    "validate",
    "validate_shapes",
]
