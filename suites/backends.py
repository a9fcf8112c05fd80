"""The surfaces a run tests (--backend, --adapter), as the runner (conftest.py) loaded them."""

from __future__ import annotations

import pytest

from adapters.registry import Loaded

# Every surface asked for, including those whose framework is unavailable.
BACKENDS = pytest.StashKey[list[Loaded]]()


def loaded(config: pytest.Config) -> list[Loaded]:
    return config.stash[BACKENDS]


def selected_adapters(config: pytest.Config) -> list[Loaded]:
    """The surfaces that loaded: those a test runs on."""
    return [b for b in loaded(config) if b.adapter is not None]
