"""Repro scripts (suites/repro.py) that run the adapter's own helpers, not copies of them.

A script cannot import convspec, so an adapter whose calls need more than the framework
(layout conversion, an execution mode) writes that as plain module-level functions of the
framework module, calls them itself, and has `repro_source` embed their source.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any


def function_sources(*functions: Callable[..., Any]) -> str:
    """The functions' own source, for a repro script to define them as the adapter does.

    Their annotations may name typing.Any, which the script then imports."""
    return "\n\n\n".join(inspect.getsource(function).rstrip() for function in functions)
