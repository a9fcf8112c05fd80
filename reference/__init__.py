"""Executable form of the spec: float64 scalar loops, one module per variant."""
