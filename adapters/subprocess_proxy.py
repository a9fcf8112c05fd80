"""Run a backend surface in a persistent child process.

`ProxyAdapter` starts `python -m adapters.subprocess_proxy` with an
environment of its own (for settings a framework reads once, at import, such
as TF_ENABLE_ONEDNN_OPTS), builds the target surface there and forwards every
operation call to it: pickled NumPy arrays and parameters go over the
child's stdin, results come back over its stdout.

A separate process also contains what an in-process call cannot: a framework
that segfaults or aborts takes down only the child. The call then raises
`BackendCrash` (exit status and the end of the child's stderr included) and
the next call starts a fresh child. A call that runs past the timeout kills
the child and raises `BackendTimeout`. An exception raised by the framework
comes back as itself when it is a Python builtin (ValueError, TypeError,
RuntimeError, NotImplementedError, ...) or convspec's UnsupportedError, and
as `RemoteError` (naming the original type) otherwise, so a report can tell
"raised an exception" from "crashed".

The child is a plain `subprocess.Popen`, never a fork, so it starts clean
even when the parent has already imported a framework. POSIX only: the
parent waits on the pipes with select().
"""

from __future__ import annotations

import builtins
import contextlib
import importlib
import os
import pickle
import select
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np

from adapters.base import OPERATIONS, Adapter, Capabilities, UnsupportedError
from reference.params import Params

DEFAULT_TIMEOUT = 60.0
# Building the child's surface imports its framework, which takes seconds
# (more on a loaded machine running the suite in parallel).
DEFAULT_START_TIMEOUT = 180.0

# The repository root, so that the child can import `adapters` and `reference`.
_ROOT = Path(__file__).resolve().parent.parent
_HEADER = struct.Struct(">Q")  # length of the pickled message that follows
_STDERR_TAIL = 4000  # bytes of the child's stderr kept in a crash report


class BackendCrash(Exception):
    """The child process died during a call (segfault, abort, exit)."""

    def __init__(self, call: str, returncode: int | None, stderr_tail: str = "") -> None:
        self.call = call
        self.returncode = returncode
        self.signal = _signal_name(returncode)
        self.stderr_tail = stderr_tail
        how = f"signal {self.signal}" if self.signal else f"exit code {returncode}"
        message = f"{call}: the backend process died ({how})"
        if stderr_tail:
            message += f"; its stderr ended with:\n{stderr_tail}"
        super().__init__(message)


class BackendTimeout(Exception):
    """A call ran past the timeout; its child process was killed."""

    def __init__(self, call: str, timeout: float) -> None:
        self.call = call
        self.timeout = timeout
        super().__init__(f"{call}: no result after {timeout:g} s; the backend process was killed")


class RemoteError(Exception):
    """A non-builtin exception raised by the backend in the child process."""

    def __init__(
        self, type_name: str, message: str, bases: tuple[str, ...] = (), remote_traceback: str = ""
    ) -> None:
        self.type_name = type_name  # 'module.QualName' of the original exception
        self.message = message
        self.bases = bases  # qualified names of its base classes, nearest first
        self.remote_traceback = remote_traceback
        super().__init__(f"{type_name}: {message}")


# --- framing: an 8-byte length, then a pickle --------------------------------


class _ChildDied(Exception):
    """End of file or a broken pipe on the child's side of the protocol."""


class _ChildTimedOut(Exception):
    pass


def _encode(message: object) -> bytes:
    payload = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    return _HEADER.pack(len(payload)) + payload


def _wait(fd: int, for_write: bool, deadline: float | None) -> None:
    # Past the deadline, what is already in the pipe still counts (a zero-timeout poll): a
    # child started early (wait=False) may have replied in time to a parent that reads later.
    remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
    reads, writes = ([], [fd]) if for_write else ([fd], [])
    readable, writable, _ = select.select(reads, writes, [], remaining)
    if not (readable or writable):
        raise _ChildTimedOut


def _write_all(fd: int, data: bytes, deadline: float | None) -> None:
    view = memoryview(data)
    while view:
        _wait(fd, True, deadline)
        try:
            written = os.write(fd, view)
        except BlockingIOError:
            continue
        except (BrokenPipeError, ConnectionResetError):
            raise _ChildDied from None
        view = view[written:]


def _read_exact(fd: int, size: int, deadline: float | None) -> bytes:
    chunks: list[bytes] = []
    while size:
        if deadline is not None:
            _wait(fd, False, deadline)
        chunk = os.read(fd, min(size, 1 << 20))
        if not chunk:
            raise _ChildDied
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def _read_message(fd: int, deadline: float | None) -> Any:
    (size,) = _HEADER.unpack(_read_exact(fd, _HEADER.size, deadline))
    return pickle.loads(_read_exact(fd, size, deadline))


