"""A pytest plugin for benchmarks: `-p benchmarks.small_tier` draws the small tier only.

Throughput measured before the dispatch tier existed was measured on small
configurations; this plugin removes the dispatch tier from every forward test's choice of
size class (suites/dispatch.py), the small tier taking its place where it was the only
choice, so that such a figure can be compared with today's suites at the same sizes.
Network layers and replays are not drawn and keep their sizes.
"""

from __future__ import annotations

import pytest

from suites import dispatch

_drawn = dispatch.tier_options


def small_only(size_classes: tuple[str, ...]) -> tuple[str, ...]:
    """`dispatch.tier_options` without the dispatch tier; the small tier where that was the
    only choice (the relations draw from the dispatch tier alone, REL.12)."""
    return tuple(c for c in _drawn(size_classes) if c != "dispatch") or ("small",)


def pytest_configure(config: pytest.Config) -> None:
    dispatch.tier_options = small_only
