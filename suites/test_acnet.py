"""ACNET: the asymmetric convolution block from the backend's convolutions, and its fused form."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.base import CONV, Adapter, OpSupport
from reference import acnet
from reference import conv as conv_ref
from reference.numerics import numpy_dtype
from reference.params import Conv
from suites import strategies, values
from suites.example import Example, Setup, Shapes
from suites.oracle import Expectation
from suites.support import require
from suites.verdict import call_backend, check_dtype, check_shape, check_values

# ACNET.2 with exact dyadic statistics: var + eps = 4^j, so the scale gamma/2^j,
# the folded kernels and biases are exact in every tested format.
EPS = 2.0**-10


@st.composite
def batch_norms(draw: st.DrawFn, channels: int, name: str) -> acnet.BatchNorm:
    def ints(what: str, low: int, high: int) -> np.ndarray:
        values = [
            draw(st.integers(low, high), label=f"{name}.{what}[{c}]") for c in range(channels)
        ]
        return np.array(values, dtype=np.float64)

    var = 4.0 ** ints("log4_var", 0, 1) - EPS
    return acnet.BatchNorm(ints("gamma", -2, 2), ints("beta", -2, 2), ints("mean", -2, 2), var, EPS)


@st.composite
def acnet_examples(draw: st.DrawFn, support: OpSupport) -> tuple[Example, acnet.ACBlock]:
    """A block with odd k and padding >= (k//2)*d on every side, so no branch crops (ACNET.3)."""
    groups, c_in, c_out = draw(strategies.channels(support))
    k = draw(st.sampled_from([1, 3]), label="k")
    may_dilate = support.dilation
    dilation = tuple(
        draw(st.integers(1, 2), label=f"dilation[{a}]") if may_dilate else 1 for a in range(2)
    )
    stride_ok = support.dilation_with_stride or max(dilation) == 1
    stride = tuple(
        draw(st.integers(1, 2), label=f"stride[{a}]") if stride_ok else 1 for a in range(2)
    )
    pads = tuple(
        ((k // 2) * dilation[a] + draw(st.integers(0, 1), label=f"extra_pad[{a}]"),) * 2
        for a in range(2)
    )
    p = Conv(stride=stride, dilation=dilation, padding=pads, groups=groups)  # type: ignore[arg-type]
    size = tuple(1 + draw(st.integers(0, 5), label=f"extra_size[{a}]") for a in range(2))
    batch = draw(st.integers(1, strategies.MAX_BATCH), label="batch")
    dtype = draw(
        st.sampled_from([d for d in strategies.DTYPE_ORDER if d in support.dtypes]), label="dtype"
    )
    shapes: Shapes = {
        "x": (batch, c_in, *size),
        "square": (c_out, c_in // groups, k, k),
        "horizontal": (c_out, c_in // groups, 1, k),
        "vertical": (c_out, c_in // groups, k, 1),
    }
    setup = Setup("acnet_block", p, shapes, dtype, exact=False)
    arrays = {
        name: values.draw_array(draw, name, shape, dtype, exact_range=2 if name != "x" else 0)
        for name, shape in shapes.items()
        if shape is not None
    }
    block = acnet.ACBlock(
        square=arrays["square"].astype(np.float64),
        horizontal=arrays["horizontal"].astype(np.float64),
        vertical=arrays["vertical"].astype(np.float64),
        bn_square=draw(batch_norms(c_out, "bn_square")),
        bn_horizontal=draw(batch_norms(c_out, "bn_horizontal")),
        bn_vertical=draw(batch_norms(c_out, "bn_vertical")),
    )
    return Example(setup, dict(arrays)), block


def expectation(x: np.ndarray, block: acnet.ACBlock, p: Conv) -> Expectation:
    """ACNET.7: the block's value; its magnitude term M and length n + 10 cover the
    backend's convolutions, the batch norms applied in float64, and the reference's own error."""
    x64 = x.astype(np.float64)
    return Expectation(
        acnet.acnet_block(x64, block, p), acnet.magnitude(x64, block, p), acnet.fusion_length(block)
    )


def conv_setup(example: Example, p: Conv, w: np.ndarray, b: np.ndarray | None) -> Setup:
    """The single convolution that one backend call of the block runs."""
    x = example.arrays["x"]
    assert x is not None
    shapes: Shapes = {"x": x.shape, "w": w.shape, "b": None if b is None else b.shape}
    return replace(example.setup, op=CONV, params=p, shapes=shapes)


def backend_block(adapter: Adapter, example: Example, block: acnet.ACBlock) -> np.ndarray | None:
    """Each branch through the backend's conv; batch norm and the sum applied in float64."""
    x = example.arrays["x"]
    assert x is not None
    p = example.setup.params
    assert isinstance(p, Conv)
    branches = acnet.validate(x.astype(np.float64), block, p)
    total = None
    for name, bn, q in zip(
        ("square", "horizontal", "vertical"),
        (block.bn_square, block.bn_horizontal, block.bn_vertical),
        branches,
        strict=True,
    ):
        w = example.arrays[name]
        got = call_backend(
            adapter,
            example,
            "ACNET.4",
            lambda w=w, q=q: adapter.conv(x, w, None, q),
            runs=conv_setup(example, q, w, None),
        )
        if got is None:
            return None
        want = conv_ref.conv_fast(x.astype(np.float64), w.astype(np.float64), None, q)  # type: ignore[union-attr]
        check_shape(adapter, example, got, want.shape, "ACNET.3")
        check_dtype(adapter, example, got)
        normalized = acnet.batch_norm(got.astype(np.float64), bn)
        total = normalized if total is None else total + normalized
    return total


@pytest.mark.clauses("ACNET.2", "ACNET.3", "ACNET.4")
@given(data=st.data())
def test_block_from_backend_convolutions(backend, data) -> None:
    """Square, 1 x k and k x 1 branches with their alignment padding sum to the block."""
    support = require(backend, CONV, ranks=frozenset({2}), padding=frozenset({"symmetric"}))
    example, block = data.draw(acnet_examples(support), label="block")
    got = backend_block(backend, example, block)
    if got is None:
        return
    p = example.setup.params
    assert isinstance(p, Conv)
    x = example.arrays["x"]
    assert x is not None
    check_values(backend, example, got, expectation(x, block, p), "ACNET.4")


@pytest.mark.clauses("ACNET.5", "ACNET.6", "ACNET.7")
@given(data=st.data())
def test_fused_deploy_form(backend, data) -> None:
    """The fused k x k kernel and bias, run by the backend's conv, equal the block."""
    support = require(
        backend, CONV, ranks=frozenset({2}), padding=frozenset({"symmetric"}), bias=True
    )
    example, block = data.draw(acnet_examples(support), label="block")
    x = example.arrays["x"]
    p = example.setup.params
    assert x is not None and isinstance(p, Conv)
    w, b = acnet.fuse_acnet(block)
    dtype = numpy_dtype(example.setup.dtype)
    # The dyadic statistics make the folded operands exact in the tested format.
    assert np.array_equal(w.astype(dtype).astype(np.float64), w), "fused kernel not exact in dtype"
    assert np.array_equal(b.astype(dtype).astype(np.float64), b), "fused bias not exact in dtype"
    got = call_backend(
        backend,
        example,
        "ACNET.6",
        lambda: backend.conv(x, w.astype(dtype), b.astype(dtype), p),
        runs=conv_setup(example, p, w, b),
    )
    if got is None:
        return
    want = expectation(x, block, p)
    check_shape(backend, example, got, want.values.shape, "ACNET.6")
    if got.shape == want.values.shape:
        check_dtype(backend, example, got)
        check_values(backend, example, got, want, "ACNET.6")
