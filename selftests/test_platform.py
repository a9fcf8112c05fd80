"""Self-tests of platform detection and of known issues' `requires` (suites/platform.py)."""

from __future__ import annotations

from typing import Any

import pytest

from adapters import cpu
from adapters.numpy_backend import NumpyAdapter
from suites import descriptor, known_issues, platform

EXAMPLE = (
    "conv;x=1x1x3;w=1x1x2;b=none;stride=1;dilation=1;padding=valid;groups=1;"
    "padding_mode=zeros;same_split=end;dtype=float32;mode=bounded"
)


class Reporting(NumpyAdapter):
    """The NumPy backend under another name, reporting a fact about its kernels."""

    name = "reporting"

    def __init__(self, facts: dict[str, Any]) -> None:
        self.facts = facts

    def platform(self) -> dict[str, Any]:
        return self.facts


def entry(requires: str, when: str = "True") -> known_issues.KnownIssue:
    return known_issues.KnownIssue(
        id=f"test-{abs(hash((requires, when)))}",
        framework="numpy",
        kind="wrong-values",
        upstream="-",
        clauses=("CONV.2",),
        surfaces=("reporting",),
        when=when,
        versions="-",
        description="-",
        confirmed="-",
        example=EXAMPLE,
        requires=requires,
    )


def test_isa_levels_order_by_onednn_hierarchy_not_alphabet() -> None:
    assert cpu.IsaLevel("avx512_core") > "avx2"
    assert cpu.IsaLevel("avx2") < "avx512_core_amx"
    assert cpu.IsaLevel("avx512_core_bf16") >= "avx512_core_bf16"
    with pytest.raises(ValueError, match="unknown oneDNN ISA level"):
        _ = cpu.IsaLevel("avx2") < "avx3"


@pytest.mark.parametrize(
    ("value", "level"),
    [("AVX2", "avx2"), ("avx512_core_bf16", "avx512_core_bf16"), ("ALL", None), ("", None)],
)
def test_onednn_cap_reads_the_variable(monkeypatch, value: str, level: str | None) -> None:
    monkeypatch.setenv("ONEDNN_MAX_CPU_ISA", value)
    assert cpu.onednn_cap() == level


def test_an_unknown_onednn_cap_is_an_error(monkeypatch) -> None:
    monkeypatch.setenv("ONEDNN_MAX_CPU_ISA", "AVX3")
    with pytest.raises(ValueError, match="ONEDNN_MAX_CPU_ISA='AVX3'"):
        cpu.onednn_cap()


def test_requires_decides_where_the_example_is_replayed_when_decides_matching(
    monkeypatch,
) -> None:
    on, off = Reporting({"fast_kernel": True}), Reporting({"fast_kernel": False})
    setup = descriptor.decode(EXAMPLE)
    issue = entry("fast_kernel", when="fast_kernel")
    monkeypatch.setattr(known_issues, "registry", lambda: (issue,))
    for adapter, applies in ((on, True), (off, False)):
        known_issues._applicable.clear()
        known_issues._platforms.clear()
        assert known_issues.applicable(issue, adapter) is applies
        expected = issue.id if applies else None
        assert known_issues.match(adapter, setup, "CONV.2") == expected
    known_issues._platforms.clear()


def test_when_may_use_platform_names(monkeypatch) -> None:
    setup = descriptor.decode(EXAMPLE)
    issue = entry("", when="dtype in fast_dtypes")
    known_issues._platforms.clear()
    assert known_issues.triggers(issue, setup, Reporting({"fast_dtypes": {"float32"}}))
    known_issues._platforms.clear()
    assert not known_issues.triggers(issue, setup, Reporting({"fast_dtypes": set()}))
    known_issues._platforms.clear()


def test_a_requires_naming_an_unreported_fact_is_a_clear_error() -> None:
    known_issues._applicable.clear()
    known_issues._platforms.clear()
    with pytest.raises(ValueError, match="does not report"):
        known_issues.applicable(entry("no_such_fact"), Reporting({}))
    known_issues._platforms.clear()


def test_every_registry_requires_parses() -> None:
    for issue in known_issues.registry():
        if issue.requires:
            compile(issue.requires, issue.id, "eval")


def test_the_header_line_names_cpu_and_onednn_level() -> None:
    line = platform.describe()
    assert "oneDNN ISA" in line and "ONEDNN_MAX_CPU_ISA=" in line, line


def test_a_predicate_that_cannot_evaluate_a_configuration_does_not_match_it() -> None:
    """An invalid configuration with missing axes (the error suite's input_missing_batch)
    makes `pads[-1]` fail: the entry does not match it, and nothing raises."""
    setup = descriptor.decode(EXAMPLE.replace("x=1x1x3", "x=1x1").replace("w=1x1x2", "w=1x1x1"))
    issue = entry("", when="pads[-1][0] == 0")
    known_issues._platforms.clear()
    assert known_issues.triggers(issue, setup, Reporting({})) is False
    known_issues._platforms.clear()
