"""Every known-issue entry still reproduces where it applies (adapters/known_issues/*.toml).

Each entry pins an example descriptor. It is replayed on every selected
surface the entry names, with known-issue matching switched off: it must
still fail with the entry's clause, or the entry is stale (fixed upstream)
and this test says so, so that it can be removed. The entry's predicate must
also hold for its own example.
"""

from __future__ import annotations

import numpy as np
import pytest

from adapters.base import Adapter
from reference.checks import SpecError
from suites import descriptor, fixed, invalid, isolation, known_issues, oracle, outcomes, strategies
from suites.strategies import Setup
from suites.support import unsupported_reason
from suites.verdict import Nonconformance, check_example

ENTRIES = {issue.id: issue for issue in known_issues.registry()}


def replay(backend: Adapter, setup: Setup, issue: known_issues.KnownIssue) -> None:
    """Run the pinned example as its suite would: an invalid configuration through the
    error-behaviour check (ERR), a valid one through the value and shape check."""
    try:
        oracle.expect(setup.op, {k: None if v is None else np.zeros(v) for k, v in setup.shapes.items()}, setup.params)
    except SpecError:
        isolation.expect_rejection(backend, invalid.operands(setup), issue.clause, f"pinned example of {issue.id}")
        return
    example = strategies.seeded_operands(setup, fixed.seed_of(issue.example))
    check_example(backend, example, clause=issue.clause, shape_clause=issue.clause)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "issue_id" in metafunc.fixturenames:
        metafunc.parametrize("issue_id", sorted(ENTRIES))


@pytest.mark.clauses("LAYOUT.4")
def test_known_issue_still_reproduces(backend, issue_id: str) -> None:  # noqa: ANN001
    issue = ENTRIES[issue_id]
    if backend.framework != issue.framework or not issue.applies_to(backend.name):
        pytest.skip(f"{issue_id} concerns {issue.framework} {list(issue.surfaces)}, not {backend.name}")
    setup = descriptor.decode(issue.example)
    assert known_issues.triggers(issue, setup), (
        f"{issue_id}: its `when` predicate {issue.when!r} does not hold for its own example"
    )
    reason = unsupported_reason(backend, setup)
    if reason is not None:
        outcomes.unsupported(reason)
    with known_issues.suspended():
        try:
            replay(backend, setup, issue)
        except Nonconformance as failure:
            assert failure.clause == issue.clause, (
                f"{issue_id} now fails a different clause ({failure.clause}, not {issue.clause}):\n{failure}"
            )
            outcomes.record_known(issue_id)
            return
    pytest.fail(
        f"known issue {issue_id} no longer reproduces on {backend.describe()} "
        f"(entry confirmed {issue.confirmed} for {issue.versions}): remove it from "
        f"adapters/known_issues/{issue.framework}.toml if the fix is confirmed"
    )
