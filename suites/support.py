"""What a test needs from a backend before it draws anything."""

from __future__ import annotations

from adapters.base import Adapter, OpSupport
from suites import outcomes


def require(adapter: Adapter, op: str, **needs: object) -> OpSupport:
    """The backend's support for `op`, or an 'unsupported' skip that the matrix reports.

    `needs` are OpSupport fields the test cannot run without, e.g. dilation=True;
    set-valued fields are satisfied by any overlap, e.g. ranks=frozenset({2}).
    """
    support = adapter.support(op)
    if support is None:
        outcomes.unsupported(f"{adapter.name} declares no {op}")
    assert support is not None
    for field, wanted in needs.items():
        have = getattr(support, field)
        if isinstance(wanted, frozenset):
            if not (have & wanted):
                outcomes.unsupported(f"{adapter.name} {op} supports {field}={sorted(have)}, needs one of {sorted(wanted)}")
        elif have != wanted:
            outcomes.unsupported(f"{adapter.name} {op} declares {field}={have}")
    return support
