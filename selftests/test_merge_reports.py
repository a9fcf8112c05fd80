"""Self-tests of the report merge (suites/merge_reports.py): small made-up reports, bad input,
and two real runs of this machine under different platform settings."""

from __future__ import annotations

import copy
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from adapters.cpu import IsaLevel
from suites import known_issues
from suites.merge_reports import DIFFERS, MERGED_FORMAT, NOT_RUN, main, merge, to_json, to_markdown
from suites.outcomes import REPORT_FORMAT, REPORT_FORMAT_VERSION

ROOT = Path(__file__).resolve().parent.parent

# The README's emulation of a CPU without AVX-512 (see Platforms).
NO_AVX512 = {
    "TF_ENABLE_ONEDNN_OPTS": "0",
    "ONEDNN_MAX_CPU_ISA": "AVX2",
    "ATEN_CPU_CAPABILITY": "avx2",
}

MACHINE = {
    "cpu": "Example CPU",
    "machine": "x86_64",
    "threads": 2,
    "flags": ["avx2", "avx512f"],
    "onednn_isa": "avx512_core",
    "environment": {},
}


def backend(framework: str, device: str = "cpu", **facts: Any) -> dict[str, Any]:
    return {"framework": framework, "version": "1.0", "device": device, "platform": facts}


def report(
    matrix: dict[str, dict[str, str]],
    backends: dict[str, dict[str, Any]],
    environment: dict[str, str] | None = None,
    known_kinds: dict[str, list[str]] | None = None,
) -> dict[str, Any]:
    """A run's report as suites/outcomes.py writes it, with the fields the merge reads."""
    return {
        "format": REPORT_FORMAT,
        "format_version": REPORT_FORMAT_VERSION,
        "hypothesis_profile": "ci",
        "platform": {**MACHINE, "environment": environment or {}},
        "backends": backends,
        "settings": {},
        "matrix": matrix,
        "known_kinds": known_kinds or {},
        "records": [],
        "not_applicable": [],
        "size_classes": {s: {"small": 3} for s in backends if "unavailable" not in backends[s]},
    }


NATIVE = report(
    {
        "conv": {"numpy": "pass", "torch": "known_defect", "torch.cuda": "unavailable"},
        "padding": {"numpy": "pass", "torch": "pass", "torch.cuda": "unavailable"},
    },
    {
        "numpy": backend("numpy"),
        "torch": backend("torch", torch_capability="AVX512"),
        "torch.cuda": {"unavailable": "cannot be loaded here: CUDA not available"},
    },
    known_kinds={"conv/torch": ["known_defect", "known_validation"]},
)
EMULATED = report(
    {"conv": {"numpy": "pass", "torch": "pass", "torch.cuda": "unavailable"}},
    {
        "numpy": backend("numpy"),
        "torch": backend("torch", torch_capability="AVX2"),
        "torch.cuda": {"unavailable": "cannot be loaded here: CUDA not available"},
    },
    environment={"ATEN_CPU_CAPABILITY": "avx2"},
)
GPU = report(
    {"conv": {"torch.cuda": "pass", "jax": "fail"}},
    {"torch.cuda": backend("torch", "cuda:0"), "jax": backend("jax", "cuda:0")},
    environment={"CUDA_VISIBLE_DEVICES": "0"},
)


