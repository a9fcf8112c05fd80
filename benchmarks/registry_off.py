"""A pytest plugin for the rediscovery benchmark: `-p benchmarks.registry_off`.

It switches the known-issue registry off for the whole session
(`known_issues.suspended()`), so every registered bug fails again as if it were new, and
records each failing example (each `Nonconformance` a test body raises, before any
shrinking) with the entries whose clause, surface and predicate match it. The failure
is then swallowed and the test goes on drawing: that is what a run does where every other
entry is registered (fail() records a known issue and the test continues), so no bug masks
another, while the first failure matching an entry is where a run without that entry would
have stopped.

A crash of an in-process surface ends the process. So before each backend call of the
forward suites the plugin writes the configuration about to run, the entries a crash
(ERR.3) there would match, and the counts so far to `--rediscover-last`: the benchmark
reads it when the process dies, and runs the session again without the test that crashed.

Options: `--rediscover-json PATH` (the session's record, written at its end),
`--rediscover-log PATH` (each failure appended as a JSON line as it happens, so a crash
loses none), `--rediscover-examples N` (the count to start from, after a restart),
`--rediscover-entries ID,...`
(the entries to look for: their platform applicability is recorded too),
`--rediscover-keep ID,...` (entries that stay registered: the benchmark keeps the hangs,
each of which would cost the error suite's time limit per example, as it does in a run
where they are registered),
`--rediscover-prefer CLAUSE,...` (within each module, the test items citing most of these
clauses run first; the modules keep the order given),
`--rediscover-done PATH` (each test item run to its end appended as a line, so that a
session restarted after a crash need not run it again),
`--rediscover-stop` (end the session once every one of them has matched),
`--rediscover-epoch T` (the benchmark's start, time.time(): seconds count from there),
`--rediscover-deadline T` (no test starts after this time.time()).
"""

from __future__ import annotations

import contextlib
import functools
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from adapters.base import Adapter
from suites import descriptor, known_issues, verdict
from suites.example import Setup

_state: dict[str, Any] = {
    "examples": 0,
    "epoch": None,
    "targets": [],
    "found": set(),
    "failures": [],
    "tests": [],
    "stop": False,
}
_stack = contextlib.ExitStack()


class AllFound(KeyboardInterrupt):
    """Ends the session once every entry looked for has matched: pytest lets it through."""


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("convspec-rediscovery")
    group.addoption("--rediscover-json", default=None, metavar="PATH")
    group.addoption("--rediscover-last", default=None, metavar="PATH")
    group.addoption("--rediscover-entries", default="", metavar="ID,...")
    group.addoption("--rediscover-keep", default="", metavar="ID,...")
    group.addoption("--rediscover-done", default=None, metavar="PATH")
    group.addoption("--rediscover-prefer", default="", metavar="CLAUSE,...")
    group.addoption("--rediscover-stop", action="store_true", default=False)
    group.addoption("--rediscover-epoch", type=float, default=None, metavar="T")
    group.addoption("--rediscover-log", default=None, metavar="PATH")
    group.addoption("--rediscover-examples", type=int, default=0, metavar="N")
    group.addoption("--rediscover-deadline", type=float, default=None, metavar="T")


def pytest_configure(config: pytest.Config) -> None:
    _state["epoch"] = config.getoption("--rediscover-epoch") or time.time()
    _state["targets"] = [i for i in config.getoption("--rediscover-entries").split(",") if i]
    _state["stop"] = config.getoption("--rediscover-stop")
    _state["examples"] = config.getoption("--rediscover-examples")
    _state["log"] = config.getoption("--rediscover-log")
    _state["deadline"] = config.getoption("--rediscover-deadline")
    _state["done"] = config.getoption("--rediscover-done")
    keep = [i for i in config.getoption("--rediscover-keep").split(",") if i]
    _stack.enter_context(known_issues.suspended(keep=keep))
    last = config.getoption("--rediscover-last")
    if last:
        # call_backend looks this name up at each call; the error suite's calls run in
        # child processes already and report a crash as a failure of their own.
        original = verdict.known_crash
        verdict.known_crash = functools.partial(_note_call, Path(last), original)
        _stack.callback(setattr, verdict, "known_crash", original)


def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    prefer = {c for c in config.getoption("--rediscover-prefer").split(",") if c}
    if not prefer:
        return
    modules: dict[str, int] = {}
    for item in items:
        modules.setdefault(str(item.path), len(modules))

    def share(item: pytest.Item) -> int:
        cited = {c for mark in item.iter_markers("clauses") for c in mark.args}
        return len(cited & prefer)

    items[:] = sorted(items, key=lambda item: (modules[str(item.path)], -share(item)))


