"""Comparing a backend with the spec, and saying so in a bug-report-ready message.

A failure prints, in order: the clause (ID, title, spec file); the backend
(surface, framework version, device); the configuration as a Python literal
and as a one-line descriptor; then what differs: the worst element (index,
got, expected, allowed bound, error/bound ratio) and how many elements exceed
the bound, or both shapes with the size formula filled in.
"""

from __future__ import annotations

import pprint
from collections.abc import Callable
from pathlib import Path

import numpy as np

from adapters.base import Adapter, UnsupportedError
from adapters.subprocess_proxy import BackendCrash, BackendTimeout
from reference.params import Params, as_dict
from spec.clauses import cite
from suites import descriptor, known_issues, oracle, outcomes, repro
from suites.strategies import Example, Setup, Shapes


class Nonconformance(AssertionError):
    """A backend result that the spec does not allow."""

    def __init__(self, clause: str, adapter: Adapter, example: Example, detail: str) -> None:
        self.clause = clause
        self.adapter = adapter
        self.example = example
        self.detail = detail
        # The configuration called, where it is not the example's own (a composite's step),
        # and the repro script written for it: the conformance report lists both.
        self.runs: Setup = example.setup
        self.repro: Path | None = None
        super().__init__(self.render())

    def render(self) -> str:
        setup = self.example.setup
        config = {
            "operation": setup.op,
            **{k: v for k, v in as_dict(setup.params).items() if k != "op"},
            "shapes": setup.shapes,
            "dtype": setup.dtype,
            "mode": "exact" if setup.exact else "bounded",
        }
        return "\n".join(
            [
                "",
                f"clause:   {cite(self.clause)}",
                f"backend:  {self.adapter.describe()}",
                f"config:   {pprint.pformat(config, width=100, sort_dicts=False)}",
                _replay_line(setup),
                self.detail,
            ]
        )


def _replay_line(setup: Setup) -> str:
    encoded = descriptor.encode(setup)
    if setup.op in descriptor.PARAM_TYPES:
        return f"replay:   pytest --config '{encoded}'"
    # Composite blocks have a descriptor but no --config replay (suites/test_replay.py).
    return (
        f"descriptor: {encoded} ({setup.op} is a composite: rerun this test with the "
        "Hypothesis reproduction below; --config replays single operations only)"
    )


def known(adapter: Adapter, setup: Setup, clause: str) -> bool:
    """Whether a known-issue entry covers a failure of `clause` on `setup`; one that does
    is recorded, and the test goes on."""
    issue = known_issues.match(adapter, setup, clause)
    if issue is not None:
        outcomes.record_known(issue)
    return issue is not None


def fail(
    clause: str, adapter: Adapter, example: Example, detail: str, runs: Setup | None = None
) -> None:
    """Raise a Nonconformance unless a known-issue entry covers it (then record it);
    entries are matched against `runs`, the configuration called, where given. Its repro
    script is written when the test ends (suites/repro.py)."""
    __tracebackhide__ = True
    if known(adapter, runs or example.setup, clause):
        return
    error = Nonconformance(clause, adapter, example, detail)
    error.runs = runs or example.setup
    repro.plan(error)
    raise error


def known_crash(adapter: Adapter, setup: Setup) -> bool:
    """Whether a registered crash or hang (ERR.3) covers `setup`; if so it is recorded as
    known and must not be called: it would take the test process down or cost the whole
    time limit. Its pinned example is replayed in a child every run
    (suites/test_known_issues.py), with matching suspended, so a fix is still noticed."""
    return known(adapter, setup, "ERR.3")


def limited(adapter: Adapter, op: str, params: Params, shapes: Shapes, dtype: str) -> bool:
    """Whether the adapter names a documented limit (`Adapter.limitation`) that excludes
    this configuration; one that does is recorded, and the example is not checked."""
    reason = adapter.limitation(op, params, shapes, dtype)
    if reason is not None:
        outcomes.record_limited(reason)
        return True
    return False


def call_backend(
    adapter: Adapter,
    example: Example,
    clause: str,
    call: Callable[[], object],
    runs: Setup | None = None,
) -> np.ndarray | None:
    """Run the backend; a declared operation that raises on a valid configuration fails.

    `runs` is the configuration the call itself runs where it is not the example's own
    (one convolution of a composite block)."""
    __tracebackhide__ = True
    if known_crash(adapter, runs or example.setup):
        return None
    try:
        got = call()
    except NotImplementedError as exc:
        fail(
            "LAYOUT.4",
            adapter,
            example,
            f"the adapter declares {example.setup.op} but raised NotImplementedError({exc})",
            runs,
        )
        return None
    except UnsupportedError as exc:
        # The adapter's own word that this configuration is outside what it declares.
        outcomes.record_limited(str(exc))
        return None
    except (BackendCrash, BackendTimeout) as exc:
        fail(
            "ERR.3",
            adapter,
            example,
            f"the backend process died or hung on a valid configuration: {exc}",
            runs,
        )
        return None
    except Exception as exc:
        fail(
            clause,
            adapter,
            example,
            f"raised {type(exc).__name__} on a valid configuration: {exc}",
            runs,
        )
        return None
    if not isinstance(got, np.ndarray):
        fail("LAYOUT.2", adapter, example, f"returned {type(got).__name__}, not a NumPy array")
        return None
    return got


