"""The convspec runner: backend selection, Hypothesis profiles, clause markers, reports.

pytest -n auto                              every backend whose framework imports
pytest --backend torch,tf.nn                 only these surfaces
pytest --adapter mypkg.mymod:MyAdapter       also an adapter from outside this repository
pytest --hypothesis-profile ci               derandomized, fixed example counts
pytest --hypothesis-profile hunt --hunt-minutes 5   each test for 5 minutes (suites/hunt.py)
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis.database import DirectoryBasedExampleDatabase

from adapters.registry import BackendSelectionError, select
from adapters.torch_backend import private_inductor_cache
from spec.clauses import registry
from suites.backends import BACKENDS, loaded, selected_adapters

# One inductor cache for this run (inherited by xdist workers and child processes), set
# before anything imports torch: no kernel compiled under another platform is reused.
private_inductor_cache()

# suites.repro before suites.failures, which imports it (through the verdict): pytest
# rewrites a plugin's asserts only where it imports the module first.
pytest_plugins = ["suites.outcomes", "suites.repro", "suites.failures", "suites.hunt"]

# Profiles set the example counts; tests never do (see README, "Options").
# No explain phase: its extra runs cost time and its notes add nothing to convspec's messages.
_PHASES = [Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink]
_COMMON: dict[str, Any] = {
    "deadline": None,
    "suppress_health_check": [HealthCheck.too_slow],
    "phases": _PHASES,
}
settings.register_profile("dev", max_examples=10, **_COMMON)
settings.register_profile(
    "ci",
    max_examples=20,
    derandomize=True,
    database=None,
    print_blob=True,
    **_COMMON,
)
settings.register_profile("thorough", max_examples=200, print_blob=True, **_COMMON)
# The nightly hunt (suites/hunt.py): batches of new examples until each test's time is up;
# the database keeps what failed, and every later hunt replays it first.
settings.register_profile(
    "hunt",
    max_examples=50,
    database=DirectoryBasedExampleDatabase(".hypothesis/hunt"),
    print_blob=True,
    **_COMMON,
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))
# Minutes per test item under the hunt profile when --hunt-minutes is not given.
DEFAULT_HUNT_MINUTES = 1.0


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("convspec")
    group.addoption(
        "--backend",
        default=None,
        help="comma-separated backend surfaces to test (default: every one whose framework imports)",
    )
    group.addoption(
        "--adapter",
        action="append",
        default=[],
        metavar="MODULE:CLASS",
        help="load an adapter from outside this repository (repeatable)",
    )
    group.addoption(
        "--config",
        action="append",
        default=[],
        metavar="DESCRIPTOR",
        help="replay one configuration descriptor (from a failure message) on every selected backend",
    )
    group.addoption(
        "--repro-dir",
        default=None,
        metavar="DIR",
        help="write a standalone repro script for each failing example into DIR",
    )
    group.addoption(
        "--conformance-report",
        default=None,
        metavar="PATH",
        help="write the conformance matrix as JSON to PATH and as Markdown beside it",
    )
    group.addoption(
        "--hunt-minutes",
        type=float,
        default=None,
        metavar="M",
        help="with --hypothesis-profile hunt: minutes of new examples per test item "
        f"(default {DEFAULT_HUNT_MINUTES:g})",
    )


def pytest_configure(config: pytest.Config) -> None:
    from suites import repro

    requested = config.getoption("--backend")
    names = [n.strip() for n in requested.split(",") if n.strip()] if requested else None
    try:
        surfaces = select(names, config.getoption("--adapter"))
    except BackendSelectionError as exc:
        raise pytest.UsageError(str(exc)) from None
    config.stash[BACKENDS] = surfaces
    hunt_repro_dir = _hunt(config)
    directory = config.getoption("--repro-dir") or hunt_repro_dir
    config.stash[repro.DIRECTORY] = Path(directory) if directory else None
    _check_replays(config.getoption("--config"))


def profile_name(config: pytest.Config) -> str:
    """The Hypothesis profile of this run (Hypothesis's plugin may load it after this one)."""
    return config.getoption("--hypothesis-profile") or os.environ.get("HYPOTHESIS_PROFILE", "dev")


def _hunt(config: pytest.Config) -> str | None:
    """Switch the hunt on where its profile is loaded; the directory for its repro scripts
    (beside the conformance report), if there is a report."""
    from suites import dispatch, hunt

    minutes = config.getoption("--hunt-minutes")
    if profile_name(config) != hunt.PROFILE:
        if minutes is not None:
            raise pytest.UsageError("--hunt-minutes needs --hypothesis-profile hunt")
        hunt.configure(None)
        dispatch.weight_toward_dispatch(False)
        return None
    try:
        hunt.configure(DEFAULT_HUNT_MINUTES if minutes is None else minutes)
    except ValueError as exc:
        raise pytest.UsageError(str(exc)) from None
    dispatch.weight_toward_dispatch(True)
    report = config.getoption("--conformance-report")
    return str(Path(report).with_suffix("")) + "-repro" if report else None


def _check_replays(configs: list[str]) -> None:
    """Every --config descriptor parses and names a single operation, or it is a usage error."""
    from suites import descriptor
    from suites.operations import OPERATIONS

    for text in configs:
        try:
            setup = descriptor.decode(text)
        except descriptor.DescriptorError as exc:
            raise pytest.UsageError(f"--config: {exc}") from None
        if setup.op not in OPERATIONS:
            raise pytest.UsageError(
                f"--config: operation {setup.op!r} cannot be replayed from a descriptor "
                f"(replayable: {sorted(OPERATIONS)})"
            )


REPLAY_MODULE = "test_replay.py"


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """With --config, collect only the replays: the other modules would run their own tests."""
    name = collection_path.name
    if config.getoption("--config") and name.startswith("test_") and name.endswith(".py"):
        return name != REPLAY_MODULE
    return None


def pytest_report_header(config: pytest.Config) -> list[str]:
    from suites import dispatch, hunt, platform

    lines = [
        f"hypothesis profile: {settings._current_profile}",
        f"platform: {platform.describe()}",
    ]
    seconds = hunt.budget_seconds()
    if seconds is not None:
        lines.append(
            f"hunt: {seconds / 60:g} min of new examples per test item, dispatch tier drawn "
            f"{dispatch.HUNT_DISPATCH_WEIGHT}x as often as the small one, failures replayed "
            "first from .hypothesis/hunt"
        )
    for b in loaded(config):
        if b.adapter is None:
            lines.append(f"backend {b.name}: unavailable: {b.problem}")
        else:
            a = b.adapter
            try:
                version = a.version()
            except Exception as exc:
                version = f"(version unknown: {type(exc).__name__})"
            lines.append(
                f"backend {b.name}: {a.framework} {version} on {a.device}{platform.facts(a)}"
            )
    return lines


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backend" in metafunc.fixturenames:
        names = [b.name for b in selected_adapters(metafunc.config)]
        metafunc.parametrize("backend", names, indirect=True, scope="session")


@pytest.fixture(scope="session")
def backend(request: pytest.FixtureRequest):
    for b in selected_adapters(request.config):
        if b.name == request.param:
            return b.adapter
    raise LookupError(request.param)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_call(item: pytest.Item):
    """Give a parametrized Hypothesis test its own settings back after each invocation.

    Hypothesis's pytest plugin (6.170) replaces such a test's settings with a new settings
    object whose parent is the previous one at every invocation, so one process that runs
    about a thousand invocations of one test function (the error suite under `-n 1`)
    dies of RecursionError inside Hypothesis.
    """
    target = getattr(item, "obj", None)
    function = getattr(target, "__func__", target)
    saved = getattr(function, "_hypothesis_internal_use_settings", None)
    try:
        return (yield)
    finally:
        if saved is not None and function is not None:
            function._hypothesis_internal_use_settings = saved


SUITES = Path(__file__).resolve().parent / "suites"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    known = registry()
    for item in items:
        # The conformance suites are suites/; every other test checks convspec itself.
        if SUITES not in item.path.resolve().parents:
            item.add_marker(pytest.mark.selftest)
        for marker in item.iter_markers("clauses"):
            unknown = [c for c in marker.args if c not in known]
            if unknown:
                raise pytest.UsageError(
                    f"{item.nodeid} cites unknown spec clause(s) {unknown}; "
                    "every clause ID must be a heading in spec/*.md"
                )
