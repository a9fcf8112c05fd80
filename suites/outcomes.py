"""What each test found, per backend, variant and clause: the conformance matrix's data.

Tests record through `record_example` while they run; the records travel to
the controller in each report's `user_properties` (which pytest-xdist
serializes), so the matrix is the same with and without `-n`.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Generator
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

from suites import known_issues, platform
from suites.backends import BACKENDS

PROPERTY = "convspec"
# Every JSON report names its format; suites/merge_reports.py reads only this version. Raise
# it when a field the merge reads changes its meaning or shape.
REPORT_FORMAT = "convspec-conformance-report"
REPORT_FORMAT_VERSION = 1
UNSUPPORTED_PREFIX = "unsupported: "
NOT_APPLICABLE_PREFIX = "not applicable here: "

# Severity order for folding several outcomes into one cell. A known issue is shown by
# what it is (suites/known_issues.KINDS): a defect, a validation gap, or a deviation.
RANK = {
    "fail": 7,
    "known_defect": 6,
    "known_validation": 5,
    "known_deviation": 4,
    "pass": 3,
    "not_applicable": 2,
    "unsupported": 1,
}
SYMBOL = {
    "pass": "✅",
    "fail": "❌",
    "known_defect": "⚠️",
    "known_validation": "🟨",
    "known_deviation": "🔷",
    "not_applicable": "○",
    "unsupported": "—",
    "unavailable": "·",
}
LEGEND = (
    "Legend: ✅ pass · ❌ fail · ⚠️ known defect (crash, hang, wrong values or shape) · "
    "🟨 known validation gap (accepts what its documentation or its own checks reject) · "
    "🔷 known deviation from the framework's own standard · "
    "○ known issues whose `requires` does not hold on this platform · "
    "— unsupported (declared by the adapter) · · unavailable (framework or device missing); "
    "entries in adapters/known_issues/"
)


def known_status(kinds: set[str]) -> str:
    """The matrix status of a test that met known issues of these kinds: the most severe."""
    if kinds & set(known_issues.DEFECTS):
        return "known_defect"
    if "validation" in kinds:
        return "known_validation"
    return "known_deviation"


@dataclass
class ItemStats:
    examples: int = 0
    worst_ratio: float = 0.0
    # Examples per size class (suites/dispatch.py SIZE_CLASSES, "network", "replay").
    size_classes: dict[str, int] = field(default_factory=dict)
    known: set[str] = field(default_factory=set)
    # The kinds of those entries, looked up where they matched: the controller of an xdist
    # run need not hold the same registry (a test may patch it).
    known_kinds: set[str] = field(default_factory=set)
    # Examples the adapter's documented `limitation()` excluded, by reason.
    limited: dict[str, int] = field(default_factory=dict)


# The stats of the test call running (one at a time per process); outside a call, of
# whatever records there (a script that replays examples without pytest).
_current: ContextVar[ItemStats | None] = ContextVar("convspec_item_stats", default=None)
# The run's records, one per test report: on the controller, or the single process.
RECORDS = pytest.StashKey[list[dict[str, Any]]]()


def pytest_configure(config: pytest.Config) -> None:
    config.stash[RECORDS] = []
    if not hasattr(config, "workerinput"):
        config.pluginmanager.register(_Recorder(config.stash[RECORDS]), "convspec-records")


def current_stats() -> ItemStats:
    """Stats of the test running in this process (tests run one at a time per process)."""
    stats = _current.get()
    if stats is None:
        stats = ItemStats()
        _current.set(stats)
    return stats


def record_example(ratio: float, size_class: str) -> None:
    stats = current_stats()
    stats.examples += 1
    stats.worst_ratio = max(stats.worst_ratio, ratio)
    stats.size_classes[size_class] = stats.size_classes.get(size_class, 0) + 1


def record_shape_only(size_class: str) -> None:
    """An example whose shape and dtype were checked on a surface without values
    (Capabilities.values): counted, with no error/bound ratio."""
    stats = current_stats()
    stats.examples += 1
    stats.size_classes[size_class] = stats.size_classes.get(size_class, 0) + 1


def record_limited(reason: str) -> None:
    stats = current_stats()
    stats.limited[reason] = stats.limited.get(reason, 0) + 1


def record_known(issue_id: str) -> None:
    stats = current_stats()
    stats.known.add(issue_id)
    stats.known_kinds.add(known_issues.kind_of(issue_id))


def unsupported(reason: str) -> None:
    pytest.skip(UNSUPPORTED_PREFIX + reason)


def not_applicable(issue_id: str, requires: str) -> None:
    """A known issue whose platform condition does not hold here (suites/platform.py)."""
    pytest.skip(f"{NOT_APPLICABLE_PREFIX}{issue_id} requires {requires}")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, object, object]:
    token = _current.set(ItemStats())
    try:
        return (yield)
    finally:
        stats = current_stats()
        _current.reset(token)
        callspec = getattr(item, "callspec", None)
        item.user_properties.append(
            (
                PROPERTY,
                {
                    "backend": _surface(callspec.params) if callspec else None,
                    "examples": stats.examples,
                    "size_classes": stats.size_classes,
                    "worst_ratio": stats.worst_ratio,
                    "known": sorted(stats.known),
                    "known_kinds": sorted(stats.known_kinds),
                    "limited": stats.limited,
                },
            )
        )


def _variant(nodeid: str) -> str:
    path = nodeid.split("::", 1)[0]
    stem = Path(path).stem
    return stem.removeprefix("test_")


def _surface(params: dict[str, Any]) -> str | None:
    if "backend" in params:
        return str(params["backend"])
    # suites/test_known_issues.py; with no entry for the selected surfaces pytest
    # parametrizes with an empty parameter set, whose value is no pair.
    pair = params.get("surface_issue")
    if isinstance(pair, tuple):
        return str(pair[0])
    return None


def _skipped_backend(report: pytest.TestReport) -> str | None:
    # A test skipped as unsupported never reaches the call phase; its backend
    # comes from the keywords that `pytest_collection_modifyitems` set.
    for keyword in report.keywords:
        if keyword.startswith("backend:"):
            return keyword.removeprefix("backend:")
    return None


class _Recorder:
    """Folds each test report into the run's records: a plugin of the controller (or the
    single process), which receives every worker's reports."""

    def __init__(self, records: list[dict[str, Any]]) -> None:
        self.records = records

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        record = record_of(report)
        if record is not None:
            self.records.append(record)


