"""Each op's money rule written once, against a small arithmetic interface.

The rules of docs/specification.md §6 (G, the claim's slice, the cap's room, the
ceiling's cut, the per-unit payout) are written here once, as formulas over an
:class:`Arithmetic`: subtract, clamp at zero, the least of two, multiply by a
rate, an amount times a count, add, round by the one rule.  Each
backend instantiates it with its own numbers:

- :data:`DECIMAL` — exact Decimals, for the scalar evaluator and its trace;
- :class:`FractionArithmetic` (lint/) — exact Fractions, recording every kink;
- the SQL lowering's (backends/lowering.py) — sqlglot expressions in fen.

The formulas never branch on a value in Python: a choice is a primitive
(:meth:`Arithmetic.clamp`, :meth:`Arithmetic.least`), so an array backend can
instantiate the same formulas with element-wise operations.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Callable, Generic, Protocol, Sequence, TypeVar

from yibao.core.money import ZERO, floor_fen, round_fen
from yibao.dsl.model import BandSchedule

T = TypeVar("T")


class Arithmetic(Protocol, Generic[T]):
    def const(self, amount: Decimal) -> T: ...         # an amount the policy states
    def sub(self, a: T, b: T) -> T: ...
    def add(self, terms: Sequence[T]) -> T: ...
    def clamp(self, a: T) -> T: ...                    # max(a, 0)
    def least(self, a: T, b: T) -> T: ...              # min(a, b)
    def times_rate(self, a: T, rate: Decimal) -> T: ...
    def times_count(self, amount: Decimal, count: T) -> T: ...   # an amount per unit × units
    def round(self, a: T) -> T: ...                    # to the fen, half up (§3)
    def floor(self, a: T) -> T: ...                    # down to the fen (the ceiling's bound)


Band = tuple[Decimal, Decimal | None, Decimal]    # (lower, upper or None, marginal rate)


def bands(rate) -> tuple[Band, ...]:
    """A rate as marginal bands of the amount above the deductible: one rate is one band
    from 0 (docs/specification.md §6.2).  Bands given as (lower, upper, rate) tuples,
    as lint's exact model holds them, are taken as they are."""
    if isinstance(rate, tuple):   # first: the scalar schedule passes its bands built once
        return rate
    if isinstance(rate, BandSchedule):
        return tuple((s.lower, s.upper, s.rate) for s in rate.slices)
    return ((Decimal(0), None, rate),)


def annual_payout(ar: Arithmetic[T], cumulative: T, deductible: Decimal,
                  rate: Decimal | BandSchedule) -> T:
    """G(C), before rounding: each band's slice of C − deductible at its own rate.

    max(0, min(C − d, upper) − lower) × rate, summed: the bands rise, so a band the
    amount does not reach adds 0, and one rate is the band from 0 (§6.2)."""
    above = ar.sub(cumulative, ar.const(deductible))
    terms = []
    for lower, upper, band_rate in bands(rate):
        top = above if upper is None else ar.least(above, ar.const(upper))
        terms.append(ar.times_rate(ar.clamp(ar.sub(top, ar.const(lower))), band_rate))
    return ar.add(terms)


def claim_slice(ar: Arithmetic[T], before: T, after: T, deductible: Decimal,
                rate: Decimal | BandSchedule) -> T:
    """round(G(C_after)) − round(G(C_before)): the claim's share of the year (§6.3)."""
    return ar.sub(ar.round(annual_payout(ar, after, deductible, rate)),
                  ar.round(annual_payout(ar, before, deductible, rate)))


def capped(ar: Arithmetic[T], due: T, cap: T, paid: T) -> T:
    """The slice within what is left of the annual cap, never below 0 (§6.3)."""
    return ar.clamp(ar.least(due, ar.sub(cap, paid)))


def per_unit_payout(ar: Arithmetic[T], amount: Decimal, units: T, base: T) -> T:
    """A per-unit line's slice (床日定额): the amount per unit times the claim's units,
    never more than the line's base (docs/specification.md §5.4)."""
    return ar.least(ar.times_count(amount, units), base)


def ceiling_cut(ar: Arithmetic[T], payouts: dict[str, T], reduces: Sequence[str],
                in_scope_cost: T, rate: Decimal,
                keep: Callable[[str, T], T] = lambda name, value: value) -> dict[str, T]:
    """The lines' payouts under the ratio ceiling (§9): the bound is rate × in-scope cost,
    rounded down to the fen; the excess over it is taken from the lines the ceiling
    reduces, last first, each down to 0 at most.  ``keep`` names an intermediate figure
    (the SQL lowering keeps each as a column)."""
    finals = dict(payouts)
    limit = ar.floor(ar.times_rate(in_scope_cost, rate))
    excess = keep("excess", ar.sub(ar.add(list(payouts.values())), limit))
    for index, name in enumerate(reversed(reduces)):
        cut = keep(f"cut{index}", ar.least(ar.clamp(excess), finals[name]))
        finals[name] = keep(f"cut{index}_left", ar.sub(finals[name], cut))
        excess = keep(f"cut{index}_excess", ar.sub(excess, cut))
    return finals


class DecimalArithmetic:
    """Exact Decimals: the scalar evaluator's and its trace's numbers."""

    zero = ZERO   # 0.00: a payout clamped at zero is money, as the evaluator has written it

    def const(self, amount: Decimal) -> Decimal:
        return amount

    def sub(self, a: Decimal, b: Decimal) -> Decimal:
        return a - b

    def add(self, terms: Sequence[Decimal]) -> Decimal:
        return sum(terms, self.zero)

    def clamp(self, a: Decimal) -> Decimal:
        return a if a > 0 else self.zero

    def least(self, a: Decimal, b: Decimal) -> Decimal:
        return a if a <= b else b

    def times_rate(self, a: Decimal, rate: Decimal) -> Decimal:
        return a * rate

    def times_count(self, amount: Decimal, count) -> Decimal:
        return amount * count

    def round(self, a: Decimal) -> Decimal:
        return round_fen(a)

    def floor(self, a: Decimal) -> Decimal:
        return floor_fen(a)


DECIMAL = DecimalArithmetic()
