"""Clause registry: every normative statement of the spec has a stable ID.

A clause is a Markdown heading of the form

    ### CONV.3 Output size

in one of the chapters `spec/*.md`. Its ID is `CONV.3`; its text runs to the
next heading. A title ending in "(informative)" marks a clause that states no
requirement (an explanation, a worked example); the others are normative.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

SPEC_DIR = Path(__file__).resolve().parent
INDEX = SPEC_DIR / "README.md"  # the index of chapters, no chapter itself
_HEADING = re.compile(r"^(#{2,4})\s+([A-Z][A-Z0-9]*\.\d+)\s+(.+?)\s*$")
_ANY_HEADING = re.compile(r"^#{1,6}\s")


@dataclass(frozen=True)
class Clause:
    id: str
    title: str
    chapter: str  # file name, e.g. "transposed.md"
    text: str
    normative: bool

    @property
    def anchor(self) -> str:
        """The anchor GitHub gives the heading, so `spec/FILE.md#ANCHOR` links to it."""
        slug = f"{self.id} {self.title}".lower()
        slug = re.sub(r"[^\w\- ]", "", slug)
        return slug.replace(" ", "-")

    @property
    def location(self) -> str:
        return f"spec/{self.chapter}#{self.anchor}"

    def cite(self) -> str:
        return f"{self.id} {self.title} ({self.location})"


def parse_chapter(path: Path) -> list[Clause]:
    clauses: list[Clause] = []
    current: tuple[str, str] | None = None
    body: list[str] = []

    def close() -> None:
        if current is not None:
            ident, title = current
            clauses.append(
                Clause(
                    id=ident,
                    title=title,
                    chapter=path.name,
                    text="\n".join(body).strip(),
                    normative=not title.endswith("(informative)"),
                )
            )

    for line in path.read_text(encoding="utf-8").splitlines():
        match = _HEADING.match(line)
        if match or _ANY_HEADING.match(line):
            close()
            current = (match.group(2), match.group(3)) if match else None
            body = []
        else:
            body.append(line)
    close()
    return clauses


def chapter_paths() -> list[Path]:
    """The chapters `spec/*.md`, in name order."""
    return sorted(p for p in SPEC_DIR.glob("*.md") if p != INDEX)


class UnknownClauseError(KeyError):
    pass


@cache
def registry() -> dict[str, Clause]:
    """Every clause of every chapter, by ID. IDs must be unique across chapters."""
    found: dict[str, Clause] = {}
    for path in chapter_paths():
        for clause in parse_chapter(path):
            if clause.id in found:
                other = found[clause.id].chapter
                raise ValueError(f"clause {clause.id} is defined in both {other} and {path.name}")
            found[clause.id] = clause
    return found


def lookup(clause_id: str) -> Clause:
    try:
        return registry()[clause_id]
    except KeyError:
        raise UnknownClauseError(
            f"no clause {clause_id!r} in spec/ (known prefixes: "
            f"{sorted({c.split('.')[0] for c in registry()})})"
        ) from None


def cite(clause_id: str) -> str:
    """'ID Title (spec/file.md#anchor)' for messages; never raises on unknown IDs."""
    try:
        return lookup(clause_id).cite()
    except UnknownClauseError:
        return f"{clause_id} (unknown clause)"
