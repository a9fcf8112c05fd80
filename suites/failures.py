"""Every failure that no known-issue entry covers, for the conformance report.

A test fails on a `Nonconformance` (suites/verdict.py) only where no entry matched, so each
one that ends a test is a candidate bug: the report lists it with the clause, the surface,
the configuration's descriptor (replayable with `--config`), what differed, and its repro
script where one was written (`--repro-dir`, or beside the report under the hunt profile).
The records travel in each report's `user_properties`, like suites/outcomes.py's, so the
list is the same with and without `-n`.
"""

from __future__ import annotations

from typing import Any

import pytest

from suites import descriptor
from suites.verdict import Nonconformance

PROPERTY = "convspec-failures"
# Lines of a failure's detail kept in the report: the worst element and the count.
DETAIL_LINES = 8

_records: list[dict[str, Any]] = []
_config: pytest.Config | None = None


def pytest_configure(config: pytest.Config) -> None:
    global _config
    _config = config
    _records.clear()


def nonconformances(error: BaseException) -> list[Nonconformance]:
    """The Nonconformances in what a test raised: Hypothesis raises a group where one test
    found several distinct failures."""
    if isinstance(error, Nonconformance):
        return [error]
    found: list[Nonconformance] = []
    for inner in getattr(error, "exceptions", ()):
        found += nonconformances(inner)
    return found


def describe(error: Nonconformance) -> dict[str, Any]:
    runs = error.runs
    record: dict[str, Any] = {
        "clause": error.clause,
        "surface": error.adapter.name,
        "descriptor": descriptor.encode(error.example.setup),
        "detail": "\n".join(error.detail.splitlines()[:DETAIL_LINES]),
        "repro": str(error.repro) if error.repro is not None else None,
        "size_class": error.example.setup.size_class,
    }
    if runs is not error.example.setup:
        record["runs"] = descriptor.encode(runs)  # the call of a composite that failed
    return record


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item):
    try:
        return (yield)
    except BaseException as error:
        found = nonconformances(error)
        if found:
            item.user_properties.append((PROPERTY, [describe(e) for e in found]))
        raise


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Collect on the controller (or the single process) only."""
    if _config is None or hasattr(_config, "workerinput") or report.when != "call":
        return
    for name, value in report.user_properties:
        if name == PROPERTY and isinstance(value, list):
            _records.extend({"test": report.nodeid, **record} for record in value)


def collected() -> list[dict[str, Any]]:
    return list(_records)


def markdown(records: list[dict[str, Any]]) -> list[str]:
    """The report's list of failures, or nothing when there were none."""
    if not records:
        return []
    lines = ["", "Failures that no known-issue entry covers:", ""]
    for r in records:
        script = f"; repro script `{r['repro']}`" if r.get("repro") else ""
        lines.append(f"- {r['surface']} {r['clause']} in `{r['test']}`{script}")
        lines.append(f"  configuration `{r['descriptor']}`")
    return lines
