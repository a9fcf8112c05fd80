"""One conformance matrix from the reports of several runs: a column per surface and platform.

    python -m suites.merge_reports cpu.json gpu.json --json merged.json --markdown merged.md

Each input is one run's `--conformance-report` JSON (suites/outcomes.py). A run's platform is
what it recorded about its machine: the CPU, the flags kernels dispatch on, oneDNN's level and
the environment variables that choose kernels and devices. A column is one surface on one
platform, named `surface@A` after the platform's letter; the lists above the table spell out
every platform and every column (version, device, the surface's own dispatch facts and
settings). Runs on one platform whose surface reported the same facts fill the same column, so
reports of different modules or surfaces from one machine merge into one set of columns.

A cell whose surface shows another outcome on another platform is marked ≠. A surface that was
unavailable in every run keeps one column of ·; where it ran somewhere, the runs that lacked it
add no column and are listed under "Unavailable". Bad input (a missing file, a file that is not
a conformance report, a report of another format version) is refused with exit status 2.
"""

from __future__ import annotations

import argparse
import json
import string
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from adapters.registry import builtin_factories
from suites.outcomes import LEGEND, RANK, REPORT_FORMAT, REPORT_FORMAT_VERSION, SYMBOL

MERGED_FORMAT = "convspec-merged-conformance-matrix"
MERGED_FORMAT_VERSION = 1
DIFFERS = "≠"
NOT_RUN = "∅"
OUTCOMES = frozenset(SYMBOL)
KNOWN_OUTCOMES = frozenset(o for o in RANK if o.startswith("known_"))
MERGE_LEGEND = (
    f"{DIFFERS} this surface's outcome for this variant differs between platforms (compare "
    f"the surface's other columns) · {NOT_RUN} not run: no report from that platform tested "
    "this variant"
)


class ReportError(Exception):
    """An input the merge cannot read as a conformance report of its format version."""


