"""Finding backends: built-in surfaces, `--adapter module:Class`, and entry points.

A backend module lists its surfaces in `SURFACES`, a dict from surface name
to a zero-argument factory. Module import must not import the framework, so
that listing names stays cheap; the factory does, and raises ImportError
when the framework is not installed (the surface is then *unavailable*).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import entry_points

from adapters.base import Adapter

ENTRY_POINT_GROUP = "convspec.adapters"

BUILTIN_MODULES = (
    "adapters.numpy_backend",
    "adapters.torch_backend",
    "adapters.tf_backend",
    "adapters.keras_backend",
    "adapters.jax_backend",
    "adapters.onnxruntime_backend",
    "adapters.onnx_reference_backend",
)

Factory = Callable[[], Adapter]


class BackendSelectionError(Exception):
    """A --backend or --adapter option that names nothing loadable."""


@dataclass
class Loaded:
    name: str
    adapter: Adapter | None
    problem: str | None = None  # why it is unavailable


def builtin_factories() -> dict[str, Factory]:
    factories: dict[str, Factory] = {}
    for module_name in BUILTIN_MODULES:
        module = importlib.import_module(module_name)
        factories.update(module.SURFACES)
    return factories


def entry_point_factories() -> dict[str, Factory]:
    """Adapters that installed packages register under `convspec.adapters`."""
    return {
        ep.name: _as_factory(ep.load(), ep.value) for ep in entry_points(group=ENTRY_POINT_GROUP)
    }


def load_spec(spec: str) -> tuple[str, Factory]:
    """Resolve 'package.module:ClassName' (an Adapter subclass or a factory)."""
    module_name, sep, attr = spec.partition(":")
    if not sep or not module_name or not attr:
        raise BackendSelectionError(f"--adapter {spec!r}: expected 'package.module:ClassName'")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise BackendSelectionError(
            f"--adapter {spec!r}: cannot import {module_name}: {exc}"
        ) from exc
    try:
        target = getattr(module, attr)
    except AttributeError:
        raise BackendSelectionError(f"--adapter {spec!r}: {module_name} has no {attr!r}") from None
    factory = _as_factory(target, spec)
    name = getattr(target, "name", "") or attr
    return name, factory


def _as_factory(target: object, where: str) -> Factory:
    if isinstance(target, type) and issubclass(target, Adapter):
        return target
    if callable(target):
        return target
    raise BackendSelectionError(f"{where} is neither an Adapter subclass nor a factory")


def instantiate(name: str, factory: Factory) -> Loaded:
    try:
        adapter = factory()
    except ImportError as exc:
        return Loaded(name, None, f"cannot be loaded here: {exc}")
    if not isinstance(adapter, Adapter):
        raise BackendSelectionError(
            f"{name}: factory returned {type(adapter).__name__}, not an Adapter"
        )
    return Loaded(name, adapter)


def select(requested: list[str] | None, extra_specs: list[str]) -> list[Loaded]:
    """The backends a run tests.

    With `requested` None: every built-in or entry-point surface whose
    framework imports, except the opt-in ones (child-process surfaces), plus
    the --adapter ones. Otherwise exactly the named
    ones (an unknown name is an error listing the known names); a named
    backend whose framework is missing is reported unavailable.
    """
    known = builtin_factories()
    known.update(entry_point_factories())
    external = [load_spec(spec) for spec in extra_specs]
    for name, factory in external:
        known[name] = factory
    if requested is None:
        names = [n for n, f in known.items() if not getattr(f, "opt_in", False)]
        names += [n for n, _ in external if n not in names]
    else:
        unknown = [n for n in requested if n not in known]
        if unknown:
            raise BackendSelectionError(
                f"unknown backend(s) {', '.join(unknown)}; known backends: {', '.join(sorted(known))}"
            )
        wanted = set(requested) | {n for n, _ in external}
        # Built-in order, whatever the command line's: torchvision must be imported
        # before TensorFlow, or their bundled LLVM copies clash and the process dies.
        names = [n for n in known if n in wanted]
    return [instantiate(name, known[name]) for name in names]
