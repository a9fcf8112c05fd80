"""Standalone repro scripts for failures (`pytest --repro-dir DIR`).

A script needs only NumPy and the framework: it holds the exact operands and
expected values as literals, calls the framework's public API through the
source the adapter provides (`Adapter.repro_source`), prints the discrepancy
and exits 1 while the bug exists, 0 once the backend conforms.

A failure names its script's path when it is raised (`plan`); the script is written once,
when the test call ends (this module's hook): for the examples the test ended with, and
for the last failure of every other script's path (one a test caught). Each failing
example that Hypothesis tries while it shrinks would otherwise cost a reference
computation and a script.
"""

from __future__ import annotations

import hashlib
import os
import sys
from collections.abc import Generator
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pytest

from reference.checks import SpecError
from spec.clauses import cite
from suites import descriptor, oracle

if TYPE_CHECKING:
    from suites.verdict import Nonconformance

# Where this run writes its scripts (--repro-dir, or beside the hunt's report); None: nowhere.
DIRECTORY = pytest.StashKey[Path | None]()


@dataclass
class _Planned:
    """The failures of the running test call that name a script, the last one per path."""

    directory: Path
    last: dict[Path, Nonconformance] = field(default_factory=dict)


# Set for the duration of each test call of a run that writes scripts.
_planned: ContextVar[_Planned | None] = ContextVar("convspec_repro_planned", default=None)


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
    bound = expected.bound(setup.dtype, setup.exact)
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


def plan(error: Nonconformance) -> None:
    """Name the script of `error` (`error.repro`) where this test call writes scripts;
    the hook writes it when the call ends, or sets `error.repro` back to None where the
    failure has no script."""
    planned = _planned.get()
    if planned is None:
        return
    # The test as it runs (its id up to the first space), as pytest tells it.
    test = os.environ.get("PYTEST_CURRENT_TEST", "test").split(" ")[0]
    stem = "".join(c if c.isalnum() or c in "._-" else "_" for c in test.split("::")[-1])
    digest = hashlib.sha1(test.encode()).hexdigest()[:8]
    path = planned.directory / f"repro_{error.adapter.name}_{stem}_{digest}.py"
    error.repro = path
    planned.last[path] = error


def write(error: Nonconformance) -> None:
    """Write the script that `plan` named for `error`, if it has one."""
    assert error.repro is not None
    text = script(error)
    if text is None:
        error.repro = None
        return
    error.repro.parent.mkdir(parents=True, exist_ok=True)
    error.repro.write_text(text, encoding="utf-8")


@pytest.hookimpl(wrapper=True, trylast=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, object, object]:
    """Write the scripts of this call's failures once it ends: inside the other wrappers
    (trylast), so that suites/failures.py reports the paths of the scripts written."""
    directory = item.config.stash.get(DIRECTORY, None)
    if directory is None:
        return (yield)
    planned = _Planned(directory)
    token = _planned.set(planned)
    ended: list[Nonconformance] = []
    try:
        return (yield)
    except BaseException as error:
        # Imported here: it imports the verdict, which imports this module.
        from suites.failures import nonconformances

        ended = [e for e in nonconformances(error) if e.repro is not None]
        raise
    finally:
        _planned.reset(token)
        # The examples the test ended with last, in their order: where two share a path
        # the later one's script stays, as when each was written the moment it failed.
        for failure in [e for e in planned.last.values() if e not in ended] + ended:
            write(failure)