def load(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ReportError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ReportError(f"{path}: cannot be read: {exc}") from None
    try:
        report = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ReportError(f"{path}: not a convspec conformance report (not JSON: {exc})") from None
    check(report, str(path))
    return report


def check(report: Any, where: str) -> None:
    """Refuse, naming the first problem, what is not a report of REPORT_FORMAT_VERSION."""
    if not isinstance(report, dict):
        raise ReportError(f"{where}: not a convspec conformance report (not a JSON object)")
    if report.get("format") == MERGED_FORMAT:
        raise ReportError(
            f"{where}: a merged matrix, not one run's report; merge the runs' own reports"
        )
    if "format" not in report:
        if "matrix" in report and "backends" in report:
            raise ReportError(
                f"{where}: a conformance report from before reports carried a format version; "
                f"this merge reads format version {REPORT_FORMAT_VERSION}: run convspec again "
                "with --conformance-report"
            )
        raise ReportError(
            f'{where}: not a convspec conformance report (no "format": "{REPORT_FORMAT}")'
        )
    if report["format"] != REPORT_FORMAT:
        raise ReportError(
            f"{where}: not a convspec conformance report "
            f'("format" is {report["format"]!r}, not {REPORT_FORMAT!r})'
        )
    version = report.get("format_version")
    if version != REPORT_FORMAT_VERSION:
        raise ReportError(
            f"{where}: report format version {version!r}, but this merge reads version "
            f"{REPORT_FORMAT_VERSION} only: write all reports with the same convspec"
        )
    for key in ("platform", "backends", "matrix", "known_kinds"):
        if not isinstance(report.get(key), dict):
            raise ReportError(f"{where}: field {key!r} is missing or not an object")
    for surface, entry in report["backends"].items():
        if not isinstance(entry, dict) or not (
            "unavailable" in entry or {"framework", "version", "device"} <= entry.keys()
        ):
            raise ReportError(
                f"{where}: backends[{surface!r}] names neither why it is unavailable nor "
                "its framework, version and device"
            )
    for variant, row in report["matrix"].items():
        if not isinstance(row, dict):
            raise ReportError(f"{where}: matrix row {variant!r} is not an object")
        for surface, outcome in row.items():
            if not isinstance(outcome, str) or outcome not in OUTCOMES:
                raise ReportError(
                    f"{where}: matrix cell {variant}/{surface} is {outcome!r}, "
                    f"not one of {sorted(OUTCOMES)}"
                )
    for key in ("settings", "size_classes"):
        if not isinstance(report.get(key, {}), dict):
            raise ReportError(f"{where}: field {key!r} is not an object")
    for surface, counts in report.get("size_classes", {}).items():
        if not isinstance(counts, dict) or not all(isinstance(n, int) for n in counts.values()):
            raise ReportError(f"{where}: size_classes[{surface!r}] is not counts per size class")
    for cell, kinds in report["known_kinds"].items():
        if not isinstance(kinds, list) or not all(
            isinstance(k, str) and k in KNOWN_OUTCOMES for k in kinds
        ):
            raise ReportError(
                f"{where}: known_kinds[{cell!r}] is {kinds!r}, not a list drawn from "
                f"{sorted(KNOWN_OUTCOMES)}"
            )


@dataclass
class Cell:
    outcome: str
    kinds: set[str] = field(default_factory=set)
    differs: bool = False

    def fold(self, other: Cell) -> None:
        """Two runs of one column: the more severe outcome, every kind of known issue met."""
        if RANK.get(other.outcome, 0) > RANK.get(self.outcome, 0):
            self.outcome = other.outcome
        self.kinds |= other.kinds

    def symbol(self) -> str:
        if self.outcome.startswith("known_") and self.kinds:
            shown = sorted(self.kinds, key=RANK.__getitem__, reverse=True)
            return "".join(SYMBOL[k] for k in shown)
        return SYMBOL[self.outcome]


@dataclass
class Column:
    surface: str
    platform: str | None  # None: unavailable in every run, one column for all of them
    backend: dict[str, Any]
    settings: str | None
    reports: list[str] = field(default_factory=list)
    examples: int = 0
    cells: dict[str, Cell] = field(default_factory=dict)
    id: str = ""


@dataclass
class Platform:
    label: str
    facts: dict[str, Any]
    reports: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Merged:
    platforms: list[Platform]
    columns: list[Column]
    unavailable: list[dict[str, str]]
    variants: list[str]


def _label(index: int) -> str:
    letters = string.ascii_uppercase
    return letters[index] if index < len(letters) else f"P{index + 1}"


def _key(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


def merge(reports: list[tuple[str, dict[str, Any]]]) -> Merged:
    """Reports as (name, checked report); platforms are lettered in the order they come."""
    platforms: dict[str, Platform] = {}
    columns: dict[tuple[str, str, str], Column] = {}
    order: list[str] = []
    unavailable: dict[str, list[dict[str, str]]] = {}
    variants: set[str] = set()
    for name, report in reports:
        where = _key(report["platform"])
        if where not in platforms:
            platforms[where] = Platform(_label(len(platforms)), report["platform"])
        platform = platforms[where]
        platform.reports.append(
            {"path": name, "hypothesis_profile": report.get("hypothesis_profile")}
        )
        variants |= set(report["matrix"])
        for surface, entry in report["backends"].items():
            if surface not in order:
                order.append(surface)
            if "unavailable" in entry:
                unavailable.setdefault(surface, []).append(
                    {"surface": surface, "platform": platform.label, "reason": entry["unavailable"]}
                )
                continue
            settings = report.get("settings", {}).get(surface)
            key = (surface, where, _key([entry, settings]))
            if key not in columns:
                columns[key] = Column(surface, platform.label, entry, settings)
            column = columns[key]
            column.reports.append(name)
            column.examples += sum(report.get("size_classes", {}).get(surface, {}).values())
            for variant, row in report["matrix"].items():
                if surface not in row:
                    continue
                cell = Cell(
                    row[surface], set(report["known_kinds"].get(f"{variant}/{surface}", []))
                )
                if variant in column.cells:
                    column.cells[variant].fold(cell)
                else:
                    column.cells[variant] = cell
    rows = sorted(variants)
    labels = [p.label for p in platforms.values()]
    # Reports list surfaces alphabetically; the matrix shows them as a run does.
    builtin = list(builtin_factories())
    order.sort(key=lambda s: (builtin.index(s), "") if s in builtin else (len(builtin), s))
    ordered = _ordered(order, labels, list(columns.values()), unavailable, rows)
    _mark_differences(ordered, rows)
    ran = {c.surface for c in columns.values()}
    partly = [e for s in order if s in ran for e in unavailable.get(s, [])]
    return Merged(list(platforms.values()), ordered, partly, rows)


def _ordered(
    order: list[str],
    labels: list[str],
    columns: list[Column],
    unavailable: dict[str, list[dict[str, str]]],
    variants: list[str],
) -> list[Column]:
    """Columns grouped by surface, platforms in letter order; ids unique."""
    ordered: list[Column] = []
    for surface in order:
        mine = [c for c in columns if c.surface == surface]
        if not mine:
            reasons = sorted({e["reason"] for e in unavailable[surface]})
            nowhere = Column(surface, None, {"unavailable": "; ".join(reasons)}, None, id=surface)
            nowhere.cells = {v: Cell("unavailable") for v in variants}
            ordered.append(nowhere)
            continue
        mine.sort(key=lambda c: labels.index(str(c.platform)))
        for column in mine:
            twins = [c for c in mine if c.platform == column.platform]
            suffix = str(twins.index(column) + 1) if len(twins) > 1 else ""
            column.id = f"{surface}@{column.platform}{suffix}"
            ordered.append(column)
    return ordered


def _mark_differences(columns: list[Column], variants: list[str]) -> None:
    for surface in dict.fromkeys(c.surface for c in columns):
        mine = [c for c in columns if c.surface == surface]
        for variant in variants:
            cells = [c.cells[variant] for c in mine if variant in c.cells]
            if len({cell.symbol() for cell in cells}) > 1:
                for cell in cells:
                    cell.differs = True


def to_json(merged: Merged) -> dict[str, Any]:
    return {
        "format": MERGED_FORMAT,
        "format_version": MERGED_FORMAT_VERSION,
        "report_format_version": REPORT_FORMAT_VERSION,
        "platforms": [
            {"label": p.label, "platform": p.facts, "reports": p.reports} for p in merged.platforms
        ],
        "columns": [
            {
                "id": c.id,
                "surface": c.surface,
                "platform": c.platform,
                "backend": c.backend,
                "settings": c.settings,
                "reports": c.reports,
                "examples": c.examples,
            }
            for c in merged.columns
        ],
        "unavailable": merged.unavailable,
        # null: no report from the column's platform tested the variant.
        "matrix": {
            variant: {
                c.id: (
                    {
                        "outcome": cell.outcome,
                        "known_kinds": sorted(cell.kinds),
                        "differs": cell.differs,
                    }
                    if (cell := c.cells.get(variant)) is not None
                    else None
                )
                for c in merged.columns
            }
            for variant in merged.variants
        },
    }


def describe_platform(facts: dict[str, Any]) -> str:
    flags = " ".join(facts.get("flags", [])) or "none of those kernels dispatch on"
    environment = ", ".join(f"{k}={v}" for k, v in sorted(facts.get("environment", {}).items()))
    return (
        f"{facts.get('cpu', 'unknown CPU')} ({facts.get('machine', '?')}, "
        f"{facts.get('threads', '?')} CPUs); flags: {flags}; oneDNN ISA "
        f"{facts.get('onednn_isa', '?')}; environment: {environment or 'no kernel-choosing variable set'}"
    )


def describe_column(column: Column) -> str:
    entry = column.backend
    if column.platform is None:
        return f"unavailable in every run ({entry['unavailable']})"
    # An adapter's settings name its framework, version and device, and often more.
    text = column.settings or f"{entry['framework']} {entry['version']} on {entry['device']}"
    facts = ", ".join(f"{k}={v}" for k, v in entry.get("platform", {}).items())
    if facts:
        text += f"; {facts}"
    if entry.get("values") is False:
        text += "; shapes, dtypes and errors only, no values"
    return f"{text}; {column.examples} examples checked"


def to_markdown(merged: Merged) -> str:
    count = sum(len(p.reports) for p in merged.platforms)
    lines = [
        "# convspec conformance matrix, merged",
        "",
        f"Merged from {count} report(s) by `python -m suites.merge_reports`.",
        "",
        "Platforms:",
        "",
    ]
    for p in merged.platforms:
        runs = ", ".join(f"{r['path']} (profile {r['hypothesis_profile']})" for r in p.reports)
        lines.append(f"- **{p.label}**: {describe_platform(p.facts)}; reports: {runs}")
    lines += ["", "Columns (a surface on a platform):", ""]
    lines += [f"- `{c.id}`: {describe_column(c)}" for c in merged.columns]
    if merged.unavailable:
        lines += ["", "Unavailable on some platforms (no column there):", ""]
        lines += [f"- {e['surface']} on {e['platform']}: {e['reason']}" for e in merged.unavailable]
    ids = [c.id for c in merged.columns]
    lines += ["", "| variant | " + " | ".join(ids) + " |", "|---|" + "---|" * len(ids)]
    for variant in merged.variants:
        shown = []
        for c in merged.columns:
            cell = c.cells.get(variant)
            if cell is None:
                shown.append(NOT_RUN)
            else:
                shown.append(cell.symbol() + (DIFFERS if cell.differs else ""))
        lines.append(f"| {variant} | " + " | ".join(shown) + " |")
    lines += ["", LEGEND + " · " + MERGE_LEGEND]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m suites.merge_reports",
        description="Merge conformance reports (--conformance-report JSON) into one matrix.",
    )
    parser.add_argument("reports", nargs="+", type=Path, metavar="REPORT.json")
    parser.add_argument("--json", type=Path, metavar="PATH", help="write the merged matrix here")
    parser.add_argument(
        "--markdown", type=Path, metavar="PATH", help="write it as Markdown here (default: stdout)"
    )
    options = parser.parse_args(argv)
    try:
        names = [str(p) for p in options.reports]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ReportError(f"{', '.join(twice)}: given more than once")
        merged = merge([(str(p), load(p)) for p in options.reports])
        text = to_markdown(merged)
        for out, content in (
            (options.json, json.dumps(to_json(merged), indent=1, ensure_ascii=False) + "\n"),
            (options.markdown, text),
        ):
            if out is not None:
                _write(out, content)
    except ReportError as exc:
        print(f"merge_reports: error: {exc}", file=sys.stderr)
        return 2
    if options.markdown is None:
        sys.stdout.write(text)
    return 0


def _write(path: Path, content: str) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
    except OSError as exc:
        raise ReportError(f"{path}: cannot be written: {exc}") from None


if __name__ == "__main__":
    sys.exit(main())
