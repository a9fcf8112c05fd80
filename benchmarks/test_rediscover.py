"""Self-tests of the rediscovery benchmark (benchmarks/rediscover.py, benchmarks/registry_off.py)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import SimpleNamespace

import pytest

from benchmarks import rediscover

# Dies (SIGSEGV) on every batch of two: a surface that crashes in-process, as oneDNN's do.
CRASHING = """
import os
import signal

from adapters.numpy_backend import NumpyAdapter


class CrashesOnBatchTwo(NumpyAdapter):
    name = "crashing"

    def conv(self, x, w, b, p):
        if x.shape[0] == 2:
            os.kill(os.getpid(), signal.SIGSEGV)
        return super().conv(x, w, b, p)
"""


def test_each_clause_leads_to_the_modules_that_cite_it() -> None:
    cited = rediscover.clause_modules()
    assert "test_conv.py" in cited["CONV.2"], cited.get("CONV.2")
    assert "test_errors.py" in cited["ERR.3"], cited.get("ERR.3")
    every = set().union(*cited.values())
    assert not every & set(rediscover.EXCLUDED), (
        f"the replays of pinned examples would find every entry trivially: {every}"
    )


def test_an_entry_is_looked_for_on_its_plainest_surface_and_its_closest_modules() -> None:
    entry = SimpleNamespace(surfaces=("torch.compile", "torch.module", "torch"), clauses=())
    assert rediscover.surface_for(entry) == "torch", "the plain functional API first"
    unknown = SimpleNamespace(surfaces=("torch.meta",), clauses=())
    assert rediscover.surface_for(unknown) == "torch.meta", "a surface not in the order still runs"
    cited = {"CONV.2": {"test_conv.py", "test_networks.py"}, "CONV.5": {"test_conv.py"}}
    issue = SimpleNamespace(clauses=("CONV.2", "CONV.5"))
    assert rediscover.hunt_order(issue, cited) == ["test_conv.py", "test_networks.py"], (
        "the module citing most of the entry's clauses is hunted first"
    )


def test_the_first_match_is_the_earliest_failure_or_crash_the_entry_matches() -> None:
    session = rediscover.Session("torch", "ci", [], ["a"])
    session.failures = [
        {"matches": ["b"], "seconds": 1.0},
        {"matches": ["a", "b"], "seconds": 5.0},
    ]
    session.crashes = [{"matches": ["a"], "seconds": 3.0}]
    hit = rediscover.first_match("a", session)
    assert hit is not None and hit["seconds"] == 3.0 and hit["how"] == "crash", hit
    assert rediscover.first_match("c", session) is None, "no event matched c"


@pytest.mark.skipif(
    importlib.util.find_spec("onnx") is None, reason="unavailable: the ONNX reference evaluator"
)
def test_a_registered_bug_is_found_again_with_the_registry_off() -> None:
    """The ONNX reference evaluator's DeformConv bug fails the first deformable example."""
    entry = "onnx-reference-deformconv-size-one"
    session = rediscover.run_session(
        "onnx-reference", "ci", ["test_deformable.py"], [entry], timeout=300, stop=True
    )
    hit = rediscover.first_match(entry, session)
    assert hit is not None, f"not found again: {session.children}"
    assert hit["clause"].startswith("DEFORM."), hit


def test_an_in_process_crash_is_recorded_and_the_session_goes_on(tmp_path: Path) -> None:
    (tmp_path / "crashing.py").write_text(CRASHING, encoding="utf-8")
    session = rediscover.run_session(
        "crashing",
        "ci",
        ["test_conv.py"],
        [],
        timeout=300,
        extra=["--adapter", "crashing:CrashesOnBatchTwo"],
        pythonpath=[str(tmp_path)],
    )
    assert session.crashes, f"the batch-of-two examples crash the child: {session.children}"
    for crash in session.crashes:
        assert ";x=2x" in crash["descriptor"], f"the crash's configuration is recorded: {crash}"
    tests = [c["test"] for c in session.crashes]
    assert len(set(tests)) == len(tests), f"a crashed test is not run again: {tests}"
    assert session.children[-1].get("settings"), (
        f"the session ends normally once the crashing tests are left out: {session.children[-1]}"
    )


