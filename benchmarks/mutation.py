"""The mutation benchmark: do the conformance suites catch faulty backends?

    python benchmarks/run.py mutants --profile ci            every mutant against the suites
    python benchmarks/run.py mutants --profile ci --quick    a fast, diverse subset (CI)
    python benchmarks/run.py mutants --only mutant.bias_rolled mutant.tf32

Each mutant (benchmarks/mutants) runs in a child pytest, as an external
adapter would (`--backend NAME --adapter MODULE:CLASS -x`), with the
`benchmarks.counting` plugin, which records the examples and seconds until
the first failure and the clause that failed. By default the child stops at
that first failure, before Hypothesis shrinks it (`--shrink` lets it
shrink): the first failure is what a mutation benchmark measures.

Exits non-zero if any mutant survives or a child run breaks.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from benchmarks import options as shared
from benchmarks.child import run_child
from benchmarks.record import RESULTS, command_line, machine, write_json

# A diverse subset for CI, one per theme, each run against the suite module of
# its theme only (the whole suite reaches transposed and shuffle tests last):
# the subset checks that each theme's module still has teeth, in minutes.
QUICK = {
    "mutant.kernel_flipped": "suites/test_conv.py",
    "mutant.bias_rolled": "suites/test_conv.py",
    "mutant.same_split_swapped": "suites/test_padding.py",
    "mutant.groups_interleaved": "suites/test_grouped.py",
    "mutant.transposed_kernel_not_flipped": "suites/test_transposed.py",
    "mutant.deform_offsets_swapped": "suites/test_deformable.py",
    "mutant.shuffle_inverse": "suites/test_shuffle.py",
    "mutant.float32_as_float16": "suites/test_conv.py",
    "mutant.batch_reuses_first": "suites/test_conv.py",
}

# The suite modules that state each theme's clauses: `--home` runs every mutant
# against its theme's modules only, to show that they catch it on their own
# (in a whole-suite run with -x, an earlier module may get there first).
HOME = {
    "padding": "suites/test_padding.py",
    "strides": "suites/test_conv.py suites/test_dilated.py",
    "groups": "suites/test_grouped.py",
    "bias": "suites/test_conv.py",
    "transposed": "suites/test_transposed.py",
    "deformable": "suites/test_deformable.py",
    "shuffle": "suites/test_shuffle.py",
    "numerics": "suites/test_conv.py",
    "edges": "suites/test_conv.py",
    "errors": "suites/test_errors.py",
}
HOME_OVERRIDES = {"mutant.empty_batch_raises": "suites/test_errors.py"}

CLAUSE_LINE = re.compile(r"^\s*(?:E\s+)?clause:\s+(\S+)", re.MULTILINE)


@dataclass
class MutantResult:
    mutant: str
    theme: str
    doc: str
    status: str  # killed, survived, error, timeout
    seconds: float | None = None  # session start to the first failing example
    examples: int | None = None  # examples run in the session until then
    examples_in_test: int | None = None
    clause: str | None = None
    test: str | None = None
    error: str | None = None
    detail: str | None = None
    replay: str | None = None
    wall: float = 0.0  # the whole child run, interpreter start included
    peak_rss_kib: int | None = None
    rc: int = 0
    output_tail: str | None = None
    suites: str | None = None  # the test path(s) the child ran, space-separated
    max_examples: int | None = None  # the profile's examples per test
    seconds_runs: list[float] | None = None  # with --repeat: seconds to kill of each run
    wall_runs: list[float] | None = None


def mutant_args(name: str, profile: str, suites: str, shrink: bool) -> list[str]:
    from benchmarks.mutants import adapter_spec

    args = [*suites.split(), "-q", "-x", "--backend", name, "--adapter", adapter_spec(name)]
    args += ["--hypothesis-profile", profile]
    return args if shrink else [*args, "--count-stop-first"]


def run_mutant(name: str, profile: str, suites: str, timeout: float, shrink: bool) -> MutantResult:
    from benchmarks.mutants import MUTANTS, theme

    doc = (MUTANTS[name].__doc__ or "").strip()
    child = run_child(mutant_args(name, profile, suites, shrink), timeout)
    result = MutantResult(name, theme(name), doc, "error", wall=child.wall, rc=child.rc)
    result.suites = suites
    counts = child.counts or {}
    result.peak_rss_kib = counts.get("peak_rss_kib")
    result.max_examples = (counts.get("settings") or {}).get("max_examples")
    first = counts.get("first_failure")
    if first is not None:
        result.status = "killed"
        result.seconds = first["seconds"]
        result.examples = first["examples"]
        result.examples_in_test = first["examples_in_test"]
        result.test = first["test"]
        result.error = first["error"]
        result.detail = first.get("detail")
        result.replay = first.get("replay")
        result.clause = first.get("clause") or _clause_from_output(child.output)
    elif child.timed_out:
        result.status = "timeout"
    elif child.rc == 0:
        result.status = "survived"
        result.examples = counts.get("examples")
        result.seconds = counts.get("session_seconds")
    if result.status in ("error", "timeout"):
        result.output_tail = child.output[-3000:]
    return result


def _clause_from_output(output: str) -> str | None:
    match = CLAUSE_LINE.search(output)
    return match.group(1) if match else None


def short_test(nodeid: str | None) -> str:
    if not nodeid:
        return "-"
    path, _, rest = nodeid.partition("::")
    return f"{Path(path).stem}::{rest.split('[', 1)[0]}"


def print_table(results: Sequence[MutantResult]) -> None:
    header = ("mutant", "killed", "seconds", "examples", "clause", "test")
    rows = [
        (
            r.mutant,
            {"killed": "yes", "survived": "NO", "error": "ERROR", "timeout": "TIMEOUT"}[r.status],
            "-" if r.seconds is None or r.status != "killed" else f"{r.seconds:.2f}",
            "-" if r.examples is None or r.status != "killed" else str(r.examples),
            r.clause or "-",
            short_test(r.test),
        )
        for r in results
    ]
    widths = [max(len(str(row[i])) for row in (header, *rows)) for i in range(len(header))]
    for row in (header, tuple("-" * w for w in widths), *rows):
        print("  ".join(str(cell).ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())


def summarize(results: Sequence[MutantResult]) -> dict[str, Any]:
    killed = [r for r in results if r.status == "killed"]
    seconds = [r.seconds for r in killed if r.seconds is not None]
    examples = [r.examples for r in killed if r.examples is not None]
    rss = [r.peak_rss_kib for r in results if r.peak_rss_kib]
    return {
        "mutants": len(results),
        "killed": len(killed),
        "survived": sorted(r.mutant for r in results if r.status == "survived"),
        "errors": sorted(r.mutant for r in results if r.status in ("error", "timeout")),
        "median_seconds_to_kill": statistics.median(seconds) if seconds else None,
        "median_examples_to_kill": statistics.median(examples) if examples else None,
        "max_seconds_to_kill": max(seconds) if seconds else None,
        "max_examples_to_kill": max(examples) if examples else None,
        "median_child_wall": statistics.median(r.wall for r in results) if results else None,
        "peak_rss_kib_max": max(rss) if rss else None,
        "peak_rss_kib_median": statistics.median(rss) if rss else None,
        "by_clause": _by_clause(killed),
    }


def _by_clause(killed: Sequence[MutantResult]) -> dict[str, list[str]]:
    table: dict[str, list[str]] = {}
    for r in killed:
        table.setdefault(r.clause or "-", []).append(r.mutant)
    return dict(sorted(table.items()))


def main(options: argparse.Namespace) -> int:
    from benchmarks.mutants import MUTANTS

    names = list(options.only or (QUICK if options.quick else MUTANTS))
    unknown = [n for n in names if n not in MUTANTS]
    if unknown:
        print(
            f"unknown mutant(s): {', '.join(unknown)}; known: {', '.join(MUTANTS)}", file=sys.stderr
        )
        return 2
    paths = {n: suite_paths(n, options) for n in names}
    started = time.perf_counter()
    done: list[MutantResult] = []

    def one(name: str) -> MutantResult:
        runs = [
            run_mutant(name, options.profile, paths[name], options.timeout, options.shrink)
            for _ in range(options.repeat)
        ]
        result = merge_runs(runs)
        done.append(result)
        shown = f"{result.seconds:.1f}s" if result.seconds is not None else "-"
        where = f"{len(done)}/{len(names)}"
        print(f"[{where}] {name}: {result.status} ({shown}, wall {result.wall:.1f}s)", flush=True)
        return result

    with ThreadPoolExecutor(max_workers=options.jobs) as pool:
        results = list(pool.map(one, names))
    total = time.perf_counter() - started
    print()
    print_table(results)
    summary = summarize(results)
    print()
    print(
        f"{summary['killed']}/{summary['mutants']} killed in {total:.1f} s, {options.jobs} jobs; "
        f"median time to kill {_fmt(summary['median_seconds_to_kill'])} s, "
        f"median examples {_fmt(summary['median_examples_to_kill'])}"
    )
    for r in results:
        if r.status != "killed":
            print(f"\n{r.status.upper()}: {r.mutant}: {r.doc}")
            if r.output_tail:
                print(r.output_tail[-1500:])
    payload = {
        "kind": "mutants",
        "profile": options.profile,
        "quick": options.quick,
        "home": options.home,
        "repeat": options.repeat,
        "shrink": options.shrink,
        "jobs": options.jobs,
        "wall_seconds": total,
        "machine": machine(),
        "command": command_line(),
        "summary": summary,
        "results": [asdict(r) for r in results],
    }
    variant = "-quick" if options.quick else "-home" if options.home else ""
    variant += "-only" if options.only else ""
    default = RESULTS / f"mutants-{options.profile}{variant}.json"
    write_json(Path(options.json) if options.json else default, payload)
    return 0 if summary["killed"] == summary["mutants"] else 1


def suite_paths(name: str, options: argparse.Namespace) -> str:
    from benchmarks.mutants import theme

    if options.quick and name in QUICK:
        return QUICK[name]
    if options.home:
        return HOME_OVERRIDES.get(name, HOME[theme(name)])
    return str(options.suites)


def merge_runs(runs: Sequence[MutantResult]) -> MutantResult:
    """One result for repeated runs of a mutant: the first run, with median seconds and wall.

    Examples and clause are the same in every run (the profiles derandomize); a run that
    ends otherwise than the first makes the result an error, shown with both statuses.
    """
    first = runs[0]
    if len(runs) == 1:
        return first
    statuses = sorted({r.status for r in runs})
    if len(statuses) > 1:
        first.status = "error"
        first.output_tail = f"runs ended differently: {statuses}\n{first.output_tail or ''}"
    seconds = [r.seconds for r in runs if r.seconds is not None]
    first.seconds_runs = seconds
    first.wall_runs = [r.wall for r in runs]
    first.seconds = statistics.median(seconds) if seconds else None
    first.wall = statistics.median(first.wall_runs)
    return first


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    shared.add_profile(parser)
    parser.add_argument(
        "--home",
        action="store_true",
        help="run each mutant against its theme's suite modules only (see HOME)",
    )
    parser.add_argument(
        "--repeat", type=int, default=1, help="runs per mutant; seconds are medians (default 1)"
    )
    parser.add_argument(
        "--quick", action="store_true", help=f"only the {len(QUICK)} mutants of the CI subset"
    )
    parser.add_argument("--only", nargs="+", metavar="NAME", help="only these mutants")
    shared.add_json(parser)
    parser.add_argument("--jobs", type=int, default=2, help="child runs at a time (default 2)")
    shared.add_timeout(parser)
    shared.add_suites(parser)
    parser.add_argument(
        "--shrink", action="store_true", help="let Hypothesis shrink each first failure"
    )
