"""Self-tests of crash isolation (spec ERR.3, ERR.14): a dying backend fails one test, not the run.

`AbortingAdapter` is a toy backend that calls os.abort() for a stride below 1 and hangs
for a dilation below 1, the way a C++ kernel with a failed assertion or an endless loop
would. It lives here, importable as selftests.test_isolation:AbortingAdapter, so that the
proxy's child process can build it like any external adapter.

The demo tests at the bottom exist only in a child pytest run that sets DEMO_ENV; the
self-tests start such runs, with and without pytest-xdist, and read their reports.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from adapters.base import CONV, Adapter, Capabilities, OpSupport
from reference.params import Conv

ROOT = Path(__file__).resolve().parent.parent
DEMO_ENV = "CONVSPEC_ISOLATION_DEMO"
SPEC = "selftests.test_isolation:AbortingAdapter"


class AbortingAdapter(Adapter):
    """NumPy's convolution, except that it aborts (stride < 1) or hangs (dilation < 1)."""

    name = "aborting"
    framework = "numpy"
    capabilities = Capabilities(
        ops={
            CONV: OpSupport(
                ranks=frozenset({1}),
                dtypes=frozenset({"float64"}),
                padding=frozenset({"symmetric", "valid"}),
                bias=False,
            )
        }
    )

    def version(self) -> str:
        return "toy"

    def conv(self, x: np.ndarray, w: np.ndarray, b: np.ndarray | None, p: Conv) -> np.ndarray:
        from reference.conv import conv_fast

        if min(p.stride) < 1:
            os.abort()
        if min(p.dilation) < 1:
            time.sleep(3600)
        return conv_fast(x, w, b, p).astype(x.dtype)


class AcceptingAdapter(AbortingAdapter):
    """Returns zeros of the input's shape for anything: silent acceptance (ERR.2)."""

    name = "accepting"

    def conv(self, x: np.ndarray, w: np.ndarray, b: np.ndarray | None, p: Conv) -> np.ndarray:
        return np.zeros_like(x)


