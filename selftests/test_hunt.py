"""Self-tests of the hunt profile (suites/hunt.py, suites/failures.py): budget, replay, report."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from hypothesis import settings

from suites import dispatch

ROOT = Path(__file__).resolve().parent.parent

COUNTED = """
import os
import time

from hypothesis import given, strategies as st


@given(x=st.integers())
def test_counted(x):
    with open(os.environ["CALLS"], "a") as f:
        f.write(f"{time.monotonic()}\\n")


def test_plain():
    with open(os.environ["PLAIN"], "a") as f:
        f.write("called\\n")
"""

FAILING = """
import os

from hypothesis import given, strategies as st


@given(x=st.integers(0, 10**6))
def test_small_numbers_only(x):
    with open(os.environ["CALLS"], "a") as f:
        f.write(f"{x}\\n")
    assert x < 1000, "the failure the database must keep"
"""


def run(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """A pytest run in `tmp_path` (so the hunt database lands there) with convspec's runner."""
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "conftest", "-p", "no:cacheprovider", "-q", *args],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT), **env},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def test_the_hunt_weights_the_dispatch_tier_and_shrinks_toward_the_small_one() -> None:
    assert dispatch.tier_options(dispatch.SIZE_CLASSES) == dispatch.SIZE_CLASSES, (
        "outside the hunt the tiers must be drawn as the ci profile's derandomized runs expect"
    )
    dispatch.weight_toward_dispatch(True)
    try:
        options = dispatch.tier_options(dispatch.SIZE_CLASSES)
        small_only = dispatch.tier_options(("small",))
    finally:
        dispatch.weight_toward_dispatch(False)
    assert options[0] == "small", f"shrinking must still reach the small tier: {options}"
    assert options.count("dispatch") == dispatch.HUNT_DISPATCH_WEIGHT * options.count("small"), (
        f"the hunt draws the dispatch tier {dispatch.HUNT_DISPATCH_WEIGHT}x as often: {options}"
    )
    assert small_only == ("small",), (
        f"a strategy limited to the small tier stays there: {small_only}"
    )


def test_a_hunt_runs_batches_of_examples_until_the_budget_is_spent(tmp_path: Path) -> None:
    (tmp_path / "test_counted.py").write_text(COUNTED, encoding="utf-8")
    calls, plain = tmp_path / "calls.txt", tmp_path / "plain.txt"
    minutes = 0.05
    result = run(
        tmp_path,
        "--backend",
        "numpy",
        "--hypothesis-profile",
        "hunt",
        "--hunt-minutes",
        str(minutes),
        "test_counted.py",
        CALLS=str(calls),
        PLAIN=str(plain),
    )
    out = result.stdout + result.stderr
    assert result.returncode == 0, out[-3000:]
    times = [float(t) for t in calls.read_text().split()]
    spent = times[-1] - times[0]
    batch = settings.get_profile("hunt").max_examples
    assert len(times) > batch, (
        f"a hunt runs several batches of the profile's {batch} examples: {len(times)} examples"
    )
    assert minutes * 60 * 0.9 <= spent <= minutes * 60 + 30, (
        f"the examples span {spent:.1f} s for a budget of {minutes * 60:g} s plus one batch"
    )
    assert plain.read_text().count("called") == 1, "a test without Hypothesis runs once"


def test_a_hunt_replays_the_last_failure_first(tmp_path: Path) -> None:
    (tmp_path / "test_failing.py").write_text(FAILING, encoding="utf-8")
    first, second = tmp_path / "first.txt", tmp_path / "second.txt"
    args = ("--backend", "numpy", "--hypothesis-profile", "hunt", "--hunt-minutes", "0.02")
    found = run(tmp_path, *args, "test_failing.py", CALLS=str(first))
    assert found.returncode == 1, (found.stdout + found.stderr)[-3000:]
    assert (tmp_path / ".hypothesis" / "hunt").is_dir(), "the hunt keeps its database there"
    again = run(tmp_path, *args, "test_failing.py", CALLS=str(second))
    assert again.returncode == 1, (again.stdout + again.stderr)[-3000:]
    replayed = second.read_text().split()[0]
    assert replayed == "1000", (
        f"the second hunt must start from the shrunk failure 1000, not {replayed}"
    )


def test_hunt_minutes_without_the_hunt_profile_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "test_counted.py").write_text(COUNTED, encoding="utf-8")
    result = run(tmp_path, "--backend", "numpy", "--hunt-minutes", "1", "test_counted.py")
    assert result.returncode == 4, (result.stdout + result.stderr)[-3000:]
    assert "--hunt-minutes needs --hypothesis-profile hunt" in result.stderr, result.stderr[-2000:]


BUGGY = """
from adapters.numpy_backend import NumpyAdapter


class BiasDropped(NumpyAdapter):
    \"\"\"Accepts the bias and never adds it; offers a repro source as a framework would.\"\"\"

    name = "buggy"

    def conv(self, x, w, b, p):
        return super().conv(x, w, None, p)

    def repro_source(self, op, p, dtype):
        return "def call(**arrays):\\n    raise SystemExit('no framework behind this adapter')\\n"
"""


def test_the_report_lists_each_unregistered_failure_with_its_repro_script(tmp_path: Path) -> None:
    """An adapter that drops the bias fails test_conv: the report names the failure, its
    descriptor and the repro script that the hunt wrote beside the report."""
    (tmp_path / "buggy.py").write_text(BUGGY, encoding="utf-8")
    report = tmp_path / "report.json"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "-q",
            str(ROOT / "suites" / "test_conv.py"),
            "-k",
            "test_conv_matches_reference",
            "--backend",
            "buggy",
            "--adapter",
            "buggy:BiasDropped",
            "--hypothesis-profile",
            "hunt",
            "--hunt-minutes",
            "0.02",
            f"--conformance-report={report}",
        ],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(tmp_path)])},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    out = result.stdout + result.stderr
    assert result.returncode == 1, out[-3000:]
    failures = json.loads(report.read_text(encoding="utf-8"))["failures"]
    assert len(failures) == 1, f"one failing test, one failure in the report: {failures}"
    failure = failures[0]
    assert failure["surface"] == "buggy" and failure["clause"] == "CONV.2", failure
    assert failure["descriptor"].startswith("conv;"), failure
    assert failure["repro"] is not None, f"the hunt writes a repro script: {failure}"
    script = Path(failure["repro"])
    assert script.parent == tmp_path / "report-repro", f"written beside the report: {script}"
    assert "# convspec repro:" in script.read_text(encoding="utf-8"), script
    assert failure["descriptor"] in report.with_suffix(".md").read_text(encoding="utf-8"), (
        "the Markdown report lists the failure too"
    )
