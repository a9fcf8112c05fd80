"""Drawing an example of one operation: its setup, then its operands."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from adapters.base import OpSupport
from suites import strategies
from suites.example import Example, Setup


def draw_example(data: st.DataObject, setups: st.SearchStrategy[Setup]) -> Example:
    setup = data.draw(setups, label="setup")
    return data.draw(strategies.operands(setup), label="operands")


def draw_conv(data: st.DataObject, support: OpSupport, op: str = "conv", **kw: Any) -> Example:
    return draw_example(data, strategies.conv_setups(support, op=op, **kw))
