"""Confirmed upstream discrepancies: adapters/known_issues/<framework>.toml.

Each entry names the clause it breaks, the surfaces it applies to, a
predicate `when` on the configuration (a Python expression over the names
listed in `namespace`), and a pinned `example` descriptor that
suites/test_known_issues.py replays every run: the entry must still fail
there, or the run says the entry can be removed. A failure matches an entry
only if its clause, surface and predicate all match, so an entry never masks
a different bug.

An entry whose pinned example reproduces only on some platforms states
where in `requires`, an expression over suites/platform.py's namespace (CPU
flags, oneDNN's ISA, the surface's own dispatch facts). Where it does not hold,
the entry is not applicable: its example is not replayed (so it cannot be
called stale there) and the report lists it as such. Matching is `when`'s job
alone, and `when` may use the same names, for a defect whose reach depends on
the platform (e.g. `dtype in tf_eigen_dtypes`): an entry matches only the
failures its predicate describes, on any platform.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, fields
from functools import cache
from pathlib import Path
from typing import Any

from adapters.base import Adapter
from reference.checks import SpecError
from reference.params import Conv, ConvTranspose
from reference.sizes import conv_output_lengths, conv_transpose_output_lengths, resolve_padding
from suites import invalid, platform
from suites.example import Setup

KNOWN_DIR = Path(__file__).resolve().parent.parent / "adapters" / "known_issues"
REQUIRED = (
    "id",
    "kind",
    "upstream",
    "clauses",
    "surfaces",
    "when",
    "versions",
    "description",
    "confirmed",
    "example",
)
# What an entry's problem is. Defects: a crash or hang (ERR.3), a wrong value or shape, or
# a valid configuration rejected (ERR.12).
# A validation gap: a configuration the framework's own documentation forbids, accepted.
# A deviation: behaviour against the framework's own standard that is not a defect of the
# arithmetic (e.g. a runtime rejecting what its operator specification allows).
KINDS = (
    "crash",
    "hang",
    "wrong-values",
    "wrong-shape",
    "rejects-valid",
    "validation",
    "deviation",
)
DEFECTS = ("crash", "hang", "wrong-values", "wrong-shape", "rejects-valid")
_SAFE_BUILTINS = {
    "max": max,
    "min": min,
    "any": any,
    "all": all,
    "len": len,
    "set": set,
    "abs": abs,
    "zip": zip,
    "range": range,
    "tuple": tuple,
}


@dataclass(frozen=True)
class KnownIssue:
    id: str
    framework: str
    kind: str  # one of KINDS
    # The upstream report (a URL), or what was searched where none was found.
    upstream: str
    # The clauses its failures cite: one bug surfaces under the clause of each
    # suite that reaches it (e.g. CONV.2 in the conv suite, GRP.1 in the grouped one).
    clauses: tuple[str, ...]
    surfaces: tuple[str, ...]
    when: str
    versions: str
    description: str
    confirmed: str
    example: str
    # The platform the bug needs (suites/platform.py); empty: every platform.
    requires: str = ""

    def applies_to(self, adapter: Adapter) -> bool:
        """A surface named in `surfaces` (of any framework: one problem reaches every
        framework built on the one that has it, e.g. Keras on TensorFlow), or every surface
        of the entry's own framework with "*"."""
        if adapter.name in self.surfaces:
            return True
        return "*" in self.surfaces and adapter.framework == self.framework


@cache
def registry() -> tuple[KnownIssue, ...]:
    found: list[KnownIssue] = []
    for path in sorted(KNOWN_DIR.glob("*.toml")):
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        for entry in data.get("issue", []):
            missing = [k for k in REQUIRED if k not in entry]
            if missing:
                raise ValueError(f"{path.name}: entry {entry.get('id', '?')} lacks {missing}")
            if entry["kind"] not in KINDS:
                raise ValueError(
                    f"{path.name}: entry {entry['id']} has kind {entry['kind']!r}, not one of {KINDS}"
                )
            entry = {
                **entry,
                "surfaces": tuple(entry["surfaces"]),
                "clauses": tuple(entry["clauses"]),
            }
            found.append(KnownIssue(framework=path.stem, **entry))
    ids = [k.id for k in found]
    duplicates = {i for i in ids if ids.count(i) > 1}
    if duplicates:
        raise ValueError(f"duplicate known-issue ids {sorted(duplicates)}")
    return tuple(found)


def kind_of(issue_id: str) -> str:
    """The kind of the entry `issue_id` (one of KINDS)."""
    for issue in registry():
        if issue.id == issue_id:
            return issue.kind
    raise KeyError(f"no known-issue entry {issue_id!r} in the registry")


