"""Self-tests of the TensorFlow / Keras adapter mechanics: surfaces, laziness, layouts, dtypes.

Conformance of the results is the suites' business; these tests pin what the
suites cannot see: that layouts and channel orders round-trip, that dtypes
come back unchanged, that declarations are well-formed, and that translation
helpers agree with the framework's own conventions.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from adapters.base import (
    CONV,
    CONV_TRANSPOSE,
    DEPTHWISE_CONV,
    DTYPES,
    OPERATIONS,
    PADDING_FORMS,
    SEPARABLE_CONV,
    Adapter,
    UnsupportedError,
)
from reference.numerics import numpy_dtype
from reference.params import Conv, ConvTranspose
from reference.sizes import conv_transpose_output_shape
from suites.support import padding_form

ROOT = Path(__file__).resolve().parent.parent
IN_PROCESS = ("tf.nn", "tf.nn.convolution", "tf.nn.atrous", "tf.nn.nchw", "tf.function", "keras")


def test_surface_names() -> None:
    from adapters import keras_backend, tf_backend

    assert {*tf_backend.SURFACES, *keras_backend.SURFACES} == {*IN_PROCESS, "tf.nn.onednn_off"}


def test_importing_the_module_imports_no_framework() -> None:
    code = (
        "import sys, adapters.tf_backend, adapters.keras_backend;"
        "print(sorted(m for m in ('tensorflow', 'keras') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"


pytest.importorskip("tensorflow")

from adapters import keras_backend, tf_backend, tf_common  # noqa: E402


@pytest.fixture(scope="module")
def surfaces() -> dict[str, Adapter]:
    """The surfaces, built in this process (tf.function without its child-process proxy)."""
    factories = {
        **tf_backend.SURFACES,
        **keras_backend.SURFACES,
        "tf.function": tf_backend.TfFunctionAdapter,
    }
    loaded: dict[str, Adapter] = {}
    for name in IN_PROCESS:
        try:
            loaded[name] = factories[name]()
        except ImportError:  # e.g. tf.nn.nchw with oneDNN off, keras missing
            continue
    return loaded


def test_crash_prone_surfaces_run_in_child_processes() -> None:
    for name in ("tf.function", "tf.nn.onednn_off"):
        factory = tf_backend.SURFACES[name]
        assert isinstance(factory, type) and issubclass(factory, tf_backend.ProxyAdapter)
        assert factory.name == name


def _get(surfaces: dict[str, Adapter], name: str) -> Adapter:
    if name not in surfaces:
        pytest.skip(f"{name} is unavailable here")
    return surfaces[name]


@pytest.mark.parametrize("name", IN_PROCESS)
def test_capabilities_are_well_formed(surfaces: dict[str, Adapter], name: str) -> None:
    adapter = _get(surfaces, name)
    caps = adapter.capabilities
    assert set(caps.ops) <= set(OPERATIONS)
    assert caps.gradients <= set(caps.ops)
    for support in caps.ops.values():
        assert support.ranks and support.ranks <= {1, 2, 3}
        assert support.dtypes and support.dtypes <= set(DTYPES)
        assert support.padding <= set(PADDING_FORMS)
        assert support.padding_modes == {"zeros"}  # tf.pad modes are a separate op
        assert "negative" not in support.padding
        assert "same_begin" not in support.padding
    assert adapter.version() and name in adapter.describe()


def _conv_params(rank: int, groups: int = 1) -> Conv:
    return Conv(stride=(1,) * rank, dilation=(1,) * rank, padding="valid", groups=groups)


LAYOUT_SURFACES = ["tf.nn", "tf.nn.convolution", "tf.nn.nchw", "tf.function", "keras"]


@pytest.mark.parametrize("name", LAYOUT_SURFACES)
@pytest.mark.parametrize("rank", [1, 2, 3])
def test_layout_round_trip_with_a_channel_permuting_kernel(
    surfaces: dict[str, Adapter], name: str, rank: int
) -> None:
    """A 1x1 kernel that maps input channel c to output channel (c+1) mod C returns x, rolled."""
    adapter = _get(surfaces, name)
    dtype = "float32"
    x = np.arange(2 * 3 * 4**rank, dtype=np.float32).reshape(2, 3, *(4,) * rank)
    w = np.zeros((3, 3, *(1,) * rank), dtype=np.float32)
    for c in range(3):
        w[(c + 1) % 3, c] = 1
    assert dtype in adapter.capabilities.ops[CONV].dtypes
    y = adapter.conv(x, w, None, _conv_params(rank))
    np.testing.assert_array_equal(y, np.roll(x, 1, axis=1))


@pytest.mark.parametrize("name", ["tf.nn", "tf.nn.nchw", "keras"])
def test_transposed_weight_layout(surfaces: dict[str, Adapter], name: str) -> None:
    """conv_transpose w is (C_in, C_out, *k): w[c, o] = 1 for o = (c+1) mod C gives a roll."""
    adapter = _get(surfaces, name)
    x = np.arange(2 * 3 * 4 * 5, dtype=np.float32).reshape(2, 3, 4, 5)
    w = np.zeros((3, 3, 1, 1), dtype=np.float32)
    for c in range(3):
        w[c, (c + 1) % 3] = 1
    p = ConvTranspose(stride=(1, 1), dilation=(1, 1), padding="valid", output_padding=(0, 0))
    np.testing.assert_array_equal(adapter.conv_transpose(x, w, None, p), np.roll(x, 1, axis=1))


@pytest.mark.parametrize("name", ["tf.nn", "tf.nn.nchw", "tf.function", "keras"])
def test_depthwise_channel_order(surfaces: dict[str, Adapter], name: str) -> None:
    """Output channel c*m + j reads input channel c with canonical weight row c*m + j."""
    adapter = _get(surfaces, name)
    c_in, m = 3, 2
    x = np.arange(1, 1 + 2 * c_in * 4 * 4, dtype=np.float32).reshape(2, c_in, 4, 4)
    scale = np.arange(1, 1 + c_in * m, dtype=np.float32)
    w = scale.reshape(c_in * m, 1, 1, 1)
    y = adapter.depthwise_conv(x, w, None, _conv_params(2, groups=c_in))
    expected = np.repeat(x, m, axis=1) * scale.reshape(1, -1, 1, 1)
    np.testing.assert_array_equal(y, expected)
    w_point = np.eye(c_in * m, dtype=np.float32).reshape(c_in * m, c_in * m, 1, 1)
    np.testing.assert_array_equal(
        adapter.separable_conv(x, w, w_point, None, _conv_params(2, groups=c_in)), expected
    )


@pytest.mark.parametrize("name", ["tf.nn", "tf.function", "keras"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_dtype_comes_back_unchanged(surfaces: dict[str, Adapter], name: str, dtype: str) -> None:
    adapter = _get(surfaces, name)
    facts = adapter.platform()
    if dtype in facts["tf_onednn_dtypes"] and dtype in facts["tf_eigen_dtypes"]:
        pytest.skip(
            f"known issue {'keras' if name == 'keras' else 'tf'}-onednn-capped-below-dtype: "
            f"TensorFlow hands {dtype} to oneDNN, which ONEDNN_MAX_CPU_ISA keeps from running it"
        )
    dt = numpy_dtype(dtype)
    x = np.arange(-6, 6, dtype=np.float64).reshape(1, 2, 6).astype(dt)
    w = np.ones((2, 2, 1), dtype=dt)
    y = adapter.conv(x, w, None, _conv_params(1))
    assert y.dtype == dt
    channel_sum = x.astype(np.float64).sum(1, keepdims=True)
    np.testing.assert_array_equal(y.astype(np.float64), np.repeat(channel_sum, 2, 1))


def test_vjp_returns_canonical_layout_and_dtype(surfaces: dict[str, Adapter]) -> None:
    adapter = _get(surfaces, "tf.nn")
    rng = np.random.default_rng(0)
    x = rng.integers(-3, 4, (2, 3, 5, 4)).astype(np.float32)
    w = rng.integers(-3, 4, (4, 3, 1, 1)).astype(np.float32)
    ct = rng.integers(-3, 4, (2, 4, 5, 4)).astype(np.float32)
    grads = adapter.vjp(CONV, {"x": x, "w": w, "b": None}, _conv_params(2), ct)
    assert set(grads) == {"x", "w"}
    # A 1x1 convolution is a matrix product over channels: dx = W^T ct, dW = ct x^T.
    np.testing.assert_array_equal(grads["x"], np.einsum("oc,nohw->nchw", w[:, :, 0, 0], ct))
    np.testing.assert_array_equal(grads["w"][:, :, 0, 0], np.einsum("nohw,nchw->oc", ct, x))
    assert grads["x"].dtype == grads["w"].dtype == np.float32


def test_groups_tf_would_infer_differently_are_unsupported(surfaces: dict[str, Adapter]) -> None:
    adapter = _get(surfaces, "tf.nn")
    x, w = np.ones((1, 4, 5, 5)), np.ones((4, 2, 1, 1))  # TF would infer groups = 4 / 2 = 2
    p = _conv_params(2, groups=1)
    assert adapter.limitation(CONV, p, {"x": x.shape, "w": w.shape, "b": None}, "float64")
    with pytest.raises(UnsupportedError, match="no groups argument"):
        adapter.conv(x, w, None, p)


def test_documented_limits_are_declared(surfaces: dict[str, Adapter]) -> None:
    adapter = _get(surfaces, "tf.nn")
    shapes = {"x": (1, 2, 5), "w": (2, 2, 2), "b": None}
    explicit = Conv(stride=(1,), dilation=(1,), padding=((1, 0),))
    assert "SAME" in (adapter.limitation(CONV, explicit, shapes, "float32") or "")
    dilated = ConvTranspose(stride=(1,), dilation=(2,), padding="valid", output_padding=(0,))
    assert adapter.limitation(CONV_TRANSPOSE, dilated, shapes, "float64")
    if tf_common.onednn_enabled():  # oneDNN runs it for float32 with string padding
        assert adapter.limitation(CONV_TRANSPOSE, dilated, shapes, "float32") is None


@pytest.mark.parametrize("k", [1, 2, 3, 4, 5])
@pytest.mark.parametrize("s", [1, 2, 3])
@pytest.mark.parametrize("d", [1, 2])
def test_keras_same_pads_give_keras_output_length(k: int, s: int, d: int) -> None:
    """TCONV.3 with _keras_same_pads gives Keras's length (n-1)*s + k_eff % 2 + output_padding."""
    from keras.src.backend.common.backend_utils import compute_conv_transpose_output_shape

    for op in range(s):
        for n in (1, 2, 5):
            pads = (keras_backend._keras_same_pads(k, d, op),)
            p = ConvTranspose(stride=(s,), dilation=(d,), padding=pads, output_padding=(op,))
            ours = conv_transpose_output_shape((1, 1, n), (1, 1, k), p)[2]
            keras_shape = compute_conv_transpose_output_shape(
                (1, n, 1), (k,), 1, s, "same", op, "channels_last", d
            )
            assert ours == keras_shape[1]
            # With a 1-tap kernel, 'same' and 'valid' place the output alike.
            mode = "valid" if pads == ((0, 0),) else "same"
            assert keras_backend._keras_transpose_padding(p, (k,)) == (mode, (op,))


