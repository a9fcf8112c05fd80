"""The examples of the guides run as the pages say: the adapter of docs/adding-a-backend.md
is fuzzed and conforms, and the variant of docs/adding-a-variant.md is fuzzed, error-tested
and replayed once its blocks are applied to a copy of the repository."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

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


def run_pytest(cwd: Path, pythonpath: list[Path], *args: str) -> str:
    """pytest's output of a run in a child process that succeeded."""
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-rs", *args],
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(str(p) for p in pythonpath)},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    out = result.stdout + result.stderr
    assert result.returncode == 0, out
    return out


def test_page_has_the_framework_and_the_adapter() -> None:
    assert set(code_blocks()) == {"toyconv.py", "toy_adapter.py"}


def test_example_adapter_is_fuzzed_and_conforms(tmp_path: Path) -> None:
    for name, source in code_blocks().items():
        (tmp_path / name).write_text(source, encoding="utf-8")
    out = run_pytest(
        ROOT,
        [tmp_path, ROOT],
        "suites/test_conv.py",
        "suites/test_padding.py",
        "suites/test_transposed.py",
        "--adapter",
        "toy_adapter:ToyAdapter",
        "--backend",
        "toy",
    )
    assert "backend toy: toyconv 0.1 on cpu" in out
    assert re.search(r"\b\d+ passed", out), out
    assert "unsupported: toy declares no conv_transpose" in out, (
        "undeclared operations are reported"
    )


VARIANT_PAGE = ROOT / "docs" / "adding-a-variant.md"
# The first line of a block of the variant guide: the file, and where in it the block goes.
_BLOCK_HEADER = re.compile(r"^(?:# |<!-- )(?P<path>[\w/.]+)(?: \((?P<where>[^)]*)\))?(?: -->)?$")


def variant_blocks() -> list[tuple[str, str | None, str]]:
    """(path, where, text) of each block of the variant guide that names its file."""
    text = VARIANT_PAGE.read_text(encoding="utf-8")
    found = []
    for block in re.findall(r"```(?:python|markdown)\n(.*?)```", text, flags=re.S):
        first, _, rest = block.partition("\n")
        header = _BLOCK_HEADER.match(first)
        if header:
            found.append((header["path"], header["where"], rest))
    return found


def _apply(root: Path, path: str, where: str | None, text: str) -> None:
    """Write a new file, or put the block where its header says in an existing one."""
    target = root / path
    if where is None:
        assert not target.exists(), f"{path} exists: its block must say where it goes"
        target.write_text(text, encoding="utf-8")
        return
    source = target.read_text(encoding="utf-8")
    if where == "add to the end":
        target.write_text(source + text, encoding="utf-8")
        return
    how, anchor = re.fullmatch(
        r"(add after|add before|in place of the line) `(.*)`", where
    ).groups()
    lines = source.splitlines(keepends=True)
    at = [i for i, line in enumerate(lines) if line.startswith(anchor)]
    assert len(at) == 1, f"{path}: {len(at)} lines start with {anchor!r}"
    i = at[0]
    if how == "add after":
        lines.insert(i + 1, text)
    elif how == "add before":
        lines.insert(i, text)
    else:
        lines[i] = text
    target.write_text("".join(lines), encoding="utf-8")


def test_variant_page_names_every_file_of_its_table() -> None:
    touched = {path for path, _, _ in variant_blocks()}
    assert touched == {
        "spec/flip.md",
        "reference/flip.py",
        "adapters/base.py",
        "suites/strategies.py",
        "suites/operations.py",
        "suites/test_flip.py",
        "adapters/numpy_backend.py",
    }


def test_example_variant_is_fuzzed_error_tested_and_replayed(tmp_path: Path) -> None:
    root = tmp_path / "convspec"
    root.mkdir()
    ignore = shutil.ignore_patterns("__pycache__", ".hypothesis")
    for name in ("adapters", "reference", "spec", "suites"):
        shutil.copytree(ROOT / name, root / name, ignore=ignore)
    for name in ("conftest.py", "pyproject.toml"):
        shutil.copy(ROOT / name, root / name)
    for path, where, text in variant_blocks():
        _apply(root, path, where, text)

    def pytest(*args: str) -> str:
        return run_pytest(root, [root], *args)

    suite = pytest("suites/test_flip.py", "--backend", "numpy")
    assert re.search(r"\b1 passed", suite), suite
    errors = pytest("suites/test_errors.py", "-k", "flip", "--backend", "numpy")
    assert re.search(r"\b2 passed", errors), errors
    replay = pytest(
        "--config", "flip;x=1x2x3x4;axes=1;dtype=float32;mode=exact", "--backend", "numpy"
    )
    assert re.search(r"\b1 passed", replay), replay
