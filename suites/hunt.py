"""The hunt profile's wall-clock budget: `pytest --hypothesis-profile hunt --hunt-minutes M`.

Hypothesis has no time limit of its own, and ending a run early from inside the test
(rejecting every example once the time is up) would read as a filter that rejects too
much. So the budget is kept one level up: under the hunt profile each Hypothesis test
item (one test function on one surface, one parameter set) is called again and again,
each call a complete Hypothesis run of the profile's `max_examples` new examples, until
M minutes have passed since the item's first call began. The call in flight always
finishes, so an item runs for at least M minutes and for at most M minutes plus one
batch; a failure ends the item at once, after Hypothesis has shrunk it and saved it in
the hunt database (.hypothesis/hunt), whose examples every later run replays first.
Tests without Hypothesis run once.
"""

from __future__ import annotations

import inspect
import time
from typing import Any

import pytest

PROFILE = "hunt"

# Seconds per test item; empty unless the hunt profile is loaded.
_budget: list[float] = []
# Batches and seconds of the item running in this process (for the report).
_last: dict[str, Any] = {}


def configure(minutes: float | None) -> None:
    _budget.clear()
    if minutes is not None:
        if minutes <= 0:
            raise ValueError(f"--hunt-minutes must be positive, not {minutes}")
        _budget.append(minutes * 60.0)


def budget_seconds() -> float | None:
    return _budget[0] if _budget else None


def last_item() -> dict[str, Any]:
    """Batches run and seconds spent by the last item this process hunted."""
    return dict(_last)


def _is_hypothesis_test(function: object) -> bool:
    return bool(getattr(function, "is_hypothesis_test", False))


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    """Under the hunt profile, call a Hypothesis test in batches until its budget is spent."""
    if not _budget or not _is_hypothesis_test(pyfuncitem.obj):
        return None  # pytest's own call
    test = pyfuncitem.obj
    # Hypothesis's wrapper takes the fixtures and parameters only: @given supplies the rest.
    names = inspect.signature(test).parameters
    args = {name: pyfuncitem.funcargs[name] for name in names if name in pyfuncitem.funcargs}
    started = time.monotonic()
    batches = 0
    _last.clear()
    try:
        while True:
            test(**args)
            batches += 1
            if time.monotonic() - started >= _budget[0]:
                return True
    finally:
        _last.update({"batches": batches, "seconds": time.monotonic() - started})
