"""REL: metamorphic relations between calls of one backend, at sizes beyond the scalar loop.

Each test draws a convolution of the dispatch tier (suites/strategies.py, suites/dispatch.py;
spec REL.12), calls the backend several times and checks one identity of
spec/relations.md: exactly in exact mode (REL.3), otherwise within the combined NUM.3 bound
of REL.2. The reference's vectorized oracle computes only magnitude terms, which size the
bound.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.base import CONV, CONV_TRANSPOSE, Adapter, OpSupport
from reference import conv as conv_ref
from reference import transposed
from reference.dilated import dilate_kernel
from reference.numerics import UNIT_ROUNDOFF, error_bound, exact_value_range, gamma
from reference.params import Conv, ConvTranspose
from reference.sizes import conv_output_shape, conv_transpose_output_shape, effective_kernel
from suites import outcomes, values
from suites.draw_orders import COMMON_FORMS
from suites.example import Example, Setup
from suites.oracle import Expectation
from suites.strategies import conv_setups
from suites.support import require
from suites.verdict import call_backend, check_shape, fail, limited

SCALES = (2, -2, 4, -1)  # powers of two (and -1): a*x is exact (REL.4)
U64 = UNIT_ROUNDOFF["float64"]
F64 = np.float64
UNPADDED_FORMS = ("valid", "symmetric", "asymmetric")  # with unpadded=True: no padding
ZEROS = ("zeros",)
Shape = tuple[int, ...]


# --- configurations -----------------------------------------------------------------------


def relation_setups(
    support: OpSupport, *, forms: tuple[str, ...] = COMMON_FORMS, **kw: Any
) -> st.SearchStrategy[Setup]:
    """A valid convolution the backend declares, from the dispatch tier (REL.12), in one of
    `forms`; `kw` as for suites.strategies.conv_setups."""
    if not support.padding & set(forms):
        outcomes.unsupported(f"conv declares none of the padding forms {forms}")
    return conv_setups(support, forms=forms, size_classes=("dispatch",), **kw)


def drawn_conv(setup: Setup) -> tuple[Conv, Shape, Shape, bool]:
    """The drawn convolution's parameters, input and weight shapes, and whether it has a bias."""
    x, w = setup.shapes["x"], setup.shapes["w"]
    assert isinstance(setup.params, Conv) and x is not None and w is not None
    return setup.params, x, w, setup.shapes["b"] is not None


def exact_range(setup: Setup, terms: int) -> int:
    """REL.3: m for integer inputs in [-m, m] when the setup drew exact mode and the
    relation's longest sum allows one, else 0 (bounded)."""
    return exact_value_range(terms, setup.dtype) if setup.exact else 0


def drawn_values(
    data: st.DataObject, dtype: str, m: int
) -> tuple[int, Callable[[Shape], np.ndarray]]:
    """The seed, and the maker of every operand of a relation's calls: one value scheme
    and one seeded generator (suites/values.py), integers in [-m, m] in exact mode, else
    on REL.3's grid."""
    scheme = data.draw(st.sampled_from(values.SCHEMES), label="values")
    seed = data.draw(st.integers(0, values.SEED_MAX), label="seed")
    rng = np.random.default_rng(seed)

    def make(shape: Shape) -> np.ndarray:
        return values.generate(rng, scheme, shape, dtype, m, grid=True)

    return seed, make


def conv_operands(
    data: st.DataObject, setup: Setup, terms: int
) -> tuple[int, Example, np.ndarray, np.ndarray, np.ndarray | None]:
    """The seed, the example and the operands x, w and b of the drawn convolution, in exact
    mode where `setup` drew it and the relation's longest sum `terms` allows (REL.3)."""
    _, xs, ws, bias = drawn_conv(setup)
    m = exact_range(setup, terms)
    seed, make = drawn_values(data, setup.dtype, m)
    x, w = make(xs), make(ws)
    b = make((ws[0],)) if bias else None
    return seed, Example(replace(setup, exact=bool(m)), {"x": x, "w": w, "b": b}), x, w, b


def f64(a: np.ndarray | None) -> np.ndarray | None:
    return None if a is None else np.asarray(a, dtype=F64)


def absolute(a: np.ndarray | None) -> np.ndarray | None:
    return None if a is None else np.abs(np.asarray(a, dtype=F64))


# --- calling the backend --------------------------------------------------------------------


