"""Fixed configurations: real-network layers (networks.toml), --config replays and the
pinned examples of known issues."""

from __future__ import annotations

import tomllib
import zlib
from dataclasses import replace
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from adapters.base import Adapter, extension
from reference.checks import SpecError
from reference.params import Conv, ConvTranspose, DeformConv
from reference.sizes import conv_output_shape
from suites import invalid, isolation, oracle, outcomes, strategies
from suites.example import Setup
from suites.verdict import check_example

NETWORKS = Path(__file__).with_name("networks.toml")


def seed_of(text: str) -> int:
    """A stable seed per configuration, so a replay sees the same operands every run."""
    return zlib.crc32(text.encode())


def invalid_clause(setup: Setup) -> str | None:
    """The clause that makes `setup` invalid (the reference's SpecError), or None if valid."""
    # The operation's own validation first: it cites the clause the error suite cites,
    # where the oracle's size arithmetic would fail first, uncited, on a wrong rank or a
    # zero stride.
    try:
        invalid.reference_check(setup)
    except SpecError as exc:
        return exc.clause
    except (KeyError, ValueError, ArithmeticError, IndexError):
        # A composite block (KeyError: its steps validate inside the oracle below), or
        # shapes the validation itself cannot read: the oracle below says ERR.2.
        pass
    zeros = {k: None if v is None else np.zeros(v) for k, v in setup.shapes.items()}
    try:
        oracle.expect(setup.op, zeros, setup.params)
    except (ValueError, ArithmeticError, IndexError) as exc:
        # SpecError carries its clause; a size formula can also fail on shapes it never
        # reaches validation with (a zero stride, a negative size): ERR.2 says it must raise.
        return str(getattr(exc, "clause", "ERR.2"))
    return None


def replay(
    backend: Adapter,
    setup: Setup,
    seed: int,
    *,
    clause: str,
    shape_clause: str,
    description: str,
    isolate: bool = False,
    rejection_clause: str | None = None,
) -> None:
    """Run a fixed configuration as the suites would: an invalid one through the
    error-behaviour check (ERR.2/ERR.3, in a child process, citing `rejection_clause` or
    else the clause that makes it invalid), a valid one through the value and shape check
    (in a child if `isolate`)."""
    broken = invalid_clause(setup)
    if broken is not None:
        support = backend.capabilities.ops.get(setup.op)
        meaning = invalid.extension_meaning(setup)
        declared = extension(support, meaning) if support and meaning else None
        if declared is not None:
            # What the error suite does for its own draws of this kind (test_errors.py).
            outcomes.unsupported(
                f"{backend.name} {setup.op} declares the documented extension "
                f"{declared.name!r} ({declared.documentation}) that gives {description} a "
                "meaning: test_declared_extension checks its result (ERR.16)"
            )
        cited = rejection_clause or broken
        isolation.expect_rejection(backend, invalid.operands(setup), cited, description)
        return
    example = strategies.seeded_operands(replace(setup, size_class="replay"), seed)
    target = isolation.isolated(backend) if isolate else backend
    check_example(target, example, clause=clause, shape_clause=shape_clause)


def _pairs(value: Any, rank: int) -> Any:
    if isinstance(value, str):
        return value
    return tuple((int(b), int(e)) for b, e in value) if value is not None else ((0, 0),) * rank


# Multiply-adds per network-layer call: the batch is the largest (up to
# MAX_NETWORK_BATCH) that keeps a layer within it; the float64 oracle runs about a
# billion multiply-adds a second.
NETWORK_BUDGET = 1 << 27
MAX_NETWORK_BATCH = 8


def layer_batch(sample: tuple[int, ...], w: tuple[int, ...], params: Any) -> int:
    """The largest batch (up to MAX_NETWORK_BATCH) whose multiply-adds fit the budget."""
    one = (1, *sample)
    if isinstance(params, ConvTranspose):
        work = oracle.macs(one, w)  # every input element meets C_out/groups * prod(k) taps
    else:
        conv = Conv(params.stride, params.dilation, params.padding, params.groups)
        work = oracle.macs(conv_output_shape(one, w, conv), w)
    return max(1, min(MAX_NETWORK_BATCH, NETWORK_BUDGET // max(work, 1)))


def layer_setup(layer: dict[str, Any], dtype: str, exact: bool) -> Setup:
    sample, w = tuple(layer["x"]), tuple(layer["w"])
    rank = len(sample) - 1
    ones = (1,) * rank
    stride = tuple(layer.get("stride", ones))
    dilation = tuple(layer.get("dilation", ones))
    padding = _pairs(layer.get("padding"), rank)
    groups = int(layer.get("groups", 1))
    bias = bool(layer.get("bias", True))
    op = layer["op"]
    params: Conv | ConvTranspose | DeformConv
    if op == "conv":
        params = Conv(stride=stride, dilation=dilation, padding=padding, groups=groups)
        c_out = w[0]
    elif op == "conv_transpose":
        params = ConvTranspose(
            stride=stride,
            dilation=dilation,
            padding=padding,
            output_padding=tuple(layer.get("output_padding", (0,) * rank)),
            groups=groups,
        )
        c_out = w[1] * groups
    else:
        params = DeformConv(stride=stride, dilation=dilation, padding=padding, groups=groups)
        c_out = w[0]
    x = (int(layer.get("batch", 0)) or layer_batch(sample, w, params), *sample)
    shapes: dict[str, tuple[int, ...] | None] = {"x": x, "w": w, "b": (c_out,) if bias else None}
    if op == "deform_conv":
        out = conv_output_shape(
            x, w, Conv(stride=stride, dilation=dilation, padding=padding, groups=groups)
        )
        taps = w[2] * w[3]
        shapes = {
            "x": x,
            "offset": (x[0], 2 * taps, *out[2:]),
            "mask": (x[0], taps, *out[2:]) if layer.get("mask") else None,
            "w": w,
            "b": shapes["b"],
        }
    return Setup(op, params, shapes, dtype, exact, size_class="network")


@cache
def network_layers() -> tuple[dict[str, Any], ...]:
    return tuple(tomllib.loads(NETWORKS.read_text(encoding="utf-8"))["layer"])
