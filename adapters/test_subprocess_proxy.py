"""Self-tests of adapters.subprocess_proxy with small framework-free adapters.

The child process imports this module to build `CrashyAdapter`, whose conv
misbehaves in a way chosen by the stride: that is how the tests make the
child abort, exit, hang or raise on purpose.
"""

from __future__ import annotations

import os
import select
import signal
import sys
import time
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np
import pytest

from adapters import registry
from adapters.base import CONV, Adapter, Capabilities, OpSupport, UnsupportedError
from adapters.subprocess_proxy import (
    BackendCrash,
    BackendTimeout,
    ProxyAdapter,
    RemoteError,
    describe_call,
)
from reference.conv import conv_fast
from reference.numerics import numpy_dtype
from reference.params import Conv, Params

TARGET = "adapters.test_subprocess_proxy:CrashyAdapter"
PROBE = "CONVSPEC_PROXY_PROBE"

# What CrashyAdapter.conv does, by stride.
RETURN_DOUBLE, ABORT, EXIT_7, HANG, RAISE_VALUE, RAISE_FOREIGN, PRINT, UNSUPPORTED = range(1, 9)


class ForeignError(Exception):
    """An exception type that is not a Python builtin."""


class CrashyAdapter(Adapter):
    name = "crashy"
    framework = "crashy-framework"
    capabilities = Capabilities(
        ops={CONV: OpSupport(ranks=frozenset({1}), dtypes=frozenset({"float64", "bfloat16"}))},
        gradients=frozenset({CONV}),
    )

    def version(self) -> str:
        return os.environ.get(PROBE, "unset")

    def conv(self, x: np.ndarray, w: np.ndarray, b: np.ndarray | None, p: Conv) -> np.ndarray:
        behaviour = p.stride[0]
        if behaviour == ABORT:
            os.abort()
        if behaviour == EXIT_7:
            sys.stderr.write("about to exit\n")
            sys.stderr.flush()
            os._exit(7)
        if behaviour == HANG:
            time.sleep(600)
        if behaviour == RAISE_VALUE:
            raise ValueError("stride 5 is rejected")
        if behaviour == RAISE_FOREIGN:
            raise ForeignError("a framework-specific failure")
        if behaviour == UNSUPPORTED:
            raise UnsupportedError("cannot express this")
        if behaviour == PRINT:
            print("noise on stdout")
            os.write(1, b"raw noise on fd 1\n")
        return (x * 2).astype(x.dtype)

    def limitation(self, op: str, p: Params, shapes: Mapping[str, Any], dtype: str) -> str | None:
        return f"limited {op} {dtype}"

    def vjp(
        self, op: str, arrays: Mapping[str, np.ndarray | None], p: Params, cotangent: np.ndarray
    ) -> dict[str, np.ndarray]:
        return {"x": cotangent * 2, "pid": np.array(os.getpid())}


def missing_framework() -> Adapter:
    raise ImportError("crashy-framework is not installed")


def aborting_factory() -> Adapter:
    os.abort()


def params(behaviour: int) -> Conv:
    return Conv(stride=(behaviour,), dilation=(1,), padding=((0, 0),))


X = np.arange(6, dtype=np.float64).reshape(1, 2, 3)
W = np.ones((1, 2, 1))


@pytest.fixture(scope="module")
def proxy() -> Iterator[ProxyAdapter]:
    adapter = ProxyAdapter(TARGET, env={PROBE: "from-parent"}, timeout=20)
    yield adapter
    adapter.close()


def test_mirrors_the_child_surface(proxy: ProxyAdapter) -> None:
    assert proxy.name == "crashy"
    assert proxy.framework == "crashy-framework"
    assert proxy.capabilities == CrashyAdapter.capabilities
    assert proxy.version() == "from-parent"  # the environment reached the child
    assert PROBE not in os.environ
    assert "CONVSPEC_PROXY_PROBE=from-parent" in proxy.describe()
    assert proxy.pid is not None and proxy.pid != os.getpid()


def test_forwards_arrays_params_and_methods(proxy: ProxyAdapter) -> None:
    y = proxy.conv(X, W, None, params(RETURN_DOUBLE))
    np.testing.assert_array_equal(y, X * 2)
    assert y.dtype == np.float64
    bf16 = X.astype(numpy_dtype("bfloat16"))
    assert proxy.conv(bf16, W, None, params(RETURN_DOUBLE)).dtype == bf16.dtype
    assert proxy.limitation(CONV, params(1), {"x": X.shape}, "float64") == "limited conv float64"
    grads = proxy.vjp(CONV, {"x": X, "w": W, "b": None}, params(1), X)
    np.testing.assert_array_equal(grads["x"], X * 2)


def test_builtin_exception_keeps_its_type(proxy: ProxyAdapter) -> None:
    pid = proxy.pid
    with pytest.raises(ValueError, match="stride 5 is rejected"):
        proxy.conv(X, W, None, params(RAISE_VALUE))
    assert proxy.pid == pid  # an exception is not a crash


def test_foreign_exception_becomes_remote_error(proxy: ProxyAdapter) -> None:
    with pytest.raises(RemoteError) as info:
        proxy.conv(X, W, None, params(RAISE_FOREIGN))
    assert info.value.type_name == "adapters.test_subprocess_proxy.ForeignError"
    assert info.value.message == "a framework-specific failure"
    assert "builtins.Exception" in info.value.bases
    assert "ForeignError" in info.value.remote_traceback


