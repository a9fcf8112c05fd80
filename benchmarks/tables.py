"""RESULTS.md's tables, from the JSON files in benchmarks/results/.

    python benchmarks/run.py markdown                  the ci profile's results
    python benchmarks/run.py markdown --profile dev    the dev profile's

The mutation, speed and wall tables of the profile, then the rediscovery table.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from benchmarks import rediscover
from benchmarks.mutation import short_test
from benchmarks.record import RESULTS


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
                f"{short_test(r.get('test'))} | {_cell(h.get('seconds'))} | "
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


def main(options: argparse.Namespace) -> int:
    print(markdown(options.profile), end="")
    found = _load("rediscover.json")
    if found is not None:
        print("\n" + rediscover.markdown(found), end="")
    return 0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--profile", default="ci", help="the profile whose results to read (default ci)"
    )
