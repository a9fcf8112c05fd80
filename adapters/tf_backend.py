"""TensorFlow and Keras 3 surfaces, channels-last unless named otherwise.

  tf.nn              tf.nn.conv1d / conv2d / conv3d, conv1d / conv2d / conv3d_transpose,
                     depthwise_conv2d, separable_conv2d, eagerly, in NWC / NHWC / NDHWC
  tf.nn.convolution  the rank-generic tf.nn.convolution and tf.nn.conv_transpose
  tf.nn.atrous       tf.nn.atrous_conv2d and atrous_conv2d_transpose (stride 1, one rate)
  tf.nn.nchw         the tf.nn calls with data_format NCW / NCHW / NCDHW
  tf.function        the tf.nn calls traced by tf.function (graph mode, jit_compile=False),
                     in a child process (TF's graph optimizer can abort the process)
  tf.nn.onednn_off   the tf.nn surface in a child process started with TF_ENABLE_ONEDNN_OPTS=0
  keras              Keras 3 layers (TensorFlow backend): Conv{1,2,3}D, Conv{1,2,3}DTranspose,
                     DepthwiseConv{1,2}D, SeparableConv{1,2}D

Which kernels run. On x86, TensorFlow enables its oneDNN kernels by default
on CPUs with AVX-512 VNNI/BF16 or AMX (TF_ENABLE_ONEDNN_OPTS, read once at
import, overrides that). With oneDNN on, float32 convolutions run oneDNN
("_MklNative*" ops in error messages); bfloat16 does only on CPUs with AVX-512F
(or AVX-NE-CONVERT), float16 only on CPUs with AVX-512BW and AVX-512 FP16 or
AMX FP16 (or AVX-NE-CONVERT) (IsDataTypeSupportedByOneDNNOnThisCPU,
tensorflow/core/util/util.cc); everything else, float64 always, runs Eigen.
`_onednn_dtypes` applies that rule to this CPU's flags.
Transposed convolutions and all gradients with explicit padding run Eigen even
for float32 and bfloat16. The two accept different things on CPU, found by
calling each op in each dtype:
  - Eigen transposed convolution (Conv2DBackpropInput, Conv3DBackpropInputV2)
    rejects dilation > 1 ("Current CPU implementations do not yet support
    dilation rates larger than 1") and groups > 1 ("Gradients for grouped
    convolutions are not supported on CPU"); oneDNN accepts both for ranks 1-2;
  - Eigen DepthwiseConv2dNative rejects unequal row and column strides
    ("Current implementation only supports equal length strides in the row
    and column dimensions");
  - only oneDNN runs NCHW formats; the Eigen kernels raise "The Conv2D op
    currently only supports the NHWC tensor format on the CPU";
  - Eigen Conv3D rejects dilation > 1 ("CPU implementation of Conv3D currently
    only supports dilated rates of 1");
  - Conv3D and its gradients have no grouped form in either ("input and filter
    must have the same depth").
The parent process's TensorFlow has oneDNN on unless TF_ENABLE_ONEDNN_OPTS=0
was set before it was imported; tf.nn.onednn_off runs the Eigen kernels for
every dtype, which is why it lives in a separate process.

How `exact` (NUM.5) was decided. TF's oneDNN convolutions request
dnnl::algorithm::convolution_direct (tensorflow/core/kernels/mkl/mkl_conv_ops.cc
and its backprop siblings), never Winograd. The Eigen kernels are im2col plus
a GEMM contraction. TF's only CPU transform algorithm, the Winograd
"DeepConv2D" path of conv_ops.cc, runs only when TF_USE_DEEP_CONV2D is set,
so `exact` is False exactly when that variable is set. Keras runs grouped
convolutions through XLA (jit_compile=True), whose CPU convolution runtime is
an Eigen contraction (xla/service/cpu/runtime_conv2d*), not a transform.

No tf.nn convolution takes a bias argument; the tf.nn surfaces add one with
tf.nn.bias_add, TF's bias API (as Keras's layers do, and as TF's graph
optimizer fuses into _FusedConv2D under tf.function with oneDNN). TensorFlow is
imported only inside the factories, so listing the surface names does not
import it.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import os
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from adapters import cpu
from adapters.base import (
    CONV,
    CONV_TRANSPOSE,
    DEPTHWISE_CONV,
    DTYPES,
    SEPARABLE_CONV,
    Adapter,
    Capabilities,
    Extension,
    OpSupport,
    UnsupportedError,
    extension,
)
from adapters.subprocess_proxy import ProxyAdapter
from reference.params import Conv, ConvTranspose, Params
from reference.sizes import conv_transpose_output_shape, effective_kernel

_ALL = frozenset(DTYPES)
_EXPLICIT = frozenset({"symmetric", "asymmetric"})
_STRINGS = frozenset({"valid", "same"})
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
Shapes = Mapping[str, Any]


def _import_tf() -> Any:
    # Quiet TF's C++ logging unless the user chose a level.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf

    return tf


def _onednn_enabled() -> bool:
    """Whether this process's TensorFlow runs its oneDNN kernels (TF_ENABLE_ONEDNN_OPTS)."""
    from tensorflow.python.util import _pywrap_util_port

    return bool(_pywrap_util_port.IsMklEnabled())