def record_of(report: pytest.TestReport) -> dict[str, Any] | None:
    """The record of one test report, or None for a report that adds none."""
    if report.when != "call" and not (report.when == "setup" and report.outcome != "passed"):
        return None
    clauses: list[str] = []
    data: dict[str, Any] = {}
    for name, value in report.user_properties:
        if name == PROPERTY:
            assert isinstance(value, dict)
            data = value
    backend = data.get("backend") or _skipped_backend(report)
    if backend is None:
        return None
    for keyword in report.keywords:
        if keyword.startswith("clause:"):
            clauses.append(keyword.removeprefix("clause:"))
    not_applicable: list[str] = []
    if report.skipped:
        reason = str(report.longrepr[2]) if isinstance(report.longrepr, tuple) else ""
        if NOT_APPLICABLE_PREFIX in reason:
            status = "not_applicable"
            not_applicable.append(reason.split(NOT_APPLICABLE_PREFIX, 1)[1])
        elif UNSUPPORTED_PREFIX in reason:
            status = "unsupported"
        else:
            return None
    elif report.failed:
        status = "fail"
    elif data.get("examples", 0) == 0 and data.get("limited"):
        status = "unsupported"  # every drawn example hit a documented limitation
    else:
        status = known_status(set(data.get("known_kinds", ()))) if data.get("known") else "pass"
    return {
        "test": report.nodeid,
        "backend": backend,
        "variant": _variant(report.nodeid),
        "clauses": sorted(clauses),
        "outcome": status,
        "examples": data.get("examples", 0),
        "size_classes": data.get("size_classes", {}),
        "worst_ratio": data.get("worst_ratio", 0.0),
        "known": data.get("known", []),
        "not_applicable": not_applicable,
    }


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Clause IDs become keywords so that reports (also xdist's) carry them.
    for item in items:
        callspec = getattr(item, "callspec", None)
        surface = _surface(callspec.params) if callspec is not None else None
        if surface is not None:
            item.keywords[f"backend:{surface}"] = True
        for marker in item.iter_markers("clauses"):
            for clause in marker.args:
                item.keywords[f"clause:{clause}"] = True


def matrix(records: list[dict[str, Any]], backends: list[str]) -> dict[str, dict[str, str]]:
    cells: dict[str, dict[str, str]] = defaultdict(dict)
    for r in records:
        old = cells[r["variant"]].get(r["backend"])
        if old is None or RANK[r["outcome"]] > RANK[old]:
            cells[r["variant"]][r["backend"]] = r["outcome"]
    return {
        variant: {b: row.get(b, "unsupported") for b in backends}
        for variant, row in sorted(cells.items())
    }


def known_marks(records: list[dict[str, Any]]) -> dict[tuple[str, str], set[str]]:
    """Every kind of known issue met per (variant, backend): a cell can hold several."""
    marks: dict[tuple[str, str], set[str]] = defaultdict(set)
    for r in records:
        if r["outcome"].startswith("known"):
            marks[(r["variant"], r["backend"])].add(r["outcome"])
    return marks


def _symbol(status: str, marks: set[str]) -> str:
    if not status.startswith("known") or not marks:
        return SYMBOL[status]
    return "".join(SYMBOL[m] for m in sorted(marks, key=RANK.__getitem__, reverse=True))


def clause_records(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One record per backend x variant x clause, folding the tests that cite it."""
    folded: dict[tuple[str, str, str], dict[str, Any]] = {}
    for r in records:
        for clause in r["clauses"] or ["-"]:
            key = (r["backend"], r["variant"], clause)
            cur = folded.setdefault(
                key,
                {
                    "backend": key[0],
                    "variant": key[1],
                    "clause": key[2],
                    "outcome": r["outcome"],
                    "examples": 0,
                    "worst_ratio": 0.0,
                    "tests": [],
                    "known": [],
                },
            )
            if RANK[r["outcome"]] > RANK[cur["outcome"]]:
                cur["outcome"] = r["outcome"]
            cur["examples"] += r["examples"]
            cur["worst_ratio"] = max(cur["worst_ratio"], r["worst_ratio"])
            cur["tests"].append(r["test"])
            cur["known"] = sorted(set(cur["known"]) | set(r["known"]))
    return [folded[k] for k in sorted(folded)]


def not_applicable_entries(records: list[dict[str, Any]]) -> list[dict[str, str]]:
    """Known-issue entries whose `requires` does not hold here, per surface."""
    return sorted(
        (
            {"surface": r["backend"], "issue": entry}
            for r in records
            for entry in r["not_applicable"]
        ),
        key=lambda e: (e["surface"], e["issue"]),
    )


def size_class_counts(records: list[dict[str, Any]]) -> dict[str, dict[str, int]]:
    """Checked examples per surface and size class."""
    counts: dict[str, dict[str, int]] = defaultdict(dict)
    for r in records:
        for size_class, n in r.get("size_classes", {}).items():
            row = counts[r["backend"]]
            row[size_class] = row.get(size_class, 0) + n
    return {backend: dict(sorted(row.items())) for backend, row in sorted(counts.items())}


def size_class_table(counts: dict[str, dict[str, int]]) -> list[str]:
    classes = sorted({c for row in counts.values() for c in row})
    lines = ["| surface | " + " | ".join(classes) + " |", "|---|" + "---:|" * len(classes)]
    for backend, row in counts.items():
        lines.append(f"| {backend} | " + " | ".join(str(row.get(c, 0)) for c in classes) + " |")
    return lines


def markdown(
    cells: dict[str, dict[str, str]],
    backends: list[str],
    header: list[str],
    marks: dict[tuple[str, str], set[str]] | None = None,
) -> str:
    """The matrix; a cell with several kinds of known issue shows each (e.g. ⚠️🟨)."""
    marks = marks or {}
    lines = [*header, ""]
    lines.append("| variant | " + " | ".join(backends) + " |")
    lines.append("|---|" + "---|" * len(backends))
    for variant, row in cells.items():
        symbols = (_symbol(row[b], marks.get((variant, b), set())) for b in backends)
        lines.append(f"| {variant} | " + " | ".join(symbols) + " |")
    lines.append("")
    lines.append(LEGEND)
    return "\n".join(lines) + "\n"


def _versions(b: Any) -> dict[str, Any]:
    if b.adapter is None:
        return {"unavailable": b.problem}
    try:
        version = b.adapter.version()
    except Exception as exc:
        version = f"unknown ({type(exc).__name__})"
    return {
        "framework": b.adapter.framework,
        "version": version,
        "device": b.adapter.device,
        "platform": {k: platform.plain(v) for k, v in b.adapter.platform().items()},
        # False: shapes, dtypes and errors checked, no values (Capabilities.values).
        "values": b.adapter.capabilities.values,
    }


def _describe(version: dict[str, Any]) -> str:
    if "unavailable" in version:
        return f"unavailable ({version['unavailable']})"
    facts = "".join(f", {k}={v}" for k, v in version.get("platform", {}).items())
    scope = "" if version.get("values", True) else "; shapes, dtypes and errors only, no values"
    return f"{version['framework']} {version['version']} on {version['device']}{facts}{scope}"


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    if hasattr(config, "workerinput") or BACKENDS not in config.stash:
        return
    loaded = config.stash[BACKENDS]
    backends = [b.name for b in loaded]
    records = config.stash[RECORDS]
    cells = matrix(records, backends)
    for b in loaded:
        if b.adapter is None:
            for row in cells.values():
                row[b.name] = "unavailable"
    skipped = not_applicable_entries(records)
    if cells:
        terminalreporter.section("convspec conformance")
        for line in markdown(cells, backends, [], known_marks(records)).splitlines():
            terminalreporter.write_line(line)
        if skipped:
            terminalreporter.write_line(
                f"Known issues not applicable on this platform ({platform.describe()}):"
            )
            for entry in skipped:
                terminalreporter.write_line(f"  {entry['surface']}: {entry['issue']}")
    path = config.getoption("--conformance-report")
    if path:
        from suites import failures  # it imports the verdict, which imports this module

        versions = {b.name: _versions(b) for b in loaded}
        payload = {
            "format": REPORT_FORMAT,
            "format_version": REPORT_FORMAT_VERSION,
            # Profiles draw different examples, so a merge shows which one each run used.
            "hypothesis_profile": settings._current_profile,
            "platform": platform.summary(),
            "backends": versions,
            # Each adapter's own account of what it runs (torch.cuda's GPU, cuDNN and TF32
            # settings, TensorFlow's oneDNN state), beyond its platform facts.
            "settings": {b.name: _settings(b.adapter) for b in loaded if b.adapter is not None},
            "matrix": cells,
            # Every kind of known issue per cell, where "matrix" keeps the most severe.
            "known_kinds": {
                f"{variant}/{backend}": sorted(kinds)
                for (variant, backend), kinds in sorted(known_marks(records).items())
            },
            "records": clause_records(records),
            "not_applicable": skipped,
            "size_classes": size_class_counts(records),
            "failures": failures.collected(),
        }
        out = Path(path)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(payload, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        header = ["# convspec conformance matrix", "", f"Platform: {platform.describe()}", ""]
        header += [f"- {name}: {_describe(v)}" for name, v in versions.items()]
        table = markdown(cells, backends, header, known_marks(records))
        sizes = size_class_table(size_class_counts(records))
        table += (
            "\nChecked examples per size class (suites/dispatch.py):\n\n" + "\n".join(sizes) + "\n"
        )
        table += "\n".join([*failures.markdown(failures.collected()), ""])
        out.with_suffix(".md").write_text(table, encoding="utf-8")


def _settings(adapter: Any) -> str:
    try:
        return str(adapter.describe())
    except Exception as exc:
        return f"unknown ({type(exc).__name__}: {exc})"
