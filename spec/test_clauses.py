"""Self-tests of the clause registry: IDs are unique, cited IDs exist, coverage is printed."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from spec.clauses import SPEC_DIR, chapter_paths, lookup, registry

ROOT = SPEC_DIR.parent
CLAUSE_ID = re.compile(r"^[A-Z][A-Z0-9]*\.\d+$")


def cited_clauses() -> dict[str, set[str]]:
    """Clause IDs cited by tests and code: `clauses(...)` markers and clause string literals."""
    cited: dict[str, set[str]] = {}
    for folder in ("suites", "reference", "adapters", "benchmarks"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                literal = isinstance(node, ast.Constant) and isinstance(node.value, str)
                if literal and CLAUSE_ID.match(node.value):  # type: ignore[attr-defined]
                    cited.setdefault(node.value, set()).add(str(path.relative_to(ROOT)))
    return cited


def test_registry_parses_every_chapter() -> None:
    chapters = {c.chapter for c in registry().values()}
    assert chapters == {p.name for p in chapter_paths()}, "a spec chapter has no numbered clause"


def test_lookup_gives_title_file_and_anchor() -> None:
    clause = lookup("NUM.3")
    assert clause.chapter == "numerics.md"
    assert clause.anchor == "num3-the-error-bound"
    assert clause.location == "spec/numerics.md#num3-the-error-bound"


def test_unknown_clause_is_an_error() -> None:
    with pytest.raises(KeyError, match=r"no clause 'NOPE\.1'"):
        lookup("NOPE.1")


def test_every_cited_clause_exists(capsys: pytest.CaptureFixture[str]) -> None:
    """Fails on a citation of an unknown clause; prints the normative clauses nobody cites yet."""
    known = registry()
    cited = cited_clauses()
    unknown = {c: sorted(files) for c, files in cited.items() if c not in known}
    assert not unknown, f"code cites clauses that no spec chapter defines: {unknown}"
    uncited = sorted(c.id for c in known.values() if c.normative and c.id not in cited)
    with capsys.disabled():
        print(
            f"\nnormative clauses no test or check cites yet ({len(uncited)}): {', '.join(uncited)}"
        )


def test_clause_ids_are_numbered_in_order() -> None:
    """Within a chapter, clause numbers increase (1, 2, 3, ...) so readers can find them."""
    by_chapter: dict[str, list[int]] = {}
    for clause in registry().values():
        by_chapter.setdefault(clause.chapter, []).append(int(clause.id.split(".")[1]))
    for chapter, numbers in by_chapter.items():
        assert numbers == sorted(numbers), f"{chapter}: clause numbers out of order: {numbers}"
        assert len(set(numbers)) == len(numbers), f"{chapter}: a clause number repeats"


def test_spec_files_are_not_empty() -> None:
    for path in Path(SPEC_DIR).glob("*.md"):
        assert path.read_text(encoding="utf-8").strip(), f"{path.name} is empty"
