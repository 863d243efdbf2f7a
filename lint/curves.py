"""Payouts as exact piecewise-linear curves of the burden, and their extremes.

For one scenario every payout is a continuous piecewise-linear function of the
burden B ≥ 0 (docs/specification.md: differences clamped at 0, G, caps, the ceiling's
cuts).  Its kinks are where a switch of :mod:`yibao.lint.graph_model` changes
sign.  Taking the switches in the order they are computed, each is linear
between the kinks already found, so its zero on an interval is found exactly by
interpolation; adding those zeros makes the next switch linear in turn.  The
result is every kink, exactly, not a sample.

Between kinks a share paid/in-scope is (a + b·B)/B: monotone, so its supremum
is at a kink or, on the last unbounded piece, its limit b as B grows.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Callable

import attrs

from yibao.lint.graph_model import Settlement

ZERO = Fraction(0)


@attrs.frozen
class Curve:
    """Settlements at every kink with B > 0, ascending, and two points past the last kink."""

    kinks: tuple[Settlement, ...]
    past: tuple[Settlement, Settlement]   # on the last piece, where B grows without bound

    @property
    def settlements(self) -> tuple[Settlement, ...]:
        return self.kinks + self.past


def trace_curve(settle_at: Callable[[Fraction], Settlement]) -> Curve:
    cache: dict[Fraction, Settlement] = {}

    def at(burden: Fraction) -> Settlement:
        if burden not in cache:
            cache[burden] = settle_at(burden)
        return cache[burden]

    kinks = [ZERO]
    for index in range(len(at(ZERO).switches)):
        kinks = sorted(set(kinks) | set(_zeros(at, kinks, index)))
    # Two points past the last kink give the slope of the last, unbounded piece.
    return Curve(tuple(at(kink) for kink in kinks if kink > 0),
                 (at(kinks[-1] + 1), at(kinks[-1] + 2)))


def _zeros(at, kinks: list[Fraction], index: int) -> list[Fraction]:
    """Where switch ``index`` crosses zero, given it is linear between ``kinks``."""
    zeros = []
    for left, right in zip(kinks, kinks[1:]):
        low, high = at(left).switches[index], at(right).switches[index]
        if (low < 0 < high) or (high < 0 < low):
            zeros.append(left + (right - left) * low / (low - high))
    last = kinks[-1]
    value = at(last).switches[index]
    slope = at(last + 1).switches[index] - value
    if slope != 0:
        zero = last - value / slope
        if zero > last:
            zeros.append(zero)
    return zeros


@attrs.frozen
class Extreme:
    """The supremum of a share over B > 0: reached at ``settlement``, or a limit as B grows."""

    share: Fraction
    settlement: Settlement | None   # where it is reached; for a limit, the last kink (if any)
    reached: bool
    first_piece: bool = False       # reached on the first piece: from the first yuan on


def share_supremum(curve: Curve, paid: Callable[[Settlement], Fraction]) -> Extreme:
    """sup over B > 0 of paid(settlement) / in-scope cost."""
    best: Extreme | None = None
    for index, settlement in enumerate(curve.settlements):
        share = paid(settlement) / settlement.in_scope
        if best is None or share > best.share:
            # Nothing is paid on a zero burden, so the share is constant on the first piece.
            best = Extreme(share, settlement, True, first_piece=index == 0)
    near, far = curve.past
    growth = (paid(far) - paid(near)) / (far.in_scope - near.in_scope)
    if growth > best.share:
        best = Extreme(growth, curve.kinks[-1] if curve.kinks else None, False)
    return best


def first_fall(curve: Curve, amount: Callable[[Settlement], Fraction]):
    """The first piece on which ``amount`` falls as the burden rises: (before, after) or None."""
    for before, after in zip(curve.settlements, curve.settlements[1:]):
        if amount(after) < amount(before):
            return before, after
    return None


def never_positive(curve: Curve, amount: Callable[[Settlement], Fraction]) -> bool:
    return all(amount(settlement) <= 0 for settlement in curve.settlements)
