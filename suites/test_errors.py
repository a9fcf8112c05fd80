"""ERR: invalid configurations raise (no result, no crash, no hang); valid edge cases compute.

Every backend call here runs in a child process (suites/isolation.py), so a backend
that segfaults or aborts fails one example and the run goes on.
"""

from __future__ import annotations

import math
from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.base import (
    CHANNEL_SHUFFLE,
    CONV,
    CONV_TRANSPOSE,
    DEFORM_CONV,
    DEPTHWISE_CONV,
    SEPARABLE_CONV,
    OpSupport,
    extension,
)
from reference.params import Conv, ConvTranspose
from reference.sizes import effective_kernel, resolve_padding
from reference.transposed import onnx_pads, output_padding_limit
from suites import degenerate, invalid, isolation, known_issues, oracle, outcomes, strategies
from suites.draw_orders import SIZE_FREE_FORMS
from suites.example import Example, Setup
from suites.operations import OPERATIONS
from suites.support import require
from suites.verdict import check_example, check_result, check_shape


def _extra(kind: invalid.Kind) -> tuple[str, ...]:
    return ("ERR.11",) if kind.name == "input_missing_batch" else ()


def _violations() -> list[object]:
    return [
        pytest.param(
            op,
            kind.name,
            marks=pytest.mark.clauses(
                "ERR.1", "ERR.2", "ERR.3", record.error_table, kind.clause, *_extra(kind)
            ),
            id=f"{op}-{kind.name}",
        )
        for op, record in OPERATIONS.items()
        for kind in record.invalid_kinds
    ]


@pytest.mark.parametrize(("op", "kind"), _violations())
@given(data=st.data())
def test_invalid_configuration_raises(backend, op, kind, data) -> None:
    """One violation of one clause: the backend must raise, not return, crash or hang."""
    support = require(backend, op)
    reason = invalid.kind(op, kind).unsupported(op, support)
    if reason is not None:
        outcomes.unsupported(f"{backend.name} {op}: violation {kind} is not drawn: {reason}")
    declared = extension(support, _EXTENDS.get(kind, ""))
    if declared is not None:
        outcomes.unsupported(
            f"{backend.name} {op} declares the documented extension {declared.name!r} "
            f"({declared.documentation}): test_declared_extension checks its result (ERR.16)"
        )
    case = data.draw(invalid.invalid_setups(support, op, kind), label="invalid")
    example = invalid.operands(case.setup)
    isolation.expect_rejection(backend, example, case.clause, case.description)


# --- ERR.16: declared extensions ------------------------------------------------------------

# A local name: the ci profile derandomizes on the test function's source, and the test
# above reads it.
_EXTENDS = invalid.EXTENDS


@pytest.mark.clauses("ERR.16", "ERR.11", "ERR.3", "NUM.3", "NUM.5")
@pytest.mark.parametrize("op", (CONV, CONV_TRANSPOSE))
@given(data=st.data())
def test_declared_extension_unbatched(backend, op, data) -> None:
    """An input without its batch axis computes one sample: y[0] of the batched call."""
    _check_batch_extension(backend, op, data, "unbatched", st.just(()))


@pytest.mark.clauses("ERR.16", "ERR.3", "NUM.3", "NUM.5")
@pytest.mark.parametrize("op", (CONV, CONV_TRANSPOSE))
@given(data=st.data())
def test_declared_extension_leading_batch_axes(backend, op, data) -> None:
    """An input with several batch axes computes each sample: the flat batch's result,
    reshaped."""
    batch_shapes = st.lists(st.integers(1, 3), min_size=2, max_size=3).map(tuple)
    _check_batch_extension(backend, op, data, "leading_batch_axes", batch_shapes)


