"""Rediscovery: would the suites find each registered bug if it were not registered yet?

    python benchmarks/run.py rediscover                         every target: ci, then hunt
    python benchmarks/run.py rediscover --only ID [ID ...]      these entries only
    python benchmarks/run.py rediscover --hunt-minutes 0.1      the hunt's minutes per test
    python benchmarks/run.py rediscover --no-hunt               ci only

Targets: every registry entry (adapters/known_issues/) of a kind in KINDS whose surface runs
here and whose `requires` holds on this machine (a collect-only probe asks the surfaces).
Each target is looked for on one surface, the first of SURFACE_ORDER that it names, in the
suite modules whose tests cite one of its clauses and, for a crash, also in those that run
the operations its predicate admits (any call can crash, ERR.3, whatever clause the test
cites); targets that share a surface share the sessions. The registry's hangs stay
registered (each would cost the error suite's time limit per example). A session is a
child pytest with `-p benchmarks.registry_off`: the registry off,
each failing example recorded with the entries that match it, and the test going on drawing
(see that plugin). First the ci profile; then, for each target that ci did not find, the
hunt profile on that target's modules (within each, the items citing most of its clauses
first: preferred_clauses), stopping once the target matched. A crash of an
in-process surface ends the child: the crash is recorded from the configuration that the
plugin wrote before the call, and the session goes on without the test items that ran to
their end and (ci) the one that crashed; a hunt runs that one again, with new draws, until
it crashed CRASHES_PER_TEST times.

Seconds count from the start of the target's stage (interpreter start and collection
included), examples are test-body calls since then over every module of the session.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks import options as shared
from benchmarks.record import RESULTS, ROOT, command_line, machine

SUITES = ROOT / "suites"

# The registry kinds looked for: wrong values, wrong shapes and crashes. Hangs cost the
# error suite's 60-second limit per hit, and validation gaps, deviations and rejections of
# valid configurations are not defects of the arithmetic.
KINDS = ("crash", "wrong-values", "wrong-shape")
# Replays of the registry's own pinned examples would find every entry trivially.
EXCLUDED = ("test_known_issues.py", "test_replay.py")
# Which of an entry's surfaces to look on: the plain functional APIs first, the surfaces
# that run in a child process of their own (slower per call) last.
SURFACE_ORDER = (
    "torch",
    "tf.nn",
    "keras",
    "jax",
    "onnxruntime",
    "onnx-reference",
    "tf.nn.convolution",
    "tf.nn.atrous",
    "tf.nn.nchw",
    "torch.module",
    "torch.noncontig",
    "torch.mkldnn_off",
    "jax.jit",
    "jax.lhs_dilation",
    "onnxruntime.noopt",
    "tf.function",
    "tf.nn.onednn_off",
    "torch.channels_last",
    "torch.compile",
)
# Seconds a session may run past its deadline before it is killed.
GRACE = 300.0
# A crashed child is started again without the crashed test at most this often per session.
MAX_RESTARTS = 12
# A hunt runs a crashed test item again (its draws are new) until it crashed this often.
CRASHES_PER_TEST = 3
# Kinds that stay registered in every session: a hang costs the error suite's 60-second
# limit per example, and no target is a hang.
KEPT_KINDS = ("hang",)
CLAUSES = re.compile(r"mark\.clauses\(([^)]*)\)", re.DOTALL)
QUOTED = re.compile(r"[\"']([A-Z]+\.\d+)[\"']")


def clause_modules() -> dict[str, set[str]]:
    """Clause -> the suite modules whose tests cite it (their `clauses` markers)."""
    cited: dict[str, set[str]] = {}
    for path in sorted(SUITES.glob("test_*.py")):
        if path.name in EXCLUDED:
            continue
        for group in CLAUSES.findall(path.read_text(encoding="utf-8")):
            for clause in QUOTED.findall(group):
                cited.setdefault(clause, set()).add(path.name)
    return cited


# A predicate's first condition on the operation: `op == 'x'`, `op != 'x'`, `op in (...)`,
# `op not in (...)`.
OP_CONDITION = re.compile(r"\bop\s*(==|!=|not\s+in|in)\s*(\([^)]*\)|'[^']*'|\"[^\"]*\")")
QUOTED_NAME = re.compile(r"[\"']([a-z_]+)[\"']")


def operations_of(issue: Any) -> set[str]:
    """The operations whose configurations the entry's `when` can match: those its first
    condition on `op` admits (every operation where it has none)."""
    from suites.operations import OPERATIONS

    every = set(OPERATIONS)
    found = OP_CONDITION.search(issue.when)
    if found is None:
        return every
    named = set(QUOTED_NAME.findall(found.group(2)))
    return named if found.group(1) in ("==", "in") else every - named


def _operation_constants() -> dict[str, str]:
    """Operation name -> its constant's name in adapters/base.py (CONV_TRANSPOSE, ...)."""
    from adapters import base
    from suites.operations import OPERATIONS

    names = {v: k for k, v in vars(base).items() if k.isupper() and isinstance(v, str)}
    return {op: names.get(op, op.upper()) for op in OPERATIONS}