# --- exceptions across the process boundary -----------------------------------


def _qualified(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def _exception_record(exc: BaseException) -> dict[str, Any]:
    cls = type(exc)
    return {
        "module": cls.__module__,
        "qualname": cls.__qualname__,
        "message": str(exc),
        "bases": tuple(_qualified(base) for base in cls.__mro__[1:] if base is not object),
        "traceback": "".join(traceback.format_exception(exc)),
    }


def _rebuild_exception(record: Mapping[str, Any], where: str) -> Exception:
    """The parent-side exception for a child-side one (see the module docstring)."""
    module, qualname, message = record["module"], record["qualname"], record["message"]
    exc: Exception | None = None
    if module == "builtins":
        cls = getattr(builtins, qualname, None)
        if isinstance(cls, type) and issubclass(cls, Exception):
            try:
                exc = cls(message)
            except TypeError:  # a builtin whose constructor needs more than a message
                exc = None
    elif (module, qualname) == ("adapters.base", "UnsupportedError"):
        exc = UnsupportedError(message)
    if exc is None:
        exc = RemoteError(f"{module}.{qualname}", message, record["bases"], record["traceback"])
    exc.add_note(f"raised in the backend process of {where}:\n{record['traceback']}")
    return exc


def _signal_name(returncode: int | None) -> str | None:
    if returncode is None or returncode >= 0:
        return None
    try:
        return signal.Signals(-returncode).name
    except ValueError:
        return f"signal {-returncode}"


def describe_call(method: str, args: tuple[Any, ...]) -> str:
    """A one-line description of an operation call: array shapes and dtypes, parameters."""
    return f"{method}({', '.join(_describe_value(a) for a in args)})"


def _describe_value(value: object) -> str:
    if isinstance(value, np.ndarray):
        return f"array{value.shape} {value.dtype}"
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{k}: {_describe_value(v)}" for k, v in value.items()) + "}"
    return repr(value)


# --- the parent side ------------------------------------------------------------


@dataclass(frozen=True)
class _SurfaceInfo:
    """What the child reports about the surface it built."""

    name: str
    framework: str
    version: str
    description: str
    capabilities: Capabilities
    platform: dict[str, Any]


class _Child:
    """One child process and its pipes; one request is outstanding at a time."""

    def __init__(self, env: Mapping[str, str]) -> None:
        # A file, not a pipe: nothing has to drain it while the child runs.
        self._stderr: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115 (closed by kill)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "adapters.subprocess_proxy"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            env=_child_environment(env),
        )
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self._in = self.proc.stdin.fileno()
        self._out = self.proc.stdout.fileno()
        os.set_blocking(self._in, False)
        self._mark = 0  # stderr size when the outstanding request was sent
        self.timeout = 0.0  # the seconds it was given
        self._deadline = 0.0  # when its reply is due

    def send(self, message: bytes, timeout: float) -> None:
        """Send one encoded request, due within `timeout` s (or _ChildDied, _ChildTimedOut)."""
        self.timeout = timeout
        self._deadline = time.monotonic() + timeout
        self._mark = os.fstat(self._stderr.fileno()).st_size
        _write_all(self._in, message, self._deadline)

    def receive(self) -> tuple[str, Any]:
        """The reply to the outstanding request (or _ChildDied, _ChildTimedOut)."""
        reply: tuple[str, Any] = _read_message(self._out, self._deadline)
        return reply

    def stderr_since_request(self) -> str:
        """The end of what the child wrote to stderr since the last request."""
        fd = self._stderr.fileno()
        end = os.fstat(fd).st_size
        start = max(self._mark, end - _STDERR_TAIL)
        return os.pread(fd, end - start, start).decode("utf-8", "replace").strip()

    def returncode(self) -> int | None:
        """The exit status once the child has closed its pipe (it is given a moment to exit)."""
        try:
            return self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.kill()
            return self.proc.returncode

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout, self._stderr):
            if stream is not None:
                stream.close()


def _child_environment(overrides: Mapping[str, str]) -> dict[str, str]:
    env = dict(os.environ)
    env.update(overrides)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(_ROOT), env.get("PYTHONPATH", "")) if p)
    return env


def _kill_quietly(slot: list[_Child | None]) -> None:
    if slot[0] is not None:
        slot[0].kill()
        slot[0] = None


