"""Layers of well-known networks (suites/networks.toml), replayed on every backend.

Random search covers the space; these pin the configurations people run, in
float32 in exact mode (NUM.5) where the layer's length allows, and bounded
mode (NUM.3), with operands from a generator seeded by the layer's name.
"""

from __future__ import annotations

import pytest

from suites import fixed, outcomes, strategies
from suites.operations import OPERATIONS
from suites.oracle import exact_range
from suites.support import unsupported_reason
from suites.verdict import check_example

LAYERS = {layer["name"]: layer for layer in fixed.network_layers()}


@pytest.mark.clauses("CONV.2", "CONV.3", "TCONV.2", "TCONV.3", "DEFORM.7", "NUM.3", "NUM.5")
@pytest.mark.parametrize("mode", ["exact", "bounded"])
@pytest.mark.parametrize("layer", sorted(LAYERS))
def test_network_layer(backend, layer: str, mode: str) -> None:
    spec = LAYERS[layer]
    setup = fixed.layer_setup(spec, "float32", exact=mode == "exact")
    reason = unsupported_reason(backend, setup)
    if reason is not None:
        outcomes.unsupported(reason)
    if setup.exact and exact_range(setup.op, setup.shapes, setup.params, setup.dtype) < 1:
        pytest.skip(
            f"exact mode (NUM.5) is not defined for {layer}'s accumulation length in float32"
        )
    example = strategies.seeded_operands(setup, fixed.seed_of(layer))
    record = OPERATIONS[setup.op]
    check_example(backend, example, clause=record.value_clause, shape_clause=record.shape_clause)
