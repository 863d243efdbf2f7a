"""The arithmetic of compiler/arithmetic.py over NumPy int64 arrays of fen.

The fourth instance of the one interface (after Decimal, Fraction and SQL): money
is integer fen and a rate the integer numerator of an exact ratio over one
denominator for all of the rate's bands (backends/columns.py ExactRate), as the
SQL lowering holds them.  A formula multiplies by numerators; :meth:`round`
divides by the denominator half up, :meth:`floor` down — core/money.py's
round_fen and floor_fen done in integers, so no figure is ever inexact.

Every operation is element-wise and accepts Python ints beside arrays (a
constant of the policy broadcasts).  Integer arithmetic in NumPy wraps instead of
failing: the engine proves before it runs that no figure can leave int64
(backends/columnar/engine.py, ``fits_int64``).
"""

from __future__ import annotations

import functools
from decimal import Decimal
from fractions import Fraction
from typing import Sequence

import numpy as np

from yibao.backends.columns import fen


@functools.lru_cache(maxsize=None)
def policy_fen(amount: Decimal) -> int:
    """A policy's amount (a cap, a band's bound, a deductible) in fen (columns.fen), kept:
    the walk asks for the same few at every step of every candidate, some 450 times a
    run at 10^5 claims, and Decimal's arithmetic costs ≈ 2 µs a call."""
    return fen(amount)


@functools.lru_cache(maxsize=None)
def _numerator(rate: Decimal, denominator: int) -> int:
    """A rate's integer numerator over ``denominator``: the walk asks at every step."""
    scaled = Fraction(rate) * denominator
    assert scaled.denominator == 1, "the denominator is common to the rate's bands"
    return scaled.numerator


class ArrayArithmetic:
    """One rate's G over arrays: its rates scaled to integer numerators over ``denominator``."""

    def __init__(self, denominator: int):
        self.denominator = denominator

    def const(self, amount: Decimal) -> int:
        return policy_fen(amount)

    def sub(self, a, b):
        return a - b

    def add(self, terms: Sequence):
        total = 0
        for term in terms:
            total = total + term
        return total

    def clamp(self, a):
        return np.maximum(a, 0)

    def least(self, a, b):
        return np.minimum(a, b)

    def numerator(self, rate: Decimal) -> int:
        return _numerator(rate, self.denominator)

    def times_rate(self, a, rate: Decimal):
        return a * self.numerator(rate)

    def times_count(self, amount: Decimal, count):
        """An amount per unit (in fen, as :meth:`const`) times a claim's units."""
        return fen(amount) * count

    def round(self, a):
        """a / denominator to the fen, half up (docs/specification.md §3): for a ≥ 0,
        floor((2a + d) / 2d) — the SQL lowering's round_half_up (backends/sql.py).  Every
        amount G rounds is ≥ 0: each band's slice is clamped at 0 before its rate."""
        if self.denominator == 1:
            return a
        return (2 * a + self.denominator) // (2 * self.denominator)

    def floor(self, a):
        """Down to the fen: the ratio ceiling's bound is never exceeded (§9)."""
        return a // self.denominator
