"""Every known-issue entry still reproduces where it applies (adapters/known_issues/*.toml).

Each entry pins an example descriptor. It is replayed on every selected
surface the entry names, with known-issue matching switched off: it must
still fail with the entry's clause, or the entry is stale (fixed upstream)
and this test says so, so that it can be removed. The entry's predicate must
also hold for its own example. An entry whose first clause is a gradient's
(GRAD.*) replays its example's VJP (suites/gradient_checks.py), a counter's
(COST.*) its count. Where the entry's `requires` does not hold on this
platform, the replay is reported as not applicable instead.
"""

from __future__ import annotations

import pytest

from suites import counters, descriptor, fixed, gradient_checks, known_issues, outcomes, platform
from suites.backends import selected_adapters
from suites.support import unsupported_reason
from suites.verdict import Nonconformance

ENTRIES = {issue.id: issue for issue in known_issues.registry()}


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """One test per (selected surface, entry that applies to it)."""
    if "surface_issue" in metafunc.fixturenames:
        pairs = [
            (loaded.name, issue.id)
            for loaded in selected_adapters(metafunc.config)
            for issue in ENTRIES.values()
            if loaded.adapter is not None and issue.applies_to(loaded.adapter)
        ]
        metafunc.parametrize("surface_issue", pairs, ids=[f"{b}:{i}" for b, i in pairs])


@pytest.mark.clauses("LAYOUT.4")
def test_known_issue_still_reproduces(
    request: pytest.FixtureRequest, surface_issue: tuple[str, str]
) -> None:
    surface, issue_id = surface_issue
    backend = next(b.adapter for b in selected_adapters(request.config) if b.name == surface)
    assert backend is not None
    issue = ENTRIES[issue_id]
    setup = descriptor.decode(issue.example)
    if not known_issues.applicable(issue, backend):
        outcomes.not_applicable(issue_id, issue.requires)
    assert known_issues.triggers(issue, setup, backend), (
        f"{issue_id}: its `when` predicate {issue.when!r} does not hold for its own example "
        f"on this platform ({platform.describe()}): its `requires` must imply that it does"
    )
    reason = unsupported_reason(backend, setup)
    if reason is not None:
        outcomes.unsupported(reason)
    with known_issues.suspended():
        try:
            if issue.clauses[0].startswith("COST."):
                # A counter's wrong count: its example is counted, not computed.
                counters.replay(backend, setup, issue.clauses[0])
            elif issue.clauses[0].startswith("GRAD."):
                # A wrong gradient: its example's VJP is checked, the forward may be right.
                gradient_checks.replay(backend, setup, fixed.seed_of(issue.example))
            else:
                fixed.replay(
                    backend,
                    setup,
                    fixed.seed_of(issue.example),
                    clause=issue.clauses[0],
                    shape_clause=issue.clauses[0],
                    description=f"pinned example of {issue.id}",
                    # A crash on a valid configuration must not take this process with it.
                    isolate="ERR.3" in issue.clauses,
                    rejection_clause=issue.clauses[0],
                )
        except Nonconformance as failure:
            assert failure.clause in issue.clauses, (
                f"{issue_id} now fails another clause ({failure.clause}, not {issue.clauses}):\n{failure}"
            )
            outcomes.record_known(issue_id)
            return
    where = f"requires {issue.requires!r}, which holds here" if issue.requires else "no `requires`"
    pytest.fail(
        f"known issue {issue_id} no longer reproduces on {backend.describe()} "
        f"(entry confirmed {issue.confirmed} for {issue.versions}; {where}; "
        f"platform: {platform.describe()}): remove it from "
        f"adapters/known_issues/{issue.framework}.toml if the fix is confirmed, or narrow its "
        "`requires` if the bug needs a platform this is not"
    )