def namespace(setup: Setup) -> dict[str, Any]:
    """Names a `when` predicate may use: op, dtype, exact, operand shapes, every parameter,
    `pads` (a forward padding form resolved to (begin, end) pairs, PAD.4-PAD.7) and `out`
    (the output shape of CONV.3 or TCONV.3/TCONV.4, even where a size is < 1); each of
    the last two is None where the configuration has none (a missing weight, stride 0).
    `rejected_by` (see that function) is added where a predicate uses it."""
    names: dict[str, Any] = {"op": setup.op, "dtype": setup.dtype, "exact": setup.exact}
    names.update(setup.shapes)
    names.update({f.name: getattr(setup.params, f.name) for f in fields(setup.params)})
    names["pads"] = _sized(setup, lambda x, w, p: resolve_padding(p, x[2:], w[2:]), Conv)
    names["out"] = _sized(setup, _raw(conv_output_lengths, 0), Conv)
    if names["out"] is None:
        names["out"] = _sized(setup, _raw(conv_transpose_output_lengths, 1), ConvTranspose)
    return names


def rejected_by(setup: Setup) -> str | None:
    """The clause under which the reference rejects `setup`, or None where it is valid: the
    name `rejected_by` of a `when` predicate (built only where one uses it), for a backend that
    accepts invalid configurations of several kinds."""
    try:
        invalid.reference_check(setup)
    except SpecError as exc:
        return exc.clause
    except KeyError:  # a composite block: the reference validates its steps, not the block
        return None
    return None


def _raw(lengths: Callable[..., tuple[int, ...]], c_out_axis: int) -> Callable[..., Any]:
    """(N, C_out, *lengths) with the size formula's lengths as they come, even <= 0."""

    def shape(x: tuple[int, ...], w: tuple[int, ...], p: Any) -> tuple[int, ...]:
        c_out = w[c_out_axis] * (p.groups if c_out_axis == 1 else 1)
        return (x[0], c_out, *lengths(x, w, p))

    return shape


def _sized(setup: Setup, formula: Callable[..., Any], params: type) -> Any:
    """formula(x shape, w shape, params), or None where it does not apply or cannot be
    evaluated (the configurations here are often invalid on purpose)."""
    x, w = setup.shapes.get("x"), setup.shapes.get("w")
    if type(setup.params) is not params or x is None or w is None:
        return None
    try:
        return formula(x, w, setup.params)
    except (ValueError, ZeroDivisionError, TypeError):
        return None


def triggers(
    issue: KnownIssue, setup: Setup, adapter: Adapter, names: dict[str, Any] | None = None
) -> bool:
    """Whether `issue.when` holds for `setup` on `adapter`'s platform (`names`: the
    namespace, if already built). `when` may use the platform's names too, e.g.
    `dtype in tf_onednn_dtypes`, where the kernel that has the bug depends on both."""
    names = {**_platform_names(adapter), **namespace(setup)} if names is None else names
    if "rejected_by" in issue.when and "rejected_by" not in names:
        names["rejected_by"] = rejected_by(setup)
    # The names go in the globals so that a generator expression's body can use them too.
    try:
        return bool(eval(issue.when, {**names, "__builtins__": _SAFE_BUILTINS}))
    except (IndexError, TypeError, ValueError, ZeroDivisionError):
        # A predicate written for the operation's own shapes cannot describe an invalid
        # configuration with missing axes (the error suite builds such on purpose): it
        # does not match it. A NameError is the entry's mistake and still raises.
        return False


_applicable: dict[tuple[str, str], bool] = {}
_platforms: dict[str, dict[str, Any]] = {}


def _platform_names(adapter: Adapter) -> dict[str, Any]:
    if adapter.name not in _platforms:
        _platforms[adapter.name] = platform.namespace(adapter)
    return _platforms[adapter.name]


def applicable(issue: KnownIssue, adapter: Adapter) -> bool:
    """Whether the platform that `adapter`'s surface runs on meets `issue.requires`."""
    if not issue.requires:
        return True
    key = (issue.id, adapter.name)
    if key not in _applicable:
        names = _platform_names(adapter)
        try:
            holds = eval(issue.requires, {**names, "__builtins__": _SAFE_BUILTINS})
        except NameError as exc:
            raise ValueError(
                f"known issue {issue.id}: `requires` {issue.requires!r} uses a name that "
                f"{adapter.name} does not report ({exc}); it reports {sorted(names)}"
            ) from None
        _applicable[key] = bool(holds)
    return _applicable[key]


# None: matching on. A set: matching suspended for every entry but those ids.
_suspended: ContextVar[frozenset[str] | None] = ContextVar(
    "convspec_known_issues_suspended", default=None
)


@contextmanager
def suspended(keep: Iterable[str] = ()) -> Iterator[None]:
    """No matching inside, except for the entries `keep` names: used to check that an entry
    still reproduces, and by the rediscovery benchmark (which keeps the hangs registered)."""
    token = _suspended.set(frozenset(keep))
    try:
        yield
    finally:
        _suspended.reset(token)


def match(adapter: Adapter, setup: Setup, clause: str) -> str | None:
    kept = _suspended.get()
    if kept is not None and not kept:
        return None
    names: dict[str, Any] | None = None  # built once, for the first candidate entry
    for issue in registry():
        if kept is not None and issue.id not in kept:
            continue
        if clause in issue.clauses and issue.applies_to(adapter):
            if names is None:
                names = {**_platform_names(adapter), **namespace(setup)}
            if triggers(issue, setup, adapter, names):
                return issue.id
    return None