def test_unsupported_error_keeps_its_type(proxy: ProxyAdapter) -> None:
    with pytest.raises(UnsupportedError, match="cannot express this"):
        proxy.conv(X, W, None, params(UNSUPPORTED))


def test_stdout_noise_does_not_break_the_protocol(proxy: ProxyAdapter) -> None:
    np.testing.assert_array_equal(proxy.conv(X, W, None, params(PRINT)), X * 2)
    np.testing.assert_array_equal(proxy.conv(X, W, None, params(RETURN_DOUBLE)), X * 2)


def test_abort_raises_backend_crash_and_the_next_call_restarts(proxy: ProxyAdapter) -> None:
    old_pid = proxy.pid
    with pytest.raises(BackendCrash) as info:
        proxy.conv(X, W, None, params(ABORT))
    assert info.value.signal == "SIGABRT"
    assert info.value.returncode == -signal.SIGABRT
    assert "conv(array(1, 2, 3) float64" in info.value.call
    assert "stride=(2,)" in info.value.call
    np.testing.assert_array_equal(proxy.conv(X, W, None, params(RETURN_DOUBLE)), X * 2)
    assert proxy.pid not in (None, old_pid)
    assert proxy.version() == "from-parent"


def test_exit_reports_the_code_and_stderr(proxy: ProxyAdapter) -> None:
    with pytest.raises(BackendCrash) as info:
        proxy.conv(X, W, None, params(EXIT_7))
    assert info.value.returncode == 7 and info.value.signal is None
    assert "about to exit" in info.value.stderr_tail


def test_hang_raises_backend_timeout_and_the_next_call_restarts() -> None:
    adapter = ProxyAdapter(TARGET, timeout=1.0)
    try:
        started = time.monotonic()
        with pytest.raises(BackendTimeout):
            adapter.conv(X, W, None, params(HANG))
        assert time.monotonic() - started < 15
        assert adapter.pid is None
        np.testing.assert_array_equal(adapter.conv(X, W, None, params(RETURN_DOUBLE)), X * 2)
    finally:
        adapter.close()


def test_missing_framework_is_reported_unavailable() -> None:
    with pytest.raises(ImportError, match="crashy-framework is not installed"):
        ProxyAdapter("adapters.test_subprocess_proxy:missing_framework")
    loaded = registry.instantiate(
        "missing", lambda: ProxyAdapter("adapters.test_subprocess_proxy:missing_framework")
    )
    assert loaded.adapter is None and "not installed" in (loaded.problem or "")


def test_crash_while_building_the_surface_is_a_backend_crash() -> None:
    with pytest.raises(BackendCrash) as info:
        ProxyAdapter("adapters.test_subprocess_proxy:aborting_factory")
    assert info.value.signal == "SIGABRT"
    assert info.value.call.startswith("start ")


class LazyProxy(ProxyAdapter):
    name = "crashy.lazy"
    framework = "crashy-framework"

    def __init__(self, target: str = TARGET) -> None:
        super().__init__(target, wait=False)


def test_without_wait_the_surface_is_reported_on_first_use() -> None:
    adapter = LazyProxy()
    try:
        assert adapter.name == "crashy.lazy" and adapter.pid is not None
        assert adapter.capabilities == CrashyAdapter.capabilities
        np.testing.assert_array_equal(adapter.conv(X, W, None, params(RETURN_DOUBLE)), X * 2)
    finally:
        adapter.close()
    lazy = LazyProxy("adapters.test_subprocess_proxy:missing_framework")
    with pytest.raises(ImportError, match="not installed"):
        lazy.version()
    lazy.close()


class LazyProxyShortStart(LazyProxy):
    def __init__(self) -> None:
        ProxyAdapter.__init__(self, TARGET, wait=False, start_timeout=1.0)


def test_a_start_reply_that_came_in_time_counts_when_it_is_read_late() -> None:
    adapter = LazyProxyShortStart()
    try:
        child = adapter._slot[0]
        assert child is not None
        # The child has replied once its stdout is readable; the parent reads it only after
        # the start deadline, as a surface made at collection and first used later is.
        readable, _, _ = select.select([child.proc.stdout], [], [], 120)
        assert readable, "the child did not report its surface within 120 s"
        time.sleep(1.5)
        np.testing.assert_array_equal(adapter.conv(X, W, None, params(RETURN_DOUBLE)), X * 2)
    finally:
        adapter.close()


def test_registry_surface_name_and_name_override() -> None:
    adapter = ProxyAdapter("numpy", name="numpy.in_child")
    try:
        assert adapter.name == "numpy.in_child"
        assert adapter.framework == "numpy"
        assert adapter.version() == np.__version__
        rng = np.random.default_rng(0)
        x, w, b = rng.normal(size=(2, 4, 5, 6)), rng.normal(size=(6, 2, 3, 2)), rng.normal(size=6)
        p = Conv(stride=(2, 1), dilation=(1, 2), padding=((1, 0), (2, 1)), groups=2)
        np.testing.assert_array_equal(adapter.conv(x, w, b, p), conv_fast(x, w, b, p))
    finally:
        adapter.close()


def test_unknown_surface_name_raises() -> None:
    with pytest.raises(ValueError, match="no backend surface named"):
        ProxyAdapter("no-such-surface")


def test_describe_call_is_one_readable_line() -> None:
    text = describe_call(CONV, (X, W, None, params(1)))
    assert text.startswith("conv(array(1, 2, 3) float64, array(1, 2, 1) float64, None, Conv(")
    assert "\n" not in text
