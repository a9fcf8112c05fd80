"""One-line configuration descriptors, printed in every failure and replayed by --config.

    conv;x=2x4x7x5;w=6x2x3x2;b=6;stride=2x1;dilation=1x2;padding=1:2,0:0;groups=2;
    padding_mode=zeros;same_split=end;dtype=float32;mode=exact

Every parameter convspec has is in it (operand shapes carry batch, channels,
spatial and kernel sizes); `decode(encode(s)) == s` for every setup.
"""

from __future__ import annotations

from dataclasses import MISSING, fields
from typing import get_args

from adapters.base import DTYPES
from reference.params import (
    ChannelShuffle,
    Conv,
    ConvTranspose,
    OutputPaddingRule,
    PaddingMode,
    SameSplit,
)
from reference.sizes import effective_kernel, resolve_padding, transposed_explicit
from suites.example import Setup
from suites.operations import OPERATIONS

# The operations a descriptor can name (a composite block has a descriptor, which names
# its operands, but no decoding: suites/test_replay.py replays single operations only).
PARAM_TYPES = {name: op.params for name, op in OPERATIONS.items() if not op.composite}


class DescriptorError(ValueError):
    pass


def _enc(value: object) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, tuple) and value and isinstance(value[0], tuple):
        return ",".join(f"{b}:{e}" for b, e in value)
    if isinstance(value, tuple):
        return "x".join(str(v) for v in value) if value else "-"
    raise TypeError(value)


def encode(setup: Setup) -> str:
    parts = [setup.op]
    for name, shape in setup.shapes.items():
        parts.append(f"{name}={'none' if shape is None else _enc(tuple(shape))}")
    for f in fields(setup.params):
        parts.append(f"{f.name}={_enc(getattr(setup.params, f.name))}")
    parts.append(f"dtype={setup.dtype}")
    parts.append(f"mode={'exact' if setup.exact else 'bounded'}")
    return ";".join(parts)


# String-valued parameters and what each may be (reference/params.py).
CHOICES = {
    "padding_mode": get_args(PaddingMode),
    "same_split": get_args(SameSplit),
    "output_padding_rule": get_args(OutputPaddingRule),
}


def _dec_tuple(text: str) -> tuple[int, ...]:
    return () if text == "-" else tuple(int(v) for v in text.split("x"))


def _dec_param(key: str, value: str) -> object:
    if key in CHOICES:
        if value not in CHOICES[key]:
            raise ValueError(f"must be one of {CHOICES[key]}")
        return value
    if key == "padding":
        if value in ("valid", "same"):
            return value
        pairs = tuple(tuple(int(v) for v in pair.split(":")) for pair in value.split(","))
        if any(len(pair) != 2 for pair in pairs):
            raise ValueError("must be 'valid', 'same' or begin:end pairs joined by ','")
        return pairs
    if key in ("groups", "offset_groups"):
        return int(value)
    return _dec_tuple(value)


def decode(text: str) -> Setup:
    """Parse a descriptor; a malformed one raises DescriptorError naming the bad field."""
    op, *items = text.strip().split(";")
    if op not in PARAM_TYPES:
        raise DescriptorError(
            f"descriptor starts with unknown operation {op!r}; known: {sorted(PARAM_TYPES)}"
        )
    values: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep:
            raise DescriptorError(f"descriptor item {item!r} is not key=value")
        if key in values:
            raise DescriptorError(f"descriptor field {key!r} is given twice")
        values[key] = value
    record = OPERATIONS[op]
    cls, operands, optional = record.params, record.operands, record.optional
    names = [f.name for f in fields(cls)]
    known = (*operands, *names, "dtype", "mode")
    unknown = [k for k in values if k not in known]
    if unknown:
        raise DescriptorError(
            f"descriptor field {unknown[0]!r} is not one of {op}'s fields: {', '.join(known)}"
        )
    required = [
        *(o for o in operands if o not in optional),
        *(f.name for f in fields(cls) if f.default is MISSING),
        "dtype",
    ]
    missing = [k for k in required if k not in values]
    if missing:
        raise DescriptorError(f"descriptor lacks the field {missing[0]!r} ({op} needs {required})")
    if values["dtype"] not in DTYPES:
        raise DescriptorError(f"descriptor field dtype={values['dtype']!r}: not one of {DTYPES}")
    if values.get("mode", "bounded") not in ("exact", "bounded"):
        raise DescriptorError(f"descriptor field mode={values['mode']!r}: not 'exact' or 'bounded'")
    kwargs: dict[str, object] = {}
    shapes: dict[str, tuple[int, ...] | None] = {}
    for key in known:
        if key not in values or key in ("dtype", "mode"):
            if key in optional:
                shapes[key] = None
            continue
        value = values[key]
        try:
            if key in operands:
                shapes[key] = None if value == "none" else _dec_tuple(value)
            else:
                kwargs[key] = _dec_param(key, value)
        except ValueError as exc:
            raise DescriptorError(f"descriptor field {key}={value!r}: {exc}") from None
    params = cls(**kwargs)  # type: ignore[arg-type]
    return Setup(op, params, shapes, values["dtype"], values.get("mode", "bounded") == "exact")


def size_formula(setup: Setup) -> str:
    """The output-size formula of the operation with this setup's numbers filled in."""
    p = setup.params
    x, w = setup.shapes.get("x"), setup.shapes.get("w") or setup.shapes.get("w_depth")
    if x is None or w is None or isinstance(p, ChannelShuffle):
        return "output shape = input shape (SHUF)"
    spatial, kernel = x[2:], w[2:]
    lines = []
    if isinstance(p, ConvTranspose):
        pads, extra = transposed_explicit(p, spatial, kernel)
        for a, (n, k) in enumerate(zip(spatial, kernel, strict=True)):
            s, d, (b, e), op = p.stride[a], p.dilation[a], pads[a], extra[a]
            out = (n - 1) * s - b - e + effective_kernel(k, d) + op
            lines.append(
                f"axis {a}: (n-1)*s - pb - pe + d*(k-1) + 1 + op = ({n}-1)*{s} - {b} - {e} "
                f"+ {d}*({k}-1) + 1 + {op} = {out}  (TCONV.3)"
            )
        return "; ".join(lines)
    conv = (
        p if isinstance(p, Conv) else Conv(stride=p.stride, dilation=p.dilation, padding=p.padding)
    )
    pads = resolve_padding(conv, spatial, kernel)
    for a, (n, k) in enumerate(zip(spatial, kernel, strict=True)):
        s, d, (b, e) = conv.stride[a], conv.dilation[a], pads[a]
        out = (n + b + e - effective_kernel(k, d)) // s + 1
        lines.append(
            f"axis {a}: floor((n + pb + pe - d*(k-1) - 1) / s) + 1 = floor(({n} + {b} + {e} - "
            f"{d}*({k}-1) - 1) / {s}) + 1 = {out}  (CONV.3)"
        )
    return "; ".join(lines)
