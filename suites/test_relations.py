"""REL: metamorphic relations between calls of one backend, at sizes beyond the scalar loop.

Each test draws a configuration larger than suites.strategies does (spec REL.12), calls
the backend several times and checks one identity of spec/relations.md: exactly in exact
mode (REL.3), otherwise within the combined NUM.3 bound of REL.2. The reference's
vectorized oracle computes only magnitude terms, which size the bound.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.base import CONV, CONV_TRANSPOSE, Adapter, OpSupport
from reference import conv as conv_ref
from reference import transposed
from reference.dilated import dilate_kernel
from reference.numerics import (
    PRECISION,
    UNIT_ROUNDOFF,
    error_bound,
    exact_value_range,
    gamma,
    numpy_dtype,
)
from reference.params import Conv, ConvTranspose, Pairs
from reference.sizes import conv_output_shape, conv_transpose_output_shape, effective_kernel
from suites import outcomes
from suites.oracle import Expectation
from suites.strategies import Example, Setup
from suites.support import require
from suites.verdict import call_backend, check_shape, fail, limited

SIZES = {1: (16, 48), 2: (12, 24), 3: (6, 10)}
MAX_KERNEL = {1: 5, 2: 3, 3: 3}
MAX_CHANNELS = 16
MAX_BATCH = 3
SCALES = (2, -2, 4, -1)  # powers of two (and -1): a*x is exact (REL.4)
U64 = UNIT_ROUNDOFF["float64"]
DTYPE_ORDER = ("float32", "float64", "float16", "bfloat16")
F64 = np.float64


# --- configurations -----------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """A drawn convolution: parameters, operand shapes, dtype and the seed of its values."""

    params: Conv
    x: tuple[int, ...]
    w: tuple[int, ...]
    bias: bool
    dtype: str
    seed: int

    def setup(self, exact: bool, x: tuple[int, ...] | None = None) -> Setup:
        shapes = {"x": x or self.x, "w": self.w, "b": (self.w[0],) if self.bias else None}
        return Setup(CONV, self.params, shapes, self.dtype, exact)


def _declared(values: frozenset[str], order: tuple[str, ...]) -> list[str]:
    return [v for v in order if v in values]


@st.composite
def conv_cases(
    draw: st.DrawFn,
    support: OpSupport,
    *,
    forms: tuple[str, ...] = ("symmetric", "asymmetric", "valid", "same"),
    modes: bool = False,
    bias: bool = True,
    grouped: bool = False,
    dilated: bool = False,
    pointwise: bool = False,
    unpadded: bool = False,
    min_batch: int = 1,
    ranks: frozenset[int] | None = None,
    dtypes: frozenset[str] | None = None,
    extra_size: int = 0,
) -> Case:
    """A valid convolution the backend declares, of REL.12's sizes.

    unpadded: 'valid', or explicit (0, 0) pairs where 'valid' is not declared.
    extra_size: input positions beyond what CONV.3 needs (for REL.6's shift).
    """
    rank = draw(st.sampled_from(sorted(ranks or support.ranks)), label="rank")
    dtype = draw(st.sampled_from(_declared(dtypes or support.dtypes, DTYPE_ORDER)), label="dtype")
    options = _declared(
        support.padding,
        tuple(f for f in ("symmetric", "asymmetric", "valid", "same") if f in forms),
    )
    if not options:
        outcomes.unsupported(f"conv declares none of the padding forms {forms}")
    form = draw(st.sampled_from(options), label="padding_form")
    mode_options = ["zeros"]
    if modes and form != "valid":
        mode_options = _declared(
            support.padding_modes, ("zeros", "reflect", "replicate", "circular")
        )
    mode = draw(st.sampled_from(mode_options), label="padding_mode")
    groups = draw(st.integers(2 if grouped else 1, 4), label="groups") if support.groups else 1
    c_in = groups * draw(st.integers(1, MAX_CHANNELS // groups), label="in_per_group")
    c_out = groups * draw(st.integers(1, MAX_CHANNELS // groups), label="out_per_group")
    may_stride = form != "same" or support.strided_same
    stride = [
        draw(st.integers(1, 2), label=f"stride[{a}]") if may_stride else 1 for a in range(rank)
    ]
    dilation = [1] * rank
    if support.dilation and not pointwise:
        low = 2 if dilated else 1
        dilation = [draw(st.integers(low, 3), label=f"dilation[{a}]") for a in range(rank)]
        if max(dilation) > 1 and not support.dilation_with_stride:
            stride = [1] * rank
    kernel = [
        1 if pointwise else draw(st.integers(1, MAX_KERNEL[rank]), label=f"kernel[{a}]")
        for a in range(rank)
    ]
    pads: list[tuple[int, int]] = []
    for a in range(rank):
        if unpadded or form in ("valid", "same"):
            pads.append((0, 0))
        elif form == "symmetric":
            p = draw(st.integers(0, 2), label=f"pad[{a}]")
            pads.append((p, p))
        else:
            pads.append(
                (
                    draw(st.integers(0, 3), label=f"pad_begin[{a}]"),
                    draw(st.integers(0, 3), label=f"pad_end[{a}]"),
                )
            )
    low, high = SIZES[rank]
    size = []
    for a in range(rank):
        k_eff = effective_kernel(kernel[a], dilation[a])
        # CONV.3 and the mode limits (PAD.9, PAD.11) with room to spare ('same' pads < k_eff).
        need = max(low, k_eff + extra_size, max(pads[a]) + 1, k_eff)
        size.append(draw(st.integers(need, max(need, high)), label=f"size[{a}]"))
    padding: Pairs | str = "same" if form == "same" else "valid" if form == "valid" else tuple(pads)
    params = Conv(
        stride=tuple(stride),
        dilation=tuple(dilation),
        padding=padding,  # type: ignore[arg-type]
        groups=groups,
        padding_mode=mode,  # type: ignore[arg-type]
    )
    batch = draw(st.integers(min_batch, MAX_BATCH), label="batch")
    with_bias = bias and support.bias and draw(st.booleans(), label="bias")
    seed = draw(st.integers(0, 2**32 - 1), label="seed")
    x = (batch, c_in, *size)
    w = (c_out, c_in // groups, *kernel)
    return Case(params, x, w, with_bias, dtype, seed)


def exact_range(data: st.DataObject, support: OpSupport, dtype: str, terms: int) -> int:
    """REL.3: m for integer inputs in [-m, m] when exact mode is drawn, else 0 (bounded)."""
    m = exact_value_range(terms, dtype) if support.exact else 0
    return m if m and data.draw(st.booleans(), label="exact") else 0


def values(rng: np.random.Generator, shape: tuple[int, ...], dtype: str, m: int) -> np.ndarray:
    """Integers in [-m, m] (exact mode), else multiples of 2^-(p-4) in [-2, 2] (REL.3)."""
    if m:
        drawn = rng.integers(-m, m + 1, size=shape).astype(F64)
    else:
        p = PRECISION[dtype]
        drawn = rng.integers(-(2 ** (p - 3)), 2 ** (p - 3) + 1, size=shape).astype(F64)
        drawn = drawn / 2.0 ** (p - 4)
    return drawn.astype(numpy_dtype(dtype))


def f64(a: np.ndarray | None) -> np.ndarray | None:
    return None if a is None else np.asarray(a, dtype=F64)


def absolute(a: np.ndarray | None) -> np.ndarray | None:
    return None if a is None else np.abs(np.asarray(a, dtype=F64))


# --- calling the backend --------------------------------------------------------------------


def conv_limited(backend: Adapter, case: Case, p: Conv, x: tuple, w: tuple, bias: bool) -> bool:
    shapes = {"x": x, "w": w, "b": (w[0],) if bias else None}
    return limited(backend, CONV, p, shapes, case.dtype)


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
    case = data.draw(conv_cases(support, modes=True, bias=False), label="case")
    p = case.params
    if conv_limited(backend, case, p, case.x, case.w, False):
        return
    a = data.draw(st.sampled_from(SCALES), label="a")
    terms = conv_ref.accumulation_terms(case.w, p, False)
    m = exact_range(data, support, case.dtype, terms * (abs(a) + 1))
    rng = np.random.default_rng(case.seed)
    shape = case.x if operand == "x" else case.w
    u1, u2 = values(rng, shape, case.dtype, m), values(rng, shape, case.dtype, m)
    combined = (a * u1.astype(F64) + u2.astype(F64)).astype(u1.dtype)
    assert np.array_equal(combined.astype(F64), a * u1.astype(F64) + u2.astype(F64)), "REL.3 grid"
    other = values(rng, case.w if operand == "x" else case.x, case.dtype, m)
    clause = "REL.4" if operand == "x" else "REL.5"

    def operands(u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return (u, other) if operand == "x" else (other, u)

    example = Example(
        case.setup(bool(m)), dict(zip(("x", "w"), operands(u1), strict=True)) | {"b": None}
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
        bound_of(magnitudes[0], terms, case.dtype, exact)
        + abs(a) * bound_of(magnitudes[1], terms, case.dtype, exact)
        + bound_of(magnitudes[2], terms, case.dtype, exact)
        + evaluation(exact, y3, a * y1, y2)
    )
    name = "input" if operand == "x" else "weight"
    relation = (
        f"conv(a*{name}_1 + {name}_2) = a*conv({name}_1) + conv({name}_2), a = {a}, "
        f"seed {case.seed}"
    )
    compare(backend, example, clause, y3, a * y1 + y2, bound, relation)


# --- REL.6: translation --------------------------------------------------------------------


@pytest.mark.clauses("REL.1", "REL.2", "REL.3", "REL.6", "CONV.2", "CONV.3")
@given(data=st.data())
def test_translation(backend, data) -> None:
    support = require(backend, CONV)
    case = data.draw(
        conv_cases(
            support, forms=("valid", "symmetric", "asymmetric"), unpadded=True, extra_size=2
        ),
        label="case",
    )
    p = case.params
    axis = data.draw(st.integers(0, p.rank - 1), label="axis")
    s = p.stride[axis]
    shifted_shape = tuple(n - s if i == axis + 2 else n for i, n in enumerate(case.x))
    if conv_limited(backend, case, p, case.x, case.w, case.bias) or conv_limited(
        backend, case, p, shifted_shape, case.w, case.bias
    ):
        return
    terms = conv_ref.accumulation_terms(case.w, p, case.bias)
    m = exact_range(data, support, case.dtype, terms)
    rng = np.random.default_rng(case.seed)
    x, w = values(rng, case.x, case.dtype, m), values(rng, case.w, case.dtype, m)
    b = values(rng, (case.w[0],), case.dtype, m) if case.bias else None
    cut = tuple(slice(s, None) if i == axis + 2 else slice(None) for i in range(x.ndim))
    x_shifted = np.ascontiguousarray(x[cut])
    example = Example(case.setup(bool(m)), {"x": x, "w": w, "b": b})
    full = conv_call(backend, example, "REL.6", x, w, b, p)
    moved = conv_call(backend, example, "REL.6", x_shifted, w, b, p)
    if full is None or moved is None:
        return
    drop = tuple(slice(1, None) if i == axis + 2 else slice(None) for i in range(full.ndim))
    magnitude = conv_ref.conv_fast(absolute(x_shifted), absolute(w), absolute(b), p)  # type: ignore[arg-type]
    exact = bool(m)
    bound = 2 * bound_of(magnitude, terms, case.dtype, exact) + evaluation(exact, moved, full[drop])
    relation = f"conv(x[{s}:] along axis {axis}) = conv(x)[1:] along axis {axis}, seed {case.seed}"
    compare(backend, example, "REL.6", moved, full[drop], bound, relation)


# --- REL.7: groups ---------------------------------------------------------------------------


@pytest.mark.clauses("REL.1", "REL.2", "REL.3", "REL.7", "CONV.6", "GRP.1")
@given(data=st.data())
def test_grouped_is_concatenation_of_groups(backend, data) -> None:
    support = require(backend, CONV, groups=True)
    case = data.draw(conv_cases(support, grouped=True), label="case")
    p = case.params
    g = p.groups
    c_in_g, c_out_g = case.x[1] // g, case.w[0] // g
    single = replace(p, groups=1)
    x_part, w_part = (case.x[0], c_in_g, *case.x[2:]), (c_out_g, *case.w[1:])
    if conv_limited(backend, case, p, case.x, case.w, case.bias) or conv_limited(
        backend, case, single, x_part, w_part, case.bias
    ):
        return
    terms = conv_ref.accumulation_terms(case.w, p, case.bias)
    m = exact_range(data, support, case.dtype, terms)
    rng = np.random.default_rng(case.seed)
    x, w = values(rng, case.x, case.dtype, m), values(rng, case.w, case.dtype, m)
    b = values(rng, (case.w[0],), case.dtype, m) if case.bias else None
    example = Example(case.setup(bool(m)), {"x": x, "w": w, "b": b})
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
    exact = bool(m)
    bound = 2 * bound_of(magnitude, terms, case.dtype, exact) + evaluation(exact, whole, joined)
    relation = (
        f"conv(groups={g}) = concat of {g} conv(groups=1) on the channel blocks, seed {case.seed}"
    )
    compare(backend, example, "REL.7", whole, joined, bound, relation)


# --- REL.8: dilation ------------------------------------------------------------------------


@pytest.mark.clauses("REL.1", "REL.2", "REL.3", "REL.8", "DIL.3")
@given(data=st.data())
def test_dilated_is_zero_inserted_kernel(backend, data) -> None:
    support = require(backend, CONV, dilation=True)
    case = data.draw(conv_cases(support, dilated=True), label="case")
    p = case.params
    plain = replace(p, dilation=(1,) * p.rank)
    wide = (
        *case.w[:2],
        *(effective_kernel(k, d) for k, d in zip(case.w[2:], p.dilation, strict=True)),
    )
    if conv_limited(backend, case, p, case.x, case.w, case.bias) or conv_limited(
        backend, case, plain, case.x, wide, case.bias
    ):
        return
    terms = conv_ref.accumulation_terms(case.w, p, case.bias)
    terms_wide = conv_ref.accumulation_terms(wide, plain, case.bias)
    m = exact_range(data, support, case.dtype, terms_wide)
    rng = np.random.default_rng(case.seed)
    x, w = values(rng, case.x, case.dtype, m), values(rng, case.w, case.dtype, m)
    b = values(rng, (case.w[0],), case.dtype, m) if case.bias else None
    w_wide = dilate_kernel(w, p.dilation)
    example = Example(case.setup(bool(m)), {"x": x, "w": w, "b": b})
    dilated = conv_call(backend, example, "REL.8", x, w, b, p)
    inserted = conv_call(backend, example, "REL.8", x, w_wide, b, plain)
    if dilated is None or inserted is None:
        return
    magnitude = conv_ref.conv_fast(absolute(x), absolute(w), absolute(b), p)  # type: ignore[arg-type]
    exact = bool(m)
    bound = (
        bound_of(magnitude, terms, case.dtype, exact)
        + bound_of(magnitude, terms_wide, case.dtype, exact)
        + evaluation(exact, dilated, inserted)
    )
    relation = f"conv(w, dilation={p.dilation}) = conv(dilate(w), dilation=1), seed {case.seed}"
    compare(backend, example, "REL.8", dilated, inserted, bound, relation)


# --- REL.9: adjoint ---------------------------------------------------------------------------


@dataclass(frozen=True)
class AdjointCase:
    conv: Conv
    transpose: ConvTranspose
    x: tuple[int, ...]  # the convolution's input, (N, C_in, *L)
    y: tuple[int, ...]  # its output shape, the transposed convolution's input (N, C_out, *n)
    w: tuple[int, ...]  # (C_out, C_in/g, *k)


def adjoint_pair(case: Case, rule: str) -> AdjointCase:
    """The transposed convolution whose output shape is the convolution's input (TCONV.12)."""
    p = case.params
    spatial, kernel = list(case.x[2:]), case.w[2:]
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
    x = (case.x[0], case.x[1], *spatial)
    y = conv_output_shape(x, case.w, p)
    transpose = ConvTranspose(
        stride=p.stride,
        dilation=p.dilation,
        padding=p.padding,
        output_padding=tuple(extra),
        groups=p.groups,
        output_padding_rule="stride_or_dilation" if rule == "stride_or_dilation" else "stride",
    )
    return AdjointCase(p, transpose, x, y, case.w)


@pytest.mark.clauses("REL.1", "REL.2", "REL.3", "REL.9", "TCONV.11", "TCONV.12")
@given(data=st.data())
def test_transposed_is_adjoint_of_conv(backend, data) -> None:
    support = require(backend, CONV)
    t_support = require(backend, CONV_TRANSPOSE)
    shared = support.padding & t_support.padding & {"symmetric", "asymmetric", "valid", "same"}
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
    )
    case = data.draw(conv_cases(both, bias=False, ranks=ranks, dtypes=dtypes), label="case")
    pair = adjoint_pair(case, t_support.output_padding_rule)
    if conv_limited(backend, case, pair.conv, pair.x, pair.w, False) or limited(
        backend, CONV_TRANSPOSE, pair.transpose, {"x": pair.y, "w": pair.w, "b": None}, case.dtype
    ):
        return
    terms_a = conv_ref.accumulation_terms(pair.w, pair.conv, False)
    terms_t = transposed.accumulation_terms(pair.w, pair.transpose, False)
    m = exact_range(data, both, case.dtype, max(terms_a, terms_t))
    rng = np.random.default_rng(case.seed)
    x, y = values(rng, pair.x, case.dtype, m), values(rng, pair.y, case.dtype, m)
    w = values(rng, pair.w, case.dtype, m)
    example = Example(case.setup(bool(m), x=pair.x), {"x": x, "w": w, "b": None})
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
        bound += float(np.sum(error_bound(m_a, terms_a, case.dtype) * np.abs(y64)))
        bound += float(np.sum(error_bound(m_t, terms_t, case.dtype) * np.abs(x64)))
    relation = (
        f"<conv(x), y> = <x, conv_transpose(y)> with output_padding "
        f"{pair.transpose.output_padding}, seed {case.seed}"
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
    case = data.draw(
        conv_cases(
            support, forms=("valid", "symmetric", "asymmetric"), pointwise=True, unpadded=True
        ),
        label="case",
    )
    p = case.params
    if conv_limited(backend, case, p, case.x, case.w, case.bias):
        return
    terms = conv_ref.accumulation_terms(case.w, p, case.bias)
    m = exact_range(data, support, case.dtype, terms)
    rng = np.random.default_rng(case.seed)
    x, w = values(rng, case.x, case.dtype, m), values(rng, case.w, case.dtype, m)
    b = values(rng, (case.w[0],), case.dtype, m) if case.bias else None
    example = Example(case.setup(bool(m)), {"x": x, "w": w, "b": b})
    got = conv_call(backend, example, "REL.10", x, w, b, p)
    if got is None:
        return
    want = pointwise_product(x, w, b, p)
    magnitude = pointwise_product(np.abs(f64(x)), np.abs(f64(w)), absolute(b), p)  # type: ignore[arg-type]
    bound = bound_of(magnitude, terms, case.dtype, bool(m))
    relation = f"1x1 conv = einsum over channels of every {p.stride}-th position, seed {case.seed}"
    compare(backend, example, "REL.10", got, want, bound, relation)


# --- REL.11: batch independence ---------------------------------------------------------------


@pytest.mark.clauses("REL.1", "REL.2", "REL.3", "REL.11", "CONV.2")
@given(data=st.data())
def test_batch_independence(backend, data) -> None:
    support = require(backend, CONV)
    case = data.draw(conv_cases(support, modes=True, min_batch=2), label="case")
    p = case.params
    one = (1, *case.x[1:])
    if conv_limited(backend, case, p, case.x, case.w, case.bias) or conv_limited(
        backend, case, p, one, case.w, case.bias
    ):
        return
    terms = conv_ref.accumulation_terms(case.w, p, case.bias)
    m = exact_range(data, support, case.dtype, terms)
    rng = np.random.default_rng(case.seed)
    x, w = values(rng, case.x, case.dtype, m), values(rng, case.w, case.dtype, m)
    b = values(rng, (case.w[0],), case.dtype, m) if case.bias else None
    example = Example(case.setup(bool(m)), {"x": x, "w": w, "b": b})
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
    exact = bool(m)
    bound = 2 * bound_of(magnitude, terms, case.dtype, exact) + evaluation(exact, batched, alone)
    relation = f"conv(x)[i] = conv(x[i:i+1])[0] for every i < {x.shape[0]}, seed {case.seed}"
    compare(backend, example, "REL.11", batched, alone, bound, relation)
