"""The README's test command, timed whole: wall time and peak memory with -n 1 and -n 2.

    python benchmarks/run.py wall                  -n 1, then -n 2
    python benchmarks/run.py wall --workers 2 1    -n 2 first

Each run writes its conformance report to benchmarks/results/conformance-PROFILE-nW.json;
the runs' figures go to wall-PROFILE.json there.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks import options as shared
from benchmarks.record import RESULTS, ROOT, command_line, machine, write_json


def main(options: argparse.Namespace) -> int:
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
        "command": command_line(),
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


def add_arguments(parser: argparse.ArgumentParser) -> None:
    shared.add_profile(parser)
    parser.add_argument(
        "--workers", type=int, nargs="+", default=[1, 2], help="worker counts (default 1 2)"
    )
    shared.add_json(parser)
