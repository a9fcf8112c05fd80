"""Crash-safe backend calls for the error suite (spec ERR.3, ERR.14).

`isolated(adapter)` is the same surface running in a persistent child process
(adapters.subprocess_proxy.ProxyAdapter), one per surface per test process (so one
per pytest-xdist worker), reused across examples, restarted by the proxy after a
crash, and stopped while the process tests other surfaces (LIVE_CHILDREN).
`expect_rejection` calls an invalid configuration there and turns each outcome into
the verdict of ERR.2 and ERR.3: an exception is conformant; a returned array, a dead
child or a call past the time limit is a failure naming the configuration.
"""

from __future__ import annotations

import contextlib
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from adapters import registry
from adapters.base import Adapter
from adapters.subprocess_proxy import BackendCrash, BackendTimeout, ProxyAdapter
from reference.params import Params
from suites import oracle, outcomes, verdict
from suites.strategies import Example
from suites.verdict import Nonconformance, check_result, known_crash

# ERR.3: seconds a call may take before it counts as a hang. Generous: a first call may
# compile or load kernels, and every configuration the suite builds is small.
CALL_TIMEOUT = 60.0

# Child processes kept alive per test process. Each holds its framework (up to a few
# hundred MiB); keeping one per surface would hold every framework once per xdist worker
# per surface (18 GiB for 17 surfaces on 2 workers). Tests of one surface run together
# (the backend parameter varies slowest), so a restart is needed only between groups.
LIVE_CHILDREN = 2

_proxies: OrderedDict[tuple[str, float], ProxyAdapter] = OrderedDict()


def target(adapter: Adapter) -> str:
    """What the child builds: the registry name of a registered surface, else module:Class."""
    cls = type(adapter)
    factories = registry.builtin_factories()
    # A broken entry point must not hide a builtin surface.
    with contextlib.suppress(Exception):
        factories.update(registry.entry_point_factories())
    if factories.get(adapter.name) is cls:
        return adapter.name
    return f"{cls.__module__}:{cls.__qualname__}"


def isolated(adapter: Adapter, timeout: float = CALL_TIMEOUT) -> ProxyAdapter:
    """`adapter`'s surface in a child process of this process (started once, then reused)."""
    if isinstance(adapter, ProxyAdapter):
        return adapter  # already in a child of its own
    key = (target(adapter), timeout)
    proxy = _proxies.pop(key, None)
    if proxy is None:
        proxy = ProxyAdapter(key[0], timeout=timeout, name=adapter.name)
    _proxies[key] = proxy  # the most recently used last
    for stale in list(_proxies.values())[:-LIVE_CHILDREN]:
        stale.close()  # a later call starts it again
    return proxy


@dataclass(frozen=True)
class Outcome:
    """What one isolated call did: returned `result`, or raised `error`."""

    result: object = None
    error: Exception | None = None


def call(
    adapter: Adapter,
    op: str,
    arrays: Mapping[str, np.ndarray | None],
    params: Params,
    timeout: float = CALL_TIMEOUT,
) -> Outcome:
    proxy = isolated(adapter, timeout)
    # Outside the try: a child that cannot start (or restart after an earlier crash) says
    # nothing about this configuration, so it is an error of the run, not the call's outcome.
    proxy.ready()
    try:
        return Outcome(result=oracle.run(proxy, op, arrays, params))
    except Exception as exc:
        return Outcome(error=exc)


def report(clause: str, adapter: Adapter, example: Example, detail: str) -> None:
    """verdict.fail without a repro script (a script needs reference values; an invalid
    configuration has none): a known-issue entry records it, else a Nonconformance."""
    __tracebackhide__ = True
    if verdict.known(adapter, example.setup, clause):
        return
    raise Nonconformance(clause, adapter, example, detail)


def describe_result(result: object) -> str:
    if isinstance(result, np.ndarray):
        return f"an array of shape {result.shape} and dtype {result.dtype}"
    return f"a {type(result).__name__} ({result!r:.80})"


