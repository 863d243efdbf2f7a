"""G, a line's annual payout function before the cap (docs/specification.md §6).

G(C) pays the rate on the part of the cumulative base C above the deductible;
with bands (分段支付, docs/specification.md §5) each slice of that part has its own
marginal rate: Jiamusi 2022 pays 65% of the first 20,000 above the deductible,
70% of 20,000–50,000 and 75% beyond.  Exact: the caller rounds.
"""

from __future__ import annotations

from decimal import Decimal

from yibao.dsl.model import BandSchedule

ZERO = Decimal(0)


def annual_payout(cumulative: Decimal, deductible: Decimal, rate: Decimal | BandSchedule) -> Decimal:
    above = cumulative - deductible
    if above <= 0:
        return ZERO
    if not isinstance(rate, BandSchedule):
        return above * rate
    total = ZERO
    for band in rate.slices:
        if above <= band.lower:
            break
        top = above if band.upper is None else min(above, band.upper)
        total += (top - band.lower) * band.rate
    return total
