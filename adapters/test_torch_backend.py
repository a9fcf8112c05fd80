"""Self-tests of the PyTorch adapter's mechanics (not of PyTorch: the suites do that).

Surface names, lazy import, exact dtype conversion, the operand layouts each surface
promises, the execution-mode switch, parameter translation and what it refuses.
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import ml_dtypes
import numpy as np
import pytest

torch = pytest.importorskip("torch")

from adapters import torch_backend  # noqa: E402
from adapters.base import (  # noqa: E402
    DTYPES,
    OPERATIONS,
    PADDING_FORMS,
    PADDING_MODES,
    Adapter,
    UnsupportedError,
)
from adapters.subprocess_proxy import ProxyAdapter  # noqa: E402
from reference.numerics import numpy_dtype  # noqa: E402
from reference.params import ChannelShuffle, Conv, ConvTranspose, DeformConv  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
# The in-process adapter of every CPU surface (torch.channels_last and torch.compile run
# one in a child).
IN_PROCESS = {
    "torch": torch_backend.TorchAdapter,
    "torch.module": torch_backend.TorchModuleAdapter,
    "torch.channels_last": torch_backend.TorchChannelsLastAdapter,
    "torch.noncontig": torch_backend.TorchNonContiguousAdapter,
    "torch.mkldnn_off": torch_backend.TorchMkldnnOffAdapter,
    "torch.compile": torch_backend.TorchCompileAdapter,
}


def _conv(padding: object = ((1, 1),), mode: str = "zeros", split: str = "end") -> Conv:
    return Conv(
        stride=(1,),
        dilation=(1,),
        padding=padding,  # type: ignore[arg-type]
        padding_mode=mode,  # type: ignore[arg-type]
        same_split=split,  # type: ignore[arg-type]
    )


def test_surface_names() -> None:
    assert list(torch_backend.SURFACES) == [
        "torch",
        "torch.module",
        "torch.channels_last",
        "torch.noncontig",
        "torch.mkldnn_off",
        "torch.meta",
        "torch.cuda",
        "torch.compile",
        "torch.compile.dynamic",
    ]


def test_importing_the_module_does_not_import_torch() -> None:
    code = "import sys, adapters.torch_backend; print('torch' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "False"


def test_channels_last_runs_in_a_child_process() -> None:
    factory = torch_backend.SURFACES["torch.channels_last"]
    assert isinstance(factory, type) and issubclass(factory, ProxyAdapter)
    assert factory.name == "torch.channels_last" and factory.framework == "torch"
    assert factory is not torch_backend.TorchChannelsLastAdapter


def test_compile_runs_in_a_child_process_and_is_opt_in() -> None:
    # Seconds of compilation per new shape: a plain run leaves it out, --backend names it.
    factory = torch_backend.SURFACES["torch.compile"]
    assert isinstance(factory, type) and issubclass(factory, ProxyAdapter)
    assert factory.name == "torch.compile" and factory.framework == "torch"
    assert factory.opt_in
    assert not getattr(torch_backend.SURFACES["torch"], "opt_in", False)


@pytest.mark.parametrize("name", list(IN_PROCESS))
def test_capabilities_are_well_formed(name: str) -> None:
    adapter = IN_PROCESS[name]()
    assert isinstance(adapter, Adapter)
    assert adapter.name == name
    assert adapter.framework == "torch"
    assert adapter.device == "cpu"
    caps = adapter.capabilities
    assert set(caps.ops) <= set(OPERATIONS)
    assert caps.gradients <= set(caps.ops)
    for support in caps.ops.values():
        assert support.ranks and support.ranks <= {1, 2, 3}
        assert support.dtypes and support.dtypes <= set(DTYPES)
        assert support.padding <= set(PADDING_FORMS)
        assert support.padding_modes <= set(PADDING_MODES)
    assert name in adapter.describe() and adapter.version() == torch.__version__


@pytest.mark.skipif(torch.cuda.is_available(), reason="a CUDA device is present")
def test_cuda_surface_is_unavailable_without_a_device() -> None:
    with pytest.raises(ImportError, match="CUDA not available"):
        torch_backend.SURFACES["torch.cuda"]()


@pytest.mark.clauses("LAYOUT.1")
@pytest.mark.parametrize("dtype", DTYPES)
def test_dtype_round_trip_is_exact(dtype: str) -> None:
    # A value using the whole significand, the smallest normal, the largest finite, -0.
    finfo = ml_dtypes.finfo(numpy_dtype(dtype))
    values = [[1 / 3, -2.5], [float(finfo.tiny), float(finfo.max)], [-0.0, 7.0]]
    a = np.array(values).astype(numpy_dtype(dtype))
    t = torch_backend._tensor(a, "cpu")
    assert str(t.dtype) == f"torch.{dtype}"
    back = torch_backend._array(t)
    assert back.dtype == a.dtype
    assert back.shape == a.shape
    assert np.array_equal(back.view(np.uint8), a.view(np.uint8))  # bit for bit


def test_tensor_does_not_alias_the_array() -> None:
    a = np.zeros(3)
    torch_backend._tensor(a, "cpu").add_(1)
    assert not a.any()


def test_channels_last_operands() -> None:
    adapter = torch_backend.TorchChannelsLastAdapter()
    t4, t5 = torch.randn(1, 3, 4, 5), torch.randn(1, 3, 2, 4, 5)
    assert adapter._operand(t4).is_contiguous(memory_format=torch.channels_last)
    assert adapter._operand(t5).is_contiguous(memory_format=torch.channels_last_3d)
    assert torch.equal(adapter._operand(t4), t4)


@pytest.mark.parametrize("shape", [(2, 3, 5), (1, 2, 3, 4), (2, 1, 2, 2, 3)])
def test_noncontiguous_operands_keep_their_values(shape: tuple[int, ...]) -> None:
    adapter = torch_backend.TorchNonContiguousAdapter()
    t = torch.randn(shape)
    view = adapter._operand(t)
    assert not view.is_contiguous()
    assert view.shape == t.shape and torch.equal(view, t)


def test_mkldnn_off_switches_only_onednn_enabled() -> None:
    adapter = torch_backend.TorchMkldnnOffAdapter()
    before = (
        torch.backends.mkldnn.enabled,
        torch._C._get_onednn_allow_tf32(),
        torch.backends.mkldnn.conv.fp32_precision,
    )
    with adapter._mode():
        assert not torch.backends.mkldnn.enabled
        assert torch._C._get_onednn_allow_tf32() == before[1]
        assert torch.backends.mkldnn.conv.fp32_precision == before[2]
    after = (
        torch.backends.mkldnn.enabled,
        torch._C._get_onednn_allow_tf32(),
        torch.backends.mkldnn.conv.fp32_precision,
    )
    assert after == before


@pytest.mark.parametrize(
    "p",
    [
        _conv(((1, 2),)),  # asymmetric
        _conv("same", split="begin"),  # odd pixel at the begin
        _conv(((1, 1),), mode="reflect"),  # functional API pads with zeros only
    ],
    ids=["asymmetric", "same_begin", "reflect"],
)
def test_functional_refuses_what_it_cannot_express(p: Conv) -> None:
    x, w = np.ones((1, 1, 5)), np.ones((1, 1, 3))
    with pytest.raises(UnsupportedError):
        torch_backend.TorchAdapter().conv(x, w, None, p)


def test_symmetric_negative_padding_reaches_torch() -> None:
    # Passed through unchanged, so that torch's own check is what rejects it.
    x, w = np.ones((1, 1, 5)), np.ones((1, 1, 3))
    with pytest.raises(RuntimeError, match="negative padding"):
        torch_backend.TorchAdapter().conv(x, w, None, _conv(((-1, -1),)))


@pytest.mark.parametrize("bad", ["weight", "bias"])
def test_module_does_not_broadcast_mismatched_parameters(bad: str) -> None:
    # C_in = 2 needs a weight (C_out, 2, k); copying (C_out, 1, k) or a bias of shape (1,)
    # into the module's parameters would broadcast silently. torch must see the arrays.
    x = np.ones((1, 2, 5))
    w = np.ones((2, 1 if bad == "weight" else 2, 3))
    b = np.ones(1 if bad == "bias" else 2)
    with pytest.raises(RuntimeError):
        torch_backend.TorchModuleAdapter().conv(x, w, b, _conv())


def test_deform_groups_come_from_the_shapes() -> None:
    adapter = torch_backend.TorchAdapter()
    p = DeformConv(stride=(1, 1), dilation=(1, 1), padding=((0, 0), (0, 0)), groups=3)
    # C_in = 4 with groups=3: the weight (C_out, 4 // 3 = 1, ...) tells torchvision groups=4.
    shapes = {"x": (1, 4, 5, 5), "w": (3, 1, 3, 3), "offset": (1, 18, 3, 3)}
    reason = adapter.limitation("deform_conv", p, shapes, "float32")
    assert reason is not None and "groups" in reason
    ok = DeformConv(stride=(1, 1), dilation=(1, 1), padding=((0, 0), (0, 0)), groups=4)
    assert adapter.limitation("deform_conv", ok, shapes, "float32") is None


def test_undeclared_operation_is_unsupported() -> None:
    adapter = torch_backend.TorchModuleAdapter()
    assert adapter.support("deform_conv") is None
    x = np.ones((1, 1, 3, 3))
    p = DeformConv(stride=(1, 1), dilation=(1, 1), padding=((0, 0), (0, 0)))
    with pytest.raises(UnsupportedError):
        adapter.deform_conv(x, np.zeros((1, 2, 3, 3)), None, np.ones((1, 1, 1, 1)), None, p)


@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
def test_vjp_returns_every_gradient_in_the_input_dtype(dtype: str) -> None:
    dt = numpy_dtype(dtype)
    x, w, b = np.ones((1, 2, 4), dt), np.ones((3, 2, 2), dt), np.ones(3, dt)
    p = ConvTranspose(stride=(2,), dilation=(1,), padding=((0, 0),), output_padding=(1,))
    adapter = torch_backend.TorchAdapter()
    y = adapter.conv_transpose(x, w.reshape(2, 3, 2), b, p)
    grads = adapter.vjp(
        "conv_transpose", {"x": x, "w": w.reshape(2, 3, 2), "b": b}, p, np.ones_like(y)
    )
    assert set(grads) == {"x", "w", "b"}
    assert all(g.dtype == dt for g in grads.values())
    assert grads["x"].shape == x.shape and grads["w"].shape == (2, 3, 2)
    assert grads["b"].shape == b.shape


def _repro_cases() -> list[tuple[str, str, object, dict[str, np.ndarray | None]]]:
    rng = np.random.default_rng(0)

    def a(*shape: int) -> np.ndarray:
        return rng.uniform(-1, 1, shape)

    conv = Conv(stride=(2, 1), dilation=(1, 2), padding=((1, 1), (0, 0)), groups=2)
    tconv = ConvTranspose(
        stride=(2, 1), dilation=(1, 2), padding=((1, 1), (0, 0)), output_padding=(1, 1), groups=2
    )
    deform = DeformConv(stride=(1, 1), dilation=(1, 1), padding=((1, 1), (1, 1)))
    return [
        ("conv", "float32", conv, {"x": a(1, 4, 5, 6), "w": a(2, 2, 3, 2), "b": a(2)}),
        ("conv_transpose", "float64", tconv, {"x": a(1, 4, 3, 4), "w": a(4, 1, 3, 2), "b": None}),
        (
            "deform_conv",
            "float64",
            deform,
            {
                "x": a(1, 2, 4, 4),
                "offset": np.round(a(1, 18, 4, 4) * 8) / 4,
                "mask": a(1, 9, 4, 4),
                "w": a(3, 2, 3, 3),
                "b": a(3),
            },
        ),
        ("channel_shuffle", "float32", ChannelShuffle(groups=2), {"x": a(1, 4, 2, 3)}),
    ]


@pytest.mark.parametrize("name", list(IN_PROCESS))
def test_repro_source_calls_what_the_surface_calls(name: str) -> None:
    adapter = IN_PROCESS[name]()
    for op, dtype, p, arrays in _repro_cases():
        if adapter.support(op) is None:
            continue
        source = adapter.repro_source(op, p, dtype)  # type: ignore[arg-type]
        assert source is not None and "convspec" not in source and "adapters" not in source
        namespace: dict[str, object] = {}
        exec(compile(source, f"<repro {name} {op}>", "exec"), namespace)
        got = namespace["call"](**arrays)  # type: ignore[operator]
        typed = {k: None if v is None else v.astype(dtype) for k, v in arrays.items()}
        expected = getattr(adapter, op)(**typed, p=p).astype(np.float64)
        assert np.array_equal(got, expected), (name, op)


def test_meta_returns_nan_of_the_computed_shape_and_dtype_and_so_does_its_repro() -> None:
    meta, eager = torch_backend.TorchMetaAdapter(), torch_backend.TorchAdapter()
    assert meta.capabilities.values is False and eager.capabilities.values is True
    for op, dtype, p, arrays in _repro_cases():
        typed = {k: None if v is None else v.astype(numpy_dtype(dtype)) for k, v in arrays.items()}
        want = getattr(eager, op)(**typed, p=p)
        got = getattr(meta, op)(**typed, p=p)
        assert (got.shape, got.dtype) == (want.shape, want.dtype), op
        assert np.isnan(got.astype(np.float64)).all(), f"{op}: meta values must be NaN"
        source = meta.repro_source(op, p, dtype)  # type: ignore[arg-type]
        assert source is not None
        namespace: dict[str, object] = {}
        exec(compile(source, f"<repro torch.meta {op}>", "exec"), namespace)
        assert namespace["call"](**arrays).shape == want.shape, op  # type: ignore[operator]


def test_meta_gradients_have_the_operands_shapes_and_dtypes() -> None:
    dt = numpy_dtype("bfloat16")
    x, w = np.ones((1, 2, 4), dt), np.ones((3, 2, 2), dt)
    p = Conv(stride=(2,), dilation=(1,), padding=((1, 1),))
    adapter = torch_backend.TorchMetaAdapter()
    y = adapter.conv(x, w, None, p)
    grads = adapter.vjp("conv", {"x": x, "w": w, "b": None}, p, np.ones(y.shape, dt))
    assert {k: (g.shape, g.dtype) for k, g in grads.items()} == {
        "x": (x.shape, dt),
        "w": (w.shape, dt),
    }


def test_repro_source_is_none_for_what_cannot_be_expressed() -> None:
    asymmetric = _conv(((1, 2),))
    assert torch_backend.TorchAdapter().repro_source("conv", asymmetric, "float32") is None
    shuffle = ChannelShuffle(groups=2)
    assert (
        torch_backend.TorchMkldnnOffAdapter().repro_source("channel_shuffle", shuffle, "float32")
        is None
    )


def test_compile_is_unavailable_without_a_cxx_compiler(monkeypatch: pytest.MonkeyPatch) -> None:
    # Inductor compiles C++ on the CPU: with no compiler the surface is unavailable (an
    # ImportError from its factory), found before a child process is started.
    monkeypatch.setenv("CXX", "/nonexistent/c++")
    with pytest.raises(ImportError, match="C\\+\\+ compiler"):
        torch_backend.SURFACES["torch.compile"]()


# --- torch.compile ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def compiled() -> torch_backend.TorchCompileAdapter:
    """One adapter for the tests below, so that they share its compiled callables."""
    return torch_backend.TorchCompileAdapter()


def test_compile_declares_what_the_torch_surface_declares(
    compiled: torch_backend.TorchCompileAdapter,
) -> None:
    eager = torch_backend.TorchAdapter()
    # The same declarations, less the counters (COST.18), which are the torch surface's.
    counters = {"parameter_counts", "flop_counts", "gradient_flop_counts"}
    assert compiled.capabilities == replace(
        eager.capabilities, **dict.fromkeys(counters, frozenset())
    )
    assert compiled.platform().items() >= eager.platform().items()
    assert compiled.platform()["inductor_vec_isa"]
    assert "backend='inductor', dynamic=False, fullgraph=True" in compiled.describe()


def _graphs() -> int:
    """Graphs TorchDynamo has handed to its backend in this process."""
    return int(torch._dynamo.utils.counters["stats"]["unique_graphs"])


def test_compile_compiles_once_per_parameter_set_and_shape(
    compiled: torch_backend.TorchCompileAdapter,
) -> None:
    # Small integers: every summation order is exact, so compiled equals eager bit for bit.
    rng = np.random.default_rng(1)
    p = Conv(stride=(2,), dilation=(1,), padding=((1, 1),), groups=1)
    q = replace(p, stride=(1,))
    x, w, b = (rng.integers(-3, 4, s).astype(np.float32) for s in ((2, 3, 9), (4, 3, 3), (4,)))
    eager = torch_backend.TorchAdapter()
    callables, graphs = compiled.compilations, _graphs()
    first = compiled.conv(x, w, b, p)
    assert (compiled.compilations, _graphs()) == (callables + 1, graphs + 1)
    again = compiled.conv(x + 1, w, b, p)  # same parameters, shapes and dtypes: no new graph
    assert (compiled.compilations, _graphs()) == (callables + 1, graphs + 1)
    compiled.conv(x[:1], w, b, p)  # a new shape: a new graph of the same callable (dynamic=False)
    assert (compiled.compilations, _graphs()) == (callables + 1, graphs + 2)
    compiled.conv(x, w, b, q)  # a new parameter set: a new callable
    assert (compiled.compilations, _graphs()) == (callables + 2, graphs + 3)
    assert np.array_equal(first, eager.conv(x, w, b, p))
    assert np.array_equal(again, eager.conv(x + 1, w, b, p))


def test_compile_parameter_sets_have_their_own_code_objects(
    compiled: torch_backend.TorchCompileAdapter,
) -> None:
    # TorchDynamo counts recompilations per code object: shared code would let one
    # parameter set's shapes exhaust the recompile limit of every other one.
    p = Conv(stride=(1,), dilation=(1,), padding=((0, 0),))
    f = compiled._callable("conv", p)
    g = compiled._callable("conv", replace(p, dilation=(2,)))
    assert f is compiled._callable("conv", p)
    assert f._torchdynamo_orig_callable.__code__ is not g._torchdynamo_orig_callable.__code__  # type: ignore[attr-defined]


def test_compile_mode_lifts_the_recompile_caps(
    compiled: torch_backend.TorchCompileAdapter,
) -> None:
    # Hypothesis shrinking calls one parameter set with hundreds of shapes: past TorchDynamo's
    # caps (recompile_limit 8, accumulated_recompile_limit 256 per code object) fullgraph=True
    # would raise FailOnRecompileLimitHit on a valid call.
    limit = torch_backend._COMPILE_RECOMPILE_LIMIT
    assert limit > 10_000
    before = torch._dynamo.config.accumulated_recompile_limit
    with compiled._mode():
        assert torch._dynamo.config.accumulated_recompile_limit == limit
    assert torch._dynamo.config.accumulated_recompile_limit == before
    assert f"recompile_limit={limit}" in compiled.describe()


def test_compile_vjp_matches_eager(compiled: torch_backend.TorchCompileAdapter) -> None:
    rng = np.random.default_rng(2)
    p = ConvTranspose(stride=(2,), dilation=(1,), padding=((0, 0),), output_padding=(1,))
    arrays = {
        k: rng.integers(-3, 4, s).astype(np.float32)
        for k, s in (("x", (1, 2, 4)), ("w", (2, 3, 2)), ("b", (3,)))
    }
    y = compiled.conv_transpose(arrays["x"], arrays["w"], arrays["b"], p)
    cotangent = np.ones_like(y)
    got = compiled.vjp("conv_transpose", arrays, p, cotangent)
    want = torch_backend.TorchAdapter().vjp("conv_transpose", arrays, p, cotangent)
    assert set(got) == set(want)
    assert all(np.array_equal(got[k], want[k]) for k in want)


def test_compile_passes_invalid_configurations_to_torch(
    compiled: torch_backend.TorchCompileAdapter,
) -> None:
    # Negative padding reaches the compiled call; tracing it with fake tensors raises
    # (torch._dynamo.exc.TorchRuntimeError, a RuntimeError) as eager torch does.
    x, w = np.ones((1, 1, 5), np.float32), np.ones((1, 1, 3), np.float32)
    with pytest.raises(RuntimeError, match="negative padding"):
        compiled.conv(x, w, None, _conv(((-1, -1),)))
    with pytest.raises(UnsupportedError):
        compiled.conv(x, w, None, _conv(((1, 2),)))  # asymmetric: as on torch


def test_compile_repro_calls_torch_compile_the_same_way(
    compiled: torch_backend.TorchCompileAdapter,
) -> None:
    p = Conv(stride=(1, 2), dilation=(1, 1), padding="same", groups=1)
    source = compiled.repro_source("conv", p, "float32")
    assert source is not None
    call = torch_backend.TorchAdapter()._repro_call("conv", p)
    assert torch_backend._compiled_function_source(call) in source
    assert (
        "compiled = torch.compile(_forward, backend='inductor', dynamic=False, "
        "fullgraph=True, recompile_limit=100000)"
    ) in source
    assert "with torch.no_grad():" in source