def test_keras_explicit_pads_outside_its_geometry_are_limited(surfaces: dict[str, Adapter]) -> None:
    adapter = _get(surfaces, "keras")
    p = ConvTranspose(stride=(2,), dilation=(1,), padding=((2, 0),), output_padding=(1,))
    assert adapter.limitation(CONV_TRANSPOSE, p, {"x": (1, 1, 3), "w": (1, 1, 3)}, "float32")
    valid = ConvTranspose(stride=(2,), dilation=(1,), padding=((0, 0),), output_padding=(1,))
    assert keras_backend._keras_transpose_padding(valid, (3,)) == ("valid", (1,))


def test_tf_function_reuses_its_traced_functions(surfaces: dict[str, Adapter]) -> None:
    adapter = _get(surfaces, "tf.function")
    assert isinstance(adapter, tf_backend.TfFunctionAdapter)
    x, w = np.ones((1, 2, 5), np.float32), np.ones((3, 2, 2), np.float32)
    adapter.conv(x, w, None, _conv_params(1))
    count = len(adapter._graphs)
    adapter.conv(x * 2, w, None, _conv_params(1))
    assert len(adapter._graphs) == count
    assert "graph mode" in adapter.describe()


def test_onednn_off_runs_in_a_child_without_onednn() -> None:
    adapter = tf_backend.SURFACES["tf.nn.onednn_off"]()
    try:
        assert adapter.name == "tf.nn.onednn_off" and adapter.framework == "tensorflow"
        assert "oneDNN off" in adapter.describe()
        assert set(adapter.capabilities.ops) == {
            CONV,
            CONV_TRANSPOSE,
            DEPTHWISE_CONV,
            SEPARABLE_CONV,
        }
        # With oneDNN off, float32 transposed convolutions meet Eigen's dilation limit.
        dilated = ConvTranspose(stride=(1,), dilation=(2,), padding="valid", output_padding=(0,))
        shapes = {"x": (1, 2, 5), "w": (2, 2, 2), "b": None}
        assert adapter.limitation(CONV_TRANSPOSE, dilated, shapes, "float32")
        x = np.arange(10, dtype=np.float32).reshape(1, 2, 5)
        y = adapter.conv(x, np.ones((1, 2, 1), np.float32), None, _conv_params(1))
        np.testing.assert_array_equal(y, x.sum(1, keepdims=True))
    finally:
        assert isinstance(adapter, tf_backend.ProxyAdapter)
        adapter.close()


