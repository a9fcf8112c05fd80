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
