"""Faulty backends for mutation testing of the conformance suites.

Each mutant is a NumPy reference backend with ONE realistic defect that an
implementer of a convolution library could make; it delegates to the
correct computation everywhere else. The suites must kill every mutant:
one that survives shows a strategy or comparison too weak to catch it.

`MUTANTS` maps each mutant's surface name to its class; `adapter_spec`
gives the `--adapter module:Class` argument that loads it into a run.
"""

from __future__ import annotations

from adapters.base import Adapter
from benchmarks.mutants import (
    bias,
    deformable,
    dispatch,
    edges,
    errors,
    groups,
    numerics,
    padding,
    shuffle,
    strides,
    transposed,
)

THEMES = (
    padding,
    strides,
    groups,
    bias,
    transposed,
    deformable,
    shuffle,
    numerics,
    edges,
    errors,
    dispatch,
)


def _collect() -> dict[str, type[Adapter]]:
    found: dict[str, type[Adapter]] = {}
    for module in THEMES:
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, Adapter)
                and value.__module__ == module.__name__
                and value.name.startswith("mutant.")
            ):
                if value.name in found:
                    raise ValueError(f"two mutants named {value.name}")
                found[value.name] = value
    return found


MUTANTS: dict[str, type[Adapter]] = _collect()


def adapter_spec(name: str) -> str:
    """The `--adapter` argument that loads mutant `name`."""
    cls = MUTANTS[name]
    return f"{cls.__module__}:{cls.__qualname__}"


def theme(name: str) -> str:
    return MUTANTS[name].__module__.rsplit(".", 1)[-1]
