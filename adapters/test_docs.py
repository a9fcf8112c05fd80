"""The example adapter in docs/adding-a-backend.md runs, and conforms, as the page says."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.selftest

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "adding-a-backend.md"


def code_blocks() -> dict[str, str]:
    """Python blocks of the page whose first line names their file, e.g. '# toyconv.py'."""
    blocks = re.findall(r"```python\n(.*?)```", PAGE.read_text(encoding="utf-8"), flags=re.S)
    named = {}
    for block in blocks:
        first = block.splitlines()[0]
        if first.startswith("# ") and first.endswith(".py"):
            named[first[2:]] = block
    return named


def test_page_has_the_framework_and_the_adapter() -> None:
    assert set(code_blocks()) == {"toyconv.py", "toy_adapter.py"}


def test_example_adapter_is_fuzzed_and_conforms(tmp_path: Path) -> None:
    for name, source in code_blocks().items():
        (tmp_path / name).write_text(source, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT)])}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "-rs",
            "suites/test_conv.py",
            "suites/test_padding.py",
            "suites/test_transposed.py",
            "--adapter",
            "toy_adapter:ToyAdapter",
            "--backend",
            "toy",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    out = result.stdout + result.stderr
    assert result.returncode == 0, out
    assert "backend toy: toyconv 0.1 on cpu" in out
    assert re.search(r"\b\d+ passed", out), out
    assert "unsupported: toy declares no conv_transpose" in out, (
        "undeclared operations are reported"
    )