def operation_modules() -> dict[str, set[str]]:
    """Operation -> the suite modules that run it: those naming its constant or its name."""
    running: dict[str, set[str]] = {}
    for op, constant in _operation_constants().items():
        pattern = re.compile(rf"\b{constant}\b|[\"']{op}[\"']")
        for path in sorted(SUITES.glob("test_*.py")):
            if path.name not in EXCLUDED and pattern.search(path.read_text(encoding="utf-8")):
                running.setdefault(op, set()).add(path.name)
    return running


def _runs_operations(issue: Any, running: dict[str, set[str]] | None) -> set[str]:
    if getattr(issue, "kind", None) != "crash" or running is None:
        return set()
    return {m for op in operations_of(issue) for m in running.get(op, ())}


def modules_for(
    issue: Any, cited: dict[str, set[str]], running: dict[str, set[str]] | None = None
) -> list[str]:
    """The modules citing one of the entry's clauses; for a crash, also those that run its
    operations (`running`: operation_modules())."""
    citing = {m for clause in issue.clauses for m in cited.get(clause, ())}
    return sorted(citing | _runs_operations(issue, running))


def surface_for(issue: Any) -> str | None:
    """The first of SURFACE_ORDER the entry names, else the first it names."""
    named = [s for s in issue.surfaces if s != "*"]
    return next((s for s in SURFACE_ORDER if s in named), named[0] if named else None)


def hunt_order(
    issue: Any, cited: dict[str, set[str]], running: dict[str, set[str]] | None = None
) -> list[str]:
    """The entry's modules, those citing most of its clauses first: the hunt may run out of
    time before the last ones. A crash whose pinned example is a valid configuration with
    no size 0 is met where valid configurations of its operations run: the modules that
    check its operations' values come first, then the others that run them, except the
    error suite (the modules citing ERR.2), then the rest."""
    from suites.operations import OPERATIONS

    modules = modules_for(issue, cited, running)
    share = {m: sum(m in cited.get(c, ()) for c in issue.clauses) for m in modules}
    valid = set()
    values = set()
    if _runs_operations(issue, running) and _valid_example(issue):
        valid = _runs_operations(issue, running) - cited.get("ERR.2", set())
        for op in operations_of(issue):
            clause = OPERATIONS[op].suite_value_clause
            values |= cited.get(clause, set()) if clause else set()
    return sorted(modules, key=lambda m: (m not in valid, m not in values, -share[m], m))


def preferred_clauses(issue: Any) -> list[str]:
    """The clauses whose test items a hunt for the entry runs first within each module: its
    own, and those that the class of its pinned example is tested under (an invalid
    configuration: ERR.2 and the clause it breaks; one with a size 0: ERR.15)."""
    from reference.checks import SpecError
    from suites import degenerate, descriptor, invalid

    extra: list[str] = []
    try:
        setup = descriptor.decode(issue.example)
        invalid.reference_check(setup)
        if degenerate.zero_sizes(setup):
            extra.append("ERR.15")
    except SpecError as exc:
        extra += ["ERR.2", exc.clause]
    except Exception:
        pass
    return list(dict.fromkeys([*issue.clauses, *extra]))


def _valid_example(issue: Any) -> bool:
    """Whether the entry's pinned example is valid and has no size 0 (ERR.15)."""
    from suites import degenerate, descriptor, invalid

    try:
        setup = descriptor.decode(issue.example)
        invalid.reference_check(setup)
        return not degenerate.zero_sizes(setup)
    except Exception:
        return False


def by_id_of(issues: Sequence[Any]) -> set[str]:
    return {i.id for i in issues}


def targets(only: Sequence[str] | None) -> list[Any]:
    from suites.known_issues import registry

    entries = [i for i in registry() if i.kind in KINDS]
    if only:
        unknown = sorted(set(only) - {i.id for i in registry()})
        if unknown:
            raise SystemExit(f"unknown registry entries: {unknown}")
        entries = [i for i in entries if i.id in only]
    return entries