def check_example(adapter: Adapter, example: Example, *, clause: str, shape_clause: str) -> None:
    """The backend's result for `example` equals the reference within NUM.3 (or exactly, NUM.5)."""
    __tracebackhide__ = True
    setup = example.setup
    rejection = adapter.documented_rejection(setup.op, setup.params, setup.shapes, setup.dtype)
    if rejection is not None:
        from suites import isolation  # it imports this module

        isolation.expect_documented_rejection(adapter, example, rejection)
        return
    if limited(adapter, setup.op, setup.params, setup.shapes, setup.dtype):
        return
    got = call_backend(
        adapter,
        example,
        clause,
        lambda: oracle.run(adapter, setup.op, example.arrays, setup.params),
    )
    if got is None:
        return
    if not adapter.capabilities.values:
        # A surface without values: the size clause alone, and no reference loop to pay for.
        want = oracle.expected_shape(setup.op, setup.shapes, setup.params)
        check_shape(adapter, example, got, want, shape_clause)
        if got.shape == want:
            check_dtype(adapter, example, got)
            outcomes.record_shape_only(setup.size_class)
        return
    expected = oracle.expect(setup.op, example.arrays, setup.params)
    check_result(adapter, example, got, expected, clause=clause, shape_clause=shape_clause)


def check_result(
    adapter: Adapter,
    example: Example,
    got: np.ndarray,
    expected: oracle.Expectation,
    *,
    clause: str,
    shape_clause: str,
) -> None:
    """An array result: its shape (shape_clause), then its dtype (LAYOUT.3) and values."""
    __tracebackhide__ = True
    check_shape(adapter, example, got, expected.values.shape, shape_clause)
    if got.shape == expected.values.shape:
        check_dtype(adapter, example, got)
        check_values(adapter, example, got, expected, clause)


def check_shape(
    adapter: Adapter, example: Example, got: np.ndarray, want: tuple[int, ...], clause: str
) -> None:
    __tracebackhide__ = True
    if got.shape != tuple(want):
        fail(
            clause,
            adapter,
            example,
            f"shape:    got {got.shape}, expected {tuple(want)}\n"
            f"formula:  {descriptor.size_formula(example.setup)}",
        )


def check_dtype(adapter: Adapter, example: Example, got: np.ndarray) -> None:
    __tracebackhide__ = True
    want = example.arrays["x"].dtype  # type: ignore[union-attr]
    if got.dtype != want:
        fail(
            "LAYOUT.3",
            adapter,
            example,
            f"dtype:    got {got.dtype}, expected {want} (the input's)",
        )


def check_values(
    adapter: Adapter, example: Example, got: np.ndarray, expected: oracle.Expectation, clause: str
) -> None:
    __tracebackhide__ = True
    setup = example.setup
    if not adapter.capabilities.values:
        outcomes.record_shape_only(setup.size_class)
        return
    got64 = got.astype(np.float64)
    bound = expected.bound(setup.dtype, setup.exact)
    with np.errstate(invalid="ignore"):
        error = np.abs(got64 - expected.values)
        error = np.where(np.isnan(error), np.inf, error)  # NaN where a number is due
        over = error > bound
    ratio = np.where(
        bound > 0, error / np.where(bound > 0, bound, 1), np.where(error > 0, np.inf, 0)
    )
    worst_ratio = float(ratio.max()) if ratio.size else 0.0
    outcomes.record_example(worst_ratio, setup.size_class)
    if not over.any():
        return
    worst = np.unravel_index(int(np.argmax(np.where(over, ratio, -1))), over.shape)
    mode = (
        "exact mode (NUM.5): any difference fails"
        if setup.exact
        else f"bound NUM.3 in {setup.dtype}"
    )
    detail = (
        f"values:   {int(over.sum())} of {over.size} elements differ beyond the allowed error ({mode})\n"
        f"worst:    index {tuple(int(i) for i in worst)}: got {float(got64[worst])!r}, "
        f"expected {float(expected.values[worst])!r}, |error| {error[worst]:.6g}, "
        f"bound {bound[worst]:.6g}, error/bound {ratio[worst]:.6g}"
    )
    fail(clause, adapter, example, detail)