def conv_limited(backend: Adapter, dtype: str, p: Conv, x: Shape, w: Shape, bias: bool) -> bool:
    shapes = {"x": x, "w": w, "b": (w[0],) if bias else None}
    return limited(backend, CONV, p, shapes, dtype)


def run(
    backend: Adapter,
    example: Example,
    clause: str,
    want: tuple[int, ...],
    shape_clause: str,
    call: Callable[[], object],
    runs: Setup | None = None,
) -> np.ndarray | None:
    """One backend call of a relation, in float64; None once a failure was recorded.
    `runs`: the configuration called, where it is not the example's (see call_backend)."""
    got = call_backend(backend, example, clause, call, runs)
    if got is None:
        return None
    check_shape(backend, example, got, want, shape_clause)
    return got.astype(F64) if got.shape == tuple(want) else None


def conv_call(
    backend: Adapter,
    example: Example,
    clause: str,
    x: np.ndarray,
    w: np.ndarray,
    b: np.ndarray | None,
    p: Conv,
) -> np.ndarray | None:
    want = conv_output_shape(x.shape, w.shape, p)
    return run(backend, example, clause, want, "CONV.3", lambda: backend.conv(x, w, b, p))


def compare(
    backend: Adapter,
    example: Example,
    clause: str,
    lhs: np.ndarray,
    rhs: np.ndarray,
    bound: np.ndarray | float,
    relation: str,
) -> None:
    """REL.1: |lhs - rhs| <= bound elementwise (bound 0 in exact mode)."""
    __tracebackhide__ = True
    if not backend.capabilities.values:
        # The calls' shapes were checked where they returned (`run`).
        outcomes.record_shape_only(example.setup.size_class)
        return
    bound = np.broadcast_to(np.asarray(bound, dtype=F64), lhs.shape)
    with np.errstate(invalid="ignore"):
        error = np.abs(lhs - rhs)
        error = np.where(np.isnan(error), np.inf, error)
    over = error > bound
    ratio = np.where(
        bound > 0, error / np.where(bound > 0, bound, 1), np.where(error > 0, np.inf, 0)
    )
    outcomes.record_example(float(ratio.max()) if ratio.size else 0.0, example.setup.size_class)
    if not over.any():
        return
    worst = np.unravel_index(int(np.argmax(np.where(over, ratio, -1))), over.shape)
    mode = "exact mode (REL.3): any difference fails" if example.setup.exact else "bound of REL.2"
    fail(
        clause,
        backend,
        example,
        f"relation: {relation}\n"
        f"values:   {int(over.sum())} of {over.size} elements differ beyond the allowed error "
        f"({mode})\n"
        f"worst:    index {tuple(int(i) for i in worst)}: left {float(lhs[worst])!r}, "
        f"right {float(rhs[worst])!r}, |difference| {error[worst]:.6g}, "
        f"bound {bound[worst]:.6g}, difference/bound {ratio[worst]:.6g}",
    )


# E_n(M) of REL's notation, or 0 in exact mode. The tests call it by this name: Hypothesis
# derives a test's derandomized examples and its database key from the test's source.
bound_of = Expectation.bound_of


def evaluation(exact: bool, *sides: np.ndarray) -> np.ndarray | float:
    """REL.2: float64 rounding of the combination, gamma_K(u64) * sum |c_k y_k|."""
    return 0.0 if exact else gamma(len(sides), U64) * sum(np.abs(s) for s in sides)


# --- REL.4, REL.5: linearity -------------------------------------------------------------------


@pytest.mark.clauses("REL.1", "REL.2", "REL.3", "REL.4", "CONV.2", "NUM.3", "NUM.5")
@given(data=st.data())
def test_linearity_in_input(backend, data) -> None:
    _linearity(backend, data, "x")


@pytest.mark.clauses("REL.1", "REL.2", "REL.3", "REL.5", "CONV.2", "NUM.3", "NUM.5")
@given(data=st.data())
def test_linearity_in_weight(backend, data) -> None:
    _linearity(backend, data, "w")