# --- child sessions ---------------------------------------------------------------------


@dataclass
class Session:
    """One surface's run of some modules under one profile, restarts after crashes included."""

    surface: str
    profile: str
    modules: list[str]
    entries: list[str]
    failures: list[dict[str, Any]] = field(default_factory=list)
    crashes: list[dict[str, Any]] = field(default_factory=list)
    children: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0
    examples: int = 0
    tests: int = 0  # test items run to their end, over every child
    timed_out: bool = False


def run_session(
    surface: str,
    profile: str,
    modules: list[str],
    entries: list[str],
    timeout: float,
    extra: Sequence[str] = (),
    stop: bool = False,
    pythonpath: Sequence[str] = (),
    keep: Sequence[str] = (),
) -> Session:
    """`keep`: entries that stay registered. After a crash the session starts again without
    the test items that ran to their end; the crashed item is left out too under the ci
    profile (derandomized: it would draw the same crash again), while a hunt, whose draws
    are new each time, runs it again until it has crashed CRASHES_PER_TEST times."""
    session = Session(surface, profile, modules, entries)
    epoch = time.time()
    deadline = epoch + timeout
    deselected: list[str] = []
    crashed: dict[str, int] = {}
    with tempfile.TemporaryDirectory(prefix="convspec-rediscover-") as tmp:
        work = Path(tmp)
        log, last, summary = work / "failures.jsonl", work / "last.json", work / "session.json"
        done_log = work / "done.txt"
        for _ in range(MAX_RESTARTS + 1):
            done = _lines(done_log)
            last.unlink(missing_ok=True)
            summary.unlink(missing_ok=True)
            command = [
                sys.executable,
                "-m",
                "pytest",
                "-q",
                "-p",
                "no:cacheprovider",
                "-p",
                "benchmarks.registry_off",
                "-m",
                "not selftest",
                "--backend",
                surface,
                "--hypothesis-profile",
                profile,
                "--rediscover-json",
                str(summary),
                "--rediscover-log",
                str(log),
                "--rediscover-last",
                str(last),
                "--rediscover-entries",
                ",".join(entries),
                "--rediscover-epoch",
                repr(epoch),
                "--rediscover-examples",
                str(session.examples),
                "--rediscover-deadline",
                repr(deadline),
                "--rediscover-keep",
                ",".join(keep),
                "--rediscover-done",
                str(done_log),
                *(["--rediscover-stop"] if stop else []),
                *extra,
                *(str(SUITES / m) for m in modules),
                *(f"--deselect={t}" for t in dict.fromkeys([*deselected, *done])),
            ]
            # No test starts after the deadline; past it, the child is killed after a grace
            # period for the test in flight (a hunt's item and its last batch).
            left = deadline - time.time() + GRACE
            try:
                # The child runs in a scratch directory: the hunt's database stays out of
                # the checkout's .hypothesis.
                child_run = subprocess.run(
                    command,
                    cwd=work,
                    env=_env(pythonpath),
                    capture_output=True,
                    text=True,
                    timeout=max(left, 1.0),
                    check=False,
                )
                rc, tail = child_run.returncode, (child_run.stdout + child_run.stderr)[-2000:]
            except subprocess.TimeoutExpired:
                rc, tail, session.timed_out = None, "timed out", True
            child: dict[str, Any] = {"rc": rc, "tail": tail}
            session.children.append(child)
            if summary.exists():
                data = json.loads(summary.read_text(encoding="utf-8"))
                session.examples = data["examples"]
                child["settings"] = data["settings"]
                child["applicable"] = data["applicable"]
                break
            if session.timed_out or not last.exists() or time.time() > deadline:
                break  # ended without a summary and without a call in flight: nothing to resume
            crash = json.loads(last.read_text(encoding="utf-8"))
            crash["rc"] = rc
            session.crashes.append(crash)
            session.examples = crash["examples"]
            crashed[crash["test"]] = crashed.get(crash["test"], 0) + 1
            if profile != "hunt" or crashed[crash["test"]] >= CRASHES_PER_TEST:
                deselected.append(crash["test"])
        session.tests = len(_lines(done_log))
        if log.exists():
            session.failures = [
                json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()
            ]
    session.seconds = time.time() - epoch
    return session


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines() if path.exists() else []


def _env(pythonpath: Sequence[str]) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), *pythonpath])}