def _check_batch_extension(
    backend, op: str, data: st.DataObject, name: str, batch_shapes: st.SearchStrategy
) -> None:
    """The declared extension `name` on inputs of shape (*batch_shape, C_in, *spatial):
    the result of the canonical call on the flat batch, reshaped to
    (*batch_shape, C_out, *m)."""
    support = require(backend, op)
    declared = extension(support, name)
    if declared is None:
        outcomes.unsupported(f"{backend.name} {op} declares no extension {name!r}")
    batch_shape = data.draw(batch_shapes, label="batch_shape")
    setups = (
        strategies.conv_setups(support) if op == CONV else strategies.transposed_setups(support)
    )
    setup = data.draw(setups, label="setup")
    x = setup.shapes["x"]
    assert x is not None
    setup = replace(setup, shapes={**setup.shapes, "x": (math.prod(batch_shape), *x[1:])})
    example = data.draw(strategies.operands(setup), label="operands")
    flat = example.arrays["x"]
    assert flat is not None
    shaped = {**example.arrays, "x": flat.reshape(*batch_shape, *flat.shape[1:])}
    if isolation.limited(backend, replace(example, setup=_with_input_shape(setup, shaped))):
        return
    what = (
        f"an input of shape {shaped['x'].shape}, the extension {declared.name!r} "
        f"({declared.documentation})"
    )
    got = isolation.computed(backend, example, shaped, setup.params, "ERR.16", what)
    if got is None:
        return
    expected = oracle.expect(op, example.arrays, setup.params)
    # The extension's shape first, so that a wrong one is reported as it came back.
    check_shape(backend, example, got, (*batch_shape, *expected.values.shape[1:]), "ERR.16")
    # Where a known issue makes the canonical call itself wrong, the extension cannot be held
    # to the definition there: that entry covers its values (the conv suites check the call).
    known = known_issues.match(backend, example.setup, OPERATIONS[op].suite_value_clause)
    if known is not None:
        outcomes.record_known(known)
        return
    flat_got = got.reshape(expected.values.shape)
    check_result(backend, example, flat_got, expected, clause="ERR.16", shape_clause="ERR.16")


def _with_input_shape(setup: Setup, arrays: dict) -> Setup:
    return replace(setup, shapes={**setup.shapes, "x": tuple(arrays["x"].shape)})


@st.composite
def _auto_pad_output_padding(draw: st.DrawFn, support: OpSupport) -> tuple[Setup, ConvTranspose]:
    """A transposed convolution with padding 'same'/'valid' and an output_padding >= 1 on an
    axis, as (the explicit setup ONNX's formulas make of it, the string parameters).

    Kernels are at least as long as the stride, where ONNX's 'same'/'valid' agree with
    TCONV.4 (adapters/onnx_models.transpose_auto_pad_limitation).
    """
    forms = tuple(f for f in ("same", "valid") if f in support.padding)
    if not forms:
        outcomes.unsupported("conv_transpose declares neither 'same' nor 'valid'")
    base = draw(strategies.transposed_setups(support, forms=forms), label="base")
    p = base.params
    assert isinstance(p, ConvTranspose)
    x, w = list(base.shapes["x"] or ()), list(base.shapes["w"] or ())
    axis = draw(st.integers(0, p.rank - 1), label="axis")
    stride = list(p.stride)
    stride[axis] = max(stride[axis], 2)
    for a in range(p.rank):  # k_eff >= s on every axis
        w[a + 2] = max(w[a + 2], stride[a])
    limit = output_padding_limit(stride[axis], p.dilation[axis], p.output_padding_rule)
    extra = [0] * p.rank
    extra[axis] = draw(st.integers(1, limit - 1), label="output_padding")
    string = replace(p, stride=tuple(stride), output_padding=tuple(extra))
    if p.padding == "same":
        pads = onnx_pads(x[2:], w[2:], stride, p.dilation, extra, None, "SAME_UPPER")
    else:
        pads = tuple((0, 0) for _ in range(p.rank))
    explicit = replace(string, padding=pads)
    shapes = {**base.shapes, "x": tuple(x), "w": tuple(w)}
    setup = draw(strategies.with_numerics(support, CONV_TRANSPOSE, explicit, shapes))
    return setup, string


