"""Self-tests of backend selection: --backend, --adapter, entry points, and the report header.

These run convspec itself in a child pytest, as a user would, on an external
adapter defined in a temporary module outside this repository.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from adapters.registry import BackendSelectionError, load_spec, select

ROOT = Path(__file__).resolve().parent.parent

EXTERNAL = textwrap.dedent(
    '''
    """A backend defined outside convspec: NumPy's conv, honest or with one planted fault."""
    import numpy as np
    from adapters.base import CONV, Adapter, Capabilities, OpSupport


    class Honest(Adapter):
        name = "external"
        framework = "numpy"
        capabilities = Capabilities(
            ops={CONV: OpSupport(ranks=frozenset({1, 2}), dtypes=frozenset({"float64", "float32"}))}
        )

        def conv(self, x, w, b, p):
            return self.compute(x, w, b, p)

        def compute(self, x, w, b, p):
            from reference.conv import conv_fast  # stands in for a framework's call
            return conv_fast(x, w, b, p).astype(x.dtype)

        def repro_source(self, op, p, dtype):
            return REPRO.format(params=repr(p), dtype=dtype, bug=type(self).BUG)


    class OffByOneBias(Honest):
        """Adds the bias of the next output channel: a plausible indexing slip."""
        name = "external-wrong"
        BUG = "np.roll(b, -1)"

        def compute(self, x, w, b, p):
            b = None if b is None else np.roll(b, -1)
            return super().compute(x, w, b, p)


    Honest.BUG = "b"

    REPRO = """
    from reference.conv import conv_fast
    from reference.params import Conv

    def call(x, w, b):
        b = None if b is None else {bug}
        return conv_fast(x.astype("{dtype}"), w.astype("{dtype}"), b, {params})
    """
    '''
)


def run_convspec(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    module = tmp_path / "external_backend.py"
    module.write_text(EXTERNAL, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT)])}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def test_unknown_backend_fails_at_once_listing_known_ones() -> None:
    with pytest.raises(
        BackendSelectionError, match=r"unknown backend\(s\) nosuch; known backends: .*numpy"
    ):
        select(["nosuch"], [])


def test_unknown_backend_on_the_command_line(tmp_path: Path) -> None:
    result = run_convspec(tmp_path, "suites/test_conv.py", "--backend", "nosuch")
    assert result.returncode == 4, result.stdout + result.stderr
    assert "unknown backend(s) nosuch; known backends:" in result.stderr


def test_bad_adapter_spec_is_a_usage_error() -> None:
    with pytest.raises(BackendSelectionError, match=r"expected 'package\.module:ClassName'"):
        load_spec("no_colon_here")
    with pytest.raises(BackendSelectionError, match="cannot import"):
        load_spec("surely_not_a_module_xyz:Thing")


def test_numpy_backend_is_always_available() -> None:
    loaded = select(["numpy"], [])
    assert [b.name for b in loaded] == ["numpy"] and loaded[0].adapter is not None


def test_external_adapter_is_fuzzed_like_a_builtin(tmp_path: Path) -> None:
    result = run_convspec(
        tmp_path,
        "suites/test_conv.py",
        "--backend",
        "external",
        "--adapter",
        "external_backend:Honest",
        "-v",
    )
    out = result.stdout + result.stderr
    assert result.returncode == 0, out
    assert "backend external: numpy" in out, "the report header lists the external backend"
    assert "test_conv_matches_reference[external] PASSED" in out, out


def test_wrong_external_adapter_fails_with_clause_and_repro(tmp_path: Path) -> None:
    repro_dir = tmp_path / "repro"
    result = run_convspec(
        tmp_path,
        "suites/test_conv.py::test_conv_matches_reference",
        "--backend",
        "external-wrong",
        "--adapter",
        "external_backend:OffByOneBias",
        "--repro-dir",
        str(repro_dir),
        "--hypothesis-profile",
        "ci",
    )
    out = result.stdout + result.stderr
    assert result.returncode == 1, out
    assert "clause:   CONV.2" in out, out
    assert "replay:   pytest --config 'conv;" in out
    scripts = sorted(repro_dir.glob("repro_external-wrong_*.py"))
    assert scripts, f"no repro script written: {out}"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    standalone = subprocess.run(
        [sys.executable, str(scripts[0])], capture_output=True, text=True, env=env, check=False
    )
    assert standalone.returncode == 1, standalone.stdout + standalone.stderr
    assert "exceed the bound" in standalone.stdout
    # The same script with the honest backend's call conforms and exits 0.
    honest = scripts[0].read_text(encoding="utf-8").replace("np.roll(b, -1)", "b")
    fixed = tmp_path / "fixed.py"
    fixed.write_text(honest, encoding="utf-8")
    rerun = subprocess.run(
        [sys.executable, str(fixed)], capture_output=True, text=True, env=env, check=False
    )
    assert rerun.returncode == 0 and "conforms" in rerun.stdout, rerun.stdout + rerun.stderr


def test_conformance_report_is_the_same_with_and_without_xdist(tmp_path: Path) -> None:
    """Workers' results are merged in the controller: -n 2 reports what one process does."""
    reports = {}
    for workers in ("0", "2"):
        path = tmp_path / f"n{workers}" / "conformance.json"
        result = run_convspec(
            tmp_path,
            "suites/test_conv.py",
            "--backend",
            "numpy",
            "--hypothesis-profile",
            "ci",
            "-n",
            workers,
            "--conformance-report",
            str(path),
        )
        assert result.returncode == 0, result.stdout + result.stderr
        report = json.loads(path.read_text(encoding="utf-8"))
        for record in report["records"]:
            record["tests"] = sorted(record["tests"])
        reports[workers] = report
        assert path.with_suffix(".md").read_text(encoding="utf-8").count("| conv |") == 1
    assert reports["0"]["records"], "the report has records"
    assert reports["0"] == reports["2"]


def test_an_unknown_extension_is_refused_where_it_is_declared() -> None:
    from adapters.base import Extension

    with pytest.raises(ValueError, match=r"unknown extension 'batchless'.*ERR\.16"):
        Extension("batchless", "https://example.org/docs")