def _repro_cases() -> list[tuple[str, str, object, dict[str, np.ndarray | None]]]:
    rng = np.random.default_rng(0)

    def a(*shape: int) -> np.ndarray:
        return rng.uniform(-1, 1, shape)

    def tconv(padding: object, output_padding: tuple[int, int]) -> ConvTranspose:
        return ConvTranspose(
            stride=(2, 1),
            dilation=(1, 1),
            padding=padding,  # type: ignore[arg-type]
            output_padding=output_padding,
        )

    same = Conv(stride=(1, 1), dilation=(2, 2), padding="same")
    depthwise = Conv(stride=(2, 2), dilation=(1, 1), padding="same", groups=2)
    return [
        (
            "conv",
            "float32",
            Conv(stride=(2, 1), dilation=(1, 1), padding=((1, 0), (0, 2))),
            {"x": a(1, 4, 5, 6), "w": a(2, 4, 3, 2), "b": a(2)},
        ),
        ("conv", "float64", same, {"x": a(1, 2, 5, 6), "w": a(3, 2, 2, 2), "b": None}),
        (
            "conv_transpose",
            "float32",
            tconv("same", (0, 0)),
            {"x": a(1, 4, 3, 4), "w": a(4, 3, 3, 2), "b": a(3)},
        ),
        (
            "conv_transpose",
            "float64",
            tconv(((1, 1), (0, 1)), (1, 0)),
            {"x": a(1, 4, 3, 4), "w": a(4, 3, 3, 2), "b": None},
        ),
        (
            "depthwise_conv",
            "float32",
            depthwise,
            {"x": a(1, 2, 5, 6), "w": a(4, 1, 3, 2), "b": a(4)},
        ),
        (
            "separable_conv",
            "float32",
            depthwise,
            {"x": a(1, 2, 5, 6), "w_depth": a(4, 1, 3, 2), "w_point": a(3, 4, 1, 1), "b": a(3)},
        ),
    ]