def crash_detail(error: BackendCrash | BackendTimeout, what: str) -> str:
    """ERR.3's message: what died or hung, on which call, and the child's last words."""
    if isinstance(error, BackendTimeout):
        how = f"neither raised nor returned within {error.timeout:g} s (its process was killed)"
    else:
        signal = f"signal {error.signal}" if error.signal else f"exit code {error.returncode}"
        how = f"process died ({signal})"
    lines = [f"ERR.3:    the backend {how} on {what}", f"call:     {error.call}"]
    tail = getattr(error, "stderr_tail", "")
    if tail:
        lines.append("stderr:   " + tail.replace("\n", "\n          "))
    return "\n".join(lines)


def limited(adapter: Adapter, example: Example) -> bool:
    """verdict.limited for an invalid configuration, which may break the adapter's own
    check: one that raises names no limit."""
    setup = example.setup
    try:
        return verdict.limited(adapter, setup.op, setup.params, setup.shapes, setup.dtype)
    except Exception:
        return False


def expect_rejection(
    adapter: Adapter, example: Example, clause: str, description: str, timeout: float = CALL_TIMEOUT
) -> None:
    """ERR.2/ERR.3: the backend must raise for this invalid configuration, in time, alive."""
    __tracebackhide__ = True
    if limited(adapter, example):
        return
    setup = example.setup
    if known_crash(adapter, setup):
        return
    outcome = call(adapter, setup.op, example.arrays, setup.params, timeout)
    what = f"an invalid configuration ({clause}: {description})"
    if isinstance(outcome.error, BackendCrash | BackendTimeout):
        report("ERR.3", adapter, example, crash_detail(outcome.error, what))
    elif outcome.error is None:
        report(
            clause,
            adapter,
            example,
            f"ERR.2:    the backend silently accepted {what}: it returned "
            f"{describe_result(outcome.result)} instead of raising (called in a child process)",
        )
    else:
        outcomes.record_example(0.0, example.setup.size_class)


def expect_rejection_or_result(
    adapter: Adapter, example: Example, clause: str, what: str, timeout: float = CALL_TIMEOUT
) -> None:
    """ERR.9/ERR.15: the backend may raise, or return the reference's result, nothing else."""
    __tracebackhide__ = True
    if limited(adapter, example):
        return
    _rejection_or_result(adapter, example, clause, what, timeout)


def _rejection_or_result(
    adapter: Adapter, example: Example, clause: str, what: str, timeout: float
) -> None:
    __tracebackhide__ = True
    setup = example.setup
    if known_crash(adapter, setup):
        return
    outcome = call(adapter, setup.op, example.arrays, setup.params, timeout)
    if isinstance(outcome.error, BackendCrash | BackendTimeout):
        report("ERR.3", adapter, example, crash_detail(outcome.error, what))
        return
    if outcome.error is not None:
        # Raised: one of the two conformant answers.
        outcomes.record_example(0.0, example.setup.size_class)
        return
    got = outcome.result
    if not isinstance(got, np.ndarray):
        report(clause, adapter, example, f"returned {describe_result(got)}, not an array")
        return
    expected = oracle.expect(setup.op, example.arrays, setup.params)
    check_result(adapter, example, got, expected, clause=clause, shape_clause=clause)


def computed(
    adapter: Adapter,
    example: Example,
    arrays: Mapping[str, np.ndarray | None],
    params: Params,
    clause: str,
    what: str,
    timeout: float = CALL_TIMEOUT,
) -> np.ndarray | None:
    """The array an isolated call that must compute returned (ERR.16), or None once a
    crash or hang (ERR.3), an exception or a non-array (`clause`) is reported."""
    __tracebackhide__ = True
    outcome = call(adapter, example.setup.op, arrays, params, timeout)
    if isinstance(outcome.error, BackendCrash | BackendTimeout):
        report("ERR.3", adapter, example, crash_detail(outcome.error, what))
        return None
    if outcome.error is not None:
        error = outcome.error
        report(clause, adapter, example, f"raised {type(error).__name__}: {error} for {what}")
        return None
    if not isinstance(outcome.result, np.ndarray):
        report(clause, adapter, example, f"returned {describe_result(outcome.result)} for {what}")
        return None
    return outcome.result


def expect_documented_rejection(
    adapter: Adapter, example: Example, reason: str, timeout: float = CALL_TIMEOUT
) -> None:
    """ERR.17: what the framework documents as unsupported raises, or computes right."""
    __tracebackhide__ = True
    what = f"a configuration the framework documents as unsupported ({reason})"
    _rejection_or_result(adapter, example, "ERR.17", what, timeout)