def example(stride: int = 1, dilation: int = 1, groups: int = 1, c_in: int = 2):
    """A 1-D convolution, invalid as the arguments make it; its operands are small integers."""
    from suites import invalid
    from suites.example import Setup, Shapes

    params = Conv(stride=(stride,), dilation=(dilation,), padding=((1, 1),), groups=groups)
    shapes: Shapes = {"x": (1, c_in, 6), "w": (2, c_in // groups, 3), "b": None}
    return invalid.operands(Setup(CONV, params, shapes, "float64", exact=True))


def _rejection_failure(adapter: Adapter, ex: object, clause: str, timeout: float) -> str:
    from suites import isolation
    from suites.verdict import Nonconformance

    with pytest.raises(Nonconformance) as info:
        isolation.expect_rejection(adapter, ex, clause, "the toy's trigger", timeout)  # type: ignore[arg-type]
    return str(info.value)


def test_abort_is_a_failure_naming_the_configuration_and_the_next_call_works() -> None:
    from suites import isolation, oracle
    from suites.verdict import check_example

    adapter = AbortingAdapter()
    message = _rejection_failure(adapter, example(stride=0), "CONV.4", isolation.CALL_TIMEOUT)
    assert "ERR.3" in message and "SIGABRT" in message, message
    assert "conv;x=1x2x6;w=2x2x3;b=none;stride=0;" in message, message  # the replay descriptor
    assert "'stride': (0,)" in message, message  # the configuration literal
    # The proxy starts a fresh child: the same surface computes the next call correctly.
    proxy = isolation.isolated(adapter)
    valid = example()
    got = oracle.run(proxy, CONV, valid.arrays, valid.setup.params)
    want = oracle.expect(CONV, valid.arrays, valid.setup.params).values
    assert np.array_equal(got, want)
    check_example(proxy, valid, clause="CONV.2", shape_clause="CONV.3")


def test_a_child_that_cannot_start_is_an_error_of_the_run_not_an_outcome() -> None:
    # A start past its limit (here forced; on a machine short of memory, real) says nothing
    # about the configuration: it must not be reported as the backend hanging on it (ERR.3).
    from adapters.subprocess_proxy import BackendTimeout, ProxyAdapter
    from suites import isolation

    proxy = ProxyAdapter(SPEC, name="aborting")
    proxy.close()
    proxy.start_timeout = 1e-6
    valid = example()
    with pytest.raises(BackendTimeout, match=r"^start "):
        isolation.call(proxy, CONV, valid.arrays, valid.setup.params)
    proxy.close()


def test_hang_is_a_failure_after_the_time_limit() -> None:
    message = _rejection_failure(AbortingAdapter(), example(dilation=0), "CONV.5", 1.0)
    assert "ERR.3" in message and "within 1 s" in message, message
    assert "dilation=0" in message, message


def test_returned_array_is_silent_acceptance() -> None:
    message = _rejection_failure(AcceptingAdapter(), example(groups=2, c_in=3), "CONV.6", 60.0)
    assert "ERR.2" in message and "silently accepted" in message, message
    assert "returned an array of shape (1, 3, 6)" in message, message


def test_raising_is_conformant() -> None:
    from suites import isolation

    # groups=2 does not divide C_in=3: NumPy's conv raises SpecError, in the child.
    isolation.expect_rejection(AbortingAdapter(), example(groups=2, c_in=3), "CONV.6", "groups")


def test_a_registered_crash_is_not_called_but_reported_known(monkeypatch) -> None:
    """A configuration a known ERR.3 entry matches would take the test process down: it is
    recorded as known without calling the backend; others are called as usual."""
    from suites import known_issues, outcomes
    from suites.verdict import call_backend

    crash = known_issues.KnownIssue(
        id="toy-stride-zero-abort",
        framework="numpy",
        kind="crash",
        upstream="-",
        clauses=("ERR.3",),
        surfaces=("aborting",),
        # A generator body that reads the configuration's names, not only its loop variable.
        when="op == 'conv' and any(s < 1 and n > 0 for s, n in zip(stride, x[2:]) if len(x) == 3)",
        versions="toy",
        description="the toy aborts for a stride below 1",
        confirmed="2026-11-22",
        example="",
    )
    monkeypatch.setattr(known_issues, "registry", lambda: (crash,))
    adapter = AbortingAdapter()
    aborting = example(stride=0)

    def never() -> np.ndarray:
        pytest.fail("the backend was called on a configuration a registered crash matches")

    assert call_backend(adapter, aborting, "CONV.2", never) is None
    assert crash.id in outcomes.current_stats().known
    valid = example()
    got = call_backend(adapter, valid, "CONV.2", lambda: np.ones(3))
    assert got is not None and np.array_equal(got, np.ones(3))
    # One call of a composite: matched by the configuration it runs, not the composite's.
    assert call_backend(adapter, valid, "CONV.2", never, runs=aborting.setup) is None


def test_only_the_most_recent_children_stay_alive() -> None:
    """Memory: a test process keeps LIVE_CHILDREN framework children, not one per surface."""
    from suites import isolation, oracle

    valid = example()
    timeouts = [50.0 + i for i in range(isolation.LIVE_CHILDREN + 1)]  # distinct children
    proxies = []
    for t in timeouts:  # as the tests of one surface after another use them
        proxies.append(isolation.isolated(AbortingAdapter(), t))
        oracle.run(proxies[-1], CONV, valid.arrays, valid.setup.params)
    running = [p for p in proxies if p.pid is not None]
    assert running == proxies[1:], [p.pid for p in proxies]
    # A stopped one starts again when its surface comes back, and computes.
    again = isolation.isolated(AbortingAdapter(), timeouts[0])
    assert again is proxies[0]
    got = oracle.run(again, CONV, valid.arrays, valid.setup.params)
    want = oracle.expect(CONV, valid.arrays, valid.setup.params).values
    assert np.array_equal(got, want)
    assert proxies[1].pid is None and again.pid is not None


_HANGING_PARENT = """
import sys
import numpy as np
from adapters.subprocess_proxy import ProxyAdapter
from reference.params import Conv
proxy = ProxyAdapter({spec!r}, timeout=3600)
print("calling", flush=True)
proxy.conv(np.zeros((1, 1, 4)), np.zeros((1, 1, 2)), None,
           Conv(stride=(1,), dilation=(0,), padding=((0, 0),)))
"""


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        try:
            stat = (entry / "stat").read_text()
        except (OSError, ValueError):
            continue
        if stat[stat.rindex(")") + 2 :].split()[1] == str(pid):
            found.append(int(entry.name))
    return found


def _running(pid: int) -> bool:
    """Not gone and not a zombie (in a container nothing may reap an orphan's exit)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2 :].split()[0] != "Z"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_a_hung_child_dies_with_its_parent() -> None:
    """An interrupted run (pytest killed, a worker lost) must not leave a hung backend
    spinning as an orphan: the child asks the kernel to kill it with its parent."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    parent = subprocess.Popen(
        [sys.executable, "-c", _HANGING_PARENT.format(spec=SPEC)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert parent.stdout is not None and parent.stdout.readline().strip() == "calling"
        children = _children(parent.pid)
        assert children, "the proxy started no child process"
    finally:
        parent.kill()
        parent.wait()
    deadline = time.monotonic() + 30
    alive = children
    while alive and time.monotonic() < deadline:
        time.sleep(0.2)
        alive = [c for c in children if _running(c)]
    assert not alive, f"child processes {alive} outlived their killed parent"


def _demo_run(*extra: str) -> subprocess.Popen[str]:
    env = {**os.environ, DEMO_ENV: "1", "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-v", "-rA"]
    command += [__file__, "-k", "demo", "--backend", "aborting", "--adapter", SPEC, *extra]
    return subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )


@pytest.mark.skipif(os.environ.get(DEMO_ENV) == "1", reason="inside a demo run")
def test_crash_fails_one_test_and_the_run_goes_on_with_and_without_xdist() -> None:
    # Both runs at once: each spends most of its time starting interpreters.
    runs = {"serial": _demo_run(), "xdist": _demo_run("-n", "1")}
    for how, run in runs.items():
        out, _ = run.communicate(timeout=300)
        assert run.returncode == 1, f"{how}: exit {run.returncode}\n{out}"
        assert "1 failed, 1 passed" in out, f"{how}:\n{out}"
        assert (
            "test_demo_abort FAILED" in out
            or "FAILED selftests/test_isolation.py::test_demo_abort" in out
        ), out
        assert (
            "test_demo_after_the_abort PASSED" in out
            or "PASSED selftests/test_isolation.py::test_demo_after_the_abort" in out
        ), out
        assert "ERR.3" in out and "SIGABRT" in out and "stride=0" in out, f"{how}:\n{out}"
        assert "node down" not in out and "crashed worker" not in out, f"{how}:\n{out}"


if os.environ.get(DEMO_ENV) == "1":

    def test_demo_abort(backend) -> None:
        from suites import isolation

        isolation.expect_rejection(backend, example(stride=0), "CONV.4", "stride (0,)")

    def test_demo_after_the_abort(backend) -> None:
        from suites import isolation
        from suites.verdict import check_example

        # In the same process as the failure above (one worker under -n 1).
        isolation.expect_rejection(backend, example(groups=2, c_in=3), "CONV.6", "groups=2")
        check_example(
            isolation.isolated(backend), example(), clause="CONV.2", shape_clause="CONV.3"
        )
