"""A framework's own counters against the cost model (spec COST): parameters and FLOPs.

The counts depend on the shapes and parameters alone, so a check needs no operands: it
asks the adapter (Adapter.parameter_count, Adapter.flop_count), computes the spec's count
with reference/cost.py under the framework's convention (COST.18), and fails citing the
clause of the count that differs. Known-issue entries replay through `replay`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from adapters.base import (
    ACNET_BLOCK,
    CONV,
    CONV_TRANSPOSE,
    DEFORM_CONV,
    DEPTHWISE_CONV,
    DEPTHWISE_SEPARABLE,
    SEPARABLE_CONV,
    Adapter,
    UnsupportedError,
)
from reference import cost
from reference.sizes import conv_output_shape
from suites import outcomes
from suites.example import Example, Setup
from suites.verdict import fail

# The clause a failure cites, one per kind of count, so that a known-issue entry for one
# kind never covers another; the formula's own clause is named in the message.
PARAMETERS = "COST.1"
FORWARD_FLOPS = {"dense": "COST.3", "in_bounds": "COST.19"}  # by Capabilities.flop_convention
GRADIENT_FLOPS = {"x": "COST.16", "w": "COST.17", "b": "COST.17"}


@dataclass(frozen=True)
class Count:
    value: int
    clause: str  # the clause whose formula gives it
    formula: str  # that formula with the configuration's numbers filled in


def _terms(*factors: int) -> str:
    return " * ".join(str(f) for f in factors)


def expected_parameters(setup: Setup) -> Count:
    """The spec's parameter count of the layer (or block) that `setup` describes."""
    op, p, s = setup.op, setup.params, setup.shapes
    x = s["x"]
    assert x is not None
    bias = s.get("b") is not None
    groups = getattr(p, "groups", 1)
    if op in (CONV, DEFORM_CONV, DEPTHWISE_CONV):
        w = s["w"]
        assert w is not None
        value = cost.conv_params(x[1], w[0], w[2:], groups=groups, bias=bias)
        clause = {CONV: "COST.4", DEFORM_CONV: "COST.12", DEPTHWISE_CONV: "COST.5"}[op]
        formula = _terms(w[0], w[1], *w[2:]) + (f" + {w[0]}" if bias else "")
        return Count(value, clause, formula)
    if op == CONV_TRANSPOSE:
        w = s["w"]
        assert w is not None
        c_out = w[1] * groups
        value = cost.conv_transpose_params(x[1], c_out, w[2:], groups=groups, bias=bias)
        formula = _terms(w[0], w[1], *w[2:]) + (f" + {c_out}" if bias else "")
        return Count(value, "COST.11", formula)
    if op in (SEPARABLE_CONV, DEPTHWISE_SEPARABLE):
        depth, point = s["w_depth"], s["w_point"]
        assert depth is not None and point is not None
        # The drawn block's only bias is the pointwise step's (SEP.1, as Keras has it).
        value = cost.depthwise_separable_params(
            x[1], point[0], depth[2:], depth[0] // x[1], bias_depth=False, bias_point=bias
        )
        formula = f"{_terms(*depth)} + {_terms(point[0], point[1])}" + (
            f" + {point[0]}" if bias else ""
        )
        return Count(value, "COST.7", formula)
    if op == ACNET_BLOCK:
        square = s["square"]
        assert square is not None
        c_out, k = square[0], square[2]
        value = cost.acnet_params(x[1], c_out, k, groups=groups)
        formula = f"{_terms(c_out, square[1])} * ({k}^2 + 2*{k}) + 3 * 2 * {c_out}"
        return Count(value, "COST.15", formula)
    raise KeyError(f"COST gives no parameter count of {op}")


def forward_macs(setup: Setup) -> Count:
    """The spec's MACs of one forward call of `setup` (COST.4 or COST.11)."""
    p, s = setup.params, setup.shapes
    x, w = s["x"], s["w"]
    assert x is not None and w is not None
    groups = getattr(p, "groups", 1)
    if setup.op == CONV:
        out = conv_output_shape(x, w, p)  # type: ignore[arg-type]
        value = cost.conv_macs(x[1], w[0], w[2:], out[2:], groups=groups, batch=x[0])
        formula = f"N*C_out*F*(C_in/g)*K = {_terms(x[0], w[0], math.prod(out[2:]), *w[1:])}"
        return Count(value, "COST.4", formula)
    if setup.op == CONV_TRANSPOSE:
        c_out = w[1] * groups
        value = cost.conv_transpose_macs(x[1], c_out, w[2:], x[2:], groups=groups, batch=x[0])
        formula = f"N*C_in*F_in*(C_out/g)*K = {_terms(x[0], x[1], math.prod(x[2:]), *w[1:])}"
        return Count(value, "COST.11", formula)
    raise KeyError(f"COST.18 names no FLOP counter convention for {setup.op}")