def test_a_crash_is_looked_for_where_its_operations_run() -> None:
    """ERR.3 is cited by the error suite, but a crash on a valid configuration is met by the
    tests that run its operation on valid configurations: those are hunted first."""
    cited = {
        "ERR.2": {"test_errors.py"},
        "ERR.3": {"test_errors.py"},
        "TCONV.1": {"test_transposed.py"},
    }
    running = {
        "conv": {"test_conv.py", "test_errors.py"},
        "conv_transpose": {"test_errors.py", "test_relations.py", "test_transposed.py"},
    }
    valid = (
        "conv_transpose;x=1x1x3x1;w=1x1x2x2;b=none;stride=2x1;dilation=1x1;padding=1:1,0:1;"
        "output_padding=0x0;groups=1;output_padding_rule=stride;dtype=float32;mode=bounded"
    )
    crash = SimpleNamespace(
        kind="crash", clauses=("ERR.3",), when="op == 'conv_transpose' and x[0] > 1", example=valid
    )
    assert rediscover.operations_of(crash) == {"conv_transpose"}
    assert rediscover.modules_for(crash, cited, running) == [
        "test_errors.py",
        "test_relations.py",
        "test_transposed.py",
    ]
    assert rediscover.hunt_order(crash, cited, running) == [
        "test_transposed.py",
        "test_relations.py",
        "test_errors.py",
    ], "the module checking the operation's values first, the error suite last"
    degenerate = SimpleNamespace(
        **{**vars(crash), "example": valid.replace("x=1x1x3x1", "x=1x1x0x1")}
    )
    assert rediscover.hunt_order(degenerate, cited, running)[0] == "test_errors.py", (
        "a crash on a configuration with a size 0 is met in the error suite first"
    )
    values = SimpleNamespace(**{**vars(crash), "kind": "wrong-values"})
    assert rediscover.modules_for(values, cited, running) == ["test_errors.py"], (
        "wrong values are reported under the clauses they cite"
    )
    others = SimpleNamespace(**{**vars(crash), "when": "op not in ('conv_transpose',) and 1"})
    assert "conv" in rediscover.operations_of(others)
    assert "conv_transpose" not in rediscover.operations_of(others)
    every = SimpleNamespace(**{**vars(crash), "when": "dtype == 'float16'"})
    assert {"conv", "conv_transpose"} <= rediscover.operations_of(every)
    real = rediscover.operation_modules()
    assert "test_transposed.py" in real["conv_transpose"], real
    assert not set().union(*real.values()) & set(rediscover.EXCLUDED)


def test_kept_entries_stay_registered_while_the_others_are_off(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from dataclasses import replace

    from adapters.numpy_backend import NumpyAdapter
    from suites import descriptor, known_issues

    hang = next(i for i in known_issues.registry() if i.kind in rediscover.KEPT_KINDS)
    other = replace(hang, id="other", kind="crash")
    entries = (replace(hang, surfaces=("numpy",)), replace(other, surfaces=("numpy",)))
    monkeypatch.setattr(known_issues, "registry", lambda: entries)
    adapter, setup = NumpyAdapter(), descriptor.decode(hang.example)
    clause = hang.clauses[0]
    assert known_issues.match(adapter, setup, clause) == hang.id, "matching on: the first"
    with known_issues.suspended(keep=["other"]):
        assert known_issues.match(adapter, setup, clause) == "other", "only the kept entry"
    with known_issues.suspended():
        assert known_issues.match(adapter, setup, clause) is None, "the whole registry off"


def test_a_hunt_runs_a_crashed_test_again(tmp_path: Path) -> None:
    """A hunt's draws are new each time: the crashed item runs again, up to
    CRASHES_PER_TEST crashes."""
    (tmp_path / "crashing.py").write_text(CRASHING, encoding="utf-8")
    session = rediscover.run_session(
        "crashing",
        "hunt",
        ["test_conv.py"],
        [],
        timeout=300,
        extra=["--adapter", "crashing:CrashesOnBatchTwo", "--hunt-minutes", "0.01"],
        pythonpath=[str(tmp_path)],
    )
    tests = [c["test"] for c in session.crashes]
    assert tests, f"the batch-of-two examples crash the child: {session.children}"
    counts = {t: tests.count(t) for t in tests}
    assert max(counts.values()) <= rediscover.CRASHES_PER_TEST, counts
    assert max(counts.values()) > 1 or len(session.children) > rediscover.MAX_RESTARTS, (
        f"a crashed item runs again: {counts}"
    )
    assert session.children[-1].get("settings") or len(session.children) > rediscover.MAX_RESTARTS


def test_a_hunt_runs_first_the_items_citing_the_entrys_clauses() -> None:
    from benchmarks import registry_off

    def item(path: str, *clauses: str) -> SimpleNamespace:
        marks = [SimpleNamespace(args=clauses)]
        return SimpleNamespace(path=path, name=f"{path}{clauses}", iter_markers=lambda _: marks)

    items = [
        item("b.py", "ERR.3"),
        item("b.py", "ERR.15", "ERR.3"),
        item("a.py", "TCONV.1"),
        item("a.py", "ERR.15"),
    ]
    config = SimpleNamespace(getoption=lambda _: "ERR.3,ERR.15")
    registry_off.pytest_collection_modifyitems(None, config, items)  # type: ignore[arg-type]
    assert [i.name for i in items] == [
        "b.py('ERR.15', 'ERR.3')",
        "b.py('ERR.3',)",
        "a.py('ERR.15',)",
        "a.py('TCONV.1',)",
    ], "the modules keep their order; within each, most of the clauses first"
    degenerate = SimpleNamespace(
        clauses=("ERR.3",),
        example="conv_transpose;x=2x0x1x1x1;w=0x1x1x1x1;b=none;stride=1x1x1;dilation=1x1x1;"
        "padding=valid;output_padding=0x0x0;groups=1;output_padding_rule=stride;"
        "dtype=float64;mode=bounded",
    )
    assert rediscover.preferred_clauses(degenerate) == ["ERR.3", "ERR.15"]
    broken = SimpleNamespace(
        clauses=("ERR.3",), example=degenerate.example.replace("stride=1x1x1", "stride=0x1x1")
    )
    assert rediscover.preferred_clauses(broken) == ["ERR.3", "ERR.2", "TCONV.6"]