@pytest.mark.parametrize("name", IN_PROCESS)
def test_repro_source_calls_what_the_surface_calls(surfaces: dict[str, Adapter], name: str) -> None:
    adapter = _get(surfaces, name)
    checked = 0
    for op, dtype, p, arrays in _repro_cases():
        shapes = {k: None if v is None else v.shape for k, v in arrays.items()}
        support = adapter.support(op)
        if support is None or dtype not in support.dtypes:
            continue
        if adapter.limitation(op, p, shapes, dtype):  # type: ignore[arg-type]
            continue
        if padding_form(p) not in support.padding:  # type: ignore[arg-type]
            continue  # never drawn for this surface (keras has no explicit conv pads)
        source = adapter.repro_source(op, p, dtype)  # type: ignore[arg-type]
        assert source is not None
        assert "convspec" not in source and "adapters" not in source
        namespace: dict[str, object] = {}
        exec(compile(source, f"<repro {name} {op}>", "exec"), namespace)
        typed = {k: None if v is None else v.astype(dtype) for k, v in arrays.items()}
        try:
            expected = getattr(adapter, op)(**typed, p=p).astype(np.float64)
        except Exception as exc:  # e.g. explicit pads on tf.nn.convolution
            with pytest.raises(type(exc)):
                namespace["call"](**arrays)  # type: ignore[operator]
            continue
        got = namespace["call"](**arrays)  # type: ignore[operator]
        assert np.array_equal(got, expected), (name, op)
        checked += 1
    assert checked >= 1
    if name == "tf.function":
        assert "tf.function(_forward" in source  # type: ignore[operator]


def test_repro_source_of_onednn_off_turns_onednn_off_before_import() -> None:
    adapter = tf_backend.SURFACES["tf.nn.onednn_off"]()
    try:
        p = Conv(stride=(1,), dilation=(1,), padding="valid")
        source = adapter.repro_source(CONV, p, "float32")
        assert source is not None
        assert source.index('os.environ["TF_ENABLE_ONEDNN_OPTS"] = "0"') < source.index(
            "import tensorflow"
        )
    finally:
        assert isinstance(adapter, tf_backend.ProxyAdapter)
        adapter.close()