def _onednn_op_dtypes(onednn: bool) -> frozenset[str]:
    """The dtypes TensorFlow hands to its oneDNN ops on this CPU (module docstring). TF tests
    the CPU's own features, so ONEDNN_MAX_CPU_ISA does not change this set."""
    if not onednn:
        return frozenset()
    has = cpu.flags().__contains__
    dtypes = {"float32"}
    if has("avx512f") or has("avx_ne_convert"):
        dtypes.add("bfloat16")
    if (has("avx512bw") and (has("avx512_fp16") or has("amx_fp16"))) or has("avx_ne_convert"):
        dtypes.add("float16")
    return frozenset(dtypes)


def _onednn_dtypes(onednn: bool) -> frozenset[str]:
    """The dtypes whose convolutions run oneDNN's kernels here, not Eigen's.

    Where ONEDNN_MAX_CPU_ISA keeps oneDNN below the level a dtype needs (AVX-512 for
    bfloat16, AVX-512 FP16 for float16), TensorFlow's Conv3D and depthwise ops run Eigen's
    kernels for it, with Eigen's limits (seen in the known-issue sweeps of
    benchmarks/RESULTS.md); on a real CPU the two sets are the same."""
    isa = cpu.onednn_isa()
    needs = {"float32": "sse41", "bfloat16": "avx512_core", "float16": "avx512_core_fp16"}
    return frozenset(d for d in _onednn_op_dtypes(onednn) if isa >= needs[d])


def _exact() -> bool:
    """False when TF may use its Winograd DeepConv2D path (see the module docstring)."""
    return os.environ.get("TF_USE_DEEP_CONV2D", "").lower() not in ("1", "true")


# --- translation of convspec parameters (plain Python, no TensorFlow) ----------------------


def _same_or_valid(p: Conv | ConvTranspose, api: str) -> str:
    if isinstance(p, Conv) and p.padding == "same" and p.same_split != "end":
        raise UnsupportedError(f"{api} padding='SAME' puts the odd pixel at the end")
    return str(p.padding).upper()


def _depthwise_shape_problem(p: Conv, shapes: Shapes, api: str) -> str | None:
    """Why a (C_in*m, 1, *k) depthwise weight with groups == C_in cannot be given to `api`.

    The framework's depthwise filter is (*k, C_in, m): it has no axis for the
    canonical weight's C_in/groups and no groups argument.
    """
    x, w = shapes.get("x"), shapes.get("w") or shapes.get("w_depth")
    if not x or not w or len(x) < 2 or len(w) < 2:
        return None
    c_in = x[1]
    if w[1] != 1 or c_in < 1 or w[0] % c_in != 0 or p.groups != c_in:
        return (
            f"{api} takes a (*k, C_in, multiplier) filter: it cannot express a weight of shape "
            f"{tuple(w)} with groups={p.groups} for {c_in} input channels"
        )
    return None


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


def _string_output_padding_problem(p: ConvTranspose, api: str) -> str | None:
    if isinstance(p.padding, str) and any(op != 0 for op in p.output_padding):
        return f"{api} has no output_padding argument to give with padding={p.padding!r}"
    return None


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
        problem = _string_output_padding_problem(p, "keras ConvTranspose")
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


