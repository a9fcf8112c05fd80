"""Self-tests of the spec's figures: each committed SVG is what the reference draws now."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("matplotlib", reason="the figures need matplotlib (pip install '.[dev]')")

from spec.clauses import SPEC_DIR
from spec.figures import make_figures

REGENERATE = "python -m spec.figures.make_figures"


def test_committed_figures_match_the_reference(tmp_path: Path) -> None:
    fresh = {path.name: path for path in make_figures.write_all(tmp_path)}
    committed = {path.name for path in make_figures.FIGURE_DIR.glob("*.svg")}
    missing = sorted(set(fresh) - committed)
    assert not missing, f"spec/figures/ lacks {missing}: run `{REGENERATE}` and commit them"
    unknown = sorted(committed - set(fresh))
    assert not unknown, f"make_figures.py no longer draws {unknown}: delete them from spec/figures/"
    stale = [
        f"spec/figures/{name}"
        for name, path in sorted(fresh.items())
        if path.read_bytes() != (make_figures.FIGURE_DIR / name).read_bytes()
    ]
    assert not stale, (
        f"out of date with the reference or with make_figures.py: {', '.join(stale)}; "
        f"regenerate with `{REGENERATE}` and commit the result"
    )


def test_drawing_is_deterministic(tmp_path: Path) -> None:
    """Two runs give the same bytes, so a stale figure is never a false alarm."""
    first = make_figures.write_all(tmp_path / "first")
    second = make_figures.write_all(tmp_path / "second")
    varying = [
        a.name for a, b in zip(first, second, strict=True) if a.read_bytes() != b.read_bytes()
    ]
    assert not varying, f"these figures differ between two runs: {varying}"


def test_every_figure_is_shown_in_a_chapter() -> None:
    chapters = "\n".join(p.read_text(encoding="utf-8") for p in sorted(SPEC_DIR.glob("*.md")))
    unused = [name for name in make_figures.FIGURES if f"](figures/{name})" not in chapters]
    assert not unused, f"no spec chapter links these figures: {unused}"