def in_bounds_macs(setup: Setup) -> Count:
    """COST.19: the forward products with an input element that land in the output."""
    p, x, w = setup.params, setup.shapes["x"], setup.shapes["w"]
    assert x is not None and w is not None
    if setup.op == CONV:
        value = cost.conv_macs_in_bounds(x, w, p)  # type: ignore[arg-type]
    elif setup.op == CONV_TRANSPOSE:
        value = cost.conv_transpose_macs_in_bounds(x, w, p)  # type: ignore[arg-type]
    else:
        raise KeyError(f"COST.19 gives no count of {setup.op}")
    dense = forward_macs(setup)
    formula = (
        f"N*C_out*(C_in/g)*P_1*...*P_r = {value}, P the (position, tap) pairs of an axis "
        f"within the input and the output (all products, {dense.clause}: {dense.value})"
    )
    return Count(value, "COST.19", formula)


def _asked(
    adapter: Adapter, example: Example, clause: str, what: str, call: Callable[[], int | None]
) -> int | None:
    """The counter's answer; a surface's documented limit is recorded, anything else fails."""
    try:
        got = call()
    except UnsupportedError as exc:
        outcomes.record_limited(str(exc))
        return None
    except Exception as exc:
        fail(clause, adapter, example, f"count:    {what} raised {type(exc).__name__}: {exc}")
        return None
    if got is None:
        fail(
            "COST.18",
            adapter,
            example,
            f"count:    {adapter.name} declares {what} for {example.setup.op} and returned None",
        )
    return got


def _compare(
    adapter: Adapter, example: Example, clause: str, what: str, got: int, want: int, why: str
) -> None:
    if got == want:
        outcomes.record_example(0.0, example.setup.size_class)
        return
    fail(
        clause,
        adapter,
        example,
        f"count:    {what}: got {got}, expected {want} ({got / want if want else float('inf'):.4g}x)\n"
        f"formula:  {why}",
    )


def check_parameters(adapter: Adapter, setup: Setup) -> None:
    """The framework's parameter count of the layer equals COST's."""
    example = Example(setup, {})
    what = "the parameter count"
    got = _asked(
        adapter,
        example,
        PARAMETERS,
        what,
        lambda: adapter.parameter_count(setup.op, setup.params, setup.shapes),
    )
    if got is None:
        return
    want = expected_parameters(setup)
    why = f"{want.clause}: {want.formula} (conventions: COST.18)"
    _compare(adapter, example, PARAMETERS, what, got, want.value, why)


def check_flops(adapter: Adapter, setup: Setup, wrt: str | None = None) -> None:
    """The framework's FLOPs of the forward call (wrt None), or of the backward pass that
    computes the gradient with respect to the operand `wrt`, equal 2 * COST's MACs, counted
    as the surface's convention says (Capabilities.flop_convention)."""
    example = Example(setup, {})
    asked: tuple[str, ...] = ()
    convention = adapter.capabilities.flop_convention
    if wrt is None:
        clause, what = FORWARD_FLOPS[convention], "FLOPs of the forward call"
        macs = in_bounds_macs(setup) if convention == "in_bounds" else forward_macs(setup)
        want = cost.flops(macs.value)
        why = f"2 * MACs ({clause}, COST.18), MACs of {macs.clause}: {macs.formula}"
    else:
        if convention != "dense":
            raise KeyError(f"COST names no gradient count under the {convention!r} convention")
        macs = forward_macs(setup)
        clause, what, asked = GRADIENT_FLOPS[wrt], f"FLOPs of the gradient w.r.t. {wrt}", (wrt,)
        want = cost.flops(cost.gradient_macs(macs.value, wrt))
        why = (
            f"2 * {'0 (no products)' if wrt == 'b' else 'the forward MACs'} ({clause}, "
            f"COST.18), forward MACs of {macs.clause}: {macs.formula}"
        )
    got = _asked(
        adapter,
        example,
        clause,
        what,
        lambda: adapter.flop_count(setup.op, setup.params, setup.shapes, asked),
    )
    if got is not None:
        _compare(adapter, example, clause, what, got, want, why)


def replay(adapter: Adapter, setup: Setup, clause: str) -> None:
    """The checks that cite `clause`, on a fixed configuration (a known issue's example)."""
    if clause == PARAMETERS:
        check_parameters(adapter, setup)
    elif clause in FORWARD_FLOPS.values():
        check_flops(adapter, setup)
    else:
        for wrt, cited in GRADIENT_FLOPS.items():
            if cited == clause and setup.shapes.get(wrt) is not None:
                check_flops(adapter, setup, wrt)
