"""Self-tests of the runner (conftest.py) that need a pytest run of their own."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.selftest

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