def _shapes(arrays: Mapping[str, np.ndarray | None]) -> dict[str, tuple[int, ...] | None]:
    return {k: None if a is None else tuple(np.shape(a)) for k, a in arrays.items()}


# --- TensorFlow surfaces --------------------------------------------------------------------


def _nn_capabilities(dtypes: frozenset[str], exact: bool) -> Capabilities:
    explicit_or_string = _EXPLICIT | _STRINGS
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

    def __init__(self) -> None:
        self._tf = _import_tf()
        self._onednn = _onednn_enabled()
        # Dtypes that run TF's Eigen kernels, with their CPU restrictions.
        self._eigen_dtypes = _ALL - _onednn_dtypes(self._onednn)
        self.capabilities = self._capabilities()

    def _capabilities(self) -> Capabilities:
        return _nn_capabilities(_ALL, _exact())

    def version(self) -> str:
        return str(self._tf.__version__)

    def platform(self) -> dict[str, Any]:
        return {
            "tf_onednn": self._onednn,
            "tf_onednn_dtypes": _onednn_op_dtypes(self._onednn),
            "tf_eigen_dtypes": self._eigen_dtypes,
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
        if op == CONV:
            y = self._conv_call(self._to_layout(t["x"], p.rank), self._filter(t["w"]), p)
        elif op == CONV_TRANSPOSE:
            shape = conv_transpose_output_shape(tuple(t["x"].shape), tuple(t["w"].shape), p)
            y = self._transpose_call(
                self._to_layout(t["x"], p.rank), self._filter(t["w"]), self._order(shape), p
            )
        elif op == DEPTHWISE_CONV:
            depth = self._depthwise_filter(t["w"], int(t["x"].shape[1]))
            y = self._depthwise_call(self._to_layout(t["x"], p.rank), depth, p)
        elif op == SEPARABLE_CONV:
            depth = self._depthwise_filter(t["w_depth"], int(t["x"].shape[1]))
            point = self._filter(t["w_point"])
            y = self._separable_call(self._to_layout(t["x"], p.rank), depth, point, p)
        else:
            raise UnsupportedError(f"{self.name} has no {op}")
        if "b" in t:
            layout = "N...C" if self.channels_last else "NC..."
            y = self._tf.nn.bias_add(y, t["b"], data_format=layout)
        return self._from_layout(y, p.rank)

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
            return _same_or_valid(p, api)
        pairs = [[int(b), int(e)] for b, e in p.padding]
        return [[0, 0], *pairs, [0, 0]] if self.channels_last else [[0, 0], [0, 0], *pairs]

    def _order(self, canonical_shape: Sequence[int]) -> list[int]:
        """A canonical (N, C, *spatial) shape in this surface's layout."""
        n, c, *spatial = (int(v) for v in canonical_shape)
        return [n, *spatial, c] if self.channels_last else [n, c, *spatial]

    def _to_layout(self, x: Any, rank: int) -> Any:
        """Canonical (*batch, C, *spatial) -> TF's (*batch, *spatial, C) for a rank-r call.

        Every axis before the last r + 1 is a batch axis: one for the canonical layout,
        more under the extension `leading_batch_axes`."""
        if not self.channels_last:
            return x
        axes, c = len(x.shape), len(x.shape) - rank - 1
        return self._tf.transpose(x, [*range(c), *range(c + 1, axes), c])

    def _from_layout(self, y: Any, rank: int) -> Any:
        if not self.channels_last:
            return y
        axes, c = len(y.shape), len(y.shape) - rank - 1
        return self._tf.transpose(y, [*range(c), axes - 1, *range(c, axes - 1)])

    def _filter(self, w: Any) -> Any:
        """(A, B, *k) -> (*k, B, A): conv (C_out, C_in/g, *k) -> TF's (*k, C_in/g, C_out), and
        conv_transpose (C_in, C_out/g, *k) -> TF's (*k, C_out/g, C_in)."""
        rank = len(w.shape)
        return self._tf.transpose(w, [*range(2, rank), 1, 0])

    def _depthwise_filter(self, w: Any, c_in: int) -> Any:
        """(C_in*m, 1, *k) -> TF's (*k, C_in, m): output channel c*m + j is filter[..., c, j]."""
        rank = len(w.shape)
        kernel = [int(k) for k in w.shape[2:]]
        return self._tf.reshape(
            self._tf.transpose(w, [*range(2, rank), 0, 1]), [*kernel, c_in, int(w.shape[0]) // c_in]
        )

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
        layout = "N...C" if self.channels_last else "NC..."
        body = "\n".join(f"    {line}" for line in statements.splitlines())
        # TF reads TF_ENABLE_ONEDNN_OPTS once, at import: the script must set it first.
        environment = "" if self._onednn else 'os.environ["TF_ENABLE_ONEDNN_OPTS"] = "0"\n'
        runner = (
            "tf.function(_forward, jit_compile=False, autograph=False)"
            if isinstance(self, TfFunctionAdapter)
            else "_forward"
        )
        return _TF_REPRO_TEMPLATE.format(
            environment=environment,
            dtype=dtype,
            channels_last=self.channels_last,
            rank=p.rank,
            body=body,
            bias_format=layout,
            runner=runner,
        )

    def _repro_statements(self, op: str, p: Conv | ConvTranspose) -> str:
        """Statements setting `y` (this surface's layout) from canonical tensors, as `_forward`."""
        fmt = _FORMATS[self.channels_last][p.rank]
        if op == CONV and isinstance(p, Conv):
            return f"y = {self._repro_conv_call(p, fmt)}"
        if op == CONV_TRANSPOSE and isinstance(p, ConvTranspose):
            return (
                f"shape = _order(_transposed_shape(x.shape, w.shape, {_repro_transposed_sizes(p)}"
                f", {p.groups!r}))\n"
                f"y = {self._repro_transpose_call(p, fmt)}"
            )
        if op == DEPTHWISE_CONV and isinstance(p, Conv):
            return (
                f"y = tf.nn.depthwise_conv2d(_to_layout(x), _depthwise_filter(w, int(x.shape[1])), "
                f"{self._full(p.stride)!r}, {self._padding(p, 'tf.nn.depthwise_conv2d')!r}, "
                f"data_format={_FORMATS[self.channels_last][2]!r}, "
                f"dilations={list(p.dilation)!r})"
            )
        if op == SEPARABLE_CONV and isinstance(p, Conv):
            return (
                "y = tf.nn.separable_conv2d(_to_layout(x), "
                "_depthwise_filter(w_depth, int(x.shape[1])), _filter(w_point), "
                f"{self._full(p.stride)!r}, {self._padding(p, 'tf.nn.separable_conv2d')!r}, "
                f"data_format={_FORMATS[self.channels_last][2]!r}, "
                f"dilations={list(p.dilation)!r})"
            )
        raise UnsupportedError(f"{self.name} has no {op}")

    def _repro_conv_call(self, p: Conv, fmt: str) -> str:
        """The source of `_conv_call` on _to_layout(x) and _filter(w)."""
        api = {1: "conv1d", 2: "conv2d", 3: "conv3d"}[p.rank]
        return (
            f"tf.nn.{api}(_to_layout(x), _filter(w), {self._full(p.stride)!r}, "
            f"{self._padding(p, f'tf.nn.{api}')!r}, data_format={fmt!r}, "
            f"dilations={self._full(p.dilation)!r})"
        )

    def _repro_transpose_call(self, p: ConvTranspose, fmt: str) -> str:
        """The source of `_transpose_call` on _to_layout(x), _filter(w) and `shape`."""
        api = {1: "conv1d_transpose", 2: "conv2d_transpose", 3: "conv3d_transpose"}[p.rank]
        return (
            f"tf.nn.{api}(_to_layout(x), _filter(w), shape, {self._full(p.stride)!r}, "
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
            return _string_output_padding_problem(p, self.name)
        if op in (DEPTHWISE_CONV, SEPARABLE_CONV) and isinstance(p, Conv):
            return _depthwise_shape_problem(p, shapes, f"{self.name} depthwise")
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


_TF_REPRO_TEMPLATE = """\
import os

{environment}os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import numpy as np
import tensorflow as tf

DTYPE = tf.{dtype}
CHANNELS_LAST = {channels_last}
RANK = {rank}


def _tensor(a):
    # The values are exactly representable in DTYPE: the conversion is exact.
    return tf.constant(np.asarray(a, dtype=np.float64).astype(DTYPE.as_numpy_dtype))


def _to_layout(x):
    # (*batch, C, *spatial) -> (*batch, *spatial, C): the axes before the last RANK + 1
    # are batch axes.
    if not CHANNELS_LAST:
        return x
    axes, c = len(x.shape), len(x.shape) - RANK - 1
    return tf.transpose(x, [*range(c), *range(c + 1, axes), c])


def _from_layout(y):
    if not CHANNELS_LAST:
        return y
    axes, c = len(y.shape), len(y.shape) - RANK - 1
    return tf.transpose(y, [*range(c), axes - 1, *range(c, axes - 1)])


def _order(shape):
    n, c, *spatial = (int(v) for v in shape)
    return [n, *spatial, c] if CHANNELS_LAST else [n, c, *spatial]


def _filter(w):
    # (A, B, *k) -> TF's (*k, B, A).
    return tf.transpose(w, [*range(2, len(w.shape)), 1, 0])


def _depthwise_filter(w, c_in):
    # (C_in*m, 1, *k) -> TF's (*k, C_in, m): output channel c*m + j is filter[..., c, j].
    kernel = [int(k) for k in w.shape[2:]]
    moved = tf.transpose(w, [*range(2, len(w.shape)), 0, 1])
    return tf.reshape(moved, [*kernel, c_in, int(w.shape[0]) // c_in])


def _transposed_shape(x_shape, w_shape, axes, groups):
    # The canonical output shape asked of TF: explicit pads give
    # (n - 1)*s - begin - end + d*(k - 1) + 1 + output_padding; 'valid' gives
    # n*s + max(d*(k - 1) + 1 - s, 0); 'same' gives n*s.
    n, _, *spatial = (int(v) for v in x_shape)
    out = []
    for size, k, (s, d, pads, extra) in zip(spatial, w_shape[2:], axes):
        k_eff = d * (int(k) - 1) + 1
        if pads == "valid":
            out.append(size * s + max(k_eff - s, 0))
        elif pads == "same":
            out.append(size * s)
        else:
            out.append((size - 1) * s - pads[0] - pads[1] + k_eff + extra)
    return [n, int(w_shape[1]) * groups, *out]


def _forward(x, w=None, b=None, w_depth=None, w_point=None):
{body}
    if b is not None:
        y = tf.nn.bias_add(y, b, data_format={bias_format!r})
    return _from_layout(y)


def call(**arrays):
    tensors = {{k: _tensor(a) for k, a in arrays.items() if a is not None}}
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
        nn = _nn_capabilities(_ALL, _exact())
        conv, transpose = nn.ops[CONV], nn.ops[CONV_TRANSPOSE]
        return Capabilities(
            ops={
                CONV: OpSupport(
                    ranks=conv.ranks,
                    dtypes=conv.dtypes,
                    padding=_STRINGS,
                    dilation_with_stride=False,
                    exact=conv.exact,
                ),
                CONV_TRANSPOSE: OpSupport(
                    ranks=transpose.ranks,
                    dtypes=transpose.dtypes,
                    padding=_STRINGS,
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
            f"tf.nn.convolution(_to_layout(x), _filter(w), strides={list(p.stride)!r}, "
            f"padding={self._padding(p, 'tf.nn.convolution')!r}, data_format={fmt!r}, "
            f"dilations={list(p.dilation)!r})"
        )

    def _repro_transpose_call(self, p: ConvTranspose, fmt: str) -> str:
        return (
            f"tf.nn.conv_transpose(_to_layout(x), _filter(w), shape, {list(p.stride)!r}, "
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
            dtypes=_ALL,
            padding=_STRINGS,
            strided_same=False,
            dilation_with_stride=False,
            output_padding_rule="",
            exact=_exact(),
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
        return f"tf.nn.atrous_conv2d(_to_layout(x), _filter(w), {rate!r}, {padding!r})"

    def _repro_transpose_call(self, p: ConvTranspose, fmt: str) -> str:
        padding = self._padding(p, "tf.nn.atrous_conv2d_transpose")
        return (
            f"tf.nn.atrous_conv2d_transpose(_to_layout(x), _filter(w), shape, "
            f"{int(p.dilation[0])!r}, {padding!r})"
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
        nn = _nn_capabilities(_onednn_dtypes(self._onednn), _exact())
        # An explicit-padding transposed convolution runs TF's Eigen kernel even with oneDNN
        # on, and that kernel says 'Conv2DCustomBackpropInputOp only supports NHWC'.
        transpose = dataclasses.replace(nn.ops[CONV_TRANSPOSE], padding=_STRINGS)
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


# --- Keras 3 ---------------------------------------------------------------------------------


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
        self._tf = _import_tf()
        import keras

        if keras.backend.backend() != "tensorflow":
            raise ImportError(
                f"keras runs on {keras.backend.backend()!r}; this surface needs "
                "KERAS_BACKEND=tensorflow set before keras is imported"
            )
        self._keras = keras
        self._onednn = _onednn_enabled()
        self._eigen_dtypes = _ALL - _onednn_dtypes(self._onednn)
        exact = _exact()
        self.capabilities = Capabilities(
            ops={
                CONV: OpSupport(
                    ranks=frozenset({1, 2, 3}),
                    dtypes=_ALL,
                    padding=_STRINGS,
                    dilation_with_stride=False,
                    exact=exact,
                ),
                CONV_TRANSPOSE: OpSupport(
                    ranks=frozenset({1, 2, 3}),
                    dtypes=_ALL,
                    padding=_STRINGS | _EXPLICIT,
                    groups=False,
                    dilation_with_stride=False,
                    # Explicit pads only where they are Keras's 'valid'/'same' geometry
                    # (limitation).
                    output_padding_rule="stride",
                    exact=exact,
                ),
                DEPTHWISE_CONV: OpSupport(
                    ranks=frozenset({1, 2}), dtypes=_ALL, padding=_STRINGS, exact=exact
                ),
                SEPARABLE_CONV: OpSupport(
                    ranks=frozenset({1, 2}), dtypes=_ALL, padding=_STRINGS, exact=exact
                ),
            },
            parameter_counts=frozenset({CONV, CONV_TRANSPOSE, DEPTHWISE_CONV, SEPARABLE_CONV}),
        )

    def version(self) -> str:
        return str(self._keras.__version__)

    def platform(self) -> dict[str, Any]:
        return {
            "tf_onednn": self._onednn,
            "tf_onednn_dtypes": _onednn_op_dtypes(self._onednn),
            "tf_eigen_dtypes": self._eigen_dtypes,
        }

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
        return self._apply(layer, x, [_hwio(w), b])

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
        return self._apply(layer, x, [_hwio(w), b])

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
        return self._apply(layer, x, [_depthwise_kernel(w, x.shape[1]), b])

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
        weights = [_depthwise_kernel(w_depth, x.shape[1]), _hwio(w_point), b]
        return self._apply(layer, x, weights)

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
        problem = _depthwise_shape_problem(p, shapes, "keras depthwise")
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
        environment = "" if self._onednn else 'os.environ["TF_ENABLE_ONEDNN_OPTS"] = "0"\n'
        body = "\n".join(f"    {line}" for line in layer.splitlines())
        return _KERAS_REPRO_TEMPLATE.format(environment=environment, dtype=dtype, layer=body)

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
                "weights = [_hwio(w), b]"
            )
        if not isinstance(p, Conv):
            raise UnsupportedError(f"keras has no {op} for {type(p).__name__}")
        padding = _keras_conv_padding(p)
        if op == CONV:
            return (
                f"layer = keras.layers.Conv{p.rank}D(filters=w.shape[0], kernel_size=w.shape[2:], "
                f"{common}, padding={padding!r}, groups={p.groups}, use_bias=b is not None, "
                "**LAYER)\nweights = [_hwio(w), b]"
            )
        if op == DEPTHWISE_CONV:
            return (
                f"layer = keras.layers.DepthwiseConv{p.rank}D(kernel_size=w.shape[2:], {common}, "
                f"padding={padding!r}, depth_multiplier=w.shape[0] // x.shape[1], "
                "use_bias=b is not None, **LAYER)\n"
                "weights = [_depthwise_kernel(w, x.shape[1]), b]"
            )
        if op == SEPARABLE_CONV:
            return (
                f"layer = keras.layers.SeparableConv{p.rank}D(filters=w_point.shape[0], "
                f"kernel_size=w_depth.shape[2:], {common}, padding={padding!r}, "
                "depth_multiplier=w_depth.shape[0] // x.shape[1], use_bias=b is not None, "
                "**LAYER)\n"
                "weights = [_depthwise_kernel(w_depth, x.shape[1]), _hwio(w_point), b]"
            )
        raise UnsupportedError(f"keras has no layer for {op}")

    # --- helpers -------------------------------------------------------------------
    def _layer(self, class_name: str, x: np.ndarray, **kwargs: Any) -> Any:
        cls = getattr(self._keras.layers, class_name, None)
        if cls is None:
            raise UnsupportedError(f"keras has no layers.{class_name}")
        plain = {k: tuple(map(int, v)) if isinstance(v, tuple) else v for k, v in kwargs.items()}
        return cls(data_format="channels_last", dtype=x.dtype.name, **plain)

    def _apply(self, layer: Any, x: np.ndarray, weights: list[np.ndarray | None]) -> np.ndarray:
        inputs = self._tf.constant(np.moveaxis(x, 1, -1))
        layer.build(tuple(inputs.shape))
        layer.set_weights([a for a in weights if a is not None])
        y = np.asarray(layer(inputs))
        return np.moveaxis(y, -1, 1)

    def _check_depthwise(self, p: Conv, x: np.ndarray, w: np.ndarray) -> None:
        problem = _depthwise_shape_problem(p, {"x": x.shape, "w": w.shape}, "keras depthwise")
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
            problem = _depthwise_shape_problem(p, shapes, "keras depthwise")
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
        return _same_or_valid(p, "keras").lower()
    raise UnsupportedError("keras convolution layers have padding 'valid'/'same' only")


def _hwio(w: np.ndarray) -> np.ndarray:
    """(A, B, *k) -> (*k, B, A), as TensorFlow and Keras store kernels."""
    return np.transpose(w, (*range(2, w.ndim), 1, 0))


def _depthwise_kernel(w: np.ndarray, c_in: int) -> np.ndarray:
    """(C_in*m, 1, *k) -> Keras's (*k, C_in, m): output channel c*m + j is kernel[..., c, j]."""
    grouped = w.reshape(c_in, w.shape[0] // c_in, *w.shape[2:])
    return np.moveaxis(grouped, (0, 1), (-2, -1))


_KERAS_REPRO_TEMPLATE = """\
import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
{environment}os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import keras
import numpy as np
import tensorflow as tf

DTYPE = "{dtype}"
LAYER = {{"data_format": "channels_last", "dtype": DTYPE}}


def _hwio(w):
    # (A, B, *k) -> (*k, B, A), as Keras stores kernels.
    return np.transpose(w, (*range(2, w.ndim), 1, 0))


def _depthwise_kernel(w, c_in):
    # (C_in*m, 1, *k) -> Keras's (*k, C_in, m): output channel c*m + j is kernel[..., c, j].
    grouped = w.reshape(c_in, w.shape[0] // c_in, *w.shape[2:])
    return np.moveaxis(grouped, (0, 1), (-2, -1))


def _forward(x, w=None, b=None, w_depth=None, w_point=None):
{layer}
    inputs = tf.constant(np.moveaxis(x, 1, -1))
    layer.build(tuple(inputs.shape))
    layer.set_weights([a for a in weights if a is not None])
    return np.moveaxis(np.asarray(layer(inputs)), -1, 1)


def call(**arrays):
    # The values are exactly representable in DTYPE: the conversion is exact.
    numpy_dtype = tf.as_dtype(DTYPE).as_numpy_dtype
    typed = {{k: None if a is None else np.asarray(a, np.float64).astype(numpy_dtype)
             for k, a in arrays.items()}}
    return _forward(**typed).astype(np.float64)
"""


SURFACES: dict[str, Callable[[], Adapter]] = {
    "tf.nn": TfNnAdapter,
    "tf.nn.convolution": TfConvolutionAdapter,
    "tf.nn.atrous": TfAtrousAdapter,
    "tf.nn.nchw": TfNchwAdapter,
    "tf.function": TfFunctionProxy,
    "tf.nn.onednn_off": TfOnednnOffAdapter,
    "keras": KerasAdapter,
}