class ProxyAdapter(Adapter):
    """An adapter that runs `target` in a child process started with `env`.

    `target` is a surface name known to adapters.registry (e.g. "tf.nn") or
    'package.module:factory'. The proxy mirrors the child surface's name,
    framework, version, capabilities and description; `name` replaces the
    name (a subclass may set the class attributes instead).

    With `wait` (the default) the constructor waits until the child has built
    its surface, so a target whose framework is missing raises ImportError
    there, as a factory should. With wait=False in a subclass that names its
    surface and framework, the child builds its surface (importing its
    framework) while the parent goes on, and the first use of anything the
    child reports waits for it.
    """

    def __init__(
        self,
        target: str,
        env: Mapping[str, str] | None = None,
        *,
        name: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        start_timeout: float = DEFAULT_START_TIMEOUT,
        wait: bool = True,
    ) -> None:
        self.target = target
        self.env = dict(env or {})
        self.timeout = timeout
        self.start_timeout = start_timeout
        self._lock = threading.Lock()
        self._slot: list[_Child | None] = [None]
        self._finalizer = weakref.finalize(self, _kill_quietly, self._slot)
        self._info: _SurfaceInfo | None = None
        self._starting = False  # a child was started and its surface is not reported yet
        with self._lock:
            self._spawn_locked()
        known_name, known_framework = name or type(self).name, type(self).framework
        if wait or not (known_name and known_framework):
            self._surface()
        # Adapter declares `name` and `framework` per class; a proxy may learn them
        # from its child, so they are set per instance.
        setattr(self, "name", known_name or self._surface().name)  # noqa: B010
        setattr(self, "framework", known_framework or self._surface().framework)  # noqa: B010

    # --- mirrored declarations -------------------------------------------
    @property
    def capabilities(self) -> Capabilities:
        return self._surface().capabilities

    @capabilities.setter
    def capabilities(self, value: Capabilities) -> None:
        raise AttributeError("a proxy's capabilities are those of its child surface")

    def version(self) -> str:
        return self._surface().version

    def platform(self) -> dict[str, Any]:
        return dict(self._surface().platform)

    def describe(self) -> str:
        settings = ", ".join(f"{k}={v}" for k, v in self.env.items()) or "the parent's environment"
        return f"{self.name}: {self._surface().description}, in a child process with {settings}"

    def limitation(self, op: str, p: Params, shapes: Mapping[str, Any], dtype: str) -> str | None:
        result: str | None = self._call("limitation", op, p, dict(shapes), dtype)
        return result

    def documented_rejection(
        self, op: str, p: Params, shapes: Mapping[str, Any], dtype: str
    ) -> str | None:
        result: str | None = self._call("documented_rejection", op, p, dict(shapes), dtype)
        return result

    def gradient_limitation(
        self, op: str, p: Params, shapes: Mapping[str, Any], dtype: str
    ) -> str | None:
        """The child surface's gradient_limitation (a hook some adapters provide), forwarded."""
        result: str | None = self._call("gradient_limitation", op, p, dict(shapes), dtype)
        return result

    def repro_source(self, op: str, p: Params, dtype: str) -> str | None:
        result: str | None = self._call("repro_source", op, p, dtype)
        return result

    def vjp(
        self,
        op: str,
        arrays: Mapping[str, np.ndarray | None],
        p: Params,
        cotangent: np.ndarray,
    ) -> dict[str, np.ndarray]:
        result: dict[str, np.ndarray] = self._call("vjp", op, dict(arrays), p, cotangent)
        return result

    # --- process management -----------------------------------------------
    def close(self) -> None:
        """Stop the child process (a later call starts a new one)."""
        with self._lock:
            _kill_quietly(self._slot)
            self._starting = False

    def ready(self) -> None:
        """Start the child and build its surface now if none is running, so that a start that
        fails (BackendCrash, BackendTimeout naming `start`) fails here, apart from any call."""
        with self._lock:
            self._ready_locked()

    @property
    def pid(self) -> int | None:
        """The process id of the current child, if one is running."""
        child = self._slot[0]
        return None if child is None else child.proc.pid

    def _array_call(self, method: str, *args: Any) -> np.ndarray:
        result: np.ndarray = self._call(method, *args)
        return result

    def _call(self, method: str, *args: Any) -> Any:
        # Pickled before the child is touched, so an unpicklable argument leaves it in step.
        request = _encode(("call", method, args))
        with self._lock:
            self._ready_locked()
            child = self._slot[0]
            assert child is not None
            call = describe_call(method, args)
            self._guarded(call, lambda: child.send(request, self.timeout))
            return self._reply_locked(call)

    def _surface(self) -> _SurfaceInfo:
        with self._lock:
            if self._info is None:
                self._ready_locked()
            assert self._info is not None
            return self._info

    def _ready_locked(self) -> None:
        """A child with its surface built: started (again) or waited for as needed."""
        if self._slot[0] is None:
            self._spawn_locked()
        if self._starting:
            self._starting = False
            info: _SurfaceInfo = self._reply_locked(f"start {self.target}")
            if self._info is None:
                self._info = info

    def _spawn_locked(self) -> None:
        """Start a child and send it the request to build the surface; the reply comes later."""
        self._slot[0] = child = _Child(self.env)
        request = _encode(("init", self.target, list(sys.path)))
        self._guarded(f"start {self.target}", lambda: child.send(request, self.start_timeout))
        self._starting = True

    def _reply_locked(self, call: str) -> Any:
        child = self._slot[0]
        assert child is not None
        status, value = self._guarded(call, child.receive)
        if status == "error":
            if call.startswith("start "):  # a child without a surface is of no use
                _kill_quietly(self._slot)
            raise _rebuild_exception(value, self.target)
        return value

    def _guarded(self, call: str, step: Callable[[], Any]) -> Any:
        """One step of an exchange; the child is discarded if the step fails."""
        child = self._slot[0]
        assert child is not None
        try:
            return step()
        except _ChildDied:
            returncode, tail = child.returncode(), child.stderr_since_request()
            _kill_quietly(self._slot)
            raise BackendCrash(call, returncode, tail) from None
        except _ChildTimedOut:
            _kill_quietly(self._slot)
            raise BackendTimeout(call, child.timeout) from None
        except BaseException:  # interrupted mid-exchange: the pipe is out of step
            _kill_quietly(self._slot)
            raise


