"""Confirmed upstream discrepancies: adapters/known_issues/<framework>.toml.

Each entry names the clause it breaks, the surfaces it applies to, a
predicate `when` on the configuration (a Python expression over the names
listed in `namespace`), and a pinned `example` descriptor that
suites/test_known_issues.py replays every run: the entry must still fail
there, or the run says the entry can be removed. A failure matches an entry
only if its clause, surface and predicate all match, so an entry never masks
a different bug.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, fields
from functools import cache
from pathlib import Path
from typing import Any

from adapters.base import Adapter
from suites.strategies import Setup

KNOWN_DIR = Path(__file__).resolve().parent.parent / "adapters" / "known_issues"
REQUIRED = ("id", "clauses", "surfaces", "when", "versions", "description", "confirmed", "example")
_SAFE_BUILTINS = {
    "max": max,
    "min": min,
    "any": any,
    "all": all,
    "len": len,
    "set": set,
    "abs": abs,
    "zip": zip,
}


@dataclass(frozen=True)
class KnownIssue:
    id: str
    framework: str
    # The clauses its failures cite: one bug surfaces under the clause of each
    # suite that reaches it (e.g. CONV.2 in the conv suite, GRP.1 in the grouped one).
    clauses: tuple[str, ...]
    surfaces: tuple[str, ...]
    when: str
    versions: str
    description: str
    confirmed: str
    example: str
    link: str = ""

    def applies_to(self, surface: str) -> bool:
        return "*" in self.surfaces or surface in self.surfaces


@cache
def registry() -> tuple[KnownIssue, ...]:
    found: list[KnownIssue] = []
    for path in sorted(KNOWN_DIR.glob("*.toml")):
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        for entry in data.get("issue", []):
            missing = [k for k in REQUIRED if k not in entry]
            if missing:
                raise ValueError(f"{path.name}: entry {entry.get('id', '?')} lacks {missing}")
            entry = {
                **entry,
                "surfaces": tuple(entry["surfaces"]),
                "clauses": tuple(entry["clauses"]),
            }
            found.append(KnownIssue(framework=path.stem, **entry))
    ids = [k.id for k in found]
    duplicates = {i for i in ids if ids.count(i) > 1}
    if duplicates:
        raise ValueError(f"duplicate known-issue ids {sorted(duplicates)}")
    return tuple(found)


def namespace(setup: Setup) -> dict[str, Any]:
    """Names a `when` predicate may use: op, dtype, exact, operand shapes, every parameter."""
    names: dict[str, Any] = {"op": setup.op, "dtype": setup.dtype, "exact": setup.exact}
    names.update(setup.shapes)
    names.update({f.name: getattr(setup.params, f.name) for f in fields(setup.params)})
    return names


def triggers(issue: KnownIssue, setup: Setup) -> bool:
    return bool(eval(issue.when, {"__builtins__": _SAFE_BUILTINS}, namespace(setup)))


_suspended: list[bool] = []


@contextmanager
def suspended() -> Iterator[None]:
    """No matching inside: used to check that an entry still reproduces."""
    _suspended.append(True)
    try:
        yield
    finally:
        _suspended.pop()


def match(adapter: Adapter, setup: Setup, clause: str) -> str | None:
    if _suspended:
        return None
    for issue in registry():
        if (
            issue.framework == adapter.framework
            and clause in issue.clauses
            and issue.applies_to(adapter.name)
            and triggers(issue, setup)
        ):
            return issue.id
    return None
