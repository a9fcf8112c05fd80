"""Validation that cites the spec: invalid input raises ValueError naming a clause."""

from __future__ import annotations


class SpecError(ValueError):
    """An invalid configuration. `clause` is the spec clause that it violates."""

    def __init__(self, clause: str, message: str) -> None:
        super().__init__(f"[{clause}] {message}")
        self.clause = clause


def require(condition: bool, clause: str, message: str) -> None:
    if not condition:
        raise SpecError(clause, message)
