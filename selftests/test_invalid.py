"""Self-tests of how a replayed invalid configuration is classified (suites/fixed.py,
suites/invalid.py): a `--config` replay must cite the clause the error suite cites for the
same violation, and must recognise what a declared extension gives a meaning to."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.numpy_backend import NumpyAdapter
from suites import fixed, invalid
from suites.operations import OPERATIONS

_SUPPORT = NumpyAdapter().capabilities.ops
_KINDS = [
    (op, kind.name)
    for op, record in OPERATIONS.items()
    if op in _SUPPORT
    for kind in record.invalid_kinds
    if kind.unsupported(op, _SUPPORT[op]) is None
]


def test_the_numpy_backend_declares_enough_to_draw_most_violations() -> None:
    assert len(_KINDS) >= 40, _KINDS


@pytest.mark.parametrize(("op", "name"), _KINDS)
@settings(deadline=None)
@given(data=st.data())
def test_a_replayed_violation_cites_the_error_suites_clause(
    op: str, name: str, data: st.DataObject
) -> None:
    case = data.draw(invalid.invalid_setups(_SUPPORT[op], op, name), label="invalid")
    cited = fixed.invalid_clause(case.setup)
    assert cited == case.clause, (
        f"{op}/{name}: a replay of {case.setup} cites {cited}, the error suite "
        f"{case.clause} ({case.description})"
    )
    meaning = invalid.extension_meaning(case.setup)
    assert meaning == invalid.EXTENDS.get(name), (
        f"{op}/{name}: {case.setup} is read as the extension {meaning!r}, expected "
        f"{invalid.EXTENDS.get(name)!r}"
    )
