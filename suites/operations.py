"""One record per operation: everything the suites need to know about it, in one place.

A record names the operation's parameters and operands (the descriptor), its expectation,
exact range and output shape (the oracle), how the backend is called with the operands,
the reference's validation and the violations the error suite draws (ERR.4-ERR.8), the
clauses a fixed configuration of it cites, and, for a composite, the backend operations it
is built from. Generic code reads the records: suites/descriptor.py, suites/oracle.py's
`expect`, `exact_range`, `expected_shape` and `run`, suites/invalid.py, suites/support.py
and suites/test_errors.py. A new variant is a new record (docs/adding-a-variant.md).

The records are assembled here from the modules that hold the pieces, which look them up
by name only inside their functions, so that none of them imports this module at load.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np

from adapters.base import (
    CHANNEL_SHUFFLE,
    CONV,
    CONV_TRANSPOSE,
    DEFORM_CONV,
    DEPTHWISE_CONV,
    SEPARABLE_CONV,
    Adapter,
)
from reference import conv as conv_ref
from reference import deformable, grouped, separable, shuffle, transposed
from reference.params import ChannelShuffle, Conv, ConvTranspose, DeformConv, Params
from suites import composites, invalid, oracle
from suites.invalid import BaseSetups, Kind
from suites.oracle import Arrays, Expectation, OperandShapes


@dataclass(frozen=True)
class Operation:
    """Everything about one operation that generic code needs."""

    name: str
    # The parameter dataclass (reference/params.py).
    params: type[Params]
    # Operand names in descriptor order, which is the order the adapter's method of the
    # same name takes them in (adapters/base.py), before the parameters.
    operands: tuple[str, ...]
    # Operands that may be absent (None; `none` in a descriptor).
    optional: frozenset[str]
    # The reference result, its magnitude and length (NUM.2).
    expect: Callable[[Arrays, Params], Expectation]
    # NUM.5: the largest integer magnitude of inputs that keeps it exact (0: none).
    exact_range: Callable[[OperandShapes, Params, str], int]
    # The output shape of its size clause.
    output_shape: Callable[[OperandShapes, Params], tuple[int, ...]]
    # The reference's validation (raises SpecError); None for a composite, whose
    # reference validates its steps, not the block.
    validate: Callable[[Arrays, Params], None] | None = None
    # The error suite (suites/test_errors.py): the ERR table that lists its violations,
    # the violations (suites/invalid.py) and the valid setups they start from.
    error_table: str | None = None
    invalid_kinds: tuple[Kind, ...] = ()
    base_setups: BaseSetups | None = None
    # The clauses a fixed configuration of it (a --config replay, a network layer)
    # cites for a wrong value and a wrong shape: the spec's definition and size clauses
    # (CONV.2 for the dedicated depthwise and separable APIs too, which replays have
    # always cited).
    value_clause: str = "CONV.2"
    shape_clause: str = "CONV.3"
    # The clause under which known issues of its own calls register wrong values: the one
    # its value suite cites (suites/test_transposed.py cites TCONV.1, not the TCONV.2 of
    # replays). The ERR.16 extension tests, which compare the extension with the canonical
    # call, match known issues under it. None: no such test runs it.
    suite_value_clause: str | None = None
    # Fixed configurations are held to the declared ranks (suites/support.py); a channel
    # shuffle's ranks are not checked there.
    ranked: bool = True
    # Its parameter `groups` is a grouped convolution's, which needs OpSupport.groups
    # (a channel shuffle's groups are its own).
    conv_groups: bool = True
    # A composite (SEP, SHUF.5): the backend operations its pipeline calls, and the
    # pipeline (suites/composites.py). Empty: the backend implements it as a method.
    built_from: tuple[str, ...] = ()
    pipeline: Callable[[Adapter, Arrays, Params], np.ndarray] | None = field(
        default=None, repr=False
    )

    @property
    def needs(self) -> tuple[str, ...]:
        """The operations a backend must declare to run it."""
        return self.built_from or (self.name,)

    @property
    def composite(self) -> bool:
        return bool(self.built_from)

    def call(self, adapter: Adapter, arrays: Arrays, p: Params) -> np.ndarray:
        """The backend's result: its pipeline for a composite, else the adapter's method
        named as the operation, with the operands in order and then the parameters."""
        if self.pipeline is not None:
            return self.pipeline(adapter, arrays, p)
        method = getattr(adapter, self.name)
        args = [arrays.get(o) if o in self.optional else arrays[o] for o in self.operands]
        result: np.ndarray = method(*args, p)
        return result


# --- the reference's validation of each operation ----------------------------------------


def _x(a: Arrays) -> np.ndarray:
    x = a["x"]
    assert x is not None
    return x


def _validate_conv(a: Arrays, p: Params) -> None:
    x = _x(a)
    assert isinstance(p, Conv)
    conv_ref.validate(x, a["w"], a.get("b"), p)  # type: ignore[arg-type]


def _validate_depthwise(a: Arrays, p: Params) -> None:
    x = _x(a)
    assert isinstance(p, Conv)
    grouped.check_depthwise(x, a["w"], p)  # type: ignore[arg-type]
    conv_ref.validate(x, a["w"], a.get("b"), p)  # type: ignore[arg-type]


def _validate_separable(a: Arrays, p: Params) -> None:
    # The whole definition: its checks (SEP.1, GRP.2, CONV) run before any arithmetic.
    x = _x(a)
    assert isinstance(p, Conv)
    separable.depthwise_separable(x, a["w_depth"], a["w_point"], None, a.get("b"), p)  # type: ignore[arg-type]


def _validate_conv_transpose(a: Arrays, p: Params) -> None:
    x = _x(a)
    assert isinstance(p, ConvTranspose)
    transposed.validate(x, a["w"], a.get("b"), p)  # type: ignore[arg-type]


def _validate_deform(a: Arrays, p: Params) -> None:
    x = _x(a)
    assert isinstance(p, DeformConv)
    deformable.validate(x, a["offset"], a.get("mask"), a["w"], a.get("b"), p)  # type: ignore[arg-type]


def _validate_shuffle(a: Arrays, p: Params) -> None:
    x = _x(a)
    assert isinstance(p, ChannelShuffle)
    shuffle.validate(x, p)


# --- the records --------------------------------------------------------------------------

_BIAS = frozenset({"b"})


def _composite(name: str, weights: tuple[str, ...], built_from: tuple[str, ...]) -> Operation:
    """A composite on a base convolution's parameters, one weight operand per stage."""
    return Operation(
        name=name,
        params=Conv,
        operands=("x", *weights, "b"),
        optional=_BIAS,
        expect=oracle.expect_composite(name, weights),
        exact_range=oracle.composite_range(weights),
        output_shape=oracle.composite_shape(name),
        built_from=built_from,
        pipeline=lambda adapter, a, p: composites.run(adapter, name, a, p),  # type: ignore[arg-type]
    )


