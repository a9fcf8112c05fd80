"""Keras 3 on the TensorFlow backend: the `keras` surface.

  keras              Keras 3 layers: Conv{1,2,3}D, Conv{1,2,3}DTranspose, DepthwiseConv{1,2}D,
                     SeparableConv{1,2}D, channels_last

The layers run TensorFlow's kernels, with the limits of adapters/tf_common.py's module
docstring; Keras runs grouped convolutions through XLA (jit_compile=True). TensorFlow and
Keras are imported only inside the factory, so listing the surface name does not import them.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from adapters.base import (
    CONV,
    CONV_TRANSPOSE,
    DEPTHWISE_CONV,
    SEPARABLE_CONV,
    Adapter,
    Capabilities,
    OpSupport,
    UnsupportedError,
)
from adapters.source_embedding import function_sources
from adapters.tf_common import (
    ALL_DTYPES,
    EXPLICIT_PADDING,
    STRING_PADDING,
    Shapes,
    depthwise_filter,
    depthwise_shape_problem,
    exact_kernels,
    hwio,
    import_tf,
    onednn_dtypes,
    onednn_enabled,
    onednn_environment,
    onednn_platform,
    same_or_valid,
    string_output_padding_problem,
)
from reference.params import Conv, ConvTranspose, Params
from reference.sizes import effective_kernel

# --- translation of convspec parameters (plain Python, no TensorFlow) --------------------------


def _keras_same_pads(k: int, d: int, op: int) -> tuple[int, int]:
    """Explicit pads of Keras's padding='same' with output_padding=op on one axis (TCONV.3).

    Keras gives the output length (n-1)*s + k_eff % 2 + op and lets TF place
    it as the gradient of a 'SAME' convolution (odd pixel at the end), which
    starts floor(T/2) in with T = max(2*(k_eff//2) - op, 0); Keras's JAX
    backend places it the same way (keras backend_utils,
    _convert_conv_transpose_padding_args_from_keras_to_jax). In TCONV.3 terms
    that is begin = max(P - ceil(op/2), 0), end = 2P - begin, P = k_eff // 2.
    """
    half = effective_kernel(k, d) // 2
    begin = max(half - math.ceil(op / 2), 0)
    return begin, 2 * half - begin


def _keras_transpose_padding(p: ConvTranspose, kernel: Sequence[int]) -> tuple[str, Any]:
    """Keras's (padding, output_padding) for p, or UnsupportedError.

    'valid'/'same' map to themselves with output_padding=None (TCONV.4). Keras
    has no explicit pads; explicit pads are expressible where they are the
    geometry of 'valid' (all zero) or of 'same' with that output_padding.
    """
    if isinstance(p.padding, str):
        problem = string_output_padding_problem(p, "keras ConvTranspose")
        if problem:
            raise UnsupportedError(problem)
        return p.padding, None
    pads = tuple(tuple(pair) for pair in p.padding)
    if all(pair == (0, 0) for pair in pads):
        return "valid", tuple(p.output_padding)
    same = tuple(
        _keras_same_pads(k, d, op)
        for k, d, op in zip(kernel, p.dilation, p.output_padding, strict=True)
    )
    if pads == same:
        return "same", tuple(p.output_padding)
    raise UnsupportedError(
        f"keras ConvTranspose has only padding 'valid'/'same' (with output_padding): explicit "
        f"pads {pads} are neither 'valid' (all 0) nor 'same' with output_padding "
        f"{p.output_padding}, which is {same}"
    )


# --- the surface ------------------------------------------------------------------------------


class KerasAdapter(Adapter):
    """Keras 3 convolution layers on the TensorFlow backend, channels_last.

    Each call builds a layer for the drawn shapes and sets its weights from
    the drawn arrays with layer.set_weights, so Keras's own checks see them.
    """

    name = "keras"
    framework = "keras"

    def __init__(self) -> None:
        # Keras picks its backend once, at import.
        os.environ.setdefault("KERAS_BACKEND", "tensorflow")
        self._tf = import_tf()
        import keras

        if keras.backend.backend() != "tensorflow":
            raise ImportError(
                f"keras runs on {keras.backend.backend()!r}; this surface needs "
                "KERAS_BACKEND=tensorflow set before keras is imported"
            )
        self._keras = keras
        self._onednn = onednn_enabled()
        self._eigen_dtypes = ALL_DTYPES - onednn_dtypes(self._onednn)
        exact = exact_kernels()
        self.capabilities = Capabilities(
            ops={
                CONV: OpSupport(
                    ranks=frozenset({1, 2, 3}),
                    dtypes=ALL_DTYPES,
                    padding=STRING_PADDING,
                    dilation_with_stride=False,
                    exact=exact,
                ),
                CONV_TRANSPOSE: OpSupport(
                    ranks=frozenset({1, 2, 3}),
                    dtypes=ALL_DTYPES,
                    padding=STRING_PADDING | EXPLICIT_PADDING,
                    groups=False,
                    dilation_with_stride=False,
                    # Explicit pads only where they are Keras's 'valid'/'same' geometry
                    # (limitation).
                    output_padding_rule="stride",
                    exact=exact,
                ),
                DEPTHWISE_CONV: OpSupport(
                    ranks=frozenset({1, 2}), dtypes=ALL_DTYPES, padding=STRING_PADDING, exact=exact
                ),
                SEPARABLE_CONV: OpSupport(
                    ranks=frozenset({1, 2}), dtypes=ALL_DTYPES, padding=STRING_PADDING, exact=exact
                ),
            },
            parameter_counts=frozenset({CONV, CONV_TRANSPOSE, DEPTHWISE_CONV, SEPARABLE_CONV}),
        )

    def version(self) -> str:
        return str(self._keras.__version__)

    def platform(self) -> dict[str, Any]:
        return onednn_platform(self._onednn, self._eigen_dtypes)

    def describe(self) -> str:
        onednn = "oneDNN on" if self._onednn else "oneDNN off"
        return (
            f"{self.name} ({self.framework} {self.version()} on tensorflow "
            f"{self._tf.__version__}, {self.device}, {onednn})"
        )

    # --- operations -------------------------------------------------------------
    def conv(self, x: np.ndarray, w: np.ndarray, b: np.ndarray | None, p: Conv) -> np.ndarray:
        layer = self._layer(
            f"Conv{p.rank}D",
            x,
            filters=w.shape[0],
            kernel_size=w.shape[2:],
            strides=p.stride,
            padding=_keras_conv_padding(p),
            dilation_rate=p.dilation,
            groups=p.groups,
            use_bias=b is not None,
        )
        return apply_layer(self._tf, layer, x, [hwio(np, w), b])

    def conv_transpose(
        self, x: np.ndarray, w: np.ndarray, b: np.ndarray | None, p: ConvTranspose
    ) -> np.ndarray:
        if p.groups != 1:
            raise UnsupportedError("keras ConvTranspose layers have no groups argument")
        padding, output_padding = _keras_transpose_padding(p, w.shape[2:])
        layer = self._layer(
            f"Conv{p.rank}DTranspose",
            x,
            filters=w.shape[1],
            kernel_size=w.shape[2:],
            strides=p.stride,
            padding=padding,
            output_padding=output_padding,
            dilation_rate=p.dilation,
            use_bias=b is not None,
        )
        # Keras's transposed kernel is (*k, filters, C_in), the same permutation as conv's.
        return apply_layer(self._tf, layer, x, [hwio(np, w), b])

    def depthwise_conv(
        self, x: np.ndarray, w: np.ndarray, b: np.ndarray | None, p: Conv
    ) -> np.ndarray:
        self._check_depthwise(p, x, w)
        layer = self._layer(
            f"DepthwiseConv{p.rank}D",
            x,
            kernel_size=w.shape[2:],
            strides=p.stride,
            padding=_keras_conv_padding(p),
            depth_multiplier=w.shape[0] // x.shape[1],
            dilation_rate=p.dilation,
            use_bias=b is not None,
        )
        return apply_layer(self._tf, layer, x, [depthwise_filter(np, w, x.shape[1]), b])

    def separable_conv(
        self,
        x: np.ndarray,
        w_depth: np.ndarray,
        w_point: np.ndarray,
        b: np.ndarray | None,
        p: Conv,
    ) -> np.ndarray:
        self._check_depthwise(p, x, w_depth)
        layer = self._layer(
            f"SeparableConv{p.rank}D",
            x,
            filters=w_point.shape[0],
            kernel_size=w_depth.shape[2:],
            strides=p.stride,
            padding=_keras_conv_padding(p),
            depth_multiplier=w_depth.shape[0] // x.shape[1],
            dilation_rate=p.dilation,
            use_bias=b is not None,
        )
        weights = [depthwise_filter(np, w_depth, x.shape[1]), hwio(np, w_point), b]
        return apply_layer(self._tf, layer, x, weights)

    # --- the framework's own counter (spec COST.18) --------------------------------
    def parameter_count(self, op: str, p: Params, shapes: Shapes) -> int | None:
        """layer.count_params() of the layer that this surface runs for `op`, built for the
        input's shape; the arguments are those of the calls above."""
        if op not in self.capabilities.parameter_counts or not isinstance(p, Conv | ConvTranspose):
            return None
        x = shapes["x"]
        layer = self._counted_layer(op, p, shapes)
        layer.build((x[0], *x[2:], x[1]))
        return int(layer.count_params())

    def _counted_layer(self, op: str, p: Conv | ConvTranspose, shapes: Shapes) -> Any:
        layers = self._keras.layers
        common = {
            "strides": tuple(p.stride),
            "dilation_rate": tuple(p.dilation),
            "use_bias": shapes.get("b") is not None,
            "data_format": "channels_last",
        }
        if op == CONV_TRANSPOSE and isinstance(p, ConvTranspose):
            w = shapes["w"]
            if p.groups != 1:
                raise UnsupportedError("keras ConvTranspose layers have no groups argument")
            padding, output_padding = _keras_transpose_padding(p, w[2:])
            cls = getattr(layers, f"Conv{p.rank}DTranspose")
            return cls(w[1], tuple(w[2:]), padding=padding, output_padding=output_padding, **common)
        if not isinstance(p, Conv):
            raise UnsupportedError(f"keras has no layer for {op} taking {type(p).__name__}")
        padding = _keras_conv_padding(p)
        if op == CONV:
            w = shapes["w"]
            cls = getattr(layers, f"Conv{p.rank}D")
            return cls(w[0], tuple(w[2:]), padding=padding, groups=p.groups, **common)
        problem = depthwise_shape_problem(p, shapes, "keras depthwise")
        if problem:
            raise UnsupportedError(problem)
        c_in = shapes["x"][1]
        if op == DEPTHWISE_CONV:
            w = shapes["w"]
            cls = getattr(layers, f"DepthwiseConv{p.rank}D")
            return cls(tuple(w[2:]), padding=padding, depth_multiplier=w[0] // c_in, **common)
        if op == SEPARABLE_CONV:
            depth, point = shapes["w_depth"], shapes["w_point"]
            cls = getattr(layers, f"SeparableConv{p.rank}D")
            return cls(
                point[0],
                tuple(depth[2:]),
                padding=padding,
                depth_multiplier=depth[0] // c_in,
                **common,
            )
        raise UnsupportedError(f"keras has no layer for {op}")

    # --- repro scripts (suites/repro.py) -------------------------------------------
    def repro_source(self, op: str, p: Params, dtype: str) -> str | None:
        if self.support(op) is None or not isinstance(p, Conv | ConvTranspose):
            return None
        try:
            layer = self._repro_layer(op, p)
        except UnsupportedError:
            return None
        body = "\n".join(f"    {line}" for line in layer.splitlines())
        return _REPRO_TEMPLATE.format(
            environment=onednn_environment(self._onednn),
            dtype=dtype,
            helpers=function_sources(hwio, depthwise_filter, apply_layer),
            layer=body,
        )

    def _repro_layer(self, op: str, p: Conv | ConvTranspose) -> str:
        """Statements of `_forward` setting `layer` and `weights`, as this surface builds them."""
        common = f"strides={tuple(p.stride)!r}, dilation_rate={tuple(p.dilation)!r}"
        if op == CONV_TRANSPOSE and isinstance(p, ConvTranspose):
            if p.groups != 1:
                raise UnsupportedError("keras ConvTranspose layers have no groups argument")
            if isinstance(p.padding, str):
                padding, output_padding = _keras_transpose_padding(p, ())
                choice = f"padding, output_padding = {padding!r}, {output_padding!r}"
            else:
                # Explicit pads reach Keras only as the geometry of 'valid' (all zero) or of
                # 'same' with this output_padding; the surface rejects any other.
                padding = "valid" if all(tuple(pair) == (0, 0) for pair in p.padding) else "same"
                choice = f"padding, output_padding = {padding!r}, {tuple(p.output_padding)!r}"
            return (
                f"{choice}\n"
                f"layer = keras.layers.Conv{p.rank}DTranspose(filters=w.shape[1], "
                f"kernel_size=w.shape[2:], {common}, padding=padding, "
                "output_padding=output_padding, use_bias=b is not None, **LAYER)\n"
                "weights = [hwio(np, w), b]"
            )
        if not isinstance(p, Conv):
            raise UnsupportedError(f"keras has no {op} for {type(p).__name__}")
        padding = _keras_conv_padding(p)
        if op == CONV:
            return (
                f"layer = keras.layers.Conv{p.rank}D(filters=w.shape[0], kernel_size=w.shape[2:], "
                f"{common}, padding={padding!r}, groups={p.groups}, use_bias=b is not None, "
                "**LAYER)\nweights = [hwio(np, w), b]"
            )
        if op == DEPTHWISE_CONV:
            return (
                f"layer = keras.layers.DepthwiseConv{p.rank}D(kernel_size=w.shape[2:], {common}, "
                f"padding={padding!r}, depth_multiplier=w.shape[0] // x.shape[1], "
                "use_bias=b is not None, **LAYER)\n"
                "weights = [depthwise_filter(np, w, x.shape[1]), b]"
            )
        if op == SEPARABLE_CONV:
            return (
                f"layer = keras.layers.SeparableConv{p.rank}D(filters=w_point.shape[0], "
                f"kernel_size=w_depth.shape[2:], {common}, padding={padding!r}, "
                "depth_multiplier=w_depth.shape[0] // x.shape[1], use_bias=b is not None, "
                "**LAYER)\n"
                "weights = [depthwise_filter(np, w_depth, x.shape[1]), hwio(np, w_point), b]"
            )
        raise UnsupportedError(f"keras has no layer for {op}")

    # --- helpers -------------------------------------------------------------------
    def _layer(self, class_name: str, x: np.ndarray, **kwargs: Any) -> Any:
        cls = getattr(self._keras.layers, class_name, None)
        if cls is None:
            raise UnsupportedError(f"keras has no layers.{class_name}")
        plain = {k: tuple(map(int, v)) if isinstance(v, tuple) else v for k, v in kwargs.items()}
        return cls(data_format="channels_last", dtype=x.dtype.name, **plain)

    def _check_depthwise(self, p: Conv, x: np.ndarray, w: np.ndarray) -> None:
        problem = depthwise_shape_problem(p, {"x": x.shape, "w": w.shape}, "keras depthwise")
        if problem:
            raise UnsupportedError(problem)

    def limitation(self, op: str, p: Params, shapes: Shapes, dtype: str) -> str | None:
        if op == CONV_TRANSPOSE and isinstance(p, ConvTranspose):
            w = shapes.get("w")
            if w and len(w) >= 2:
                try:
                    _keras_transpose_padding(p, w[2:])
                except UnsupportedError as exc:
                    return str(exc)
        if op in (DEPTHWISE_CONV, SEPARABLE_CONV) and isinstance(p, Conv):
            problem = depthwise_shape_problem(p, shapes, "keras depthwise")
            if problem:
                return problem
        return self.documented_rejection(op, p, shapes, dtype)

    def documented_rejection(self, op: str, p: Params, shapes: Shapes, dtype: str) -> str | None:
        """What the TensorFlow kernels under Keras say they do not support."""
        if (
            op == CONV_TRANSPOSE
            and isinstance(p, ConvTranspose)
            and dtype in self._eigen_dtypes
            and max(p.dilation) > 1
        ):
            return (
                f"keras ConvTranspose runs tf.nn.conv_transpose, whose Eigen kernels "
                f"({dtype}) say 'Current CPU implementations do not yet support "
                "dilation rates larger than 1'"
            )
        # Keras runs 1-D depthwise steps with equal strides on a dummy axis; 2-D ones
        # reach tf.nn.depthwise_conv2d with the strides as given.
        if (
            op in (DEPTHWISE_CONV, SEPARABLE_CONV)
            and isinstance(p, Conv)
            and dtype in self._eigen_dtypes
            and len(set(p.stride)) > 1
        ):
            return (
                f"keras Depthwise/SeparableConv2D run TF's Eigen DepthwiseConv2dNative "
                f"({dtype}): 'Current implementation only supports equal length strides "
                "in the row and column dimensions'"
            )
        return None


def _keras_conv_padding(p: Conv) -> str:
    if isinstance(p.padding, str):
        return same_or_valid(p, "keras").lower()
    raise UnsupportedError("keras convolution layers have padding 'valid'/'same' only")


def apply_layer(tf: Any, layer: Any, x: np.ndarray, weights: list[Any]) -> np.ndarray:
    """The layer built for x's channels-last shape, given the weights (None: absent), called on
    x; the result in canonical layout. The repro scripts embed this function."""
    inputs = tf.constant(np.moveaxis(x, 1, -1))
    layer.build(tuple(inputs.shape))
    layer.set_weights([a for a in weights if a is not None])
    return np.moveaxis(np.asarray(layer(inputs)), -1, 1)


_REPRO_TEMPLATE = """\
import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
{environment}os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
from typing import Any

import keras
import numpy as np
import tensorflow as tf

DTYPE = "{dtype}"
LAYER = {{"data_format": "channels_last", "dtype": DTYPE}}


{helpers}


def _forward(x, w=None, b=None, w_depth=None, w_point=None):
{layer}
    return apply_layer(tf, layer, x, weights)


def call(**arrays):
    # The values are exactly representable in DTYPE: the conversion is exact.
    numpy_dtype = tf.as_dtype(DTYPE).as_numpy_dtype
    typed = {{k: None if a is None else np.asarray(a, np.float64).astype(numpy_dtype)
             for k, a in arrays.items()}}
    return _forward(**typed).astype(np.float64)
"""


SURFACES: dict[str, Callable[[], Adapter]] = {"keras": KerasAdapter}