def probe(surfaces: list[str], entries: list[str], timeout: float) -> dict[str, dict[str, bool]]:
    """entry -> surface -> whether its `requires` holds there, for the surfaces that load."""
    session = run_session(
        ",".join(surfaces),
        "ci",
        ["test_conv.py"],
        entries,
        timeout,
        extra=["--collect-only"],
    )
    found = session.children[-1].get("applicable") if session.children else None
    if found is None:
        raise SystemExit(f"the applicability probe failed:\n{session.children[-1]['tail']}")
    return found


# --- the benchmark ----------------------------------------------------------------------


def first_match(issue_id: str, session: Session) -> dict[str, Any] | None:
    """The earliest failure or crash in `session` that `issue_id`'s predicate matches."""
    events = [
        *(dict(f, how="failure") for f in session.failures),
        *(dict(c, how="crash", clause="ERR.3") for c in session.crashes),
    ]
    hits = [e for e in events if issue_id in e["matches"]]
    return min(hits, key=lambda e: e["seconds"]) if hits else None


def rediscover(
    options: argparse.Namespace, save: Callable[[dict[str, Any]], None]
) -> dict[str, Any]:
    """The table's rows and every session's summary; `save` gets the payload so far after
    each session, so an interrupted run keeps what it measured."""
    from adapters.registry import builtin_factories
    from suites.known_issues import registry

    known = builtin_factories()
    cited = clause_modules()
    running = operation_modules()
    wanted = targets(options.only)
    keep = [i.id for i in registry() if i.kind in KEPT_KINDS and i.id not in by_id_of(wanted)]
    by_id = {i.id: i for i in wanted}
    rows: dict[str, dict[str, Any]] = {}
    planned: dict[str, list[Any]] = {}
    sessions: list[dict[str, Any]] = []
    payload = {
        "kind": "rediscover",
        "kinds": list(KINDS),
        "timeout": options.timeout,
        "hunt_minutes": options.hunt_minutes,
        "hunt_timeout": options.hunt_timeout,
        "kept_registered": keep,
        "rows": list(rows.values()),
        "sessions": sessions,
    }
    for issue in wanted:
        surface = surface_for(issue)
        row = rows.setdefault(issue.id, {"entry": issue.id, "kind": issue.kind})
        row["framework"], row["surface"] = issue.framework, surface
        row["modules"] = modules_for(issue, cited, running)
        if surface is None or surface not in known:
            row["status"] = f"surface {surface} not registered (adapters/registry.py)"
        elif not row["modules"]:
            row["status"] = "no suite module cites its clauses"
        else:
            planned.setdefault(surface, []).append(issue)
    print(f"probing {len(planned)} surfaces for {len(wanted)} targets ...", flush=True)
    holds = probe(sorted(planned), [i.id for i in wanted], options.timeout)
    order = {s: i for i, s in enumerate(SURFACE_ORDER)}
    for surface, issues in sorted(planned.items(), key=lambda p: order.get(p[0], len(order))):
        runnable = []
        for issue in issues:
            verdict = holds.get(issue.id, {}).get(surface)
            rows[issue.id]["requires"] = issue.requires or "(none)"
            if verdict is None:
                rows[issue.id]["status"] = "surface unavailable here"
            elif not verdict:
                rows[issue.id]["status"] = "requires does not hold here"
            else:
                runnable.append(issue)
        if not runnable:
            continue
        modules = sorted({m for i in runnable for m in modules_for(i, cited, running)})
        ids = [i.id for i in runnable]
        print(f"ci on {surface}: {len(ids)} targets, modules {' '.join(modules)}", flush=True)
        ci = run_session(surface, "ci", modules, ids, options.timeout, keep=keep)
        sessions.append(_summary(ci))
        for issue in runnable:
            hit = first_match(issue.id, ci)
            rows[issue.id]["ci"] = _hit(hit)
            rows[issue.id]["ci_session_tests"] = ci.tests
            rows[issue.id]["status"] = "found by ci" if hit else "not found by ci"
            print(f"  {issue.id}: {rows[issue.id]['status']}", flush=True)
        save({**payload, "rows": list(rows.values())})
    if options.hunt_minutes:
        for row in rows.values():
            if row.get("status") != "not found by ci":
                continue
            modules = hunt_order(by_id[row["entry"]], cited, running)
            print(
                f"hunt on {row['surface']} for {row['entry']}: {options.hunt_minutes} min per "
                f"test, modules {' '.join(modules)}",
                flush=True,
            )
            hunt = run_session(
                row["surface"],
                "hunt",
                modules,
                [row["entry"]],
                options.hunt_timeout,
                extra=[
                    "--hunt-minutes",
                    str(options.hunt_minutes),
                    "--rediscover-prefer",
                    ",".join(preferred_clauses(by_id[row["entry"]])),
                ],
                stop=True,
                keep=keep,
            )
            sessions.append(_summary(hunt))
            hit = first_match(row["entry"], hunt)
            row["hunt"] = _hit(hit)
            row["hunt_session_seconds"] = hunt.seconds
            row["hunt_tests"] = hunt.tests
            row["hunt_timed_out"] = hunt.timed_out
            row["status"] = "found by hunt" if hit else "not found"
            print(f"  {row['entry']}: {row['status']}", flush=True)
            save({**payload, "rows": list(rows.values())})
    return {**payload, "rows": list(rows.values())}


