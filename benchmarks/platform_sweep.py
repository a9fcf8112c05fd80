"""Where each known issue reproduces: every entry's example, in every dtype, per platform.

    python benchmarks/run.py platforms                  every platform below, 2 at a time
    python benchmarks/run.py platforms --markdown       the table from the saved JSON

A known issue that lives in one kernel reproduces only where that kernel runs
(suites/platform.py). This replays each entry's pinned example, and the same
configuration in each other dtype, with known-issue matching off, in one child
process per platform setting (TensorFlow reads TF_ENABLE_ONEDNN_OPTS at import,
oneDNN reads ONEDNN_MAX_CPU_ISA once), and records R (reproduces), . (conforms)
or u (outside the surface's declaration). The `requires` and `when` of the
entries in adapters/known_issues/ are read off this table; rerun it after a
framework upgrade or on a new CPU. Levels above the CPU's own cannot be emulated.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from benchmarks.record import RESULTS, ROOT

if TYPE_CHECKING:
    from adapters.base import Adapter

RESULT = RESULTS / "platform-sweep.json"
DTYPES = ("float64", "float32", "float16", "bfloat16")
FRAMEWORKS = ("torch", "tensorflow", "keras")
# Name -> environment. oneDNN levels from AVX2 up, TensorFlow's oneDNN forced on, then off.
PLATFORMS = {
    "native": {"TF_ENABLE_ONEDNN_OPTS": "1"},
    "avx512_core_fp16": {"TF_ENABLE_ONEDNN_OPTS": "1", "ONEDNN_MAX_CPU_ISA": "AVX512_CORE_FP16"},
    "avx512_core_bf16": {"TF_ENABLE_ONEDNN_OPTS": "1", "ONEDNN_MAX_CPU_ISA": "AVX512_CORE_BF16"},
    "avx512_core_vnni": {"TF_ENABLE_ONEDNN_OPTS": "1", "ONEDNN_MAX_CPU_ISA": "AVX512_CORE_VNNI"},
    "avx512_core": {"TF_ENABLE_ONEDNN_OPTS": "1", "ONEDNN_MAX_CPU_ISA": "AVX512_CORE"},
    "avx2": {"TF_ENABLE_ONEDNN_OPTS": "1", "ONEDNN_MAX_CPU_ISA": "AVX2"},
    "tf_onednn_off": {"TF_ENABLE_ONEDNN_OPTS": "0"},
    "no_avx512": {
        "TF_ENABLE_ONEDNN_OPTS": "0",
        "ONEDNN_MAX_CPU_ISA": "AVX2",
        "ATEN_CPU_CAPABILITY": "avx2",
    },
}


def replay_all(frameworks: tuple[str, ...]) -> dict[str, str]:
    """In this process: '<entry>|<surface>|<dtype>' -> R, . or u."""
    from adapters.registry import select
    from suites import descriptor, fixed, known_issues, outcomes
    from suites.support import unsupported_reason
    from suites.verdict import Nonconformance

    adapters: dict[str, Adapter | None] = {}
    found: dict[str, str] = {}
    for issue in known_issues.registry():
        if issue.framework not in frameworks:
            continue
        base = descriptor.decode(issue.example)
        for surface in issue.surfaces:
            if surface not in adapters:
                adapters[surface] = select([surface], [])[0].adapter
            adapter = adapters[surface]
            if adapter is None:
                continue
            for dtype in DTYPES:
                text = issue.example.replace(f"dtype={base.dtype}", f"dtype={dtype}")
                setup = descriptor.decode(text)
                key = f"{issue.id}|{surface}|{dtype}"
                if unsupported_reason(adapter, setup) is not None:
                    found[key] = "u"
                    continue
                outcomes.current_stats()
                with known_issues.suspended():
                    try:
                        fixed.replay(
                            adapter,
                            setup,
                            fixed.seed_of(text),
                            clause=issue.clauses[0],
                            shape_clause=issue.clauses[0],
                            description=f"sweep of {issue.id}",
                            isolate=True,
                            rejection_clause=issue.clauses[0],
                        )
                        found[key] = "."
                    except Nonconformance:
                        found[key] = "R"
    return found


def sweep(names: list[str], jobs: int) -> dict[str, dict[str, str]]:
    def one(name: str) -> tuple[str, dict[str, str]]:
        env = {**os.environ, **PLATFORMS[name], "PYTHONPATH": str(ROOT)}
        out = subprocess.run(
            [sys.executable, str(ROOT / "benchmarks" / "run.py"), "platforms", "--child"],
            env=env,
            capture_output=True,
            text=True,
            timeout=3600,
            check=True,
        ).stdout
        print(f"{name}: done", flush=True)
        return name, json.loads(out.strip().splitlines()[-1])

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        return dict(pool.map(one, names))


def markdown(results: dict[str, dict[str, str]]) -> str:
    """Rows that differ between platforms only: the rest reproduce everywhere or nowhere."""
    names = [n for n in PLATFORMS if n in results]
    keys = sorted({k for r in results.values() for k in r})
    lines = [
        "| entry | surface | dtype | " + " | ".join(names) + " |",
        "|---|---|---|" + "---|" * len(names),
    ]
    for key in keys:
        cells = [results[n].get(key, "-") for n in names]
        if len(set(cells) - {"-"}) > 1:
            lines.append("| " + " | ".join(key.split("|")) + " | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    # The child that replays every entry under one platform's environment: see sweep().
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--markdown", action="store_true", help="print the saved table")
    parser.add_argument("--only", nargs="+", choices=list(PLATFORMS), help="these platforms")
    parser.add_argument("--jobs", type=int, default=2, help="platforms at a time (default 2)")


def main(options: argparse.Namespace) -> int:
    if options.child:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        print(json.dumps(replay_all(FRAMEWORKS)))
        return 0
    if options.markdown:
        print(markdown(json.loads(RESULT.read_text(encoding="utf-8"))["results"]))
        return 0
    from suites import platform

    results = sweep(options.only or list(PLATFORMS), options.jobs)
    payload = {"platform": platform.summary(), "platforms": PLATFORMS, "results": results}
    RESULT.write_text(json.dumps(payload, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(markdown(results))
    return 0
