"""Self-tests of the JAX adapter's mechanics: surfaces, lazy import, layouts, dtypes, padding map.

Conformance of the results is the suites' business; these tests pin what only
the adapter decides (argument mapping, conversions, declarations).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("jax")

from adapters import jax_backend
from adapters.base import (
    CONV,
    CONV_TRANSPOSE,
    DTYPES,
    OPERATIONS,
    PADDING_FORMS,
    UnsupportedError,
)
from reference.conv import conv_fast
from reference.numerics import exact_value_range, numpy_dtype
from reference.params import Conv, ConvTranspose
from reference.transposed import conv_transpose_fast, jax_lhs_padding

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def adapters() -> dict[str, jax_backend.JaxAdapter]:
    return {name: factory() for name, factory in jax_backend.SURFACES.items()}  # type: ignore[misc]


def _conv_params(rank: int, **kw: object) -> Conv:
    base: dict[str, object] = {
        "stride": (1,) * rank,
        "dilation": (1,) * rank,
        "padding": tuple((0, 0) for _ in range(rank)),
    }
    base.update(kw)
    return Conv(**base)  # type: ignore[arg-type]


def test_surfaces() -> None:
    assert set(jax_backend.SURFACES) == {"jax", "jax.jit", "jax.lhs_dilation"}


def test_module_import_does_not_import_jax() -> None:
    code = (
        "import sys; import adapters.jax_backend; "
        "assert 'jax' not in sys.modules, 'jax imported at module import'"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)


def test_factory_enables_x64(adapters: dict[str, jax_backend.JaxAdapter]) -> None:
    import jax

    assert jax.config.read("jax_enable_x64")
    x = np.ones((1, 1, 3))
    y = adapters["jax"].conv(x, np.ones((1, 1, 2)), None, _conv_params(1))
    assert y.dtype == np.float64


def test_capabilities_well_formed(adapters: dict[str, jax_backend.JaxAdapter]) -> None:
    for adapter in adapters.values():
        caps = adapter.capabilities
        assert set(caps.ops) <= set(OPERATIONS)
        assert caps.gradients <= set(caps.ops)
        for support in caps.ops.values():
            assert support.dtypes <= set(DTYPES)
            assert support.padding <= set(PADDING_FORMS)
            assert not support.bias  # lax has no bias argument
    assert not adapters["jax"].capabilities.ops[CONV_TRANSPOSE].groups
    assert adapters["jax.lhs_dilation"].capabilities.ops[CONV_TRANSPOSE].groups
    assert set(adapters["jax.lhs_dilation"].capabilities.ops) == {CONV_TRANSPOSE}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ["jax", "jax.jit"])
def test_dtype_round_trip(
    adapters: dict[str, jax_backend.JaxAdapter], name: str, dtype: str
) -> None:
    dt = numpy_dtype(dtype)
    x = np.arange(6, dtype=np.float64).reshape(1, 2, 3).astype(dt)
    w = np.ones((2, 2, 1)).astype(dt)
    y = adapters[name].conv(x, w, None, _conv_params(1))
    assert y.dtype == dt
    t = adapters[name].conv_transpose(x, w, None, ConvTranspose((1,), (1,), ((0, 0),), (0,)))
    assert t.dtype == dt


@pytest.mark.parametrize("rank", [1, 2, 3])
def test_layout_channel_permutation(adapters: dict[str, jax_backend.JaxAdapter], rank: int) -> None:
    """A 1x1 kernel that permutes channels returns x permuted: N, C and spatial axes stay put."""
    rng = np.random.default_rng(rank)
    x = rng.standard_normal((2, 3, *range(2, 2 + rank)))
    perm = [2, 0, 1]
    w = np.zeros((3, 3, *([1] * rank)))
    for out, src in enumerate(perm):
        w[(out, src, *([0] * rank))] = 1.0
    y = adapters["jax"].conv(x, w, None, _conv_params(rank))
    np.testing.assert_array_equal(y, x[:, perm])


def test_conv_padding_strings() -> None:
    assert jax_backend._conv_padding(_conv_params(1, padding="valid")) == "VALID"
    assert jax_backend._conv_padding(_conv_params(1, padding="same")) == "SAME"
    assert (
        jax_backend._conv_padding(_conv_params(1, padding="same", same_split="begin"))
        == "SAME_LOWER"
    )
    assert jax_backend._conv_padding(_conv_params(2, padding=((-1, 2), (0, 3)))) == [
        (-1, 2),
        (0, 3),
    ]


def test_transposed_padding_map_is_tconv17() -> None:
    p = ConvTranspose((2, 3), (1, 2), ((1, 0), (2, 1)), (1, 2))
    kernel = (3, 2)
    assert jax_backend._transposed_input_padding(p, kernel) == list(
        jax_lhs_padding(kernel, p.dilation, p.padding, p.output_padding)  # type: ignore[arg-type]
    )


def test_bias_is_rejected(adapters: dict[str, jax_backend.JaxAdapter]) -> None:
    with pytest.raises(UnsupportedError):
        adapters["jax"].conv(np.ones((1, 1, 2)), np.ones((1, 1, 1)), np.ones(1), _conv_params(1))


@pytest.mark.parametrize("name", ["jax", "jax.lhs_dilation"])
def test_transposed_weight_layout(adapters: dict[str, jax_backend.JaxAdapter], name: str) -> None:
    """Canonical (C_in, C_out/g, *k) weight, unflipped: one input sample writes w[c, o, :]."""
    x = np.zeros((1, 2, 1))
    x[0, 1, 0] = 1.0
    w = np.arange(2 * 3 * 2, dtype=np.float64).reshape(2, 3, 2)
    y = adapters[name].conv_transpose(x, w, None, ConvTranspose((1,), (1,), ((0, 0),), (0,)))
    np.testing.assert_array_equal(y[0], w[1])


def test_grouped_lhs_dilation_weight_regrouping(
    adapters: dict[str, jax_backend.JaxAdapter],
) -> None:
    rng = np.random.default_rng(7)
    x = rng.integers(-3, 4, (1, 4, 3)).astype(np.float64)
    w = rng.integers(-3, 4, (4, 3, 2)).astype(np.float64)
    p = ConvTranspose((2,), (1,), ((1, 0),), (1,), groups=2)
    y = adapters["jax.lhs_dilation"].conv_transpose(x, w, None, p)
    np.testing.assert_array_equal(y, conv_transpose_fast(x, w, None, p))


@pytest.mark.parametrize("name", ["jax", "jax.jit"])
def test_exact_integer_sums(adapters: dict[str, jax_backend.JaxAdapter], name: str) -> None:
    """The `exact` declaration: integer float32 inputs of NUM.5 range give the exact sums."""
    w_shape = (8, 16, 3, 3)
    m = exact_value_range(int(np.prod(w_shape[1:])), "float32")
    rng = np.random.default_rng(3)
    x = rng.integers(-m, m + 1, (1, 16, 9, 9)).astype(np.float32)
    w = rng.integers(-m, m + 1, w_shape).astype(np.float32)
    p = _conv_params(2, padding="same")
    y = adapters[name].conv(x, w, None, p)
    np.testing.assert_array_equal(y.astype(np.float64), conv_fast(x, w, None, p))


@pytest.mark.parametrize("name", ["jax", "jax.jit"])
def test_vjp_keys_and_dtypes(adapters: dict[str, jax_backend.JaxAdapter], name: str) -> None:
    dt = numpy_dtype("bfloat16")
    x = np.ones((1, 1, 4), dtype=dt)
    w = np.ones((1, 1, 2), dtype=dt)
    ct = np.ones((1, 1, 3), dtype=np.float32)  # another dtype: cast to y's by the adapter
    grads = adapters[name].vjp(CONV, {"x": x, "w": w, "b": None}, _conv_params(1), ct)
    assert set(grads) == {"x", "w"}
    assert grads["x"].dtype == dt and grads["w"].dtype == dt
    np.testing.assert_array_equal(grads["x"].astype(np.float64), [[[1, 2, 2, 1]]])
    np.testing.assert_array_equal(grads["w"].astype(np.float64), [[[3, 3]]])


@pytest.mark.parametrize(
    "p",
    [
        ConvTranspose((1,), (1,), ((-1, 0),), (0,)),  # TCONV.9: negative pad
        ConvTranspose((2,), (1,), ((0, 0),), (-1,)),  # TCONV.5: negative output_padding
        ConvTranspose((2,), (3,), ((0, 0),), (3,)),  # TCONV.5: op >= max(s, d)
        ConvTranspose((2,), (3,), ((0, 0),), (2,), output_padding_rule="stride"),
    ],
)
@pytest.mark.parametrize("name", ["jax", "jax.lhs_dilation"])
def test_translated_violations_are_rejected(
    adapters: dict[str, jax_backend.JaxAdapter], name: str, p: ConvTranspose
) -> None:
    """ERR.1: JAX never sees TCONV pads or output_padding, so the adapter refuses them."""
    with pytest.raises(ValueError, match=r"TCONV\.(5|9)"):
        adapters[name].conv_transpose(np.ones((1, 1, 3)), np.ones((1, 1, 2)), None, p)


def _repro_cases() -> list[tuple[str, str, object, dict[str, np.ndarray]]]:
    rng = np.random.default_rng(0)

    def a(*shape: int) -> np.ndarray:
        return rng.uniform(-1, 1, shape)

    def tconv(padding: object, output_padding: tuple[int, ...], groups: int = 1) -> ConvTranspose:
        rank = len(output_padding)
        return ConvTranspose(
            stride=(2, 1)[:rank],
            dilation=(1, 2)[:rank],
            padding=padding,  # type: ignore[arg-type]
            output_padding=output_padding,
            groups=groups,
        )

    conv = Conv(stride=(2, 1), dilation=(1, 2), padding=((1, -1), (0, 2)), groups=2)
    return [
        ("conv", "float32", conv, {"x": a(1, 4, 5, 6), "w": a(2, 2, 3, 2)}),
        (
            "conv",
            "float64",
            _conv_params(1, padding="same", same_split="begin"),
            {"x": a(2, 3, 7), "w": a(2, 3, 4)},
        ),
        (
            "conv_transpose",
            "float32",
            tconv(((1, 0), (0, 2)), (1, 1)),
            {"x": a(1, 4, 3, 4), "w": a(4, 3, 3, 2)},
        ),
        ("conv_transpose", "float64", tconv("same", (0,)), {"x": a(1, 2, 4), "w": a(2, 3, 3)}),
        (
            "conv_transpose",
            "float32",
            tconv(((1, 1), (2, 0)), (1, 0), groups=2),
            {"x": a(1, 4, 3, 4), "w": a(4, 1, 3, 2)},
        ),
    ]


@pytest.mark.parametrize("name", ["jax", "jax.jit", "jax.lhs_dilation"])
def test_repro_source_calls_what_the_surface_calls(
    adapters: dict[str, jax_backend.JaxAdapter], name: str
) -> None:
    adapter = adapters[name]
    checked = 0
    for op, dtype, p, arrays in _repro_cases():
        support = adapter.support(op)
        groups = getattr(p, "groups", 1)
        if support is None or (groups > 1 and not support.groups):
            continue
        padding = getattr(p, "padding", None)
        if op == CONV_TRANSPOSE and isinstance(padding, str) and name == "jax.lhs_dilation":
            assert adapter.repro_source(op, p, dtype) is None  # type: ignore[arg-type]
            continue
        source = adapter.repro_source(op, p, dtype)  # type: ignore[arg-type]
        assert source is not None and "convspec" not in source and "adapters" not in source
        namespace: dict[str, object] = {}
        exec(compile(source, f"<repro {name} {op}>", "exec"), namespace)
        got = namespace["call"](**arrays)  # type: ignore[operator]
        typed = {k: v.astype(dtype) for k, v in arrays.items()}
        expected = getattr(adapter, op)(**typed, b=None, p=p).astype(np.float64)
        assert np.array_equal(got, expected), (name, op)
        checked += 1
    assert checked >= 2


def test_repro_source_is_none_for_violations_the_adapter_rejects(
    adapters: dict[str, jax_backend.JaxAdapter],
) -> None:
    negative = ConvTranspose(stride=(1,), dilation=(1,), padding=((-1, 0),), output_padding=(0,))
    assert adapters["jax"].repro_source("conv_transpose", negative, "float32") is None