def _hit(hit: dict[str, Any] | None) -> dict[str, Any] | None:
    if hit is None:
        return None
    keep = ("how", "seconds", "examples", "examples_in_test", "test", "clause", "descriptor")
    return {k: hit.get(k) for k in keep}


def _summary(session: Session) -> dict[str, Any]:
    """What a session did, for the JSON: every failure's entries, not each failure."""
    matched: dict[str, int] = {}
    unmatched = []
    for f in session.failures:
        for issue_id in f["matches"]:
            matched[issue_id] = matched.get(issue_id, 0) + 1
        if not f["matches"]:
            unmatched.append({k: f[k] for k in ("test", "clause", "descriptor")})
    return {
        "surface": session.surface,
        "profile": session.profile,
        "modules": session.modules,
        "entries": session.entries,
        "seconds": session.seconds,
        "examples": session.examples,
        "tests": session.tests,
        "timed_out": session.timed_out,
        "failures": len(session.failures),
        "failures_per_entry": dict(sorted(matched.items())),
        "failures_matching_no_entry": unmatched,
        "crashes": session.crashes,
        "children": [
            {"rc": c["rc"], "settings": c.get("settings"), "tail": _relative(c["tail"][-600:])}
            for c in session.children
        ],
    }


def _relative(text: str) -> str:
    """Paths in a child's output as the checkout names them: the results are committed."""
    inside = re.escape(str(ROOT).lstrip("/")) + "/"
    return re.sub(r"(?:\.\./)+" + inside + "|/" + inside, "", text)


def markdown(payload: dict[str, Any]) -> str:
    """RESULTS.md's rediscovery table."""
    lines = [
        "| entry | kind | surface | ci: s / examples / test | hunt: s / examples / test | result "
        "| also matched on (ci) |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in payload["rows"]:
        elsewhere = sorted(
            s["surface"]
            for s in payload["sessions"]
            if s["profile"] == "ci"
            and s["surface"] != row.get("surface")
            and row["entry"] in s["failures_per_entry"]
        )
        lines.append(
            f"| `{row['entry']}` | {row['kind']} | {row.get('surface') or '-'} | "
            f"{_cell(row.get('ci'))} | {_cell(row.get('hunt'))} | {row.get('status', '-')} | "
            f"{', '.join(elsewhere) or '-'} |"
        )
    return "\n".join(lines) + "\n"


def _cell(hit: dict[str, Any] | None) -> str:
    if not hit:
        return "-"
    test = (hit.get("test") or "-").split("::", 1)[-1].split("[", 1)[0]
    how = " (crash)" if hit.get("how") == "crash" else ""
    return f"{hit['seconds']:.1f} / {hit['examples']} / {test}{how}"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--only", nargs="+", metavar="ID", help="only these registry entries")
    parser.add_argument(
        "--hunt-minutes",
        type=float,
        default=0.25,
        help="the hunt's minutes per test item; 0: ci only (default 0.25)",
    )
    parser.add_argument("--no-hunt", action="store_true", help="ci only")
    parser.add_argument(
        "--hunt-timeout",
        type=float,
        default=420,
        help="seconds after which a target's hunt starts no further test (default 420)",
    )
    shared.add_json(parser)
    shared.add_timeout(parser)


def main(options: argparse.Namespace) -> int:
    if options.no_hunt:
        options.hunt_minutes = 0
    started = time.perf_counter()
    path = Path(options.json) if options.json else RESULTS / "rediscover.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    command = command_line()
    measured_on = machine()

    def save(payload: dict[str, Any]) -> None:
        payload["wall_seconds"] = time.perf_counter() - started
        payload["machine"] = measured_on
        payload["command"] = command
        path.write_text(json.dumps(payload, indent=1, default=str) + "\n", encoding="utf-8")

    payload = rediscover(options, save)
    payload["complete"] = True
    save(payload)
    print()
    print(markdown(payload), end="")
    print(f"wrote {path}")
    return 0
