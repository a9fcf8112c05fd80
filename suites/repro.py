"""Standalone repro scripts for failures (`pytest --repro-dir DIR`).

A script needs only NumPy and the framework: it holds the exact operands and
expected values as literals, calls the framework's public API through the
source the adapter provides (`Adapter.repro_source`), prints the discrepancy
and exits 1 while the bug exists, 0 once the backend conforms.
"""

from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from reference.checks import SpecError
from reference.numerics import error_bound
from spec.clauses import cite
from suites import descriptor, oracle

if TYPE_CHECKING:
    from suites.verdict import Nonconformance

_directory: list[Path] = []


def configure(directory: str | None) -> None:
    _directory.clear()
    if directory:
        _directory.append(Path(directory))


def _literal(name: str, a: np.ndarray | None) -> str:
    if a is None:
        return f"{name} = None"
    values = np.asarray(a, dtype=np.float64)
    body = np.array2string(
        values.ravel(),
        separator=", ",
        threshold=sys.maxsize,
        floatmode="unique",
        max_line_width=100,
    )
    return f"{name} = np.array({body}, dtype=np.float64).reshape({values.shape})"


def script(error: Nonconformance) -> str | None:
    adapter, example = error.adapter, error.example
    setup = example.setup
    if error.clause.startswith(("GRAD.", "COST.")):
        return None  # repro scripts call the forward operation and compare values only
    source = adapter.repro_source(setup.op, setup.params, setup.dtype)
    if source is None:
        return None
    try:
        expected = oracle.expect(setup.op, example.arrays, setup.params)
    except SpecError:
        return None  # an invalid configuration has no expected values to embed
    bound = (
        np.zeros_like(expected.values)
        if setup.exact
        else error_bound(expected.magnitude, expected.terms, setup.dtype)
    )
    command = " ".join(["pytest", *sys.argv[1:]]) if sys.argv else "pytest"
    header = [
        "#!/usr/bin/env python3",
        f"# convspec repro: {cite(error.clause)}",
        f"# backend: {adapter.describe()}",
        f"# python {sys.version.split()[0]}, numpy {np.__version__}",
        f"# configuration: {descriptor.encode(setup)}",
        f"# produced by: {command}",
        "# Exits 1 while the discrepancy exists, 0 once the backend conforms.",
        *("# " + line for line in error.detail.splitlines()),
    ]
    operands = [_literal(name, a) for name, a in example.arrays.items()]
    lines = [
        *header,
        "import sys",
        "",
        "import numpy as np",
        "",
        source.strip(),
        "",
        *operands,
        _literal("expected", expected.values),
        _literal("bound", bound),
        "",
        f"got = np.asarray(call({', '.join(f'{n}={n}' for n in example.arrays)}), dtype=np.float64)",
        "if got.shape != expected.shape:",
        "    print(f'shape: got {got.shape}, expected {expected.shape}')",
        "    sys.exit(1)",
        *(
            ()
            if adapter.capabilities.values
            else ("print('conforms (shape only: this surface computes no values)')", "sys.exit(0)")
        ),
        "error = np.abs(got - expected)",
        "error[np.isnan(error)] = np.inf",
        "bad = error > bound",
        "if bad.any():",
        "    i = np.unravel_index(int(np.argmax(np.where(bad, error - bound, -1))), bad.shape)",
        "    print(f'{int(bad.sum())} of {bad.size} elements exceed the bound; worst at {i}: '",
        "          f'got {got[i]!r}, expected {expected[i]!r}, bound {bound[i]!r}')",
        "    sys.exit(1)",
        "print('conforms')",
    ]
    return "\n".join(lines) + "\n"


def write(error: Nonconformance) -> Path | None:
    """Write the failure's script into --repro-dir (the last, shrunk example wins)."""
    if not _directory:
        return None
    text = script(error)
    if text is None:
        return None
    directory = _directory[0]
    directory.mkdir(parents=True, exist_ok=True)
    test = os.environ.get("PYTEST_CURRENT_TEST", "test").split(" ")[0]
    stem = "".join(c if c.isalnum() or c in "._-" else "_" for c in test.split("::")[-1])
    digest = hashlib.sha1(test.encode()).hexdigest()[:8]
    path = directory / f"repro_{error.adapter.name}_{stem}_{digest}.py"
    path.write_text(text, encoding="utf-8")
    return path
