"""What the TensorFlow surfaces (adapters/tf_backend.py) and Keras (adapters/keras_backend.py)
share: importing TensorFlow, which kernels it runs here, argument checks, layout conversion,
and the pieces of their repro scripts.

Which kernels run. On x86, TensorFlow enables its oneDNN kernels by default
on CPUs with AVX-512 VNNI/BF16 or AMX (TF_ENABLE_ONEDNN_OPTS, read once at
import, overrides that). With oneDNN on, float32 convolutions run oneDNN
("_MklNative*" ops in error messages); bfloat16 does only on CPUs with AVX-512F
(or AVX-NE-CONVERT), float16 only on CPUs with AVX-512BW and AVX-512 FP16 or
AMX FP16 (or AVX-NE-CONVERT) (IsDataTypeSupportedByOneDNNOnThisCPU,
tensorflow/core/util/util.cc); everything else, float64 always, runs Eigen.
`onednn_dtypes` applies that rule to this CPU's flags.
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

TensorFlow is imported only inside the factories, so listing the surface names
does not import it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from adapters import cpu
from adapters.base import DTYPES, UnsupportedError
from reference.params import Conv, ConvTranspose

ALL_DTYPES = frozenset(DTYPES)
EXPLICIT_PADDING = frozenset({"symmetric", "asymmetric"})
STRING_PADDING = frozenset({"valid", "same"})
Shapes = Mapping[str, Any]


def import_tf() -> Any:
    # Quiet TF's C++ logging unless the user chose a level.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf

    return tf


# --- which kernels run (see the module docstring) ----------------------------------------------


def onednn_enabled() -> bool:
    """Whether this process's TensorFlow runs its oneDNN kernels (TF_ENABLE_ONEDNN_OPTS)."""
    from tensorflow.python.util import _pywrap_util_port

    return bool(_pywrap_util_port.IsMklEnabled())


def onednn_op_dtypes(onednn: bool) -> frozenset[str]:
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


def onednn_dtypes(onednn: bool) -> frozenset[str]:
    """The dtypes whose convolutions run oneDNN's kernels here, not Eigen's.

    Where ONEDNN_MAX_CPU_ISA keeps oneDNN below the level a dtype needs (AVX-512 for
    bfloat16, AVX-512 FP16 for float16), TensorFlow's Conv3D and depthwise ops run Eigen's
    kernels for it, with Eigen's limits (seen in the known-issue sweeps of
    benchmarks/RESULTS.md); on a real CPU the two sets are the same."""
    isa = cpu.onednn_isa()
    needs = {"float32": "sse41", "bfloat16": "avx512_core", "float16": "avx512_core_fp16"}
    return frozenset(d for d in onednn_op_dtypes(onednn) if isa >= needs[d])


def onednn_platform(onednn: bool, eigen_dtypes: frozenset[str]) -> dict[str, Any]:
    """The facts of `Adapter.platform` for a surface whose calls run TensorFlow's kernels."""
    return {
        "tf_onednn": onednn,
        "tf_onednn_dtypes": onednn_op_dtypes(onednn),
        "tf_eigen_dtypes": eigen_dtypes,
    }


def exact_kernels() -> bool:
    """False when TF may use its Winograd DeepConv2D path (see the module docstring)."""
    return os.environ.get("TF_USE_DEEP_CONV2D", "").lower() not in ("1", "true")


# --- translation of convspec parameters (plain Python, no TensorFlow) --------------------------


def same_or_valid(p: Conv | ConvTranspose, api: str) -> str:
    if isinstance(p, Conv) and p.padding == "same" and p.same_split != "end":
        raise UnsupportedError(f"{api} padding='SAME' puts the odd pixel at the end")
    return str(p.padding).upper()


def depthwise_shape_problem(p: Conv, shapes: Shapes, api: str) -> str | None:
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


def string_output_padding_problem(p: ConvTranspose, api: str) -> str | None:
    if isinstance(p.padding, str) and any(op != 0 for op in p.output_padding):
        return f"{api} has no output_padding argument to give with padding={p.padding!r}"
    return None


# --- layouts ------------------------------------------------------------------------------------
# Plain functions of `xp`, the tensorflow or numpy module (their transpose and reshape take the
# same arguments): the surfaces call them, and their repro scripts embed their source
# (adapters/source_embedding.py), so that a script converts layouts with the surface's code.


def to_layout(xp: Any, x: Any, rank: int, channels_last: bool) -> Any:
    """Canonical (*batch, C, *spatial) -> TF's (*batch, *spatial, C) for a rank-r call.

    Every axis before the last r + 1 is a batch axis: one for the canonical layout,
    more under the extension `leading_batch_axes`."""
    if not channels_last:
        return x
    axes, c = len(x.shape), len(x.shape) - rank - 1
    return xp.transpose(x, [*range(c), *range(c + 1, axes), c])


def from_layout(xp: Any, y: Any, rank: int, channels_last: bool) -> Any:
    """TF's (*batch, *spatial, C) -> canonical (*batch, C, *spatial), undoing `to_layout`."""
    if not channels_last:
        return y
    axes, c = len(y.shape), len(y.shape) - rank - 1
    return xp.transpose(y, [*range(c), axes - 1, *range(c, axes - 1)])


def hwio(xp: Any, w: Any) -> Any:
    """(A, B, *k) -> (*k, B, A), as TensorFlow and Keras store kernels: conv (C_out, C_in/g, *k)
    -> (*k, C_in/g, C_out), and conv_transpose (C_in, C_out/g, *k) -> (*k, C_out/g, C_in)."""
    return xp.transpose(w, [*range(2, len(w.shape)), 1, 0])


def depthwise_filter(xp: Any, w: Any, c_in: int) -> Any:
    """(C_in*m, 1, *k) -> TF's and Keras's (*k, C_in, m): output channel c*m + j is
    filter[..., c, j]."""
    kernel = [int(k) for k in w.shape[2:]]
    moved = xp.transpose(w, [*range(2, len(w.shape)), 0, 1])
    return xp.reshape(moved, [*kernel, c_in, int(w.shape[0]) // c_in])


# --- repro scripts (suites/repro.py) ------------------------------------------------------------


def onednn_environment(onednn: bool) -> str:
    """The script's line that makes its TensorFlow run the kernels this process runs.

    TF reads TF_ENABLE_ONEDNN_OPTS once, at import: the line comes before that."""
    return "" if onednn else 'os.environ["TF_ENABLE_ONEDNN_OPTS"] = "0"\n'