@pytest.mark.clauses("ERR.16", "TCONV.16", "TCONV.5", "ERR.3", "NUM.3", "NUM.5")
@given(data=st.data())
def test_declared_extension_output_padding_with_auto_pad(backend, data) -> None:
    """output_padding with 'same'/'valid' computes ONNX's placement of it (TCONV.16)."""
    support = require(backend, CONV_TRANSPOSE)
    declared = extension(support, "output_padding_with_auto_pad")
    if declared is None:
        outcomes.unsupported(
            f"{backend.name} conv_transpose declares no extension 'output_padding_with_auto_pad'"
        )
    setup, string = data.draw(_auto_pad_output_padding(support), label="setup")
    example = data.draw(strategies.operands(setup), label="operands")
    if isolation.limited(backend, example):
        return
    what = (
        f"output_padding {string.output_padding} with padding {string.padding!r}, the extension "
        f"{declared.name!r} ({declared.documentation})"
    )
    got = isolation.computed(backend, example, example.arrays, string, "ERR.16", what)
    if got is None:
        return
    expected = oracle.expect(CONV_TRANSPOSE, example.arrays, setup.params)
    check_result(backend, example, got, expected, clause="ERR.16", shape_clause="ERR.16")


# --- ERR.17: combinations a backend declares unsupported, because its framework documents so --

# OpSupport flags whose False means "the framework documents that it does not take this".
_UNDECLARED = ("strided_same", "dilation_with_stride")


@st.composite
def _undeclared_combination(draw: st.DrawFn, support: OpSupport, op: str, flag: str) -> Setup:
    """A valid configuration (PAD.7, CONV.4-CONV.5) with the combination `flag` excludes."""
    forms = ("same",) if flag == "strided_same" else None
    base_kind = invalid.Kind("undeclared", "ERR.17", lambda draw, s, support: (s, ""), forms=forms)
    base = draw(invalid.base_setup(op, support, base_kind), label="declared")
    p = base.params
    assert isinstance(p, Conv)
    name = invalid.weight_name(base)
    x, w = list(invalid.shape_of(base, "x")), list(invalid.shape_of(base, name))
    axis = draw(st.integers(0, p.rank - 1), label="axis")
    stride = list(p.stride)
    stride[axis] = draw(st.integers(2, 3), label="stride")
    dilation = list(p.dilation)
    if flag == "dilation_with_stride":
        dilated = draw(st.integers(0, p.rank - 1), label="dilated_axis")
        dilation[dilated] = draw(st.integers(2, 3), label="dilation")
    elif not support.dilation_with_stride:
        dilation = [1] * p.rank
    # A kernel that still fits the input: the configuration stays an ordinary valid one.
    for a in range(p.rank):
        x[a + 2] = max(x[a + 2], effective_kernel(w[a + 2], dilation[a]))
    params = replace(p, stride=tuple(stride), dilation=tuple(dilation))
    shapes = {**base.shapes, "x": tuple(x)}
    return draw(strategies.with_numerics(support, op, params, shapes))


def _undeclared_cases() -> list[object]:
    return [
        pytest.param(op, flag, id=f"{op}-{flag}")
        for op in (CONV, DEPTHWISE_CONV, SEPARABLE_CONV)
        for flag in _UNDECLARED
    ]


@pytest.mark.clauses("ERR.17", "ERR.3", "PAD.7", "CONV.4", "CONV.5")
@pytest.mark.parametrize(("op", "flag"), _undeclared_cases())
@given(data=st.data())
def test_documented_unsupported_combination_raises(backend, op, flag, data) -> None:
    """What the adapter leaves out because the framework documents it unsupported: it raises."""
    support = require(backend, op)
    if getattr(support, flag):
        outcomes.unsupported(f"{backend.name} {op} declares {flag}: the other suites compute it")
    if flag == "dilation_with_stride" and not support.dilation:
        outcomes.unsupported(f"{backend.name} {op} declares no dilation")
    setup = data.draw(_undeclared_combination(support, op, flag), label="setup")
    example = data.draw(strategies.operands(setup), label="operands")
    reason = f"{flag}=False: the framework documents this combination as unsupported"
    isolation.expect_documented_rejection(backend, example, reason)


