"""JAX backends: jax.lax convolutions, eagerly and under jax.jit.

Surfaces
  "jax"               jax.lax.conv_general_dilated (conv) and jax.lax.conv_transpose
                      (conv_transpose, transpose_kernel=True), called op by op.
  "jax.jit"           the same calls traced and compiled by jax.jit, with the
                      convspec parameters as static arguments.
  "jax.lhs_dilation"  conv_transpose only, written the other documented way: a
                      conv_general_dilated with lhs_dilation = stride and the
                      kernel flipped and channel-swapped, which is how JAX itself
                      builds conv_transpose and the input gradient of a conv, and
                      the lax-level way to a grouped transposed convolution
                      (feature_group_count), which jax.lax.conv_transpose lacks.

Not a surface: jax.lax.conv_transpose with transpose_kernel=False. With it JAX
reads the kernel as the transposed convolution's own (I, O) kernel, unflipped;
feeding it convspec's weight would need the adapter to flip and swap the kernel,
which is exactly what transpose_kernel=True makes JAX do (`_flip_axes` and
`swapaxes` before the same conv_general_dilated call), so it would test nothing new.

float64 needs JAX's 64-bit mode, `jax.config.update("jax_enable_x64", True)`,
which the factories switch on. The flag is process-global: from then on every
JAX computation in the process defaults to 64-bit types. convspec always hands
JAX explicitly typed arrays, so the other dtypes are unaffected.

jax.lax convolutions take no bias argument: bias is declared unsupported rather
than added here (an adapter does no convolution arithmetic).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from adapters.base import (
    CONV,
    CONV_TRANSPOSE,
    DTYPES,
    PADDING_FORMS,
    Adapter,
    Capabilities,
    OpSupport,
    UnsupportedError,
)
from reference.params import Conv, ConvTranspose, Pairs, Params
from reference.transposed import output_padding_limit

_ALL_DTYPES = frozenset(DTYPES)
_RANKS = frozenset({1, 2, 3})
# Spatial labels for dimension_numbers strings: any letters but N, C (batch,
# feature) and O, I (kernel output, input), so that every rank gets a spec.
_SPATIAL_LABELS = "ABDEFGHJKLMPQRSTUVWXYZ"


def _jax() -> Any:
    """Import JAX with 64-bit types enabled (see the module docstring)."""
    import jax

    jax.config.update("jax_enable_x64", True)
    return jax


def _dimension_numbers(ndim: int) -> tuple[str, str, str]:
    """convspec's canonical layouts as lax dimension_numbers: x NC..., w OI..., y NC...."""
    spatial = _SPATIAL_LABELS[: max(ndim - 2, 0)]
    return ("NC" + spatial, "OI" + spatial, "NC" + spatial)


def _no_bias(b: np.ndarray | None) -> None:
    if b is not None:
        raise UnsupportedError("jax.lax convolutions take no bias")


def _conv_padding(p: Conv) -> Any:
    """PAD.4-PAD.6 in lax.conv_general_dilated's terms.

    Explicit (low, high) pairs pass through unchanged, negative ones included
    (XLA crops, PAD.3). 'SAME' puts the odd pixel at the end, 'SAME_LOWER' at
    the begin (conv_general_dilated docstring).
    """
    if p.padding_mode != "zeros":
        raise UnsupportedError(f"jax.lax has no padding mode {p.padding_mode!r}")
    if p.padding == "valid":
        return "VALID"
    if p.padding == "same":
        return "SAME_LOWER" if p.same_split == "begin" else "SAME"
    return [tuple(pair) for pair in p.padding]


