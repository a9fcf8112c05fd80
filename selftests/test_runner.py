"""Self-tests of the runner (conftest.py) that need a pytest run of their own."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

MANY = """
import pytest
from hypothesis import given, settings, strategies as st


@pytest.mark.parametrize("i", range({count}))
@settings(max_examples=1, database=None)
@given(x=st.integers())
def test_many(i, x):
    pass
"""


def test_a_thousand_parametrized_invocations_in_one_process(tmp_path: Path) -> None:
    """The error suite runs ~1000 invocations of one @given function per process under -n 1;
    Hypothesis's plugin must not nest their settings until the recursion limit."""
    count = 1500
    (tmp_path / "test_many.py").write_text(MANY.format(count=count), encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "pytest", "-p", "conftest", "-p", "no:cacheprovider", "-q"]
    result = subprocess.run(
        [*command, "--backend", "numpy", str(tmp_path / "test_many.py")],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    out = result.stdout + result.stderr
    assert result.returncode == 0 and f"{count} passed" in out, out[-3000:]


def pytest_run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


VALID = (
    "conv;x=1x1x3;w=1x1x2;b=none;stride=1;dilation=1;padding=valid;groups=1;"
    "padding_mode=zeros;same_split=end;dtype=float32;mode=bounded"
)


def test_config_runs_only_the_replay() -> None:
    result = pytest_run("--backend", "numpy", "--config", VALID)
    out = result.stdout + result.stderr
    assert result.returncode == 0, out[-3000:]
    assert "1 passed" in out and "deselected" not in out, out[-3000:]


def test_a_malformed_descriptor_is_a_usage_error_naming_the_field() -> None:
    result = pytest_run("--backend", "numpy", "--config", VALID.replace("stride=1", "stride=x"))
    assert result.returncode == 4, result.stdout[-2000:] + result.stderr[-2000:]
    assert "descriptor field stride='x'" in result.stderr, result.stderr[-2000:]


def test_an_invalid_configuration_is_replayed_as_an_error_check() -> None:
    """numpy rejects stride 0 (CONV.6): the replay passes because the backend raised."""
    result = pytest_run("--backend", "numpy", "--config", VALID.replace("stride=1", "stride=0"))
    out = result.stdout + result.stderr
    assert result.returncode == 0 and "1 passed" in out, out[-3000:]


def test_a_surface_no_known_issue_applies_to_collects_and_reports() -> None:
    """No registry entry names numpy: the known-issue test collects no pair, cleanly."""
    result = pytest_run("--backend", "numpy", "suites/test_known_issues.py", "suites/test_conv.py")
    out = result.stdout + result.stderr
    assert result.returncode == 0, out[-3000:]
    assert "INTERNALERROR" not in out and " passed" in out, out[-3000:]
