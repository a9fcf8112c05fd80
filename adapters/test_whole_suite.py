"""The whole conformance suite runs green on correct adapters that declare little.

An adapter author runs every module with `--adapter ... --backend ...`; whatever the
adapter does not declare must be reported unsupported, never failed, never an internal
error. Two correct adapters are run over every conformance module: the example of
docs/adding-a-backend.md and `MinimalAdapter` below (one rank, float64 only, explicit
symmetric padding only, no bias, no groups, no dilation).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from adapters.base import CONV, Adapter, Capabilities, OpSupport
from adapters.test_docs import ROOT, code_blocks
from reference import conv as conv_ref
from reference.params import Conv


class MinimalAdapter(Adapter):
    """A correct conv (the embedded NumPy backend's) that declares as little as it can."""

    name = "minimal"
    framework = "minimal"
    capabilities = Capabilities(
        ops={
            CONV: OpSupport(
                ranks=frozenset({2}),
                dtypes=frozenset({"float64"}),
                padding=frozenset({"symmetric"}),
                groups=False,
                dilation=False,
                bias=False,
            )
        }
    )

    def version(self) -> str:
        return "1"

    def conv(self, x: np.ndarray, w: np.ndarray, b: np.ndarray | None, p: Conv) -> np.ndarray:
        return conv_ref.conv_fast(x, w, b, p)


def run_whole_suite(tmp_path: Path, adapter: str, surface: str, pythonpath: list[str]) -> dict:
    """Every conformance module on one surface, as a backend author would run it; returns
    the JSON conformance report after checking that pytest exited 0 with tests run."""
    report = tmp_path / "report.json"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([*pythonpath, str(ROOT)])}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "-q",
            "-m",
            "not selftest",
            "--hypothesis-profile",
            "ci",
            "--adapter",
            adapter,
            "--backend",
            surface,
            "--conformance-report",
            str(report),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    out = result.stdout[-6000:] + result.stderr[-3000:]
    assert result.returncode == 0, f"the whole suite on {surface} did not pass:\n{out}"
    assert "INTERNALERROR" not in out, out
    assert " passed" in out, f"no test ran:\n{out}"
    return json.loads(report.read_text(encoding="utf-8"))


def check_matrix(report: dict, surface: str, declared: set[str]) -> None:
    cells = {variant: row[surface] for variant, row in report["matrix"].items()}
    failed = [v for v, cell in cells.items() if cell == "fail" or cell.startswith("known")]
    assert not failed, f"{surface} failed (or matched a known issue) in {failed}: {cells}"
    for variant in declared:
        assert cells.get(variant) == "pass", f"{variant} on {surface}: {cells.get(variant)}"
    undeclared = {"transposed", "deformable", "shuffle", "gradients"}
    for variant in undeclared:
        assert cells.get(variant, "unsupported") == "unsupported", (
            f"{variant} is undeclared by {surface} but its cell is {cells.get(variant)}"
        )


def test_minimal_adapter_passes_the_whole_suite(tmp_path: Path) -> None:
    report = run_whole_suite(tmp_path, "adapters.test_whole_suite:MinimalAdapter", "minimal", [])
    check_matrix(report, "minimal", {"conv", "acnet", "errors", "relations"})


def test_docs_adapter_passes_the_whole_suite(tmp_path: Path) -> None:
    for name, source in code_blocks().items():
        (tmp_path / name).write_text(source, encoding="utf-8")
    report = run_whole_suite(tmp_path, "toy_adapter:ToyAdapter", "toy", [str(tmp_path)])
    check_matrix(report, "toy", {"conv", "acnet", "errors", "relations"})
