"""Self-tests of failure messages: every one names a way to rerun its configuration."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from adapters.numpy_backend import NumpyAdapter
from reference.params import Conv
from suites.example import Example, Setup
from suites.verdict import Nonconformance, check_example


def _message(op: str, shapes: dict[str, tuple[int, ...] | None]) -> str:
    params = Conv(stride=(1,), dilation=(1,), padding=((0, 0),), groups=1)
    setup = Setup(op, params, shapes, "float64", exact=True)
    arrays = {k: None if v is None else np.zeros(v) for k, v in shapes.items()}
    return str(Nonconformance("CONV.2", NumpyAdapter(), Example(setup, arrays), "detail"))


def test_a_single_operation_prints_its_replay_command() -> None:
    message = _message("conv", {"x": (1, 1, 3), "w": (1, 1, 2), "b": None})
    assert "replay:   pytest --config 'conv;x=1x1x3;w=1x1x2;b=none;" in message, message


def test_a_composite_prints_its_descriptor_without_a_replay_that_would_be_refused() -> None:
    shapes = {"x": (1, 1, 3), "square": (1, 1, 1), "horizontal": (1, 1, 1), "vertical": (1, 1, 1)}
    message = _message("acnet_block", shapes)
    assert "replay:" not in message, message
    assert "descriptor: acnet_block;x=1x1x3;" in message, message


class _ShapesOnly(NumpyAdapter):
    """A surface without values (Capabilities.values), as torch.meta: NaN of a given shape."""

    name = "shapes-only"
    capabilities = replace(NumpyAdapter.capabilities, values=False)

    def __init__(self, extra_width: int = 0) -> None:
        self.extra_width = extra_width

    def conv(self, x, w, b, p):  # type: ignore[no-untyped-def]
        shape = super().conv(x, w, b, p).shape
        return np.full((*shape[:-1], shape[-1] + self.extra_width), np.nan, dtype=x.dtype)


def _conv_example() -> Example:
    params = Conv(stride=(1,), dilation=(1,), padding=((0, 0),), groups=1)
    setup = Setup("conv", params, {"x": (1, 1, 3), "w": (1, 1, 2), "b": None}, "float64", True)
    return Example(setup, {"x": np.ones((1, 1, 3)), "w": np.ones((1, 1, 2)), "b": None})


def test_a_surface_without_values_is_held_to_the_shape_and_not_to_the_values() -> None:
    # Its NaN values would fail any value check: passing shows none ran.
    check_example(_ShapesOnly(), _conv_example(), clause="CONV.2", shape_clause="CONV.3")
    with pytest.raises(Nonconformance, match=r"CONV\.3.*\n(.*\n)*shape: +got \(1, 1, 3\)"):
        check_example(
            _ShapesOnly(extra_width=1), _conv_example(), clause="CONV.2", shape_clause="CONV.3"
        )
