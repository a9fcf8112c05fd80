"""A pytest plugin that counts examples and times the first failure: `-p benchmarks.counting`.

An example is one call of a test's body: one Hypothesis example of a
`@given` test (the plugin wraps `.hypothesis.inner_test`, which Hypothesis
calls once per example), or one call of a plain test. The first body call
that raises an AssertionError or a plain Exception (Hypothesis's own control
flow excepted) is the first failure: the plugin records the examples run
until then (in the session and in that test), the seconds since the session
started, and the clause of a `Nonconformance`.

With `--count-json PATH` it writes, at the end of the session, that first
failure, every test's examples and call time, and the process's peak
resident memory (VmHWM). With `--count-stop-first` the session stops at
that first failure, before Hypothesis shrinks it: a mutation benchmark
needs the first failure only, and shrinking can take a hundred times longer
than finding it (the session then ends as interrupted, exit status 2).
"""

from __future__ import annotations

import functools
import json
import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

_state: dict[str, Any] = {
    "start": None,
    "examples": 0,
    "first_failure": None,
    "tests": [],
    "stop_first": False,
}


class FirstFailure(KeyboardInterrupt):
    """Stops the session at the first failure: Hypothesis and pytest let it through at once."""


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("convspec-benchmarks")
    group.addoption(
        "--count-json",
        default=None,
        metavar="PATH",
        help="write example counts, the first failure and peak memory as JSON to PATH",
    )
    group.addoption(
        "--count-stop-first",
        action="store_true",
        default=False,
        help="stop the session at the first failing example, before shrinking",
    )


def pytest_configure(config: pytest.Config) -> None:
    _state["stop_first"] = config.getoption("--count-stop-first")


def pytest_sessionstart(session: pytest.Session) -> None:
    _state["start"] = time.perf_counter()


def _is_failure(exc: BaseException) -> bool:
    if isinstance(exc, pytest.fail.Exception):
        return True
    if not isinstance(exc, Exception):
        return False  # pytest.skip, Hypothesis's StopTest and the like
    from hypothesis.errors import HypothesisException

    return not isinstance(exc, HypothesisException)


def _record_failure(nodeid: str, in_test: int, exc: BaseException) -> None:
    if _state["first_failure"] is not None:
        return
    lines = str(exc).strip().splitlines()
    # A Nonconformance reads: clause, backend, config (many lines), replay, then what differs.
    replay = next((i for i, line in enumerate(lines) if line.startswith("replay:")), None)
    detail = lines[replay + 1 :] if replay is not None else lines[1:]
    _state["first_failure"] = {
        "test": nodeid,
        "seconds": time.perf_counter() - _state["start"],
        "examples": _state["examples"],
        "examples_in_test": in_test,
        "clause": getattr(exc, "clause", None),
        "error": type(exc).__name__,
        "headline": lines[0] if lines else "",
        "replay": lines[replay] if replay is not None else None,
        "detail": "\n".join(detail[:6]),
    }


def _counting(nodeid: str, body: Callable[..., Any], stats: dict[str, int]) -> Callable[..., Any]:
    @functools.wraps(body)
    def counted(*args: Any, **kwargs: Any) -> Any:
        _state["examples"] += 1
        stats["examples"] += 1
        try:
            return body(*args, **kwargs)
        except BaseException as exc:
            if isinstance(exc, pytest.skip.Exception):  # unsupported: not an example
                _state["examples"] -= 1
                stats["examples"] -= 1
            if _is_failure(exc):
                _record_failure(nodeid, stats["examples"], exc)
                if _state["stop_first"]:
                    raise FirstFailure(f"first failure in {nodeid}") from exc
            raise

    return counted


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Any:
    stats = {"examples": 0}
    outcome = "passed"
    handle = getattr(getattr(item, "obj", None), "hypothesis", None)
    original = getattr(handle, "inner_test", None)
    plain = original is None and isinstance(item, pytest.Function)
    if handle is not None and original is not None:
        handle.inner_test = _counting(item.nodeid, original, stats)
    elif plain:
        _state["examples"] += 1
        stats["examples"] = 1
    started = time.perf_counter()
    try:
        return (yield)
    except BaseException as exc:
        outcome = "skipped" if isinstance(exc, pytest.skip.Exception) else "failed"
        if plain and outcome == "skipped":
            _state["examples"] -= 1
            stats["examples"] = 0
        if plain and _is_failure(exc):
            _record_failure(item.nodeid, 1, exc)
        raise
    finally:
        if handle is not None and original is not None:
            handle.inner_test = original
        _state["tests"].append(
            {
                "test": item.nodeid,
                "examples": stats["examples"],
                "seconds": time.perf_counter() - started,
                "outcome": outcome,
                "peak_rss_kib": _peak_rss_kib(),  # the high-water mark after this test
            }
        )


def _peak_rss_kib() -> int:
    """This process's peak resident memory in KiB.

    Linux's VmHWM, which counts this program only: ru_maxrss survives exec, so a child
    started by a large parent would report the parent's peak.
    """
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text(encoding="utf-8").splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak // 1024 if sys.platform == "darwin" else peak  # macOS reports bytes


def _settings() -> dict[str, Any]:
    """The Hypothesis profile the session ran with: its example count decides the numbers."""
    from hypothesis import settings

    current = settings.default
    if current is None:
        return {}
    return {
        "profile": getattr(settings, "_current_profile", None),
        "max_examples": current.max_examples,
        "derandomize": current.derandomize,
        "phases": [phase.name for phase in current.phases],
    }


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    path = session.config.getoption("--count-json")
    if not path or hasattr(session.config, "workerinput"):
        return
    payload = {
        "exitstatus": int(exitstatus),
        "session_seconds": time.perf_counter() - (_state["start"] or time.perf_counter()),
        "examples": _state["examples"],
        "first_failure": _state["first_failure"],
        "tests": _state["tests"],
        "peak_rss_kib": _peak_rss_kib(),
        "settings": _settings(),
    }
    Path(path).write_text(json.dumps(payload, indent=1) + "\n", encoding="utf-8")
