"""Self-tests of the PyTorch adapter's mechanics (not of PyTorch: the suites do that).

Surface names, lazy import, exact dtype conversion, the operand layouts each surface
promises, the execution-mode switch, parameter translation and what it refuses.
"""

from __future__ import annotations

import subprocess
import sys
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

pytestmark = pytest.mark.selftest

REPO = Path(__file__).resolve().parents[1]
# The in-process adapter of every CPU surface (torch.channels_last runs one in a child).
IN_PROCESS = {
    "torch": torch_backend.TorchAdapter,
    "torch.module": torch_backend.TorchModuleAdapter,
    "torch.channels_last": torch_backend.TorchChannelsLastAdapter,
    "torch.noncontig": torch_backend.TorchNonContiguousAdapter,
    "torch.mkldnn_off": torch_backend.TorchMkldnnOffAdapter,
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
        "torch.cuda",
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


def test_repro_source_is_none_for_what_cannot_be_expressed() -> None:
    asymmetric = _conv(((1, 2),))
    assert torch_backend.TorchAdapter().repro_source("conv", asymmetric, "float32") is None
    shuffle = ChannelShuffle(groups=2)
    assert (
        torch_backend.TorchMkldnnOffAdapter().repro_source("channel_shuffle", shuffle, "float32")
        is None
    )
