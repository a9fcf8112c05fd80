"""Self-tests of failure messages: every one names a way to rerun its configuration."""

from __future__ import annotations

import numpy as np
import pytest

from adapters.numpy_backend import NumpyAdapter
from reference.params import Conv
from suites.strategies import Example, Setup
from suites.verdict import Nonconformance

pytestmark = pytest.mark.selftest


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
