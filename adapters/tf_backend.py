"""TensorFlow's tf.nn surfaces, channels-last unless named otherwise.

  tf.nn              tf.nn.conv1d / conv2d / conv3d, conv1d / conv2d / conv3d_transpose,
                     depthwise_conv2d, separable_conv2d, eagerly, in NWC / NHWC / NDHWC
  tf.nn.convolution  the rank-generic tf.nn.convolution and tf.nn.conv_transpose
  tf.nn.atrous       tf.nn.atrous_conv2d and atrous_conv2d_transpose (stride 1, one rate)
  tf.nn.nchw         the tf.nn calls with data_format NCW / NCHW / NCDHW
  tf.function        the tf.nn calls traced by tf.function (graph mode, jit_compile=False),
                     in a child process (TF's graph optimizer can abort the process)
  tf.nn.onednn_off   the tf.nn surface in a child process started with TF_ENABLE_ONEDNN_OPTS=0

Keras is adapters/keras_backend.py. Which kernels TensorFlow runs here (oneDNN or Eigen), what
each accepts, and how `exact` was decided: adapters/tf_common.py.

No tf.nn convolution takes a bias argument; the tf.nn surfaces add one with
tf.nn.bias_add, TF's bias API (as Keras's layers do, and as TF's graph
optimizer fuses into _FusedConv2D under tf.function with oneDNN). TensorFlow is
imported only inside the factories, so listing the surface names does not
import it.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from adapters.base import (
    CONV,
    CONV_TRANSPOSE,
    DEPTHWISE_CONV,
    SEPARABLE_CONV,
    Adapter,
    Capabilities,
    Extension,
    OpSupport,
    UnsupportedError,
    extension,
)
from adapters.source_embedding import function_sources
from adapters.subprocess_proxy import ProxyAdapter
from adapters.tf_common import (
    ALL_DTYPES,
    EXPLICIT_PADDING,
    STRING_PADDING,
    Shapes,
    depthwise_filter,
    depthwise_shape_problem,
    exact_kernels,
    from_layout,
    hwio,
    import_tf,
    onednn_dtypes,
    onednn_enabled,
    onednn_environment,
    onednn_platform,
    same_or_valid,
    string_output_padding_problem,
    to_layout,
)
from reference.params import Conv, ConvTranspose, Params
from reference.sizes import conv_transpose_output_shape

# The ranks whose tf.nn function documents leading batch axes (conv1d, conv2d; conv3d
# documents a 5-D input).
_LEADING_BATCH_RANKS = frozenset({1, 2})
_LEADING_BATCH_AXES = Extension(
    "leading_batch_axes", "https://www.tensorflow.org/api_docs/python/tf/nn/conv2d"
)
_FORMATS = {
    True: {1: "NWC", 2: "NHWC", 3: "NDHWC"},
    False: {1: "NCW", 2: "NCHW", 3: "NCDHW"},
}


# --- translation of convspec parameters (plain Python, no TensorFlow) ----------------------


def _inferred_groups_problem(p: Conv, shapes: Shapes, api: str) -> str | None:
    """TF's convolutions take no groups argument: groups = C_in / filter in_channels.

    Where that division is exact but gives another count than p asks for, p
    cannot be expressed (a count that does not divide reaches TF's own check).
    """
    x, w = shapes.get("x"), shapes.get("w")
    if not x or not w or len(x) < p.rank + 1 or len(w) < 2:
        return None
    c_in = x[len(x) - p.rank - 1]  # TF's channel axis, behind any leading batch axes
    if w[1] > 0 and c_in % w[1] == 0 and c_in // w[1] != p.groups:
        return (
            f"{api} takes no groups argument: it uses C_in / filter in_channels = "
            f"{c_in // w[1]}, not groups={p.groups}"
        )
    return None


def _extra_axes_problem(
    p: Params, shapes: Shapes, api: str, leading: Extension | None
) -> str | None:
    """An input with more than r + 2 axes, unless they are leading batch axes TF documents.

    With the extension `leading` (tf.nn.conv1d and tf.nn.conv2d: "shape dimensions [:-3]
    are considered batch dimensions") the axes before the last r + 1 are batch axes, and
    the layout helpers move only the channel axis. Elsewhere TF documents an (r + 2)-D
    input, and passing the extra axes on would convolve other axes than the caller's.
    """
    x = shapes.get("x")
    rank = getattr(p, "rank", None)
    if not x or rank is None or len(x) <= rank + 2:
        return None
    if leading is not None and rank in _LEADING_BATCH_RANKS:
        return None
    return f"{api}: an input of {len(x)} axes for a rank-{rank} convolution"


def _shapes(arrays: Mapping[str, np.ndarray | None]) -> dict[str, tuple[int, ...] | None]:
    return {k: None if a is None else tuple(np.shape(a)) for k, a in arrays.items()}


# --- layouts of the tf.nn calls -------------------------------------------------------------
# Plain functions, like those of adapters/tf_common.py: the repro scripts embed their source.


def layout_shape(canonical_shape: Any, channels_last: bool) -> list[int]:
    """A canonical (N, C, *spatial) shape in the layout of the tf.nn call."""
    n, c, *spatial = (int(v) for v in canonical_shape)
    return [n, *spatial, c] if channels_last else [n, c, *spatial]


def canonical_result(tf: Any, y: Any, b: Any, rank: int, channels_last: bool) -> Any:
    """The tf.nn call's result y plus the bias b (None: no bias), in canonical layout.

    No tf.nn convolution takes a bias: tf.nn.bias_add, TF's bias API, adds it."""
    if b is not None:
        y = tf.nn.bias_add(y, b, data_format="N...C" if channels_last else "NC...")
    return from_layout(tf, y, rank, channels_last)


# --- TensorFlow surfaces --------------------------------------------------------------------


def _nn_capabilities(dtypes: frozenset[str], exact: bool) -> Capabilities:
    explicit_or_string = EXPLICIT_PADDING | STRING_PADDING
    return Capabilities(
        ops={
            CONV: OpSupport(
                ranks=frozenset({1, 2, 3}),
                dtypes=dtypes,
                padding=explicit_or_string,
                exact=exact,
                # Explicit padding for rank 2 only (tf.nn.conv2d): documented_rejection.
                extensions=(_LEADING_BATCH_AXES,),
            ),
            CONV_TRANSPOSE: OpSupport(
                ranks=frozenset({1, 2, 3}),
                dtypes=dtypes,
                padding=explicit_or_string,
                # The output size is given as output_shape, so output_padding < stride.
                output_padding_rule="stride",
                exact=exact,
            ),
            DEPTHWISE_CONV: OpSupport(
                ranks=frozenset({2}),
                dtypes=dtypes,
                padding=explicit_or_string,
                dilation_with_stride=False,
                exact=exact,
            ),
            SEPARABLE_CONV: OpSupport(
                ranks=frozenset({2}),
                dtypes=dtypes,
                padding=explicit_or_string,
                dilation_with_stride=False,
                exact=exact,
            ),
        },
        gradients=frozenset({CONV, CONV_TRANSPOSE, DEPTHWISE_CONV, SEPARABLE_CONV}),
    )


class TfNnAdapter(Adapter):
    """tf.nn.conv{1,2,3}d and friends, called eagerly on channels-last tensors.

    Conversions to TF's layouts are TF transposes inside the computed
    function, so that autodiff (vjp) returns gradients in canonical layout.
    """

    name = "tf.nn"
    framework = "tensorflow"
    channels_last = True
    # How a repro script runs its `_forward`, as `_run` runs `_forward` here.
    _repro_runner = "_forward"

    def __init__(self) -> None:
        self._tf = import_tf()
        self._onednn = onednn_enabled()
        # Dtypes that run TF's Eigen kernels, with their CPU restrictions.
        self._eigen_dtypes = ALL_DTYPES - onednn_dtypes(self._onednn)
        self.capabilities = self._capabilities()

    def _capabilities(self) -> Capabilities:
        return _nn_capabilities(ALL_DTYPES, exact_kernels())

    def version(self) -> str:
        return str(self._tf.__version__)

    def platform(self) -> dict[str, Any]:
        # The data format picks TF's kernel and its checks as much as the CPU does.
        return {
            **onednn_platform(self._onednn, self._eigen_dtypes),
            "tf_channels_last": self.channels_last,
        }

    def describe(self) -> str:
        onednn = "oneDNN on" if self._onednn else "oneDNN off (TF_ENABLE_ONEDNN_OPTS=0)"
        return f"{self.name} (tensorflow {self.version()}, {self.device}, {onednn}{self._mode()})"

    def _mode(self) -> str:
        return ", eager"

    # --- operations -------------------------------------------------------------
    def conv(self, x: np.ndarray, w: np.ndarray, b: np.ndarray | None, p: Conv) -> np.ndarray:
        return self._evaluate(CONV, {"x": x, "w": w, "b": b}, p)

    def conv_transpose(
        self, x: np.ndarray, w: np.ndarray, b: np.ndarray | None, p: ConvTranspose
    ) -> np.ndarray:
        return self._evaluate(CONV_TRANSPOSE, {"x": x, "w": w, "b": b}, p)

    def depthwise_conv(
        self, x: np.ndarray, w: np.ndarray, b: np.ndarray | None, p: Conv
    ) -> np.ndarray:
        return self._evaluate(DEPTHWISE_CONV, {"x": x, "w": w, "b": b}, p)

    def separable_conv(
        self,
        x: np.ndarray,
        w_depth: np.ndarray,
        w_point: np.ndarray,
        b: np.ndarray | None,
        p: Conv,
    ) -> np.ndarray:
        arrays = {"x": x, "w_depth": w_depth, "w_point": w_point, "b": b}
        return self._evaluate(SEPARABLE_CONV, arrays, p)

    def vjp(
        self,
        op: str,
        arrays: Mapping[str, np.ndarray | None],
        p: Params,
        cotangent: np.ndarray,
    ) -> dict[str, np.ndarray]:
        """tf.GradientTape.gradient of op with output_gradients=cotangent."""
        if op not in self.capabilities.gradients:
            raise UnsupportedError(f"{self.name} declares no gradient of {op}")
        self._check_translatable(op, p, _shapes(arrays))
        tensors = self._tensors(arrays)
        names = tuple(tensors)
        tensors["cotangent"] = self._tf.constant(cotangent)
        fn = functools.partial(self._gradients, op, p, names)
        grads = self._run(("vjp", op, p, names), fn, tensors)
        return {k: g.numpy() for k, g in zip(names, grads, strict=True)}

    def _evaluate(self, op: str, arrays: Mapping[str, np.ndarray | None], p: Params) -> np.ndarray:
        self._check_translatable(op, p, _shapes(arrays))
        tensors = self._tensors(arrays)
        fn = functools.partial(self._forward, op, p)
        result: np.ndarray = self._run(("forward", op, p, tuple(tensors)), fn, tensors).numpy()
        return result

    def _tensors(self, arrays: Mapping[str, np.ndarray | None]) -> dict[str, Any]:
        # tf.constant keeps the dtype; TF's bfloat16 is ml_dtypes.bfloat16.
        return {k: self._tf.constant(a) for k, a in arrays.items() if a is not None}

    def _run(self, key: tuple[Any, ...], fn: Callable[..., Any], tensors: dict[str, Any]) -> Any:
        """Run fn on the tensors in this surface's execution mode (here: eagerly)."""
        return fn(**tensors)

    def _gradients(self, op: str, p: Params, names: tuple[str, ...], **t: Any) -> Any:
        cotangent = t.pop("cotangent")
        with self._tf.GradientTape() as tape:
            for k in names:
                tape.watch(t[k])
            y = self._forward(op, p, **t)
        return tape.gradient(y, [t[k] for k in names], output_gradients=cotangent)

    def _forward(self, op: str, p: Any, **t: Any) -> Any:
        tf, last = self._tf, self.channels_last
        if op == CONV:
            y = self._conv_call(to_layout(tf, t["x"], p.rank, last), hwio(tf, t["w"]), p)
        elif op == CONV_TRANSPOSE:
            shape = conv_transpose_output_shape(tuple(t["x"].shape), tuple(t["w"].shape), p)
            y = self._transpose_call(
                to_layout(tf, t["x"], p.rank, last), hwio(tf, t["w"]), layout_shape(shape, last), p
            )
        elif op == DEPTHWISE_CONV:
            depth = depthwise_filter(tf, t["w"], int(t["x"].shape[1]))
            y = self._depthwise_call(to_layout(tf, t["x"], p.rank, last), depth, p)
        elif op == SEPARABLE_CONV:
            depth = depthwise_filter(tf, t["w_depth"], int(t["x"].shape[1]))
            point = hwio(tf, t["w_point"])
            y = self._separable_call(to_layout(tf, t["x"], p.rank, last), depth, point, p)
        else:
            raise UnsupportedError(f"{self.name} has no {op}")
        return canonical_result(tf, y, t.get("b"), p.rank, last)

    # --- the framework calls -----------------------------------------------------
    def _conv_call(self, x: Any, f: Any, p: Conv) -> Any:
        api = {1: "conv1d", 2: "conv2d", 3: "conv3d"}[p.rank]
        return getattr(self._tf.nn, api)(
            x,
            f,
            self._full(p.stride),
            self._padding(p, f"tf.nn.{api}"),
            data_format=_FORMATS[self.channels_last][p.rank],
            dilations=self._full(p.dilation),
        )

    def _transpose_call(self, x: Any, f: Any, output_shape: list[int], p: ConvTranspose) -> Any:
        api = {1: "conv1d_transpose", 2: "conv2d_transpose", 3: "conv3d_transpose"}[p.rank]
        return getattr(self._tf.nn, api)(
            x,
            f,
            output_shape,
            self._full(p.stride),
            self._padding(p, f"tf.nn.{api}"),
            data_format=_FORMATS[self.channels_last][p.rank],
            dilations=self._full(p.dilation),
        )

    def _depthwise_call(self, x: Any, f: Any, p: Conv) -> Any:
        return self._tf.nn.depthwise_conv2d(
            x,
            f,
            self._full(p.stride),
            self._padding(p, "tf.nn.depthwise_conv2d"),
            data_format=_FORMATS[self.channels_last][2],
            dilations=list(p.dilation),
        )

    def _separable_call(self, x: Any, depth: Any, point: Any, p: Conv) -> Any:
        return self._tf.nn.separable_conv2d(
            x,
            depth,
            point,
            self._full(p.stride),
            self._padding(p, "tf.nn.separable_conv2d"),
            data_format=_FORMATS[self.channels_last][2],
            dilations=list(p.dilation),
        )

    # --- layouts and arguments -----------------------------------------------------
    def _full(self, values: Sequence[int]) -> list[int]:
        """Per-axis values as TF's length-(rank+2) list, 1 on the batch and channel axes."""
        inner = [int(v) for v in values]
        return [1, *inner, 1] if self.channels_last else [1, 1, *inner]

    def _padding(self, p: Conv | ConvTranspose, api: str) -> str | list[list[int]]:
        if isinstance(p.padding, str):
            return same_or_valid(p, api)
        pairs = [[int(b), int(e)] for b, e in p.padding]
        return [[0, 0], *pairs, [0, 0]] if self.channels_last else [[0, 0], [0, 0], *pairs]

    # --- repro scripts (suites/repro.py) -------------------------------------------
    def repro_source(self, op: str, p: Params, dtype: str) -> str | None:
        if self.support(op) is None or not isinstance(p, Conv | ConvTranspose):
            return None
        if self._untranslatable(op, p, {}):
            return None
        try:
            statements = self._repro_statements(op, p)
        except UnsupportedError:
            return None
        body = "\n".join(f"    {line}" for line in statements.splitlines())
        return _REPRO_TEMPLATE.format(
            environment=onednn_environment(self._onednn),
            dtype=dtype,
            channels_last=self.channels_last,
            rank=p.rank,
            helpers=function_sources(*_REPRO_HELPERS),
            body=body,
            runner=self._repro_runner,
        )

    def _repro_statements(self, op: str, p: Conv | ConvTranspose) -> str:
        """Statements setting `y` (this surface's layout) from canonical tensors, as `_forward`."""
        fmt = _FORMATS[self.channels_last][p.rank]
        if op == CONV and isinstance(p, Conv):
            return f"y = {self._repro_conv_call(p, fmt)}"
        if op == CONV_TRANSPOSE and isinstance(p, ConvTranspose):
            return (
                f"shape = layout_shape(transposed_shape(x.shape, w.shape, "
                f"{_repro_transposed_sizes(p)}, {p.groups!r}), CHANNELS_LAST)\n"
                f"y = {self._repro_transpose_call(p, fmt)}"
            )
        if op == DEPTHWISE_CONV and isinstance(p, Conv):
            return (
                f"y = tf.nn.depthwise_conv2d({_X}, depthwise_filter(tf, w, int(x.shape[1])), "
                f"{self._full(p.stride)!r}, {self._padding(p, 'tf.nn.depthwise_conv2d')!r}, "
                f"data_format={_FORMATS[self.channels_last][2]!r}, "
                f"dilations={list(p.dilation)!r})"
            )
        if op == SEPARABLE_CONV and isinstance(p, Conv):
            return (
                f"y = tf.nn.separable_conv2d({_X}, "
                "depthwise_filter(tf, w_depth, int(x.shape[1])), hwio(tf, w_point), "
                f"{self._full(p.stride)!r}, {self._padding(p, 'tf.nn.separable_conv2d')!r}, "
                f"data_format={_FORMATS[self.channels_last][2]!r}, "
                f"dilations={list(p.dilation)!r})"
            )
        raise UnsupportedError(f"{self.name} has no {op}")

    def _repro_conv_call(self, p: Conv, fmt: str) -> str:
        """The source of `_conv_call` on the laid-out x and w."""
        api = {1: "conv1d", 2: "conv2d", 3: "conv3d"}[p.rank]
        return (
            f"tf.nn.{api}({_X}, {_W}, {self._full(p.stride)!r}, "
            f"{self._padding(p, f'tf.nn.{api}')!r}, data_format={fmt!r}, "
            f"dilations={self._full(p.dilation)!r})"
        )

    def _repro_transpose_call(self, p: ConvTranspose, fmt: str) -> str:
        """The source of `_transpose_call` on the laid-out x and w and `shape`."""
        api = {1: "conv1d_transpose", 2: "conv2d_transpose", 3: "conv3d_transpose"}[p.rank]
        return (
            f"tf.nn.{api}({_X}, {_W}, shape, {self._full(p.stride)!r}, "
            f"{self._padding(p, f'tf.nn.{api}')!r}, data_format={fmt!r}, "
            f"dilations={self._full(p.dilation)!r})"
        )

    # --- declarations ----------------------------------------------------------------
    def _check_translatable(self, op: str, p: Params, shapes: Shapes) -> None:
        problem = self._untranslatable(op, p, shapes)
        if problem:
            raise UnsupportedError(problem)

    def _untranslatable(self, op: str, p: Params, shapes: Shapes) -> str | None:
        """Why p cannot be handed to TF at all (no argument expresses it), or None."""
        support = self.capabilities.ops.get(op)
        leading = extension(support, "leading_batch_axes") if support else None
        extra = _extra_axes_problem(p, shapes, self.name, leading)
        if extra:
            return extra
        if op == CONV and isinstance(p, Conv):
            return _inferred_groups_problem(p, shapes, self.name)
        if op == CONV_TRANSPOSE and isinstance(p, ConvTranspose):
            if p.groups < 1:
                # The groups only size the output_shape this adapter computes.
                return f"{self.name} conv*_transpose takes no groups argument: groups={p.groups}"
            return string_output_padding_problem(p, self.name)
        if op in (DEPTHWISE_CONV, SEPARABLE_CONV) and isinstance(p, Conv):
            return depthwise_shape_problem(p, shapes, f"{self.name} depthwise")
        return None

    def limitation(self, op: str, p: Params, shapes: Shapes, dtype: str) -> str | None:
        untranslatable = self._untranslatable(op, p, shapes)
        if untranslatable:
            return untranslatable
        return self.documented_rejection(op, p, shapes, dtype)

    def documented_rejection(self, op: str, p: Params, shapes: Shapes, dtype: str) -> str | None:
        """What TensorFlow documents (or says when it raises) that it does not support."""
        if not isinstance(p, Conv | ConvTranspose):
            return None
        grouped = p.groups > 1
        if op in (CONV, CONV_TRANSPOSE):
            if not isinstance(p.padding, str) and p.rank != 2:
                return (
                    "tf.nn.conv1d / conv3d and their transposes take padding 'SAME' or 'VALID' "
                    "only (API docs); explicit paddings are a tf.nn.conv2d feature"
                )
            if grouped and p.rank == 3:
                return (
                    "tf.nn.conv3d has no grouped form: in_channels must match between input "
                    "and filters (API docs; Conv3D raises 'input and filter must have the "
                    "same depth')"
                )
        if op == CONV and dtype in self._eigen_dtypes and p.rank == 3 and max(p.dilation) > 1:
            return (
                f"TF's Eigen Conv3D kernel ({dtype}): 'CPU implementation of Conv3D currently "
                "only supports dilated rates of 1'"
            )
        # TF hands explicit-padding transposed convolutions to Eigen even with oneDNN on.
        if op == CONV_TRANSPOSE and (dtype in self._eigen_dtypes or not isinstance(p.padding, str)):
            kernel = f"TF's Eigen transposed convolution kernel ({dtype}, padding {p.padding!r})"
            if grouped:
                return f"{kernel}: 'Gradients for grouped convolutions are not supported on CPU'"
            if max(p.dilation) > 1:
                return (
                    f"{kernel}: 'Current CPU implementations do not yet support dilation rates "
                    "larger than 1'"
                )
        if (
            op in (DEPTHWISE_CONV, SEPARABLE_CONV)
            and dtype in self._eigen_dtypes
            and len(set(p.stride)) > 1
        ):
            return (
                f"TF's Eigen DepthwiseConv2dNative ({dtype}): 'Current implementation only "
                "supports equal length strides in the row and column dimensions'"
            )
        return None

    def gradient_limitation(self, op: str, p: Params, shapes: Shapes, dtype: str) -> str | None:
        """Why TF computes op here but cannot differentiate it (for vjp), or None.

        The Adapter hook of that name (the gradient suite reads it). TF runs the
        backprop kernels on Eigen for Eigen dtypes and, even with oneDNN on, for
        explicit padding; those reject what the forward Eigen kernels reject and more
        (found by calling each vjp in each dtype).
        """
        forward = self.limitation(op, p, shapes, dtype)
        if forward or not isinstance(p, Conv | ConvTranspose):
            return forward
        if dtype not in self._eigen_dtypes and isinstance(p.padding, str):
            return None
        kernel = f"TF's Eigen backprop kernels ({dtype}, padding {p.padding!r})"
        if not self.channels_last:
            return f"{kernel} support only channels-last formats"
        if op == CONV and (p.groups > 1 or max(p.dilation) > 1):
            return (
                f"{kernel}: Conv2DBackpropInput says 'Gradients for grouped convolutions are "
                "not supported on CPU' / 'do not yet support dilation rates larger than 1'"
            )
        if op in (DEPTHWISE_CONV, SEPARABLE_CONV) and len(set(p.stride)) > 1:
            return (
                f"{kernel}: DepthwiseConv2dNativeBackpropInput 'only supports equal length "
                "strides in the row and column dimensions'"
            )
        return None


def _repro_transposed_sizes(p: ConvTranspose) -> str:
    """Per axis (stride, dilation, pads or 'valid'/'same', output_padding), as a literal."""
    pads: list[Any] = (
        [p.padding] * p.rank
        if isinstance(p.padding, str)
        else [(int(b), int(e)) for b, e in p.padding]
    )
    axes = zip(p.stride, p.dilation, pads, p.output_padding, strict=True)
    return repr([(int(s), int(d), pad, int(op)) for s, d, pad, op in axes])


# The surfaces ask reference.sizes for a transposed convolution's output shape, which a repro
# script cannot import: the scripts compute it with this function, TCONV.3 and TCONV.4 as
# reference.sizes.conv_transpose_output_shape gives them.
def transposed_shape(x_shape: Any, w_shape: Any, axes: Any, groups: int) -> list[int]:
    """The canonical output shape asked of TF, each spatial axis given as (stride, dilation,
    (begin, end) pads or 'valid' / 'same', output_padding): explicit pads give
    (n - 1)*s - begin - end + d*(k - 1) + 1 + output_padding; 'valid' gives
    n*s + max(d*(k - 1) + 1 - s, 0); 'same' gives n*s; never below 0."""
    n, _, *spatial = (int(v) for v in x_shape)
    out = []
    for size, k, (s, d, pads, extra) in zip(spatial, w_shape[2:], axes, strict=True):
        k_eff = d * (int(k) - 1) + 1
        if pads == "valid":
            out.append(size * s + max(k_eff - s, 0))
        elif pads == "same":
            out.append(size * s)
        else:
            out.append(max((size - 1) * s - pads[0] - pads[1] + k_eff + extra, 0))
    return [n, int(w_shape[1]) * groups, *out]


# What a repro script's statements call: the functions the surfaces call, and transposed_shape.
_REPRO_HELPERS = (
    to_layout,
    from_layout,
    hwio,
    depthwise_filter,
    layout_shape,
    canonical_result,
    transposed_shape,
)
# The laid-out operands x and w, in a repro script's statements.
_X = "to_layout(tf, x, RANK, CHANNELS_LAST)"
_W = "hwio(tf, w)"

_REPRO_TEMPLATE = """\
import os

{environment}os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
from typing import Any

import numpy as np
import tensorflow as tf

DTYPE = tf.{dtype}
CHANNELS_LAST = {channels_last}
RANK = {rank}


{helpers}


def _forward(x, w=None, b=None, w_depth=None, w_point=None):
{body}
    return canonical_result(tf, y, b, RANK, CHANNELS_LAST)


def call(**arrays):
    # The values are exactly representable in DTYPE: the conversion is exact.
    tensors = {{
        k: tf.constant(np.asarray(a, dtype=np.float64).astype(DTYPE.as_numpy_dtype))
        for k, a in arrays.items()
        if a is not None
    }}
    y = {runner}(**tensors)
    return np.asarray(y.numpy()).astype(np.float64)
"""


class TfConvolutionAdapter(TfNnAdapter):
    """The rank-generic entry points tf.nn.convolution and tf.nn.conv_transpose.

    Both document padding as 'VALID' or 'SAME' only, and tf.nn.convolution
    rejects strides > 1 together with dilations > 1 (its docs: "If any value
    of strides is > 1, then all values of dilation_rate must be 1").
    """

    name = "tf.nn.convolution"

    def _capabilities(self) -> Capabilities:
        nn = _nn_capabilities(ALL_DTYPES, exact_kernels())
        conv, transpose = nn.ops[CONV], nn.ops[CONV_TRANSPOSE]
        return Capabilities(
            ops={
                CONV: OpSupport(
                    ranks=conv.ranks,
                    dtypes=conv.dtypes,
                    padding=STRING_PADDING,
                    dilation_with_stride=False,
                    exact=conv.exact,
                ),
                CONV_TRANSPOSE: OpSupport(
                    ranks=transpose.ranks,
                    dtypes=transpose.dtypes,
                    padding=STRING_PADDING,
                    output_padding_rule="",
                    exact=transpose.exact,
                ),
            },
            gradients=frozenset({CONV, CONV_TRANSPOSE}),
        )

    def _conv_call(self, x: Any, f: Any, p: Conv) -> Any:
        return self._tf.nn.convolution(
            x,
            f,
            strides=list(p.stride),
            padding=self._padding(p, "tf.nn.convolution"),
            data_format=_FORMATS[self.channels_last][p.rank],
            dilations=list(p.dilation),
        )

    def _transpose_call(self, x: Any, f: Any, output_shape: list[int], p: ConvTranspose) -> Any:
        return self._tf.nn.conv_transpose(
            x,
            f,
            output_shape,
            list(p.stride),
            padding=self._padding(p, "tf.nn.conv_transpose"),
            data_format=_FORMATS[self.channels_last][p.rank],
            dilations=list(p.dilation),
        )

    def _repro_conv_call(self, p: Conv, fmt: str) -> str:
        return (
            f"tf.nn.convolution({_X}, {_W}, strides={list(p.stride)!r}, "
            f"padding={self._padding(p, 'tf.nn.convolution')!r}, data_format={fmt!r}, "
            f"dilations={list(p.dilation)!r})"
        )

    def _repro_transpose_call(self, p: ConvTranspose, fmt: str) -> str:
        return (
            f"tf.nn.conv_transpose({_X}, {_W}, shape, {list(p.stride)!r}, "
            f"padding={self._padding(p, 'tf.nn.conv_transpose')!r}, data_format={fmt!r}, "
            f"dilations={list(p.dilation)!r})"
        )


class TfAtrousAdapter(TfNnAdapter):
    """tf.nn.atrous_conv2d and tf.nn.atrous_conv2d_transpose.

    Their docs: 2-D, no stride argument, one `rate` for both spatial axes,
    padding 'VALID' or 'SAME'.
    """

    name = "tf.nn.atrous"

    def _capabilities(self) -> Capabilities:
        conv = OpSupport(
            ranks=frozenset({2}),
            dtypes=ALL_DTYPES,
            padding=STRING_PADDING,
            strided_same=False,
            dilation_with_stride=False,
            output_padding_rule="",
            exact=exact_kernels(),
        )
        # atrous_conv2d_transpose checks output_shape[3] == filters.shape[2] in Python:
        # "`output_shape` channel count must be compatible with `filters` output channel count".
        transpose = dataclasses.replace(conv, groups=False)
        ops = {CONV: conv, CONV_TRANSPOSE: transpose}
        return Capabilities(ops=ops, gradients=frozenset({CONV}))

    def _conv_call(self, x: Any, f: Any, p: Conv) -> Any:
        return self._tf.nn.atrous_conv2d(
            x, f, int(p.dilation[0]), self._padding(p, "tf.nn.atrous_conv2d")
        )

    def _transpose_call(self, x: Any, f: Any, output_shape: list[int], p: ConvTranspose) -> Any:
        padding = self._padding(p, "tf.nn.atrous_conv2d_transpose")
        return self._tf.nn.atrous_conv2d_transpose(x, f, output_shape, int(p.dilation[0]), padding)

    def _repro_conv_call(self, p: Conv, fmt: str) -> str:
        padding = self._padding(p, "tf.nn.atrous_conv2d")
        rate = int(p.dilation[0])
        return f"tf.nn.atrous_conv2d({_X}, {_W}, {rate!r}, {padding!r})"

    def _repro_transpose_call(self, p: ConvTranspose, fmt: str) -> str:
        padding = self._padding(p, "tf.nn.atrous_conv2d_transpose")
        return (
            f"tf.nn.atrous_conv2d_transpose({_X}, {_W}, shape, {int(p.dilation[0])!r}, {padding!r})"
        )

    def _untranslatable(self, op: str, p: Params, shapes: Shapes) -> str | None:
        if isinstance(p, Conv | ConvTranspose) and op in (CONV, CONV_TRANSPOSE):
            if any(s != 1 for s in p.stride):
                return f"tf.nn.atrous_conv2d{'' if op == CONV else '_transpose'} has no stride"
            if len(set(p.dilation)) != 1:
                return "tf.nn.atrous_conv2d takes one rate for both spatial axes"
        return super()._untranslatable(op, p, shapes)


class TfNchwAdapter(TfNnAdapter):
    """The tf.nn calls with channels-first data_format (NCW, NCHW, NCDHW).

    TensorFlow's CPU kernels run channels-first convolutions only through
    oneDNN, so only oneDNN's dtypes are declared, and the surface is
    unavailable when oneDNN is off (it needs a GPU then).
    """

    name = "tf.nn.nchw"
    channels_last = False

    def __init__(self) -> None:
        super().__init__()
        if not self._onednn:
            raise ImportError(
                "NCHW convolution needs a GPU or oneDNN in TensorFlow: the Eigen CPU kernels "
                "support only NHWC ('The Conv2D op currently only supports the NHWC tensor "
                "format on the CPU'), and TF_ENABLE_ONEDNN_OPTS=0 turned oneDNN off"
            )

    def _capabilities(self) -> Capabilities:
        nn = _nn_capabilities(onednn_dtypes(self._onednn), exact_kernels())
        # An explicit-padding transposed convolution runs TF's Eigen kernel even with oneDNN
        # on, and that kernel says 'Conv2DCustomBackpropInputOp only supports NHWC'.
        transpose = dataclasses.replace(nn.ops[CONV_TRANSPOSE], padding=STRING_PADDING)
        # tf.nn.bias_add's 'NC...' format reads the channels at axis 1, so this adapter
        # cannot add a bias behind leading batch axes: it does not declare them.
        conv = dataclasses.replace(nn.ops[CONV], extensions=())
        return dataclasses.replace(nn, ops={**nn.ops, CONV: conv, CONV_TRANSPOSE: transpose})


class TfFunctionAdapter(TfNnAdapter):
    """The tf.nn calls (and their gradients) traced by tf.function, jit_compile=False.

    One traced function per operation and parameter set; TF retraces it for
    new input shapes or dtypes.
    """

    name = "tf.function"

    def __init__(self) -> None:
        super().__init__()
        self._graphs: dict[tuple[Any, ...], Any] = {}

    _repro_runner = "tf.function(_forward, jit_compile=False, autograph=False)"

    def _mode(self) -> str:
        return ", graph mode (tf.function, jit_compile=False)"

    def _run(self, key: tuple[Any, ...], fn: Callable[..., Any], tensors: dict[str, Any]) -> Any:
        if key not in self._graphs:
            self._graphs[key] = self._tf.function(fn, jit_compile=False, autograph=False)
        return self._graphs[key](**tensors)


class TfFunctionProxy(ProxyAdapter):
    """The tf.function surface, run in a child process.

    TF's graph optimizer aborts the whole process on some valid graphs (a
    failed CHECK in DepthwiseConv2DNative shape inference once grappler has
    fused depthwise_conv2d with explicit padding and bias_add under oneDNN), so
    graph mode runs where an abort is a BackendCrash, not the end of the run.
    """

    name = "tf.function"
    framework = "tensorflow"
    # A child process with its own framework import: tested when named with --backend.
    opt_in = True

    def __init__(self) -> None:
        _require_tensorflow()
        super().__init__("adapters.tf_backend:TfFunctionAdapter", wait=False)


def _require_tensorflow() -> None:
    """ImportError without TensorFlow, checked before any child process is started."""
    import importlib.util

    if importlib.util.find_spec("tensorflow") is None:
        raise ImportError("No module named 'tensorflow'")


class TfOnednnOffAdapter(ProxyAdapter):
    """The tf.nn surface in a child process whose TensorFlow has oneDNN off.

    TF reads TF_ENABLE_ONEDNN_OPTS once, when it is imported, and the parent
    process's TensorFlow has oneDNN on by default; so the Eigen kernels of
    float32 and bfloat16 can be reached only from another process.
    """

    name = "tf.nn.onednn_off"
    # A child process with its own framework import: tested when named with --backend.
    opt_in = True
    framework = "tensorflow"

    def __init__(self) -> None:
        _require_tensorflow()
        # wait=False: the child imports TensorFlow while this process goes on.
        super().__init__(
            "adapters.tf_backend:TfNnAdapter", {"TF_ENABLE_ONEDNN_OPTS": "0"}, wait=False
        )

    def describe(self) -> str:
        return super().describe() + " (the parent process's TensorFlow has oneDNN on by default)"


SURFACES: dict[str, Callable[[], Adapter]] = {
    "tf.nn": TfNnAdapter,
    "tf.nn.convolution": TfConvolutionAdapter,
    "tf.nn.atrous": TfAtrousAdapter,
    "tf.nn.nchw": TfNchwAdapter,
    "tf.function": TfFunctionProxy,
    "tf.nn.onednn_off": TfOnednnOffAdapter,
}