# --- ERR.9: negative zero padding where the backend does not declare it ---------------------


@pytest.mark.clauses("ERR.9", "ERR.3", "PAD.3", "NUM.3", "NUM.5")
@given(data=st.data())
def test_undeclared_negative_padding_raises_or_crops(backend, data) -> None:
    """Documented rejection, or PAD.3's cropping computed correctly: nothing else."""
    support = require(backend, CONV)
    if "negative" in support.padding:
        outcomes.unsupported(f"{backend.name} declares negative padding: the PAD suite tests it")
    if "zeros" not in support.padding_modes or not support.padding & set(invalid.EXPLICIT):
        outcomes.unsupported(f"{backend.name} conv declares no explicit zero padding")
    setup = data.draw(invalid.negative_zero_padding(support), label="setup")
    example = data.draw(strategies.operands(setup), label="operands")
    what = "a valid configuration with negative zero padding (ERR.9)"
    isolation.expect_rejection_or_result(backend, example, "ERR.9", what)


# --- ERR.15: degenerate configurations -----------------------------------------------------


def _degenerate_kinds() -> list[object]:
    return [
        pytest.param(
            op,
            kind.name,
            marks=pytest.mark.clauses("ERR.15", "ERR.3", kind.clause),
            id=f"{op}-{kind.name}",
        )
        for op, kinds in degenerate.KINDS.items()
        for kind in kinds
    ]


@pytest.mark.parametrize(("op", "kind"), _degenerate_kinds())
@given(data=st.data())
def test_degenerate_configuration_raises_or_gives_the_defined_result(
    backend, op, kind, data
) -> None:
    """One size 0: the backend may raise, or return the size clause's shape and the bias."""
    support = require(backend, op)
    reason = degenerate.kind(op, kind).unsupported(op, support)
    if reason is not None:
        outcomes.unsupported(f"{backend.name} {op}: degenerate {kind} is not drawn: {reason}")
    case = data.draw(degenerate.degenerate_setups(support, op, kind), label="degenerate")
    example = invalid.operands(case.setup)
    what = f"a degenerate configuration (ERR.15, {case.clause}: {case.description})"
    isolation.expect_rejection_or_result(backend, example, "ERR.15", what)


# --- ERR.12, ERR.13: valid edge cases -------------------------------------------------------


def _forms_or_skip(support: OpSupport, op: str) -> tuple[str, ...]:
    forms = tuple(f for f in SIZE_FREE_FORMS if f in support.padding)
    if not forms:
        outcomes.unsupported(f"{op} declares no padding form of fixed size {SIZE_FREE_FORMS}")
    return forms


def _axes(draw: st.DrawFn, rank: int) -> list[int]:
    chosen = draw(st.sets(st.integers(0, rank - 1), min_size=1), label="edge_axes")
    return sorted(chosen)


def _mode_minimum(begin: int, end: int, mode: str) -> int:
    """The smallest input length PAD.9/PAD.11 allow for these pads."""
    if mode == "reflect":
        return max(begin, end) + 1
    if mode == "circular":
        return max(begin, end, 1)
    return 1


def _batch_zero(setup: Setup) -> Setup:
    """The same configuration with N = 0 in every batched operand (x, offset, mask)."""
    shapes = {
        name: (0, *shape[1:]) if shape is not None and name in ("x", "offset", "mask") else shape
        for name, shape in setup.shapes.items()
    }
    return replace(setup, shapes=shapes)


