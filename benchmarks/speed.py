"""How fast the suites run: throughput per backend, oracle timings, peak memory.

    python benchmarks/run.py speed                 every surface below, then the timings
    python benchmarks/run.py speed --timings-only  the oracle timings (c) only

(a) examples per second of each suite module on one surface per framework and
(d) the peak memory of each run, each in a child pytest with the
`benchmarks.counting` plugin; (c) the scalar-loop reference against the fast
oracle and the numpy and torch backends, in this process.
"""

from __future__ import annotations

import argparse
import statistics
import timeit
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks import options as shared
from benchmarks.child import run_child
from benchmarks.record import RESULTS, command_line, machine, write_json

# One surface per framework for throughput: the plain functional API.
SPEED_BACKENDS = ("numpy", "torch", "tf.nn", "jax", "onnxruntime")


def throughput(
    backend: str, profile: str, suites: str, timeout: float, small_tier: bool = False
) -> dict[str, Any]:
    """(a) examples per second per suite module on one backend surface, and (d) peak memory."""
    plugin = ["-p", "benchmarks.small_tier"] if small_tier else []
    child = run_child(
        [suites, "-q", "--backend", backend, "--hypothesis-profile", profile, *plugin], timeout
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
    # Dispatch-tier sizes (suites/dispatch.py): a 2^21 multiply-add budget, channel counts
    # past a SIMD block.
    xc = rng.uniform(-2, 2, (2, 16, 16, 16)).astype(f32)
    wc = rng.uniform(-2, 2, (33, 16, 3, 3)).astype(f32)
    bc = rng.uniform(-2, 2, (33,)).astype(f32)
    cases.append(
        {
            "case": "conv2d x 2x16x16x16, w 33x16x3x3, pad 1, float32 (dispatch size)",
            "op": "conv",
            "scalar": lambda: conv_ref.conv(xc, wc, bc, p_conv),
            "oracle": lambda: conv_ref.conv_fast(xc, wc, bc, p_conv),
            "args": (xc, wc, bc, p_conv),
        }
    )
    wct = rng.uniform(-2, 2, (16, 17, 3, 3)).astype(f32)
    bct = rng.uniform(-2, 2, (17,)).astype(f32)
    cases.append(
        {
            "case": "conv_transpose2d x 2x16x16x16, w 16x17x3x3, stride 2, pad 1, op 1, float32 "
            "(dispatch size)",
            "op": "conv_transpose",
            "scalar": lambda: transposed.conv_transpose(xc, wct, bct, p_t),
            "oracle": lambda: transposed.conv_transpose_fast(xc, wct, bct, p_t),
            "args": (xc, wct, bct, p_t),
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


def main(options: argparse.Namespace) -> int:
    payload: dict[str, Any] = {
        "kind": "speed",
        "profile": options.profile,
        "small_tier_only": options.small_tier,
        "machine": machine(),
        "command": command_line(),
    }
    # Throughput first: the timings import frameworks into this process, which the
    # children would then share the machine with.
    payload["throughput"] = []
    for backend in [] if options.timings_only else options.backends or SPEED_BACKENDS:
        print(f"(a) throughput on {backend} ...", flush=True)
        entry = throughput(
            backend, options.profile, options.suites, options.timeout, options.small_tier
        )
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
    out = Path(options.json) if options.json else RESULTS / f"speed-{options.profile}.json"
    if options.no_timings:
        write_json(out, payload)
        return 0
    print("(c) scalar loop vs fast oracle vs backends ...", flush=True)
    payload["timings"] = oracle_timings(options.runs)
    for row in payload["timings"]["cases"]:
        cells = [
            f"{k} {v['median'] * 1e3:.2f} ms" if isinstance(v, dict) else f"{k} {v}"
            for k, v in row.items()
            if k != "case"
        ]
        print(f"  {row['case']}: " + ", ".join(cells))
    write_json(out, payload)
    return 0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    shared.add_profile(parser)
    parser.add_argument(
        "--backends",
        nargs="+",
        metavar="SURFACE",
        help=f"throughput surfaces (default {' '.join(SPEED_BACKENDS)})",
    )
    parser.add_argument("--runs", type=int, default=31, help="timing repetitions (default 31)")
    parser.add_argument("--timings-only", action="store_true", help="the oracle timings (c) only")
    parser.add_argument(
        "--small-tier",
        action="store_true",
        help="throughput with the small tier only (benchmarks/small_tier.py), as before the "
        "dispatch tier",
    )
    parser.add_argument("--no-timings", action="store_true", help="throughput (a) only")
    shared.add_json(parser)
    shared.add_timeout(parser)
    shared.add_suites(parser)
