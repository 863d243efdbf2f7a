"""compiler/arithmetic.py's arithmetic in exact Fractions, recording every kink.

Lint's settlement model (lint/graph_model.py) runs the same formulas as the scalar
evaluator and the SQL lowering, unrounded.  Each choice the formulas make (a clamp
at zero, the least of two) is a *switch*: the quantity whose sign decides it is
recorded, in the order computed, so lint/curves.py can find every kink exactly.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Sequence

ZERO = Fraction(0)


class FractionArithmetic:
    """Exact Fractions; no rounding (the model is of G itself, docs/specification.md §6.2)."""

    def __init__(self, switches: list[Fraction]):
        self.switches = switches

    def const(self, amount) -> Fraction:
        return Fraction(amount)

    def sub(self, a: Fraction, b: Fraction) -> Fraction:
        return a - b

    def add(self, terms: Sequence[Fraction]) -> Fraction:
        return sum(terms, ZERO)

    def clamp(self, a: Fraction) -> Fraction:
        self.switches.append(a)
        return a if a > 0 else ZERO

    def least(self, a: Fraction, b: Fraction) -> Fraction:
        self.switches.append(a - b)
        return a if a <= b else b

    def times_rate(self, a: Fraction, rate) -> Fraction:
        return a * Fraction(rate)

    def times_count(self, amount, count: Fraction) -> Fraction:
        return Fraction(amount) * count

    def round(self, a: Fraction) -> Fraction:
        return a

    def floor(self, a: Fraction) -> Fraction:
        return a   # the model's bound is exact; the engine's is rounded down to the fen