@st.composite
def conv_edges(draw: st.DrawFn, support: OpSupport, edge: str) -> Setup:
    """A valid convolution at an edge of ERR.12 along some axes."""
    if edge == "empty_batch":
        return _batch_zero(draw(strategies.conv_setups(support), label="setup"))
    forms = _forms_or_skip(support, CONV)
    base = draw(strategies.conv_setups(support, forms=forms), label="base")
    p = base.params
    assert isinstance(p, Conv)
    x, w = list(base.shapes["x"] or ()), list(base.shapes["w"] or ())
    pads = resolve_padding(p, x[2:], w[2:])
    stride, dilation = list(p.stride), list(p.dilation)
    for axis in _axes(draw, p.rank):
        begin, end = pads[axis]
        low = _mode_minimum(begin, end, p.padding_mode)
        if edge == "stride_beyond_kernel":
            if not support.dilation_with_stride:
                dilation = [1] * p.rank
            k_eff = effective_kernel(w[axis + 2], dilation[axis])
            stride[axis] = max(stride[axis], k_eff + draw(st.integers(1, 2), label="beyond"))
            continue
        if edge == "dilation_spanning_input":
            w[axis + 2] = max(w[axis + 2], 2)
            need = max(low + begin + end - 1, 1)
            d = max(2, -(-need // (w[axis + 2] - 1))) + draw(st.integers(0, 1), label="more")
            dilation[axis] = d
            if not support.dilation_with_stride:
                stride = [1] * p.rank
        else:  # output_size_one: the smallest kernel that covers an allowed input length
            d = dilation[axis]
            w[axis + 2] = 1 + -(-max(low + begin + end - 1, 0) // d)
        x[axis + 2] = effective_kernel(w[axis + 2], dilation[axis]) - begin - end
    params = replace(p, stride=tuple(stride), dilation=tuple(dilation))
    shapes = {**base.shapes, "x": tuple(x), "w": tuple(w)}
    return draw(strategies.with_numerics(support, CONV, params, shapes))


@st.composite
def transposed_edges(draw: st.DrawFn, support: OpSupport, edge: str) -> Setup:
    if edge == "empty_batch":
        return _batch_zero(draw(strategies.transposed_setups(support), label="setup"))
    if edge == "stride_beyond_kernel":
        base = draw(strategies.transposed_setups(support), label="base")
    else:
        forms = tuple(f for f in invalid.EXPLICIT if f in support.padding)
        if not forms:
            outcomes.unsupported("conv_transpose declares no explicit padding")
        base = draw(strategies.transposed_setups(support, forms=forms), label="base")
    p = base.params
    assert isinstance(p, ConvTranspose)
    x, w = list(base.shapes["x"] or ()), list(base.shapes["w"] or ())
    stride, dilation = list(p.stride), list(p.dilation)
    output_padding = list(p.output_padding)
    padding = list(p.padding) if isinstance(p.padding, tuple) else p.padding
    if edge == "stride_beyond_kernel" and not support.dilation_with_stride:
        dilation = [1] * p.rank
    for axis in _axes(draw, p.rank):
        if edge == "stride_beyond_kernel":
            # Only ever larger: TCONV.3's length grows with the stride.
            beyond = effective_kernel(w[axis + 2], dilation[axis]) + draw(
                st.integers(1, 2), label="beyond"
            )
            stride[axis] = max(stride[axis], beyond)
            continue
        # output_size_one: pads that remove all but one position (TCONV.3), where the
        # backend's padding pairs, output_padding rule and parities allow it.
        assert isinstance(padding, list)
        symmetric_only = "asymmetric" not in support.padding
        rule = p.output_padding_rule
        limit = output_padding_limit(stride[axis], dilation[axis], rule)
        extras = range(limit) if support.output_padding_rule else range(1)
        candidates = [
            (n, op, k)
            for n in (1, 2, 3)
            for op in extras
            for k in (w[axis + 2], w[axis + 2] + 1)
            if not symmetric_only
            or ((n - 1) * stride[axis] + effective_kernel(k, dilation[axis]) + op - 1) % 2 == 0
        ]
        n, op, k = draw(st.sampled_from(candidates), label="size_one")
        total = (n - 1) * stride[axis] + effective_kernel(k, dilation[axis]) + op - 1
        begin = total // 2 if symmetric_only else draw(st.integers(0, total), label="pad_begin")
        padding[axis] = (begin, total - begin)
        x[axis + 2], w[axis + 2], output_padding[axis] = n, k, op
    output_padding = [
        min(op, output_padding_limit(s, d, p.output_padding_rule) - 1)
        for op, s, d in zip(output_padding, stride, dilation, strict=True)
    ]
    if isinstance(padding, list):
        # A dilation reset to 1 (dilation_with_stride=False) shortens the kernel: keep L >= 1.
        for a, (begin, end) in enumerate(padding):
            k_eff = effective_kernel(w[a + 2], dilation[a])
            while (x[a + 2] - 1) * stride[a] - begin - end + k_eff + output_padding[a] < 1:
                x[a + 2] += 1
    params = replace(
        p,
        stride=tuple(stride),
        dilation=tuple(dilation),
        padding=tuple(padding) if isinstance(padding, list) else padding,
        output_padding=tuple(output_padding),
    )
    shapes = {**base.shapes, "x": tuple(x), "w": tuple(w)}
    return draw(strategies.with_numerics(support, CONV_TRANSPOSE, params, shapes))


def _check_empty_batch_reference(setup: Setup, example: Example) -> None:
    """The reference itself must give the empty shape of ERR.13 before a backend is asked to."""
    want = oracle.expected_shape(setup.op, setup.shapes, setup.params)
    got = oracle.expect(setup.op, example.arrays, setup.params).values.shape
    assert want[0] == 0 and got == tuple(want), f"reference gives {got} for N = 0, not {want}"


CONV_EDGES = ("empty_batch", "output_size_one", "stride_beyond_kernel", "dilation_spanning_input")


@pytest.mark.clauses("ERR.12", "ERR.13", "ERR.3", "CONV.3", "CONV.10", "NUM.3", "NUM.5")
@pytest.mark.parametrize("edge", CONV_EDGES)
@given(data=st.data())
def test_conv_edge_case(backend, edge, data) -> None:
    support = require(backend, CONV)
    if edge == "dilation_spanning_input":
        support = require(backend, CONV, dilation=True)
    setup = data.draw(conv_edges(support, edge), label="setup")
    example = data.draw(strategies.operands(setup), label="operands")
    if edge == "empty_batch":
        _check_empty_batch_reference(setup, example)
    check_example(isolation.isolated(backend), example, clause="ERR.12", shape_clause="CONV.3")


@pytest.mark.clauses("ERR.12", "ERR.13", "ERR.3", "TCONV.2", "TCONV.3", "NUM.3", "NUM.5")
@pytest.mark.parametrize("edge", ("empty_batch", "output_size_one", "stride_beyond_kernel"))
@given(data=st.data())
def test_conv_transpose_edge_case(backend, edge, data) -> None:
    support = require(backend, CONV_TRANSPOSE)
    setup = data.draw(transposed_edges(support, edge), label="setup")
    example = data.draw(strategies.operands(setup), label="operands")
    if edge == "empty_batch":
        _check_empty_batch_reference(setup, example)
    check_example(isolation.isolated(backend), example, clause="ERR.12", shape_clause="TCONV.3")


@pytest.mark.clauses("ERR.13", "ERR.3", "DEFORM.1", "SHUF.1")
@pytest.mark.parametrize("op", (DEFORM_CONV, CHANNEL_SHUFFLE))
@given(data=st.data())
def test_empty_batch(backend, op, data) -> None:
    support = require(backend, op)
    setups = (
        strategies.deform_setups(support)
        if op == DEFORM_CONV
        else strategies.shuffle_setups(support)
    )
    setup = _batch_zero(data.draw(setups, label="setup"))
    example = data.draw(strategies.operands(setup), label="operands")
    _check_empty_batch_reference(setup, example)
    shape_clause = "DEFORM.3" if op == DEFORM_CONV else "SHUF.1"
    check_example(isolation.isolated(backend), example, clause="ERR.13", shape_clause=shape_clause)
