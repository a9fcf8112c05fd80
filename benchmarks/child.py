"""One child pytest with the `benchmarks.counting` plugin, and the counts it wrote."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.record import ROOT


@dataclass
class Child:
    rc: int
    wall: float
    output: str
    counts: dict[str, Any] | None
    timed_out: bool = False


def run_child(args: Sequence[str], timeout: float, env: dict[str, str] | None = None) -> Child:
    """`python -m pytest ARGS -p benchmarks.counting`, with its counts read back."""
    with tempfile.TemporaryDirectory(prefix="convspec-bench-") as tmp:
        counts_path = Path(tmp) / "counts.json"
        command = [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "-p",
            "benchmarks.counting",
            "--count-json",
            str(counts_path),
            *args,
        ]
        started = time.perf_counter()
        try:
            done = subprocess.run(
                command,
                cwd=ROOT,
                capture_output=True,
                text=True,
                timeout=timeout,
                env={**os.environ, **(env or {})},
                check=False,
            )
            rc, output, timed_out = done.returncode, done.stdout + done.stderr, False
        except subprocess.TimeoutExpired as exc:
            rc, timed_out = -1, True
            output = _text(exc.stdout) + _text(exc.stderr)
        wall = time.perf_counter() - started
        counts = (
            json.loads(counts_path.read_text(encoding="utf-8")) if counts_path.exists() else None
        )
    return Child(rc, wall, output, counts, timed_out)


def _text(data: bytes | str | None) -> str:
    if data is None:
        return ""
    return data.decode(errors="replace") if isinstance(data, bytes) else data
