"""The embedded default backend: convspec's own vectorized float64 NumPy oracle.

It computes in float64 and rounds the result to the requested dtype, so it
is always available and is the baseline every other backend is compared with.
"""

from __future__ import annotations

import numpy as np

from adapters.base import (
    CHANNEL_SHUFFLE,
    CONV,
    CONV_TRANSPOSE,
    DEFORM_CONV,
    DTYPES,
    PADDING_FORMS,
    PADDING_MODES,
    Adapter,
    Capabilities,
    OpSupport,
)
from reference import conv as conv_ref
from reference import deformable, shuffle, transposed
from reference.params import ChannelShuffle, Conv, ConvTranspose, DeformConv

_ALL_DTYPES = frozenset(DTYPES)


class NumpyAdapter(Adapter):
    name = "numpy"
    framework = "numpy"
    capabilities = Capabilities(
        ops={
            CONV: OpSupport(
                ranks=frozenset({1, 2, 3}),
                dtypes=_ALL_DTYPES,
                padding=frozenset(PADDING_FORMS),
                padding_modes=frozenset(PADDING_MODES),
            ),
            CONV_TRANSPOSE: OpSupport(
                ranks=frozenset({1, 2, 3}),
                dtypes=_ALL_DTYPES,
                padding=frozenset({"symmetric", "asymmetric", "valid", "same"}),
            ),
            DEFORM_CONV: OpSupport(ranks=frozenset({2}), dtypes=_ALL_DTYPES, mask=True),
            CHANNEL_SHUFFLE: OpSupport(ranks=frozenset({1, 2, 3}), dtypes=_ALL_DTYPES),
        },
    )

    def version(self) -> str:
        return np.__version__

    def conv(self, x: np.ndarray, w: np.ndarray, b: np.ndarray | None, p: Conv) -> np.ndarray:
        return conv_ref.conv_fast(x, w, b, p).astype(x.dtype)

    def conv_transpose(
        self, x: np.ndarray, w: np.ndarray, b: np.ndarray | None, p: ConvTranspose
    ) -> np.ndarray:
        return transposed.conv_transpose_fast(x, w, b, p).astype(x.dtype)

    def deform_conv(
        self,
        x: np.ndarray,
        offset: np.ndarray,
        mask: np.ndarray | None,
        w: np.ndarray,
        b: np.ndarray | None,
        p: DeformConv,
    ) -> np.ndarray:
        return deformable.deform_conv_fast(x, offset, mask, w, b, p).astype(x.dtype)

    def channel_shuffle(self, x: np.ndarray, p: ChannelShuffle) -> np.ndarray:
        return shuffle.channel_shuffle(x, p).astype(x.dtype)


SURFACES = {"numpy": NumpyAdapter}