_RECORDS = (
    Operation(
        name=CONV,
        params=Conv,
        operands=("x", "w", "b"),
        optional=_BIAS,
        expect=oracle.expect_conv,
        exact_range=oracle.conv_range,
        output_shape=oracle.conv_shape,
        validate=_validate_conv,
        error_table="ERR.4",
        invalid_kinds=invalid.CONV_KINDS,
        base_setups=invalid.CONV_SETUPS,
        suite_value_clause="CONV.2",
    ),
    Operation(
        name=DEPTHWISE_CONV,
        params=Conv,
        operands=("x", "w", "b"),
        optional=_BIAS,
        expect=oracle.expect_depthwise,
        exact_range=oracle.conv_range,
        output_shape=oracle.conv_shape,
        validate=_validate_depthwise,
        error_table="ERR.5",
        invalid_kinds=invalid.DEPTHWISE_KINDS,
        base_setups=invalid.DEPTHWISE_SETUPS,
    ),
    Operation(
        name=SEPARABLE_CONV,
        params=Conv,
        operands=("x", "w_depth", "w_point", "b"),
        optional=_BIAS,
        expect=oracle.expect_separable,
        exact_range=oracle.separable_range,
        output_shape=oracle.separable_shape,
        validate=_validate_separable,
        error_table="ERR.5",
        invalid_kinds=invalid.SEPARABLE_KINDS,
        base_setups=invalid.SEPARABLE_SETUPS,
    ),
    Operation(
        name=CONV_TRANSPOSE,
        params=ConvTranspose,
        operands=("x", "w", "b"),
        optional=_BIAS,
        expect=oracle.expect_conv_transpose,
        exact_range=oracle.conv_transpose_range,
        output_shape=oracle.conv_transpose_shape,
        validate=_validate_conv_transpose,
        error_table="ERR.6",
        invalid_kinds=invalid.TRANSPOSED_KINDS,
        base_setups=invalid.TRANSPOSED_SETUPS,
        value_clause="TCONV.2",
        shape_clause="TCONV.3",
        suite_value_clause="TCONV.1",
    ),
    Operation(
        name=DEFORM_CONV,
        params=DeformConv,
        operands=("x", "offset", "mask", "w", "b"),
        optional=frozenset({"mask", "b"}),
        expect=oracle.expect_deform,
        exact_range=oracle.deform_range,
        output_shape=oracle.deform_shape,
        validate=_validate_deform,
        error_table="ERR.7",
        invalid_kinds=invalid.DEFORM_KINDS,
        base_setups=invalid.DEFORM_SETUPS,
        value_clause="DEFORM.7",
        shape_clause="DEFORM.3",
    ),
    Operation(
        name=CHANNEL_SHUFFLE,
        params=ChannelShuffle,
        operands=("x",),
        optional=frozenset(),
        expect=oracle.expect_shuffle,
        exact_range=oracle.permutation_range,
        output_shape=oracle.same_shape,
        validate=_validate_shuffle,
        error_table="ERR.8",
        invalid_kinds=invalid.SHUFFLE_KINDS,
        base_setups=invalid.SHUFFLE_SETUPS,
        value_clause="SHUF.2",
        shape_clause="SHUF.1",
        ranked=False,
        conv_groups=False,
    ),
    _composite("depthwise_separable", ("w_depth", "w_point"), (CONV,)),
    _composite("spatially_separable", ("w_col", "w_row"), (CONV,)),
    _composite("flattened", ("w_lateral", "w_vertical", "w_horizontal"), (CONV,)),
    _composite("shuffled_grouped", ("w1", "w2"), (CONV, CHANNEL_SHUFFLE)),
)

OPERATIONS: Mapping[str, Operation] = {record.name: record for record in _RECORDS}