def pytest_unconfigure(config: pytest.Config) -> None:
    _stack.close()


def matching(adapter: Adapter, setup: Setup, clause: str) -> list[str]:
    """Every entry that would cover a failure of `clause` on `setup` were matching on."""
    return [
        issue.id
        for issue in known_issues.registry()
        if clause in issue.clauses
        and issue.applies_to(adapter)
        and known_issues.triggers(issue, setup, adapter)
    ]


def _now() -> float:
    return time.time() - _state["epoch"]


def _note_call(
    path: Path, original: Callable[[Adapter, Setup], bool], adapter: Adapter, setup: Setup
) -> bool:
    record = {
        "test": _state.get("test"),
        "surface": adapter.name,
        "descriptor": descriptor.encode(setup),
        "matches": matching(adapter, setup, "ERR.3"),
        "seconds": _now(),
        "examples": _state["examples"],
        "examples_in_test": _state.get("in_test", 0),
    }
    path.write_text(json.dumps(record) + "\n", encoding="utf-8")
    return original(adapter, setup)


def _record(error: verdict.Nonconformance) -> None:
    matches = matching(error.adapter, error.runs, error.clause)
    record = {
        "test": _state.get("test"),
        "surface": error.adapter.name,
        "clause": error.clause,
        "descriptor": descriptor.encode(error.runs),
        "size_class": error.example.setup.size_class,
        "matches": matches,
        "seconds": _now(),
        "examples": _state["examples"],
        "examples_in_test": _state.get("in_test", 0),
    }
    _state["failures"].append(record)
    if _state["log"]:
        with open(_state["log"], "a", encoding="utf-8") as log:
            log.write(json.dumps(record) + "\n")
    _state["found"].update(matches)
    targets = _state["targets"]
    if _state["stop"] and targets and set(targets) <= _state["found"]:
        raise AllFound(f"every entry looked for matched a failure: {targets}")


def _swallowing(body: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(body)
    def counted(*args: Any, **kwargs: Any) -> Any:
        _state["examples"] += 1
        _state["in_test"] = _state.get("in_test", 0) + 1
        try:
            return body(*args, **kwargs)
        except verdict.Nonconformance as error:
            _record(error)
            return None

    return counted


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Any:
    _state["test"], _state["in_test"] = item.nodeid, 0
    handle = getattr(getattr(item, "obj", None), "hypothesis", None)
    original = getattr(handle, "inner_test", None)
    if handle is not None and original is not None:
        handle.inner_test = _swallowing(original)
    else:  # a plain test is one example, as benchmarks/counting.py counts it
        _state["examples"] += 1
        _state["in_test"] = 1
    started = time.perf_counter()
    outcome = "passed"
    try:
        return (yield)
    except verdict.Nonconformance as error:  # a test without Hypothesis
        _record(error)
        outcome = "failed"
        return None
    except BaseException as error:
        outcome = "skipped" if isinstance(error, pytest.skip.Exception) else "failed"
        raise
    finally:
        if handle is not None and original is not None:
            handle.inner_test = original
        if _state["deadline"] is not None and time.time() > _state["deadline"]:
            item.session.shouldstop = "the rediscovery session's time is up"
        _state["tests"].append(
            {
                "test": item.nodeid,
                "examples": _state["in_test"],
                "seconds": time.perf_counter() - started,
                "outcome": outcome,
            }
        )
        if _state["done"]:
            with open(_state["done"], "a", encoding="utf-8") as done:
                done.write(item.nodeid + "\n")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    path = session.config.getoption("--rediscover-json")
    if not path:
        return
    from conftest import selected_adapters

    applicable: dict[str, dict[str, bool]] = {}
    for loaded in selected_adapters(session.config):
        if loaded.adapter is None:
            continue
        for issue in known_issues.registry():
            if issue.id in _state["targets"] and issue.applies_to(loaded.adapter):
                applicable.setdefault(issue.id, {})[loaded.name] = known_issues.applicable(
                    issue, loaded.adapter
                )
    payload = {
        "exitstatus": int(exitstatus),
        "seconds": _now(),
        "examples": _state["examples"],
        "applicable": applicable,
        "failures": _state["failures"],
        "tests": _state["tests"],
        "settings": _settings(),
    }
    Path(path).write_text(json.dumps(payload, indent=1) + "\n", encoding="utf-8")


def _settings() -> dict[str, Any]:
    from hypothesis import settings

    current = settings.default
    if current is None:
        return {}
    return {
        "profile": settings.get_current_profile_name(),
        "max_examples": current.max_examples,
        "derandomize": current.derandomize,
        "phases": [phase.name for phase in current.phases],
    }