def cells(reports: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    merged = to_json(merge([(f"run{i}.json", r) for i, r in enumerate(reports)]))
    return merged["matrix"]  # type: ignore[no-any-return]


def test_a_column_is_a_surface_on_a_platform() -> None:
    merged = to_json(merge([("native.json", NATIVE), ("emulated.json", EMULATED)]))
    ids = [c["id"] for c in merged["columns"]]
    assert ids == ["numpy@A", "numpy@B", "torch@A", "torch@B", "torch.cuda"], (
        "one column per surface and platform, grouped by surface; a surface unavailable in "
        f"every run keeps one column: {ids}"
    )
    labels = {p["label"]: p["platform"]["environment"] for p in merged["platforms"]}
    assert labels == {"A": {}, "B": {"ATEN_CPU_CAPABILITY": "avx2"}}, (
        f"each platform keeps the environment its run recorded: {labels}"
    )
    torch_b = next(c for c in merged["columns"] if c["id"] == "torch@B")
    assert torch_b["backend"]["platform"] == {"torch_capability": "AVX2"}, (
        f"a column keeps its surface's own facts on that platform: {torch_b}"
    )


def test_cells_that_differ_between_platforms_are_marked_on_every_side() -> None:
    matrix = cells([NATIVE, EMULATED])
    conv = matrix["conv"]
    assert conv["torch@A"]["differs"] and conv["torch@B"]["differs"], (
        f"torch's conv is a known defect natively and passes emulated: both cells say so: {conv}"
    )
    assert not conv["numpy@A"]["differs"] and not conv["numpy@B"]["differs"], (
        f"numpy passes on both platforms: no mark: {conv}"
    )
    text = to_markdown(merge([("native.json", NATIVE), ("emulated.json", EMULATED)]))
    assert f"| conv | ✅ | ✅ | ⚠️🟨{DIFFERS} | ✅{DIFFERS} | · |" in text, (
        f"the Markdown row shows every kind met and the difference mark:\n{text}"
    )
    assert f"{DIFFERS} this surface's outcome" in text, f"the legend explains the mark:\n{text}"


def test_other_kinds_of_known_issue_are_a_difference_too() -> None:
    other = copy.deepcopy(EMULATED)
    other["matrix"]["conv"]["torch"] = "known_defect"
    other["known_kinds"] = {"conv/torch": ["known_defect"]}
    conv = cells([NATIVE, other])["conv"]
    assert conv["torch@A"]["differs"] and conv["torch@B"]["differs"], (
        f"⚠️🟨 on one platform and ⚠️ on the other are different findings: {conv}"
    )


def test_a_variant_one_platform_did_not_run_is_no_difference() -> None:
    matrix = cells([NATIVE, EMULATED])
    padding = matrix["padding"]
    assert padding["torch@B"] is None and padding["numpy@B"] is None, (
        f"the emulated run tested no padding: its cells are empty, not failures: {padding}"
    )
    assert not padding["torch@A"]["differs"], (
        f"a cell compared with nothing does not differ: {padding}"
    )
    text = to_markdown(merge([("native.json", NATIVE), ("emulated.json", EMULATED)]))
    assert f"| padding | ✅ | {NOT_RUN} | ✅ | {NOT_RUN} | · |" in text, (
        f"a variant not run on a platform shows {NOT_RUN}:\n{text}"
    )


def test_a_surface_missing_on_one_platform_gets_columns_only_where_it_ran() -> None:
    merged = to_json(merge([("native.json", NATIVE), ("gpu.json", GPU)]))
    ids = [c["id"] for c in merged["columns"]]
    assert ids == ["numpy@A", "torch@A", "torch.cuda@B", "jax@B"], (
        f"torch.cuda ran on B only, so it has no column on A; numpy and torch did not run on B: "
        f"{ids}"
    )
    assert merged["unavailable"] == [
        {
            "surface": "torch.cuda",
            "platform": "A",
            "reason": "cannot be loaded here: CUDA not available",
        }
    ], f"where a surface was unavailable is listed, with the run's reason: {merged['unavailable']}"
    assert merged["matrix"]["padding"]["torch.cuda@B"] is None, "the GPU run did not test padding"


def test_runs_of_one_platform_fill_the_same_columns() -> None:
    conv_only = copy.deepcopy(NATIVE)
    conv_only["matrix"] = {"conv": conv_only["matrix"]["conv"]}
    padding_only = copy.deepcopy(NATIVE)
    padding_only["matrix"] = {"padding": padding_only["matrix"]["padding"]}
    merged = to_json(merge([("conv.json", conv_only), ("padding.json", padding_only)]))
    ids = [c["id"] for c in merged["columns"]]
    assert ids == ["numpy@A", "torch@A", "torch.cuda"], (
        f"two runs of one platform, different modules: one set of columns: {ids}"
    )
    assert merged["matrix"]["padding"]["torch@A"]["outcome"] == "pass"
    assert merged["matrix"]["conv"]["torch@A"]["outcome"] == "known_defect"


def test_one_platform_with_two_versions_of_a_surface_gets_two_columns() -> None:
    upgraded = copy.deepcopy(NATIVE)
    upgraded["backends"]["torch"]["version"] = "2.0"
    ids = [c["id"] for c in to_json(merge([("a.json", NATIVE), ("b.json", upgraded)]))["columns"]]
    assert ids == ["numpy@A", "torch@A1", "torch@A2", "torch.cuda"], (
        f"the same machine and environment with another torch is another column: {ids}"
    )


# --- bad input ----------------------------------------------------------------------------------


def write(path: Path, content: Any) -> Path:
    text = content if isinstance(content, str) else json.dumps(content)
    path.write_text(text, encoding="utf-8")
    return path


def refused(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    status = main(list(args))
    err = capsys.readouterr().err
    assert status == 2, f"bad input exits with status 2, got {status}: {err}"
    assert "Traceback" not in err and err.startswith("merge_reports: error: "), (
        f"bad input is refused with one message, not a traceback: {err}"
    )
    return err


def test_a_missing_file_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = write(tmp_path / "good.json", NATIVE)
    err = refused(capsys, str(good), str(tmp_path / "nowhere.json"))
    assert "nowhere.json: no such file" in err, err


@pytest.mark.parametrize(
    ("content", "says"),
    [
        ("not json at all", "not a convspec conformance report (not JSON"),
        ([1, 2], "not a JSON object"),
        ({"kind": "wall", "runs": []}, 'no "format": "convspec-conformance-report"'),
        ({"format": "something-else"}, "\"format\" is 'something-else'"),
        ({"format": MERGED_FORMAT}, "a merged matrix, not one run's report"),
    ],
)
def test_a_file_that_is_not_a_report_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: Any, says: str
) -> None:
    bad = write(tmp_path / "bad.json", content)
    err = refused(capsys, str(write(tmp_path / "good.json", NATIVE)), str(bad))
    assert "bad.json: " in err and says in err, f"the message names the file and says why: {err}"


def test_a_report_from_before_format_versions_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old = {k: v for k, v in NATIVE.items() if k not in ("format", "format_version")}
    err = refused(capsys, str(write(tmp_path / "old.json", old)))
    assert "before reports carried a format version" in err and "run convspec again" in err, err


def test_reports_of_another_format_version_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    newer = {**NATIVE, "format_version": REPORT_FORMAT_VERSION + 1}
    a = write(tmp_path / "a.json", NATIVE)
    b = write(tmp_path / "b.json", newer)
    err = refused(capsys, str(a), str(b))
    assert (
        f"b.json: report format version {REPORT_FORMAT_VERSION + 1}, but this merge reads "
        f"version {REPORT_FORMAT_VERSION} only" in err
    ), err


def test_a_malformed_cell_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    broken = copy.deepcopy(NATIVE)
    broken["matrix"]["conv"]["torch"] = "known"  # the outcome name of older reports
    err = refused(capsys, str(write(tmp_path / "broken.json", broken)))
    assert "matrix cell conv/torch is 'known'" in err, err


def test_a_report_given_twice_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a = str(write(tmp_path / "a.json", NATIVE))
    assert "given more than once" in refused(capsys, a, a)


def test_the_command_refuses_without_a_traceback(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "suites.merge_reports", str(tmp_path / "nowhere.json")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    assert "nowhere.json: no such file" in result.stderr, result.stderr


def test_the_command_writes_json_and_markdown(tmp_path: Path) -> None:
    a = write(tmp_path / "native.json", NATIVE)
    b = write(tmp_path / "gpu.json", GPU)
    out = tmp_path / "out"
    assert (
        main([str(a), str(b), "--json", str(out / "m.json"), "--markdown", str(out / "m.md")]) == 0
    )
    merged = json.loads((out / "m.json").read_text(encoding="utf-8"))
    assert (
        merged["format"] == MERGED_FORMAT and merged["matrix"]["conv"]["jax@B"]["outcome"] == "fail"
    )
    text = (out / "m.md").read_text(encoding="utf-8")
    assert "| variant | numpy@A | torch@A | torch.cuda@B | jax@B |" in text, text
    assert "- `torch.cuda@B`: torch 1.0 on cuda:0; 3 examples checked" in text, (
        f"each column's surface and facts are listed above the table:\n{text}"
    )


# --- two real runs ------------------------------------------------------------------------------


def amx_wrong_values_example() -> str:
    """A torch known issue that lives in oneDNN's AMX kernels and gives wrong values (a crash
    would take the run down): natively a known defect on an AMX CPU, right under AVX2."""
    for issue in known_issues.registry():
        if (
            "torch" in issue.surfaces
            and issue.kind == "wrong-values"
            and issue.requires == "onednn_isa >= 'avx512_core_amx'"
        ):
            return issue.example
    pytest.skip("no torch wrong-values entry needs AMX any more: pick another one-kernel bug")


PYTEST = (sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist")


def run(tmp_path: Path, name: str, environment: dict[str, str], *args: str) -> dict[str, Any]:
    path = tmp_path / f"{name}.json"
    env = {k: v for k, v in os.environ.items() if k not in NO_AVX512} | environment
    result = subprocess.run(
        [*PYTEST, *args, f"--conformance-report={path}"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, (
        f"the {name} run passes:\n{result.stdout[-3000:]}{result.stderr[-2000:]}"
    )
    return json.loads(path.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


@pytest.mark.skipif(importlib.util.find_spec("torch") is None, reason="torch is not installed")
def test_two_runs_of_this_machine_under_different_platform_settings(tmp_path: Path) -> None:
    """The README's no-AVX-512 emulation against the defaults, on one replayed configuration."""
    args = ("--backend", "numpy,torch", "--config", amx_wrong_values_example())
    native = run(tmp_path, "native", {}, *args)
    emulated = run(tmp_path, "emulated", NO_AVX512, *args)
    merged = to_json(merge([("native.json", native), ("emulated.json", emulated)]))
    ids = [c["id"] for c in merged["columns"]]
    assert ids == ["numpy@A", "numpy@B", "torch@A", "torch@B"], (
        f"the runs differ in their environment, so they are two platforms: {ids}"
    )
    environment = merged["platforms"][1]["platform"]["environment"]
    assert environment == NO_AVX512, f"the emulated run records its settings: {environment}"
    assert merged["platforms"][1]["platform"]["onednn_isa"] == "avx2", merged["platforms"][1]
    capability = {
        c["id"]: c["backend"]["platform"]["torch_capability"] for c in merged["columns"][2:]
    }
    assert capability["torch@B"] == "AVX2", f"ATen's capability under the emulation: {capability}"
    replay = merged["matrix"]["replay"]
    assert not replay["numpy@A"]["differs"], f"numpy does not depend on the platform: {replay}"
    if IsaLevel(native["platform"]["onednn_isa"]) >= "avx512_core_amx":
        assert (replay["torch@A"]["outcome"], replay["torch@B"]["outcome"]) == (
            "known_defect",
            "pass",
        ), f"the AMX bug shows natively and not under AVX2: {replay}"
        assert replay["torch@A"]["differs"] and replay["torch@B"]["differs"], replay
    else:
        assert not replay["torch@A"]["differs"], (
            f"without AMX neither run meets the AMX bug: {replay}"
        )
