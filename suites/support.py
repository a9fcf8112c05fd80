"""What a test needs from a backend before it draws anything."""

from __future__ import annotations

from typing import Any

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
                outcomes.unsupported(
                    f"{adapter.name} {op} supports {field}={sorted(have)}, needs one of {sorted(wanted)}"
                )
        elif have != wanted:
            outcomes.unsupported(f"{adapter.name} {op} declares {field}={have}")
    return support


def padding_form(setup_params: object) -> str | None:
    """The PADDING_FORMS name of a parameter set's padding (None: the operation has none)."""
    padding = getattr(setup_params, "padding", None)
    if padding is None:
        return None
    if padding == "valid":
        return "valid"
    if padding == "same":
        return "same_begin" if getattr(setup_params, "same_split", "end") == "begin" else "same"
    if any(b < 0 or e < 0 for b, e in padding):
        return "negative"
    return "symmetric" if all(b == e for b, e in padding) else "asymmetric"


def unsupported_reason(adapter: Adapter, setup: Any) -> str | None:
    """Why a fixed configuration (a replay, a network layer) is outside the declaration, or None."""
    from suites.operations import OPERATIONS

    record = OPERATIONS.get(setup.op)
    ops = (setup.op,) if record is None else record.needs
    for op in ops:
        support = adapter.support(op)
        if support is None:
            return f"{adapter.name} declares no {op}"
    support = adapter.support(ops[0])
    assert support is not None
    p = setup.params
    x = setup.shapes.get("x")
    checks: list[tuple[bool, str]] = [
        (setup.dtype in support.dtypes, f"dtype {setup.dtype}"),
        (
            x is None or len(x) - 2 in support.ranks or (record is not None and not record.ranked),
            f"rank {None if x is None else len(x) - 2}",
        ),
    ]
    form = padding_form(p)
    if form is not None:
        checks.append((form in support.padding, f"padding form {form!r}"))
    mode = getattr(p, "padding_mode", "zeros")
    checks.append((mode in support.padding_modes, f"padding mode {mode!r}"))
    if setup.shapes.get("b") is not None:
        checks.append((support.bias, "a bias"))
    groups = getattr(p, "groups", 1)
    if record is None or record.conv_groups:
        checks.append((groups == 1 or support.groups, "groups > 1"))
    stride, dilation = getattr(p, "stride", (1,)), getattr(p, "dilation", (1,))
    checks.append((max(dilation) == 1 or support.dilation, "dilation > 1"))
    checks.append(
        (
            max(dilation) == 1 or max(stride) == 1 or support.dilation_with_stride,
            "dilation and stride > 1 together",
        )
    )
    if form in ("same", "same_begin"):
        checks.append((max(stride) == 1 or support.strided_same, "'same' with stride > 1"))
    if setup.shapes.get("mask") is not None:
        checks.append((support.mask, "a modulation mask"))
    if max(getattr(p, "output_padding", (0,)) or (0,)) > 0:
        checks.append((bool(support.output_padding_rule), "output_padding"))
    missing = [what for ok, what in checks if not ok]
    return f"{adapter.name} {setup.op} does not declare {', '.join(missing)}" if missing else None
