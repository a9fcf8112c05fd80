"""Replays of configuration descriptors: `pytest --config 'DESCRIPTOR'` on every selected backend.

A failure message prints its descriptor; replaying it shows at once what the
other backends do with the same configuration. `--config` runs only these tests,
and an invalid configuration is replayed as an error-behaviour check: every
backend must reject it (ERR.2) without crashing (ERR.3). Operands come from a
generator seeded by the descriptor (the failing example's own values are in
its repro script, see --repro-dir).
"""

from __future__ import annotations

import pytest

from suites import descriptor, fixed, outcomes
from suites.operations import OPERATIONS
from suites.support import unsupported_reason


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "config" in metafunc.fixturenames:
        configs = metafunc.config.getoption("--config")
        metafunc.parametrize("config", configs, ids=[f"config{i}" for i in range(len(configs))])


@pytest.mark.clauses("CONV.2", "CONV.3", "ERR.2", "ERR.3")
def test_replay(backend, config: str) -> None:
    # The runner checked every descriptor before collection (conftest.py): this parses.
    setup = descriptor.decode(config)
    reason = unsupported_reason(backend, setup)
    if reason is not None:
        outcomes.unsupported(reason)
    fixed.replay(
        backend,
        setup,
        fixed.seed_of(config),
        clause=OPERATIONS[setup.op].value_clause,
        shape_clause=OPERATIONS[setup.op].shape_clause,
        description="the replayed configuration",
    )
