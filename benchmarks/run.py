"""Teeth and speed: mutation testing of the conformance suites, and how fast they run.

    python benchmarks/run.py --profile ci            every mutant against the suites
    python benchmarks/run.py --profile ci --quick    a fast, diverse subset (CI)
    python benchmarks/run.py --only mutant.bias_rolled mutant.tf32
    python benchmarks/run.py --speed                 throughput, oracle timings, peak memory
    python benchmarks/run.py --wall                  whole-run wall time with -n 1 and -n 2
    python benchmarks/run.py --rediscover            registry off: which registered bugs the
                                                     suites find again (benchmarks/rediscover.py)

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
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
import timeit
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # run as a script from anywhere

RESULTS = ROOT / "benchmarks" / "results"

from benchmarks import rediscover  # noqa: E402  (after the path fix above)

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

# One surface per framework for throughput: the plain functional API.
SPEED_BACKENDS = ("numpy", "torch", "tf.nn", "jax", "onnxruntime")

CLAUSE_LINE = re.compile(r"^\s*(?:E\s+)?clause:\s+(\S+)", re.MULTILINE)


# --- one child pytest ---------------------------------------------------------


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


# --- mutants ------------------------------------------------------------------


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


def _short_test(nodeid: str | None) -> str:
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
            _short_test(r.test),
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


def run_mutants(options: argparse.Namespace) -> int:
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
        "command": " ".join(["python", "benchmarks/run.py", *sys.argv[1:]]),
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


# --- speed --------------------------------------------------------------------


def throughput(backend: str, profile: str, suites: str, timeout: float) -> dict[str, Any]:
    """(a) examples per second per suite module on one backend surface, and (d) peak memory."""
    child = run_child(
        [suites, "-q", "--backend", backend, "--hypothesis-profile", profile], timeout
    )
    entry: dict[str, Any] = {
        "backend": backend,
        "rc": child.rc,
        "wall_seconds": child.wall,
        "timed_out": child.timed_out,
    }
    if child.counts is None or all(t["outcome"] == "skipped" for t in child.counts["tests"]):
        entry["unavailable"] = True
        entry["output_tail"] = child.output[-1500:]
        return entry
    modules: dict[str, dict[str, Any]] = {}
    for test in child.counts["tests"]:
        module = Path(test["test"].split("::", 1)[0]).stem
        row = modules.setdefault(
            module, {"examples": 0, "seconds": 0.0, "tests": 0, "failed": 0, "skipped": 0}
        )
        if test.get("outcome") == "skipped":  # unsupported: not part of the throughput
            row["skipped"] += 1
            continue
        row["examples"] += test["examples"]
        row["seconds"] += test["seconds"]
        row["tests"] += 1
        row["failed"] += test.get("outcome") == "failed"
    for row in modules.values():
        row["examples_per_second"] = (
            row["examples"] / row["seconds"] if row["seconds"] > 0 else None
        )
    entry["modules"] = dict(sorted(modules.items()))
    entry["tests"] = child.counts["tests"]
    entry["settings"] = child.counts.get("settings")
    entry["examples"] = child.counts["examples"]
    entry["session_seconds"] = child.counts["session_seconds"]
    entry["peak_rss_kib"] = child.counts["peak_rss_kib"]
    return entry


def median_seconds(call: Callable[[], object], runs: int) -> dict[str, Any]:
    call()  # warm-up: imports, caches, framework initialisation
    times = timeit.repeat(call, number=1, repeat=runs)
    return {"median": statistics.median(times), "runs": runs, "min": min(times), "max": max(times)}


def oracle_timings(runs: int) -> dict[str, Any]:
    """(c) scalar loop vs vectorized oracle vs backends, medians of `runs` runs each."""
    import numpy as np

    from adapters.registry import builtin_factories, instantiate
    from reference import conv as conv_ref
    from reference import deformable, transposed
    from reference.params import Conv, ConvTranspose, DeformConv

    rng = np.random.default_rng(0)
    f32 = np.float32
    cases: list[dict[str, Any]] = []
    x = rng.uniform(-2, 2, (1, 8, 16, 16)).astype(f32)
    w = rng.uniform(-2, 2, (8, 8, 3, 3)).astype(f32)
    b = rng.uniform(-2, 2, (8,)).astype(f32)
    p_conv = Conv(stride=(1, 1), dilation=(1, 1), padding=((1, 1), (1, 1)))
    cases.append(
        {
            "case": "conv2d x 1x8x16x16, w 8x8x3x3, pad 1, float32",
            "op": "conv",
            "scalar": lambda: conv_ref.conv(x, w, b, p_conv),
            "oracle": lambda: conv_ref.conv_fast(x, w, b, p_conv),
            "args": (x, w, b, p_conv),
        }
    )
    xt = rng.uniform(-2, 2, (1, 8, 8, 8)).astype(f32)
    wt = rng.uniform(-2, 2, (8, 8, 3, 3)).astype(f32)
    p_t = ConvTranspose(
        stride=(2, 2), dilation=(1, 1), padding=((1, 1), (1, 1)), output_padding=(1, 1)
    )
    cases.append(
        {
            "case": "conv_transpose2d x 1x8x8x8, w 8x8x3x3, stride 2, pad 1, op 1, float32",
            "op": "conv_transpose",
            "scalar": lambda: transposed.conv_transpose(xt, wt, b, p_t),
            "oracle": lambda: transposed.conv_transpose_fast(xt, wt, b, p_t),
            "args": (xt, wt, b, p_t),
        }
    )
    xd = rng.uniform(-2, 2, (1, 8, 8, 8)).astype(f32)
    offset = (rng.integers(-24, 25, (1, 18, 8, 8)) / 8).astype(f32)
    mask = rng.uniform(0, 1, (1, 9, 8, 8)).astype(f32)
    p_d = DeformConv(stride=(1, 1), dilation=(1, 1), padding=((1, 1), (1, 1)))
    cases.append(
        {
            "case": "deform_conv2d x 1x8x8x8, w 8x8x3x3, pad 1, with mask, float32",
            "op": "deform_conv",
            "scalar": lambda: deformable.deform_conv(xd, offset, mask, wt, b, p_d),
            "oracle": lambda: deformable.deform_conv_fast(xd, offset, mask, wt, b, p_d),
            "args": (xd, offset, mask, wt, b, p_d),
        }
    )
    factories = builtin_factories()
    backends: dict[str, Any] = {}
    for name in ("numpy", "torch"):
        loaded = instantiate(name, factories[name]) if name in factories else None
        if loaded is not None and loaded.adapter is not None:
            backends[name] = loaded.adapter
    out = []
    for case in cases:
        row: dict[str, Any] = {"case": case["case"]}
        row["scalar_loop"] = median_seconds(case["scalar"], max(3, runs // 10))
        row["fast_oracle"] = median_seconds(case["oracle"], runs)
        for name, adapter in backends.items():
            support = adapter.support(case["op"])
            if support is None:
                row[name] = "not declared"
                continue
            call = _bound(getattr(adapter, case["op"]), case["args"])
            row[name] = median_seconds(call, runs)
            if name == "torch":
                # On a loaded machine torch's intra-op threads wait for each other at every
                # barrier (milliseconds per call); one thread shows the kernel's own time.
                row["torch_1_thread"] = _one_thread(call, runs)
        out.append(row)
    return {"cases": out, "versions": {n: a.version() for n, a in backends.items()}}


def _one_thread(call: Callable[[], object], runs: int) -> dict[str, Any]:
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return {**median_seconds(call, runs), "threads": 1}
    finally:
        torch.set_num_threads(threads)


def _bound(method: Callable[..., object], args: tuple[Any, ...]) -> Callable[[], object]:
    return lambda: method(*args)


def run_speed(options: argparse.Namespace) -> int:
    payload: dict[str, Any] = {
        "kind": "speed",
        "profile": options.profile,
        "machine": machine(),
        "command": " ".join(["python", "benchmarks/run.py", *sys.argv[1:]]),
    }
    # Throughput first: the timings import frameworks into this process, which the
    # children would then share the machine with.
    payload["throughput"] = []
    for backend in [] if options.timings_only else options.backends or SPEED_BACKENDS:
        print(f"(a) throughput on {backend} ...", flush=True)
        entry = throughput(backend, options.profile, options.suites, options.timeout)
        payload["throughput"].append(entry)
        if entry.get("unavailable"):
            print(f"  {backend}: unavailable")
            continue
        print(
            f"  {backend}: {entry['examples']} examples in {entry['session_seconds']:.1f} s, "
            f"peak RSS {entry['peak_rss_kib'] / 1024:.0f} MiB"
        )
        for module, row in entry["modules"].items():
            eps = row["examples_per_second"]
            print(
                f"    {module:<20} {row['examples']:>6} examples {row['seconds']:8.2f} s  "
                f"{'-' if eps is None else f'{eps:8.1f}'} /s  failed {row['failed']}"
            )
    print("(c) scalar loop vs fast oracle vs backends ...", flush=True)
    payload["timings"] = oracle_timings(options.runs)
    for row in payload["timings"]["cases"]:
        cells = [
            f"{k} {v['median'] * 1e3:.2f} ms" if isinstance(v, dict) else f"{k} {v}"
            for k, v in row.items()
            if k != "case"
        ]
        print(f"  {row['case']}: " + ", ".join(cells))
    write_json(
        Path(options.json) if options.json else RESULTS / f"speed-{options.profile}.json", payload
    )
    return 0


def run_wall(options: argparse.Namespace) -> int:
    """(b) the README's test command with -n W, for each W in --workers: wall time, exit
    status, summary line, and the peak memory of its process tree (tree_pss_kib)."""
    runs = []
    for workers in options.workers:
        report = RESULTS / f"conformance-{options.profile}-n{workers}.json"
        command = [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-n",
            str(workers),
            "--hypothesis-profile",
            options.profile,
            "--conformance-report",
            str(report),
        ]
        print(f"(b) {' '.join(command[1:])} ...", flush=True)
        started = time.perf_counter()
        with tempfile.TemporaryFile("w+") as log:
            child = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
            peak_kib = 0
            while child.poll() is None:
                peak_kib = max(peak_kib, tree_pss_kib(child.pid))
                time.sleep(1.0)
            wall = time.perf_counter() - started
            log.seek(0)
            lines = log.read().strip().splitlines()
        summary = lines[-1] if lines else ""
        print(
            f"  -n {workers}: {wall:.1f} s, rc {child.returncode}, peak {peak_kib / 2**20:.2f} GiB:"
            f" {summary}"
        )
        runs.append(
            {
                "workers": workers,
                "wall_seconds": wall,
                "rc": child.returncode,
                "summary": summary,
                "peak_tree_pss_kib": peak_kib,
                "report": str(report.relative_to(ROOT)),
            }
        )
    payload = {
        "kind": "wall",
        "profile": options.profile,
        "machine": machine(),
        "command": " ".join(["python", "benchmarks/run.py", *sys.argv[1:]]),
        "runs": runs,
    }
    write_json(
        Path(options.json) if options.json else RESULTS / f"wall-{options.profile}.json", payload
    )
    return 0 if all(run["rc"] == 0 for run in runs) else 1


def tree_pss_kib(root: int) -> int:
    """Summed proportional set size (Pss) of `root` and its descendants, sampled once.

    Pss charges each shared page to the processes that map it in equal parts, so the sum
    is the memory the run holds: summed RSS would count the framework libraries that
    every worker and child process maps once per process. Linux /proc; 0 elsewhere.
    """
    proc = Path("/proc")
    if not proc.is_dir():
        return 0
    parents: dict[int, int] = {}
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # exited while we looked
        # The command name in stat may hold spaces and parentheses: split after the last ')'.
        parents[int(entry.name)] = int(stat[stat.rindex(")") + 2 :].split()[1])
    tree, frontier = {root}, [root]
    while frontier:
        pid = frontier.pop()
        for child, parent in parents.items():
            if parent == pid and child not in tree:
                tree.add(child)
                frontier.append(child)
    total = 0
    for pid in tree:
        try:
            rollup = (proc / str(pid) / "smaps_rollup").read_text()
        except OSError:
            continue
        found = re.search(r"^Pss:\s+(\d+)", rollup, re.MULTILINE)
        total += int(found.group(1)) if found else 0
    return total


# --- shared ---------------------------------------------------------------------


def machine() -> dict[str, Any]:
    """What the numbers were measured on."""
    import hypothesis
    import numpy
    import pytest

    info: dict[str, Any] = {
        "nproc": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "numpy": numpy.__version__,
        "hypothesis": hypothesis.__version__,
        "pytest": pytest.__version__,
    }
    cpuinfo, meminfo = Path("/proc/cpuinfo"), Path("/proc/meminfo")
    if cpuinfo.exists():
        models = re.findall(r"^model name\s*:\s*(.*)$", cpuinfo.read_text(), re.MULTILINE)
        info["cpu"] = models[0] if models else None
    if meminfo.exists():
        total = re.search(r"^MemTotal:\s*(\d+) kB", meminfo.read_text(), re.MULTILINE)
        info["ram_gib"] = round(int(total.group(1)) / 1024**2, 1) if total else None
    return info


def write_json(path: Path, payload: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        json.dumps(payload, indent=1, sort_keys=False, default=str) + "\n", encoding="utf-8"
    )
    print(f"wrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")


def parse(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--profile", default="ci", help="Hypothesis profile of the child runs (default ci)"
    )
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
    parser.add_argument(
        "--only", nargs="+", metavar="NAME", help="only these mutants (--rediscover: entries)"
    )
    parser.add_argument(
        "--json", metavar="PATH", help="write the JSON here instead of benchmarks/results/"
    )
    parser.add_argument("--jobs", type=int, default=2, help="child runs at a time (default 2)")
    parser.add_argument(
        "--timeout", type=float, default=900, help="seconds per child run (default 900)"
    )
    parser.add_argument(
        "--suites", default="suites", help="the test path the children run (default suites)"
    )
    parser.add_argument(
        "--shrink", action="store_true", help="let Hypothesis shrink each first failure"
    )
    parser.add_argument(
        "--speed", action="store_true", help="throughput, oracle timings and peak memory"
    )
    parser.add_argument(
        "--backends",
        nargs="+",
        metavar="SURFACE",
        help=f"--speed surfaces (default {' '.join(SPEED_BACKENDS)})",
    )
    parser.add_argument(
        "--runs", type=int, default=31, help="--speed timing repetitions (default 31)"
    )
    parser.add_argument(
        "--wall", action="store_true", help="the whole run's wall time with -n 1 and -n 2"
    )
    parser.add_argument(
        "--timings-only", action="store_true", help="--speed: the oracle timings (c) only"
    )
    parser.add_argument(
        "--markdown", action="store_true", help="print RESULTS.md's tables from the JSON results"
    )
    parser.add_argument(
        "--workers", type=int, nargs="+", default=[1, 2], help="--wall worker counts"
    )
    rediscover.add_arguments(parser)
    return parser.parse_args(argv)


def markdown(profile: str) -> str:
    """The tables of benchmarks/RESULTS.md, from the JSON files in benchmarks/results/."""
    out: list[str] = []
    whole, home = _load(f"mutants-{profile}.json"), _load(f"mutants-{profile}-home.json")
    if whole is not None:
        by_name = {r["mutant"]: r for r in (home or {}).get("results", [])}
        out += [
            "| mutant | theme | killed | s to kill | examples | clause | test | home: s | "
            "home: examples | home: clause | defect |",
            "|---|---|---|---:|---:|---|---|---:|---:|---|---|",
        ]
        for r in whole["results"]:
            h = by_name.get(r["mutant"], {})
            out.append(
                f"| `{r['mutant'].removeprefix('mutant.')}` | {r['theme']} | "
                f"{'yes' if r['status'] == 'killed' else r['status'].upper()} | "
                f"{_cell(r.get('seconds'))} | {r.get('examples') or '-'} | {r.get('clause') or '-'} | "
                f"{_short_test(r.get('test'))} | {_cell(h.get('seconds'))} | "
                f"{h.get('examples') or '-'} | {h.get('clause') or '-'} | "
                f"{(r.get('doc') or '').replace('|', '/')} |"
            )
    speed = _load(f"speed-{profile}.json")
    if speed is not None:
        out += [
            "",
            "| case | scalar loop | fast oracle | numpy backend | torch backend | "
            "torch, 1 thread |",
            "|---|---:|---:|---:|---:|---:|",
        ]
        for row in speed["timings"]["cases"]:
            keys = ("scalar_loop", "fast_oracle", "numpy", "torch", "torch_1_thread")
            cells = [row.get(k) for k in keys]
            shown = [
                f"{c['median'] * 1e3:.3g} ms (N={c['runs']})" if isinstance(c, dict) else "-"
                for c in cells
            ]
            out.append(f"| {row['case']} | " + " | ".join(shown) + " |")
        modules = sorted({m for e in speed["throughput"] for m in e.get("modules", {})})
        usable = [e for e in speed["throughput"] if e.get("modules")]
        out += ["", "| module | " + " | ".join(e["backend"] for e in usable) + " |"]
        out.append("|---|" + "---:|" * len(usable))
        for m in modules:
            cells = []
            for e in usable:
                row = e["modules"].get(m)
                eps = row and row.get("examples_per_second")
                cells.append(
                    "-"
                    if not eps
                    else f"{eps:.1f}" + (f" ({row['failed']} failed)" if row["failed"] else "")
                )
            out.append(f"| {m} | " + " | ".join(cells) + " |")
        out.append(
            "| whole run: examples / session s / peak RSS MiB | "
            + " | ".join(
                f"{e['examples']} / {e['session_seconds']:.0f} / {e['peak_rss_kib'] / 1024:.0f}"
                for e in usable
            )
            + " |"
        )
    wall = _load(f"wall-{profile}.json")
    if wall is not None:
        out += [
            "",
            "| workers | wall | peak memory (Pss of the process tree) | exit | summary |",
            "|---:|---:|---:|---:|---|",
        ]
        for run in wall["runs"]:
            peak = run.get("peak_tree_pss_kib")
            out.append(
                f"| {run['workers']} | {run['wall_seconds'] / 60:.1f} min | "
                f"{'-' if peak is None else f'{peak / 2**20:.1f} GiB'} | {run['rc']} | "
                f"{run['summary']} |"
            )
    return "\n".join(out) + "\n"


def _load(name: str) -> dict[str, Any] | None:
    path = RESULTS / name
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def _cell(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds:.2f}"


def main(argv: Sequence[str] | None = None) -> int:
    options = parse(argv)
    if options.markdown:
        print(markdown(options.profile), end="")
        found = _load("rediscover.json")
        if found is not None:
            print("\n" + rediscover.markdown(found), end="")
        return 0
    if options.rediscover:
        return rediscover.main(options, RESULTS, machine())
    if options.speed or options.wall:
        status = 0
        if options.speed:
            status |= run_speed(options)
        if options.wall:
            status |= run_wall(options)
        return status
    return run_mutants(options)


if __name__ == "__main__":
    sys.exit(main())