def _transposed_input_padding(p: ConvTranspose, kernel: tuple[int, ...]) -> list[tuple[int, int]]:
    """Explicit TCONV.3 pads as padding of the stride-dilated input.

    jax.lax.conv_transpose (jax/_src/lax/convolution.py) computes
    conv_general_dilated(lhs, flipped rhs, window_strides=1, padding=pads,
    lhs_dilation=strides, rhs_dilation): integer `padding` is handed to it as
    is, i.e. it pads the input after inserting stride-1 zeros between its
    samples. A forward-conv pad p corresponds to k_eff - 1 - p there (JAX's
    `_conv_transpose_padding`, the branch for tuples, with k_eff = d*(k-1)+1),
    and PyTorch's output_padding extends the high end. Hence, per axis,

        (low, high) = (d*(k-1) - begin, d*(k-1) - end + output_padding),

    spec clause TCONV.17 (`reference.transposed.jax_lhs_padding`). JAX versions
    with `use_consistent_padding=True` (jax-ml/jax#32268) read pads as forward-conv
    pads themselves, but have no output_padding either; the mapping above works
    in every JAX version.
    """
    pairs: Pairs = p.padding  # type: ignore[assignment]
    _reject_untranslatable(p, pairs)
    return [
        (d * (k - 1) - begin, d * (k - 1) - end + extra)
        for (begin, end), k, d, extra in zip(
            pairs, kernel, p.dilation, p.output_padding, strict=False
        )
    ]


def _reject_untranslatable(p: ConvTranspose, pairs: Pairs) -> None:
    """Reject the violations that JAX cannot see once pads are translated (ERR.1).

    JAX has neither TCONV's pads nor output_padding: after the translation above
    a negative pad or an out-of-range output_padding is just another padding of
    the stride-dilated input, which JAX accepts, so only the adapter can refuse it.
    """
    for axis, ((begin, end), s, d, extra) in enumerate(
        zip(pairs, p.stride, p.dilation, p.output_padding, strict=False)
    ):
        if begin < 0 or end < 0:
            raise ValueError(
                f"TCONV.9: explicit padding must be >= 0, got {(begin, end)} on axis {axis}"
            )
        limit = output_padding_limit(s, d, p.output_padding_rule)
        if not 0 <= extra < limit:
            raise ValueError(
                f"TCONV.5: output_padding must be in [0, {limit}) "
                f"(rule {p.output_padding_rule!r}), got {extra} on axis {axis}"
            )


def _transpose_padding(p: ConvTranspose, kernel: tuple[int, ...]) -> Any:
    """TCONV.3/TCONV.4 in jax.lax.conv_transpose's terms.

    'valid'/'same' are JAX's own strings, which conv_transpose documents as the
    padding of the corresponding forward conv (Keras Conv2DTranspose
    convention); any difference from TCONV.4 is for the suite to report.
    """
    if isinstance(p.padding, str):
        if any(p.output_padding):
            raise UnsupportedError(
                "jax.lax.conv_transpose has no output_padding for 'VALID'/'SAME'"
            )
        return p.padding.upper()
    return _transposed_input_padding(p, kernel)


def _lax_conv(x: Any, w: Any, p: Conv) -> Any:
    from jax import lax

    return lax.conv_general_dilated(
        x,
        w,
        window_strides=tuple(p.stride),
        padding=_conv_padding(p),
        rhs_dilation=tuple(p.dilation),
        dimension_numbers=_dimension_numbers(x.ndim),
        feature_group_count=p.groups,
    )


def _lax_conv_transpose(x: Any, w: Any, p: ConvTranspose) -> Any:
    """jax.lax.conv_transpose with gradient-of-conv semantics.

    With transpose_kernel=True JAX flips the kernel's spatial axes and swaps its
    O and I axes, so the canonical weight (C_in, C_out, *k) is labelled "OI...":
    it is the kernel of the forward convolution C_out -> C_in that this
    operation is the input gradient of (PyTorch's ConvTranspose layout).
    conv_transpose has no feature_group_count: groups are not declared.
    """
    from jax import lax

    kernel = tuple(w.shape[2:])
    return lax.conv_transpose(
        x,
        w,
        strides=tuple(p.stride),
        padding=_transpose_padding(p, kernel),
        rhs_dilation=tuple(p.dilation),
        dimension_numbers=_dimension_numbers(x.ndim),
        transpose_kernel=True,
    )