def _forwarded(op: str) -> Callable[..., np.ndarray]:
    """The proxy's method `op`: the child surface's, called with the same arguments."""

    def forward(self: ProxyAdapter, *args: Any) -> np.ndarray:
        return self._array_call(op, *args)

    forward.__name__, forward.__qualname__ = op, f"ProxyAdapter.{op}"
    forward.__doc__ = f"The child surface's {op}, forwarded."
    return forward


# Every operation of the adapter contract (adapters/base.py) is forwarded as it is called.
for _op in OPERATIONS:
    setattr(ProxyAdapter, _op, _forwarded(_op))


# --- the child side -------------------------------------------------------------


def resolve_target(target: str) -> Callable[[], Adapter]:
    """The factory of a registry surface name or of 'package.module:factory'."""
    from adapters import registry

    if ":" in target:
        return registry.load_spec(target)[1]
    for module_name in registry.BUILTIN_MODULES:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name == module_name:  # a backend module not written yet
                continue
            raise
        if target in module.SURFACES:
            factory: Callable[[], Adapter] = module.SURFACES[target]
            return factory
    entry_points = registry.entry_point_factories()
    if target in entry_points:
        return entry_points[target]
    raise ValueError(f"no backend surface named {target!r}")


def _surface_info(adapter: Adapter) -> _SurfaceInfo:
    return _SurfaceInfo(
        name=adapter.name,
        framework=adapter.framework,
        version=adapter.version(),
        description=adapter.describe(),
        capabilities=adapter.capabilities,
        platform=adapter.platform(),
    )


def _handle(adapter: Adapter | None, request: tuple[Any, ...]) -> tuple[Adapter | None, Any]:
    kind = request[0]
    if kind == "init":
        _, target, parent_path = request
        sys.path.extend(p for p in parent_path if p not in sys.path)
        adapter = resolve_target(target)()
        return adapter, _surface_info(adapter)
    if adapter is None:
        raise RuntimeError("the backend process received a call before its surface was built")
    _, method, args = request
    return adapter, getattr(adapter, method)(*args)


def serve() -> None:
    """The child's loop: one reply per request, until the parent closes stdin."""
    _die_with_parent()
    # Keep private copies of the protocol pipes and point fds 0 and 1 elsewhere,
    # so that a framework printing to stdout cannot corrupt the protocol.
    requests, replies = os.dup(0), os.dup(1)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    adapter: Adapter | None = None
    while True:
        try:
            request = _read_message(requests, None)
        except _ChildDied:
            return  # the parent went away
        try:
            adapter, result = _handle(adapter, request)
            reply = _encode(("ok", result))
        except Exception as exc:
            reply = _encode(("error", _exception_record(exc)))
        try:
            _write_all(replies, reply, None)
        except _ChildDied:
            return


def _die_with_parent() -> None:
    """Ask Linux to kill this child when its parent dies: a call stuck in a framework never
    reads the closed stdin, and would spin on as an orphan after pytest is interrupted."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    pr_set_pdeathsig = 1  # <linux/prctl.h>
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, int(signal.SIGKILL))
    if os.getppid() == 1:
        os._exit(0)  # the parent died before the request took effect


if __name__ == "__main__":
    # Serve from the importable module, not from __main__, so that what the child
    # pickles names adapters.subprocess_proxy classes the parent can load.
    from adapters.subprocess_proxy import serve as _serve

    _serve()
