"""Self-tests of the small-tier plugin (benchmarks/small_tier.py)."""

from __future__ import annotations

import pytest

from benchmarks import small_tier
from suites import dispatch


@pytest.mark.parametrize("hunting", [False, True])
def test_small_only_drops_the_dispatch_tier(hunting: bool) -> None:
    dispatch.weight_toward_dispatch(hunting)
    try:
        kept = small_tier.small_only(dispatch.SIZE_CLASSES)
    finally:
        dispatch.weight_toward_dispatch(False)
    assert kept == ("small",), f"expected only the small tier, got {kept}"


def test_a_dispatch_only_choice_becomes_the_small_tier() -> None:
    kept = small_tier.small_only(("dispatch",))
    assert kept == ("small",), f"expected the small tier in place of the dispatch tier, got {kept}"


def test_the_plugin_leaves_tiers_alone_until_pytest_loads_it() -> None:
    # Importing it (as this module does) must not change the drawing of other tests.
    assert dispatch.tier_options is not small_tier.small_only