def _lhs_dilation_conv_transpose(x: Any, w: Any, p: ConvTranspose) -> Any:
    """Transposed convolution as conv_general_dilated with lhs_dilation = stride.

    The weight rearrangement is layout only (jnp, so gradients flow back to the
    canonical weight): (C_in, C_out/g, *k) -> per group (C_out/g, C_in/g, *k),
    i.e. (C_out, C_in/g, *k), then the spatial axes reversed, as in JAX's own
    `_conv_general_dilated_transpose_lhs`.
    """
    import jax.numpy as jnp
    from jax import lax

    if isinstance(p.padding, str):
        raise UnsupportedError("lhs_dilation convolutions take explicit padding only")
    g = p.groups
    c_in, c_out_g, *kernel = w.shape
    grouped = jnp.reshape(w, (g, c_in // g, c_out_g, *kernel))
    forward = jnp.reshape(jnp.swapaxes(grouped, 1, 2), (g * c_out_g, c_in // g, *kernel))
    flipped = jnp.flip(forward, axis=tuple(range(2, w.ndim)))
    return lax.conv_general_dilated(
        x,
        flipped,
        window_strides=(1,) * len(kernel),
        padding=_transposed_input_padding(p, tuple(kernel)),
        lhs_dilation=tuple(p.stride),
        rhs_dilation=tuple(p.dilation),
        dimension_numbers=_dimension_numbers(x.ndim),
        feature_group_count=g,
    )


OpFunction = Callable[[Any, Any, Any], Any]


def _device_name(jax: Any) -> str:
    device = jax.devices()[0]
    if device.platform == "cpu":
        return "cpu"
    if device.platform == "gpu":
        return f"cuda:{device.id}"
    return f"{device.platform}:{device.id}"


def _op_support(padding: frozenset[str], groups: bool, exact: bool) -> OpSupport:
    # output_padding (transposed only) becomes part of the explicit padding of the
    # stride-dilated input, which takes any value: every output_padding of TCONV.5
    # is expressible, so the wider rule is declared.
    return OpSupport(
        ranks=_RANKS,
        dtypes=_ALL_DTYPES,
        padding=padding,
        groups=groups,
        bias=False,
        exact=exact,
        output_padding_rule="stride_or_dilation",
    )


class JaxAdapter(Adapter):
    """jax.lax called eagerly; subclasses change which functions run and how."""

    name = "jax"
    framework = "jax"
    # op name -> function(x, w, params), in jax.numpy terms.
    functions: Mapping[str, OpFunction] = {
        CONV: _lax_conv,
        CONV_TRANSPOSE: _lax_conv_transpose,
    }
    jit = False
    # XLA's cost analysis counts the same on every jax surface: only this one declares it.
    counts_flops = True

    def __init__(self) -> None:
        self._jax = _jax()
        self._compiled: dict[str, Callable[..., Any]] = {}
        self.capabilities = self._capabilities(_device_name(self._jax))

    def _capabilities(self, device: str) -> Capabilities:
        # Exact mode (NUM.5), found out by experiment: on CPU, integer inputs in the
        # NUM.5 range give exactly the integer sums in float32, float16 and bfloat16
        # for 1-D, 2-D (1x1, 3x3, 5x5, depthwise) and 3-D convolutions and for
        # conv_transpose, which a Winograd or FFT transform (fractional transformed
        # operands) would not; adapters/test_jax_backend.py keeps one such check.
        # On GPU, cuDNN may choose its Winograd or FFT algorithms: not exact.
        exact = device == "cpu"
        return Capabilities(
            ops={
                CONV: _op_support(frozenset(PADDING_FORMS), groups=True, exact=exact),
                CONV_TRANSPOSE: _op_support(
                    frozenset({"symmetric", "asymmetric", "valid", "same"}),
                    groups=False,
                    exact=exact,
                ),
            },
            device=device,
            gradients=frozenset(self.functions),
            # XLA's HloCostAnalysis counts the products that read an input element (COST.19).
            flop_counts=frozenset(self.functions) if self.counts_flops else frozenset(),
            flop_convention="in_bounds",
        )

    def version(self) -> str:
        return str(self._jax.__version__)

    def describe(self) -> str:
        # On a GPU the device's model decides which kernels XLA picks; reports name it.
        device = self._jax.devices()[0]
        model = "" if device.platform == "cpu" else f", {device.device_kind}"
        return f"{self.name} (jax {self.version()}, {self.device}{model})"

    # --- running --------------------------------------------------------
    def _cached(self, key: str, fn: Callable[..., Any], static_argnum: int) -> Callable[..., Any]:
        """fn, or jax.jit(fn) with the convspec parameters static; built once per key."""
        if key not in self._compiled:
            self._compiled[key] = (
                self._jax.jit(fn, static_argnums=(static_argnum,)) if self.jit else fn
            )
        return self._compiled[key]

    def _forward(self, op: str, x: np.ndarray, w: np.ndarray, p: Params) -> np.ndarray:
        jnp = self._jax.numpy
        fn = self._cached(f"forward:{op}", self.functions[op], 2)
        return np.asarray(fn(jnp.asarray(x), jnp.asarray(w), p))

    def conv(self, x: np.ndarray, w: np.ndarray, b: np.ndarray | None, p: Conv) -> np.ndarray:
        _no_bias(b)
        return self._forward(CONV, x, w, p)

    def conv_transpose(
        self, x: np.ndarray, w: np.ndarray, b: np.ndarray | None, p: ConvTranspose
    ) -> np.ndarray:
        _no_bias(b)
        return self._forward(CONV_TRANSPOSE, x, w, p)

    def flop_count(
        self, op: str, p: Params, shapes: Mapping[str, Any], wrt: tuple[str, ...] = ()
    ) -> int | None:
        """XLA's cost analysis of the HLO that jax.jit lowers the call to (COST.18), on
        abstract operands: nothing is allocated or computed. Before XLA's optimisations,
        which rewrite small convolutions and their count with them."""
        if op not in self.capabilities.flop_counts or wrt:
            return None
        jax = self._jax
        x, w = (jax.ShapeDtypeStruct(shapes[k], jax.numpy.float32) for k in ("x", "w"))
        function = self.functions[op]
        analysis = jax.jit(lambda x_, w_: function(x_, w_, p)).lower(x, w).cost_analysis()
        # XLA leaves out a property whose count is 0.
        return int(analysis.get("flops", 0))

    def vjp(
        self,
        op: str,
        arrays: Mapping[str, np.ndarray | None],
        p: Params,
        cotangent: np.ndarray,
    ) -> dict[str, np.ndarray]:
        """jax.vjp of the same function the forward surface runs."""
        if op not in self.functions:
            raise NotImplementedError(f"vjp of {op}")
        _no_bias(arrays.get("b"))
        jax = self._jax
        jnp = jax.numpy
        f = self.functions[op]

        def pullback(x: Any, w: Any, ct: Any, params: Any) -> Any:
            y, back = jax.vjp(lambda x_, w_: f(x_, w_, params), x, w)
            # jax.vjp requires the cotangent in y's dtype.
            return back(ct.astype(y.dtype))

        fn = self._cached(f"vjp:{op}", pullback, 3)
        gx, gw = fn(jnp.asarray(arrays["x"]), jnp.asarray(arrays["w"]), jnp.asarray(cotangent), p)
        return {"x": np.asarray(gx), "w": np.asarray(gw)}

    # --- repro scripts (suites/repro.py) -----------------------------------
    def repro_source(self, op: str, p: Params, dtype: str) -> str | None:
        if op not in self.functions or self.support(op) is None:
            return None
        try:
            body = self._repro_body(op, p)
        except (UnsupportedError, ValueError):
            return None
        return _REPRO_TEMPLATE.format(
            dtype=dtype,
            body="\n".join(f"    {line}" for line in body.splitlines()),
            runner="jax.jit(_op)" if self.jit else "_op",
        )

    def _repro_body(self, op: str, p: Params) -> str:
        """Statements setting `y` from x and w, as `functions[op]` computes it."""
        rank = len(getattr(p, "stride", ()))
        numbers = _dimension_numbers(rank + 2)
        if op == CONV and isinstance(p, Conv):
            return (
                f"y = lax.conv_general_dilated(x, w, window_strides={tuple(p.stride)!r}, "
                f"padding={_conv_padding(p)!r}, rhs_dilation={tuple(p.dilation)!r}, "
                f"dimension_numbers={numbers!r}, feature_group_count={p.groups!r})"
            )
        if op == CONV_TRANSPOSE and isinstance(p, ConvTranspose):
            if isinstance(p.padding, str):
                padding = repr(_transpose_padding(p, ()))
                prelude = ""
            else:
                prelude = _repro_input_padding(p)
                padding = "padding"
            return prelude + (
                f"y = lax.conv_transpose(x, w, strides={tuple(p.stride)!r}, "
                f"padding={padding}, rhs_dilation={tuple(p.dilation)!r}, "
                f"dimension_numbers={numbers!r}, transpose_kernel=True)"
            )
        raise UnsupportedError(f"{self.name} has no {op} taking {type(p).__name__}")


def _repro_input_padding(p: ConvTranspose) -> str:
    """Source setting `padding` as `_transposed_input_padding` computes it from w's kernel."""
    pairs: Pairs = p.padding  # type: ignore[assignment]
    _reject_untranslatable(p, pairs)
    axes = [
        (int(d), int(begin), int(end), int(extra))
        for (begin, end), d, extra in zip(pairs, p.dilation, p.output_padding, strict=False)
    ]
    return (
        "padding = [\n"
        "    (d * (k - 1) - begin, d * (k - 1) - end + extra)\n"
        f"    for k, (d, begin, end, extra) in zip(w.shape[2:], {axes!r})\n"
        "]\n"
    )


_REPRO_TEMPLATE = """\
import jax
import numpy as np

jax.config.update("jax_enable_x64", True)
import jax.numpy as jnp
from jax import lax

DTYPE = jnp.{dtype}


def _op(x, w):
{body}
    return y


def call(x, w, b=None):
    # jax.lax convolutions take no bias: b is always None here.
    x, w = (jnp.asarray(np.asarray(a, dtype=np.float64).astype(DTYPE)) for a in (x, w))
    return np.asarray({runner}(x, w)).astype(np.float64)
"""


class JaxJitAdapter(JaxAdapter):
    name = "jax.jit"
    jit = True
    counts_flops = False


class JaxLhsDilationAdapter(JaxAdapter):
    name = "jax.lhs_dilation"
    functions: Mapping[str, OpFunction] = {CONV_TRANSPOSE: _lhs_dilation_conv_transpose}

    def _capabilities(self, device: str) -> Capabilities:
        exact = device == "cpu"
        return Capabilities(
            ops={
                CONV_TRANSPOSE: _op_support(
                    frozenset({"symmetric", "asymmetric"}), groups=True, exact=exact
                ),
            },
            device=device,
            gradients=frozenset(self.functions),
        )

    def conv(self, x: np.ndarray, w: np.ndarray, b: np.ndarray | None, p: Conv) -> np.ndarray:
        raise NotImplementedError(CONV)

    def _repro_body(self, op: str, p: Params) -> str:
        if op != CONV_TRANSPOSE or not isinstance(p, ConvTranspose):
            raise UnsupportedError(f"{self.name} has no {op} taking {type(p).__name__}")
        if isinstance(p.padding, str):
            raise UnsupportedError("lhs_dilation convolutions take explicit padding only")
        g, rank = p.groups, p.rank
        return _repro_input_padding(p) + (
            "c_in, c_out_g, *kernel = w.shape\n"
            f"grouped = jnp.reshape(w, ({g!r}, c_in // {g!r}, c_out_g, *kernel))\n"
            "forward = jnp.reshape(\n"
            f"    jnp.swapaxes(grouped, 1, 2), ({g!r} * c_out_g, c_in // {g!r}, *kernel)\n"
            ")\n"
            f"flipped = jnp.flip(forward, axis={tuple(range(2, rank + 2))!r})\n"
            f"y = lax.conv_general_dilated(x, flipped, window_strides={(1,) * rank!r}, "
            f"padding=padding, lhs_dilation={tuple(p.stride)!r}, "
            f"rhs_dilation={tuple(p.dilation)!r}, "
            f"dimension_numbers={_dimension_numbers(rank + 2)!r}, feature_group_count={g!r})"
        )


SURFACES: dict[str, Callable[[], Adapter]] = {
    "jax": JaxAdapter,
    "jax.jit": JaxJitAdapter,
    "jax.lhs_dilation": JaxLhsDilationAdapter,
}
