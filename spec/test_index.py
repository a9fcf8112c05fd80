"""Self-tests of the index spec/README.md: a row per clause prefix, and every row true."""

from __future__ import annotations

import re
from pathlib import Path

from spec.clauses import INDEX, SPEC_DIR, registry

COLUMNS = ("prefix", "chapter", "reference", "suite", "mutant themes")
_LINK = re.compile(r"\[[^\]]*\]\(([^)#]+)(?:#[^)]*)?\)")


def index_rows() -> dict[str, dict[str, list[Path]]]:
    """The table of the index: prefix -> column -> the files that column links, as written
    (relative to spec/)."""
    lines = [line for line in INDEX.read_text(encoding="utf-8").splitlines() if line[:1] == "|"]
    header = tuple(cell.strip() for cell in lines[0].strip("|").split("|"))
    assert header == COLUMNS, f"spec/README.md: the table's columns are {header}, not {COLUMNS}"
    rows: dict[str, dict[str, list[Path]]] = {}
    for line in lines[2:]:
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        assert len(cells) == len(COLUMNS), f"spec/README.md: row with {len(cells)} cells: {line}"
        prefix = cells[0]
        assert prefix not in rows, f"spec/README.md: two rows for {prefix}"
        rows[prefix] = {
            column: [Path(target) for target in _LINK.findall(cell)]
            for column, cell in zip(COLUMNS[1:], cells[1:], strict=True)
        }
    return rows


def test_every_prefix_has_a_row() -> None:
    prefixes = {clause_id.split(".")[0] for clause_id in registry()}
    rows = index_rows()
    missing = sorted(prefixes - set(rows))
    assert not missing, f"spec/README.md has no row for the clause prefixes {missing}"
    unknown = sorted(set(rows) - prefixes)
    assert not unknown, f"spec/README.md lists prefixes that no chapter defines: {unknown}"


def test_every_link_resolves() -> None:
    broken = [
        f"{prefix} {column}: {path}"
        for prefix, row in index_rows().items()
        for column, paths in row.items()
        for path in paths
        if not (SPEC_DIR / path).is_file()
    ]
    assert not broken, f"spec/README.md links files that do not exist: {broken}"


def test_each_row_names_the_chapter_that_defines_its_prefix() -> None:
    chapters: dict[str, set[str]] = {}
    for clause in registry().values():
        chapters.setdefault(clause.id.split(".")[0], set()).add(clause.chapter)
    for prefix, row in index_rows().items():
        linked = {path.name for path in row["chapter"]}
        assert linked == chapters.get(prefix, set()), (
            f"spec/README.md: {prefix} is defined in {sorted(chapters.get(prefix, set()))}, "
            f"the index links {sorted(linked)}"
        )


def test_each_suite_module_cites_its_prefix() -> None:
    for prefix, row in index_rows().items():
        for path in row["suite"]:
            text = (SPEC_DIR / path).read_text(encoding="utf-8")
            assert re.search(rf"\b{prefix}\.\d+", text), (
                f"spec/README.md: {prefix}'s suite column links {path}, which cites no "
                f"{prefix} clause"
            )