def _linearity(backend: Adapter, data: st.DataObject, operand: str) -> None:
    """f(a*u1 + u2) = a*f(u1) + f(u2) for u the input (REL.4) or the weight (REL.5)."""
    support = require(backend, CONV)
    setup = data.draw(relation_setups(replace(support, bias=False)), label="setup")
    p, xs, ws, _ = drawn_conv(setup)
    if conv_limited(backend, setup.dtype, p, xs, ws, False):
        return
    a = data.draw(st.sampled_from(SCALES), label="a")
    terms = conv_ref.accumulation_terms(ws, p, False)
    m = exact_range(setup, terms * (abs(a) + 1))
    seed, make = drawn_values(data, setup.dtype, m)
    shape = xs if operand == "x" else ws
    u1, u2 = make(shape), make(shape)
    combined = (a * u1.astype(F64) + u2.astype(F64)).astype(u1.dtype)
    assert np.array_equal(combined.astype(F64), a * u1.astype(F64) + u2.astype(F64)), "REL.3 grid"
    other = make(ws if operand == "x" else xs)
    clause = "REL.4" if operand == "x" else "REL.5"

    def operands(u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return (u, other) if operand == "x" else (other, u)

    example = Example(
        replace(setup, exact=bool(m)),
        dict(zip(("x", "w"), operands(u1), strict=True)) | {"b": None},
    )
    results = []
    for u in (combined, u1, u2):
        y = conv_call(backend, example, clause, *operands(u), None, p)
        if y is None:
            return
        results.append(y)
    y3, y1, y2 = results
    magnitudes = []
    for u in (combined, u1, u2):
        x_abs, w_abs = (np.abs(v.astype(F64)) for v in operands(u))
        magnitudes.append(conv_ref.conv_fast(x_abs, w_abs, None, p))
    exact = bool(m)
    bound = (
        bound_of(magnitudes[0], terms, setup.dtype, exact)
        + abs(a) * bound_of(magnitudes[1], terms, setup.dtype, exact)
        + bound_of(magnitudes[2], terms, setup.dtype, exact)
        + evaluation(exact, y3, a * y1, y2)
    )
    name = "input" if operand == "x" else "weight"
    relation = (
        f"conv(a*{name}_1 + {name}_2) = a*conv({name}_1) + conv({name}_2), a = {a}, seed {seed}"
    )
    compare(backend, example, clause, y3, a * y1 + y2, bound, relation)


# --- REL.6: translation --------------------------------------------------------------------


@pytest.mark.clauses("REL.1", "REL.2", "REL.3", "REL.6", "CONV.2", "CONV.3")
@given(data=st.data())
def test_translation(backend, data) -> None:
    support = require(backend, CONV)
    setup = data.draw(
        relation_setups(support, forms=UNPADDED_FORMS, modes=ZEROS, unpadded=True, min_outputs=2),
        label="setup",
    )
    p, xs, ws, bias = drawn_conv(setup)
    axis = data.draw(st.integers(0, p.rank - 1), label="axis")
    s = p.stride[axis]
    shifted_shape = tuple(n - s if i == axis + 2 else n for i, n in enumerate(xs))
    if conv_limited(backend, setup.dtype, p, xs, ws, bias) or conv_limited(
        backend, setup.dtype, p, shifted_shape, ws, bias
    ):
        return
    terms = conv_ref.accumulation_terms(ws, p, bias)
    seed, example, x, w, b = conv_operands(data, setup, terms)
    cut = tuple(slice(s, None) if i == axis + 2 else slice(None) for i in range(x.ndim))
    x_shifted = np.ascontiguousarray(x[cut])
    full = conv_call(backend, example, "REL.6", x, w, b, p)
    moved = conv_call(backend, example, "REL.6", x_shifted, w, b, p)
    if full is None or moved is None:
        return
    drop = tuple(slice(1, None) if i == axis + 2 else slice(None) for i in range(full.ndim))
    magnitude = conv_ref.conv_fast(absolute(x_shifted), absolute(w), absolute(b), p)  # type: ignore[arg-type]
    exact = example.setup.exact
    bound = 2 * bound_of(magnitude, terms, setup.dtype, exact) + evaluation(
        exact, moved, full[drop]
    )
    relation = f"conv(x[{s}:] along axis {axis}) = conv(x)[1:] along axis {axis}, seed {seed}"
    compare(backend, example, "REL.6", moved, full[drop], bound, relation)


# --- REL.7: groups ---------------------------------------------------------------------------


@pytest.mark.clauses("REL.1", "REL.2", "REL.3", "REL.7", "CONV.6", "GRP.1")
@given(data=st.data())
def test_grouped_is_concatenation_of_groups(backend, data) -> None:
    support = require(backend, CONV, groups=True)
    setup = data.draw(relation_setups(support, modes=ZEROS, grouped=True), label="setup")
    p, xs, ws, bias = drawn_conv(setup)
    g = p.groups
    c_in_g, c_out_g = xs[1] // g, ws[0] // g
    single = replace(p, groups=1)
    x_part, w_part = (xs[0], c_in_g, *xs[2:]), (c_out_g, *ws[1:])
    if conv_limited(backend, setup.dtype, p, xs, ws, bias) or conv_limited(
        backend, setup.dtype, single, x_part, w_part, bias
    ):
        return
    terms = conv_ref.accumulation_terms(ws, p, bias)
    seed, example, x, w, b = conv_operands(data, setup, terms)
    whole = conv_call(backend, example, "REL.7", x, w, b, p)
    if whole is None:
        return
    parts = []
    for i in range(g):
        xi = np.ascontiguousarray(x[:, i * c_in_g : (i + 1) * c_in_g])
        wi = np.ascontiguousarray(w[i * c_out_g : (i + 1) * c_out_g])
        bi = None if b is None else np.ascontiguousarray(b[i * c_out_g : (i + 1) * c_out_g])
        part = conv_call(backend, example, "REL.7", xi, wi, bi, single)
        if part is None:
            return
        parts.append(part)
    joined = np.concatenate(parts, axis=1)
    magnitude = conv_ref.conv_fast(absolute(x), absolute(w), absolute(b), p)  # type: ignore[arg-type]
    exact = example.setup.exact
    bound = 2 * bound_of(magnitude, terms, setup.dtype, exact) + evaluation(exact, whole, joined)
    relation = f"conv(groups={g}) = concat of {g} conv(groups=1) on the channel blocks, seed {seed}"
    compare(backend, example, "REL.7", whole, joined, bound, relation)


# --- REL.8: dilation ------------------------------------------------------------------------


@pytest.mark.clauses("REL.1", "REL.2", "REL.3", "REL.8", "DIL.3")
@given(data=st.data())
def test_dilated_is_zero_inserted_kernel(backend, data) -> None:
    support = require(backend, CONV, dilation=True)
    setup = data.draw(relation_setups(support, modes=ZEROS, dilated=True), label="setup")
    p, xs, ws, bias = drawn_conv(setup)
    plain = replace(p, dilation=(1,) * p.rank)
    wide = (
        *ws[:2],
        *(effective_kernel(k, d) for k, d in zip(ws[2:], p.dilation, strict=True)),
    )
    if conv_limited(backend, setup.dtype, p, xs, ws, bias) or conv_limited(
        backend, setup.dtype, plain, xs, wide, bias
    ):
        return
    terms = conv_ref.accumulation_terms(ws, p, bias)
    terms_wide = conv_ref.accumulation_terms(wide, plain, bias)
    seed, example, x, w, b = conv_operands(data, setup, terms_wide)
    w_wide = dilate_kernel(w, p.dilation)
    dilated = conv_call(backend, example, "REL.8", x, w, b, p)
    inserted = conv_call(backend, example, "REL.8", x, w_wide, b, plain)
    if dilated is None or inserted is None:
        return
    magnitude = conv_ref.conv_fast(absolute(x), absolute(w), absolute(b), p)  # type: ignore[arg-type]
    exact = example.setup.exact
    bound = (
        bound_of(magnitude, terms, setup.dtype, exact)
        + bound_of(magnitude, terms_wide, setup.dtype, exact)
        + evaluation(exact, dilated, inserted)
    )
    relation = f"conv(w, dilation={p.dilation}) = conv(dilate(w), dilation=1), seed {seed}"
    compare(backend, example, "REL.8", dilated, inserted, bound, relation)


# --- REL.9: adjoint ---------------------------------------------------------------------------


@dataclass(frozen=True)
class AdjointCase:
    conv: Conv
    transpose: ConvTranspose
    x: tuple[int, ...]  # the convolution's input, (N, C_in, *L)
    y: tuple[int, ...]  # its output shape, the transposed convolution's input (N, C_out, *n)
    w: tuple[int, ...]  # (C_out, C_in/g, *k)


def adjoint_pair(setup: Setup, rule: str) -> AdjointCase:
    """The transposed convolution whose output shape is the convolution's input (TCONV.12)."""
    p, xs, ws, _ = drawn_conv(setup)
    spatial, kernel = list(xs[2:]), ws[2:]
    extra = [0] * p.rank
    for a in range(p.rank):
        s, k_eff = p.stride[a], effective_kernel(kernel[a], p.dilation[a])
        if p.padding == "valid":
            # TCONV.4 gives L = n*s + max(k_eff - s, 0) for the n that L maps to.
            n = (spatial[a] - k_eff) // s + 1
            spatial[a] = n * s + max(k_eff - s, 0)
        elif p.padding == "same":
            spatial[a] = -(-spatial[a] // s) * s  # TCONV.4: L = n*s
        else:
            begin, end = p.padding[a]
            op = (spatial[a] + begin + end - k_eff) % s
            if not rule and op:
                spatial[a] -= op  # no output_padding argument: a length that needs none
                op = 0
            extra[a] = op
    x = (xs[0], xs[1], *spatial)
    y = conv_output_shape(x, ws, p)
    transpose = ConvTranspose(
        stride=p.stride,
        dilation=p.dilation,
        padding=p.padding,
        output_padding=tuple(extra),
        groups=p.groups,
        output_padding_rule="stride_or_dilation" if rule == "stride_or_dilation" else "stride",
    )
    return AdjointCase(p, transpose, x, y, ws)


@pytest.mark.clauses("REL.1", "REL.2", "REL.3", "REL.9", "TCONV.11", "TCONV.12")
@given(data=st.data())
def test_transposed_is_adjoint_of_conv(backend, data) -> None:
    support = require(backend, CONV)
    t_support = require(backend, CONV_TRANSPOSE)
    shared = support.padding & t_support.padding & set(COMMON_FORMS)
    ranks, dtypes = support.ranks & t_support.ranks, support.dtypes & t_support.dtypes
    if not (shared and ranks and dtypes):
        outcomes.unsupported(
            f"{backend.name}: conv and conv_transpose share no padding form, rank or dtype"
        )
    both = replace(
        support,
        groups=support.groups and t_support.groups,
        dilation=support.dilation and t_support.dilation,
        dilation_with_stride=support.dilation_with_stride and t_support.dilation_with_stride,
        exact=support.exact and t_support.exact,
        padding=frozenset(shared),
        ranks=ranks,
        dtypes=dtypes,
        bias=False,
    )
    setup = data.draw(relation_setups(both, modes=ZEROS), label="setup")
    pair = adjoint_pair(setup, t_support.output_padding_rule)
    if conv_limited(backend, setup.dtype, pair.conv, pair.x, pair.w, False) or limited(
        backend, CONV_TRANSPOSE, pair.transpose, {"x": pair.y, "w": pair.w, "b": None}, setup.dtype
    ):
        return
    terms_a = conv_ref.accumulation_terms(pair.w, pair.conv, False)
    terms_t = transposed.accumulation_terms(pair.w, pair.transpose, False)
    m = exact_range(setup, max(terms_a, terms_t))
    seed, make = drawn_values(data, setup.dtype, m)
    x, y = make(pair.x), make(pair.y)
    w = make(pair.w)
    runs = replace(setup, exact=bool(m), shapes={**setup.shapes, "x": pair.x})
    example = Example(runs, {"x": x, "w": w, "b": None})
    forward = conv_call(backend, example, "REL.9", x, w, None, pair.conv)
    want = conv_transpose_output_shape(y.shape, w.shape, pair.transpose)
    backward = run(
        backend,
        example,
        "REL.9",
        want,
        "TCONV.3",
        lambda: backend.conv_transpose(y, w, None, pair.transpose),
        replace(
            example.setup,
            op=CONV_TRANSPOSE,
            params=pair.transpose,
            shapes={"x": y.shape, "w": w.shape, "b": None},
        ),
    )
    if forward is None or backward is None:
        return
    if backward.shape != x.shape:
        fail(
            "TCONV.12",
            backend,
            example,
            f"shape:    the transposed convolution gives {backward.shape}, "
            f"the convolution's input is {x.shape}",
        )
        return
    x64, y64 = f64(x), f64(y)
    assert x64 is not None and y64 is not None
    left, right = (
        float(np.dot(forward.ravel(), y64.ravel())),
        float(np.dot(x64.ravel(), backward.ravel())),
    )
    dot_left = float(np.dot(np.abs(forward).ravel(), np.abs(y64).ravel()))
    dot_right = float(np.dot(np.abs(x64).ravel(), np.abs(backward).ravel()))
    exact = bool(m)
    bound = gamma(y.size, U64) * dot_left + gamma(x.size, U64) * dot_right + U64 * abs(left - right)
    if exact and max(dot_left, dot_right) <= 2.0**53:
        bound = 0.0  # integer sums below 2^53: float64 adds them exactly
    elif not exact:
        m_a = conv_ref.conv_fast(np.abs(x64), absolute(w), None, pair.conv)  # type: ignore[arg-type]
        m_t = transposed.conv_transpose_fast(np.abs(y64), absolute(w), None, pair.transpose)  # type: ignore[arg-type]
        bound += float(np.sum(error_bound(m_a, terms_a, setup.dtype) * np.abs(y64)))
        bound += float(np.sum(error_bound(m_t, terms_t, setup.dtype) * np.abs(x64)))
    relation = (
        f"<conv(x), y> = <x, conv_transpose(y)> with output_padding "
        f"{pair.transpose.output_padding}, seed {seed}"
    )
    compare(backend, example, "REL.9", np.array([left]), np.array([right]), bound, relation)


# --- REL.10: pointwise ------------------------------------------------------------------------


def pointwise_product(x: np.ndarray, w: np.ndarray, b: np.ndarray | None, p: Conv) -> np.ndarray:
    """REL.10's right side: per-group channel products of every s-th position, in float64."""
    every = tuple(slice(None, None, s) for s in p.stride)
    xs = np.asarray(x, dtype=F64)[(slice(None), slice(None), *every)]
    g = p.groups
    xg = xs.reshape(xs.shape[0], g, xs.shape[1] // g, *xs.shape[2:])
    wg = np.asarray(w, dtype=F64).reshape(g, w.shape[0] // g, w.shape[1])
    y = np.einsum("ngc...,goc->ngo...", xg, wg).reshape(xs.shape[0], w.shape[0], *xs.shape[2:])
    if b is not None:
        y = y + np.asarray(b, dtype=F64).reshape(1, -1, *([1] * p.rank))
    return y


@pytest.mark.clauses("REL.1", "REL.3", "REL.10", "GRP.3", "GRP.4", "NUM.3", "NUM.5")
@given(data=st.data())
def test_pointwise_is_matrix_product(backend, data) -> None:
    support = require(backend, CONV)
    setup = data.draw(
        relation_setups(support, forms=UNPADDED_FORMS, modes=ZEROS, pointwise=True, unpadded=True),
        label="setup",
    )
    p, xs, ws, bias = drawn_conv(setup)
    if conv_limited(backend, setup.dtype, p, xs, ws, bias):
        return
    terms = conv_ref.accumulation_terms(ws, p, bias)
    seed, example, x, w, b = conv_operands(data, setup, terms)
    got = conv_call(backend, example, "REL.10", x, w, b, p)
    if got is None:
        return
    want = pointwise_product(x, w, b, p)
    magnitude = pointwise_product(np.abs(f64(x)), np.abs(f64(w)), absolute(b), p)  # type: ignore[arg-type]
    bound = bound_of(magnitude, terms, setup.dtype, example.setup.exact)
    relation = f"1x1 conv = einsum over channels of every {p.stride}-th position, seed {seed}"
    compare(backend, example, "REL.10", got, want, bound, relation)


# --- REL.11: batch independence ---------------------------------------------------------------


@pytest.mark.clauses("REL.1", "REL.2", "REL.3", "REL.11", "CONV.2")
@given(data=st.data())
def test_batch_independence(backend, data) -> None:
    support = require(backend, CONV)
    setup = data.draw(relation_setups(support, min_batch=2), label="setup")
    p, xs, ws, bias = drawn_conv(setup)
    one = (1, *xs[1:])
    if conv_limited(backend, setup.dtype, p, xs, ws, bias) or conv_limited(
        backend, setup.dtype, p, one, ws, bias
    ):
        return
    terms = conv_ref.accumulation_terms(ws, p, bias)
    seed, example, x, w, b = conv_operands(data, setup, terms)
    batched = conv_call(backend, example, "REL.11", x, w, b, p)
    if batched is None:
        return
    singles = []
    for i in range(x.shape[0]):
        single = conv_call(backend, example, "REL.11", np.ascontiguousarray(x[i : i + 1]), w, b, p)
        if single is None:
            return
        singles.append(single)
    alone = np.concatenate(singles, axis=0)
    magnitude = conv_ref.conv_fast(absolute(x), absolute(w), absolute(b), p)  # type: ignore[arg-type]
    exact = example.setup.exact
    bound = 2 * bound_of(magnitude, terms, setup.dtype, exact) + evaluation(exact, batched, alone)
    relation = f"conv(x)[i] = conv(x[i:i+1])[0] for every i < {x.shape[0]}, seed {seed}"
    compare(backend, example, "REL.11", batched, alone, bound, relation)
