"""Self-tests of the mutation benchmark: the mutants are well formed, and the suites kill some.

The killing test runs a few fast mutants through a child pytest exactly as
`benchmarks/run.py mutants` does, with the `ci` profile, so that a change which
blunts the suites (a strategy that stops drawing a parameter, a comparison
that stops looking) fails CI here and not only in the full benchmark.
"""

from __future__ import annotations

import inspect
import json
import os
import subprocess
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from adapters.base import OPERATIONS
from adapters.numpy_backend import NumpyAdapter
from benchmarks import mutation
from benchmarks.mutants import MUTANTS, THEMES, adapter_spec, theme
from benchmarks.record import ROOT

# Fast kills across four suites: (mutant, suite module, the clause that must catch it).
KILLS = (
    ("mutant.kernel_flipped", "suites/test_conv.py", "CONV.2"),
    ("mutant.bias_rolled", "suites/test_conv.py", "CONV.2"),
    ("mutant.deform_offsets_swapped", "suites/test_deformable.py", "DEFORM.8"),
    ("mutant.wrong_dtype", "suites/test_conv.py", "LAYOUT.3"),
)


def test_at_least_thirty_mutants_in_every_theme() -> None:
    assert len(MUTANTS) >= 30
    assert {theme(name) for name in MUTANTS} == {m.__name__.rsplit(".", 1)[-1] for m in THEMES}


@pytest.mark.parametrize("name", sorted(MUTANTS))
def test_mutant_is_named_and_documented_in_one_line(name: str) -> None:
    cls = MUTANTS[name]
    doc = inspect.getdoc(cls) or ""
    assert cls.name == name and name.startswith("mutant."), name
    assert doc and "\n" not in doc, f"{name}: needs a one-line docstring saying what it breaks"
    assert doc != inspect.getdoc(NumpyAdapter), f"{name} inherits its docstring"


def test_names_and_docstrings_are_unique() -> None:
    classes = list(MUTANTS.values())
    assert len({c.name for c in classes}) == len(classes)
    assert len({c.__doc__ for c in classes}) == len(classes)
    assert len({adapter_spec(n) for n in MUTANTS}) == len(classes)


@pytest.mark.parametrize("name", sorted(MUTANTS))
def test_mutant_changes_one_operation_of_the_reference_backend(name: str) -> None:
    """One defect: one operation overridden, the declaration inherited unchanged."""
    cls = MUTANTS[name]
    assert issubclass(cls, NumpyAdapter)
    overridden = [op for op in OPERATIONS if op in vars(cls)]
    assert len(overridden) == 1, f"{name} overrides {overridden}"
    assert cls().capabilities == NumpyAdapter.capabilities


def test_quick_subset_names_real_mutants_and_suite_modules() -> None:
    assert set(mutation.QUICK) <= set(MUTANTS)
    assert len({theme(n) for n in mutation.QUICK}) >= 7, "the quick subset should span the themes"
    for path in mutation.QUICK.values():
        assert (ROOT / path).is_file(), path


def test_fast_mutants_are_killed_with_the_ci_profile() -> None:
    """Each mutant fails its suite module in a child pytest, on the clause that names its defect."""

    def kill(case: tuple[str, str, str]) -> mutation.MutantResult:
        name, suite, _ = case
        return mutation.run_mutant(name, "ci", suite, timeout=300, shrink=False)

    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(kill, KILLS))
    for (name, suite, clause), result in zip(KILLS, results, strict=True):
        assert result.status == "killed", f"{name} survived {suite}:\n{result.output_tail}"
        assert result.clause == clause, f"{name}: caught by {result.clause}, expected {clause}"
        assert result.examples is not None and result.examples >= 1
        assert result.seconds is not None and 0 < result.seconds <= result.wall


COUNTED = textwrap.dedent(
    """
    import pytest
    from hypothesis import given, strategies as st

    def test_plain_passes():
        pass

    def test_plain_skips():
        pytest.skip("unsupported")

    @given(st.integers())
    def test_generated_fails_at_once(x):
        assert False, "the first example fails"
    """
)


def test_counting_plugin_counts_examples_until_the_first_failure(tmp_path: Path) -> None:
    (tmp_path / "test_counted.py").write_text(COUNTED, encoding="utf-8")
    out = tmp_path / "counts.json"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    args = ["-p", "benchmarks.counting", "--count-json", str(out), "--count-stop-first"]
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args, "test_counted.py"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    counts = json.loads(out.read_text(encoding="utf-8"))
    first = counts["first_failure"]
    assert done.returncode == 2, done.stdout + done.stderr  # stopped as interrupted
    assert first["test"].endswith("test_generated_fails_at_once")
    assert (first["examples"], first["examples_in_test"]) == (2, 1)  # the skip is no example
    assert first["error"] == "AssertionError" and first["clause"] is None
    assert [t["outcome"] for t in counts["tests"]] == ["passed", "skipped", "failed"]
    assert counts["peak_rss_kib"] > 0 and counts["settings"]["max_examples"] >= 1
