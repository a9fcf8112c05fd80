"""Self-tests of the ONNX adapters' mechanics: models, argument order, caching, declarations.

Conformance of the results is the suites' business; these tests pin what only
the adapters decide: pads order, auto_pad spelling, optional-input placeholders,
opset and IR version, dtypes, session reuse and the documented limitations.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("onnx")

from adapters import onnx_models, onnx_reference_backend, onnxruntime_backend
from adapters.base import (
    CONV,
    CONV_TRANSPOSE,
    DEFORM_CONV,
    DTYPES,
    OPERATIONS,
    PADDING_FORMS,
    Adapter,
    UnsupportedError,
)
from reference.conv import conv_fast
from reference.numerics import exact_value_range, numpy_dtype
from reference.params import Conv, ConvTranspose, DeformConv

ROOT = Path(__file__).resolve().parent.parent
MODULES = (
    "adapters.onnx_models",
    "adapters.onnxruntime_backend",
    "adapters.onnx_reference_backend",
)


def _surfaces() -> dict[str, Adapter]:
    found: dict[str, Adapter] = {}
    for module in (onnxruntime_backend, onnx_reference_backend):
        for name, factory in module.SURFACES.items():
            try:
                found[name] = factory()
            except ImportError:
                continue
    return found


@pytest.fixture(scope="module")
def surfaces() -> dict[str, Adapter]:
    return _surfaces()


def _conv(rank: int = 2, **kw: object) -> Conv:
    base: dict[str, object] = {
        "stride": (1,) * rank,
        "dilation": (1,) * rank,
        "padding": tuple((0, 0) for _ in range(rank)),
    }
    base.update(kw)
    return Conv(**base)  # type: ignore[arg-type]


def test_surface_names() -> None:
    assert set(onnxruntime_backend.SURFACES) == {"onnxruntime", "onnxruntime.noopt"}
    assert set(onnx_reference_backend.SURFACES) == {"onnx-reference"}


def test_module_import_does_not_import_onnx() -> None:
    code = (
        f"import sys\nfor m in {MODULES!r}: __import__(m)\n"
        "bad = {'onnx', 'onnxruntime'} & set(sys.modules)\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)


def test_pads_are_all_begins_then_all_ends() -> None:
    assert onnx_models.onnx_pads(((1, 2), (3, 4), (5, 6))) == [1, 3, 5, 2, 4, 6]
    attrs = onnx_models.conv_attributes(_conv(2, padding=((0, 1), (2, 3)), groups=2))
    assert attrs == {"strides": [1, 1], "dilations": [1, 1], "group": 2, "pads": [0, 2, 1, 3]}


def test_auto_pad_spellings() -> None:
    assert onnx_models.conv_attributes(_conv(padding="valid"))["auto_pad"] == "VALID"
    assert onnx_models.conv_attributes(_conv(padding="same"))["auto_pad"] == "SAME_UPPER"
    same_begin = _conv(padding="same", same_split="begin")
    assert onnx_models.conv_attributes(same_begin)["auto_pad"] == "SAME_LOWER"
    t = ConvTranspose((2,), (1,), "same", (0,))
    attrs = onnx_models.conv_transpose_attributes(t)
    assert attrs["auto_pad"] == "SAME_UPPER" and "pads" not in attrs


def test_model_versions_and_optional_inputs() -> None:
    x = np.zeros((1, 2, 4, 4), np.float32)
    w = np.zeros((3, 2, 2, 2), np.float32)
    off = np.zeros((1, 8, 3, 3), np.float32)
    mask = np.zeros((1, 4, 3, 3), np.float32)
    p = DeformConv((1, 1), (1, 1), ((0, 0), (0, 0)))
    model = onnx_models.deform_conv_model(x, off, mask, w, None, p)
    assert model.ir_version == onnx_models.IR_VERSION
    assert [(o.domain, o.version) for o in model.opset_import] == [("", onnx_models.OPSET)]
    assert list(model.graph.node[0].input) == ["x", "w", "offset", "", "mask"]
    no_extras = onnx_models.deform_conv_model(x, off, None, w, None, p)
    assert list(no_extras.graph.node[0].input) == ["x", "w", "offset"]
    assert not any(a.name == "kernel_shape" for a in model.graph.node[0].attribute)


def test_capabilities_well_formed(surfaces: dict[str, Adapter]) -> None:
    for adapter in surfaces.values():
        caps = adapter.capabilities
        assert set(caps.ops) == {CONV, CONV_TRANSPOSE, DEFORM_CONV}
        assert set(caps.ops) <= set(OPERATIONS)
        assert not caps.gradients
        for support in caps.ops.values():
            assert support.dtypes <= set(DTYPES)
            assert support.padding <= set(PADDING_FORMS)
            assert "negative" not in support.padding  # ONNX pads must be >= 0


@pytest.mark.parametrize("op", [CONV, CONV_TRANSPOSE, DEFORM_CONV])
def test_declared_dtypes_round_trip(surfaces: dict[str, Adapter], op: str) -> None:
    for adapter in surfaces.values():
        support = adapter.support(op)
        assert support is not None
        for dtype in sorted(support.dtypes):
            dt = numpy_dtype(dtype)
            x = np.ones((1, 2, 3, 3), dt)
            if op == CONV:
                y = adapter.conv(x, np.ones((2, 2, 2, 2), dt), np.ones(2, dt), _conv())
            elif op == CONV_TRANSPOSE:
                t = ConvTranspose((1, 1), (1, 1), ((0, 0), (0, 0)), (0, 0))
                y = adapter.conv_transpose(x, np.ones((2, 2, 2, 2), dt), None, t)
            else:
                d = DeformConv((1, 1), (1, 1), ((0, 0), (0, 0)))
                off = np.zeros((1, 8, 2, 2), dt)
                y = adapter.deform_conv(x, off, None, np.ones((2, 2, 2, 2), dt), None, d)
            assert y.dtype == dt, (adapter.name, op, dtype)


def test_onnxruntime_cpu_kernels_match_declared_dtypes() -> None:
    """The undeclared dtypes are really missing from the CPU provider, not merely untested."""
    ort_adapter = _surfaces().get("onnxruntime")
    if ort_adapter is None:
        pytest.skip("onnxruntime not installed")
    x = np.ones((1, 1, 3, 3))
    w = np.ones((1, 1, 2, 2))
    with pytest.raises(Exception, match=r"NOT_IMPLEMENTED|Could not find an implementation"):
        ort_adapter.conv(x, w, None, _conv())  # float64


def test_sessions_are_reused() -> None:
    ort_adapter = _surfaces().get("onnxruntime")
    if not isinstance(ort_adapter, onnxruntime_backend.OnnxRuntimeAdapter):
        pytest.skip("onnxruntime not installed")
    x = np.ones((1, 1, 4, 4), np.float32)
    w = np.ones((1, 1, 3, 3), np.float32)
    for _ in range(3):
        ort_adapter.conv(x, w, None, _conv())
    ort_adapter.conv(x, w, None, _conv(padding="same"))
    assert len(ort_adapter._sessions) == 2


def test_padding_modes_other_than_zeros_are_unsupported(surfaces: dict[str, Adapter]) -> None:
    for adapter in surfaces.values():
        with pytest.raises(UnsupportedError):
            adapter.conv(
                np.ones((1, 1, 4), np.float32),
                np.ones((1, 1, 2), np.float32),
                None,
                _conv(1, padding=((1, 1),), padding_mode="reflect"),
            )


def test_transposed_auto_pad_limitation() -> None:
    shapes = {"x": (1, 1, 3), "w": (1, 1, 2)}
    for padding in ("valid", "same"):
        wide_stride = ConvTranspose((3,), (1,), padding, (0,))
        assert onnx_models.transpose_auto_pad_limitation(wide_stride, shapes["w"])
        # k_eff = 2*(2-1)+1 = 3 >= stride 3: the conventions agree.
        dilated = ConvTranspose((3,), (2,), padding, (0,))
        assert onnx_models.transpose_auto_pad_limitation(dilated, shapes["w"]) is None
    explicit = ConvTranspose((3,), (1,), ((0, 0),), (0,))
    assert onnx_models.transpose_auto_pad_limitation(explicit, shapes["w"]) is None


def test_onnxruntime_same_with_dilation_limitation() -> None:
    ort_adapter = _surfaces().get("onnxruntime")
    if ort_adapter is None:
        pytest.skip("onnxruntime not installed")
    shapes = {"x": (1, 1, 5), "w": (1, 1, 2)}
    assert ort_adapter.limitation(CONV, _conv(1, padding="same", dilation=(2,)), shapes, "float32")
    assert ort_adapter.limitation(CONV, _conv(1, padding="same"), shapes, "float32") is None


@pytest.mark.parametrize("dtype", ["float32", "float16"])
def test_exact_integer_sums(surfaces: dict[str, Adapter], dtype: str) -> None:
    """The `exact` declaration: integer inputs of NUM.5 range give the exact sums."""
    w_shape = (8, 16, 3, 3)
    m = exact_value_range(int(np.prod(w_shape[1:])), dtype)
    rng = np.random.default_rng(5)
    dt = numpy_dtype(dtype)
    x = rng.integers(-m, m + 1, (1, 16, 9, 9)).astype(dt)
    w = rng.integers(-m, m + 1, w_shape).astype(dt)
    p = _conv(padding=((1, 1), (1, 1)))
    for adapter in surfaces.values():
        y = adapter.conv(x, w, None, p)
        np.testing.assert_array_equal(y.astype(np.float64), conv_fast(x, w, None, p))


def _repro_cases() -> list[tuple[str, object, dict[str, np.ndarray | None]]]:
    rng = np.random.default_rng(0)

    def a(*shape: int) -> np.ndarray:
        return rng.uniform(-1, 1, shape)

    tconv = ConvTranspose(
        stride=(2, 1), dilation=(1, 1), padding=((1, 0), (0, 1)), output_padding=(1, 0), groups=2
    )
    return [
        (
            CONV,
            _conv(2, stride=(2, 1), padding=((1, 0), (0, 2)), groups=2),
            {"x": a(1, 4, 5, 6), "w": a(2, 2, 3, 2), "b": a(2)},
        ),
        (
            CONV,
            _conv(1, padding="same", same_split="begin"),
            {"x": a(2, 3, 7), "w": a(2, 3, 4), "b": None},
        ),
        (CONV_TRANSPOSE, tconv, {"x": a(1, 4, 3, 4), "w": a(4, 1, 3, 2), "b": None}),
        (
            CONV_TRANSPOSE,
            ConvTranspose(stride=(2,), dilation=(1,), padding="same", output_padding=(0,)),
            {"x": a(1, 2, 4), "w": a(2, 3, 3), "b": a(3)},
        ),
        (
            DEFORM_CONV,
            DeformConv(stride=(1, 1), dilation=(1, 1), padding=((1, 1), (1, 1))),
            {
                "x": a(1, 2, 4, 4),
                "offset": np.round(a(1, 18, 4, 4) * 8) / 4,
                "mask": a(1, 9, 4, 4),
                "w": a(3, 2, 3, 3),
                "b": a(3),
            },
        ),
        (
            DEFORM_CONV,
            DeformConv(stride=(2, 1), dilation=(1, 1), padding=((0, 1), (1, 0))),
            {
                "x": a(1, 2, 5, 4),
                "offset": a(1, 8, 3, 4),
                "mask": None,
                "w": a(2, 2, 2, 2),
                "b": None,
            },
        ),
    ]


@pytest.mark.parametrize("dtype", ["float32", "float16"])
def test_repro_source_runs_what_the_surface_runs(surfaces: dict[str, Adapter], dtype: str) -> None:
    for name, adapter in surfaces.items():
        for op, p, arrays in _repro_cases():
            source = adapter.repro_source(op, p, dtype)  # type: ignore[arg-type]
            assert source is not None and "convspec" not in source and "adapters" not in source
            namespace: dict[str, object] = {}
            exec(compile(source, f"<repro {name} {op}>", "exec"), namespace)
            typed = {k: None if v is None else v.astype(dtype) for k, v in arrays.items()}
            try:
                expected = getattr(adapter, op)(**typed, p=p).astype(np.float64)
            except Exception as exc:  # the runtime rejects it: so must the script
                with pytest.raises(type(exc)):
                    namespace["call"](**arrays)  # type: ignore[operator]
                continue
            got = namespace["call"](**arrays)  # type: ignore[operator]
            assert np.array_equal(got, expected), (name, op)


def test_repro_source_is_none_for_what_is_not_run(surfaces: dict[str, Adapter]) -> None:
    reflect = _conv(2, padding=((1, 1), (1, 1)), padding_mode="reflect")
    for adapter in surfaces.values():
        assert adapter.repro_source(CONV, reflect, "float32") is None
        assert adapter.repro_source("channel_shuffle", reflect, "float32") is None
